/**
 * Intensity statistics of a layer for the layer inspector (pure): the real-value range and
 * a histogram, from a strided sample of at most ~1M voxels (cheap on 512×512×300); cached
 * per volume (volumes are immutable once loaded).
 */
import type { Volume } from '../../src-shared/image/volume';

export interface Histogram {
  min: number;
  max: number;
  /** counts[b] covers [min + b·(max−min)/n, min + (b+1)·(max−min)/n). */
  counts: Uint32Array;
  /** Voxels sampled. */
  total: number;
}

const cache = new WeakMap<Volume, Histogram>();

export function histogramOf(vol: Volume, bins = 128): Histogram {
  const hit = cache.get(vol);
  if (hit && hit.counts.length === bins) return hit;
  const data = vol.data;
  const n = vol.dims[0] * vol.dims[1] * vol.dims[2];
  const stride = Math.max(1, Math.floor(n / 1_000_000));
  let lo = Infinity;
  let hi = -Infinity;
  // The range from every voxel (a strided sample could miss a small bright structure).
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const s = vol.rescaleSlope || 1;
  const c = vol.rescaleIntercept || 0;
  let min = lo * s + c;
  let max = hi * s + c;
  if (min > max) [min, max] = [max, min];
  const counts = new Uint32Array(bins);
  const width = max - min || 1;
  let total = 0;
  for (let i = 0; i < n; i += stride) {
    const v = data[i] * s + c;
    let b = Math.floor(((v - min) / width) * bins);
    if (b >= bins) b = bins - 1;
    if (b < 0) b = 0;
    counts[b]++;
    total++;
  }
  const h = { min, max, counts, total };
  cache.set(vol, h);
  return h;
}
