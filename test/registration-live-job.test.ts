/**
 * The live side of the 'registration.demons' job through the real worker-thread runner
 * (out/node/workers/registration-job.js): previews in the progress messages, stopping
 * early with the result kept (job.cancel { keep: true } → JobRunOptions.finish), and the
 * difference volume.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { ThreadJobRunner } from '../src-main/jobs/thread-runner';
import { JobCancelledError } from '../src-main/jobs/types';
import { isDemonsPreview, type DemonsPreview } from '../src-shared/registration/preview';
import type { Volume } from '../src-shared/image/volume';
import { bumpField, centredGeometry, ctPhantom, msd, rotationMatrix, sampleVolume } from './registration-helpers';
import { ensureNodeBuild } from './node-build';

const root = resolve(__dirname, '..');

beforeAll(() => ensureNodeBuild());

const runner = new ThreadJobRunner({ concurrency: 2, cancelGraceMs: 3000, idleMs: 0 });
afterAll(() => runner.dispose());

/** Oblique grid, anisotropic voxels, 48×40×24: fixed(x) = P(x + u(x)), moving(y) = P(y). */
function deformedPair(): { fixed: Volume; moving: Volume } {
  const g = centredGeometry([48, 40, 24], [2.2, 2.6, 3.5], rotationMatrix(0.12, -0.06, 0.25));
  const u = bumpField(6);
  const fixed = sampleVolume(g, (p) => {
    const d = u(p);
    return ctPhantom([p[0] + d[0], p[1] + d[1], p[2] + d[2]]);
  });
  return { fixed, moving: sampleVolume(g, ctPhantom) };
}

/** Plane of a volume normal to `axes[2]` at index `k`, every `step`-th voxel (the preview's sampling). */
function volumePlane(v: Volume, axes: number[], k: number, step: number, width: number, height: number): Float32Array {
  const stride = [1, v.dims[0], v.dims[0] * v.dims[1]];
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) out[y * width + x] = Number(v.data[x * step * stride[axes[0]] + y * step * stride[axes[1]] + k * stride[axes[2]]]);
  return out;
}

describe("'registration.demons' live: previews, stop early, difference", () => {
  it('sends previews of the requested slice during the run, the last one the final full-resolution state', async () => {
    const { fixed, moving } = deformedPair();
    const previews: DemonsPreview[] = [];
    const res = await runner.run(
      'registration.demons',
      { levels: 2, iterations: [30, 10], threads: 2, imageSigma: 0, preview: { axis: 1, index: 21, intervalMs: 30 } },
      [fixed, moving],
      {
        transfer: 'copy',
        onProgress: (_f, m, p) => {
          if (p === undefined) return;
          expect(isDemonsPreview(p)).toBe(true);
          expect(m).toMatch(/^Demons level \d\/2, iteration \d+/);
          previews.push(p as DemonsPreview);
        },
      },
    );
    const its = new Set(previews.map((p) => `${p.level}:${p.iteration}`));
    expect(its.size).toBeGreaterThanOrEqual(2);
    // the first iteration of each level always has one
    expect(previews.some((p) => p.level === 1 && p.iteration === 1)).toBe(true);
    expect(previews.some((p) => p.level === 2 && p.iteration === 1)).toBe(true);
    for (const p of previews) {
      expect(p.axes).toEqual([0, 2, 1]);
      expect(p.slice).toBe(21);
      expect(p.levels).toBe(2);
      // level 1 is the 2× coarser grid: 24 × 12 pixels of 4.4 × 7 mm; level 2 the full grid
      const f = p.level === 1 ? 2 : 1;
      expect([p.width, p.height]).toEqual([48 / f, 24 / f]);
      expect(p.pixelMm[0]).toBeCloseTo(2.2 * f, 6);
      expect(p.pixelMm[1]).toBeCloseTo(3.5 * f, 6);
      expect(p.history.msd.length).toBe(p.history.level.length);
      expect(p.history.msd[p.history.msd.length - 1]).toBe(p.msd);
    }
    for (let i = 1; i < previews.length; i++) expect(previews[i].history.msd.length).toBeGreaterThanOrEqual(previews[i - 1].history.msd.length);
    const last = previews[previews.length - 1];
    const m = res.values!.metrics as { levels: { iterations: number }[]; msdBefore: number; msdAfter: number };
    expect(last.history.msd.length).toBe(m.levels[0].iterations + m.levels[1].iterations);
    // MSD falls within each level (the coarse level's MSD is on smoothed, sub-sampled images)
    for (const lv of [1, 2]) {
      const h = last.history.msd.filter((_, i) => last.history.level[i] === lv);
      expect(h[h.length - 1]).toBeLessThan(h[0] * 0.8);
    }
    expect(last.level).toBe(2);
    // a real update and a non-trivial deformation were shown
    expect(Math.max(...new Float32Array(last.update))).toBeGreaterThan(0);
    const jac = new Float32Array(last.jacobian);
    expect(Math.min(...jac)).toBeLessThan(0.99);
    expect(Math.max(...jac)).toBeGreaterThan(1.01);
    // The final preview's warped plane is the final warped volume on that slice.
    const [warped] = res.volumes;
    const want = volumePlane(warped, last.axes, 21, 1, last.width, last.height);
    const got = new Float32Array(last.warped);
    // (imageSigma 0: the finest level's moving image is the input itself; same trilinear sampling)
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    expect(maxDiff).toBeLessThan(0.01);
    expect(Array.from(new Float32Array(last.fixed))).toEqual(Array.from(volumePlane(fixed, last.axes, 21, 1, last.width, last.height)));
    expect(Array.from(new Float32Array(last.source))).toEqual(Array.from(volumePlane(moving, last.axes, 21, 1, last.width, last.height)));
  }, 60_000);

  it('stops early when asked, and ends normally with the field so far carried to full resolution', async () => {
    const { fixed, moving } = deformedPair();
    const finish = new AbortController();
    const previews: DemonsPreview[] = [];
    let progress = 0;
    const res = await runner.run(
      'registration.demons',
      { levels: 3, minSize: 4, iterations: [10_000, 50, 5], stopOnPlateau: false, threads: 2, preview: { intervalMs: 10_000 } },
      [fixed, moving],
      {
        transfer: 'copy',
        finish: finish.signal,
        onProgress: (_f, _m, p) => {
          if (p) previews.push(p as DemonsPreview);
          else if (++progress === 8) finish.abort();
        },
      },
    );
    const v = res.values!;
    expect(v.stoppedEarly).toBe(true);
    const at = v.stoppedAt as { level: number; levels: number; iteration: number };
    expect(at.level).toBe(1);
    expect(at.levels).toBe(3);
    expect(at.iteration).toBeGreaterThanOrEqual(8);
    expect(at.iteration).toBeLessThan(200);
    const metrics = v.metrics as { msdBefore: number; msdAfter: number; stoppedEarly: boolean; levels: { iterations: number }[] };
    expect(metrics.stoppedEarly).toBe(true);
    // the coarsest level's field went up through both finer levels without iterating there
    expect(metrics.levels.map((l) => l.iterations)).toEqual([at.iteration, 0, 0]);
    expect(metrics.msdAfter).toBeLessThan(metrics.msdBefore * 0.7);
    expect(res.volumes).toHaveLength(4);
    for (const vol of res.volumes) expect(vol.dims).toEqual(fixed.dims);
    const [warped, field, , difference] = res.volumes;
    expect(field.frames).toBe(3);
    expect(field.data.length).toBe(3 * 48 * 40 * 24);
    expect(msd(warped.data, fixed.data)).toBeCloseTo(metrics.msdAfter, 2);
    // previews: the first of level 1, then the final one at full resolution (axis 2, middle slice;
    // iteration 0: none was done at that level)
    expect(previews.map((p) => p.level)).toEqual([1, 3]);
    const fin = previews[1];
    expect([fin.width, fin.height, fin.slice, fin.iteration]).toEqual([48, 40, 12, 0]);
    expect(fin.history.msd.length).toBe(at.iteration);
    // difference = warped − fixed
    expect(difference.voxelType).toBe('float32');
    let maxErr = 0;
    for (let i = 0; i < difference.data.length; i++) maxErr = Math.max(maxErr, Math.abs(Number(difference.data[i]) - (Number(warped.data[i]) - Number(fixed.data[i]))));
    expect(maxErr).toBe(0);
  }, 60_000);

  it('still cancels (no result) without keep, within a second of the request', async () => {
    const { fixed, moving } = deformedPair();
    const ac = new AbortController();
    let seen = 0, t = 0;
    const run = runner.run('registration.demons', { levels: 1, iterations: 10_000, stopOnPlateau: false, threads: 2, preview: {} }, [fixed, moving], {
      transfer: 'copy',
      signal: ac.signal,
      onProgress: () => {
        if (++seen === 3) {
          t = performance.now();
          ac.abort();
        }
      },
    });
    await expect(run).rejects.toBeInstanceOf(JobCancelledError);
    expect(performance.now() - t).toBeLessThan(1500);
  }, 30_000);
});
