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
import { integerRange } from '../processing/volume-utils';
import { GREY, rint, type ClaheGrid } from './clahe-kernels';
import { bufferName, executorOf, floatResult, runChunked, type AnalysisOptions } from './common';
import type { SlabExecutor } from './kernels';

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

/** [min, max] over the [min, max] pairs that the slabs of a reducing kernel returned. */
function combine(parts: unknown[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const p of parts as [number, number][]) {
    lo = Math.min(lo, p[0]);
    hi = Math.max(hi, p[1]);
  }
  return [lo, hi];
}

/**
 * The grey-level bins of every voxel into the shared buffer `src` (skimage's steps up to
 * `lut[image]`): real values → [0, 1] → uint16 → 0…16383 (min and max per image) → bin.
 * Here: one pass for the range and the copy into `src`; the levels on every core.
 */
async function greyBins(vol: Volume, g: ClaheGrid, ex: SlabExecutor, src: string, table: string, opts: AnalysisOptions): Promise<void> {
  const n = voxelCount(vol);
  const d = vol.data;
  const slope = vol.rescaleSlope || 1, icpt = vol.rescaleIntercept || 0;
  const fr = Math.fround;
  const real = (v: number) => fr(v * slope + icpt); // the real value as float32, as realValues
  const s = ex.get(src);
  // Integer voxels: every step is a function of the stored value, so the uint16 level is
  // tabled once per distinct value and `src` holds stored − min (exact in float32).
  let dmin = Infinity, dmax = -Infinity;
  const integer = integerRange(vol.voxelType) !== null;
  if (integer)
    for (let i = 0; i < n; i++) {
      const v = d[i];
      if (v < dmin) dmin = v;
      if (v > dmax) dmax = v;
    }
  const tabled = integer && dmax - dmin < 1 << 20; // a table of at most 4 MB
  let lo = Infinity, hi = -Infinity;
  if (tabled) {
    // real() is monotone in the stored value: the extremes are at the ends.
    lo = Math.min(real(dmin), real(dmax));
    hi = Math.max(real(dmin), real(dmax));
    for (let i = 0; i < n; i++) s[i] = d[i] - dmin;
    const range = hi - lo;
    const t = ex.alloc(table, dmax - dmin + 1);
    for (let k = 0; k < t.length; k++) t[k] = rint((range > 0 ? (real(dmin + k) - lo) / range : 0) * 65535); // img_as_uint
  } else
    for (let i = 0; i < n; i++) {
      const v = (s[i] = real(d[i]));
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  const args = { src, table: tabled ? table : null, lo, range: hi - lo, nbins: g.nbins, dims: g.dims };
  if (g.perSlice) return runChunked(ex, 'claheLevels', { ...args, phase: 'slices' }, g.dims[2], opts, 0.02, 0.1, 'Adaptive equalisation: grey levels');
  const [umin, umax] = combine(await ex.run('claheLevels', { ...args, phase: 'u' }, g.dims[2]));
  await runChunked(ex, 'claheLevels', { ...args, phase: 'bins', umin, umax }, g.dims[2], opts, 0.05, 0.1, 'Adaptive equalisation: grey levels');
}

export async function clahe(vol: Volume, p: ClaheParams = {}, opts: AnalysisOptions = {}): Promise<Volume> {
  const g = claheGrid(vol, p);
  const n = voxelCount(vol);
  const ex = executorOf(opts);
  const [src, maps, dst, table] = [bufferName('clahe-src'), bufferName('clahe-maps'), bufferName('clahe-dst'), bufferName('clahe-table')];
  opts.onProgress?.(0, 'Adaptive equalisation');
  const grid: ClaheGrid = { dims: g.dims, kernel: g.kernel, tiles: g.tiles, nbins: g.nbins, perSlice: g.perSlice };
  try {
    ex.alloc(src, n);
    await greyBins(vol, grid, ex, src, table, opts);
    ex.alloc(maps, g.tiles[0] * g.tiles[1] * g.tiles[2] * g.nbins);
    ex.alloc(dst, n);
    await runChunked(ex, 'claheTiles', { src, maps, grid, clim: g.clim, npix: g.npix }, g.tiles[2], opts, 0.1, 0.35, 'Adaptive equalisation: tile histograms');
    await runChunked(ex, 'claheMap', { src, maps, dst, grid }, g.dims[2], opts, 0.35, 0.9, 'Adaptive equalisation: interpolating');
    // rescale_intensity of the result to [0, 1] (per image).
    const rs = { dst, dims: g.dims };
    if (g.perSlice) await runChunked(ex, 'claheRescale', { ...rs, phase: 'slices' }, g.dims[2], opts, 0.9, 0.98, 'Adaptive equalisation: rescaling');
    else {
      const [lo, hi] = combine(await ex.run('claheRescale', { ...rs, phase: 'range' }, g.dims[2]));
      await runChunked(ex, 'claheRescale', { ...rs, phase: 'apply', lo, hi }, g.dims[2], opts, 0.9, 0.98, 'Adaptive equalisation: rescaling');
    }
    const out = new Float32Array(ex.get(dst));
    opts.onProgress?.(1, 'Adaptive equalisation');
    const k = g.kernel;
    return floatResult(vol, out, vol, `CLAHE ${g.perSlice ? `2D per slice, tiles ${k[0]}×${k[1]}` : `3D, tiles ${k.join('×')}`}, clip ${p.clipLimit ?? 0.01}, ${g.nbins} bins`);
  } finally {
    for (const b of [src, maps, dst, table]) ex.free(b);
  }
}
