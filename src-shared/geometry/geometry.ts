/**
 * Index ↔ world geometry of an ImageGeometry (world = patient LPS, mm; see
 * src-shared/image/volume.ts): world = origin + D · diag(spacing) · ijk.
 */
import type { ImageGeometry, Mat3, Mat4, Vec3 } from '../image/volume';
import { mat4Invert, mat4TransformPoint } from './mat';

/** The 4×4 matrix mapping (i, j, k, 1) to LPS mm. */
export function indexToWorldMatrix(g: ImageGeometry): Mat4 {
  const d = g.direction;
  const s = g.spacing;
  return [
    d[0] * s[0], d[1] * s[1], d[2] * s[2], g.origin[0],
    d[3] * s[0], d[4] * s[1], d[5] * s[2], g.origin[1],
    d[6] * s[0], d[7] * s[1], d[8] * s[2], g.origin[2],
    0, 0, 0, 1,
  ];
}

/** The 4×4 matrix mapping LPS mm to continuous (i, j, k, 1). */
export function worldToIndexMatrix(g: ImageGeometry): Mat4 {
  return mat4Invert(indexToWorldMatrix(g));
}

export function indexToWorld(g: ImageGeometry, ijk: Vec3): Vec3 {
  const d = g.direction;
  const a = ijk[0] * g.spacing[0];
  const b = ijk[1] * g.spacing[1];
  const c = ijk[2] * g.spacing[2];
  return [
    g.origin[0] + d[0] * a + d[1] * b + d[2] * c,
    g.origin[1] + d[3] * a + d[4] * b + d[5] * c,
    g.origin[2] + d[6] * a + d[7] * b + d[8] * c,
  ];
}

/**
 * Continuous index of an LPS point (voxel centres at integers). Inverts the matrix on
 * every call: for many points use worldToIndexMatrix once with mat4TransformPoint.
 */
export function worldToIndex(g: ImageGeometry, lps: Vec3): Vec3 {
  return mat4TransformPoint(worldToIndexMatrix(g), lps);
}

/** LPS ↔ RAS: negate x and y. Its own inverse, so it also converts RAS to LPS. */
export function lpsToRas(p: Vec3): Vec3 {
  return [-p[0], -p[1], p[2]];
}

/** Negates rows 0 and 1 of a 4×4 world matrix: an index→LPS matrix becomes index→RAS and back. */
export function flipLpsRasMatrix(m: Mat4): Mat4 {
  const out = m.slice();
  for (let c = 0; c < 4; c++) {
    out[c] = -m[c];
    out[4 + c] = -m[4 + c];
  }
  return out;
}

/**
 * World (LPS) axis-aligned bounding box of the image. By default the box of the voxel
 * centres (index 0 … n-1 on every axis); with `edges: true` it includes the half voxel
 * beyond the outer centres (index -0.5 … n-0.5), i.e. the full extent of the voxels.
 */
export function worldBounds(g: ImageGeometry, opts?: { edges?: boolean }): { min: Vec3; max: Vec3 } {
  const e = opts?.edges ? 0.5 : 0;
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let corner = 0; corner < 8; corner++) {
    const ijk: Vec3 = [0, 0, 0];
    for (let a = 0; a < 3; a++) ijk[a] = corner & (1 << a) ? g.dims[a] - 1 + e : -e;
    const p = indexToWorld(g, ijk);
    for (let a = 0; a < 3; a++) {
      if (p[a] < min[a]) min[a] = p[a];
      if (p[a] > max[a]) max[a] = p[a];
    }
  }
  return { min, max };
}

/**
 * Geometry of the same image stored with index axis `axis` reversed (voxel i becomes
 * n-1-i): the origin moves to the world position of the former last voxel and that
 * direction column is negated, so every voxel keeps its world position.
 * Returns a plain ImageGeometry (never a Volume): the caller reorders the voxels.
 */
export function flipAxisGeometry(g: ImageGeometry, axis: 0 | 1 | 2): ImageGeometry {
  const last: Vec3 = [0, 0, 0];
  last[axis] = g.dims[axis] - 1;
  const direction = g.direction.slice() as Mat3;
  for (let r = 0; r < 3; r++) direction[r * 3 + axis] = -direction[r * 3 + axis];
  return { dims: [...g.dims] as Vec3, spacing: [...g.spacing] as Vec3, origin: indexToWorld(g, last), direction };
}

const PERMUTATIONS: Vec3[] = [
  [0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0],
];

/**
 * For each index axis, the world axis (0 = x, 1 = y, 2 = z) it is closest to and the
 * sign. The three axes are distinct: we pick the permutation with the largest total
 * |cosine|, which stays sensible for strongly oblique images (a per-column argmax can
 * assign two index axes to the same world axis at 45°).
 */
export function closestWorldAxes(direction: Mat3): { axis: Vec3; sign: Vec3 } {
  let best = PERMUTATIONS[0];
  let bestScore = -Infinity;
  for (const p of PERMUTATIONS) {
    // p[c] = world axis for index axis c; D[row=p[c], col=c]
    const score = Math.abs(direction[p[0] * 3]) + Math.abs(direction[p[1] * 3 + 1]) + Math.abs(direction[p[2] * 3 + 2]);
    if (score > bestScore + 1e-12) {
      bestScore = score;
      best = p;
    }
  }
  const sign: Vec3 = [0, 0, 0];
  for (let c = 0; c < 3; c++) sign[c] = direction[best[c] * 3 + c] < 0 ? -1 : 1;
  return { axis: [...best] as Vec3, sign };
}

const POSITIVE_LPS = ['L', 'P', 'S'];
const NEGATIVE_LPS = ['R', 'A', 'I'];

/**
 * Three-letter orientation code. Default convention 'to' (DICOM / NIfTI / nibabel's
 * aff2axcodes style): each letter is the patient direction the index axis POINTS TO, so
 * an identity direction in LPS is 'LPS' and a standard NIfTI RAS+ image is 'RAS'.
 * Convention 'from' gives ITK's SpatialOrientation / ITK-SNAP "RAI code" style, which
 * names where each axis comes FROM (identity direction = 'RAI').
 */
export function orientationCode(g: Pick<ImageGeometry, 'direction'>, convention: 'to' | 'from' = 'to'): string {
  const { axis, sign } = closestWorldAxes(g.direction);
  let code = '';
  for (let c = 0; c < 3; c++) {
    const positive = (sign[c] > 0) === (convention === 'to');
    code += positive ? POSITIVE_LPS[axis[c]] : NEGATIVE_LPS[axis[c]];
  }
  return code;
}

/**
 * True when some index axis deviates from its closest world axis by more than tolDeg
 * degrees (default 0.01°, well above float32 round-off of scanner cosines).
 */
export function isOblique(g: Pick<ImageGeometry, 'direction'>, tolDeg = 0.01): boolean {
  const { axis } = closestWorldAxes(g.direction);
  const cosTol = Math.cos((tolDeg * Math.PI) / 180);
  for (let c = 0; c < 3; c++) {
    const col: Vec3 = [g.direction[c], g.direction[3 + c], g.direction[6 + c]];
    const norm = Math.hypot(col[0], col[1], col[2]) || 1;
    if (Math.abs(col[axis[c]]) / norm < cosTol) return true;
  }
  return false;
}
