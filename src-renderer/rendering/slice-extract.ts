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
import { type SliceGrid, gridToWorld, worldToContinuousIndex, worldToIndexLinear3 } from './slice-geometry';

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
  const m = worldToIndexLinear3(vol);
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
  if (extractAxisAligned(vol, grid, p0, sr, sd, dst, base)) return dst;
  // General (oblique) case: walk the continuous index, nearest voxel per pixel.
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

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** ±1 along one index axis and 0 along the others (a pixel step of an axis-aligned image). */
function unitAxis(step: number[]): number {
  let axis = -1;
  for (let a = 0; a < 3; a++) {
    const x = step[a];
    if (Math.abs(x) < 1e-6) continue;
    if (Math.abs(Math.abs(x) - 1) > 1e-6 || axis >= 0) return -1;
    axis = a;
  }
  return axis;
}

/**
 * Fast path when one pixel right and one pixel down are each exactly one voxel along an index
 * axis (every non-oblique image, the usual case): integer strides, no per-pixel float work.
 * Returns false when it does not apply.
 */
function extractAxisAligned(vol: Volume, grid: SliceGrid, p0: Vec3, sr: number[], sd: number[], dst: Float32Array, base: number): boolean {
  const ar = unitAxis(sr);
  const ad = unitAxis(sd);
  if (ar < 0 || ad < 0 || ar === ad) return false;
  const an = 3 - ar - ad;
  const dims = vol.dims;
  const strides = [1, dims[0], dims[0] * dims[1]];
  // Pixel centres sit on voxel centres: round once.
  const start = [Math.round(p0[0]), Math.round(p0[1]), Math.round(p0[2])];
  const { width, height } = grid;
  const depth = start[an];
  if (depth < 0 || depth >= dims[an]) {
    dst.fill(NaN);
    return true;
  }
  const dr = sr[ar] > 0 ? 1 : -1;
  const dd = sd[ad] > 0 ? 1 : -1;
  const colStride = dr * strides[ar];
  const data = vol.data;
  let o = 0;
  for (let row = 0; row < height; row++) {
    const jd = start[ad] + dd * row;
    if (jd < 0 || jd >= dims[ad]) {
      dst.fill(NaN, o, o + width);
      o += width;
      continue;
    }
    let ir = start[ar];
    let off = base + depth * strides[an] + jd * strides[ad] + ir * strides[ar];
    for (let col = 0; col < width; col++, o++, ir += dr, off += colStride) {
      dst[o] = ir >= 0 && ir < dims[ar] ? data[off] : NaN;
    }
  }
  return true;
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
  const dst = out && out.length === n * 4 ? out : new Uint8ClampedArray(n * 4);
  const w = Math.max(window, 1e-12);
  const lo = level - w / 2;
  // grey = (stored·slope + intercept − lo) · 255 / w  =  stored·a + b
  const a = (slope * 255) / w;
  const b = ((intercept - lo) * 255) / w;
  // One 32-bit store per pixel; RGBA bytes in memory order (little-endian word = ABGR).
  const px = new Uint32Array(dst.buffer, dst.byteOffset, n);
  const word = (r: number, g: number, bl: number, al: number) =>
    LITTLE_ENDIAN ? ((al << 24) | (bl << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (bl << 8) | al) >>> 0;
  const outsideWord = word(outside[0], outside[1], outside[2], outside[3]);
  const alpha = word(0, 0, 0, 255);
  for (let i = 0; i < n; i++) {
    const v = slice[i];
    if (v !== v) {
      px[i] = outsideWord;
      continue;
    }
    let g = v * a + b + 0.5;
    g = g <= 0 ? 0 : g >= 255 ? 255 : g | 0;
    px[i] = alpha | (g * 0x010101);
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
  const nvox = vol.dims[0] * vol.dims[1] * vol.dims[2];
  const [a0, b0] = quantileRange(vol.data.subarray(0, nvox), lo, hi);
  const a = a0 * vol.rescaleSlope + vol.rescaleIntercept;
  const b = b0 * vol.rescaleSlope + vol.rescaleIntercept;
  return a <= b ? [a, b] : [b, a];
}

/**
 * The `lo` and `hi` quantiles of `values`, from an even sample of at most `maxSamples` of them
 * (NaN sorts last, so a few NaN only nudge the high end).
 */
export function quantileRange(values: ArrayLike<number>, lo: number, hi: number, maxSamples = 1_000_000): [number, number] {
  const count = values.length;
  const stride = Math.max(1, Math.floor(count / maxSamples));
  const sample = new Float32Array(Math.ceil(count / stride));
  let n = 0;
  for (let i = 0; i < count; i += stride) sample[n++] = values[i];
  const s = sample.subarray(0, n).sort();
  const pick = (q: number) => s[Math.min(n - 1, Math.max(0, Math.round(q * (n - 1))))];
  return [pick(lo), pick(hi)];
}
