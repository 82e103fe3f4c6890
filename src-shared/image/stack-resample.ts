/**
 * Resampling a stack of parallel slices that NIfTI cannot describe exactly: uneven slice
 * spacing (slices at arbitrary positions along the normal) and gantry tilt (each slice
 * shifted in its plane, a sheared grid). dcm2niix writes such stacks a second time,
 * resampled (its `_Eq_`, `_Tilt_` and `_Tilt_Eq_` files); this module is that step.
 *
 * Model: slice k is the plane through `sliceOrigins[k]` (the world position of its voxel
 * (0,0)) spanned by the volume's i and j axes; all slices share those axes. The normal n
 * is i × j. A target voxel x takes the value of linear interpolation, along n, between
 * the two slices whose planes bracket it; each slice is sampled at the foot of x on its
 * plane (bilinear in-plane; on an untilted stack that foot is a voxel centre, so no
 * in-plane interpolation happens). Outside a slice's extent ([-0.5, n-0.5] in index, as
 * in resample.ts) that slice contributes `fill`; beyond the first or last slice the
 * target voxel is `fill`.
 *
 * Targets: `equalSpacingTarget` makes the grid that spans the whole stack (first to last
 * slice, unlike dcm2niix's `_Eq_`, which can stop one step short of the last slice) with
 * equal steps along the normal, either keeping the stack's shear (viewer, `_Eq_`) or
 * tilt-corrected (`_Tilt_`: slice axis along n, rows widened to hold every slice).
 *
 * Pure TypeScript over typed arrays (runs in workers, main and renderer).
 */
import type { ImageGeometry, Mat3, Vec3, Volume } from './volume';

export interface SliceStack {
  /** Slices along k (all frames); only the i/j axes of its geometry are used. */
  volume: Volume;
  /** World (LPS) position of voxel (0,0) of each slice, ascending along the normal. */
  sliceOrigins: Vec3[];
}

const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const col = (d: Mat3, c: number): Vec3 => [d[c], d[3 + c], d[6 + c]];
const unit = (a: Vec3): Vec3 => {
  const l = Math.hypot(a[0], a[1], a[2]) || 1;
  return [a[0] / l, a[1] / l, a[2] / l];
};
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

/** Unit normal of the planes spanned by a grid's i and j axes (i × j). */
export function planeNormal(v: Pick<ImageGeometry, 'direction'>): Vec3 {
  return unit(cross(col(v.direction, 0), col(v.direction, 1)));
}

/**
 * Unit normal of the slice planes, pointing from the first slice to the last (with rows
 * stored bottom-up i × j points the other way; positions must ascend in slice order).
 */
export function stackNormal(stack: SliceStack): Vec3 {
  const n = planeNormal(stack.volume);
  const o = stack.sliceOrigins;
  const last = o[o.length - 1];
  return dot([last[0] - o[0][0], last[1] - o[0][1], last[2] - o[0][2]], n) < 0 ? [-n[0], -n[1], -n[2]] : n;
}

/** Slice positions along the (stack-oriented) normal (mm), ascending. */
export function slicePositions(stack: SliceStack): number[] {
  const n = stackNormal(stack);
  return stack.sliceOrigins.map((o) => dot(o, n));
}

/** Largest angle (degrees) between the stack direction (first → each slice) and the normal. */
export function stackTiltDegrees(stack: SliceStack): number {
  const n = stackNormal(stack);
  const o0 = stack.sliceOrigins[0];
  let worst = 0;
  for (const o of stack.sliceOrigins.slice(1)) {
    const d: Vec3 = [o[0] - o0[0], o[1] - o0[1], o[2] - o0[2]];
    const len = Math.hypot(d[0], d[1], d[2]);
    if (len > 1e-6) worst = Math.max(worst, (Math.acos(Math.min(1, Math.abs(dot(d, n)) / len)) * 180) / Math.PI);
  }
  return worst;
}

/**
 * The equal step (mm along the normal) for a stack with these gaps: the finest gap that is
 * at least half the median gap (so the finest sampling is kept, but a stray near-duplicate
 * position does not blow the volume up), adjusted so that whole steps span the stack.
 */
export function equalSpacingStep(positions: number[]): { step: number; count: number } {
  const span = positions[positions.length - 1] - positions[0];
  if (positions.length < 2 || !(span > 0)) return { step: 1, count: positions.length };
  const gaps = positions.slice(1).map((p, i) => p - positions[i]).sort((a, b) => a - b);
  const median = gaps[Math.floor(gaps.length / 2)];
  const finest = gaps.find((g) => g >= 0.5 * median) ?? median;
  const count = Math.max(2, Math.round(span / finest) + 1);
  return { step: span / (count - 1), count };
}

/**
 * Target grid spanning the stack with equal steps along the normal. `tiltCorrect`: slice
 * axis along the normal and the in-plane grid widened (whole voxels of slice 0's grid) to
 * hold every slice; otherwise the slice axis follows the stack (first → last slice), so a
 * tilted stack stays sheared and only the spacing is made even.
 */
export function equalSpacingTarget(stack: SliceStack, opts: { tiltCorrect: boolean }): ImageGeometry {
  const v = stack.volume;
  const n = stackNormal(stack);
  const u = col(v.direction, 0);
  const w = col(v.direction, 1);
  const [su, sw] = v.spacing;
  const pos = slicePositions(stack);
  const { step, count } = equalSpacingStep(pos);
  const o0 = stack.sliceOrigins[0];
  const last = stack.sliceOrigins[stack.sliceOrigins.length - 1];
  if (!opts.tiltCorrect) {
    const along = unit([last[0] - o0[0], last[1] - o0[1], last[2] - o0[2]]);
    const cosA = Math.abs(dot(along, n)) > 1e-9 ? dot(along, n) : 1;
    const k: Vec3 = pos.length > 1 ? along : n;
    return {
      dims: [v.dims[0], v.dims[1], count],
      spacing: [su, sw, pos.length > 1 ? step / cosA : step],
      origin: [...o0],
      direction: [u[0], w[0], k[0], u[1], w[1], k[1], u[2], w[2], k[2]],
    };
  }
  // In-plane extent of every slice, in voxels of slice 0's grid.
  let aMin = 0, aMax = v.dims[0] - 1, bMin = 0, bMax = v.dims[1] - 1;
  for (const o of stack.sliceOrigins) {
    const rel: Vec3 = [o[0] - o0[0], o[1] - o0[1], o[2] - o0[2]];
    const a = dot(rel, u) / su;
    const b = dot(rel, w) / sw;
    aMin = Math.min(aMin, a);
    aMax = Math.max(aMax, a + v.dims[0] - 1);
    bMin = Math.min(bMin, b);
    bMax = Math.max(bMax, b + v.dims[1] - 1);
  }
  const a0 = Math.floor(aMin + 1e-6), a1 = Math.ceil(aMax - 1e-6);
  const b0 = Math.floor(bMin + 1e-6), b1 = Math.ceil(bMax - 1e-6);
  const origin: Vec3 = [0, 1, 2].map((r) => o0[r] + a0 * su * u[r] + b0 * sw * w[r]) as Vec3;
  return {
    dims: [a1 - a0 + 1, b1 - b0 + 1, count],
    spacing: [su, sw, step],
    origin,
    direction: [u[0], w[0], n[0], u[1], w[1], n[1], u[2], w[2], n[2]],
  };
}

/**
 * Samples the stack on `target` (whose i and j axes must lie in the slice planes) and
 * returns a float32 volume of real values (stored · slope + intercept), every frame.
 */
export interface ResampleStackOptions {
  /** Value outside the acquired slices (real units). Default 0. */
  fill?: number;
  /** Output buffer (all frames of the target); allocated when absent. */
  out?: Float32Array;
  /** Only target slices [k0, k1) (all frames): lets callers work in slabs and yield. */
  k0?: number;
  k1?: number;
}

export function resampleStack(stack: SliceStack, target: ImageGeometry, opts: ResampleStackOptions = {}): Volume {
  const v = stack.volume;
  const [nx, ny, nz] = v.dims;
  if (stack.sliceOrigins.length !== nz) throw new Error(`resampleStack: ${stack.sliceOrigins.length} slice positions for ${nz} slices`);
  const n = stackNormal(stack);
  const u = col(v.direction, 0);
  const w = col(v.direction, 1);
  const [su, sw] = v.spacing;
  const U: Vec3 = col(target.direction, 0).map((x) => x * target.spacing[0]) as Vec3;
  const V: Vec3 = col(target.direction, 1).map((x) => x * target.spacing[1]) as Vec3;
  const K: Vec3 = col(target.direction, 2).map((x) => x * target.spacing[2]) as Vec3;
  if (Math.abs(dot(U, n)) > 1e-6 * target.spacing[0] || Math.abs(dot(V, n)) > 1e-6 * target.spacing[1]) {
    throw new Error('resampleStack: the target rows and columns must lie in the slice planes');
  }
  const pos = slicePositions(stack);
  const [ox, oy, oz] = target.dims;
  const perFrame = ox * oy * oz;
  const out = opts.out ?? new Float32Array(perFrame * v.frames);
  if (out.length < perFrame * v.frames) throw new Error(`resampleStack: output buffer has ${out.length} values, needs ${perFrame * v.frames}`);
  const slope = v.rescaleSlope || 1;
  const icpt = v.rescaleIntercept || 0;
  const fill = opts.fill ?? 0;
  const src = v.data;
  const sxy = nx * ny;
  const eps = 1e-6;
  // In-plane index steps per target i and j (the same for every slice).
  const dai = dot(U, u) / su, dbi = dot(U, w) / sw;
  const daj = dot(V, u) / su, dbj = dot(V, w) / sw;

  /** Bilinear value of slice k at (a, b), or fill outside it. */
  const sample = (base: number, a: number, b: number): number => {
    if (!(a >= -0.5 && a <= nx - 0.5 && b >= -0.5 && b <= ny - 0.5)) return fill;
    let fa = Math.floor(a), fb = Math.floor(b);
    let ta = a - fa, tb = b - fb;
    // Exact voxel centres (the untilted case) skip interpolation round-off.
    if (ta < 1e-9) ta = 0; else if (ta > 1 - 1e-9) { fa += 1; ta = 0; }
    if (tb < 1e-9) tb = 0; else if (tb > 1 - 1e-9) { fb += 1; tb = 0; }
    let a1 = fa + 1, b1 = fb + 1;
    if (fa < 0) { fa = 0; a1 = 0; ta = 0; } else if (a1 > nx - 1) { a1 = nx - 1; if (fa > nx - 1) fa = nx - 1; }
    if (fb < 0) { fb = 0; b1 = 0; tb = 0; } else if (b1 > ny - 1) { b1 = ny - 1; if (fb > ny - 1) fb = ny - 1; }
    const r0 = base + fb * nx, r1 = base + b1 * nx;
    const c0 = ta ? src[r0 + fa] + ta * (src[r0 + a1] - src[r0 + fa]) : src[r0 + fa];
    const c1 = ta ? src[r1 + fa] + ta * (src[r1 + a1] - src[r1 + fa]) : src[r1 + fa];
    return (tb ? c0 + tb * (c1 - c0) : c0) * slope + icpt;
  };

  for (let kk = opts.k0 ?? 0; kk < (opts.k1 ?? oz); kk++) {
    const x0: Vec3 = [0, 1, 2].map((r) => target.origin[r] + kk * K[r]) as Vec3;
    const d = dot(x0, n);
    // Bracketing slices and the weight of the upper one.
    let k0 = -1;
    let t = 0;
    if (nz === 1 || d < pos[0] - eps || d > pos[nz - 1] + eps) k0 = -1;
    else {
      k0 = 0;
      while (k0 < nz - 2 && pos[k0 + 1] < d - eps) k0++;
      t = (d - pos[k0]) / (pos[k0 + 1] - pos[k0]);
      if (t < 1e-9) t = 0;
      else if (t > 1 - 1e-9) { k0 += 1; t = 0; }
    }
    if (nz === 1 && Math.abs(d - pos[0]) <= eps) k0 = 0;
    const ks = k0 < 0 ? [] : t === 0 ? [k0] : [k0, k0 + 1];
    const a00 = ks.map((k) => dot([x0[0] - stack.sliceOrigins[k][0], x0[1] - stack.sliceOrigins[k][1], x0[2] - stack.sliceOrigins[k][2]], u) / su);
    const b00 = ks.map((k) => dot([x0[0] - stack.sliceOrigins[k][0], x0[1] - stack.sliceOrigins[k][1], x0[2] - stack.sliceOrigins[k][2]], w) / sw);
    for (let f = 0; f < v.frames; f++) {
      let o = f * perFrame + kk * ox * oy;
      if (!ks.length) {
        out.fill(fill, o, o + ox * oy);
        continue;
      }
      const base0 = f * sxy * nz + ks[0] * sxy;
      const base1 = ks.length > 1 ? f * sxy * nz + ks[1] * sxy : 0;
      for (let j = 0; j < oy; j++) {
        for (let i = 0; i < ox; i++, o++) {
          const s0 = sample(base0, a00[0] + i * dai + j * daj, b00[0] + i * dbi + j * dbj);
          out[o] = ks.length > 1 ? s0 + t * (sample(base1, a00[1] + i * dai + j * daj, b00[1] + i * dbi + j * dbj) - s0) : s0;
        }
      }
    }
  }
  return {
    ...target,
    dims: [...target.dims],
    spacing: [...target.spacing],
    origin: [...target.origin],
    direction: [...target.direction],
    data: out,
    voxelType: 'float32',
    frames: v.frames,
    frameSpacing: v.frameSpacing,
    rescaleSlope: 1,
    rescaleIntercept: 0,
    metadata: { ...v.metadata },
  };
}

/** Slice gaps that differ by more than 1 % of the median (or 1 µm): NIfTI's one step cannot hold them. */
export function isUnevenSpacing(positions: number[]): boolean {
  if (positions.length < 3) return false;
  const gaps = positions.slice(1).map((p, i) => p - positions[i]).sort((a, b) => a - b);
  const median = gaps[Math.floor(gaps.length / 2)];
  return gaps[gaps.length - 1] - gaps[0] > Math.max(0.01 * median, 1e-3);
}
