/**
 * Thread pool for the registration kernels: worker_threads over SharedArrayBuffer.
 * With T threads there are T−1 workers; the calling thread runs the last slab itself, so no
 * core idles waiting for messages and a single-slab op (a 2D image) costs no round trip.
 * Work is split by slabs of k (see src-shared/registration/ops.ts).
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { InlineExecutor, runOp, slabs, type Buffers, type Executor, type OpArgMap, type OpName } from '../../src-shared/registration/ops';

/** Threads to use: BENCH_THREADS (or LATTICE_THREADS) when set, else every core. */
export function defaultThreadCount(): number {
  const env = Number(process.env.LATTICE_THREADS ?? process.env.BENCH_THREADS);
  if (Number.isFinite(env) && env >= 1) return Math.floor(env);
  return Math.max(1, availableParallelism());
}

/**
 * The built worker script. From the bundle out/node/lattice.js it is ./workers/registration.js;
 * from another worker bundle ./registration.js; from the TypeScript sources (vitest) the
 * repository's out/node/workers/registration.js (built by `node scripts/build-node.mjs`).
 */
export function locateWorkerScript(): string | null {
  const candidates = ['./workers/registration.js', './registration.js', '../../out/node/workers/registration.js'];
  for (const c of candidates) {
    try {
      const p = fileURLToPath(new URL(c, import.meta.url));
      if (existsSync(p)) return p;
    } catch {
      /* not a file: URL */
    }
  }
  return null;
}

interface Pending {
  resolve: (v: number | number[]) => void;
  reject: (e: Error) => void;
}

export class WorkerPoolExecutor implements Executor {
  readonly threads: number;
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly bufs: Buffers = new Map();
  private nextId = 1;
  private closed = false;
  /** Wall time per op name (ms), for profiling (LATTICE_PROFILE=1 prints it from the CLI). */
  readonly opTimes = new Map<string, number>();

  /**
   * @param script the worker program (it answers the messages below with its own op table)
   * @param runLocal runs the calling thread's slab: the same op table as the script's
   *   (the registration kernels by default; the analysis kernels reuse this pool with theirs)
   */
  constructor(
    threads: number,
    script: string,
    private readonly runLocal: (b: Buffers, op: string, args: unknown, k0: number, k1: number) => number | number[] = runOp as never,
  ) {
    this.threads = Math.max(1, threads);
    for (let t = 0; t < this.threads - 1; t++) {
      const w = new Worker(script);
      w.on('message', (m: { id: number; result?: number | number[]; error?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve(m.result ?? 0);
      });
      w.on('error', (e) => this.failAll(e instanceof Error ? e : new Error(String(e))));
      this.workers.push(w);
    }
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** A new zeroed buffer, or `reuse` (a buffer this pool made before and freed) as it is. */
  alloc(name: string, length: number, reuse?: SharedArrayBuffer): Float32Array {
    const sab = reuse && reuse.byteLength === length * 4 ? reuse : new SharedArrayBuffer(length * 4);
    const a = new Float32Array(sab);
    this.bufs.set(name, a);
    for (const w of this.workers) w.postMessage({ type: 'buffer', name, sab });
    return a;
  }

  get(name: string): Float32Array {
    const a = this.bufs.get(name);
    if (!a) throw new Error(`registration pool: unknown buffer '${name}'`);
    return a;
  }

  free(name: string): void {
    this.bufs.delete(name);
    for (const w of this.workers) w.postMessage({ type: 'free', name });
  }

  async run<K extends OpName>(op: K, args: OpArgMap[K], nSlices: number): Promise<Array<number | number[]>> {
    if (this.closed) throw new Error('registration pool: closed');
    const t0 = performance.now();
    const parts = slabs(nSlices, this.threads);
    const results: Array<Promise<number | number[]>> = [];
    // Slabs 0..P−2 go to workers, the last one runs here.
    for (let s = 0; s < parts.length - 1; s++) {
      const id = this.nextId++;
      const [k0, k1] = parts[s];
      results.push(
        new Promise((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          this.workers[s].postMessage({ type: 'op', id, op, args, k0, k1 });
        }),
      );
    }
    const [k0, k1] = parts[parts.length - 1];
    const mine = this.runLocal(this.bufs, op, args, k0, k1);
    const others = await Promise.all(results);
    others.push(mine);
    this.opTimes.set(op, (this.opTimes.get(op) ?? 0) + performance.now() - t0);
    return others;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (process.env.LATTICE_PROFILE) {
      const rows = [...this.opTimes].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / 1000).toFixed(2)} s`);
      process.stderr.write(`registration pool (${this.threads} threads): ${rows.join(', ')}\n`);
    }
    this.failAll(new Error('registration pool: closed'));
    this.bufs.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * An executor with `threads` threads (default: all cores): the worker pool when the built
 * worker script is found and more than one thread is wanted, else the inline executor.
 */
export function createExecutor(threads = defaultThreadCount()): Executor {
  if (threads <= 1) return new InlineExecutor();
  const script = locateWorkerScript();
  if (!script) return new InlineExecutor();
  return new WorkerPoolExecutor(threads, script);
}
