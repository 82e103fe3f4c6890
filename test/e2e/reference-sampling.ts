/**
 * The end-to-end tests' own reference sampling (independent of the app's resampler): the
 * continuous voxel index of a world point and trilinear interpolation in real values, to
 * compare with what the cursor inspector shows.
 */
import { expect } from 'vitest';
import type { Vec3, Volume } from '../../src-shared/image/volume';

/** Solves p = origin + D·diag(spacing)·ijk for ijk (Cramer's rule). */
export function continuousIndex(v: Volume, p: Vec3): Vec3 {
  const m = [0, 1, 2].map((r) => [0, 1, 2].map((c) => v.direction[r * 3 + c] * v.spacing[c]));
  const det3 = (a: number[][]) =>
    a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
  const q = [p[0] - v.origin[0], p[1] - v.origin[1], p[2] - v.origin[2]];
  const det = det3(m);
  return [0, 1, 2].map((k) => det3(m.map((row, r) => row.map((x, c) => (c === k ? q[r] : x)))) / det) as Vec3;
}

export function stored(v: Volume, i: number, j: number, k: number): number {
  return v.data[i + j * v.dims[0] + k * v.dims[0] * v.dims[1]];
}

/** Our own trilinear interpolation (real values) at an interior continuous index. */
export function trilinear(v: Volume, ijk: Vec3): number {
  for (let a = 0; a < 3; a++) expect(ijk[a] >= 0 && ijk[a] <= v.dims[a] - 1, `index ${ijk} inside`).toBe(true);
  const i0 = Math.min(Math.floor(ijk[0]), v.dims[0] - 2);
  const j0 = Math.min(Math.floor(ijk[1]), v.dims[1] - 2);
  const k0 = Math.min(Math.floor(ijk[2]), v.dims[2] - 2);
  const [fx, fy, fz] = [ijk[0] - i0, ijk[1] - j0, ijk[2] - k0];
  let s = 0;
  for (let dz = 0; dz < 2; dz++)
    for (let dy = 0; dy < 2; dy++)
      for (let dx = 0; dx < 2; dx++) {
        const w = (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy) * (dz ? fz : 1 - fz);
        s += w * stored(v, i0 + dx, j0 + dy, k0 + dz);
      }
  return s * v.rescaleSlope + v.rescaleIntercept;
}
