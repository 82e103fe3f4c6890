/**
 * Layers on a view's plane (pure, no DOM): world-space resampling of any image onto the
 * raster of the main image's view, and colour mapping / compositing of the results.
 *
 * A plane pixel (c, r) has world position gridToWorld(grid, c, r, through), an affine function
 * of (c, r); composed with the layer's world→index matrix it gives the layer's continuous
 * index, and src-shared/image/resample.ts's sampleGrid (the one resampling kernel: ITK's
 * [-0.5, n-0.5] domain, trilinear with clamped neighbours, or nearest) samples the plane as
 * a width×height×1 grid. Cost: one 512×512 plane per layer per change (~3-6 ms).
 */
import type { Mat4, Vec3, Volume } from '../../src-shared/image/volume';
import { sampleGrid, type Interpolation } from '../../src-shared/image/resample';
import { mat4Multiply, mat4TransformPoint } from '../../src-shared/geometry/mat';
import { worldToIndexMatrix as worldToIndex4 } from '../../src-shared/geometry/geometry';
import { type SliceGrid, gridToWorld, worldToIndexLinear3, worldToContinuousIndex } from './slice-geometry';

/**
 * Row-major 4×4: plane pixel (c, r, 0, 1) → continuous index of `vol`. `worldTransform`
 * (a layer's registration transform, pull-back: display world → the layer's own world, as
 * resampleToGeometry's option) is composed in: index = W2I · T · planeToWorld · (c, r).
 * Only the displayed plane is resampled, so moving a layer costs one plane per view.
 */
export function planeIndexMap(vol: Volume, grid: SliceGrid, through: Vec3, worldTransform?: Mat4): Mat4 {
  const { right, down } = grid.axes;
  if (worldTransform) {
    const p0 = gridToWorld(grid, 0, 0, through);
    const planeToWorld: Mat4 = [
      right[0] * grid.pixelRight, down[0] * grid.pixelDown, 0, p0[0],
      right[1] * grid.pixelRight, down[1] * grid.pixelDown, 0, p0[1],
      right[2] * grid.pixelRight, down[2] * grid.pixelDown, 0, p0[2],
      0, 0, 0, 1,
    ];
    return mat4Multiply(worldToIndex4(vol), mat4Multiply(worldTransform, planeToWorld));
  }
  const m = worldToIndexLinear3(vol);
  const p0 = worldToContinuousIndex(vol, gridToWorld(grid, 0, 0, through), m);
  const out: Mat4 = new Array(16).fill(0);
  for (let a = 0; a < 3; a++) {
    out[a * 4] = (m[a * 3] * right[0] + m[a * 3 + 1] * right[1] + m[a * 3 + 2] * right[2]) * grid.pixelRight;
    out[a * 4 + 1] = (m[a * 3] * down[0] + m[a * 3 + 1] * down[1] + m[a * 3 + 2] * down[2]) * grid.pixelDown;
    out[a * 4 + 3] = p0[a];
  }
  out[15] = 1;
  return out;
}

/**
 * Real values (stored·slope + intercept) of `vol` at the plane's pixel centres; NaN outside
 * the image. Reuses `out` when it has the right length.
 */
export function samplePlane(vol: Volume, grid: SliceGrid, through: Vec3, interpolation: Interpolation, frame = 0, out?: Float32Array, worldTransform?: Mat4): Float32Array {
  const n = grid.width * grid.height;
  const dst = out && out.length === n ? out : new Float32Array(n);
  const f = Math.min(Math.max(0, frame), vol.frames - 1);
  sampleGrid({
    src: vol.data,
    srcDims: vol.dims,
    srcOffset: f * vol.dims[0] * vol.dims[1] * vol.dims[2],
    indexMap: planeIndexMap(vol, grid, through, worldTransform),
    outDims: [grid.width, grid.height, 1],
    out: dst,
    interpolation,
    fill: NaN,
    slope: vol.rescaleSlope || 1,
    intercept: vol.rescaleIntercept || 0,
  });
  return dst;
}

export interface LutMapping {
  /** Value → real value: real = v·slope + intercept (1, 0 for already-real values). */
  slope: number;
  intercept: number;
  window: number;
  level: number;
  /** RGBA lookup table (n entries × 4 bytes) spanning [level − window/2, level + window/2]. */
  lut: Uint8ClampedArray;
}

/**
 * The LUT entry of a stored value v is round(v·a + b), clamped to [0, nl − 1]:
 * index = (v·slope + intercept − (level − window/2)) / window · (nl − 1).
 */
function lutIndexCoefficients(map: LutMapping): { nl: number; a: number; b: number } {
  const nl = map.lut.length / 4;
  const w = Math.max(map.window, 1e-12);
  const lo = map.level - w / 2;
  return { nl, a: (map.slope * (nl - 1)) / w, b: ((map.intercept - lo) * (nl - 1)) / w };
}

/**
 * Colour-maps `values` into `dst` (RGBA bytes), opaque: the LUT's colour is written with
 * alpha 255 (a shown image is never see-through). NaN → `outside` (opaque black).
 */
export function lutToRgba(values: Float32Array, map: LutMapping, dst: Uint8ClampedArray, outside: readonly number[] = [0, 0, 0, 255]) {
  const { lut } = map;
  const { nl, a, b } = lutIndexCoefficients(map);
  for (let i = 0, o = 0; i < values.length; i++, o += 4) {
    const v = values[i];
    if (v !== v) {
      dst[o] = outside[0];
      dst[o + 1] = outside[1];
      dst[o + 2] = outside[2];
      dst[o + 3] = outside[3];
      continue;
    }
    let k = v * a + b + 0.5;
    k = k <= 0 ? 0 : k >= nl - 1 ? nl - 1 : k | 0;
    k *= 4;
    dst[o] = lut[k];
    dst[o + 1] = lut[k + 1];
    dst[o + 2] = lut[k + 2];
    dst[o + 3] = 255;
  }
}

/**
 * Blends a colour-mapped layer over `dst` (RGBA bytes, opaque): per pixel alpha = LUT alpha ×
 * opacity; NaN (outside the layer) and, for label images, the value 0 (background) leave
 * `dst` as it is. Returns the number of pixels it touched.
 */
export function blendLayer(values: Float32Array, map: LutMapping, opacity: number, isLabel: boolean, dst: Uint8ClampedArray): number {
  const { lut } = map;
  const { nl, a, b } = lutIndexCoefficients(map);
  const op = Math.min(1, Math.max(0, opacity)) / 255;
  // Per LUT entry: colour × alpha and 1 − alpha, so a pixel is one multiply-add per channel.
  const pre = new Float32Array(nl * 3);
  const keep = new Float32Array(nl);
  for (let k = 0; k < nl; k++) {
    const al = lut[k * 4 + 3] * op;
    pre[k * 3] = lut[k * 4] * al;
    pre[k * 3 + 1] = lut[k * 4 + 1] * al;
    pre[k * 3 + 2] = lut[k * 4 + 2] * al;
    keep[k] = 1 - al;
  }
  let touched = 0;
  for (let i = 0, o = 0; i < values.length; i++, o += 4) {
    const v = values[i];
    if (v !== v || (isLabel && v === 0)) continue;
    let k = v * a + b + 0.5;
    k = k <= 0 ? 0 : k >= nl - 1 ? nl - 1 : k | 0;
    const t = keep[k];
    if (t >= 1) continue;
    const k3 = k * 3;
    dst[o] = pre[k3] + dst[o] * t;
    dst[o + 1] = pre[k3 + 1] + dst[o + 1] * t;
    dst[o + 2] = pre[k3 + 2] + dst[o + 2] * t;
    touched++;
  }
  return touched;
}

/**
 * A layer's value at a world point, and the (fractional) voxel index it came from; the
 * main image (on its own grid) is read at its voxel exactly. NaN outside the image.
 * `worldTransform` (pull-back, display world → layer world) is applied to the point first.
 */
export function layerValueAt(vol: Volume, p: Vec3, interpolation: Interpolation, frame = 0, worldTransform?: Mat4): { value: number; index: Vec3 } {
  const index = worldToContinuousIndex(vol, worldTransform ? mat4TransformPoint(worldTransform, p) : p);
  const m: Mat4 = [0, 0, 0, index[0], 0, 0, 0, index[1], 0, 0, 0, index[2], 0, 0, 0, 1];
  const out = new Float64Array(1);
  sampleGrid({
    src: vol.data,
    srcDims: vol.dims,
    srcOffset: Math.min(Math.max(0, frame), vol.frames - 1) * vol.dims[0] * vol.dims[1] * vol.dims[2],
    indexMap: m,
    outDims: [1, 1, 1],
    out,
    interpolation,
    fill: NaN,
    slope: vol.rescaleSlope || 1,
    intercept: vol.rescaleIntercept || 0,
  });
  return { value: out[0], index };
}

/**
 * Checkerboard compare (registration): the colour-mapped layer is drawn OPAQUE on every other
 * `tile`×`tile` block of the plane (`width` pixels per row) and leaves `dst` as it is on the
 * others, so edges can be followed across the tile borders. NaN leaves `dst`. Returns the
 * number of pixels it wrote.
 */
export function checkerLayer(values: Float32Array, map: LutMapping, width: number, tile: number, dst: Uint8ClampedArray): number {
  const { lut } = map;
  const { nl, a, b } = lutIndexCoefficients(map);
  const t = Math.max(1, Math.round(tile));
  let touched = 0;
  for (let i = 0, o = 0; i < values.length; i++, o += 4) {
    const c = i % width;
    const r = (i - c) / width;
    if ((((c / t) | 0) + ((r / t) | 0)) % 2 === 0) continue;
    const v = values[i];
    if (v !== v) continue;
    let k = v * a + b + 0.5;
    k = k <= 0 ? 0 : k >= nl - 1 ? nl - 1 : k | 0;
    k *= 4;
    dst[o] = lut[k];
    dst[o + 1] = lut[k + 1];
    dst[o + 2] = lut[k + 2];
    touched++;
  }
  return touched;
}
