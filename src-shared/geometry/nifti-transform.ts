/**
 * Conversions between Lattice's geometry (LPS, origin + direction + spacing) and the
 * NIfTI-1 world transforms (RAS): the sform affine and the qform quaternion.
 * The quaternion code follows nifti1_io.c (nifti_mat44_to_quatern, nifti_mat33_polar,
 * nifti_quatern_to_mat44) so that we write and read exactly what the reference
 * library, dcm2niix, ITK and nibabel do, computed in double precision.
 */
import type { ImageGeometry, Mat3, Mat4, Vec3 } from '../image/volume';
import { flipLpsRasMatrix, indexToWorldMatrix } from './geometry';
import { mat3Determinant, mat3Invert } from './mat';

/** The NIfTI affine: maps (i, j, k, 1) to RAS mm (what srow_x/y/z hold). */
export function geometryToNiftiAffine(g: ImageGeometry): Mat4 {
  return flipLpsRasMatrix(indexToWorldMatrix(g));
}

/**
 * Geometry from a NIfTI (RAS) affine: spacing = column norms, direction = normalised
 * columns converted to LPS, origin = translation converted to LPS. A zero column (a
 * degenerate affine) gets spacing 1 and a direction completing a right-handed frame.
 * A sheared affine keeps its (non-orthogonal) normalised columns.
 */
export function niftiAffineToGeometry(affine: Mat4, dims: Vec3): ImageGeometry {
  const m = flipLpsRasMatrix(affine);
  const spacing: Vec3 = [1, 1, 1];
  const cols: Vec3[] = [];
  for (let c = 0; c < 3; c++) {
    const col: Vec3 = [m[c], m[4 + c], m[8 + c]];
    const n = Math.hypot(col[0], col[1], col[2]);
    if (n > 0 && Number.isFinite(n)) {
      spacing[c] = n;
      cols.push([col[0] / n, col[1] / n, col[2] / n]);
    } else {
      cols.push([NaN, NaN, NaN]);
    }
  }
  repairDegenerateColumns(cols);
  const direction: Mat3 = [
    cols[0][0], cols[1][0], cols[2][0],
    cols[0][1], cols[1][1], cols[2][1],
    cols[0][2], cols[1][2], cols[2][2],
  ];
  return { dims: [...dims] as Vec3, spacing, origin: [m[3], m[7], m[11]], direction };
}

function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

/** Replaces NaN columns so that the direction stays a usable (non-singular) frame. */
function repairDegenerateColumns(cols: Vec3[]): void {
  const bad = cols.map((c) => Number.isNaN(c[0]));
  const nBad = bad.filter(Boolean).length;
  if (nBad === 0) return;
  if (nBad >= 2) {
    // Fall back to the identity column for every broken axis, then fix up a remaining one.
    for (let c = 0; c < 3; c++) if (bad[c]) cols[c] = [c === 0 ? 1 : 0, c === 1 ? 1 : 0, c === 2 ? 1 : 0];
    return;
  }
  const c = bad.indexOf(true);
  const a = cols[(c + 1) % 3];
  const b = cols[(c + 2) % 3];
  const n = cross(a, b);
  const len = Math.hypot(n[0], n[1], n[2]) || 1;
  cols[c] = [n[0] / len, n[1] / len, n[2] / len];
}

export interface NiftiQuaternion {
  b: number;
  c: number;
  d: number;
  qx: number;
  qy: number;
  qz: number;
  /** pixdim[0]: -1 when the third axis is flipped (left-handed index frame). */
  qfac: 1 | -1;
  /** pixdim[1..3]. */
  pixdim: Vec3;
}

function rowNorm(m: Mat3): number {
  let best = 0;
  for (let r = 0; r < 3; r++) best = Math.max(best, Math.abs(m[r * 3]) + Math.abs(m[r * 3 + 1]) + Math.abs(m[r * 3 + 2]));
  return best;
}

function colNorm(m: Mat3): number {
  let best = 0;
  for (let c = 0; c < 3; c++) best = Math.max(best, Math.abs(m[c]) + Math.abs(m[3 + c]) + Math.abs(m[6 + c]));
  return best;
}

/**
 * The orthogonal matrix closest to `a` (polar decomposition by Higham's scaled Newton
 * iteration), as nifti_mat33_polar does; iterated to double precision.
 */
export function mat33Polar(a: Mat3): Mat3 {
  let x = a.slice() as Mat3;
  let gam = mat3Determinant(x);
  while (gam === 0) {
    // Perturb a singular matrix, as nifti1_io.c does.
    gam = 0.00001 * (0.001 + rowNorm(x));
    x[0] += gam;
    x[4] += gam;
    x[8] += gam;
    gam = mat3Determinant(x);
  }
  let dif = 1;
  let z = x;
  for (let k = 0; k < 100; k++) {
    const y = mat3Invert(x);
    let g = 1;
    let gi = 1;
    if (dif > 0.3) {
      const alp = Math.sqrt(rowNorm(x) * colNorm(x));
      const bet = Math.sqrt(rowNorm(y) * colNorm(y));
      g = Math.sqrt(bet / alp);
      gi = 1 / g;
    }
    z = [0, 0, 0, 0, 0, 0, 0, 0, 0];
    dif = 0;
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        // Z = (gam X + gmi Y^T) / 2
        z[r * 3 + c] = 0.5 * (g * x[r * 3 + c] + gi * y[c * 3 + r]);
        dif += Math.abs(z[r * 3 + c] - x[r * 3 + c]);
      }
    }
    if (dif < 1e-14) break;
    x = z;
  }
  return z;
}

/**
 * nifti_mat44_to_quatern: the quaternion (qform) closest to an affine. The rotation is
 * the polar-decomposition orthogonal part of the column-normalised 3×3; a negative
 * determinant gives qfac = -1 (third column flipped). pixdim = column norms.
 */
export function affineToQuaternion(affine: Mat4): NiftiQuaternion {
  let r11 = affine[0], r12 = affine[1], r13 = affine[2];
  let r21 = affine[4], r22 = affine[5], r23 = affine[6];
  let r31 = affine[8], r32 = affine[9], r33 = affine[10];
  const qx = affine[3], qy = affine[7], qz = affine[11];

  let xd = Math.sqrt(r11 * r11 + r21 * r21 + r31 * r31);
  let yd = Math.sqrt(r12 * r12 + r22 * r22 + r32 * r32);
  let zd = Math.sqrt(r13 * r13 + r23 * r23 + r33 * r33);
  if (xd === 0) { r11 = 1; r21 = r31 = 0; xd = 1; }
  if (yd === 0) { r22 = 1; r12 = r32 = 0; yd = 1; }
  if (zd === 0) { r33 = 1; r13 = r23 = 0; zd = 1; }
  const pixdim: Vec3 = [xd, yd, zd];
  r11 /= xd; r21 /= xd; r31 /= xd;
  r12 /= yd; r22 /= yd; r32 /= yd;
  r13 /= zd; r23 /= zd; r33 /= zd;

  const p = mat33Polar([r11, r12, r13, r21, r22, r23, r31, r32, r33]);
  [r11, r12, r13, r21, r22, r23, r31, r32, r33] = p;

  const det = r11 * r22 * r33 - r11 * r32 * r23 - r21 * r12 * r33 + r21 * r32 * r13 + r31 * r12 * r23 - r31 * r22 * r13;
  let qfac: 1 | -1 = 1;
  if (!(det > 0)) {
    qfac = -1;
    r13 = -r13; r23 = -r23; r33 = -r33;
  }

  let a = r11 + r22 + r33 + 1;
  let b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xx = 1 + r11 - (r22 + r33);
    const yy = 1 + r22 - (r11 + r33);
    const zz = 1 + r33 - (r11 + r22);
    if (xx > 1) {
      b = 0.5 * Math.sqrt(xx);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yy > 1) {
      c = 0.5 * Math.sqrt(yy);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zz);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) { b = -b; c = -c; d = -d; }
  }
  return { b, c, d, qx, qy, qz, qfac, pixdim };
}

/**
 * nifti_quatern_to_mat44: the affine of a qform. a = sqrt(1 - b² - c² - d²); when that
 * is (nearly) imaginary (1 - |bcd|² < 1e-7, e.g. float-stored 180° rotations) (b, c, d)
 * is normalised and a = 0. Non-positive pixdims count as 1; qfac < 0 flips the third column.
 */
export function quaternionToAffine(q: NiftiQuaternion): Mat4 {
  let b = q.b, c = q.c, d = q.d;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    const inv = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= inv; c *= inv; d *= inv;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const xd = q.pixdim[0] > 0 ? q.pixdim[0] : 1;
  const yd = q.pixdim[1] > 0 ? q.pixdim[1] : 1;
  let zd = q.pixdim[2] > 0 ? q.pixdim[2] : 1;
  if (q.qfac < 0) zd = -zd;
  return [
    (a * a + b * b - c * c - d * d) * xd, 2 * (b * c - a * d) * yd, 2 * (b * d + a * c) * zd, q.qx,
    2 * (b * c + a * d) * xd, (a * a + c * c - b * b - d * d) * yd, 2 * (c * d - a * b) * zd, q.qy,
    2 * (b * d - a * c) * xd, 2 * (c * d + a * b) * yd, (a * a + d * d - c * c - b * b) * zd, q.qz,
    0, 0, 0, 1,
  ];
}

/**
 * Whether a qform can represent this affine, i.e. its columns are mutually orthogonal
 * (|cos| of every pair of columns ≤ tol; default 1e-4 ≈ 0.006° from a right angle).
 * Fails for sheared affines such as un-resampled gantry-tilt CT stacks, where dcm2niix
 * sets qform_code 0. (Comparing with the quaternion's own matrix would be wrong: near
 * 180° rotations lose precision in any qform, by design of nifti1_io.)
 */
export function isQuaternionRepresentable(affine: Mat4, tol = 1e-4): boolean {
  const cols: Vec3[] = [0, 1, 2].map((c) => [affine[c], affine[4 + c], affine[8 + c]] as Vec3);
  const norms = cols.map((v) => Math.hypot(v[0], v[1], v[2]));
  if (norms.some((n) => !(n > 0) || !Number.isFinite(n))) return false;
  for (const [p, q] of [[0, 1], [0, 2], [1, 2]]) {
    const dot = cols[p][0] * cols[q][0] + cols[p][1] * cols[q][1] + cols[p][2] * cols[q][2];
    if (Math.abs(dot) / (norms[p] * norms[q]) > tol) return false;
  }
  return true;
}
