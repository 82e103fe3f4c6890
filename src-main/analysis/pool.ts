/**
 * Executor on every core for the analysis kernels (src-shared/analysis/kernels.ts): the
 * registration's thread pool class (SharedArrayBuffers, slabs of slices, the last slab on
 * the calling thread) running the kernel worker program out/node/workers/analysis-kernels.js.
 * Falls back to the inline executor with one thread or when the built worker is missing.
 */
import { existsSync } from 'node:fs';
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

export function createAnalysisExecutor(threads = defaultThreadCount()): ClosableSlabExecutor {
  const script = threads > 1 ? locateAnalysisKernelScript() : null;
  if (!script) {
    const inline = new InlineSlabExecutor();
    return Object.assign(inline, { close: async () => undefined });
  }
  const pool = new WorkerPoolExecutor(threads, script, runKernel as never);
  // The pool's op names are typed for the registration kernels; the protocol is the same.
  return {
    threads: pool.threads,
    alloc: (name, length) => pool.alloc(name, length),
    get: (name) => pool.get(name),
    free: (name) => pool.free(name),
    run: (op, args, n) => pool.run(op as never, args as never, n),
    close: () => pool.close(),
  };
}
