import { describe, expect, it } from 'vitest';
import { registerAffine } from '../src-shared/registration/affine';
import { flipWorldMatrixLpsRas, formatItkAffine, parseItkAffine } from '../src-shared/registration/itk-transform';
import { transformPoint4 } from '../src-shared/image/resample';
import type { Mat4, Vec3 } from '../src-shared/image/volume';
import { centredGeometry, ctPhantom, petPhantom, rigidMatrix, rotationMatrix, sampleVolume } from './registration-helpers';

const deg = Math.PI / 180;

/** Largest distance between where two transforms send points of a 100 mm box. */
function maxPointError(a: Mat4, b: Mat4): number {
  let e = 0;
  for (const x of [-50, 0, 50]) for (const y of [-50, 0, 50]) for (const z of [-50, 0, 50]) {
    const p = transformPoint4(a, [x, y, z]), q = transformPoint4(b, [x, y, z]);
    e = Math.max(e, Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
  }
  return e;
}

/** Angle (degrees) of the rotation between the linear parts of two rigid matrices. */
function rotationErrorDeg(a: Mat4, b: Mat4): number {
  // trace(Aᵀ B) = 1 + 2 cos θ
  let tr = 0;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) tr += a[r * 4 + c] * b[r * 4 + c];
  return Math.acos(Math.max(-1, Math.min(1, (tr - 1) / 2))) / deg;
}

// Fixed: oblique, anisotropic grid. Moving: a different, axis-aligned grid, off-centre.
const fixedGeom = centredGeometry([64, 56, 48], [2.5, 2.8, 3.5], rotationMatrix(10 * deg, 0, -15 * deg));
const movingGeom = { ...centredGeometry([60, 60, 50], [2.6, 2.6, 3]), origin: [-75, -80, -72] as Vec3 };

function pair(truth: Mat4, fixedFn: (p: Vec3) => number, movingFn: (p: Vec3) => number) {
  // fixed(x) = P(T x), moving(y) = P(y): T (fixed → moving) is the answer.
  const fixed = sampleVolume(fixedGeom, (p) => fixedFn(transformPoint4(truth, p)));
  const moving = sampleVolume(movingGeom, movingFn);
  return { fixed, moving };
}

describe('registerAffine', () => {
  const truth = rigidMatrix([3, -4, 6], [6, -5, 4]);

  it('recovers a known rotation and shift within 0.5 mm and 0.5° (MSD)', async () => {
    const { fixed, moving } = pair(truth, ctPhantom, ctPhantom);
    const r = await registerAffine(fixed, moving, { transform: 'rigid', metric: 'msd' });
    expect(maxPointError(r.matrixLps, truth)).toBeLessThan(0.5);
    expect(rotationErrorDeg(r.matrixLps, truth)).toBeLessThan(0.5);
    expect(r.metrics.after).toBeLessThan(r.metrics.before / 20);
    // RAS matrix: the same map with x, y negated on both sides
    const pr = transformPoint4(r.matrixRas, [-10, -20, 30]);
    const pl = transformPoint4(r.matrixLps, [10, 20, 30]);
    expect(pr[0]).toBeCloseTo(-pl[0], 6);
    expect(pr[1]).toBeCloseTo(-pl[1], 6);
    expect(pr[2]).toBeCloseTo(pl[2], 6);
  });

  it('recovers the same rigid motion with NCC and with centres-of-mass initialisation', async () => {
    const { fixed, moving } = pair(truth, ctPhantom, ctPhantom);
    const r = await registerAffine(fixed, moving, { transform: 'rigid', metric: 'ncc', init: 'moments' });
    expect(maxPointError(r.matrixLps, truth)).toBeLessThan(0.5);
    expect(rotationErrorDeg(r.matrixLps, truth)).toBeLessThan(0.5);
  });

  it('aligns a CT-like fixed with a PET-like moving image using mutual information', async () => {
    const { fixed, moving } = pair(truth, ctPhantom, petPhantom);
    const r = await registerAffine(fixed, moving, { transform: 'rigid', metric: 'mi' });
    // MI is biased by partial-volume differences between the two mappings; 2.5 mm over a
    // 100 mm box is well inside a PET voxel (4 mm). Before registration: > 10 mm.
    expect(maxPointError(r.matrixLps, truth)).toBeLessThan(2.5);
    expect(rotationErrorDeg(r.matrixLps, truth)).toBeLessThan(1.5);
    expect(r.metrics.after).toBeLessThan(r.metrics.before); // −MI decreased
  });

  it('recovers an affine map with scaling and shear (NCC)', async () => {
    const A: Mat4 = rigidMatrix([2, 0, -3], [3, 2, -4]);
    // add 6 % scaling along x and a small shear
    const S = [1.06, 0.03, 0, 0, 1, 0, 0, 0, 0.97];
    const M: Mat4 = A.slice();
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) M[r * 4 + c] = A[r * 4] * S[c] + A[r * 4 + 1] * S[3 + c] + A[r * 4 + 2] * S[6 + c];
    const { fixed, moving } = pair(M, ctPhantom, ctPhantom);
    const r = await registerAffine(fixed, moving, { transform: 'affine', metric: 'ncc' });
    expect(maxPointError(r.matrixLps, M)).toBeLessThan(1.0);
  });

  it('stops when cancelled', async () => {
    const { fixed, moving } = pair(truth, ctPhantom, ctPhantom);
    const ac = new AbortController();
    ac.abort();
    await expect(registerAffine(fixed, moving, { metric: 'mi' }, { signal: ac.signal })).rejects.toThrow(/cancelled/);
  });
});

describe('ITK transform files', () => {
  it('writes the ITK affine text and reads it back', () => {
    const m = rigidMatrix([10, -5, 20], [1.5, -2.25, 3]);
    const text = formatItkAffine(m);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('#Insight Transform File V1.0');
    expect(lines[1]).toBe('#Transform 0');
    expect(lines[2]).toBe('Transform: AffineTransform_double_3_3');
    expect(lines[3]).toMatch(/^Parameters: (\S+ ){11}\S+$/);
    expect(lines[4]).toBe('FixedParameters: 0 0 0');
    const back = parseItkAffine(text);
    for (let i = 0; i < 16; i++) expect(back[i]).toBeCloseTo(m[i], 12);
  });

  it('honours a centre of rotation (FixedParameters) when reading', () => {
    // y = A(x − c) + c + t  with A = 90° about z, c = (10, 0, 0), t = 0: c is a fixed point.
    const text = '#Insight Transform File V1.0\n#Transform 0\nTransform: AffineTransform_double_3_3\nParameters: 0 -1 0 1 0 0 0 0 1 0 0 0\nFixedParameters: 10 0 0\n';
    const m = parseItkAffine(text);
    expect(transformPoint4(m, [10, 0, 0])).toEqual([10, 0, 0]);
    const p = transformPoint4(m, [11, 0, 0]);
    expect(p[0]).toBeCloseTo(10, 12);
    expect(p[1]).toBeCloseTo(1, 12);
    expect(() => parseItkAffine('Transform: Euler3DTransform_double_3_3\nParameters: 0 0 0 0 0 0\n')).toThrow(/unsupported/);
  });

  it('converts world matrices between LPS and RAS', () => {
    const m = rigidMatrix([0, 0, 30], [5, 6, 7]);
    const ras = flipWorldMatrixLpsRas(m);
    const p = transformPoint4(m, [1, 2, 3]);
    const q = transformPoint4(ras, [-1, -2, 3]);
    expect(q[0]).toBeCloseTo(-p[0], 12);
    expect(q[1]).toBeCloseTo(-p[1], 12);
    expect(q[2]).toBeCloseTo(p[2], 12);
    expect(flipWorldMatrixLpsRas(ras)).toEqual(m);
  });
});
