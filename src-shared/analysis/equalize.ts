/**
 * Global histogram equalisation, as scikit-image's exposure.equalize_hist: the output is the
 * image's cumulative distribution (0…1, float32) at each voxel's value, linearly interpolated
 * between bin centres (numpy.interp, clamped at the ends).
 * Bins: an integer image (stored integers, slope 1, intercept 0) has one bin per value, as
 * skimage does for integer arrays; any other image has `bins` equal bins over [min, max]
 * (numpy.histogram's edges, the last bin closed).
 * `mask` (optional, same grid): the distribution is taken over the mask's voxels only.
 */
import { voxelCount, type Volume } from '../image/volume';
import { integerRange } from '../processing/volume-utils';
import { throwIfAborted } from '../processing/progress';
import { floatResult, realValues, type AnalysisOptions } from './common';

export interface EqualizeParams {
  bins?: number;
}

/** The equalisation curve: bin centres and their cumulative fractions. */
export function equalizationCurve(vol: Volume, p: EqualizeParams = {}, mask?: Uint8Array): { centres: Float64Array; cdf: Float64Array } {
  const n = voxelCount(vol);
  const d = vol.data;
  const integral = integerRange(vol.voxelType) !== null && (vol.rescaleSlope || 1) === 1 && (vol.rescaleIntercept || 0) === 0;
  const vals = integral ? null : realValues(vol);
  const at = (i: number) => (vals ? vals[i] : d[i]);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    if (mask && !mask[i]) continue;
    const v = at(i);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi >= lo)) throw new Error('equalize: no voxels to take the histogram of');
  let hist: Float64Array;
  let centres: Float64Array;
  if (integral && hi - lo < 1 << 24) {
    hist = new Float64Array(hi - lo + 1);
    for (let i = 0; i < n; i++) if (!mask || mask[i]) hist[d[i] - lo]++;
    centres = Float64Array.from({ length: hist.length }, (_, t) => lo + t);
  } else {
    const nb = p.bins ?? 256;
    let a = lo, b = hi;
    if (a === b) {
      a -= 0.5;
      b += 0.5;
    }
    const step = (b - a) / nb;
    const edges = Float64Array.from({ length: nb + 1 }, (_, t) => (t === nb ? b : a + t * step));
    const norm = nb / (b - a);
    hist = new Float64Array(nb);
    for (let i = 0; i < n; i++) {
      if (mask && !mask[i]) continue;
      const v = at(i);
      let t = Math.floor((v - a) * norm);
      if (t >= nb) t = nb - 1;
      // numpy's corrections for values that rounding put in the neighbouring bin
      if (v < edges[t]) t--;
      else if (t !== nb - 1 && v >= edges[t + 1]) t++;
      hist[t]++;
    }
    centres = Float64Array.from({ length: nb }, (_, t) => (edges[t] + edges[t + 1]) / 2);
  }
  const cdf = new Float64Array(hist.length);
  let s = 0;
  for (let t = 0; t < hist.length; t++) cdf[t] = s += hist[t];
  for (let t = 0; t < cdf.length; t++) cdf[t] /= s;
  return { centres, cdf };
}

/** numpy.interp(x, xp, fp) for increasing xp. */
export function interp(x: number, xp: Float64Array, fp: Float64Array): number {
  const m = xp.length;
  if (x <= xp[0]) return fp[0];
  if (x >= xp[m - 1]) return fp[m - 1];
  let lo = 0, hi = m - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xp[mid] <= x) lo = mid;
    else hi = mid;
  }
  return fp[lo] + ((x - xp[lo]) * (fp[hi] - fp[lo])) / (xp[hi] - xp[lo]);
}

export function equalizeHistogram(vol: Volume, p: EqualizeParams = {}, mask?: Uint8Array, opts: AnalysisOptions = {}): Volume {
  opts.onProgress?.(0, 'Equalising');
  const { centres, cdf } = equalizationCurve(vol, p, mask);
  throwIfAborted(opts.signal);
  const n = voxelCount(vol);
  const vals = realValues(vol);
  const out = new Float32Array(n);
  // Integer images: one table lookup per voxel.
  if (centres.length > 1 && centres[1] - centres[0] === 1 && Number.isInteger(centres[0]) && centres.length === cdf.length && centres.length < 1 << 24 && Number.isInteger(vals[0])) {
    const lo = centres[0], m = centres.length;
    for (let i = 0; i < n; i++) {
      const t = vals[i] - lo;
      out[i] = Number.isInteger(t) && t >= 0 && t < m ? cdf[t] : interp(vals[i], centres, cdf);
    }
  } else for (let i = 0; i < n; i++) out[i] = interp(vals[i], centres, cdf);
  opts.onProgress?.(1, 'Equalising');
  return floatResult(vol, out, vol, 'histogram equalisation');
}
