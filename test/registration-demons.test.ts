import { beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { registerDemons, RegistrationCancelled } from '../src-main/registration/register';
import { locateWorkerScript } from '../src-main/registration/pool';
import { gridIndexToWorld, transformPoint4 } from '../src-shared/image/resample';
import type { Vec3, Volume } from '../src-shared/image/volume';
import { bumpField, centredGeometry, ctPhantom, msd, sampleVolume } from './registration-helpers';
import { ensureNodeBuild } from './node-build';

const root = resolve(__dirname, '..');

beforeAll(async () => {
  // The thread pool runs the bundled worker (out/node/workers/registration.js).
  await ensureNodeBuild();
  expect(locateWorkerScript()).toMatch(/out\/node\/workers\/registration\.js$/);
});

/** fixed(x) = P(x + u(x)), moving(y) = P(y): the true field (fixed → moving) is u. */
function deformedPair(dims: Vec3, spacing: Vec3, amp: number) {
  const g = centredGeometry(dims, spacing);
  const u = bumpField(amp);
  const fixed = sampleVolume(g, (p) => {
    const d = u(p);
    return ctPhantom([p[0] + d[0], p[1] + d[1], p[2] + d[2]]);
  });
  const moving = sampleVolume(g, ctPhantom);
  return { fixed, moving, u };
}

/** Mean |D − u| (mm) over body voxels; D is the RAS field Volume (LPS u: negate x, y). */
function meanEndpointError(field: Volume, fixed: Volume, u: (p: Vec3) => Vec3): number {
  const n = fixed.dims[0] * fixed.dims[1] * fixed.dims[2];
  const m = gridIndexToWorld(fixed);
  let s = 0, c = 0;
  for (let k = 0, o = 0; k < fixed.dims[2]; k++)
    for (let j = 0; j < fixed.dims[1]; j++)
      for (let i = 0; i < fixed.dims[0]; i++, o++) {
        if (fixed.data[o] < -500) continue; // air: nothing to register
        const t = u(transformPoint4(m, [i, j, k]));
        const e = Math.hypot(-field.data[o] - t[0], -field.data[n + o] - t[1], field.data[2 * n + o] - t[2]);
        s += e;
        c++;
      }
  return s / c;
}

describe('registerDemons', () => {
  it('lowers the MSD and recovers a smooth 3D deformation (thread pool)', async () => {
    const { fixed, moving, u } = deformedPair([48, 48, 40], [2, 2, 2.5], 6);
    const levels: number[] = [];
    const r = await registerDemons(fixed, moving, { threads: 2, levels: 3 }, { onProgress: (p) => levels.push(p.level) });
    expect(r.metrics.threads).toBe(2);
    expect(r.metrics.msdAfter).toBeLessThan(r.metrics.msdBefore / 5);
    expect(msd(fixed.data, r.warped.data)).toBeCloseTo(r.metrics.msdAfter, 0);
    const before = meanEndpointError({ ...r.field!, data: new Float32Array(r.field!.data.length) }, fixed, u);
    const after = meanEndpointError(r.field!, fixed, u);
    expect(after).toBeLessThan(before / 2.5);
    expect(new Set(levels)).toEqual(new Set([1, 2, 3]));
    expect(r.field!.frames).toBe(3);
    expect(r.jacobian!.data.length).toBe(48 * 48 * 40);
  });

  it('previews only read: the same field with previews at every iteration as without; a stop keeps the field so far', async () => {
    const { fixed, moving } = deformedPair([32, 32, 24], [3, 3, 3], 5);
    const opts = { levels: 2, iterations: [12, 6], stopOnPlateau: false, threads: 2 };
    const plain = await registerDemons(fixed, moving, opts);
    const seen: number[] = [];
    const withPreviews = await registerDemons(fixed, moving, opts, { preview: { axis: 0, intervalMs: 0, onPreview: (p) => seen.push(p.iteration) } });
    expect(seen.length).toBe(12 + 6 + 1); // every iteration, and the final state
    expect(Array.from(withPreviews.fieldVoxels)).toEqual(Array.from(plain.fieldVoxels));
    expect(plain.metrics.stoppedEarly).toBe(false);
    expect(plain.difference).toBeNull();
    // stop after the 4th iteration of the coarse level: the 4 iterations' field, up-sampled, finalised as usual
    const stop = new AbortController();
    const early = await registerDemons(fixed, moving, { ...opts, difference: true }, { stop: stop.signal, onProgress: (p) => p.iteration === 4 && stop.abort() });
    expect(early.metrics.stoppedEarly).toBe(true);
    expect(early.metrics.stoppedAt).toEqual({ level: 1, levels: 2, iteration: 4 });
    expect(early.metrics.levels.map((l) => l.iterations)).toEqual([4, 0]);
    expect(early.metrics.msdAfter).toBeLessThan(early.metrics.msdBefore);
    expect(early.metrics.msdAfter).toBeGreaterThan(plain.metrics.msdAfter);
    expect(early.warped.dims).toEqual(fixed.dims);
    expect(Number(early.difference!.data[5000])).toBeCloseTo(Number(early.warped.data[5000]) - Number(fixed.data[5000]), 4);
  });

  it('gives the same field on one thread and on the pool', async () => {
    const { fixed, moving } = deformedPair([32, 32, 24], [3, 3, 3], 5);
    const opts = { levels: 2, iterations: [15, 10], stopOnPlateau: false, force: 'symmetric' as const };
    const a = await registerDemons(fixed, moving, { ...opts, threads: 1 });
    const b = await registerDemons(fixed, moving, { ...opts, threads: 3 });
    let maxDiff = 0;
    for (let i = 0; i < a.fieldVoxels.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.fieldVoxels[i] - b.fieldVoxels[i]));
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('lowers the MSD on a 2D image, with every force option', async () => {
    const g = centredGeometry([96, 96, 1], [2, 2, 2]);
    const u = bumpField(6);
    const fixed = sampleVolume(g, (p) => {
      const d = u(p);
      return ctPhantom([p[0] + d[0], p[1] + d[1], p[2]]);
    });
    const moving = sampleVolume(g, ctPhantom);
    for (const force of ['moving', 'fixed', 'symmetric'] as const) {
      const r = await registerDemons(fixed, moving, { force, threads: 2 });
      expect(r.metrics.msdAfter).toBeLessThan(r.metrics.msdBefore / 4);
      // 2D: no out-of-plane displacement
      const n = 96 * 96;
      for (let o = 0; o < n; o++) expect(r.field!.data[2 * n + o]).toBe(0);
    }
  });

  it('does not fold a large smooth deformation in composition (diffeomorphic) mode', async () => {
    // 16 mm bumps on 2.5 mm voxels: more than 6 voxels of motion
    const { fixed, moving } = deformedPair([48, 48, 40], [2.5, 2.5, 2.5], 16);
    const r = await registerDemons(fixed, moving, { diffeomorphic: true, sigmaElastic: 0.5, sigmaFluid: 1, threads: 2 });
    expect(r.metrics.msdAfter).toBeLessThan(r.metrics.msdBefore / 4);
    expect(r.metrics.negativeJacobianVoxels).toBe(0);
    expect(r.metrics.minJacobian).toBeGreaterThan(0);
  });

  it('stops within a second when cancelled', async () => {
    const { fixed, moving } = deformedPair([128, 128, 96], [1.5, 1.5, 1.5], 6);
    const ac = new AbortController();
    let abortedAt = 0;
    let iterations = 0;
    const run = registerDemons(fixed, moving, { levels: 1, iterations: 10000, stopOnPlateau: false, threads: 2 }, {
      signal: ac.signal,
      onProgress: () => {
        iterations++;
        if (iterations === 3) {
          abortedAt = performance.now();
          ac.abort();
        }
      },
    });
    await expect(run).rejects.toBeInstanceOf(RegistrationCancelled);
    expect(abortedAt).toBeGreaterThan(0);
    expect(performance.now() - abortedAt).toBeLessThan(1000);
  });
});
