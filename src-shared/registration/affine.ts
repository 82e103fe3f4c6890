/**
 * Automatic rigid and affine registration (intensity based, multi-resolution).
 *
 * - Transform: y = A (x − c) + c + t in LPS mm, mapping fixed-space points to moving-space
 *   points (ITK's convention, the pull-back used to resample moving onto fixed). c is the
 *   fixed image centre. Rigid: A = Rz·Ry·Rx (3 angles); affine: A free (9 values).
 * - Metrics: mean squared difference (same modality), normalised cross-correlation (linear
 *   intensity relation) and Mattes mutual information (any functional relation: CT↔MR,
 *   CT↔PET): 32-bin joint histogram, cubic B-spline Parzen window on the moving intensity,
 *   zero-order on the fixed one, as in Mattes et al. 2003 / ITK's MattesMutualInformation.
 * - Samples: a fixed, deterministic random subset of fixed voxels per level (like ITK's
 *   random sampler), so the metric is a deterministic function of the parameters.
 * - Optimiser: compass (pattern) search with step halving, parameters scaled so a unit step
 *   moves points by about 1 mm (rotations and matrix entries scaled by the image radius).
 *   It needs no metric gradient, which makes it robust for MI with few samples.
 * - Levels: images shrunk 4×, 2×, 1× (Gaussian anti-aliasing), each level starting from the
 *   previous result; the initial translation aligns image centres or centres of mass.
 *
 * Pure TypeScript over Float32Array; runs on the calling thread (each metric evaluation
 * touches only the samples, ~0.5 ms, so a whole registration takes about a second).
 */
import type { ImageGeometry, Mat4, Vec3, Volume } from '../image/volume';
import { gridIndexToWorld, gridWorldToIndex, mulMat4 } from '../image/resample';
import { smooth3D } from './gaussian';
import { halfDims, sampleClamped, subsample } from './field-kernels';
import { flipWorldMatrixLpsRas } from './itk-transform';
import { throwIfAborted } from './cancel';

export type AffineMetric = 'msd' | 'ncc' | 'mi';
export type AffineKind = 'rigid' | 'affine';

export interface AffineOptions {
  transform?: AffineKind;
  metric?: AffineMetric;
  /** Resolution levels (shrink 2^(levels−1) … 1). Default 3. */
  levels?: number;
  /** How to initialise the translation. Default 'centers' (image centres). */
  init?: 'centers' | 'moments' | 'none';
  /** Fixed voxels sampled per level. Default 50 000. */
  samples?: number;
  /** Histogram bins for MI. Default 32. */
  bins?: number;
  /** Optional starting matrix (row-major 4×4 LPS pull-back); overrides `init`. */
  initialMatrix?: Mat4;
  /** Seed of the sample selection. */
  seed?: number;
}

export interface AffineProgress {
  stage: 'affine';
  level: number;
  levels: number;
  iteration: number;
  metric: number;
}

export interface AffineResult {
  /** Row-major 4×4 LPS pull-back matrix: fixed-world point → moving-world point. */
  matrixLps: Mat4;
  /** The same map in RAS coordinates (NIfTI world): S·matrixLps·S, S = diag(−1,−1,1,1). */
  matrixRas: Mat4;
  /** Rotation angles (rad, about x, y, z of LPS) and translation (mm) of the rigid part. */
  parameters: number[];
  metrics: { metric: AffineMetric; before: number; after: number; evaluations: number; seconds: number };
}

export interface AffineCallbacks {
  onProgress?: (p: AffineProgress) => void;
  signal?: AbortSignal;
}

// ------------------------------------------------------------------------------------------
// Images as real-valued Float32 arrays with geometry, and their pyramid.

export interface RealImage extends ImageGeometry {
  data: Float32Array;
}

/** Real values (slope/intercept applied) of frame 0 of a volume as Float32Array. */
export function realImage(v: Volume): RealImage {
  const n = v.dims[0] * v.dims[1] * v.dims[2];
  const slope = v.rescaleSlope || 1, icpt = v.rescaleIntercept || 0;
  let data: Float32Array;
  if (v.data instanceof Float32Array && slope === 1 && icpt === 0) data = v.data.length === n ? v.data : v.data.subarray(0, n);
  else {
    data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = v.data[i] * slope + icpt;
  }
  return { dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data };
}

/** Halves the grid (σ = 1 voxel anti-aliasing, then every 2nd voxel); coarse c ↔ fine 2c. */
export function shrinkImage(img: RealImage): RealImage {
  const n = img.data.length;
  const sm = new Float32Array(n);
  smooth3D(img.data, sm, new Float32Array(n), img.dims, 1);
  const cd = halfDims(img.dims);
  const out = new Float32Array(cd[0] * cd[1] * cd[2]);
  subsample(sm, img.dims, out, cd, 0, cd[2]);
  const f = img.dims.map((d) => (d > 1 ? 2 : 1));
  return {
    dims: cd,
    spacing: [img.spacing[0] * f[0], img.spacing[1] * f[1], img.spacing[2] * f[2]],
    origin: img.origin,
    direction: img.direction,
    data: out,
  };
}

function centre(g: ImageGeometry): Vec3 {
  const m = gridIndexToWorld(g);
  const c = [(g.dims[0] - 1) / 2, (g.dims[1] - 1) / 2, (g.dims[2] - 1) / 2];
  return [0, 1, 2].map((r) => m[r * 4] * c[0] + m[r * 4 + 1] * c[1] + m[r * 4 + 2] * c[2] + m[r * 4 + 3]) as Vec3;
}

/** Centre of mass of (value − min) in world mm. */
function centreOfMass(img: RealImage): Vec3 {
  const [nx, ny, nz] = img.dims;
  let mn = Infinity;
  for (let i = 0; i < img.data.length; i++) if (img.data[i] < mn) mn = img.data[i];
  let s = 0, si = 0, sj = 0, sk = 0;
  for (let k = 0, o = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, o++) {
        const w = img.data[o] - mn;
        s += w; si += w * i; sj += w * j; sk += w * k;
      }
  if (!(s > 0)) return centre(img);
  const m = gridIndexToWorld(img);
  const c = [si / s, sj / s, sk / s];
  return [0, 1, 2].map((r) => m[r * 4] * c[0] + m[r * 4 + 1] * c[1] + m[r * 4 + 2] * c[2] + m[r * 4 + 3]) as Vec3;
}

// ------------------------------------------------------------------------------------------
// Transform parameterisation.

function rotation(rx: number, ry: number, rz: number): number[] {
  const cx = Math.cos(rx), sx = Math.sin(rx), cy = Math.cos(ry), sy = Math.sin(ry), cz = Math.cos(rz), sz = Math.sin(rz);
  // Rz · Ry · Rx
  return [
    cz * cy, cz * sy * sx - sz * cx, cz * sy * cx + sz * sx,
    sz * cy, sz * sy * sx + cz * cx, sz * sy * cx - cz * sx,
    -sy, cy * sx, cy * cx,
  ];
}

/** 4×4 of y = A(x − c) + c + t. */
function matrixFrom(A: number[], t: number[], c: Vec3): Mat4 {
  const off = [0, 1, 2].map((r) => t[r] + c[r] - (A[r * 3] * c[0] + A[r * 3 + 1] * c[1] + A[r * 3 + 2] * c[2]));
  return [A[0], A[1], A[2], off[0], A[3], A[4], A[5], off[1], A[6], A[7], A[8], off[2], 0, 0, 0, 1];
}

// ------------------------------------------------------------------------------------------
// Metric over a fixed sample set.

interface SampleSet {
  /** Fixed-world positions (x,y,z per sample). */
  pos: Float64Array;
  val: Float32Array;
  count: number;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function makeSamples(img: RealImage, max: number, seed: number): SampleSet {
  const n = img.data.length;
  const count = Math.min(n, max);
  const rnd = lcg(seed);
  const pos = new Float64Array(count * 3);
  const val = new Float32Array(count);
  const m = gridIndexToWorld(img);
  const [nx, ny] = img.dims;
  for (let s = 0; s < count; s++) {
    // all voxels when few, else a random subset (with jitter-free voxel centres)
    const o = count === n ? s : Math.min(n - 1, Math.floor(rnd() * n));
    const i = o % nx, j = Math.floor(o / nx) % ny, k = Math.floor(o / (nx * ny));
    for (let r = 0; r < 3; r++) pos[s * 3 + r] = m[r * 4] * i + m[r * 4 + 1] * j + m[r * 4 + 2] * k + m[r * 4 + 3];
    const v = img.data[o];
    val[s] = v;
  }
  return { pos, val, count };
}

/**
 * Bin edges at the quantiles of `values` (equal-count bins). Binning by quantiles instead of
 * by the [min, max] range keeps a few very bright voxels (PET hot spots, contrast, metal)
 * from squeezing all soft tissue into one or two bins; MI itself is invariant to such a
 * monotonic remapping of intensities.
 */
function quantileEdges(values: Float32Array, nb: number, stride: number): Float64Array {
  const sorted = Float32Array.from(stride === 1 ? values : values.filter((_, i) => i % stride === 0)).sort();
  const e = new Float64Array(nb + 1);
  const n = sorted.length;
  for (let q = 0; q <= nb; q++) e[q] = sorted[Math.min(n - 1, Math.round((q / nb) * (n - 1)))];
  return e;
}

/** Continuous bin coordinate in [0, nb] of v by piecewise-linear interpolation of the edges. */
function binPosition(e: Float64Array, v: number): number {
  const nb = e.length - 1;
  if (v <= e[0]) return 0;
  if (v >= e[nb]) return nb;
  let lo = 0, hi = nb; // e[lo] < v < e[hi]... find last edge ≤ v
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (e[mid] <= v) lo = mid;
    else hi = mid;
  }
  const w = e[hi] - e[lo];
  return w > 0 ? lo + (v - e[lo]) / w : lo;
}

function bsplineCubic(u: number): number {
  const a = Math.abs(u);
  if (a < 1) return (4 - 6 * a * a + 3 * a * a * a) / 6;
  if (a < 2) {
    const b = 2 - a;
    return (b * b * b) / 6;
  }
  return 0;
}

class MetricEvaluator {
  evaluations = 0;
  private readonly mv: Float32Array = new Float32Array(0);
  private readonly ok: Uint8Array = new Uint8Array(0);
  private readonly joint: Float64Array;
  /** Quantile edges of the fixed samples and of the moving image (MI binning). */
  private readonly fEdges: Float64Array;
  private readonly mEdges: Float64Array;

  constructor(
    private readonly metric: AffineMetric,
    private readonly samples: SampleSet,
    private readonly moving: RealImage,
    private readonly bins: number,
  ) {
    this.mv = new Float32Array(samples.count);
    this.ok = new Uint8Array(samples.count);
    this.joint = new Float64Array(bins * bins);
    const nb = bins - 4;
    this.fEdges = quantileEdges(samples.val, nb, 1);
    const n = moving.data.length;
    const stride = Math.max(1, Math.floor(n / 50000));
    const sub = new Float32Array(Math.ceil(n / stride));
    for (let i = 0, o = 0; i < n; i += stride, o++) sub[o] = moving.data[i];
    this.mEdges = quantileEdges(sub, nb, 1);
  }

  /** Metric to minimise for the pull-back matrix (−NCC, −MI, MSD). */
  value(matrix: Mat4): number {
    this.evaluations++;
    const q = mulMat4(gridWorldToIndex(this.moving), matrix);
    const [nx, ny, nz] = this.moving.dims;
    const { pos, val, count } = this.samples;
    const mv = this.mv, ok = this.ok;
    let inside = 0;
    const hx = nx - 1, hy = ny - 1, hz = nz - 1;
    for (let s = 0; s < count; s++) {
      const x = pos[s * 3], y = pos[s * 3 + 1], z = pos[s * 3 + 2];
      const i = q[0] * x + q[1] * y + q[2] * z + q[3];
      const j = q[4] * x + q[5] * y + q[6] * z + q[7];
      const k = q[8] * x + q[9] * y + q[10] * z + q[11];
      if (i < 0 || j < 0 || k < -0.5 || i > hx || j > hy || k > hz + 0.5) {
        ok[s] = 0;
        continue;
      }
      ok[s] = 1;
      inside++;
      mv[s] = sampleClamped(this.moving.data, nx, ny, nz, i, j, k);
    }
    // Too little overlap: a large penalty that still prefers more overlap.
    if (inside < Math.max(16, 0.1 * count)) return 1e30 * (1 - inside / count);
    if (this.metric === 'msd') {
      let acc = 0;
      for (let s = 0; s < count; s++) if (ok[s]) { const e = val[s] - mv[s]; acc += e * e; }
      return acc / inside;
    }
    if (this.metric === 'ncc') {
      let sf = 0, sm = 0, sff = 0, smm = 0, sfm = 0;
      for (let s = 0; s < count; s++) {
        if (!ok[s]) continue;
        const f = val[s], m = mv[s];
        sf += f; sm += m; sff += f * f; smm += m * m; sfm += f * m;
      }
      const cov = sfm - (sf * sm) / inside;
      const vf = sff - (sf * sf) / inside, vm = smm - (sm * sm) / inside;
      return vf > 0 && vm > 0 ? -cov / Math.sqrt(vf * vm) : 0;
    }
    return -this.mutualInformation(inside);
  }

  private mutualInformation(inside: number): number {
    const B = this.bins;
    const pad = 2; // bins kept free at both ends for the Parzen window
    const joint = this.joint;
    joint.fill(0);
    const { val, count } = this.samples;
    const nb = B - 2 * pad;
    const mv = this.mv, ok = this.ok;
    const fe = this.fEdges, me = this.mEdges;
    for (let s = 0; s < count; s++) {
      if (!ok[s]) continue;
      const fb = Math.min(nb - 1, Math.floor(binPosition(fe, val[s]))) + pad;
      const mc = binPosition(me, mv[s]) + pad; // continuous moving bin
      const m0 = Math.floor(mc - 0.5) - 1;
      const row = fb * B;
      for (let b = m0; b <= m0 + 3; b++) {
        if (b < 0 || b >= B) continue;
        joint[row + b] += bsplineCubic(b - mc + 0.5);
      }
    }
    let tot = 0;
    for (let i = 0; i < B * B; i++) tot += joint[i];
    if (!(tot > 0)) return 0;
    const pf = new Float64Array(B), pm = new Float64Array(B);
    for (let a = 0; a < B; a++)
      for (let b = 0; b < B; b++) {
        const p = joint[a * B + b] / tot;
        pf[a] += p;
        pm[b] += p;
      }
    let mi = 0;
    for (let a = 0; a < B; a++)
      for (let b = 0; b < B; b++) {
        const p = joint[a * B + b] / tot;
        if (p > 1e-12) mi += p * Math.log(p / (pf[a] * pm[b]));
      }
    void inside;
    return mi;
  }
}

// ------------------------------------------------------------------------------------------
// Optimiser.

/** Compass search: polls ±step along each scaled axis, halves the step when nothing improves. */
function compassSearch(
  f: (p: number[]) => number,
  p0: number[],
  scales: number[],
  step0: number,
  stepMin: number,
  maxEvals: number,
  onIter: (it: number, v: number) => void,
  signal?: AbortSignal,
): { p: number[]; v: number } {
  let p = p0.slice();
  let v = f(p);
  let step = step0;
  let evals = 1, it = 0;
  while (step >= stepMin && evals < maxEvals) {
    throwIfAborted(signal);
    let improved = false;
    for (let d = 0; d < p.length; d++) {
      for (const sgn of [1, -1]) {
        const q = p.slice();
        q[d] += sgn * step * scales[d];
        const w = f(q);
        evals++;
        if (w < v) {
          // keep going in the direction that worked (doubling once)
          let r = q, rv = w;
          const q2 = p.slice();
          q2[d] += 2 * sgn * step * scales[d];
          const w2 = f(q2);
          evals++;
          if (w2 < rv) { r = q2; rv = w2; }
          p = r;
          v = rv;
          improved = true;
          break;
        }
      }
    }
    it++;
    onIter(it, v);
    if (!improved) step /= 2;
  }
  return { p, v };
}

export const AFFINE_DEFAULTS = {
  transform: 'rigid' as AffineKind,
  metric: 'mi' as AffineMetric,
  levels: 3,
  init: 'centers' as 'centers' | 'moments' | 'none',
  samples: 50000,
  bins: 32,
  seed: 20240611,
};

/**
 * Rigid or affine registration of `moving` to `fixed`. The result maps fixed-world points to
 * moving-world points; resampling moving with it (resampleToGeometry's worldTransform)
 * aligns it with fixed.
 */
export async function registerAffine(fixed: Volume, moving: Volume, options: AffineOptions = {}, cb: AffineCallbacks = {}): Promise<AffineResult> {
  const t0 = Date.now();
  const o = { ...AFFINE_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof AFFINE_DEFAULTS & AffineOptions;
  const F = realImage(fixed), M = realImage(moving);
  // Pyramids, finest first; stop shrinking when an axis would drop below 8 voxels.
  const pf: RealImage[] = [F], pm: RealImage[] = [M];
  for (let l = 1; l < o.levels; l++) {
    const last = pf[pf.length - 1];
    if (Math.min(...last.dims.filter((d) => d > 1)) < 16) break;
    pf.push(shrinkImage(last));
    pm.push(shrinkImage(pm[pm.length - 1]));
  }
  const levels = pf.length;
  const c = centre(F);
  // Initial transform.
  let A = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  let t = [0, 0, 0];
  let angles = [0, 0, 0];
  if (o.initialMatrix) {
    const m = o.initialMatrix;
    A = [m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10]];
    // y = A x + off = A(x − c) + c + t  →  t = off + A c − c
    t = [0, 1, 2].map((r) => m[r * 4 + 3] + A[r * 3] * c[0] + A[r * 3 + 1] * c[1] + A[r * 3 + 2] * c[2] - c[r]);
  } else if (o.init !== 'none') {
    const cf = o.init === 'moments' ? centreOfMass(F) : centre(F);
    const cm = o.init === 'moments' ? centreOfMass(M) : centre(M);
    t = [cm[0] - cf[0], cm[1] - cf[1], cm[2] - cf[2]];
  }
  // Radius of the fixed image: scales rotations / matrix entries to ~mm of motion.
  const ext = F.dims.map((d, i) => (d - 1) * F.spacing[i]);
  const radius = Math.max(10, 0.5 * Math.hypot(...ext));
  const is2D = F.dims[2] === 1 && M.dims[2] === 1;

  const rigidMatrix = (p: number[]) => {
    const R = rotation(p[0], p[1], p[2]);
    // rigid about the current A: A' = R · A
    const RA = [0, 1, 2].flatMap((r) => [0, 1, 2].map((cc) => R[r * 3] * A[cc] + R[r * 3 + 1] * A[3 + cc] + R[r * 3 + 2] * A[6 + cc]));
    return matrixFrom(RA, [p[3], p[4], p[5]], c);
  };
  const affineMatrix = (p: number[]) => matrixFrom(p.slice(0, 9), p.slice(9, 12), c);
  // The metric before registration is taken on the finest level's samples, like the final one.
  const initial = matrixFrom(A, t, c);

  let before = NaN, after = NaN, evaluations = 0;
  for (let li = 0; li < levels; li++) {
    const lev = levels - 1 - li;
    const samples = makeSamples(pf[lev], o.samples, o.seed + lev);
    const ev = new MetricEvaluator(o.metric, samples, pm[lev], o.bins);
    const sp = Math.min(...pf[lev].spacing.filter((_, i) => pf[lev].dims[i] > 1));
    const step0 = li === 0 ? 4 * sp : 1 * sp;
    const stepMin = 0.02 * sp;
    const report = (it: number, v: number) => cb.onProgress?.({ stage: 'affine', level: li + 1, levels, iteration: it, metric: v });
    // Rigid stage (always; it is the start of the affine stage too).
    {
      const scales = [1 / radius, 1 / radius, 1 / radius, 1, 1, 1];
      if (is2D) { scales[0] = 0; scales[1] = 0; scales[5] = 0; }
      const f = (p: number[]) => ev.value(rigidMatrix(p));
      const p0 = [0, 0, 0, t[0], t[1], t[2]];
      if (li === levels - 1) before = ev.value(initial);
      const r = compassSearch(f, p0, scales, step0, stepMin, 4000, report, cb.signal);
      const m = rigidMatrix(r.p);
      A = [m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10]];
      t = [r.p[3], r.p[4], r.p[5]];
      after = r.v;
    }
    if (o.transform === 'affine') {
      const scales = [...new Array(9).fill(1 / radius), 1, 1, 1];
      if (is2D) for (const z of [2, 5, 6, 7, 8, 11]) scales[z] = 0;
      const f = (p: number[]) => ev.value(affineMatrix(p));
      const r = compassSearch(f, [...A, ...t], scales, li === 0 ? 2 * sp : sp, stepMin, 6000, report, cb.signal);
      A = r.p.slice(0, 9);
      t = r.p.slice(9, 12);
      after = r.v;
    }
    evaluations += ev.evaluations;
    await new Promise((r) => setTimeout(r, 0));
  }
  const matrixLps = matrixFrom(A, t, c);
  // Rigid parameters for reporting: angles of the rotation part (exact for rigid results).
  angles = [Math.atan2(A[7], A[8]), Math.asin(Math.max(-1, Math.min(1, -A[6]))), Math.atan2(A[3], A[0])];
  const off = [matrixLps[3], matrixLps[7], matrixLps[11]];
  return {
    matrixLps,
    matrixRas: flipWorldMatrixLpsRas(matrixLps),
    parameters: [...angles, ...off],
    metrics: { metric: o.metric, before, after, evaluations, seconds: (Date.now() - t0) / 1000 },
  };
}
