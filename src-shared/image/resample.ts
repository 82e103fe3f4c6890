/**
 * World-space resampling: the one place where an image is sampled onto another grid.
 * Used by registration (moving → fixed grid), the processing tools (crop/resample) and
 * the viewer's overlay layers.
 *
 * Conventions (see volume.ts): world = LPS mm, origin = centre of voxel 0,
 * world = origin + D · diag(spacing) · index.
 *
 * Sampling domain: like ITK's ResampleImageFilter, a point is inside the source when its
 * continuous index lies in [-0.5, n - 0.5] on every axis (the voxel's own extent), so a
 * single-slice (2D) image samples at k = 0 and edge voxels are not lost to rounding.
 * Linear interpolation clamps neighbours at the border; outside points get `fill`.
 *
 * Pure TypeScript, no node: or DOM imports (runs in workers, main and renderer).
 */
import type { ImageGeometry, Mat4, Vec3, Volume, VoxelArray } from './volume';
import { indexToWorldMatrix, worldToIndexMatrix } from '../geometry/geometry';
import { mat4Invert, mat4Multiply, mat4TransformPoint } from '../geometry/mat';

export type Interpolation = 'linear' | 'nearest';

export interface ResampleOptions {
  interpolation?: Interpolation;
  /** Value for target points outside the source (real units). Default 0. */
  fill?: number;
  /**
   * Optional 4×4 row-major LPS transform mapping target-world points to source-world
   * points (pull-back), applied before sampling: sample src at worldTransform · x.
   */
  worldTransform?: Mat4;
  /** Which 3D volume of a 4D source to sample. Default 0. */
  frame?: number;
  /** Output buffer (length = voxel count of target); allocated when absent. */
  out?: Float32Array;
}

// ---------------------------------------------------------------------------------------
// Index ↔ world matrices come from src-shared/geometry (one place per concept); the names
// below are kept as aliases for the registration code.

/** Row-major 4×4 mapping a continuous index (i,j,k,1) to LPS world (x,y,z,1). */
export const gridIndexToWorld: (g: ImageGeometry) => Mat4 = indexToWorldMatrix;
/** Row-major 4×4 mapping LPS world to continuous index. */
export const gridWorldToIndex: (g: ImageGeometry) => Mat4 = worldToIndexMatrix;
/** Product a·b of two row-major 4×4 matrices. */
export const mulMat4: (a: Mat4, b: Mat4) => Mat4 = mat4Multiply;
/** Inverse of a 4×4 matrix. Throws when singular. */
export const invertAffine4: (m: Mat4) => Mat4 = mat4Invert;
/** Applies a row-major affine 4×4 to a point. */
export const transformPoint4: (m: Mat4, p: Vec3) => Vec3 = mat4TransformPoint;

/**
 * The affine map from a target voxel index to the source continuous index:
 * srcIndex = W2I(src) · worldTransform · I2W(target) · targetIndex.
 */
export function targetToSourceIndex(src: ImageGeometry, target: ImageGeometry, worldTransform?: Mat4): Mat4 {
  const t2w = gridIndexToWorld(target);
  const mid = worldTransform ? mulMat4(worldTransform, t2w) : t2w;
  return mulMat4(gridWorldToIndex(src), mid);
}

// ---------------------------------------------------------------------------------------
// Core kernel over raw arrays: the hot loop, shared with registration workers (slabs of k).

export interface SampleGridArgs {
  /** Source voxels (one 3D volume), i fastest. */
  src: ArrayLike<number>;
  srcDims: Vec3;
  /** Offset of the 3D volume in `src` (frame * voxel count). */
  srcOffset?: number;
  /** Row-major 4×4 (only the top 3 rows are used): target index → source continuous index. */
  indexMap: Mat4;
  outDims: Vec3;
  out: Float32Array | Float64Array;
  interpolation: Interpolation;
  /** Fill for outside points, in stored units (before slope/intercept). */
  fill: number;
  slope?: number;
  intercept?: number;
  /** Range of target slices to compute [k0, k1); default all. Lets workers split by slabs. */
  k0?: number;
  k1?: number;
}

/**
 * Samples `src` at indexMap · (i,j,k) for every target voxel of slices [k0, k1) and writes
 * slope·value + intercept to `out` (indexed on the full target grid).
 */
export function sampleGrid(a: SampleGridArgs): void {
  const { src, srcDims, indexMap: m, outDims, out, interpolation } = a;
  const off = a.srcOffset ?? 0;
  const slope = a.slope ?? 1;
  const icpt = a.intercept ?? 0;
  const fillOut = a.fill * slope + icpt;
  const [nx, ny, nz] = srcDims;
  const [ox, oy] = outDims;
  const k0 = a.k0 ?? 0;
  const k1 = a.k1 ?? outDims[2];
  const sxy = nx * ny;
  const lo = -0.5;
  const hx = nx - 0.5, hy = ny - 0.5, hz = nz - 0.5;
  const m0 = m[0], m4 = m[4], m8 = m[8];
  const nearest = interpolation === 'nearest';
  for (let k = k0; k < k1; k++) {
    for (let j = 0; j < oy; j++) {
      // Position of (0, j, k); stepping i adds column 0 of the map.
      let x = m[1] * j + m[2] * k + m[3];
      let y = m[5] * j + m[6] * k + m[7];
      let z = m[9] * j + m[10] * k + m[11];
      let o = (k * oy + j) * ox;
      for (let i = 0; i < ox; i++, o++, x += m0, y += m4, z += m8) {
        if (!(x >= lo && x <= hx && y >= lo && y <= hy && z >= lo && z <= hz)) {
          out[o] = fillOut;
          continue;
        }
        if (nearest) {
          let ii = Math.round(x), jj = Math.round(y), kk = Math.round(z);
          if (ii > nx - 1) ii = nx - 1; else if (ii < 0) ii = 0;
          if (jj > ny - 1) jj = ny - 1; else if (jj < 0) jj = 0;
          if (kk > nz - 1) kk = nz - 1; else if (kk < 0) kk = 0;
          out[o] = src[off + kk * sxy + jj * nx + ii] * slope + icpt;
          continue;
        }
        // Trilinear with neighbours clamped to the grid.
        let fx = Math.floor(x), fy = Math.floor(y), fz = Math.floor(z);
        let tx = x - fx, ty = y - fy, tz = z - fz;
        let x1 = fx + 1, y1 = fy + 1, z1 = fz + 1;
        if (fx < 0) { fx = 0; x1 = 0; tx = 0; } else if (x1 > nx - 1) { x1 = nx - 1; if (fx > nx - 1) fx = nx - 1; }
        if (fy < 0) { fy = 0; y1 = 0; ty = 0; } else if (y1 > ny - 1) { y1 = ny - 1; if (fy > ny - 1) fy = ny - 1; }
        if (fz < 0) { fz = 0; z1 = 0; tz = 0; } else if (z1 > nz - 1) { z1 = nz - 1; if (fz > nz - 1) fz = nz - 1; }
        const b00 = off + fz * sxy + fy * nx, b01 = off + fz * sxy + y1 * nx;
        const b10 = off + z1 * sxy + fy * nx, b11 = off + z1 * sxy + y1 * nx;
        const c00 = src[b00 + fx] + tx * (src[b00 + x1] - src[b00 + fx]);
        const c01 = src[b01 + fx] + tx * (src[b01 + x1] - src[b01 + fx]);
        const c10 = src[b10 + fx] + tx * (src[b10 + x1] - src[b10 + fx]);
        const c11 = src[b11 + fx] + tx * (src[b11 + x1] - src[b11 + fx]);
        const c0 = c00 + ty * (c01 - c00);
        const c1 = c10 + ty * (c11 - c10);
        out[o] = (c0 + tz * (c1 - c0)) * slope + icpt;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Volume-level API.

/**
 * Resamples `src` onto `target` in world space and returns real values
 * (stored · rescaleSlope + rescaleIntercept) as Float32Array.
 */
export function resampleToGeometry(src: Volume, target: ImageGeometry, opts: ResampleOptions = {}): Float32Array {
  const n = target.dims[0] * target.dims[1] * target.dims[2];
  const out = opts.out ?? new Float32Array(n);
  if (out.length < n) throw new Error(`resampleToGeometry: output buffer has ${out.length} values, needs ${n}`);
  const frame = opts.frame ?? 0;
  if (frame < 0 || frame >= src.frames) throw new Error(`resampleToGeometry: frame ${frame} out of range 0..${src.frames - 1}`);
  const slope = src.rescaleSlope || 1;
  const icpt = src.rescaleIntercept || 0;
  const fill = opts.fill ?? 0;
  sampleGrid({
    src: src.data,
    srcDims: src.dims,
    srcOffset: frame * src.dims[0] * src.dims[1] * src.dims[2],
    indexMap: targetToSourceIndex(src, target, opts.worldTransform),
    outDims: target.dims,
    out,
    interpolation: opts.interpolation ?? 'linear',
    // sampleGrid applies slope/intercept to the fill too: pass it in stored units.
    fill: (fill - icpt) / slope,
    slope,
    intercept: icpt,
  });
  return out;
}

/** Real value of `src` at an LPS world point (NaN outside the image). */
export function sampleAtWorld(src: Volume, lps: Vec3, interpolation: Interpolation = 'linear', frame = 0): number {
  const idx = transformPoint4(gridWorldToIndex(src), lps);
  const out = new Float64Array(1);
  const m: Mat4 = [0, 0, 0, idx[0], 0, 0, 0, idx[1], 0, 0, 0, idx[2], 0, 0, 0, 1];
  const slope = src.rescaleSlope || 1;
  const icpt = src.rescaleIntercept || 0;
  sampleGrid({
    src: src.data as VoxelArray,
    srcDims: src.dims,
    srcOffset: frame * src.dims[0] * src.dims[1] * src.dims[2],
    indexMap: m,
    outDims: [1, 1, 1],
    out,
    interpolation,
    fill: NaN,
    slope,
    intercept: icpt,
  });
  return out[0];
}
