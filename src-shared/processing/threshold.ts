/**
 * Threshold (after MeVisLab's Threshold module) and Otsu's automatic threshold.
 *
 * Bounds are in real units (stored · slope + intercept), or relative to the image's real
 * range (0 = minimum, 1 = maximum) when `relative` is set. A voxel is "inside" when it
 * satisfies every given bound; inside and outside voxels are written either a constant or
 * the original image value ('image').
 */
import { VOXEL_ARRAY, voxelCount, type Volume, type VoxelArray, type VoxelType } from '../image/volume';
import { ProgressTracker, type ProcessingOptions } from './progress';
import { copyGeometry, integerRange, realRange, storedRange, storedValueFor } from './volume-utils';

export type WriteValue = number | 'image';

export interface ThresholdParams {
  /** Lower bound (real units, or fraction of the range when relative). */
  lower?: number;
  /** Upper bound. */
  upper?: number;
  /** Default true: lower ≤ v. false: lower < v. */
  lowerInclusive?: boolean;
  /** Default true: v ≤ upper. false: v < upper. */
  upperInclusive?: boolean;
  /** Bounds are fractions of the image's [min, max] real range (MeVisLab "relative"). */
  relative?: boolean;
  /** Value written where the condition holds. Default 1. */
  inside?: WriteValue;
  /** Value written elsewhere. Default 0. */
  outside?: WriteValue;
}

/** Stored-value test derived from real bounds: v in [lo, hi] with the given strictness. */
interface StoredBounds {
  lo: number;
  hi: number;
  loStrict: boolean;
  hiStrict: boolean;
}

/** Real bounds → bounds on stored values (handles negative slopes and integer storage). */
export function storedBounds(vol: Volume, p: ThresholdParams): StoredBounds {
  let lower = p.lower;
  let upper = p.upper;
  if (p.relative) {
    const [mn, mx] = realRange(vol);
    if (lower !== undefined) lower = mn + lower * (mx - mn);
    if (upper !== undefined) upper = mn + upper * (mx - mn);
  }
  const slope = vol.rescaleSlope || 1;
  const icpt = vol.rescaleIntercept || 0;
  const toStored = (v: number | undefined, dflt: number) => (v === undefined ? dflt : (v - icpt) / slope);
  let b: StoredBounds = {
    lo: toStored(lower, -Infinity),
    hi: toStored(upper, Infinity),
    loStrict: lower !== undefined && p.lowerInclusive === false,
    hiStrict: upper !== undefined && p.upperInclusive === false,
  };
  if (slope < 0) b = { lo: b.hi === Infinity ? -Infinity : b.hi, hi: b.lo === -Infinity ? Infinity : b.lo, loStrict: b.hiStrict, hiStrict: b.loStrict };
  // Integer storage: turn strict bounds into inclusive integer bounds (one comparison form
  // in the hot loop, and no float-rounding surprises at the edges).
  if (integerRange(vol.voxelType)) {
    const eps = 1e-9;
    b.lo = b.loStrict ? Math.floor(b.lo + eps) + 1 : Math.ceil(b.lo - eps);
    b.hi = b.hiStrict ? Math.ceil(b.hi - eps) - 1 : Math.floor(b.hi + eps);
    b.loStrict = b.hiStrict = false;
  }
  return b;
}

/** Output storage for the written values: uint8 for small labels, else what fits. */
function outputPlan(vol: Volume, inside: WriteValue, outside: WriteValue): { type: VoxelType; slope: number; intercept: number; ins: number | null; outs: number | null } {
  const consts = [inside, outside].filter((v): v is number => v !== 'image');
  const usesImage = inside === 'image' || outside === 'image';
  if (!usesImage) {
    const allInt = consts.every((v) => Number.isInteger(v));
    const fits = (r: [number, number]) => allInt && consts.every((v) => v >= r[0] && v <= r[1]);
    const type: VoxelType = fits([0, 255]) ? 'uint8' : fits([-32768, 32767]) ? 'int16' : fits([-2147483648, 2147483647]) ? 'int32' : 'float32';
    return { type, slope: 1, intercept: 0, ins: inside as number, outs: outside as number };
  }
  // Keep the image's storage when the constants are representable in it.
  const ins = inside === 'image' ? null : storedValueFor(vol, inside);
  const outs = outside === 'image' ? null : storedValueFor(vol, outside);
  if ((inside !== 'image' && ins === null) || (outside !== 'image' && outs === null)) {
    return { type: 'float32', slope: 1, intercept: 0, ins: inside === 'image' ? null : inside, outs: outside === 'image' ? null : outside };
  }
  return { type: vol.voxelType, slope: vol.rescaleSlope || 1, intercept: vol.rescaleIntercept || 0, ins, outs };
}

type MaskKernel = (src: VoxelArray, out: Uint8Array, start: number, end: number, lo: number, hi: number, ins: number, outs: number) => void;

/**
 * A fresh closure per voxel type keeps each kernel's element access monomorphic (V8 keeps
 * type feedback per closure), which is worth ~2× on these memory-bound loops. Four
 * voxels are packed into one 32-bit store when the output is 4-byte aligned.
 */
function makeMaskKernel(): MaskKernel {
  return (src, out, start, end, lo, hi, ins, outs) => {
    let i = start;
    for (; i < end && ((out.byteOffset + i) & 3) !== 0; i++) {
      const v = src[i];
      out[i] = v >= lo && v <= hi ? ins : outs;
    }
    const words = (end - i) >> 2;
    const o32 = new Uint32Array(out.buffer, out.byteOffset + i, words);
    const a = ins & 255;
    const c = outs & 255;
    for (let q = 0; q < words; q++, i += 4) {
      const v0 = src[i];
      const v1 = src[i + 1];
      const v2 = src[i + 2];
      const v3 = src[i + 3];
      o32[q] =
        (v0 >= lo && v0 <= hi ? a : c) |
        ((v1 >= lo && v1 <= hi ? a : c) << 8) |
        ((v2 >= lo && v2 <= hi ? a : c) << 16) |
        ((v3 >= lo && v3 <= hi ? a : c) << 24);
    }
    for (; i < end; i++) {
      const v = src[i];
      out[i] = v >= lo && v <= hi ? ins : outs;
    }
  };
}
/** Types whose values and clamped bounds keep `l - v` and `v - h` inside int32. */
const SMALL_INT: Partial<Record<VoxelType, [number, number]>> = { uint8: [0, 255], int8: [-128, 127], uint16: [0, 65535], int16: [-32768, 32767] };

type SignKernel = (src: VoxelArray, out: Uint8Array, start: number, end: number, l: number, h: number, flip: number) => void;

/**
 * lo ≤ v ≤ hi as a sign bit: with l = lo − 1 and h = hi + 1, (l − v) and (v − h) are
 * both negative exactly when v is inside, so ((l − v) & (v − h)) >>> 31 is the mask bit —
 * no branches, four voxels per 32-bit store (about 1.5× the comparison kernel).
 */
function makeSignKernel(): SignKernel {
  return (src, out, start, end, l, h, flip) => {
    let i = start;
    for (; i < end && ((out.byteOffset + i) & 3) !== 0; i++) out[i] = (((l - src[i]) & (src[i] - h)) >>> 31) ^ (flip & 1);
    const words = (end - i) >> 2;
    const o32 = new Uint32Array(out.buffer, out.byteOffset + i, words);
    for (let q = 0; q < words; q++, i += 4) {
      const v0 = src[i];
      const v1 = src[i + 1];
      const v2 = src[i + 2];
      const v3 = src[i + 3];
      o32[q] =
        ((((l - v0) & (v0 - h)) >>> 31) | ((((l - v1) & (v1 - h)) >>> 31) << 8) | ((((l - v2) & (v2 - h)) >>> 31) << 16) | ((((l - v3) & (v3 - h)) >>> 31) << 24)) ^ flip;
    }
    for (; i < end; i++) out[i] = (((l - src[i]) & (src[i] - h)) >>> 31) ^ (flip & 1);
  };
}
/** The sign kernel for a lower bound only: ((l − v) >>> 31) is 1 exactly when v > l. */
function makeLowerKernel(): SignKernel {
  return (src, out, start, end, l, _h, flip) => {
    let i = start;
    for (; i < end && ((out.byteOffset + i) & 3) !== 0; i++) out[i] = ((l - src[i]) >>> 31) ^ (flip & 1);
    const words = (end - i) >> 2;
    const o32 = new Uint32Array(out.buffer, out.byteOffset + i, words);
    for (let q = 0; q < words; q++, i += 4) {
      o32[q] = (((l - src[i]) >>> 31) | (((l - src[i + 1]) >>> 31) << 8) | (((l - src[i + 2]) >>> 31) << 16) | (((l - src[i + 3]) >>> 31) << 24)) ^ flip;
    }
    for (; i < end; i++) out[i] = ((l - src[i]) >>> 31) ^ (flip & 1);
  };
}
const lowerKernels = new Map<VoxelType, SignKernel>();
function lowerKernel(t: VoxelType): SignKernel {
  let k = lowerKernels.get(t);
  if (!k) lowerKernels.set(t, (k = makeLowerKernel()));
  return k;
}

const signKernels = new Map<VoxelType, SignKernel>();
function signKernel(t: VoxelType): SignKernel {
  let k = signKernels.get(t);
  if (!k) signKernels.set(t, (k = makeSignKernel()));
  return k;
}

const maskKernels = new Map<VoxelType, MaskKernel>();
function maskKernel(t: VoxelType): MaskKernel {
  let k = maskKernels.get(t);
  if (!k) maskKernels.set(t, (k = makeMaskKernel()));
  return k;
}

/**
 * Threshold of the first frame of `vol`. With the defaults (inside 1, outside 0) the result
 * is a uint8 mask with `vol`'s geometry.
 */
export function threshold(vol: Volume, p: ThresholdParams, opts: ProcessingOptions = {}): Volume {
  const inside = p.inside ?? 1;
  const outside = p.outside ?? 0;
  const b = storedBounds(vol, p);
  const plan = outputPlan(vol, inside, outside);
  const n = voxelCount(vol);
  const out = new VOXEL_ARRAY[plan.type](n);
  const src = vol.data;
  const slope = vol.rescaleSlope || 1;
  const icpt = vol.rescaleIntercept || 0;
  // When the output is float32 but the image value is written, convert stored → real.
  const realCopy = plan.type === 'float32' && vol.voxelType !== 'float32' && (inside === 'image' || outside === 'image');
  const realScale = plan.slope === 1 && plan.intercept === 0 && (slope !== 1 || icpt !== 0 || realCopy);
  const tracker = new ProgressTracker(opts);
  const chunk = 1 << 20;
  for (let start = 0; start < n; start += chunk) {
    tracker.report(0, start / n, 'Thresholding');
    const end = Math.min(n, start + chunk);
    if (!b.loStrict && !b.hiStrict && plan.ins !== null && plan.outs !== null) {
      // The common case (a mask): constants written, one kernel per voxel type.
      const small = SMALL_INT[vol.voxelType];
      if (plan.type === 'uint8' && small && ((plan.ins === 1 && plan.outs === 0) || (plan.ins === 0 && plan.outs === 1))) {
        // Branch-free: bounds clamped to the type (so the subtractions stay in int32).
        const lo = Math.max(b.lo, small[0]);
        const hi = Math.min(b.hi, small[1]);
        const flip = plan.ins === 0 ? 0x01010101 : 0;
        // "value ≥ lo" alone (the usual body mask) needs one subtraction per voxel.
        if (hi >= small[1]) lowerKernel(vol.voxelType)(src, out as Uint8Array, start, end, lo - 1, 0, flip);
        else signKernel(vol.voxelType)(src, out as Uint8Array, start, end, lo - 1, hi + 1, flip);
      } else if (plan.type === 'uint8') maskKernel(vol.voxelType)(src, out as Uint8Array, start, end, b.lo, b.hi, plan.ins, plan.outs);
      else {
        const lo = b.lo;
        const hi = b.hi;
        const a = plan.ins;
        const c = plan.outs;
        for (let i = start; i < end; i++) {
          const v = src[i];
          out[i] = v >= lo && v <= hi ? a : c;
        }
      }
    } else {
      for (let i = start; i < end; i++) {
        const v = src[i];
        const inRange = (b.loStrict ? v > b.lo : v >= b.lo) && (b.hiStrict ? v < b.hi : v <= b.hi);
        const w = inRange ? plan.ins : plan.outs;
        out[i] = w !== null ? w : realScale ? v * slope + icpt : v;
      }
    }
  }
  tracker.report(0, 1, 'Thresholding');
  return {
    ...copyGeometry(vol),
    data: out,
    voxelType: plan.type,
    frames: 1,
    rescaleSlope: plan.slope,
    rescaleIntercept: plan.intercept,
    metadata: {},
  };
}

export interface OtsuResult {
  /** Real-valued threshold: foreground is value > threshold. */
  threshold: number;
  /** Number of histogram bins used. */
  bins: number;
}

/**
 * Otsu's threshold: maximises the between-class variance w0·w1·(μ0 − μ1)² over the
 * histogram of the first frame. Integer images with at most 65 536 distinct stored values
 * get one bin per value (exact); others use `bins` equal bins (default 256). The returned
 * threshold is the largest value of the background class (integer images) or the upper
 * edge of its last bin: foreground = value > threshold.
 */
export function otsuThreshold(vol: Volume, o: { bins?: number } & ProcessingOptions = {}): OtsuResult {
  const tracker = new ProgressTracker(o, [1, 1]);
  const n = voxelCount(vol);
  const [smin, smax] = storedRange(vol);
  if (!(smax > smin)) throw new Error('Otsu threshold: the image is constant; there is nothing to separate');
  const d: VoxelArray = vol.data;
  const integer = integerRange(vol.voxelType) !== null && smax - smin < 65536;
  const nb = integer ? smax - smin + 1 : Math.max(2, Math.floor(o.bins ?? 256));
  const hist = new Float64Array(nb);
  const scale = integer ? 1 : nb / (smax - smin);
  const chunk = 1 << 21;
  for (let s = 0; s < n; s += chunk) {
    tracker.report(0, s / n, 'Histogram');
    const e = Math.min(n, s + chunk);
    if (integer) for (let i = s; i < e; i++) hist[d[i] - smin]++;
    else
      for (let i = s; i < e; i++) {
        const v = d[i];
        if (v !== v) continue; // NaN
        let k = Math.floor((v - smin) * scale);
        if (k >= nb) k = nb - 1;
        hist[k]++;
      }
  }
  // Class statistics over bin indices (the affine map to real values does not move the
  // arg-max of the between-class variance).
  let total = 0;
  let sumAll = 0;
  for (let k = 0; k < nb; k++) {
    total += hist[k];
    sumAll += k * hist[k];
  }
  let w0 = 0;
  let sum0 = 0;
  let best = -1;
  let bestK = 0;
  for (let k = 0; k < nb - 1; k++) {
    w0 += hist[k];
    sum0 += k * hist[k];
    const w1 = total - w0;
    if (w0 === 0 || w1 === 0) continue;
    const m0 = sum0 / w0;
    const m1 = (sumAll - sum0) / w1;
    const between = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (between > best) {
      best = between;
      bestK = k;
    }
  }
  tracker.report(1, 1, 'Otsu');
  const storedT = integer ? smin + bestK : smin + (bestK + 1) / scale;
  const slope = vol.rescaleSlope || 1;
  const icpt = vol.rescaleIntercept || 0;
  return { threshold: storedT * slope + icpt, bins: nb };
}

/** Otsu mask: uint8, 1 where value > the Otsu threshold. */
export function otsuMask(vol: Volume, o: { bins?: number } & ProcessingOptions = {}): { mask: Volume; threshold: number } {
  const { threshold: t } = otsuThreshold(vol, o);
  const mask = threshold(vol, { lower: t, lowerInclusive: false }, { signal: o.signal });
  return { mask, threshold: t };
}
