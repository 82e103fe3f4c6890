/**
 * The two heavy loops of CLAHE (clahe.ts) as slab kernels, so that they run on every core:
 * the tile mappings (histogram, clip and redistribute, cumulate) and the interpolation of
 * the mappings at every voxel. They follow scikit-image 0.19's _clahe step for step,
 * including its float32 accumulation and its interpolation convention (a voxel at padded
 * position P = x + ⌊k/2⌋ lies in block b = ⌊P/k⌋ at fraction (P mod k)/k between tile b−1
 * and tile b, clamped), so that the result is the same integers as skimage's.
 *
 * Buffers hold integers as float32 (exact below 2^24): `src` the grey-level bin of each
 * voxel, `maps` tile-major mappings (tile, bin) → 0…16383, `dst` the interpolated grey levels.
 * `perSlice`: every k slice is its own 2D image (tile k index = slice, no interpolation in k).
 */
export type CDims = [number, number, number];

export interface ClaheGrid {
  dims: CDims;
  /** Tile (contextual region) size per axis, voxels. */
  kernel: CDims;
  /** Tiles per axis: ⌈dims/kernel⌉ (perSlice: nz along k). */
  tiles: CDims;
  nbins: number;
  perSlice: boolean;
}

/** numpy.pad(mode='reflect') index for x ≥ 0 on an axis of n voxels (a triangle wave, edge not repeated). */
export function reflectIndex(x: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const r = x % period;
  return r < n ? r : period - r;
}

/** skimage's clip_histogram, integer for integer (bins above `clim` clipped, the excess spread). */
export function clipHistogram(hist: Float64Array, clim: number): void {
  const nb = hist.length;
  let excess = 0;
  for (let b = 0; b < nb; b++)
    if (hist[b] > clim) {
      excess += hist[b] - clim;
      hist[b] = clim;
    }
  const incr = Math.floor(excess / nb);
  const upper = clim - incr;
  for (let b = 0; b < nb; b++)
    if (hist[b] < upper) {
      hist[b] += incr;
      excess -= incr;
    }
  // As skimage: this mask is taken after the increment above.
  for (let b = 0; b < nb; b++)
    if (hist[b] >= upper && hist[b] < clim) {
      excess += hist[b] - clim;
      hist[b] = clim;
    }
  while (excess > 0) {
    const prev = excess;
    for (let index = 0; index < nb; index++) {
      let under = 0;
      for (let b = 0; b < nb; b++) if (hist[b] < clim) under++;
      const step = Math.max(1, Math.floor(under / excess));
      let added = 0;
      for (let b = index; b < nb; b += step)
        if (hist[b] < clim) {
          hist[b]++;
          added++;
        }
      excess -= added;
      if (excess <= 0) break;
    }
    if (prev === excess) break;
  }
}

/** Reflected voxel indices of the tile region [0, tiles·kernel) of one axis. */
function tileIndices(n: number, k: number, m: number): Int32Array {
  return Int32Array.from({ length: m * k }, (_, x) => reflectIndex(x, n));
}

/**
 * Mappings of the tiles in tile layers [t0, t1) along k (perSlice: slices [t0, t1)).
 * `clim`: the clip limit in voxels; `npix`: voxels per tile (skimage's n_pixels).
 */
export function claheTilesSlab(src: Float32Array, maps: Float32Array, g: ClaheGrid, clim: number, npix: number, t0: number, t1: number): void {
  const [nx, ny, nz] = g.dims;
  const [kx, ky, kz] = g.kernel;
  const [mx, my] = g.tiles;
  const nb = g.nbins;
  const ix = tileIndices(nx, kx, mx), iy = tileIndices(ny, ky, my);
  const iz = g.perSlice ? null : tileIndices(nz, kz, g.tiles[2]);
  const hist = new Float64Array(nb);
  const scale = 16383 / npix;
  for (let tz = t0; tz < t1; tz++)
    for (let ty = 0; ty < my; ty++)
      for (let tx = 0; tx < mx; tx++) {
        hist.fill(0);
        const zs = iz ? iz.subarray(tz * kz, (tz + 1) * kz) : [tz];
        for (const z of zs)
          for (let y = ty * ky; y < (ty + 1) * ky; y++) {
            const row = (z * ny + iy[y]) * nx;
            for (let x = tx * kx; x < (tx + 1) * kx; x++) hist[src[row + ix[x]]]++;
          }
        clipHistogram(hist, clim);
        // map_histogram: cumulative sum scaled to 0…16383, clipped, truncated to an integer.
        const o = ((tz * my + ty) * mx + tx) * nb;
        let cum = 0;
        for (let b = 0; b < nb; b++) {
          cum += hist[b];
          maps[o + b] = Math.trunc(Math.min(cum * scale, 16383));
        }
      }
}

/** Per-axis interpolation: the two tiles (as offsets) and the fraction towards the second. */
function axisWeights(n: number, k: number, m: number, stride: number) {
  const t0 = new Int32Array(n), t1 = new Int32Array(n), c = new Float64Array(n), ic = new Float64Array(n);
  const h = k >> 1;
  for (let x = 0; x < n; x++) {
    const P = x + h;
    const b = Math.floor(P / k);
    const f = (P - b * k) / k;
    t0[x] = Math.min(Math.max(b - 1, 0), m - 1) * stride;
    t1[x] = Math.min(b, m - 1) * stride;
    c[x] = f;
    ic[x] = 1 - f;
  }
  return { t0, t1, c, ic };
}

/** Interpolated grey levels (integers 0…16383) of slices [k0, k1). */
export function claheMapSlab(src: Float32Array, maps: Float32Array, dst: Float32Array, g: ClaheGrid, k0: number, k1: number): void {
  const [nx, ny, nz] = g.dims;
  const [kx, ky, kz] = g.kernel;
  const [mx, my, mz] = g.tiles;
  const nb = g.nbins;
  const X = axisWeights(nx, kx, mx, nb), Y = axisWeights(ny, ky, my, mx * nb);
  const Z = g.perSlice ? null : axisWeights(nz, kz, mz, my * mx * nb);
  const fr = Math.fround;
  const zt = [0, 0], zw = [1, 0], yt = [0, 0], yw = [0, 0];
  for (let z = k0; z < k1; z++) {
    if (Z) {
      zt[0] = Z.t0[z]; zt[1] = Z.t1[z]; zw[0] = Z.ic[z]; zw[1] = Z.c[z];
    } else {
      zt[0] = z * my * mx * nb; zw[0] = 1; zw[1] = 0;
    }
    for (let y = 0; y < ny; y++) {
      yt[0] = Y.t0[y]; yt[1] = Y.t1[y]; yw[0] = Y.ic[y]; yw[1] = Y.c[y];
      const row = (z * ny + y) * nx;
      for (let x = 0; x < nx; x++) {
        const v = src[row + x];
        const xt0 = X.t0[x], xt1 = X.t1[x], xw0 = X.ic[x], xw1 = X.c[x];
        let acc = 0;
        // skimage's order: edges in numpy.ndindex order (k, j, i), each weight the float64
        // product wi·wj·wk, each term rounded to float32 and summed in float32. A term of
        // weight 0 adds exactly 0, so it is skipped (2D images, voxels on a block start).
        for (let ez = 0; ez < 2; ez++) {
          const wz = zw[ez];
          if (wz === 0) continue;
          for (let ey = 0; ey < 2; ey++) {
            const wy = yw[ey];
            if (wy === 0) continue;
            const base = zt[ez] + yt[ey] + v;
            if (xw0 !== 0) acc = fr(acc + fr(maps[base + xt0] * (xw0 * wy * wz)));
            if (xw1 !== 0) acc = fr(acc + fr(maps[base + xt1] * (xw1 * wy * wz)));
          }
        }
        dst[row + x] = Math.trunc(acc);
      }
    }
  }
}

/** numpy.rint: to the nearest integer, halves to even. */
export function rint(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export const GREY = 1 << 14; // skimage's NR_OF_GRAY

/**
 * How `src` becomes grey-level bins (claheLevelsSlab). `src` holds, per voxel, either the
 * stored value − `dmin` (integer images: `table` maps it to the uint16 level) or the real
 * value (float32) that `lo` and `range` rescale to [0, 1].
 */
export interface LevelArgs {
  table: Float32Array | null;
  lo: number;
  range: number;
  nbins: number;
}

/** img_as_uint of a voxel of `src` (see LevelArgs). */
function u16(src: Float32Array, i: number, a: LevelArgs): number {
  return a.table ? a.table[src[i]] : rint((a.range > 0 ? (src[i] - a.lo) / a.range : 0) * 65535);
}

/** [min, max] of the uint16 levels of voxels [i0, i1), the levels written into `src`. */
export function claheU16Slab(src: Float32Array, a: LevelArgs, i0: number, i1: number): [number, number] {
  let umin = Infinity, umax = -Infinity;
  for (let i = i0; i < i1; i++) {
    const u = u16(src, i, a);
    src[i] = u;
    if (u < umin) umin = u;
    if (u > umax) umax = u;
  }
  return [umin, umax];
}

/** uint16 levels [i0, i1) of `src` → grey-level bins in place: rescale_intensity to 0…16383 of [umin, umax], np.round, ÷ bin size. */
export function claheBinsSlab(src: Float32Array, nbins: number, umin: number, umax: number, i0: number, i1: number): void {
  const ur = umax - umin;
  const binSize = 1 + Math.floor(GREY / nbins);
  // A constant image is clipped instead (rescale_intensity with imin = imax).
  const bin = (u: number) => Math.floor((ur > 0 ? rint(((u - umin) / ur) * (GREY - 1)) : Math.min(u, GREY - 1)) / binSize);
  const binOf = Float32Array.from({ length: ur + 1 }, (_, t) => bin(umin + t));
  for (let i = i0; i < i1; i++) src[i] = binOf[src[i] - umin];
}

/** [min, max] of dst[i0, i1). */
export function rangeSlab(dst: Float32Array, i0: number, i1: number): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = i0; i < i1; i++) {
    const v = dst[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** rescale_intensity of dst[i0, i1) from [lo, hi] to [0, 1] in place; a constant result is clipped to [0, 1]. */
export function rescaleSlab(dst: Float32Array, lo: number, hi: number, i0: number, i1: number): void {
  for (let i = i0; i < i1; i++) dst[i] = hi > lo ? (dst[i] - lo) / (hi - lo) : Math.min(Math.max(dst[i], 0), 1);
}
