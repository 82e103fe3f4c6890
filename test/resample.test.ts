import { describe, expect, it } from 'vitest';
import {
  gridIndexToWorld,
  gridWorldToIndex,
  invertAffine4,
  mulMat4,
  resampleToGeometry,
  sampleAtWorld,
  transformPoint4,
} from '../src-shared/image/resample';
import type { ImageGeometry, Mat3, Mat4, Vec3, Volume } from '../src-shared/image/volume';

/** Rotation about x by a, then about z by b: columns are the rotated axes. */
function rotXZ(a: number, b: number): Mat3 {
  const ca = Math.cos(a), sa = Math.sin(a), cb = Math.cos(b), sb = Math.sin(b);
  const rx = [1, 0, 0, 0, ca, -sa, 0, sa, ca];
  const rz = [cb, -sb, 0, sb, cb, 0, 0, 0, 1];
  const r: number[] = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) r.push(rz[i * 3] * rx[j] + rz[i * 3 + 1] * rx[3 + j] + rz[i * 3 + 2] * rx[6 + j]);
  return r as Mat3;
}

function makeVolume(g: ImageGeometry, f: (p: Vec3) => number, opts: Partial<Volume> = {}): Volume {
  const [nx, ny, nz] = g.dims;
  const data = new Float32Array(nx * ny * nz);
  const m = gridIndexToWorld(g);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) data[(k * ny + j) * nx + i] = f(transformPoint4(m, [i, j, k]));
  return { ...g, data, voxelType: 'float32', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {}, ...opts };
}

const deg = Math.PI / 180;
const srcGeom: ImageGeometry = {
  dims: [40, 36, 24],
  spacing: [1.2, 0.9, 2.5],
  origin: [-20, 14, -30],
  direction: rotXZ(12 * deg, -20 * deg),
};
const srcCenter = transformPoint4(gridIndexToWorld(srcGeom), [19.5, 17.5, 11.5]);

describe('index/world matrices', () => {
  it('round-trips oblique anisotropic geometry', () => {
    const a = gridIndexToWorld(srcGeom);
    const b = gridWorldToIndex(srcGeom);
    const p = transformPoint4(b, transformPoint4(a, [3.2, -1.5, 7.25]));
    expect(p[0]).toBeCloseTo(3.2, 10);
    expect(p[1]).toBeCloseTo(-1.5, 10);
    expect(p[2]).toBeCloseTo(7.25, 10);
    const id = mulMat4(a, invertAffine4(a));
    for (let i = 0; i < 16; i++) expect(id[i]).toBeCloseTo(i % 5 === 0 ? 1 : 0, 10);
    // origin is the centre of voxel 0; direction columns scaled by spacing
    expect(transformPoint4(a, [0, 0, 0])).toEqual(srcGeom.origin);
    const e2 = transformPoint4(a, [0, 0, 1]);
    const len = Math.hypot(e2[0] - srcGeom.origin[0], e2[1] - srcGeom.origin[1], e2[2] - srcGeom.origin[2]);
    expect(len).toBeCloseTo(2.5, 10);
  });
});

describe('resampleToGeometry', () => {
  it('identity resample reproduces the input exactly (linear and nearest)', () => {
    const v = makeVolume(srcGeom, (p) => Math.sin(p[0] * 0.1) + p[1] * 0.3 - p[2] * p[2] * 0.01);
    for (const interpolation of ['linear', 'nearest'] as const) {
      const out = resampleToGeometry(v, srcGeom, { interpolation });
      let maxErr = 0;
      for (let i = 0; i < out.length; i++) maxErr = Math.max(maxErr, Math.abs(out[i] - v.data[i]));
      expect(maxErr).toBeLessThan(1e-5);
    }
  });

  it('is exact for a linear function on an oblique grid rotated 30° about two axes', () => {
    const f = (p: Vec3) => 2 * p[0] - 0.5 * p[1] + 1.25 * p[2] + 7;
    const v = makeVolume(srcGeom, f);
    const target: ImageGeometry = {
      dims: [20, 18, 15],
      spacing: [0.8, 1.1, 1.3],
      origin: [0, 0, 0],
      direction: rotXZ(30 * deg, 30 * deg),
    };
    // centre the target grid on the source centre
    const tc = transformPoint4(gridIndexToWorld(target), [9.5, 8.5, 7]);
    target.origin = [srcCenter[0] - tc[0], srcCenter[1] - tc[1], srcCenter[2] - tc[2]];
    const out = resampleToGeometry(v, target, { fill: -1e9 });
    const t2w = gridIndexToWorld(target);
    let checked = 0;
    for (let k = 0; k < 15; k++)
      for (let j = 0; j < 18; j++)
        for (let i = 0; i < 20; i++) {
          const o = out[(k * 18 + j) * 20 + i];
          expect(o).not.toBe(-1e9); // the whole target lies inside the source
          expect(o).toBeCloseTo(f(transformPoint4(t2w, [i, j, k])), 3);
          checked++;
        }
    expect(checked).toBe(20 * 18 * 15);
  });

  it('rotating 30° about two axes and back recovers a smooth image', () => {
    const f = (p: Vec3) => 100 * Math.exp(-((p[0] - srcCenter[0]) ** 2 + (p[1] - srcCenter[1]) ** 2 + (p[2] - srcCenter[2]) ** 2) / (2 * 8 * 8));
    const v = makeVolume(srcGeom, f);
    const rotated: ImageGeometry = { dims: [60, 60, 60], spacing: [0.7, 0.7, 0.7], origin: [0, 0, 0], direction: rotXZ(30 * deg, 30 * deg) };
    const rc = transformPoint4(gridIndexToWorld(rotated), [29.5, 29.5, 29.5]);
    rotated.origin = [srcCenter[0] - rc[0], srcCenter[1] - rc[1], srcCenter[2] - rc[2]];
    const there: Volume = { ...rotated, data: resampleToGeometry(v, rotated), voxelType: 'float32', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
    const back = resampleToGeometry(there, srcGeom);
    // compare within 10 mm of the centre (inside both grids)
    const i2w = gridIndexToWorld(srcGeom);
    let maxErr = 0, n = 0;
    for (let k = 0; k < 24; k++)
      for (let j = 0; j < 36; j++)
        for (let i = 0; i < 40; i++) {
          const p = transformPoint4(i2w, [i, j, k]);
          if (Math.hypot(p[0] - srcCenter[0], p[1] - srcCenter[1], p[2] - srcCenter[2]) > 10) continue;
          const idx = (k * 36 + j) * 40 + i;
          maxErr = Math.max(maxErr, Math.abs(back[idx] - v.data[idx]));
          n++;
        }
    expect(n).toBeGreaterThan(500);
    expect(maxErr).toBeLessThan(1.5); // 1.5 % of the peak after two trilinear passes
  });

  it('applies a world transform (pull-back): a known translation shifts the image', () => {
    const v = makeVolume(srcGeom, (p) => Math.cos(p[0] * 0.2) * 50 + p[2]);
    // translation by exactly 3 voxels along i, 1 along k: world vector D·diag(s)·(3,0,1)
    const a = gridIndexToWorld(srcGeom);
    const t: Vec3 = [3 * a[0] + a[2], 3 * a[4] + a[6], 3 * a[8] + a[10]];
    const w: Mat4 = [1, 0, 0, t[0], 0, 1, 0, t[1], 0, 0, 1, t[2], 0, 0, 0, 1];
    const out = resampleToGeometry(v, srcGeom, { worldTransform: w, fill: -5 });
    const [nx, ny, nz] = srcGeom.dims;
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          const o = out[(k * ny + j) * nx + i];
          if (i + 3 < nx && k + 1 < nz) expect(o).toBeCloseTo(v.data[((k + 1) * ny + j) * nx + i + 3], 3);
          else expect(o).toBe(-5);
        }
  });

  it('applies rescale slope/intercept, nearest neighbour, frames and a caller buffer', () => {
    const g: ImageGeometry = { dims: [4, 3, 2], spacing: [2, 1, 3], origin: [1, 2, 3], direction: [0, 1, 0, -1, 0, 0, 0, 0, 1] };
    const data = new Int16Array(48);
    for (let i = 0; i < 48; i++) data[i] = i;
    const v: Volume = { ...g, data, voxelType: 'int16', frames: 2, rescaleSlope: 2, rescaleIntercept: -10, metadata: {} };
    const out = new Float32Array(24);
    const r = resampleToGeometry(v, g, { frame: 1, interpolation: 'nearest', out });
    expect(r).toBe(out);
    for (let i = 0; i < 24; i++) expect(r[i]).toBe((24 + i) * 2 - 10);
    // half a voxel beyond the edge is still inside; further is fill (in real units)
    const shifted = resampleToGeometry(v, g, { worldTransform: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 4, 0, 0, 0, 1], fill: -1000 });
    for (let i = 0; i < 12; i++) expect(shifted[i]).toBeCloseTo(data[12 + i] * 2 - 10, 4); // 4 mm = 1.33 slices: clamps at k=1
    expect(() => resampleToGeometry(v, g, { frame: 2 })).toThrow(/frame/);
  });
});

describe('sampleAtWorld', () => {
  it('interpolates at a world point and returns NaN outside', () => {
    const f = (p: Vec3) => 3 * p[0] + 2 * p[1] - p[2];
    const v = makeVolume(srcGeom, f);
    const p = transformPoint4(gridIndexToWorld(srcGeom), [10.3, 7.7, 5.2]);
    expect(sampleAtWorld(v, p)).toBeCloseTo(f(p), 3);
    const q = transformPoint4(gridIndexToWorld(srcGeom), [10.3, 7.7, 30]);
    expect(sampleAtWorld(v, q)).toBeNaN();
    const nn = sampleAtWorld(v, p, 'nearest');
    expect(nn).toBeCloseTo(v.data[(5 * 36 + 8) * 40 + 10], 4);
  });
});
