/**
 * CPU reslicing of one displayed 2D slice (pure, no DOM): the stored voxel values of the
 * image sampled (nearest neighbour) on a view's raster (see slice-geometry.ts).
 *
 * Why the CPU and not vtk.js's reslice mapper: uploading a 512×512×300 volume as a 3D
 * texture costs seconds under SwiftShader (measured 2–3 s for 512×512×175), which would
 * break the 1.5 s pick-to-render target. Sampling only the visible 512×512 plane costs
 * ~2–4 ms in JS, handles oblique and non-oblique images the same way, and needs no copy
 * of the volume (the one typed array is read in place).
 */
import type { Vec3, Volume } from '../../src-shared/image/volume';
import { type SliceGrid, gridToWorld, worldToContinuousIndex, worldToIndexMatrix } from './slice-geometry';

/**
 * Fills `out` (length grid.width*grid.height, row-major, row 0 = top) with stored values of
 * frame `frame`; pixels outside the image get NaN. Returns `out`.
 */
export function extractSlice(
  vol: Volume,
  grid: SliceGrid,
  through: Vec3,
  out?: Float32Array,
  frame = 0,
): Float32Array {
  const { width, height } = grid;
  const n = width * height;
  const dst = out && out.length === n ? out : new Float32Array(n);
  const m = worldToIndexMatrix(vol);
  const [nx, ny, nz] = vol.dims;
  const sliceStride = nx * ny;
  const data = vol.data;
  const base = frame * nx * ny * nz;
  // Index-space steps for one pixel right and one pixel down.
  const r = grid.axes.right;
  const d = grid.axes.down;
  const sr = [0, 1, 2].map((a) => (m[a * 3] * r[0] + m[a * 3 + 1] * r[1] + m[a * 3 + 2] * r[2]) * grid.pixelRight);
  const sd = [0, 1, 2].map((a) => (m[a * 3] * d[0] + m[a * 3 + 1] * d[1] + m[a * 3 + 2] * d[2]) * grid.pixelDown);
  const p0 = worldToContinuousIndex(vol, gridToWorld(grid, 0, 0, through), m);
  // +0.5 so that floor() rounds to the nearest voxel.
  let ri = p0[0] + 0.5;
  let rj = p0[1] + 0.5;
  let rk = p0[2] + 0.5;
  const [sri, srj, srk] = sr;
  let o = 0;
  for (let row = 0; row < height; row++) {
    let fi = ri;
    let fj = rj;
    let fk = rk;
    for (let col = 0; col < width; col++, o++) {
      if (fi >= 0 && fj >= 0 && fk >= 0 && fi < nx && fj < ny && fk < nz) {
        dst[o] = data[base + (fi | 0) + (fj | 0) * nx + (fk | 0) * sliceStride];
      } else {
        dst[o] = NaN;
      }
      fi += sri;
      fj += srj;
      fk += srk;
    }
    ri += sd[0];
    rj += sd[1];
    rk += sd[2];
  }
  return dst;
}

/**
 * Grey-level RGBA for a slice of stored values under a window/level given in REAL values
 * (real = stored·slope + intercept). NaN (outside the image) gets `outside` (opaque black by
 * default: the plane goes into an opaque canvas, where alpha 0 would show as undefined grey).
 */
export function windowLevelToRgba(
  slice: Float32Array,
  slope: number,
  intercept: number,
  window: number,
  level: number,
  out?: Uint8ClampedArray,
  outside: readonly [number, number, number, number] = [0, 0, 0, 255],
): Uint8ClampedArray {
  const n = slice.length;
  const [or, og, ob, oa] = outside;
  const dst = out && out.length === n * 4 ? out : new Uint8ClampedArray(n * 4);
  const w = Math.max(window, 1e-12);
  const lo = level - w / 2;
  // grey = (stored·slope + intercept − lo) · 255 / w  =  stored·a + b
  const a = (slope * 255) / w;
  const b = ((intercept - lo) * 255) / w;
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    const v = slice[i];
    if (v !== v) {
      dst[o] = or;
      dst[o + 1] = og;
      dst[o + 2] = ob;
      dst[o + 3] = oa;
      continue;
    }
    const g = v * a + b; // Uint8ClampedArray clamps and rounds
    dst[o] = dst[o + 1] = dst[o + 2] = g;
    dst[o + 3] = 255;
  }
  return dst;
}

/** Stored value at an integer voxel index (frame 0 unless given). */
export function voxelValue(vol: Volume, ijk: Vec3, frame = 0): number {
  const [nx, ny, nz] = vol.dims;
  return vol.data[frame * nx * ny * nz + ijk[0] + ijk[1] * nx + ijk[2] * nx * ny];
}

/**
 * Robust display range for "auto" window/level: the `lo` and `hi` percentiles of the real
 * values, from a strided sample of at most ~1M voxels (cheap on a 512×512×300 volume).
 */
export function percentileRange(vol: Volume, lo = 0.005, hi = 0.995): [number, number] {
  const data = vol.data;
  const nvox = vol.dims[0] * vol.dims[1] * vol.dims[2];
  const stride = Math.max(1, Math.floor(nvox / 1_000_000));
  const sample = new Float32Array(Math.ceil(nvox / stride));
  let n = 0;
  for (let i = 0; i < nvox; i += stride) sample[n++] = data[i];
  const s = sample.subarray(0, n).sort();
  const pick = (q: number) => s[Math.min(n - 1, Math.max(0, Math.round(q * (n - 1))))];
  const a = pick(lo) * vol.rescaleSlope + vol.rescaleIntercept;
  const b = pick(hi) * vol.rescaleSlope + vol.rescaleIntercept;
  return a <= b ? [a, b] : [b, a];
}
