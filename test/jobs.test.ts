/**
 * The worker-thread job runner with the real processing worker (out/node/workers/processing.js):
 * results, transfer of inputs, progress, cancellation of a long job, crash isolation.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vec3, Volume } from '../src-shared/image/volume';
import { JobCancelledError, JobCrashedError, JobFailedError, ThreadJobRunner, registerJobKind, resolveWorkerScript } from '../src-main/jobs';
import { morphology } from '../src-shared/processing';
import { ensureNodeBuild } from './node-build';

const root = resolve(__dirname, '..');

beforeAll(() => ensureNodeBuild());

function mask(dims: Vec3, fill: (x: number, y: number, z: number) => boolean): Volume {
  const [nx, ny, nz] = dims;
  const d = new Uint8Array(nx * ny * nz);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) d[(z * ny + y) * nx + x] = fill(x, y, z) ? 1 : 0;
  return { dims, spacing: [1, 1, 2], origin: [3, 4, 5], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data: d, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

const runner = new ThreadJobRunner({ concurrency: 2, cancelGraceMs: 3000 });
afterAll(() => runner.dispose());

describe('ThreadJobRunner', () => {
  it('finds the worker program from the sources via the repository root', () => {
    expect(resolveWorkerScript('processing')).toBe(resolve(root, 'out/node/workers/processing.js'));
  });

  it('runs a job in a worker: same answer as in-process, inputs lent and returned', async () => {
    const m = mask([30, 20, 10], (x, y, z) => (x - 15) ** 2 + (y - 10) ** 2 + (z - 5) ** 2 < 30);
    const expected = morphology(m, 'dilate', { shape: 'ball', radius: 2 });
    const before = Array.from(m.data);
    const buffer = m.data.buffer;
    const progress: number[] = [];
    const r = await runner.run('processing.morphology', { operation: 'dilate', radius: 2 }, [m], { onProgress: (f) => progress.push(f) });
    expect(r.volumes).toHaveLength(1);
    expect(Array.from(r.volumes[0].data)).toEqual(Array.from(expected.data));
    expect(r.volumes[0].origin).toEqual([3, 4, 5]);
    expect(r.volumes[0].voxelType).toBe('uint8');
    // Transferred (the original buffer was detached) and handed back.
    expect(buffer.byteLength).toBe(0);
    expect(m.data.buffer).not.toBe(buffer);
    expect(Array.from(m.data)).toEqual(before);
    expect(progress.length).toBeGreaterThan(0);
  });

  it('lends a NIfTI-like buffer (header + voxels) but copies a view on a larger buffer', async () => {
    const file = new ArrayBuffer(352 + 20 * 20 * 20);
    const m = mask([20, 20, 20], () => false);
    m.data = new Uint8Array(file, 352, 8000).fill(1);
    await runner.run('processing.morphology', { operation: 'erode', radius: 1 }, [m]);
    expect(file.byteLength).toBe(0); // lent…
    expect(m.data.byteOffset).toBe(352); // …and handed back as the same view
    expect(m.data.length).toBe(8000);
    expect(m.data[0]).toBe(1);
    const big = new ArrayBuffer(1 << 20);
    const other = new Uint8Array(big, 0, 100).fill(7);
    const v = mask([10, 10, 10], () => true);
    v.data = new Uint8Array(big, 200_000, 1000).fill(1);
    const r = await runner.run('processing.morphology', { operation: 'erode', radius: 1, shape: 'box' }, [v]);
    expect(big.byteLength).toBe(1 << 20); // not detached
    expect(other[99]).toBe(7);
    expect(Array.from(r.volumes[0].data).filter((x) => x === 1).length).toBe(1000); // border counts as foreground
  });

  it('copies instead when asked, and returns values', async () => {
    const img: Volume = { ...mask([8, 8, 1], () => false), data: new Int16Array(64).map((_, i) => (i < 32 ? 10 : 200)), voxelType: 'int16' };
    const buffer = img.data.buffer;
    const r = await runner.run('processing.otsu', {}, [img], { transfer: 'copy' });
    expect(img.data.buffer).toBe(buffer);
    expect(buffer.byteLength).toBe(128);
    expect(r.values?.threshold).toBe(10);
    expect(Array.from(r.volumes[0].data)).toEqual(Array.from(img.data, (v) => (v > 10 ? 1 : 0)));
  });

  it('reports job errors clearly and gives the lent inputs back', async () => {
    const a = mask([4, 4, 4], () => true);
    const b = mask([4, 4, 2], () => true);
    await expect(runner.run('processing.combine', { operation: 'union' }, [a, b])).rejects.toThrow(/different sizes \(4×4×4 and 4×4×2\)/);
    await expect(runner.run('processing.combine', { operation: 'union' }, [a, b])).rejects.toBeInstanceOf(JobFailedError);
    expect(a.data.length).toBe(64);
    expect(a.data[5]).toBe(1);
    await expect(runner.run('processing.morphology', { operation: 'grow', radius: 1 }, [a])).rejects.toThrow(/invalid parameters: operation/);
    await expect(runner.run('no.such.kind', {}, [])).rejects.toThrow(/unknown job kind 'no.such.kind'/);
  });

  it('reports progress of a long job and cancels it mid-way', async () => {
    // A real long operation: many iterations of a ball dilation on a 160³ mask.
    const m = mask([160, 160, 160], (x, y, z) => (x * 7 + y * 13 + z * 17) % 97 === 0);
    const ac = new AbortController();
    const progress: { f: number; msg: string }[] = [];
    const t0 = Date.now();
    const job = runner.run('processing.morphology', { operation: 'close', radius: 3, iterations: 40 }, [m], {
      signal: ac.signal,
      onProgress: (f, msg) => {
        progress.push({ f, msg });
        if (f > 0.05) ac.abort();
      },
    });
    await expect(job).rejects.toBeInstanceOf(JobCancelledError);
    const elapsed = Date.now() - t0;
    expect(progress.length).toBeGreaterThan(2);
    expect(progress[0].msg).toMatch(/Encoding runs|Morphology/);
    for (let i = 1; i < progress.length; i++) expect(progress[i].f).toBeGreaterThanOrEqual(progress[i - 1].f);
    expect(Math.max(...progress.map((p) => p.f))).toBeLessThan(0.5);
    // It stopped cooperatively (well before the grace timeout) and gave the input back.
    expect(elapsed).toBeLessThan(20_000);
    expect(m.data.length).toBe(160 ** 3);
  });

  it('cancels a synchronous busy job and one that is still queued', async () => {
    const small = new ThreadJobRunner({ concurrency: 1 });
    try {
      const ac1 = new AbortController();
      const ac2 = new AbortController();
      const seen: number[] = [];
      let started!: () => void;
      const running = new Promise<void>((r) => (started = r));
      const first = small.run('diagnostics.sleep', { ms: 20_000 }, [], {
        signal: ac1.signal,
        onProgress: (f) => {
          seen.push(f);
          started();
        },
      });
      const second = small.run('diagnostics.sleep', { ms: 20_000 }, [], { signal: ac2.signal });
      ac2.abort();
      await expect(second).rejects.toBeInstanceOf(JobCancelledError);
      // Cancel once the first is busy in its synchronous loop.
      await running;
      ac1.abort();
      const t0 = Date.now();
      await expect(first).rejects.toBeInstanceOf(JobCancelledError);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(seen.length).toBeGreaterThan(0);
      // The runner is still usable.
      const r = await small.run('diagnostics.sleep', { ms: 50 }, []);
      expect(r.values?.sleptMs).toBeGreaterThanOrEqual(50);
    } finally {
      await small.dispose();
    }
  });

  it('turns a crashed worker into a clear error and keeps running', async () => {
    const m = mask([4, 4, 4], () => true);
    const err = await runner.run('diagnostics.crash', { how: 'exit' }, [m]).catch((e) => e);
    expect(err).toBeInstanceOf(JobCrashedError);
    expect(err.message).toMatch(/Job 'diagnostics.crash' failed: its worker stopped unexpectedly \(exit code 3\)/);
    expect(err.message).toMatch(/no longer available/);
    const err2 = await runner.run('diagnostics.crash', { how: 'throw' }, [], { transfer: 'copy' }).catch((e) => e);
    expect(err2).toBeInstanceOf(JobCrashedError);
    expect(err2.message).toMatch(/deliberate crash/);
    // Runs fine afterwards.
    const r = await runner.run('processing.fillHoles', {}, [mask([5, 5, 5], (x, y, z) => x === 0 || y === 0 || z === 0 || x === 4 || y === 4 || z === 4)]);
    expect(r.values?.filled).toBe(27);
  });

  it('reuses a warm worker for the next job, and a fresh one after a crash', async () => {
    const a = await runner.run('diagnostics.sleep', { ms: 10 }, []);
    const b = await runner.run('diagnostics.sleep', { ms: 10 }, []);
    expect(b.values?.threadId).toBe(a.values?.threadId);
    await runner.run('diagnostics.crash', {}, []).catch(() => undefined);
    const c = await runner.run('diagnostics.sleep', { ms: 10 }, []);
    expect(typeof c.values?.threadId).toBe('number');
  });

  it('runs threshold + mask as one job returning both layers', async () => {
    const img: Volume = { ...mask([6, 5, 4], () => false), data: new Int16Array(120).map((_, i) => (i * 37) % 300 - 100), voxelType: 'int16' };
    const src = Array.from(img.data);
    const r = await runner.run('processing.thresholdMask', { lower: 60, lowerInclusive: false, background: -1024 }, [img]);
    expect(Array.from(r.volumes[0].data)).toEqual(src.map((v) => (v > 60 ? 1 : 0)));
    expect(Array.from(r.volumes[1].data)).toEqual(src.map((v) => (v > 60 ? v : -1024)));
    expect(Array.from(img.data)).toEqual(src);
  });

  it('refuses to register a kind twice for different workers', () => {
    registerJobKind('test.kind', 'processing');
    expect(() => registerJobKind('test.kind', 'registration')).toThrow(/already served/);
  });
});
