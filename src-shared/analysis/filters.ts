/**
 * Image filters; every output is a float32 volume of real values on the input grid.
 *
 * Conventions (checked against scipy.ndimage in test/analysis-real.test.ts):
 * - Edges replicate the border voxel (scipy mode='nearest', ITK's zero-flux Neumann).
 * - mean / median: the box of (2r+1) voxels per axis (radius r in voxels, per axis);
 *   = ndi.uniform_filter / ndi.median_filter(size=2r+1, mode='nearest').
 * - gaussian: σ in mm per axis (σ/spacing voxels), kernel truncated at 3σ (as the registration's
 *   smoothing; radius ceil(3σ) voxels, 99.7 % of the mass), normalised; separable.
 * - gradients: central differences in mm (one-sided at the edges, like numpy.gradient),
 *   'gradient-x/y/z' are the WORLD (LPS) components, i.e. the index-axis derivatives turned
 *   by the direction cosines (ITK's GradientImageFilter with UseImageDirection);
 *   'gradient-magnitude' is their norm (independent of the direction cosines).
 * - laplacian: Σ over axes of (f[i−1] − 2f[i] + f[i+1]) / spacing², in 1/mm² units.
 * - kernel: correlation with a small user kernel (odd sizes, i fastest), = ndi.correlate.
 */
import { voxelCount, type Vec3, type Volume } from '../image/volume';
import { throwIfAborted } from '../processing/progress';
import { simdKernels } from './wasm/simd';
import { bufferName, executorOf, floatResult, realValues, runChunked, type AnalysisOptions } from './common';

export type FilterKind =
  | 'mean'
  | 'median'
  | 'gaussian'
  | 'gradient-magnitude'
  | 'gradient-x'
  | 'gradient-y'
  | 'gradient-z'
  | 'laplacian'
  | 'kernel';

export const FILTER_KINDS: FilterKind[] = ['mean', 'median', 'gaussian', 'gradient-magnitude', 'gradient-x', 'gradient-y', 'gradient-z', 'laplacian', 'kernel'];

export interface FilterParams {
  filter: FilterKind;
  /** mean / median: box radius in voxels (one for all axes, or per axis). */
  radius?: number | Vec3;
  /** gaussian: σ in mm (one for all axes, or per axis). */
  sigmaMm?: number | Vec3;
  /** kernel: weights, i fastest, sizes in `kernelSize` (each odd, ≤ 15). */
  kernel?: number[];
  kernelSize?: Vec3;
}

/** Filters the first frame of `vol`. */
export async function filterVolume(vol: Volume, p: FilterParams, opts: AnalysisOptions = {}): Promise<Volume> {
  switch (p.filter) {
    case 'mean':
      return floatResult(vol, meanFilter(vol, vec3(p.radius ?? 1, 'radius'), opts), vol, `mean r=${fmtVec(p.radius ?? 1)}`);
    case 'median':
      return floatResult(vol, await medianFilter(vol, vec3(p.radius ?? 1, 'radius'), opts), vol, `median r=${fmtVec(p.radius ?? 1)}`);
    case 'gaussian':
      return floatResult(vol, await gaussianFilter(vol, sigmaVec(p.sigmaMm ?? 1), opts), vol, `gaussian σ=${fmtVec(p.sigmaMm ?? 1)} mm`);
    case 'gradient-magnitude':
    case 'gradient-x':
    case 'gradient-y':
    case 'gradient-z':
      return floatResult(vol, gradientFilter(vol, p.filter, opts), vol, p.filter);
    case 'laplacian':
      return floatResult(vol, laplacianFilter(vol, opts), vol, 'laplacian');
    case 'kernel': {
      if (!p.kernel || !p.kernelSize) throw new Error('filter kernel: give the kernel weights and their sizes');
      return floatResult(vol, correlate(vol, p.kernel, p.kernelSize, opts), vol, `kernel ${p.kernelSize.join('×')}`);
    }
    default:
      throw new Error(`unknown filter '${String((p as { filter: unknown }).filter)}' (known: ${FILTER_KINDS.join(', ')})`);
  }
}

function vec3(r: number | Vec3, what: string): Vec3 {
  const v: Vec3 = typeof r === 'number' ? [r, r, r] : r;
  for (const x of v) if (!Number.isInteger(x) || x < 0 || x > 50) throw new Error(`filter: ${what} must be an integer number of voxels in 0…50, got ${x}`);
  return v;
}

function sigmaVec(s: number | Vec3): Vec3 {
  const v: Vec3 = typeof s === 'number' ? [s, s, s] : s;
  for (const x of v) if (!(x >= 0) || !Number.isFinite(x)) throw new Error(`gaussian: σ must be ≥ 0 mm, got ${x}`);
  return v;
}

const fmtVec = (v: number | Vec3) => (typeof v === 'number' ? String(v) : v.join(','));

/** Box mean: three passes of running sums (float64) along i, j, k. */
export function meanFilter(vol: Volume, radius: Vec3, opts: AnalysisOptions = {}): Float32Array {
  const out = realValues(vol);
  const dims = vol.dims;
  for (let axis = 0 as 0 | 1 | 2; axis < 3; axis++) {
    const r = dims[axis] > 1 ? radius[axis] : 0;
    if (r === 0) continue;
    opts.onProgress?.(axis / 3, 'Mean filter');
    throwIfAborted(opts.signal);
    const w = 2 * r + 1;
    forEachLine(out, dims, axis, (line, n, res) => {
      // Running sum over clamped indices [q − r, q + r].
      let sum = 0;
      for (let t = -r; t <= r; t++) sum += line[t < 0 ? 0 : t >= n ? n - 1 : t];
      for (let q = 0; q < n; q++) {
        res[q] = sum / w;
        const a = q - r, b = q + r + 1;
        sum += line[b >= n ? n - 1 : b] - line[a < 0 ? 0 : a];
      }
    });
  }
  return out;
}

/**
 * Calls fn(line, n, result) for every line along `axis` of the volume and writes the
 * result back (lines copied out, so strided axes read contiguous memory in blocks).
 */
function forEachLine(data: Float32Array, dims: Vec3, axis: 0 | 1 | 2, fn: (line: Float64Array, n: number, res: Float64Array) => void): void {
  const [nx, ny, nz] = dims;
  const n = dims[axis];
  const stride = axis === 0 ? 1 : axis === 1 ? nx : nx * ny;
  const B = axis === 0 ? 1 : 16;
  const block = new Float64Array(n * B);
  const res = new Float64Array(n);
  // Line starts, grouped so that B consecutive starts are B contiguous voxels (axis ≠ 0).
  const run = (base: number, count: number) => {
    for (let q = 0; q < n; q++) for (let t = 0; t < count; t++) block[t * n + q] = data[base + q * stride + t];
    for (let t = 0; t < count; t++) {
      const l = block.subarray(t * n, t * n + n);
      fn(l, n, res);
      l.set(res);
    }
    for (let q = 0; q < n; q++) for (let t = 0; t < count; t++) data[base + q * stride + t] = block[t * n + q];
  };
  if (axis === 0) for (let r = 0; r < ny * nz; r++) run(r * nx, 1);
  else if (axis === 1) for (let k = 0; k < nz; k++) for (let i0 = 0; i0 < nx; i0 += B) run(k * nx * ny + i0, Math.min(B, nx - i0));
  else for (let j = 0; j < ny; j++) for (let i0 = 0; i0 < nx; i0 += B) run(j * nx + i0, Math.min(B, nx - i0));
}

/**
 * Median of the box: exact. Integer-valued images (CT, MR: the stored values) go through a
 * sliding histogram (Huang's algorithm along i); other images through a per-voxel selection.
 * The median commutes with rescale slope/intercept, so it runs on stored values.
 */
export async function medianFilter(vol: Volume, radius: Vec3, opts: AnalysisOptions = {}): Promise<Float32Array> {
  const n = voxelCount(vol);
  const dims = [...vol.dims] as Vec3;
  const r = radius.map((x, a) => (dims[a] > 1 ? x : 0)) as Vec3;
  const ex = executorOf(opts);
  const src = bufferName('median-src'), dst = bufferName('median-dst');
  const s = ex.alloc(src, n, true);
  const d = vol.data;
  let lo = Infinity, hi = -Infinity, integral = true;
  for (let i = 0; i < n; i++) {
    const v = d[i];
    s[i] = v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (integral && !Number.isInteger(v)) integral = false;
  }
  ex.alloc(dst, n, true);
  try {
    const bins = hi - lo + 1;
    // 3×3×3 (the usual denoising box): the SIMD sorting network beats the histogram ~4×.
    if (r[0] === 1 && r[1] === 1 && r[2] === 1 && simdKernels()) await runChunked(ex, 'median27', { src, dst, dims }, dims[2], opts, 0, 0.95, 'Median filter');
    else if (integral && bins <= 1 << 20) await runChunked(ex, 'medianHist', { src, dst, dims, radius: r, lo, bins }, dims[2], opts, 0, 0.95, 'Median filter');
    else await runChunked(ex, 'medianSelect', { src, dst, dims, radius: r }, dims[2], opts, 0, 0.95, 'Median filter');
    const out = new Float32Array(n);
    const res = ex.get(dst);
    const slope = vol.rescaleSlope || 1, icpt = vol.rescaleIntercept || 0;
    if (slope === 1 && icpt === 0) out.set(res);
    else for (let i = 0; i < n; i++) out[i] = res[i] * slope + icpt;
    return out;
  } finally {
    ex.free(src);
    ex.free(dst);
  }
}

/** Separable Gaussian, σ in mm per axis, truncated at 3σ (the registration's kernels). */
export async function gaussianFilter(vol: Volume, sigmaMm: Vec3, opts: AnalysisOptions = {}): Promise<Float32Array> {
  const n = voxelCount(vol);
  const dims = [...vol.dims] as Vec3;
  const sigma = sigmaMm.map((s, a) => s / vol.spacing[a]) as Vec3;
  const ex = executorOf(opts);
  const a = bufferName('gauss-a'), b = bufferName('gauss-b');
  realValues(vol, ex.alloc(a, n, true));
  ex.alloc(b, n, true);
  try {
    const truncate = 3;
    await runChunked(ex, 'smoothXY', { src: a, dst: a, dims, sigma, truncate }, dims[2], opts, 0, 0.6, 'Gaussian filter');
    await runChunked(ex, 'smoothZ', { src: a, dst: b, dims, sigma, truncate }, dims[2], opts, 0.6, 0.95, 'Gaussian filter');
    // A plain copy: the executor's buffers may be shared memory, which cannot leave the process.
    return new Float32Array(ex.get(b));
  } finally {
    ex.free(a);
    ex.free(b);
  }
}

/** Central differences in mm along index axis `axis` (one-sided at the edges). */
function derivative(f: Float32Array, dims: Vec3, spacing: Vec3, axis: 0 | 1 | 2, out: Float32Array): void {
  const [nx, ny, nz] = dims;
  const n = dims[axis];
  const stride = axis === 0 ? 1 : axis === 1 ? nx : nx * ny;
  const h = spacing[axis];
  if (n < 2) {
    out.fill(0);
    return;
  }
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const p = (k * ny + j) * nx + i;
        const q = axis === 0 ? i : axis === 1 ? j : k;
        if (q === 0) out[p] = (f[p + stride] - f[p]) / h;
        else if (q === n - 1) out[p] = (f[p] - f[p - stride]) / h;
        else out[p] = (f[p + stride] - f[p - stride]) / (2 * h);
      }
}

export function gradientFilter(vol: Volume, which: 'gradient-magnitude' | 'gradient-x' | 'gradient-y' | 'gradient-z', opts: AnalysisOptions = {}): Float32Array {
  const n = voxelCount(vol);
  const f = realValues(vol);
  const g = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  for (let a = 0 as 0 | 1 | 2; a < 3; a++) {
    opts.onProgress?.(a / 3, 'Gradient');
    throwIfAborted(opts.signal);
    derivative(f, vol.dims, vol.spacing, a, g[a]);
  }
  const out = f; // reuse
  if (which === 'gradient-magnitude') {
    for (let p = 0; p < n; p++) out[p] = Math.sqrt(g[0][p] * g[0][p] + g[1][p] * g[1][p] + g[2][p] * g[2][p]);
    return out;
  }
  // World component c: Σ_a D[c][a] · ∂f/∂(mm along axis a).
  const c = which === 'gradient-x' ? 0 : which === 'gradient-y' ? 1 : 2;
  const D = vol.direction;
  const w0 = D[c * 3], w1 = D[c * 3 + 1], w2 = D[c * 3 + 2];
  for (let p = 0; p < n; p++) out[p] = w0 * g[0][p] + w1 * g[1][p] + w2 * g[2][p];
  return out;
}

export function laplacianFilter(vol: Volume, opts: AnalysisOptions = {}): Float32Array {
  const n = voxelCount(vol);
  const f = realValues(vol);
  const out = new Float32Array(n);
  const [nx, ny, nz] = vol.dims;
  for (let a = 0; a < 3; a++) {
    if (vol.dims[a] < 2) continue;
    opts.onProgress?.(a / 3, 'Laplacian');
    throwIfAborted(opts.signal);
    const stride = a === 0 ? 1 : a === 1 ? nx : nx * ny;
    const len = vol.dims[a];
    const h2 = vol.spacing[a] * vol.spacing[a];
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          const p = (k * ny + j) * nx + i;
          const q = a === 0 ? i : a === 1 ? j : k;
          const lo = q === 0 ? f[p] : f[p - stride];
          const hi = q === len - 1 ? f[p] : f[p + stride];
          out[p] += (lo - 2 * f[p] + hi) / h2;
        }
  }
  return out;
}

/** Correlation with a small kernel w (size kx×ky×kz, i fastest, odd sizes), edges replicated. */
export function correlate(vol: Volume, w: number[], size: Vec3, opts: AnalysisOptions = {}): Float32Array {
  for (const s of size) if (!Number.isInteger(s) || s < 1 || s % 2 === 0 || s > 15) throw new Error(`filter kernel: each size must be odd, 1…15, got ${size.join('×')}`);
  if (w.length !== size[0] * size[1] * size[2]) throw new Error(`filter kernel: ${w.length} weights for a ${size.join('×')} kernel`);
  const f = realValues(vol);
  const [nx, ny, nz] = vol.dims;
  const out = new Float32Array(f.length);
  const [rx, ry, rz] = size.map((s) => (s - 1) / 2);
  const taps: Array<[number, number, number, number]> = [];
  for (let dz = -rz; dz <= rz; dz++)
    for (let dy = -ry; dy <= ry; dy++)
      for (let dx = -rx; dx <= rx; dx++) {
        const wt = w[((dz + rz) * size[1] + dy + ry) * size[0] + dx + rx];
        if (wt !== 0) taps.push([dx, dy, dz, wt]);
      }
  const acc = new Float64Array(nx);
  for (let k = 0; k < nz; k++) {
    if ((k & 7) === 0) {
      opts.onProgress?.(k / nz, 'Kernel filter');
      throwIfAborted(opts.signal);
    }
    for (let j = 0; j < ny; j++) {
      acc.fill(0);
      for (const [dx, dy, dz, wt] of taps) {
        const kk = Math.min(nz - 1, Math.max(0, k + dz));
        const jj = Math.min(ny - 1, Math.max(0, j + dy));
        const row = (kk * ny + jj) * nx;
        for (let i = 0; i < nx; i++) {
          const ii = i + dx < 0 ? 0 : i + dx >= nx ? nx - 1 : i + dx;
          acc[i] += wt * f[row + ii];
        }
      }
      const o = (k * ny + j) * nx;
      for (let i = 0; i < nx; i++) out[o + i] = acc[i];
    }
  }
  return out;
}
