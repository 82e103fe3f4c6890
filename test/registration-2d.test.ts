/**
 * Rigid and affine registration of two 2D frames read from PNG (the same engine the app's
 * Registration panel runs as a job): the recovered pull-back maps fixed points to their
 * moving points and leaves the third axis alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Volume } from '../src-shared/image/volume';
import { readImageFile, writeImageFile } from '../src-main/io/image-file';
import { registerAffine } from '../src-shared/registration/affine';

const N = 128;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lattice-reg2d-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A frame with structure at every scale: body ellipse, two discs, a bar, texture. */
function value(x: number, y: number): number {
  let v = ((x - 64) / 52) ** 2 + ((y - 66) / 42) ** 2 < 1 ? 90 + 25 * Math.sin(x / 6) * Math.cos(y / 9) : 10;
  if (Math.hypot(x - 50, y - 60) < 16) v = 220;
  if (Math.hypot(x - 85, y - 75) < 8) v = 170;
  if (Math.abs(y - 95) < 3 && Math.abs(x - 70) < 25) v = 200;
  return v;
}

/** moving(R(p − c) + c + t) = fixed(p), i.e. the pull-back fixed → moving is p ↦ R(p − c) + c + t. */
function frames(angle: number, t: [number, number]): [Volume, Volume] {
  const c = [63.5, 63.5];
  const cs = Math.cos(angle), sn = Math.sin(angle);
  const f = new Uint8Array(N * N), m = new Uint8Array(N * N);
  for (let y = 0; y < N; y++)
    for (let x = 0; x < N; x++) {
      f[y * N + x] = Math.round(value(x, y));
      // moving at q: find p with q = R(p − c) + c + t → p = Rᵀ(q − c − t) + c.
      const qx = x - c[0]! - t[0], qy = y - c[1]! - t[1];
      m[y * N + x] = Math.round(value(cs * qx + sn * qy + c[0]!, -sn * qx + cs * qy + c[1]!));
    }
  const pic = (data: Uint8Array): Volume => ({ dims: [N, N, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} });
  return [pic(f), pic(m)];
}

describe('2D registration of PNG frames', () => {
  for (const kind of ['rigid', 'affine'] as const) {
    it(`${kind}: recovers a rotation of 6° and a shift of (5, −3) px`, async () => {
      const angle = (6 * Math.PI) / 180;
      const [f, m] = frames(angle, [5, -3]);
      await writeImageFile(join(dir, `f-${kind}.png`), f);
      await writeImageFile(join(dir, `m-${kind}.png`), m);
      const fixed = (await readImageFile(join(dir, `f-${kind}.png`))).volume;
      const moving = (await readImageFile(join(dir, `m-${kind}.png`))).volume;
      const r = await registerAffine(fixed, moving, { transform: kind, metric: 'msd' });
      const M = r.matrixLps;
      const cs = Math.cos(angle), sn = Math.sin(angle);
      for (const [x, y] of [[30, 40], [64, 64], [100, 90]] as const) {
        const got = [M[0]! * x + M[1]! * y + M[3]!, M[4]! * x + M[5]! * y + M[7]!];
        const want = [cs * (x - 63.5) - sn * (y - 63.5) + 63.5 + 5, sn * (x - 63.5) + cs * (y - 63.5) + 63.5 - 3];
        expect(Math.hypot(got[0]! - want[0]!, got[1]! - want[1]!), `point (${x}, ${y}): ${got} vs ${want}`).toBeLessThan(0.6);
      }
      // Nothing happens along z in 2D.
      expect([M[2], M[6], M[8], M[9], M[10], M[11]].map((v) => +v!.toFixed(9))).toEqual([0, 0, 0, 0, 1, 0]);
      expect(r.metrics.after).toBeLessThan(0.2 * r.metrics.before);
    });
  }
});
