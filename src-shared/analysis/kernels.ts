/**
 * The heavy loops of the image-analysis operations as slab kernels over named Float32
 * buffers, so that they run on every core: the same table runs inline (one thread, tests and
 * small images) and in the kernel threads of src-main/workers/analysis-kernels.ts, whose pool
 * is the registration's WorkerPoolExecutor (SharedArrayBuffers, the last slab on the calling
 * thread). An op gets the slab [k0, k1) of `nSlices` (slices of k unless its comment says
 * otherwise) plus `offset`, so a caller can run a volume in chunks (progress, cancel).
 *
 * Edges: every kernel replicates the border voxel (scipy mode='nearest', ITK zero-flux).
 */
import { gaussianHalfKernel, smoothXY, smoothZ } from '../registration/gaussian';
import { simdKernels } from './wasm/simd';
import { claheBinsSlab, claheMapSlab, claheTilesSlab, claheU16Slab, rangeSlab, rescaleSlab, type ClaheGrid } from './clahe-kernels';

export type Dims = [number, number, number];
export type Buffers = Map<string, Float32Array>;

export interface KernelArgMap {
  /** Gaussian pass 1 (i and j), in place allowed; sigma in voxels, truncated at `truncate`·σ. */
  smoothXY: { src: string; dst: string; dims: Dims; sigma: [number, number, number]; truncate: number; offset?: number };
  /** Gaussian pass 2 (k): src → dst (distinct buffers). */
  smoothZ: { src: string; dst: string; dims: Dims; sigma: [number, number, number]; truncate: number; offset?: number };
  /**
   * Median of the (2r+1) box around each voxel, src → dst, for integer-valued src within
   * [lo, lo + bins): a sliding histogram along i (Huang), exact.
   */
  medianHist: { src: string; dst: string; dims: Dims; radius: [number, number, number]; lo: number; bins: number; offset?: number };
  /** Median of the 3×3×3 box for any values, with the WebAssembly SIMD network (wasm/simd.ts). */
  median27: { src: string; dst: string; dims: Dims; offset?: number };
  /** The same for any values: quickselect per voxel (slower). */
  medianSelect: { src: string; dst: string; dims: Dims; radius: [number, number, number]; offset?: number };
  /**
   * One pass of the exact squared Euclidean distance transform (Felzenszwalb–Huttenlocher) in
   * place on `buf` (0 at features, +Infinity elsewhere before the first pass), along `axis`
   * with `spacing` mm. Slabs: of k for axes 0 and 1, of j for axis 2.
   */
  edtPass: {
    buf: string;
    dims: Dims;
    axis: 0 | 1 | 2;
    spacing: number;
    offset?: number;
    /**
     * The first pass, along i, of a binary feature map: `feature` names a buffer whose bytes
     * (a Uint8Array view, 1 = feature) are the map; `buf` is written, not read.
     */
    feature?: string;
    /** The last pass: write distances (square roots), not squared distances. */
    root?: boolean;
  };
  /**
   * Two 0/1 byte masks `a`, `b` (Uint8Array views of buffers) over slices [k0, k1): returns
   * [|a|, |b|, |a∩b|, Σi, Σj, Σk of a, Σi, Σj, Σk of b, box lo i, j, k, box hi i, j, k] (the
   * box of a ∪ b; lo = +∞ when empty).
   */
  maskPairStats: { a: string; b: string; dims: Dims; offset?: number };
  /**
   * Surface voxels (6-neighbourhood, beyond the image = background) of byte mask `src` on
   * the grid `dims`, inside the box from `lo` of size `size`, into byte mask `dst` on the
   * box's grid (every voxel written); slabs of the box's slices. Returns the surface's voxel
   * count. The mask must be 0/1.
   */
  surfaceInBox: { src: string; dst: string; dims: Dims; lo: Dims; size: Dims; offset?: number };
  /**
   * Byte mask dst = (raw ≠ 0), or (raw = stored) when `stored` is given, for slices
   * [k0, k1) of planes of `plane` voxels; `raw` holds a copy of the volume's voxels as the
   * typed array named by `type` (e.g. 'Int16Array').
   */
  foreground: { raw: string; type: VoxelTypeName; dst: string; plane: number; stored?: number; offset?: number };
  /** CLAHE tile mappings (clahe-kernels.ts) of tile layers along k (per slice: of slices). */
  claheTiles: { src: string; maps: string; grid: ClaheGrid; clim: number; npix: number; offset?: number };
  /** CLAHE interpolation of the tile mappings at every voxel, src (grey bins) → dst. */
  claheMap: { src: string; maps: string; dst: string; grid: ClaheGrid; offset?: number };
  /**
   * CLAHE input levels in place on `src` (clahe-kernels.ts LevelArgs; `table` a buffer name):
   * 'u' → uint16 levels, returns their [min, max]; 'bins' → grey-level bins of the levels
   * given [umin, umax]; 'slices' → both per slice (each slice its own image).
   */
  claheLevels: { src: string; table: string | null; lo: number; range: number; nbins: number; dims: Dims; phase: 'u' | 'bins' | 'slices'; umin?: number; umax?: number; offset?: number };
  /** rescale_intensity to [0, 1] in place: 'range' returns [min, max]; 'apply' uses [lo, hi]; 'slices' per slice. */
  claheRescale: { dst: string; dims: Dims; phase: 'range' | 'apply' | 'slices'; lo?: number; hi?: number; offset?: number };
}
export type KernelName = keyof KernelArgMap;

const VOXEL_TYPES = { Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array };
export type VoxelTypeName = keyof typeof VOXEL_TYPES;

function buf(b: Buffers, name: string): Float32Array {
  const a = b.get(name);
  if (!a) throw new Error(`analysis kernel: unknown buffer '${name}'`);
  return a;
}

const kernelCache = new Map<string, Float32Array>();
function kernel(sigma: number, truncate: number): Float32Array {
  const key = `${sigma}/${truncate}`;
  let k = kernelCache.get(key);
  if (!k) kernelCache.set(key, (k = gaussianHalfKernel(sigma, truncate)));
  return k;
}

type KernelFn<K extends KernelName> = (b: Buffers, a: KernelArgMap[K], k0: number, k1: number) => number | number[];

/** The bytes of a buffer (byte masks live in Float32 buffers of a quarter of their length). */
export function bytesOf(b: Buffers, name: string): Uint8Array {
  const f = buf(b, name);
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}

export const KERNELS: { [K in KernelName]: KernelFn<K> } = {
  smoothXY(b, a, k0, k1) {
    const o = a.offset ?? 0;
    const kx = kernel(a.dims[0] > 1 ? a.sigma[0] : 0, a.truncate), ky = kernel(a.dims[1] > 1 ? a.sigma[1] : 0, a.truncate);
    const simd = simdKernels();
    if (simd) simd.smoothXY(buf(b, a.src), buf(b, a.dst), a.dims[0], a.dims[1], kx, ky, k0 + o, k1 + o);
    else smoothXY(buf(b, a.src), buf(b, a.dst), a.dims[0], a.dims[1], kx, ky, k0 + o, k1 + o);
    return 0;
  },
  smoothZ(b, a, k0, k1) {
    const o = a.offset ?? 0;
    const kz = kernel(a.dims[2] > 1 ? a.sigma[2] : 0, a.truncate);
    const simd = simdKernels();
    if (simd) simd.smoothZ(buf(b, a.src), buf(b, a.dst), a.dims[0], a.dims[1], a.dims[2], kz, k0 + o, k1 + o);
    else smoothZ(buf(b, a.src), buf(b, a.dst), a.dims[0], a.dims[1], a.dims[2], kz, k0 + o, k1 + o);
    return 0;
  },
  medianHist(b, a, k0, k1) {
    medianHistSlab(buf(b, a.src), buf(b, a.dst), a.dims, a.radius, a.lo, a.bins, k0 + (a.offset ?? 0), k1 + (a.offset ?? 0));
    return 0;
  },
  median27(b, a, k0, k1) {
    const o = a.offset ?? 0;
    const simd = simdKernels();
    if (simd) simd.median27(buf(b, a.src), buf(b, a.dst), a.dims[0], a.dims[1], a.dims[2], k0 + o, k1 + o);
    else medianSelectSlab(buf(b, a.src), buf(b, a.dst), a.dims, [1, 1, 1], k0 + o, k1 + o);
    return 0;
  },
  maskPairStats(b, a, k0, k1) {
    const o = a.offset ?? 0;
    return maskPairStatsSlab(bytesOf(b, a.a), bytesOf(b, a.b), a.dims, k0 + o, k1 + o);
  },
  surfaceInBox(b, a, k0, k1) {
    const o = a.offset ?? 0;
    const simd = simdKernels();
    if (simd) return simd.surfaceInBox(bytesOf(b, a.src), bytesOf(b, a.dst), a.dims, a.lo, a.size, k0 + o, k1 + o);
    return surfaceInBoxSlab(bytesOf(b, a.src), bytesOf(b, a.dst), a.dims, a.lo, a.size, k0 + o, k1 + o);
  },
  foreground(b, a, k0, k1) {
    const o = a.offset ?? 0;
    const r = buf(b, a.raw);
    const T = VOXEL_TYPES[a.type];
    if (!T) throw new Error(`analysis kernel: unknown voxel type '${a.type}'`);
    const p0 = (k0 + o) * a.plane, p1 = (k1 + o) * a.plane;
    foregroundRange(new T(r.buffer as ArrayBuffer, r.byteOffset, p1), bytesOf(b, a.dst), p0, p1, a.stored);
    return 0;
  },
  medianSelect(b, a, k0, k1) {
    medianSelectSlab(buf(b, a.src), buf(b, a.dst), a.dims, a.radius, k0 + (a.offset ?? 0), k1 + (a.offset ?? 0));
    return 0;
  },
  edtPass(b, a, k0, k1) {
    const o = a.offset ?? 0;
    const data = buf(b, a.buf);
    const simd = simdKernels();
    if (a.feature !== undefined) binaryRowPass(bytesOf(b, a.feature), data, a.dims, a.spacing, k0 + o, k1 + o, a.root ?? false);
    else if (simd && a.axis !== 0) simd.edtPass(data, a.dims[0], a.dims[1], a.dims[2], a.axis, a.spacing, k0 + o, k1 + o, a.root ?? false);
    else edtPassSlab(data, a.dims, a.axis, a.spacing, k0 + o, k1 + o, a.root ?? false);
    return 0;
  },
  claheTiles(b, a, k0, k1) {
    claheTilesSlab(buf(b, a.src), buf(b, a.maps), a.grid, a.clim, a.npix, k0 + (a.offset ?? 0), k1 + (a.offset ?? 0));
    return 0;
  },
  claheMap(b, a, k0, k1) {
    claheMapSlab(buf(b, a.src), buf(b, a.maps), buf(b, a.dst), a.grid, k0 + (a.offset ?? 0), k1 + (a.offset ?? 0));
    return 0;
  },
  claheLevels(b, a, k0, k1) {
    const src = buf(b, a.src);
    const la = { table: a.table ? buf(b, a.table) : null, lo: a.lo, range: a.range, nbins: a.nbins };
    const per = a.dims[0] * a.dims[1];
    const o = a.offset ?? 0;
    if (a.phase === 'u') return claheU16Slab(src, la, (k0 + o) * per, (k1 + o) * per);
    if (a.phase === 'bins') claheBinsSlab(src, a.nbins, a.umin!, a.umax!, (k0 + o) * per, (k1 + o) * per);
    else
      for (let k = k0 + o; k < k1 + o; k++) {
        const [umin, umax] = claheU16Slab(src, la, k * per, (k + 1) * per);
        claheBinsSlab(src, a.nbins, umin, umax, k * per, (k + 1) * per);
      }
    return 0;
  },
  claheRescale(b, a, k0, k1) {
    const dst = buf(b, a.dst);
    const per = a.dims[0] * a.dims[1];
    const o = a.offset ?? 0;
    if (a.phase === 'range') return rangeSlab(dst, (k0 + o) * per, (k1 + o) * per);
    if (a.phase === 'apply') rescaleSlab(dst, a.lo!, a.hi!, (k0 + o) * per, (k1 + o) * per);
    else
      for (let k = k0 + o; k < k1 + o; k++) {
        const [lo, hi] = rangeSlab(dst, k * per, (k + 1) * per);
        rescaleSlab(dst, lo, hi, k * per, (k + 1) * per);
      }
    return 0;
  },
};

/** Runs one kernel on one slab (kernel threads and the inline executor). */
export function runKernel(b: Buffers, op: KernelName, args: unknown, k0: number, k1: number): number | number[] {
  const fn = KERNELS[op] as KernelFn<KernelName>;
  if (!fn) throw new Error(`analysis: unknown kernel '${op}'`);
  return fn(b, args as never, k0, k1);
}

/** Runs kernels over slabs; buffers made through it are visible to its threads. */
export interface SlabExecutor {
  readonly threads: number;
  /**
   * A buffer of `length` floats, zeroed; with `overwritten` (the caller writes every element
   * before reading any) it may be a recycled buffer with old contents, which saves the
   * first-touch cost of fresh memory (page faults: as much as the arithmetic of a pass here).
   */
  alloc(name: string, length: number, overwritten?: boolean): Float32Array;
  get(name: string): Float32Array;
  free(name: string): void;
  run<K extends KernelName>(op: K, args: KernelArgMap[K], nSlices: number): Promise<unknown[]>;
}

/** One thread: every kernel runs here. */
export class InlineSlabExecutor implements SlabExecutor {
  readonly threads = 1;
  private readonly bufs: Buffers = new Map();
  alloc(name: string, length: number): Float32Array {
    const a = new Float32Array(length);
    this.bufs.set(name, a);
    return a;
  }
  get(name: string): Float32Array {
    return buf(this.bufs, name);
  }
  free(name: string): void {
    this.bufs.delete(name);
  }
  async run<K extends KernelName>(op: K, args: KernelArgMap[K], nSlices: number): Promise<unknown[]> {
    return [runKernel(this.bufs, op, args, 0, nSlices)];
  }
}

// --------------------------------------------------------------------------------------
// Median

const clampi = (v: number, n: number) => (v < 0 ? 0 : v >= n ? n - 1 : v);

/** Row starts of the (2ry+1)(2rz+1) rows around row (j, k), clamped (duplicates at edges count twice, as mode='nearest'). */
function windowRows(j: number, k: number, nx: number, ny: number, nz: number, ry: number, rz: number, out: Int32Array): number {
  let t = 0;
  for (let dz = -rz; dz <= rz; dz++) {
    const kk = clampi(k + dz, nz);
    for (let dy = -ry; dy <= ry; dy++) out[t++] = (kk * ny + clampi(j + dy, ny)) * nx;
  }
  return t;
}

export function medianHistSlab(src: Float32Array, dst: Float32Array, dims: Dims, radius: Dims, lo: number, bins: number, k0: number, k1: number): void {
  const [nx, ny, nz] = dims;
  const [rx, ry, rz] = radius;
  const hist = new Int32Array(bins + 1);
  const rows = new Int32Array((2 * ry + 1) * (2 * rz + 1));
  const total = (2 * rx + 1) * rows.length;
  const half = (total - 1) >> 1;
  let m = 0; // current median bin, kept between rows (neighbouring rows have similar medians)
  for (let k = k0; k < k1; k++) {
    for (let j = 0; j < ny; j++) {
      const R = windowRows(j, k, nx, ny, nz, ry, rz, rows);
      // Window at i = 0: columns clamp(-rx..rx).
      let lt = 0; // voxels in the window with bin < m
      for (let d = -rx; d <= rx; d++) {
        const c = clampi(d, nx);
        for (let t = 0; t < R; t++) {
          const v = (src[rows[t] + c] - lo) | 0;
          hist[v]++;
          if (v < m) lt++;
        }
      }
      const out = (k * ny + j) * nx;
      for (let i = 0; ; ) {
        while (lt > half) lt -= hist[--m];
        while (lt + hist[m] <= half) lt += hist[m++];
        dst[out + i] = m + lo;
        if (++i === nx) break;
        const cOut = i - 1 - rx < 0 ? 0 : i - 1 - rx;
        const cIn = i + rx >= nx ? nx - 1 : i + rx;
        for (let t = 0; t < R; t++) {
          const r = rows[t];
          const vo = (src[r + cOut] - lo) | 0;
          const vi = (src[r + cIn] - lo) | 0;
          hist[vo]--;
          hist[vi]++;
          // Branch-free (noise makes these comparisons unpredictable): (v − m) >>> 31 = (v < m).
          lt += ((vi - m) >>> 31) - ((vo - m) >>> 31);
        }
      }
      // Empty the histogram: remove the last window (i = nx − 1).
      for (let d = -rx; d <= rx; d++) {
        const c = clampi(nx - 1 + d, nx);
        for (let t = 0; t < R; t++) hist[(src[rows[t] + c] - lo) | 0]--;
      }
    }
  }
}

/** k-th smallest of a[0..n); a is reordered so that a[0..k) ≤ a[k] ≤ a(k..n) (Wirth). */
export function select(a: Float64Array, n: number, kth: number): number {
  let l = 0, r = n - 1;
  while (r > l) {
    const x = a[(l + r) >> 1];
    let i = l, j = r;
    while (i <= j) {
      while (a[i] < x) i++;
      while (a[j] > x) j--;
      if (i <= j) {
        const t = a[i]; a[i] = a[j]; a[j] = t;
        i++; j--;
      }
    }
    if (kth <= j) r = j;
    else if (kth >= i) l = i;
    else break;
  }
  return a[kth];
}

export function medianSelectSlab(src: Float32Array, dst: Float32Array, dims: Dims, radius: Dims, k0: number, k1: number): void {
  const [nx, ny, nz] = dims;
  const [rx, ry, rz] = radius;
  const rows = new Int32Array((2 * ry + 1) * (2 * rz + 1));
  const w = new Float64Array((2 * rx + 1) * rows.length);
  const half = (w.length - 1) >> 1;
  for (let k = k0; k < k1; k++) {
    for (let j = 0; j < ny; j++) {
      const R = windowRows(j, k, nx, ny, nz, ry, rz, rows);
      const out = (k * ny + j) * nx;
      for (let i = 0; i < nx; i++) {
        let n = 0;
        for (let d = -rx; d <= rx; d++) {
          const c = clampi(i + d, nx);
          for (let t = 0; t < R; t++) w[n++] = src[rows[t] + c];
        }
        dst[out + i] = select(w, n, half);
      }
    }
  }
}

// --------------------------------------------------------------------------------------
// Exact Euclidean distance transform (Felzenszwalb & Huttenlocher, "Distance transforms of
// sampled functions", 2012): the squared distance is separable, one lower envelope of
// parabolas per line and axis; with spacing s the parabola of voxel p is (s·(q − p))² + f(p).

/**
 * d[q] = min_p (s·(q − p))² + f[p] for one line of length n (f may hold +Infinity).
 * wasm/assembly/kernels.ts edtLine is the same arithmetic (tests compare them exactly).
 */
export function edt1d(f: Float64Array, n: number, s: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q];
    if (fq === Infinity) continue;
    const xq = q * s;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    // z[0] = −∞ stops the loop at k = 0: the first parabola is never removed from the left.
    const c = fq + xq * xq;
    let p = v[k];
    let xp = p * s;
    let x = (c - (f[p] + xp * xp)) / (2 * (xq - xp));
    while (x <= z[k]) {
      p = v[--k];
      xp = p * s;
      x = (c - (f[p] + xp * xp)) / (2 * (xq - xp));
    }
    k++;
    v[k] = q;
    z[k] = x;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    d.fill(Infinity, 0, n);
    return;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    const xq = q * s;
    while (z[k + 1] < xq) k++;
    const p = v[k];
    const dx = xq - p * s;
    d[q] = dx * dx + f[p];
  }
}

/** Lines gathered per block: strided lines are copied B at a time so that reads are contiguous. */
const BLOCK = 16;

/**
 * The first pass of a binary feature map along i: the 1D distance to the nearest feature in
 * the row, segment by segment between consecutive features (no parabolas needed, one write
 * per voxel); rows k in [k0, k1) of `feature` → `data`.
 */
function binaryRowPass(feature: Uint8Array, data: Float32Array, dims: Dims, s: number, k0: number, k1: number, root: boolean): void {
  const [nx, ny] = dims;
  // Distance g voxels → g·s mm, or its square: a table, so the loops below only look it up.
  const mm = new Float32Array(nx + 1);
  for (let g = 0; g <= nx; g++) mm[g] = root ? g * s : g * s * g * s;
  for (let k = k0; k < k1; k++)
    for (let j = 0; j < ny; j++) {
      const o = (k * ny + j) * nx;
      // Features found with indexOf (native, many bytes per step: rows are mostly empty in a
      // surface map); the map is 0/1.
      const row = feature.subarray(o, o + nx);
      let i = row.indexOf(1);
      if (i < 0) {
        data.fill(Infinity, o, o + nx);
        continue;
      }
      for (let t = 0; t < i; t++) data[o + t] = mm[i - t];
      for (;;) {
        data[o + i] = 0;
        const next = row.indexOf(1, i + 1);
        if (next < 0) break;
        const mid = (i + next) >> 1;
        for (let t = i + 1; t <= mid; t++) data[o + t] = mm[t - i];
        for (let t = mid + 1; t < next; t++) data[o + t] = mm[next - t];
        i = next;
      }
      for (let t = i + 1; t < nx; t++) data[o + t] = mm[t - i];
    }
}

export function edtPassSlab(data: Float32Array, dims: Dims, axis: 0 | 1 | 2, s: number, k0: number, k1: number, root = false): void {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const n = dims[axis];
  const f = new Float64Array(n * BLOCK);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  const line = (base: number, stride: number, count: number) => {
    // gather `count` lines (base + t, step `stride`) → f[t·n + q]
    for (let q = 0; q < n; q++) {
      const o = base + q * stride;
      for (let t = 0; t < count; t++) f[t * n + q] = data[o + t];
    }
    for (let t = 0; t < count; t++) {
      const ft = f.subarray(t * n, t * n + n);
      edt1d(ft, n, s, d, v, z);
      ft.set(d);
    }
    for (let q = 0; q < n; q++) {
      const o = base + q * stride;
      for (let t = 0; t < count; t++) data[o + t] = root ? Math.sqrt(f[t * n + q]) : f[t * n + q];
    }
  };
  if (axis === 0) {
    const fl = f.subarray(0, n);
    for (let k = k0; k < k1; k++)
      for (let j = 0; j < ny; j++) {
        const o = (k * ny + j) * nx;
        for (let i = 0; i < nx; i++) fl[i] = data[o + i];
        edt1d(fl, nx, s, d, v, z);
        for (let i = 0; i < nx; i++) data[o + i] = root ? Math.sqrt(d[i]) : d[i];
      }
  } else if (axis === 1) {
    for (let k = k0; k < k1; k++) for (let i0 = 0; i0 < nx; i0 += BLOCK) line(k * plane + i0, nx, Math.min(BLOCK, nx - i0));
  } else {
    for (let j = k0; j < k1; j++) for (let i0 = 0; i0 < nx; i0 += BLOCK) line(j * nx + i0, plane, Math.min(BLOCK, nx - i0));
  }
}

// --------------------------------------------------------------------------------------
// Masks and their comparison (common.ts foreground, distance.ts, compare-masks.ts)

/** d[p] = 1 where v[p] ≠ 0 (or, with `stored`, where v[p] = stored), else 0, for p in [p0, p1). */
export function foregroundRange(v: ArrayLike<number>, d: Uint8Array, p0: number, p1: number, stored?: number): void {
  if (stored === undefined) for (let p = p0; p < p1; p++) d[p] = v[p] !== 0 ? 1 : 0;
  else for (let p = p0; p < p1; p++) d[p] = v[p] === stored ? 1 : 0;
}

/** The maskPairStats answers of all slabs as one: sums of the counts and centre sums, the box's min and max. */
export function mergeMaskPairStats(parts: number[][]): number[] {
  const t = new Array<number>(15).fill(0);
  for (let q = 9; q < 12; q++) t[q] = Infinity;
  for (let q = 12; q < 15; q++) t[q] = -1;
  for (const r of parts) for (let q = 0; q < 15; q++) t[q] = q < 9 ? t[q] + r[q] : q < 12 ? Math.min(t[q], r[q]) : Math.max(t[q], r[q]);
  return t;
}

export function maskPairStatsSlab(A: Uint8Array, B: Uint8Array, dims: Dims, k0: number, k1: number): number[] {
  const [nx, ny] = dims;
  let na = 0, nb = 0, tp = 0;
  let ai = 0, aj = 0, ak = 0, bi = 0, bj = 0, bk = 0;
  let lo0 = Infinity, lo1 = Infinity, lo2 = Infinity, hi0 = -1, hi1 = -1, hi2 = -1;
  for (let k = k0; k < k1; k++)
    for (let j = 0; j < ny; j++) {
      const row = (k * ny + j) * nx;
      let first = -1, last = -1, rowA = 0, rowB = 0, sumA = 0, sumB = 0, both = 0;
      for (let i = 0; i < nx; i++) {
        const x = A[row + i], y = B[row + i];
        if ((x | y) === 0) continue;
        if (first < 0) first = i;
        last = i;
        rowA += x;
        sumA += x * i;
        rowB += y;
        sumB += y * i;
        both += x & y;
      }
      if (first < 0) continue;
      na += rowA; nb += rowB; tp += both;
      ai += sumA; aj += rowA * j; ak += rowA * k;
      bi += sumB; bj += rowB * j; bk += rowB * k;
      if (first < lo0) lo0 = first;
      if (last > hi0) hi0 = last;
      if (j < lo1) lo1 = j;
      if (j > hi1) hi1 = j;
      if (k < lo2) lo2 = k;
      hi2 = k;
    }
  return [na, nb, tp, ai, aj, ak, bi, bj, bk, lo0, lo1, lo2, hi0, hi1, hi2];
}

/** Writes the surface of `m` inside the box (see the kernel's comment); returns its voxel count. */
export function surfaceInBoxSlab(m: Uint8Array, s: Uint8Array, dims: Dims, lo: Dims, size: Dims, k0: number, k1: number): number {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  let count = 0;
  for (let kb = k0; kb < k1; kb++) {
    const k = kb + lo[2];
    for (let jb = 0; jb < size[1]; jb++) {
      const j = jb + lo[1];
      const row = k * plane + j * nx;
      const t0 = (kb * size[1] + jb) * size[0] - lo[0];
      if (j === 0 || j === ny - 1 || k === 0 || k === nz - 1) {
        // On the image's faces every voxel of the mask is surface.
        for (let i = lo[0]; i < lo[0] + size[0]; i++) count += s[t0 + i] = m[row + i] !== 0 ? 1 : 0;
        continue;
      }
      // Interior rows, branch-free: a mask voxel is inside when all 6 neighbours are (masks are 0/1).
      const i0 = Math.max(lo[0], 1), i1 = Math.min(lo[0] + size[0], nx - 1);
      for (let i = lo[0]; i < i0; i++) count += s[t0 + i] = m[row + i];
      for (let i = i0; i < i1; i++) {
        const p = row + i;
        count += s[t0 + i] = m[p] & ~(m[p - 1] & m[p + 1] & m[p - nx] & m[p + nx] & m[p - plane] & m[p + plane]) & 1;
      }
      for (let i = i1; i < lo[0] + size[0]; i++) count += s[t0 + i] = m[row + i];
    }
  }
  return count;
}
