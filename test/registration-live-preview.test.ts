/**
 * The pure side of the live demons preview (src-shared/registration/preview-slice.ts): slice
 * axes and sampling, the Jacobian determinant on a slice against a known linear field, and
 * the planes of a DemonsPreview (displacement in preview pixels, update in mm).
 */
import { describe, expect, it } from 'vitest';
import { buildDemonsPreview, previewAxes, previewSampling, sliceField, sliceJacobian } from '../src-shared/registration/preview-slice';
import { isDemonsPreview, PREVIEW_MAX_SIDE } from '../src-shared/registration/preview';
import type { Vec3 } from '../src-shared/image/volume';

/** d(x) = A·x + b in voxel units, component-major 3n. */
function linearField(dims: Vec3, A: number[], b: Vec3 = [0, 0, 0]): Float32Array {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  const d = new Float32Array(3 * n);
  for (let k = 0, o = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, o++) for (let c = 0; c < 3; c++) d[c * n + o] = A[3 * c] * i + A[3 * c + 1] * j + A[3 * c + 2] * k + b[c];
  return d;
}

const det3 = (m: number[]) => m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);

describe('demons preview slice helpers', () => {
  it('axes: the two others in increasing order, then the normal', () => {
    expect(previewAxes(2)).toEqual([0, 1, 2]);
    expect(previewAxes(1)).toEqual([0, 2, 1]);
    expect(previewAxes(0)).toEqual([1, 2, 0]);
  });

  it('samples every step-th voxel, at most PREVIEW_MAX_SIDE a side, and clamps the slice', () => {
    expect(previewSampling([48, 40, 24], [0, 1, 2], 12)).toEqual({ axes: [0, 1, 2], k: 12, step: 1, width: 48, height: 40 });
    const s = previewSampling([600, 300, 20], [0, 1, 2], 99);
    expect(s.step).toBe(3);
    expect([s.width, s.height, s.k]).toEqual([200, 100, 19]);
    const t = previewSampling([20, 513, 700], [1, 2, 0], -4);
    expect(t.step).toBe(3);
    expect(Math.max(t.width, t.height)).toBeLessThanOrEqual(PREVIEW_MAX_SIDE);
    expect([t.width, t.height, t.k]).toEqual([171, 234, 0]);
  });

  it('Jacobian determinant on a slice equals det(I + A) of a linear field, borders included, for every axis', () => {
    const dims: Vec3 = [9, 7, 5];
    const A = [0.1, -0.2, 0.05, 0.3, -0.1, 0.15, -0.05, 0.2, 0.25];
    const want = det3([1 + A[0], A[1], A[2], A[3], 1 + A[4], A[5], A[6], A[7], 1 + A[8]]);
    const d = linearField(dims, A, [1, -2, 0.5]);
    for (const axis of [0, 1, 2] as const) {
      for (const k of [0, 2, dims[axis] - 1]) {
        const s = previewSampling(dims, previewAxes(axis), k);
        const j = sliceJacobian(d, dims, s);
        expect(j.length).toBe(s.width * s.height);
        for (const v of j) expect(v).toBeCloseTo(want, 5);
      }
    }
    // A field varying only along k: a slice normal to k still sees ∂d/∂k.
    const dk = linearField(dims, [0, 0, 0, 0, 0, 0, 0, 0, -0.5]);
    const jk = sliceJacobian(dk, dims, previewSampling(dims, [0, 1, 2], 2));
    for (const v of jk) expect(v).toBeCloseTo(0.5, 6);
    // Non-linear: d_x = 0.01·i² at an interior voxel → 1 + 0.02·i (central difference is exact for a quadratic).
    const q = new Float32Array(3 * 9 * 7 * 5);
    for (let o = 0; o < 9 * 7 * 5; o++) q[o] = 0.01 * (o % 9) ** 2;
    const jq = sliceJacobian(q, dims, previewSampling(dims, [0, 1, 2], 1));
    expect(jq[4]).toBeCloseTo(1 + 0.02 * 4, 6);
  });

  it('builds a preview: planes of the stated size, displacement in preview pixels, update in mm', () => {
    const dims: Vec3 = [20, 12, 6];
    const n = 20 * 12 * 6;
    const F = new Float32Array(n).map((_, i) => i);
    const M = new Float32Array(n).map((_, i) => 2 * i);
    const d = linearField(dims, [0, 0, 0, 0, 0, 0, 0, 0, 0], [0.5, 0, 1]); // half a voxel along i, one along k
    const axes = previewAxes(1); // x = i, y = k, normal j
    const s = previewSampling(dims, axes, 3);
    const prev = sliceField(d, dims, s).map((v) => v * 0.5); // the last update was half the field
    const p = buildDemonsPreview({
      dims, spacing: [2, 3, 4], sampling: s, slice: 7, level: 2, levels: 3, iteration: 5, msd: 1.5,
      history: { msd: [3, 2, 1.5], level: [1, 1, 2] }, fixed: F, moving: M, field: d, previousField: prev,
    });
    expect(isDemonsPreview(p)).toBe(true);
    expect([p.width, p.height, p.axes, p.slice, p.pixelMm]).toEqual([20, 6, [1 - 1, 2, 1], 7, [2, 4]]);
    const fixed = new Float32Array(p.fixed), src = new Float32Array(p.source), warped = new Float32Array(p.warped);
    const disp = new Float32Array(p.displacement), upd = new Float32Array(p.update);
    // pixel (x = i = 3, y = k = 2) ↔ voxel (3, 3, 2)
    const px = 2 * 20 + 3, o = (2 * 12 + 3) * 20 + 3;
    expect(fixed[px]).toBe(F[o]);
    expect(src[px]).toBe(M[o]);
    // M is linear in the index: M(i + 0.5, j, k + 1) = 2·(o + 0.5 + 240)
    expect(warped[px]).toBeCloseTo(2 * (o + 0.5 + 240), 3);
    expect(disp[px]).toBeCloseTo(0.5, 6); // x = i component
    expect(disp[p.width * p.height + px]).toBeCloseTo(1, 6); // y = k component
    // update = half the field: (0.25 vox · 2 mm, 0, 0.5 vox · 4 mm) → √(0.25 + 4)
    expect(upd[px]).toBeCloseTo(Math.sqrt(0.25 + 4), 5);
    expect(new Float32Array(p.jacobian)[px]).toBeCloseTo(1, 6);
    expect(p.history).toEqual({ msd: [3, 2, 1.5], level: [1, 1, 2] });
  });
});
