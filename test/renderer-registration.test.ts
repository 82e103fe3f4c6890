// A layer's registration transform (pull-back: display world → layer world) in plane sampling
// and the cursor value, on an oblique anisotropic display grid and an oblique layer grid.
import { describe, expect, it } from 'vitest';
import type { Mat4, Vec3 } from '../src-shared/image/volume';
import { gridToWorld, indexToWorld, sliceGrid, worldToContinuousIndex, VIEW_NAMES } from '../src-renderer/rendering/slice-geometry';
import { checkerLayer, layerValueAt, samplePlane } from '../src-renderer/rendering/layer-plane';
import { forwardMatrix, imageCentre, paramsFromPullBack, pullBackMatrix, rotationMatrix } from '../src-renderer/registration/rigid';
import { mat4Multiply, mat4TransformPoint } from '../src-shared/geometry/mat';
import { axisRotation, sampleVolume } from './registration-helpers';

// Linear in world position: trilinear interpolation reproduces it exactly.
const f = (p: Vec3) => 3 * p[0] - 2 * p[1] + 0.5 * p[2] + 7;
const main = sampleVolume({ dims: [40, 36, 12], spacing: [0.9, 1.1, 3], origin: [-20, -15, -10], direction: axisRotation([0.2, 1, 0.3], 0.25) }, () => 0);
const layer = sampleVolume({ dims: [34, 30, 28], spacing: [1.3, 0.8, 1.7], origin: [-22, -12, -24], direction: axisRotation([1, -0.4, 0.6], -0.5) }, f);

describe('rigid parameters ↔ matrices', () => {
  it('a pure translation moves the image by t: pull-back is x − t', () => {
    const M = pullBackMatrix({ tx: 5, ty: -3, tz: 2, rx: 0, ry: 0, rz: 0 }, [10, 20, 30])!;
    expect(mat4TransformPoint(M, [1, 2, 3]).map((v) => +v.toFixed(9))).toEqual([-4, 5, 1]);
  });
  it('rotation about z by 90°: L axis goes to P; the centre stays put', () => {
    const c: Vec3 = [10, -5, 3];
    const F = forwardMatrix({ tx: 0, ty: 0, tz: 0, rx: 0, ry: 0, rz: 90 }, c);
    const a = mat4TransformPoint(F, [c[0] + 1, c[1], c[2]]);
    expect(a[0]).toBeCloseTo(c[0], 9);
    expect(a[1]).toBeCloseTo(c[1] + 1, 9);
    const b = mat4TransformPoint(F, c);
    for (let i = 0; i < 3; i++) expect(b[i]).toBeCloseTo(c[i], 9);
  });
  it('params → pull-back → params round-trips (all six non-zero), identity gives undefined', () => {
    const p = { tx: 3.5, ty: -7.25, tz: 1.5, rx: 12, ry: -20, rz: 33 };
    const c: Vec3 = [4, -8, 15];
    const back = paramsFromPullBack(pullBackMatrix(p, c)!, c)!;
    for (const k of Object.keys(p) as (keyof typeof p)[]) expect(back[k]).toBeCloseTo(p[k], 8);
    expect(pullBackMatrix({ tx: 0, ty: 0, tz: 0, rx: 0, ry: 0, rz: 0 }, c)).toBeUndefined();
    const R = rotationMatrix(10, 20, 30);
    const det = R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) + R[2] * (R[3] * R[7] - R[4] * R[6]);
    expect(det).toBeCloseTo(1, 12);
    const scaled: Mat4 = [2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
    expect(paramsFromPullBack(scaled, c)).toBeNull();
  });
});

describe('layer world transform in plane sampling and cursor values', () => {
  const through: Vec3 = indexToWorld(main, [17, 21, 6]);
  const centre = imageCentre(main);
  const cases = [
    { name: 'translation', p: { tx: 4.5, ty: -3.2, tz: 2.75, rx: 0, ry: 0, rz: 0 } },
    { name: 'rotation + translation', p: { tx: 1.5, ty: 2, tz: -1, rx: 8, ry: -5, rz: 15 } },
  ];
  for (const { name, p } of cases) {
    it(`${name}: every plane pixel equals the layer's function at M·x (all views)`, () => {
      const M = pullBackMatrix(p, centre)!;
      for (const view of VIEW_NAMES) {
        const grid = sliceGrid(main, view);
        const vals = samplePlane(layer, grid, through, 'linear', 0, undefined, M);
        const plain = samplePlane(layer, grid, through, 'linear');
        let inside = 0;
        let changed = 0;
        for (let r = 0; r < grid.height; r++)
          for (let c = 0; c < grid.width; c++) {
            const x = gridToWorld(grid, c, r, through);
            const y = mat4TransformPoint(M, x);
            const ijk = worldToContinuousIndex(layer, y);
            if (!ijk.every((v, a) => v >= 0 && v <= layer.dims[a] - 1)) continue;
            inside++;
            const v = vals[r * grid.width + c];
            expect(Math.abs(v - f(y))).toBeLessThan(2e-3 * Math.max(1, Math.abs(f(y))));
            if (Math.abs(v - plain[r * grid.width + c]) > 1) changed++;
          }
        expect(inside, view).toBeGreaterThan(50);
        expect(changed, view).toBeGreaterThan(inside / 2);
      }
    });
  }
  it('cursor value: layerValueAt with the transform reads the layer at M·x (translation: value shifts by f(−t) − f(0))', () => {
    const t = { tx: 4, ty: -2, tz: 3, rx: 0, ry: 0, rz: 0 };
    const M = pullBackMatrix(t, centre)!;
    const x: Vec3 = [1.3, -2.7, 4.1];
    const moved = layerValueAt(layer, x, 'linear', 0, M);
    const still = layerValueAt(layer, x, 'linear');
    // f is linear: f(x − t) = f(x) − (3·4 − 2·(−2) + 0.5·3) = f(x) − 17.5
    expect(moved.value - still.value).toBeCloseTo(-17.5, 2);
    const back = indexToWorld(layer, moved.index);
    for (let a = 0; a < 3; a++) expect(back[a]).toBeCloseTo([x[0] - 4, x[1] + 2, x[2] - 3][a], 9);
    // Composition: applying M twice equals the pull-back of twice the translation.
    const M2 = pullBackMatrix({ ...t, tx: 8, ty: -4, tz: 6 }, centre)!;
    const MM = mat4Multiply(M, M);
    for (let i = 0; i < 16; i++) expect(MM[i]).toBeCloseTo(M2[i], 9);
  });
});

describe('checkerboard compare', () => {
  it('writes the colour-mapped layer opaque on alternate squares only, and skips NaN', () => {
    const w = 8, h = 6, tile = 2;
    const values = new Float32Array(w * h).fill(200); // top of the window: LUT entry 255
    values[1 * w + 2] = NaN; // (c=2, r=1): an odd square, but outside the layer
    const lut = new Uint8ClampedArray(256 * 4);
    for (let k = 0; k < 256; k++) lut.set([k, k, k, 255], k * 4);
    const dst = new Uint8ClampedArray(w * h * 4).fill(7);
    const n = checkerLayer(values, { slope: 1, intercept: 0, window: 200, level: 100, lut }, w, tile, dst);
    let written = 0;
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++) {
        const odd = (Math.floor(c / tile) + Math.floor(r / tile)) % 2 === 1;
        const px = dst[(r * w + c) * 4];
        if (odd && !(c === 2 && r === 1)) {
          expect(px, `${c},${r}`).toBe(255);
          written++;
        } else expect(px, `${c},${r}`).toBe(7);
      }
    expect(n).toBe(written);
    expect(written).toBe(w * h / 2 - 1);
  });
});
