/**
 * JobRunner on Electron utility processes (desktop app): each job forks the worker program
 * with utilityProcess.fork and talks to it over a MessageChannelMain whose far port is
 * transferred to the child. Processes share no memory, so inputs are structured-cloned;
 * the operations cannot see a message while they loop, so cancelling kills the process
 * (nothing is lost: the inputs were copies). A crashed process rejects its job only.
 * Finishing early (JobRunOptions.finish) is a 'finish' message: the kinds that support it
 * yield to their event loop between iterations, so they see it.
 */
import { MessageChannelMain, utilityProcess, type UtilityProcess } from 'electron';
import type { Volume } from '../../src-shared/image/volume';
import { workerForKind } from './kinds';
import { packVolumes, type FromWorker, type ToWorker } from './protocol';
import { JobCancelledError, JobCrashedError, JobFailedError, type JobResult, type JobRunOptions, type JobRunner } from './types';
import { resolveWorkerScript } from './worker-paths';

export interface UtilityProcessJobRunnerOptions {
  workerDir?: string;
}

let nextId = 1;

export class UtilityProcessJobRunner implements JobRunner {
  private readonly children = new Set<UtilityProcess>();

  constructor(private readonly opts: UtilityProcessJobRunnerOptions = {}) {}

  async run(kind: string, params: unknown, inputs: Volume[], o: JobRunOptions = {}): Promise<JobResult> {
    const script = resolveWorkerScript(workerForKind(kind), this.opts.workerDir);
    if (o.signal?.aborted) throw new JobCancelledError(kind);
    const id = nextId++;
    const child = utilityProcess.fork(script, [], { serviceName: `Lattice ${kind}`, stdio: 'inherit' });
    this.children.add(child);
    const { port1, port2 } = new MessageChannelMain();

    return new Promise<JobResult>((resolve, reject) => {
      let settled = false;
      let cancelled = false;
      let started = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        o.signal?.removeEventListener('abort', onAbort);
        o.finish?.removeEventListener('abort', onFinish);
        this.children.delete(child);
        port1.close();
        child.kill();
        fn();
      };
      const onAbort = () => {
        cancelled = true;
        finish(() => reject(new JobCancelledError(kind)));
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      // Sent once the job is under way (a request before that is sent right after 'run').
      const onFinish = () => {
        if (started && !settled) port1.postMessage({ type: 'finish', id } satisfies ToWorker);
      };
      o.finish?.addEventListener('abort', onFinish, { once: true });

      port1.on('message', (e) => {
        const m = e.data as FromWorker;
        if (m.id !== id) return;
        if (m.type === 'progress') o.onProgress?.(m.fraction, m.message, m.preview);
        else if (m.type === 'done') finish(() => resolve({ volumes: m.volumes, values: m.values }));
        else finish(() => reject(m.name === 'AbortError' ? new JobCancelledError(kind) : new JobFailedError(kind, m.message)));
      });
      port1.start();
      child.on('exit', (code) => finish(() => reject(cancelled ? new JobCancelledError(kind) : new JobCrashedError(kind, `exit code ${code}`, false))));
      // The child says 'ready' once it listens; then it gets its end of the channel and the job.
      const onReady = (m: unknown) => {
        if ((m as { type?: string } | null)?.type !== 'ready') return;
        child.off('message', onReady);
        child.postMessage({ type: 'port' }, [port2]);
        port1.postMessage({ type: 'run', id, kind, params, inputs: packVolumes(inputs, false).volumes, returnInputs: false } satisfies ToWorker);
        started = true;
        if (o.finish?.aborted) port1.postMessage({ type: 'finish', id } satisfies ToWorker);
      };
      child.on('message', onReady);
    });
  }

  async dispose(): Promise<void> {
    for (const c of this.children) c.kill();
    this.children.clear();
  }
}
