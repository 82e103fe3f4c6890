import { describe, expect, it } from 'vitest';
import type { ImageGeometry, Mat3, Mat4, Vec3 } from '../src-shared/image/volume';
import {
  mat3Determinant,
  mat3Identity,
  mat3Invert,
  mat3Multiply,
  mat3Transpose,
  mat4Identity,
  mat4Invert,
  mat4Multiply,
  mat4TransformPoint,
  mat4TransformVector,
} from '../src-shared/geometry/mat';
import {
  flipAxisGeometry,
  flipLpsRasMatrix,
  indexToWorld,
  indexToWorldMatrix,
  isOblique,
  lpsToRas,
  orientationCode,
  worldBounds,
  worldToIndex,
  worldToIndexMatrix,
} from '../src-shared/geometry/geometry';
import {
  affineToQuaternion,
  geometryToNiftiAffine,
  isQuaternionRepresentable,
  mat33Polar,
  niftiAffineToGeometry,
  quaternionToAffine,
} from '../src-shared/geometry/nifti-transform';

const deg = Math.PI / 180;

function rotX(a: number): Mat3 {
  const c = Math.cos(a), s = Math.sin(a);
  return [1, 0, 0, 0, c, -s, 0, s, c];
}
function rotY(a: number): Mat3 {
  const c = Math.cos(a), s = Math.sin(a);
  return [c, 0, s, 0, 1, 0, -s, 0, c];
}
function rotZ(a: number): Mat3 {
  const c = Math.cos(a), s = Math.sin(a);
  return [c, -s, 0, s, c, 0, 0, 0, 1];
}
/** Rotation by angle about a unit axis (Rodrigues). */
function rotAxis(axis: Vec3, a: number): Mat3 {
  const n = Math.hypot(...axis);
  const [x, y, z] = axis.map((v) => v / n);
  const c = Math.cos(a), s = Math.sin(a), t = 1 - c;
  return [t * x * x + c, t * x * y - s * z, t * x * z + s * y, t * x * y + s * z, t * y * y + c, t * y * z - s * x, t * x * z - s * y, t * y * z + s * x, t * z * z + c];
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-9): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i] - expected[i]) > tol) {
      throw new Error(`element ${i}: ${actual[i]} vs ${expected[i]} (tol ${tol})\nactual   ${Array.from(actual).join(', ')}\nexpected ${Array.from(expected).join(', ')}`);
    }
  }
}

/** Oblique (rotations about two axes), anisotropic geometry used throughout. */
const OBLIQUE: ImageGeometry = {
  dims: [7, 5, 4],
  spacing: [0.7, 1.3, 3.1],
  origin: [12.5, -30.25, 41],
  direction: mat3Multiply(rotX(20 * deg), rotZ(-35 * deg)),
};

describe('mat helpers', () => {
  it('multiply, invert and transform 4×4 affine matrices', () => {
    const a: Mat4 = [2, 0.5, 0, 1, 0, 3, 0.25, -2, 0.1, 0, 1.5, 4, 0, 0, 0, 1];
    expectClose(mat4Multiply(a, mat4Invert(a)), mat4Identity(), 1e-12);
    expectClose(mat4Multiply(mat4Invert(a), a), mat4Identity(), 1e-12);
    expectClose(mat4TransformPoint(a, [1, 2, 3]), [2 + 1 + 0 + 1, 6 + 0.75 - 2, 0.1 + 4.5 + 4]);
    expectClose(mat4TransformVector(a, [1, 2, 3]), [3, 6.75, 4.6]);
    expect(() => mat4Invert([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])).toThrow(/singular/);
  });

  it('3×3 multiply, transpose, invert, determinant', () => {
    const r = mat3Multiply(rotX(0.3), rotY(-1.1));
    expectClose(mat3Multiply(r, mat3Transpose(r)), mat3Identity(), 1e-12);
    expect(mat3Determinant(r)).toBeCloseTo(1, 12);
    const m: Mat3 = [2, 1, 0, 0, 3, 1, 1, 0, 4];
    expect(mat3Determinant(m)).toBeCloseTo(2 * 12 - 1 * -1, 12);
    expectClose(mat3Multiply(m, mat3Invert(m)), mat3Identity(), 1e-12);
    expectClose(mat3Transpose([1, 2, 3, 4, 5, 6, 7, 8, 9]), [1, 4, 7, 2, 5, 8, 3, 6, 9], 0);
  });
});

describe('index ↔ world', () => {
  it('gives the known world position of a voxel in an oblique, anisotropic geometry', () => {
    const d = OBLIQUE.direction;
    const col = (c: number): Vec3 => [d[c], d[3 + c], d[6 + c]];
    const ijk: Vec3 = [2, 3, 4];
    // origin + 2·0.7·col0 + 3·1.3·col1 + 4·3.1·col2, written out independently
    const expected = [0, 1, 2].map((r) => OBLIQUE.origin[r] + 1.4 * col(0)[r] + 3.9 * col(1)[r] + 12.4 * col(2)[r]);
    expectClose(indexToWorld(OBLIQUE, ijk), expected, 1e-12);
    // Rx(20°)·Rz(-35°) evaluated by hand for the first column: (cos35, -sin35·cos20, -sin35·sin20)
    expectClose(col(0), [Math.cos(35 * deg), -Math.sin(35 * deg) * Math.cos(20 * deg), -Math.sin(35 * deg) * Math.sin(20 * deg)], 1e-12);
    expectClose(indexToWorld(OBLIQUE, [0, 0, 0]), OBLIQUE.origin, 0);
    expectClose(mat4TransformPoint(indexToWorldMatrix(OBLIQUE), ijk), expected, 1e-12);
  });

  it('round-trips index → world → index (continuous) and the matrices are inverse', () => {
    for (const ijk of [[0, 0, 0], [6, 4, 3], [1.25, -3.5, 7.75], [100, 0.5, -20]] as Vec3[]) {
      expectClose(worldToIndex(OBLIQUE, indexToWorld(OBLIQUE, ijk)), ijk, 1e-10);
    }
    expectClose(mat4Multiply(worldToIndexMatrix(OBLIQUE), indexToWorldMatrix(OBLIQUE)), mat4Identity(), 1e-12);
    // One voxel step along i moves spacing[0] mm in world.
    const a = indexToWorld(OBLIQUE, [3, 2, 1]);
    const b = indexToWorld(OBLIQUE, [4, 2, 1]);
    expect(Math.hypot(b[0] - a[0], b[1] - a[1], b[2] - a[2])).toBeCloseTo(0.7, 12);
  });

  it('converts LPS ↔ RAS', () => {
    expect(lpsToRas([1, 2, 3])).toEqual([-1, -2, 3]);
    expect(lpsToRas(lpsToRas([1.5, -2, 3]))).toEqual([1.5, -2, 3]);
    const m = indexToWorldMatrix(OBLIQUE);
    const f = flipLpsRasMatrix(m);
    expectClose(f.slice(0, 8), m.slice(0, 8).map((v) => -v), 0);
    expectClose(f.slice(8), m.slice(8), 0);
    expectClose(flipLpsRasMatrix(f), m, 0);
    // The flipped matrix maps an index to the RAS form of its LPS position.
    expectClose(mat4TransformPoint(f, [1, 2, 3]), lpsToRas(indexToWorld(OBLIQUE, [1, 2, 3])), 1e-12);
  });
});

describe('worldBounds', () => {
  it('is the box of the voxel-centre corners, or of the voxel edges', () => {
    const g: ImageGeometry = { dims: [10, 20, 5], spacing: [0.5, 2, 3], origin: [1, 2, 3], direction: [1, 0, 0, 0, -1, 0, 0, 0, 1] };
    expect(worldBounds(g)).toEqual({ min: [1, 2 - 38, 3], max: [1 + 4.5, 2, 3 + 12] });
    const e = worldBounds(g, { edges: true });
    expectClose(e.min, [0.75, 2 - 39, 1.5], 1e-12);
    expectClose(e.max, [1 + 4.75, 3, 3 + 13.5], 1e-12);
  });

  it('contains every corner of an oblique image and touches the extremes', () => {
    const b = worldBounds(OBLIQUE);
    const corners: Vec3[] = [];
    for (let c = 0; c < 8; c++) corners.push(indexToWorld(OBLIQUE, [c & 1 ? 6 : 0, c & 2 ? 4 : 0, c & 4 ? 3 : 0]));
    for (let a = 0; a < 3; a++) {
      expect(Math.min(...corners.map((p) => p[a]))).toBeCloseTo(b.min[a], 12);
      expect(Math.max(...corners.map((p) => p[a]))).toBeCloseTo(b.max[a], 12);
    }
    const e = worldBounds(OBLIQUE, { edges: true });
    for (let a = 0; a < 3; a++) {
      expect(e.min[a]).toBeLessThan(b.min[a]);
      expect(e.max[a]).toBeGreaterThan(b.max[a]);
    }
  });
});

describe('flipAxisGeometry', () => {
  for (const axis of [0, 1, 2] as const) {
    it(`keeps every voxel's world position when axis ${axis} is reversed`, () => {
      const f = flipAxisGeometry(OBLIQUE, axis);
      const n = OBLIQUE.dims[axis];
      for (let k = 0; k < OBLIQUE.dims[2]; k++)
        for (let j = 0; j < OBLIQUE.dims[1]; j++)
          for (let i = 0; i < OBLIQUE.dims[0]; i++) {
            const ijk: Vec3 = [i, j, k];
            const flipped: Vec3 = [i, j, k];
            flipped[axis] = n - 1 - ijk[axis];
            expectClose(indexToWorld(f, flipped), indexToWorld(OBLIQUE, ijk), 1e-10);
          }
      expect(mat3Determinant(f.direction)).toBeCloseTo(-mat3Determinant(OBLIQUE.direction), 12);
      expect(f.dims).toEqual(OBLIQUE.dims);
      expect(f.spacing).toEqual(OBLIQUE.spacing);
      const twice = flipAxisGeometry(f, axis);
      expectClose(twice.origin, OBLIQUE.origin, 1e-10);
      expectClose(twice.direction, OBLIQUE.direction, 0);
    });
  }
});

describe('orientation', () => {
  const geom = (direction: Mat3): ImageGeometry => ({ dims: [2, 2, 2], spacing: [1, 1, 1], origin: [0, 0, 0], direction });
  it('names the closest world axis each index axis points to', () => {
    expect(orientationCode(geom([1, 0, 0, 0, 1, 0, 0, 0, 1]))).toBe('LPS');
    expect(orientationCode(geom([1, 0, 0, 0, 1, 0, 0, 0, 1]), 'from')).toBe('RAI');
    expect(orientationCode(geom([-1, 0, 0, 0, -1, 0, 0, 0, 1]))).toBe('RAS');
    // DICOM coronal: row (1,0,0), column (0,0,-1), normal (0,1,0).
    expect(orientationCode(geom([1, 0, 0, 0, 0, 1, 0, -1, 0]))).toBe('LIP');
    // Sagittal: row (0,1,0), column (0,0,-1), normal (1,0,0)
    expect(orientationCode(geom([0, 0, 1, 1, 0, 0, 0, -1, 0]))).toBe('PIL');
    expect(orientationCode(OBLIQUE)).toBe('LPS');
    expect(orientationCode(geom(mat3Multiply(rotZ(170 * deg), rotX(8 * deg))))).toBe('RAS');
  });

  it('assigns distinct world axes even at 45°', () => {
    const code = orientationCode(geom(rotZ(45 * deg)));
    expect(new Set(code.split('').map((c) => 'LRPAIS'.indexOf(c) >> 1)).size).toBe(3);
  });

  it('detects obliquity with a tolerance', () => {
    expect(isOblique(geom([1, 0, 0, 0, 1, 0, 0, 0, 1]))).toBe(false);
    expect(isOblique(geom([0, 0, 1, 1, 0, 0, 0, -1, 0]))).toBe(false);
    expect(isOblique(geom(rotY(0.001 * deg)))).toBe(false);
    expect(isOblique(geom(rotY(0.5 * deg)))).toBe(true);
    expect(isOblique(geom(rotY(0.5 * deg)), 1)).toBe(false);
    expect(isOblique(OBLIQUE)).toBe(true);
  });
});

describe('NIfTI affine', () => {
  it('maps (i,j,k) to the RAS form of the LPS world position', () => {
    const a = geometryToNiftiAffine(OBLIQUE);
    for (const ijk of [[0, 0, 0], [6, 4, 3], [2, 1, 3]] as Vec3[]) {
      expectClose(mat4TransformPoint(a, ijk), lpsToRas(indexToWorld(OBLIQUE, ijk)), 1e-12);
    }
    expectClose(a.slice(12), [0, 0, 0, 1], 0);
  });

  it('round-trips geometry → affine → geometry', () => {
    for (const g of [OBLIQUE, flipAxisGeometry(OBLIQUE, 2), { ...OBLIQUE, direction: mat3Multiply(rotAxis([1, 2, 3], 2.5), rotZ(1)) }]) {
      const back = niftiAffineToGeometry(geometryToNiftiAffine(g), g.dims);
      expect(back.dims).toEqual(g.dims);
      expectClose(back.spacing, g.spacing, 1e-12);
      expectClose(back.origin, g.origin, 1e-12);
      expectClose(back.direction, g.direction, 1e-12);
    }
  });

  it('reads a plain RAS affine as LPS geometry', () => {
    // RAS affine diag(-2, 3, 4): i points to -R = Left, j to Anterior, k to Superior.
    const g = niftiAffineToGeometry([-2, 0, 0, 90, 0, 3, 0, -126, 0, 0, 4, -72, 0, 0, 0, 1], [10, 10, 10]);
    expect(g.spacing).toEqual([2, 3, 4]);
    // RAS (-1,0,0) = LPS (+1,0,0); RAS (0,1,0) = LPS (0,-1,0)
    expectClose(g.direction, [1, 0, 0, 0, -1, 0, 0, 0, 1], 0);
    expectClose(g.origin, [-90, 126, -72], 0);
    expect(orientationCode(g)).toBe('LAS');
  });

  it('survives a degenerate (zero) column', () => {
    const g = niftiAffineToGeometry([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], [2, 2, 1]);
    expect(g.spacing).toEqual([1, 1, 1]);
    expect(Math.abs(mat3Determinant(g.direction))).toBeCloseTo(1, 12);
  });
});

describe('NIfTI quaternion (nifti1_io.c)', () => {
  const withSpacing = (r: Mat3, s: Vec3, t: Vec3): Mat4 => [
    r[0] * s[0], r[1] * s[1], r[2] * s[2], t[0],
    r[3] * s[0], r[4] * s[1], r[5] * s[2], t[1],
    r[6] * s[0], r[7] * s[1], r[8] * s[2], t[2],
    0, 0, 0, 1,
  ];
  const spacing: Vec3 = [0.7, 1.3, 3.1];
  const rotations: [string, Mat3][] = [
    ['identity', mat3Identity()],
    ['two-axis oblique', mat3Multiply(rotX(20 * deg), rotZ(-35 * deg))],
    ['180° about x (a = 0)', rotX(Math.PI)],
    ['180° about y (a = 0)', rotY(Math.PI)],
    ['180° about z (a = 0)', rotZ(Math.PI)],
    ['180° about (1,1,0) (a = 0)', rotAxis([1, 1, 0], Math.PI)],
    ['179.99° about (1,-2,3)', rotAxis([1, -2, 3], 179.99 * deg)],
    ['120° about (1,1,1) (axis permutation)', rotAxis([1, 1, 1], 120 * deg)],
    ['random', rotAxis([0.3, -0.8, 0.52], 2.2)],
  ];

  for (const [name, r] of rotations) {
    for (const qfac of [1, -1] as const) {
      it(`round-trips affine → quaternion → affine: ${name}, qfac ${qfac}`, () => {
        // qfac -1: a left-handed frame, the third column flipped.
        const rr = r.slice() as Mat3;
        if (qfac < 0) for (let row = 0; row < 3; row++) rr[row * 3 + 2] = -rr[row * 3 + 2];
        const a = withSpacing(rr, spacing, [-10.5, 20.25, 33]);
        const q = affineToQuaternion(a);
        expect(q.qfac).toBe(qfac);
        expectClose(q.pixdim, spacing, 1e-12);
        expectClose([q.qx, q.qy, q.qz], [-10.5, 20.25, 33], 0);
        expect(q.b * q.b + q.c * q.c + q.d * q.d).toBeLessThanOrEqual(1 + 1e-12);
        // Within ~0.036° of 180°, nifti1_io sets a = 0 (a² < 1e-7: below what float32
        // b, c, d can resolve), an error of order a·spacing (here a ≈ 8.7e-5).
        const near180 = name.startsWith('179.99');
        expectClose(quaternionToAffine(q), a, near180 ? 2 * 8.8e-5 * 3.1 : 1e-9);
        expect(isQuaternionRepresentable(a)).toBe(true);
        // As stored in a file (float32): still within float precision.
        const f = { ...q, b: Math.fround(q.b), c: Math.fround(q.c), d: Math.fround(q.d) };
        expectClose(quaternionToAffine(f), a, near180 ? 2 * 8.8e-5 * 3.1 : 2e-6 * 3.1);
      });
    }
  }

  it('gives the textbook quaternions', () => {
    let q = affineToQuaternion(mat4Identity());
    expectClose([q.b, q.c, q.d, q.qfac], [0, 0, 0, 1], 0);
    q = affineToQuaternion([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1]);
    expectClose([q.b, q.c, q.d, q.qfac], [0, 0, 0, -1], 0);
    q = affineToQuaternion(withSpacing(rotX(Math.PI), [1, 1, 1], [0, 0, 0]));
    expectClose([q.b, q.c, q.d], [1, 0, 0], 1e-12);
    q = affineToQuaternion(withSpacing(rotZ(90 * deg), [1, 1, 1], [0, 0, 0]));
    expectClose([q.b, q.c, q.d], [0, 0, Math.SQRT1_2], 1e-12);
    // dcm2niix's usual axial LPS→RAS image: diag(-1,-1,1) is 180° about z.
    q = affineToQuaternion([-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    expectClose([q.b, q.c, q.d, q.qfac], [0, 0, 1, 1], 1e-12);
  });

  it('treats |(b,c,d)| ≥ 1 as a 180° rotation (a = 0) and non-positive pixdims as 1', () => {
    const a = quaternionToAffine({ b: 0, c: 1.0000001, d: 0, qx: 1, qy: 2, qz: 3, qfac: 1, pixdim: [2, 0, -1] });
    expectClose(a, [-2, 0, 0, 1, 0, 1, 0, 2, 0, 0, -1, 3, 0, 0, 0, 1], 1e-12);
  });

  it('orthogonalises a nearly-orthogonal rotation by polar decomposition', () => {
    const r = mat3Multiply(rotX(0.4), rotY(0.2));
    const noisy = r.map((v, i) => v + (i % 2 ? 1e-3 : -7e-4)) as Mat3;
    const p = mat33Polar(noisy);
    expectClose(mat3Multiply(p, mat3Transpose(p)), mat3Identity(), 1e-12);
    expectClose(p, r, 3e-3);
    // The polar factor of the inverse is the inverse of the polar factor (why nifti1_io uses it).
    expectClose(mat33Polar(mat3Invert(noisy)), mat3Transpose(p), 1e-10);
    // The qform of a slightly non-orthogonal affine: column norms as pixdim, rotation =
    // polar factor of the column-normalised matrix.
    const norms: Vec3 = [0, 1, 2].map((c) => Math.hypot(noisy[c], noisy[3 + c], noisy[6 + c])) as Vec3;
    const unit = noisy.map((v, i) => v / norms[i % 3]) as Mat3;
    const q = affineToQuaternion(withSpacing(noisy, [1, 1, 1], [0, 0, 0]));
    expectClose(q.pixdim, norms, 1e-15);
    expectClose(quaternionToAffine(q), withSpacing(mat33Polar(unit), norms, [0, 0, 0]), 1e-9);
    expectClose(quaternionToAffine(q), withSpacing(noisy, [1, 1, 1], [0, 0, 0]), 3e-3);
  });

  it('reports sheared affines (gantry tilt) as not representable', () => {
    const a = withSpacing(mat3Identity(), [0.5, 0.5, 2], [0, 0, 0]);
    a[6] = 2 * Math.tan(14 * deg); // k moves along y: a tilted stack
    expect(isQuaternionRepresentable(a)).toBe(false);
  });
});
