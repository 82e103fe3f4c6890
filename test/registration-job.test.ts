/**
 * Registration as job kinds through the real job runner (worker thread running
 * out/node/workers/registration-job.js): progress, cancellation, parameter validation,
 * and results equal to the direct API's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ThreadJobRunner } from '../src-main/jobs/thread-runner';
import { JobCancelledError, JobFailedError } from '../src-main/jobs/types';
import { registerAffine, registerDemons } from '../src-main/registration/register';
import type { Vec3, Volume } from '../src-shared/image/volume';
import { bumpField, centredGeometry, ctPhantom, rigidMatrix, rotationMatrix, sampleVolume } from './registration-helpers';
import { transformPoint4 } from '../src-shared/image/resample';
import { ensureNodeBuild } from './node-build';

const root = resolve(__dirname, '..');

beforeAll(async () => {
  await ensureNodeBuild();
  expect(existsSync(resolve(root, 'out/node/workers/registration-job.js'))).toBe(true);
  expect(existsSync(resolve(root, 'out/node/workers/registration.js'))).toBe(true);
});

const runner = new ThreadJobRunner({ concurrency: 2, cancelGraceMs: 3000, idleMs: 0 });
afterAll(() => runner.dispose());

/** Oblique grid, anisotropic voxels: fixed(x) = P(x + u(x)), moving(y) = P(y). */
function deformedPair(): { fixed: Volume; moving: Volume } {
  const g = centredGeometry([40, 36, 28], [2.5, 2.5, 3], rotationMatrix(0.1, -0.05, 0.2));
  const u = bumpField(6);
  const fixed = sampleVolume(g, (p) => {
    const d = u(p);
    return ctPhantom([p[0] + d[0], p[1] + d[1], p[2] + d[2]]);
  });
  return { fixed, moving: sampleVolume(g, ctPhantom) };
}

describe('registration job kinds', () => {
  it("'registration.demons' reports level/iteration/MSD progress and gives the direct API's result", async () => {
    const { fixed, moving } = deformedPair();
    const params = { levels: 2, iterations: [30, 10], threads: 2 };
    const progress: Array<[number, string]> = [];
    const res = await runner.run('registration.demons', params, [fixed, moving], { transfer: 'copy', onProgress: (f, m) => progress.push([f, m]) });
    expect(progress.length).toBeGreaterThan(5);
    expect(progress.some(([, m]) => /^Demons level 1\/2, iteration \d+, MSD [\d.e+]+/.test(m))).toBe(true);
    expect(progress.some(([, m]) => m.startsWith('Demons level 2/2'))).toBe(true);
    for (let i = 1; i < progress.length; i++) expect(progress[i][0]).toBeGreaterThanOrEqual(progress[i - 1][0]);
    expect(progress.every(([f]) => f >= 0 && f <= 1)).toBe(true);

    expect(res.volumes).toHaveLength(4);
    const [warped, field, jac, diff] = res.volumes;
    for (const v of res.volumes) {
      expect(v.dims).toEqual(fixed.dims);
      expect(v.direction).toEqual(fixed.direction);
    }
    expect(field.frames).toBe(3);
    expect(jac.frames).toBe(1);
    expect(diff.frames).toBe(1);
    for (const i of [0, 1000, 17_777, warped.data.length - 1]) expect(Number(diff.data[i])).toBeCloseTo(Number(warped.data[i]) - Number(fixed.data[i]), 4);
    const direct = await registerDemons(fixed, moving, params);
    let maxField = 0, maxWarp = 0;
    for (let i = 0; i < field.data.length; i++) maxField = Math.max(maxField, Math.abs(Number(field.data[i]) - Number(direct.field!.data[i])));
    for (let i = 0; i < warped.data.length; i++) maxWarp = Math.max(maxWarp, Math.abs(Number(warped.data[i]) - Number(direct.warped.data[i])));
    expect(maxField).toBeLessThan(1e-4);
    expect(maxWarp).toBeLessThan(1e-2);
    const m = res.values!.metrics as { msdBefore: number; msdAfter: number; negativeJacobianVoxels: number };
    expect(m.msdAfter).toBeCloseTo(direct.metrics.msdAfter, 3);
    expect(m.msdAfter).toBeLessThan(m.msdBefore / 3);
    expect(m.negativeJacobianVoxels).toBe(direct.metrics.negativeJacobianVoxels);
    expect(res.values!.matrixLps).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    expect(res.values!.stoppedEarly).toBe(false);
    expect(res.values!.stoppedAt).toBeUndefined();
  }, 60_000);

  it("'registration.affine' recovers the same matrix as the direct API, in LPS and RAS", async () => {
    const g = centredGeometry([48, 44, 32], [2, 2, 3], rotationMatrix(0.05, 0.1, -0.1));
    const T = rigidMatrix([4, -3, 5], [6, -4, 3]);
    const fixed = sampleVolume(g, ctPhantom);
    const moving = sampleVolume(g, (p) => ctPhantom(transformPoint4(T, p) as Vec3)); // any misalignment: the job must agree with the direct API
    const params = { transform: 'rigid' as const, metric: 'msd' as const };
    const messages: string[] = [];
    const res = await runner.run('registration.affine', params, [fixed, moving], { transfer: 'copy', onProgress: (_f, msg) => messages.push(msg) });
    expect(messages.some((s) => /^Rigid level \d\/\d, iteration \d+, metric /.test(s))).toBe(true);
    const direct = await registerAffine(fixed, moving, params);
    const lps = res.values!.matrixLps as number[], ras = res.values!.matrixRas as number[];
    for (let i = 0; i < 16; i++) expect(lps[i]).toBeCloseTo(direct.matrixLps[i], 6);
    for (let i = 0; i < 16; i++) expect(ras[i]).toBeCloseTo(direct.matrixRas[i], 6);
    expect(res.volumes).toHaveLength(1);
    expect(res.volumes[0].dims).toEqual(fixed.dims);
    const metrics = res.values!.metrics as { before: number; after: number };
    expect(metrics.after).toBeLessThan(metrics.before);
  }, 60_000);

  it('is cancelled through the signal while it runs', async () => {
    const { fixed, moving } = deformedPair();
    const ac = new AbortController();
    let seen = 0;
    const t0 = performance.now();
    const run = runner.run('registration.demons', { levels: 1, iterations: 10000, stopOnPlateau: false, threads: 2 }, [fixed, moving], {
      transfer: 'copy',
      signal: ac.signal,
      onProgress: () => {
        if (++seen === 3) ac.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(JobCancelledError);
    expect(seen).toBeGreaterThanOrEqual(3);
    expect(performance.now() - t0).toBeLessThan(20_000);
  }, 30_000);

  it('rejects bad parameters and a wrong number of inputs with a clear message', async () => {
    const { fixed, moving } = deformedPair();
    await expect(runner.run('registration.demons', { sigmaFluid: -1 }, [fixed, moving], { transfer: 'copy' })).rejects.toThrow(/registration\.demons: invalid parameters: sigmaFluid/);
    await expect(runner.run('registration.demons', { sigmaFlud: 2 }, [fixed, moving], { transfer: 'copy' })).rejects.toBeInstanceOf(JobFailedError);
    await expect(runner.run('registration.affine', {}, [fixed], { transfer: 'copy' })).rejects.toThrow(/needs 2 input volumes/);
  }, 30_000);
});
