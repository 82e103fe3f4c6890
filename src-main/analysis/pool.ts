/**
 * Executor on every core for the analysis kernels (src-shared/analysis/kernels.ts): the
 * registration's thread pool class (SharedArrayBuffers, slabs of slices, the last slab on
 * the calling thread) running the kernel worker program out/node/workers/analysis-kernels.js.
 * Falls back to the inline executor with one thread or when the built worker is missing.
 *
 * Freed buffers are kept for a while and handed out again to `alloc(…, overwritten)` calls of
 * the same size: a whole-volume operation needs two or three volume-sized buffers, and fresh
 * memory costs a page fault per 4 KiB on first touch (measured: 0.3–0.7 s per 300 MB buffer
 * with two threads faulting at once, more than the Gaussian's arithmetic). The kept buffers are
 * bounded in bytes and dropped after a few idle seconds, so an idle worker holds no memory.
 */
import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { InlineSlabExecutor, runKernel, type SlabExecutor } from '../../src-shared/analysis/kernels';
import { defaultThreadCount, WorkerPoolExecutor } from '../registration/pool';

/** The built kernel worker, seen from the CLI bundle, another worker bundle or the TypeScript sources. */
export function locateAnalysisKernelScript(): string | null {
  for (const c of ['./workers/analysis-kernels.js', './analysis-kernels.js', '../../out/node/workers/analysis-kernels.js']) {
    try {
      const p = fileURLToPath(new URL(c, import.meta.url));
      if (existsSync(p)) return p;
    } catch {
      /* not a file: URL */
    }
  }
  return null;
}

export interface ClosableSlabExecutor extends SlabExecutor {
  close(): Promise<void>;
}

/** Freed SharedArrayBuffers kept for reuse: at most `maxBytes`, all dropped after `idleMs`. */
export class BufferRecycler {
  private kept: SharedArrayBuffer[] = [];
  private bytes = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  constructor(
    private readonly maxBytes = Math.min(2 ** 31, totalmem() / 8),
    private readonly idleMs = 10_000,
  ) {}

  take(byteLength: number): SharedArrayBuffer | undefined {
    const i = this.kept.findIndex((b) => b.byteLength === byteLength);
    if (i < 0) return undefined;
    const [b] = this.kept.splice(i, 1);
    this.bytes -= b.byteLength;
    return b;
  }

  keep(b: SharedArrayBuffer): void {
    if (b.byteLength > this.maxBytes) return;
    this.kept.push(b);
    this.bytes += b.byteLength;
    while (this.bytes > this.maxBytes) this.bytes -= this.kept.shift()!.byteLength; // oldest first
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.clear(), this.idleMs);
    this.timer.unref?.();
  }

  clear(): void {
    this.kept = [];
    this.bytes = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export function createAnalysisExecutor(threads = defaultThreadCount()): ClosableSlabExecutor {
  const script = threads > 1 ? locateAnalysisKernelScript() : null;
  if (!script) {
    const inline = new InlineSlabExecutor();
    return Object.assign(inline, { close: async () => undefined });
  }
  const pool = new WorkerPoolExecutor(threads, script, runKernel as never);
  const recycler = new BufferRecycler();
  // The pool's op names are typed for the registration kernels; the protocol is the same.
  return {
    threads: pool.threads,
    alloc: (name, length, overwritten) => pool.alloc(name, length, overwritten ? recycler.take(length * 4) : undefined),
    get: (name) => pool.get(name),
    free: (name) => {
      let sab: SharedArrayBuffer;
      try {
        sab = pool.get(name).buffer as SharedArrayBuffer;
      } catch {
        return; // never allocated (a failed operation's cleanup)
      }
      pool.free(name);
      recycler.keep(sab);
    },
    run: (op, args, n) => pool.run(op as never, args as never, n),
    close: () => {
      recycler.clear();
      return pool.close();
    },
  };
}
