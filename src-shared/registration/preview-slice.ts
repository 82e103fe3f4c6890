/**
 * Builds a DemonsPreview (src-shared/registration/preview.ts) from one level's buffers of
 * the running demons: pure, over plain Float32Arrays, and cheap (a few ms for a 256² slice)
 * because it reads only the voxels of one slice, every `step`-th of them.
 *
 * Conventions (as in field-kernels.ts): images are i-fastest on the level grid `dims`;
 * a displacement is 3n floats, component-major, in voxel units of that grid.
 */
import type { Vec3 } from '../image/volume';
import { sampleClamped, type Dims } from './field-kernels';
import { PREVIEW_MAX_SIDE, type DemonsPreview } from './preview';

/** Preview x, y and normal axes for a normal `axis`: the other two in increasing order. */
export function previewAxes(axis: 0 | 1 | 2): [number, number, number] {
  return axis === 0 ? [1, 2, 0] : axis === 1 ? [0, 2, 1] : [0, 1, 2];
}

/** The in-plane sampling of a level grid: every `step`-th voxel, at most PREVIEW_MAX_SIDE a side. */
export interface PreviewSampling {
  axes: [number, number, number];
  /** Level voxel index along axes[2]. */
  k: number;
  step: number;
  width: number;
  height: number;
}

export function previewSampling(dims: Dims, axes: [number, number, number], k: number): PreviewSampling {
  const w0 = dims[axes[0]], h0 = dims[axes[1]];
  const step = Math.max(1, Math.ceil(Math.max(w0, h0) / PREVIEW_MAX_SIDE));
  const kk = Math.min(dims[axes[2]] - 1, Math.max(0, k));
  return { axes, k: kk, step, width: Math.ceil(w0 / step), height: Math.ceil(h0 / step) };
}

/** Linear offsets (into an n-voxel image) of the preview pixels, x fastest, plus their voxel coordinates. */
interface PixelVoxels {
  offs: Int32Array;
  ijk: Int32Array;
}

function pixelVoxels(dims: Dims, s: PreviewSampling): PixelVoxels {
  const { axes, step, width, height, k } = s;
  const offs = new Int32Array(width * height);
  const ijk = new Int32Array(3 * width * height);
  const stride = [1, dims[0], dims[0] * dims[1]];
  const [ax, ay, az] = axes;
  const base = k * stride[az];
  for (let py = 0, p = 0; py < height; py++)
    for (let px = 0; px < width; px++, p++) {
      const x = px * step, y = py * step;
      offs[p] = base + x * stride[ax] + y * stride[ay];
      ijk[3 * p + ax] = x;
      ijk[3 * p + ay] = y;
      ijk[3 * p + az] = k;
    }
  return { offs, ijk };
}

/** Central difference along one axis (one-sided at the borders, 0 along a singleton axis). */
function diff(a: Float32Array, o: number, p: number, len: number, stride: number): number {
  if (len < 2) return 0;
  if (p === 0) return a[o + stride] - a[o];
  if (p === len - 1) return a[o] - a[o - stride];
  return 0.5 * (a[o + stride] - a[o - stride]);
}

/**
 * det(I + ∂d/∂x) of a displacement `d` (3n, component-major, voxel units of `dims`) at the
 * preview pixels of `s`: central differences along the three axes of the grid, one-sided at
 * its borders (as the final Jacobian image, field-kernels.jacobianDeterminant).
 */
export function sliceJacobian(d: Float32Array, dims: Dims, s: PreviewSampling, px: PixelVoxels = pixelVoxels(dims, s)): Float32Array<ArrayBuffer> {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  const sz = nx * ny;
  const { offs, ijk } = px;
  const out = new Float32Array(offs.length);
  for (let p = 0; p < offs.length; p++) {
    const o = offs[p], i = ijk[3 * p], j = ijk[3 * p + 1], k = ijk[3 * p + 2];
    const a00 = 1 + diff(d, o, i, nx, 1), a01 = diff(d, o, j, ny, nx), a02 = diff(d, o, k, nz, sz);
    const a10 = diff(d, n + o, i, nx, 1), a11 = 1 + diff(d, n + o, j, ny, nx), a12 = diff(d, n + o, k, nz, sz);
    const a20 = diff(d, 2 * n + o, i, nx, 1), a21 = diff(d, 2 * n + o, j, ny, nx), a22 = 1 + diff(d, 2 * n + o, k, nz, sz);
    out[p] = a00 * (a11 * a22 - a12 * a21) - a01 * (a10 * a22 - a12 * a20) + a02 * (a10 * a21 - a11 * a20);
  }
  return out;
}

/** The displacement's three components at the preview pixels (3 × pixels, component-major). */
export function sliceField(d: Float32Array, dims: Dims, s: PreviewSampling, px: PixelVoxels = pixelVoxels(dims, s)): Float32Array {
  const n = dims[0] * dims[1] * dims[2];
  const { offs } = px;
  const m = offs.length;
  const out = new Float32Array(3 * m);
  for (let c = 0; c < 3; c++) for (let p = 0; p < m; p++) out[c * m + p] = d[c * n + offs[p]];
  return out;
}

export interface PreviewInputs {
  /** Level grid. */
  dims: Dims;
  /** mm per level voxel along i, j, k. */
  spacing: Vec3;
  sampling: PreviewSampling;
  /** Full-resolution slice index reported with the preview. */
  slice: number;
  level: number;
  levels: number;
  iteration: number;
  msd: number;
  history: { msd: number[]; level: number[] };
  /** Level images: fixed, moving (after the initial transform, undeformed). */
  fixed: Float32Array;
  moving: Float32Array;
  /** Current displacement (3n, level voxels). */
  field: Float32Array;
  /** The field's values at the preview pixels before the last iteration (sliceField), or null (no update yet). */
  previousField: Float32Array | null;
}

/**
 * One DemonsPreview. The warped plane is sampled from the moving image through the current
 * field at the preview pixels (trilinear, clamped: the warp kernel's sampling), so it always
 * matches the displacement shown with it.
 */
export function buildDemonsPreview(q: PreviewInputs): DemonsPreview {
  const { dims, sampling: s, field: d, fixed: F, moving: M } = q;
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  const pv = pixelVoxels(dims, s);
  const { offs, ijk } = pv;
  const m = offs.length;
  const fixed = new Float32Array(m), source = new Float32Array(m), warped = new Float32Array(m);
  const disp = new Float32Array(2 * m), update = new Float32Array(m);
  const [ax, ay] = s.axes;
  const cur = sliceField(d, dims, s, pv);
  const [sx, sy, sz] = q.spacing;
  for (let p = 0; p < m; p++) {
    const o = offs[p];
    fixed[p] = F[o];
    source[p] = M[o];
    const dx = d[o], dy = d[n + o], dz = d[2 * n + o];
    warped[p] = sampleClamped(M, nx, ny, nz, ijk[3 * p] + dx, ijk[3 * p + 1] + dy, ijk[3 * p + 2] + dz);
    disp[p] = cur[ax * m + p] / s.step;
    disp[m + p] = cur[ay * m + p] / s.step;
    if (q.previousField) {
      const u = q.previousField;
      const ux = (cur[p] - u[p]) * sx, uy = (cur[m + p] - u[m + p]) * sy, uz = (cur[2 * m + p] - u[2 * m + p]) * sz;
      update[p] = Math.sqrt(ux * ux + uy * uy + uz * uz);
    }
  }
  const jacobian = sliceJacobian(d, dims, s, pv);
  return {
    kind: 'demons',
    level: q.level,
    levels: q.levels,
    iteration: q.iteration,
    msd: q.msd,
    history: { msd: q.history.msd.slice(), level: q.history.level.slice() },
    axes: [...s.axes] as [number, number, number],
    slice: q.slice,
    width: s.width,
    height: s.height,
    pixelMm: [q.spacing[ax] * s.step, q.spacing[ay] * s.step],
    fixed: fixed.buffer,
    source: source.buffer,
    warped: warped.buffer,
    displacement: disp.buffer,
    update: update.buffer,
    jacobian: jacobian.buffer as ArrayBuffer,
  };
}
