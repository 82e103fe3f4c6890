/**
 * Contrast-limited adaptive histogram equalisation (CLAHE), as scikit-image 0.19's
 * exposure.equalize_adapthist applied to the image's real values rescaled to [0, 1]:
 *   equalize_adapthist(rescale_intensity(values, out_range=(0, 1)), kernel_size, clip_limit, nbins)
 * in 3D (skimage treats an nD array as nD: 3D tiles, trilinear interpolation), or, with
 * `perSlice`, on every k slice as its own 2D image (np.stack of the 2D results).
 *
 * skimage's steps, each reproduced to the integer: the [0, 1] values to uint16 (×65535,
 * rounded half to even), rescaled to 14 bits (0…16383, per image), binned into `nbins` grey
 * levels (bin = level ÷ (1 + 16384 ÷ nbins)); the image cut into tiles of kernel_size from
 * its first voxel (reflected past the far edge); per tile the histogram clipped at
 * clip_limit · voxels per tile (at least 1; 0 = no clipping) with the excess redistributed,
 * and cumulated into a mapping to 0…16383; every voxel the interpolation of the mappings of
 * the neighbouring tiles (float32, truncated to an integer); the result rescaled to [0, 1].
 * The output is float32 0…1 (skimage's is float64: the difference is float32 rounding).
 *
 * Default kernel size: ⅛ of each dimension (at least 1), as skimage.
 */
import { voxelCount, type Vec3, type Volume } from '../image/volume';
import { throwIfAborted } from '../processing/progress';
import { integerRange } from '../processing/volume-utils';
import type { ClaheGrid } from './clahe-kernels';
import { bufferName, executorOf, floatResult, runChunked, type AnalysisOptions } from './common';

export interface ClaheParams {
  /** Tile size in voxels along i, j, k (one number: all axes); default ⅛ of each dimension. k is ignored with perSlice. */
  kernelSize?: number | Vec3;
  /** Normalised clip limit, 0…1 (higher: more contrast; 0: no clipping, plain AHE). Default 0.01. */
  clipLimit?: number;
  /** Grey-level bins, default 256. */
  nbins?: number;
  /** Every k slice on its own (2D CLAHE) instead of 3D tiles. */
  perSlice?: boolean;
}

const GREY = 1 << 14; // skimage's NR_OF_GRAY

/** numpy.rint: to the nearest integer, halves to even. */
function rint(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The grid of one CLAHE image (the volume, or one slice with perSlice) for the kernels. */
export function claheGrid(vol: Volume, p: ClaheParams = {}): ClaheGrid & { clim: number; npix: number } {
  const [nx, ny, nz] = vol.dims;
  const perSlice = !!p.perSlice || nz === 1;
  const ks = p.kernelSize;
  const dflt = (n: number) => Math.max(Math.floor(n / 8), 1);
  const k: Vec3 = ks === undefined ? [dflt(nx), dflt(ny), dflt(nz)] : typeof ks === 'number' ? [ks, ks, ks] : [...ks];
  if (perSlice) k[2] = 1;
  if (!k.every((v) => Number.isInteger(v) && v >= 1)) throw new Error(`clahe: kernel size must be positive integers, got ${k.join(',')}`);
  const nbins = p.nbins ?? 256;
  if (!Number.isInteger(nbins) || nbins < 2 || nbins > GREY) throw new Error(`clahe: nbins must be an integer 2…${GREY}, got ${nbins}`);
  const clip = p.clipLimit ?? 0.01;
  const npix = k[0] * k[1] * k[2];
  // skimage: int(clip(clip_limit · n_pixels, 1, None)); no clipping = n_pixels.
  const clim = clip > 0 ? Math.trunc(Math.max(clip * npix, 1)) : npix;
  const tiles: Vec3 = [Math.ceil(nx / k[0]), Math.ceil(ny / k[1]), perSlice ? nz : Math.ceil(nz / k[2])];
  return { dims: [nx, ny, nz], kernel: k, tiles, nbins, perSlice, clim, npix };
}

/**
 * The grey-level bins of every voxel (skimage's steps up to `lut[image]`), into `out`:
 * real values → [0, 1] → uint16 → 0…16383 (min and max per image) → bin.
 */
function greyBins(vol: Volume, g: ClaheGrid, out: Float32Array): void {
  const n = voxelCount(vol);
  const d = vol.data;
  const slope = vol.rescaleSlope || 1, icpt = vol.rescaleIntercept || 0;
  const fr = Math.fround;
  const real = (v: number) => fr(v * slope + icpt); // the real value as float32, as realValues
  // Integer voxels: every step is a function of the stored value, so it is tabled once per
  // distinct value (two lookups per voxel instead of the arithmetic; the same numbers).
  let dmin = Infinity, dmax = -Infinity;
  const integer = integerRange(vol.voxelType) !== null;
  if (integer) {
    for (let i = 0; i < n; i++) {
      const v = d[i];
      if (v < dmin) dmin = v;
      if (v > dmax) dmax = v;
    }
  }
  const tabled = integer && dmax - dmin < 1 << 20;
  let lo = Infinity, hi = -Infinity;
  if (tabled) {
    // real() is non-decreasing or non-increasing in the stored value: the extremes are at the ends.
    lo = Math.min(real(dmin), real(dmax));
    hi = Math.max(real(dmin), real(dmax));
  } else
    for (let i = 0; i < n; i++) {
      const v = real(d[i]);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  const range = hi - lo;
  const toU16 = (r: number) => rint((range > 0 ? (r - lo) / range : 0) * 65535); // img_as_uint
  const uOf = tabled ? Float64Array.from({ length: dmax - dmin + 1 }, (_, t) => toU16(real(dmin + t))) : null;
  const per = g.perSlice ? g.dims[0] * g.dims[1] : n;
  const binSize = 1 + Math.floor(GREY / g.nbins);
  for (let s = 0; s < n; s += per) {
    let umin = Infinity, umax = -Infinity;
    for (let i = s; i < s + per; i++) {
      const u = uOf ? uOf[d[i] - dmin] : toU16(real(d[i]));
      out[i] = u;
      if (u < umin) umin = u;
      if (u > umax) umax = u;
    }
    // rescale_intensity(out_range=(0, 16383)), np.round; a constant image is clipped instead.
    const ur = umax - umin;
    const bin = (u: number) => Math.floor((ur > 0 ? rint(((u - umin) / ur) * (GREY - 1)) : Math.min(u, GREY - 1)) / binSize);
    const binOf = Float32Array.from({ length: ur + 1 }, (_, t) => bin(umin + t));
    for (let i = s; i < s + per; i++) out[i] = binOf[out[i] - umin];
  }
}

export async function clahe(vol: Volume, p: ClaheParams = {}, opts: AnalysisOptions = {}): Promise<Volume> {
  const g = claheGrid(vol, p);
  const n = voxelCount(vol);
  const ex = executorOf(opts);
  const [src, maps, dst] = [bufferName('clahe-src'), bufferName('clahe-maps'), bufferName('clahe-dst')];
  opts.onProgress?.(0, 'Adaptive equalisation');
  const grid: ClaheGrid = { dims: g.dims, kernel: g.kernel, tiles: g.tiles, nbins: g.nbins, perSlice: g.perSlice };
  try {
    greyBins(vol, grid, ex.alloc(src, n));
    throwIfAborted(opts.signal);
    ex.alloc(maps, g.tiles[0] * g.tiles[1] * g.tiles[2] * g.nbins);
    ex.alloc(dst, n);
    await runChunked(ex, 'claheTiles', { src, maps, grid, clim: g.clim, npix: g.npix }, g.tiles[2], opts, 0.05, 0.35, 'Adaptive equalisation: tile histograms');
    await runChunked(ex, 'claheMap', { src, maps, dst, grid }, g.dims[2], opts, 0.35, 0.95, 'Adaptive equalisation: interpolating');
    // rescale_intensity of the result to [0, 1] (per image); a constant result is clipped to [0, 1].
    const r = ex.get(dst);
    const out = new Float32Array(n);
    const per = g.perSlice ? g.dims[0] * g.dims[1] : n;
    for (let s = 0; s < n; s += per) {
      let lo = Infinity, hi = -Infinity;
      for (let i = s; i < s + per; i++) {
        if (r[i] < lo) lo = r[i];
        if (r[i] > hi) hi = r[i];
      }
      for (let i = s; i < s + per; i++) out[i] = hi > lo ? (r[i] - lo) / (hi - lo) : Math.min(Math.max(r[i], 0), 1);
    }
    opts.onProgress?.(1, 'Adaptive equalisation');
    const k = g.kernel;
    return floatResult(vol, out, vol, `CLAHE ${g.perSlice ? `2D per slice, tiles ${k[0]}×${k[1]}` : `3D, tiles ${k.join('×')}`}, clip ${p.clipLimit ?? 0.01}, ${g.nbins} bins`);
  } finally {
    for (const b of [src, maps, dst]) ex.free(b);
  }
}
