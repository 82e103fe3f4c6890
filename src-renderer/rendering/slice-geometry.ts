/**
 * Geometry of the three orthogonal views, in patient (LPS) space.
 *
 * Every view shows a plane whose screen axes are fixed world (patient) axes, whatever the
 * acquisition orientation: an oblique volume is resliced onto that plane, a non-oblique one
 * is sampled exactly at its voxel centres. This module is pure math (no DOM, no vtk) so that
 * the stores and the unit tests can use it.
 *
 * Screen conventions (ITK-SNAP, radiological by default):
 *   axial    : screen right = patient Left (+x), screen down = Posterior (+y)
 *   coronal  : screen right = patient Left (+x), screen down = Inferior (−z)
 *   sagittal : screen right = Posterior (+y),   screen down = Inferior (−z)
 * Neurological convention flips the left/right axis of the axial and coronal views.
 */
import type { ImageGeometry, Vec3 } from '../../src-shared/image/volume';
import { indexToWorld } from '../../src-shared/geometry/geometry';

export type ViewName = 'axial' | 'coronal' | 'sagittal';
export const VIEW_NAMES: readonly ViewName[] = ['axial', 'coronal', 'sagittal'];
export type Convention = 'radiological' | 'neurological';

export interface ViewAxes {
  /** Unit LPS vector pointing to screen right. */
  right: Vec3;
  /** Unit LPS vector pointing to screen down. */
  down: Vec3;
  /** Plane normal (LPS), the direction in which "next slice" moves. */
  normal: Vec3;
}

export function viewAxes(view: ViewName, convention: Convention = 'radiological'): ViewAxes {
  const lr = convention === 'radiological' ? 1 : -1;
  switch (view) {
    case 'axial':
      return { right: [lr, 0, 0], down: [0, 1, 0], normal: [0, 0, 1] };
    case 'coronal':
      return { right: [lr, 0, 0], down: [0, 0, -1], normal: [0, 1, 0] };
    case 'sagittal':
      return { right: [0, 1, 0], down: [0, 0, -1], normal: [1, 0, 0] };
  }
}

/**
 * Patient-orientation letter(s) of the direction `v` (LPS): +x = L, +y = P, +z = S.
 * Components below `minor` (relative to the largest) are left out, so a pure axis gives one
 * letter and an oblique direction gives e.g. "LA" (largest first), as ITK-SNAP does.
 */
export function orientationLetters(v: Vec3, minor = 0.1): string {
  const pos = ['L', 'P', 'S'];
  const neg = ['R', 'A', 'I'];
  const order = [0, 1, 2].sort((a, b) => Math.abs(v[b]) - Math.abs(v[a]));
  const max = Math.abs(v[order[0]]);
  let s = '';
  for (const a of order) {
    if (Math.abs(v[a]) < minor * max || Math.abs(v[a]) < 1e-9) continue;
    s += v[a] > 0 ? pos[a] : neg[a];
  }
  return s;
}

/** Letters on the four edges of a view: the direction you go toward when you move to that edge. */
export function edgeLetters(view: ViewName, convention: Convention = 'radiological') {
  const { right, down } = viewAxes(view, convention);
  const neg = (v: Vec3): Vec3 => [-v[0], -v[1], -v[2]];
  return {
    left: orientationLetters(neg(right)),
    right: orientationLetters(right),
    top: orientationLetters(neg(down)),
    bottom: orientationLetters(down),
  };
}

// ---- voxel <-> world --------------------------------------------------------------------

// index → world is the shared definition; re-exported for the renderer's modules.
export { indexToWorld };

/**
 * Inverse of the 3×3 matrix D·diag(spacing), row-major: continuous index = M · (world − origin).
 * (The renderer's hot loops use this 3×3 form; the shared 4×4 worldToIndexMatrix is the general one.)
 */
export function worldToIndexLinear3(g: ImageGeometry): number[] {
  const d = g.direction;
  const s = g.spacing;
  const m = [d[0] * s[0], d[1] * s[1], d[2] * s[2], d[3] * s[0], d[4] * s[1], d[5] * s[2], d[6] * s[0], d[7] * s[1], d[8] * s[2]];
  const [a, b, c, e, f, h, i, j, k] = m;
  const A = f * k - h * j;
  const B = -(e * k - h * i);
  const C = e * j - f * i;
  const det = a * A + b * B + c * C;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new Error('Image direction matrix is singular');
  const inv = 1 / det;
  return [
    A * inv, -(b * k - c * j) * inv, (b * h - c * f) * inv,
    B * inv, (a * k - c * i) * inv, -(a * h - c * e) * inv,
    C * inv, -(a * j - b * i) * inv, (a * f - b * e) * inv,
  ];
}

/** Continuous (fractional) voxel index of a world point. */
export function worldToContinuousIndex(g: ImageGeometry, p: Vec3, m = worldToIndexLinear3(g)): Vec3 {
  const x = p[0] - g.origin[0];
  const y = p[1] - g.origin[1];
  const z = p[2] - g.origin[2];
  return [m[0] * x + m[1] * y + m[2] * z, m[3] * x + m[4] * y + m[5] * z, m[6] * x + m[7] * y + m[8] * z];
}

/** Nearest voxel index of a world point, clamped into the image. */
export function nearestVoxelIndex(g: ImageGeometry, p: Vec3): Vec3 {
  const c = worldToContinuousIndex(g, p);
  return [0, 1, 2].map((a) => Math.min(g.dims[a] - 1, Math.max(0, Math.round(c[a])))) as Vec3;
}

const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const column = (g: ImageGeometry, a: number): Vec3 => [g.direction[a], g.direction[3 + a], g.direction[6 + a]];

/** Index axis (0, 1 or 2) whose direction is closest to the world vector `v`, and the sign. */
export function closestIndexAxis(g: ImageGeometry, v: Vec3): { axis: number; sign: 1 | -1 } {
  let best = 0;
  let bestDot = 0;
  for (let a = 0; a < 3; a++) {
    const d = dot(column(g, a), v);
    if (Math.abs(d) > Math.abs(bestDot)) {
      best = a;
      bestDot = d;
    }
  }
  return { axis: best, sign: bestDot >= 0 ? 1 : -1 };
}

/** True when every index axis is (within 1e-4) along a world axis: no reslicing needed. */
export function isAxisAligned(g: ImageGeometry): boolean {
  for (let a = 0; a < 3; a++) {
    const c = column(g, a);
    const n = c.filter((x) => Math.abs(x) > 1e-4).length;
    if (n !== 1) return false;
  }
  return true;
}

// ---- the 2D sampling grid of a view ---------------------------------------------------------

/**
 * The raster a view samples: pixel (c, r) has its centre at world
 *   corner + (c + 0.5)·pixelRight·right + (r + 0.5)·pixelDown·down  (+ the slice offset along normal)
 * It covers the image's world bounding box (voxel edges, not centres). Pixel sizes are the
 * spacing of the index axis most aligned with each screen axis, so a non-oblique image is
 * sampled exactly once per voxel (pixel centres = voxel centres).
 */
export interface SliceGrid {
  view: ViewName;
  axes: ViewAxes;
  width: number;
  height: number;
  /** mm per pixel along screen right / screen down. */
  pixelRight: number;
  pixelDown: number;
  /** Coordinate of the grid's top-left edge along `right` and `down` (mm, dot products with LPS). */
  minRight: number;
  minDown: number;
}

/** Largest raster side; oblique images with fine spacing are sampled coarser than that. */
const MAX_SIDE = 2048;

export function sliceGrid(g: ImageGeometry, view: ViewName, convention: Convention = 'radiological'): SliceGrid {
  const axes = viewAxes(view, convention);
  let minR = Infinity;
  let maxR = -Infinity;
  let minD = Infinity;
  let maxD = -Infinity;
  // Corners of the voxel-edge box.
  for (let n = 0; n < 8; n++) {
    const ijk: Vec3 = [n & 1 ? g.dims[0] - 0.5 : -0.5, n & 2 ? g.dims[1] - 0.5 : -0.5, n & 4 ? g.dims[2] - 0.5 : -0.5];
    const p = indexToWorld(g, ijk);
    const r = dot(p, axes.right);
    const d = dot(p, axes.down);
    minR = Math.min(minR, r);
    maxR = Math.max(maxR, r);
    minD = Math.min(minD, d);
    maxD = Math.max(maxD, d);
  }
  let pr = g.spacing[closestIndexAxis(g, axes.right).axis];
  let pd = g.spacing[closestIndexAxis(g, axes.down).axis];
  // Exact sizes for axis-aligned images: round away float noise so width = dims.
  let width = Math.max(1, Math.round((maxR - minR) / pr - 1e-6));
  let height = Math.max(1, Math.round((maxD - minD) / pd - 1e-6));
  if (width > MAX_SIDE) {
    pr = (maxR - minR) / MAX_SIDE;
    width = MAX_SIDE;
  }
  if (height > MAX_SIDE) {
    pd = (maxD - minD) / MAX_SIDE;
    height = MAX_SIDE;
  }
  return { view, axes, width, height, pixelRight: pr, pixelDown: pd, minRight: minR, minDown: minD };
}

/** World point at the centre of raster pixel (c, r) (fractional allowed) on the plane through `through`. */
export function gridToWorld(grid: SliceGrid, c: number, r: number, through: Vec3): Vec3 {
  const { right, down, normal } = grid.axes;
  const a = grid.minRight + (c + 0.5) * grid.pixelRight;
  const b = grid.minDown + (r + 0.5) * grid.pixelDown;
  const n = dot(through, normal);
  return [
    right[0] * a + down[0] * b + normal[0] * n,
    right[1] * a + down[1] * b + normal[1] * n,
    right[2] * a + down[2] * b + normal[2] * n,
  ];
}

/** Fractional raster position (c, r) of a world point (inverse of gridToWorld in-plane). */
export function worldToGrid(grid: SliceGrid, p: Vec3): [number, number] {
  return [
    (dot(p, grid.axes.right) - grid.minRight) / grid.pixelRight - 0.5,
    (dot(p, grid.axes.down) - grid.minDown) / grid.pixelDown - 0.5,
  ];
}
