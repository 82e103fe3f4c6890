/**
 * The analysis job kinds through the real worker-thread job runner (out/node/workers/analysis.js,
 * whose kernels run on a thread pool): the same answer as the single-threaded operation,
 * progress, cancellation; and the CLI verbs (help, usage errors, compare-masks --json, stats).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vec3, Volume } from '../src-shared/image/volume';
import { JobCancelledError, ThreadJobRunner } from '../src-main/jobs';
import { writeNiftiFile } from '../src-main/nifti/nifti-file';
import { clahe, compareMasks, distanceTransform, filterVolume, InlineSlabExecutor } from '../src-shared/analysis';
import { readNiftiFile } from '../src-main/nifti/nifti-file';
import { createAnalysisExecutor } from '../src-main/analysis/pool';
import { ensureNodeBuild } from './node-build';

beforeAll(() => ensureNodeBuild());
const runner = new ThreadJobRunner({ concurrency: 2, cancelGraceMs: 3000 });
const dir = mkdtempSync(join(tmpdir(), 'lattice-analysis-jobs-'));
afterAll(async () => {
  await runner.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function image(dims: Vec3, f: (x: number, y: number, z: number) => number, type: 'int16' | 'float32' | 'uint8' = 'int16'): Volume {
  const [nx, ny, nz] = dims;
  const d = type === 'int16' ? new Int16Array(nx * ny * nz) : type === 'uint8' ? new Uint8Array(nx * ny * nz) : new Float32Array(nx * ny * nz);
  for (let z = 0, q = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, q++) d[q] = f(x, y, z);
  return { dims, spacing: [0.8, 1.1, 2.5], origin: [3, -4, 5], direction: [0, 1, 0, -1, 0, 0, 0, 0, 1], data: d, voxelType: type, frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

const ball = (cx: number, cy: number, cz: number, r: number) => (x: number, y: number, z: number) => ((x - cx) ** 2 + (y - cy) ** 2 + ((z - cz) * 2) ** 2 < r * r ? 1 : 0);

describe('analysis jobs', () => {
  it('filters and distance maps through the runner (thread pool) equal the inline operation exactly', async () => {
    const img = image([64, 48, 40], (x, y, z) => Math.round(100 * Math.sin(x / 5) * Math.cos(y / 7) + z * 3 + ((x * 31 + y * 17 + z * 7) % 13)));
    const mask = image([64, 48, 40], ball(30, 20, 18, 12), 'uint8');
    const inline = { executor: new InlineSlabExecutor() };
    const cases: Array<[string, Record<string, unknown>, Volume, () => Promise<Volume>]> = [
      ['analysis.filter', { filter: 'gaussian', sigmaMm: [2, 2, 3] }, img, () => filterVolume(img, { filter: 'gaussian', sigmaMm: [2, 2, 3] }, inline)],
      ['analysis.filter', { filter: 'median', radius: 1 }, img, () => filterVolume(img, { filter: 'median', radius: 1 }, inline)],
      ['analysis.distance', { mode: 'signed' }, mask, () => distanceTransform(mask, { mode: 'signed' }, inline)],
      ['analysis.clahe', { kernelSize: [10, 9, 7], clipLimit: 0.02 }, img, () => clahe(img, { kernelSize: [10, 9, 7], clipLimit: 0.02 }, inline)],
      ['analysis.clahe', { perSlice: true }, img, () => clahe(img, { perSlice: true }, inline)],
    ];
    for (const [kind, params, input, local] of cases) {
      const expected = await local();
      const progress: number[] = [];
      const r = await runner.run(kind, params, [input], { onProgress: (f) => progress.push(f) });
      expect(r.volumes[0].voxelType).toBe('float32');
      expect(r.volumes[0].direction).toEqual(input.direction);
      expect(Array.from(r.volumes[0].data)).toEqual(Array.from(expected.data));
      expect(progress.length, kind).toBeGreaterThan(0);
    }
    // The pool (2 threads here) agrees with the inline executor too, in this thread.
    const pool = createAnalysisExecutor(2);
    try {
      const a = await filterVolume(img, { filter: 'median', radius: [2, 1, 1] }, { executor: pool });
      const b = await filterVolume(img, { filter: 'median', radius: [2, 1, 1] }, inline);
      expect(Array.from(a.data)).toEqual(Array.from(b.data));
      // Masks made on every thread (foregroundShared) from labels of an int16 volume with a
      // rescale: compare-masks and distance maps equal the inline ones.
      const labels = image([64, 48, 40], (x, y, z) => ball(30, 20, 18, 12)(x, y, z) * 2 + ball(34, 26, 20, 9)(x, y, z));
      labels.rescaleSlope = 2;
      labels.rescaleIntercept = -1; // stored 1, 2, 3 → labels 1, 3, 5
      const cmpPool = await compareMasks(labels, labels, { labelA: 3, labelB: 5 }, { executor: pool });
      const cmpInline = await compareMasks(labels, labels, { labelA: 3, labelB: 5 }, inline);
      expect(cmpPool).toEqual(cmpInline);
      expect(cmpPool.voxelsA).toBeGreaterThan(100);
      const dPool = await distanceTransform(labels, { mode: 'signed', label: 5 }, { executor: pool });
      const dInline = await distanceTransform(labels, { mode: 'signed', label: 5 }, inline);
      expect(Array.from(dPool.data)).toEqual(Array.from(dInline.data));
    } finally {
      await pool.close();
    }
    const c = await runner.run('analysis.compareMasks', {}, [mask, image([64, 48, 40], ball(32, 20, 18, 12), 'uint8')]);
    expect(c.values?.dice).toBeGreaterThan(0.8);
    expect(c.values?.dice).toBeLessThan(1);
  });

  it('cancels a long job and reports bad parameters', async () => {
    const big = image([160, 160, 60], (x, y, z) => x * 0.37 + y * 0.11 + z, 'float32');
    const ac = new AbortController();
    const p = runner.run('analysis.filter', { filter: 'median', radius: 3 }, [big], { signal: ac.signal, onProgress: () => ac.abort() });
    await expect(p).rejects.toBeInstanceOf(JobCancelledError);
    await expect(runner.run('analysis.filter', { filter: 'blur' }, [image([4, 4, 4], () => 0)])).rejects.toThrow(/filter/);
    await expect(runner.run('analysis.distance', {}, [image([4, 4, 4], () => 0, 'uint8')])).rejects.toThrow(/empty/);
  });

  it('CLI: --help, usage errors, compare-masks --json, stats, distance', async () => {
    const cli = resolve(__dirname, '../out/node/lattice.js');
    const lattice = (...args: string[]) => {
      const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8' });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    for (const v of ['filter', 'equalize', 'distance', 'compare-masks', 'stats', 'chan-vese']) {
      const h = lattice(v, '--help');
      expect(h.code, v).toBe(0);
      expect(h.out).toMatch(/^Usage: lattice /);
    }
    expect(lattice('filter', 'blur', 'x.nii', '-o', 'y.nii').code).toBe(2);
    const a = image([40, 30, 20], ball(20, 15, 10, 8), 'uint8');
    const b = image([40, 30, 20], ball(22, 15, 10, 8), 'uint8');
    await writeNiftiFile(join(dir, 'a.nii.gz'), a);
    await writeNiftiFile(join(dir, 'b.nii.gz'), b);
    const r = lattice('compare-masks', 'a.nii.gz', 'b.nii.gz', '--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    const ref = await compareMasks(a, b);
    expect(j.dice).toBe(ref.dice);
    expect(j.hausdorff95_mm).toBeCloseTo(ref.hausdorff95_mm!, 5); // the file's spacing is float32
    // 2 voxels along i (0.8 mm) — the direction maps i to world y: the centres are 1.6 mm apart.
    expect(j.centreDistance_mm).toBeCloseTo(1.6, 6);
    const s = lattice('stats', 'a.nii.gz', '--json');
    expect(JSON.parse(s.out)[0].voxels).toBe(ref.voxelsA);
    expect(lattice('distance', 'a.nii.gz', '-o', 'd.nii.gz', '--mode', 'inside').code).toBe(0);
    expect(lattice('distance', 'a.nii.gz', '-o', 'a.nii.gz').code).toBe(2); // never over an input
    // equalize --adaptive: CLAHE through the job, as the operation.
    expect(lattice('equalize', '--help').out).toMatch(/--adaptive[\s\S]*--clip-limit/);
    const img = image([40, 30, 20], (x, y, z) => Math.round(50 * Math.sin(x / 4) + y * 2 + z + ((x * 7 + y * 3) % 5)));
    await writeNiftiFile(join(dir, 'img.nii.gz'), img);
    const e = lattice('equalize', 'img.nii.gz', '-o', 'ahe.nii.gz', '--adaptive', '--kernel-size', '8,6,5', '--clip-limit', '0.03', '--bins', '128');
    expect(e.code, e.err).toBe(0);
    const ahe = (await readNiftiFile(join(dir, 'ahe.nii.gz'))).volume;
    expect(Array.from(ahe.data)).toEqual(Array.from((await clahe(img, { kernelSize: [8, 6, 5], clipLimit: 0.03, nbins: 128 })).data));
    expect(lattice('equalize', 'img.nii.gz', '-o', 'x.nii.gz', '--clip-limit', '0.03').code).toBe(2); // needs --adaptive
    expect(lattice('equalize', 'img.nii.gz', '-o', 'x.nii.gz', '--adaptive', '--mask', 'a.nii.gz').code).toBe(2);
  });
});
