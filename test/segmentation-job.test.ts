/**
 * The segmentation job kinds through the real worker-thread runner (out/node/workers/
 * segmentation.js): the active contour reports previews of its ROI while it grows, stops early
 * on request keeping its contour, passes the advection weight, and bad parameters fail with a
 * message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vec3, Volume } from '../src-shared/image/volume';
import { JobFailedError, ThreadJobRunner, jobKindCanStopEarly } from '../src-main/jobs';
import { ensureNodeBuild } from './node-build';

beforeAll(() => ensureNodeBuild());
const runner = new ThreadJobRunner({ concurrency: 1, cancelGraceMs: 3000 });
afterAll(() => runner.dispose());

function ball(): Volume {
  const dims: Vec3 = [60, 60, 30];
  const data = new Int16Array(60 * 60 * 30);
  for (let k = 0, o = 0; k < 30; k++) for (let j = 0; j < 60; j++) for (let i = 0; i < 60; i++, o++) data[o] = Math.hypot(i - 30, j - 30, (k - 15) * 2) < 25 ? 300 : 0;
  return { dims, spacing: [1, 1, 2], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

describe('segmentation jobs in a worker', () => {
  it('active contour: previews while growing, then stops early on request and keeps the contour', async () => {
    expect(jobKindCanStopEarly('segmentation.active-contour')).toBe(true);
    const previews: { iteration: number; voxels: number; box: number[]; bytes: number }[] = [];
    const finish = new AbortController();
    const r = await runner.run(
      'segmentation.active-contour',
      { bubbles: [{ center: [30, 30, 15], radius: 2 }], speed: { mode: 'threshold', lower: 150, upper: 1000 }, iterations: 100_000, previewMs: 20, roi: { start: [5, 5, 0], end: [55, 55, 30] } },
      [ball()],
      {
        finish: finish.signal,
        onProgress: (_f, _m, p) => {
          const q = p as { iteration: number; voxels: number; box: number[]; mask: ArrayBuffer } | undefined;
          if (!q) return;
          previews.push({ iteration: q.iteration, voxels: q.voxels, box: q.box, bytes: q.mask.byteLength });
          if (previews.length === 6) finish.abort();
        },
      },
    );
    expect(previews.length).toBeGreaterThanOrEqual(6);
    expect(previews[0].box).toEqual([5, 5, 0, 50, 50, 30]);
    expect(previews[0].bytes).toBe(50 * 50 * 30);
    expect(previews[5].voxels).toBeGreaterThan(previews[0].voxels);
    expect(r.values?.stoppedEarly).toBe(true);
    expect(r.values?.iterations as number).toBeLessThan(100_000);
    const m = r.volumes[0];
    expect(m.dims).toEqual([60, 60, 30]);
    expect(Array.from(m.data).reduce((a, b) => a + b, 0)).toBe(r.values?.voxels);
  });

  it('active contour: the advection weight γ is passed to the edge mode (default 2 as ITK-SNAP); a negative one fails', async () => {
    const run = async (gamma?: number) => {
      const r = await runner.run('segmentation.active-contour', { bubbles: [{ center: [30, 30, 15], radius: 3 }], speed: { mode: 'edge', kappa: 20 }, iterations: 60, ...(gamma === undefined ? {} : { gamma }) }, [ball()]);
      return Array.from(r.volumes[0].data);
    };
    const byDefault = await run();
    expect(byDefault).toEqual(await run(2));
    expect(byDefault).not.toEqual(await run(0));
    await expect(run(-1)).rejects.toThrow(JobFailedError);
  });

  it('bad parameters fail with a message', async () => {
    await expect(runner.run('segmentation.active-contour', { bubbles: [], speed: { mode: 'threshold', lower: 1, upper: 0 }, iterations: 5 }, [ball()])).rejects.toThrow(JobFailedError);
    await expect(runner.run('segmentation.rtstruct', { file: '/no/such/rt.dcm' }, [ball()])).rejects.toThrow(/rt\.dcm: cannot read \(ENOENT\)/);
  });
});
