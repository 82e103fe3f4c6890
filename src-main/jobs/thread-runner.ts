/**
 * JobRunner on Node worker threads (command line and browser host). Each job runs alone in
 * a worker (a crash takes down only that job); a worker that finished cleanly stays warm
 * for `idleMs` and serves the next job; at most `concurrency` run at once, the rest wait
 * in order. Input buffers are transferred, not copied (see
 * JobRunOptions.transfer), and cancellation sets a shared flag that the operations poll,
 * so even a synchronous loop stops within one slab; a worker that does not stop within
 * `cancelGraceMs` is terminated.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Volume } from '../../src-shared/image/volume';
import { workerForKind } from './kinds';
import { packVolumes, type FromWorker, type ToWorker } from './protocol';
import { JobCancelledError, JobCrashedError, JobFailedError, type JobResult, type JobRunOptions, type JobRunner } from './types';
import { resolveWorkerScript } from './worker-paths';

export interface ThreadJobRunnerOptions {
  /** Folder of the worker programs (default: found next to the bundle / in out/node/workers). */
  workerDir?: string;
  /** Jobs running at the same time (default: number of cores). */
  concurrency?: number;
  /** After a cancel, time given to the worker to stop by itself before it is terminated. */
  cancelGraceMs?: number;
  /** How long a finished worker stays warm for the next job (default 10 s, or LATTICE_JOB_IDLE_MS; 0 = never reused). */
  idleMs?: number;
  /** Called with the worker that is about to run a job (monitoring; the fault tests kill it mid-run). */
  onJobWorker?: (worker: Worker, kind: string) => void;
}

/** What a runner holds right now (for orphan checks and monitoring). */
export interface ThreadJobRunnerStats {
  /** Live worker threads, busy or idle. */
  workers: number;
  idle: number;
  running: number;
  queued: number;
}

interface IdleWorker {
  worker: Worker;
  script: string;
  timer: ReturnType<typeof setTimeout>;
  onExit: () => void;
}

let nextId = 1;

export class ThreadJobRunner implements JobRunner {
  private readonly concurrency: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly workers = new Set<Worker>();
  private readonly idle: IdleWorker[] = [];
  private disposed = false;

  constructor(private readonly opts: ThreadJobRunnerOptions = {}) {
    this.concurrency = Math.max(1, opts.concurrency ?? availableParallelism());
  }

  async run(kind: string, params: unknown, inputs: Volume[], o: JobRunOptions = {}): Promise<JobResult> {
    if (this.disposed) throw new Error('job runner: already disposed');
    const script = resolveWorkerScript(workerForKind(kind), this.opts.workerDir);
    if (o.signal?.aborted) throw new JobCancelledError(kind);
    await this.slot(o.signal);
    try {
      if (o.signal?.aborted) throw new JobCancelledError(kind);
      return await this.runInWorker(script, kind, params, inputs, o);
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private slot(signal?: AbortSignal): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const go = () => {
        this.active++;
        resolve();
      };
      this.waiting.push(go);
      // A cancelled queued job gives its place back at once.
      signal?.addEventListener('abort', () => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) {
          this.waiting.splice(i, 1);
          go();
        }
      }, { once: true });
    });
  }

  private runInWorker(script: string, kind: string, params: unknown, inputs: Volume[], o: JobRunOptions): Promise<JobResult> {
    const lend = (o.transfer ?? 'lend') === 'lend';
    const id = nextId++;
    // [0] cancel, [1] finish early (keep the result): polled by the job between steps.
    const abort = new SharedArrayBuffer(8);
    const flag = new Int32Array(abort);
    const worker = this.acquire(script, kind);
    this.opts.onJobWorker?.(worker, kind);
    return new Promise<JobResult>((resolve, reject) => {
      let settled = false;
      let cancelled = false;
      let graceTimer: ReturnType<typeof setTimeout> | undefined;
      let sentInputs = false;
      const finish = (fn: () => void, healthy = false) => {
        if (settled) return;
        settled = true;
        if (graceTimer) clearTimeout(graceTimer);
        o.signal?.removeEventListener('abort', onAbort);
        o.finish?.removeEventListener('abort', onFinish);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (healthy) this.release(worker, script);
        else {
          this.workers.delete(worker);
          void worker.terminate();
        }
        fn();
      };
      const reattach = (returned?: Volume[]) => {
        if (!returned) return;
        returned.forEach((r, i) => {
          if (inputs[i]) inputs[i].data = r.data;
        });
      };
      const onAbort = () => {
        if (cancelled || settled) return;
        cancelled = true;
        Atomics.store(flag, 0, 1);
        worker.postMessage({ type: 'cancel', id } satisfies ToWorker);
        graceTimer = setTimeout(() => finish(() => reject(new JobCancelledError(kind))), this.opts.cancelGraceMs ?? 5000);
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      const onFinish = () => {
        if (cancelled || settled) return;
        Atomics.store(flag, 1, 1);
        worker.postMessage({ type: 'finish', id } satisfies ToWorker);
      };
      if (o.finish?.aborted) Atomics.store(flag, 1, 1);
      else o.finish?.addEventListener('abort', onFinish, { once: true });

      const onMessage = (m: FromWorker) => {
        if (m.id !== id) return;
        if (m.type === 'progress') {
          if (!cancelled) o.onProgress?.(m.fraction, m.message, m.preview);
        } else if (m.type === 'done') {
          reattach(m.inputs);
          finish(() => (cancelled ? reject(new JobCancelledError(kind)) : resolve({ volumes: m.volumes, values: m.values })), true);
        } else {
          reattach(m.inputs);
          finish(() => reject(m.name === 'AbortError' || cancelled ? new JobCancelledError(kind) : new JobFailedError(kind, m.message)), true);
        }
      };
      const onError = (err: Error) => {
        finish(() => reject(cancelled ? new JobCancelledError(kind) : new JobCrashedError(kind, `uncaught error: ${err.message}`, lend && sentInputs)));
      };
      const onExit = (code: number) => {
        finish(() => reject(cancelled ? new JobCancelledError(kind) : new JobCrashedError(kind, `exit code ${code}`, lend && sentInputs)));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);

      try {
        const packed = packVolumes(inputs, lend);
        const msg: ToWorker = { type: 'run', id, kind, params, inputs: packed.volumes, abort, returnInputs: lend };
        worker.postMessage(msg, packed.transfer);
        sentInputs = inputs.length > 0;
      } catch (err) {
        finish(() => reject(new JobFailedError(kind, `could not send the inputs to the worker: ${(err as Error).message}`)));
      }
    });
  }

  /** A warm idle worker for this program, or a new one. */
  private acquire(script: string, kind: string): Worker {
    const i = this.idle.findIndex((w) => w.script === script);
    if (i >= 0) {
      const [w] = this.idle.splice(i, 1);
      clearTimeout(w.timer);
      w.worker.off('exit', w.onExit);
      w.worker.ref();
      return w.worker;
    }
    const worker = new Worker(script, { name: `lattice-job-${kind}` });
    this.workers.add(worker);
    return worker;
  }

  private release(worker: Worker, script: string): void {
    const fromEnv = Number(process.env.LATTICE_JOB_IDLE_MS);
    const idleMs = this.opts.idleMs ?? (process.env.LATTICE_JOB_IDLE_MS && Number.isFinite(fromEnv) ? fromEnv : 10_000);
    if (this.disposed || idleMs <= 0 || this.idle.length >= this.concurrency) {
      this.workers.delete(worker);
      void worker.terminate();
      return;
    }
    // An idle worker must not keep the process alive, and goes away after idleMs.
    worker.unref();
    const forget = () => {
      const k = this.idle.indexOf(entry);
      if (k >= 0) this.idle.splice(k, 1);
      clearTimeout(entry.timer);
      this.workers.delete(worker);
    };
    const entry: IdleWorker = {
      worker,
      script,
      timer: setTimeout(() => {
        forget();
        void worker.terminate();
      }, idleMs),
      // A worker that dies while idle is simply forgotten.
      onExit: forget,
    };
    entry.timer.unref();
    worker.once('exit', entry.onExit);
    this.idle.push(entry);
  }

  stats(): ThreadJobRunnerStats {
    return { workers: this.workers.size, idle: this.idle.length, running: this.active, queued: this.waiting.length };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const w of this.idle) clearTimeout(w.timer);
    this.idle.length = 0;
    await Promise.all([...this.workers].map((w) => w.terminate()));
    this.workers.clear();
  }
}
