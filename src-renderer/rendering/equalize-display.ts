/**
 * Histogram equalisation as a way of DISPLAYING a layer (the Contrast tab's "Histogram
 * equalisation"), never a change of its voxels. Pure, no DOM.
 *
 * Global: one display LUT built from the layer's histogram. Its entries span the layer's
 * equalisation curve (src-shared/analysis/equalize.ts, the operation's own curve: skimage's
 * equalize_hist) from its first to its last bin centre, and entry k holds the colour map's
 * colour at the curve's value there, so the existing window/level LUT path of the renderer
 * (value → entry, linear, clamped = numpy.interp's clamping) draws colormap(equalised value).
 * Integer images get one entry per integer value (exact), others 4096 entries interpolating
 * the 256-bin curve. The curve costs one pass over the volume: it is kept per volume.
 *
 * Adaptive (CLAHE) has no per-value LUT (the mapping depends on the position): the layer is
 * drawn from a CLAHE display volume (0…1, made by the 'analysis.clahe' job off the UI thread,
 * stores/display-equalize.ts) with window 1, level 0.5 and the layer's colour map.
 */
import type { Volume } from '../../src-shared/image/volume';
import { equalizationCurve, interp } from '../../src-shared/analysis/equalize';

export type EqualizeMode = 'off' | 'global' | 'adaptive';

/** Display mapping of an equalised layer, as the renderer's PlaneLayer takes it. */
export interface EqualizedLook {
  window: number;
  level: number;
  lut: Uint8ClampedArray;
}

const MAX_ENTRIES = 1 << 16;
const FLOAT_ENTRIES = 4096;

/** The equalised value (0…1) at each display-LUT entry, and the real values the entries span. */
interface CurveTable {
  lo: number;
  hi: number;
  cdf: Float32Array;
}

const curves = new WeakMap<Volume, CurveTable>();
const looks = new WeakMap<Volume, WeakMap<Uint8ClampedArray, EqualizedLook>>();

export function equalizationTable(vol: Volume): CurveTable {
  let t = curves.get(vol);
  if (t) return t;
  const { centres, cdf } = equalizationCurve(vol);
  const lo = centres[0], hi = centres[centres.length - 1];
  const integerSteps = centres.length > 1 && centres[1] - centres[0] === 1 && centres.length <= MAX_ENTRIES;
  let table: Float32Array;
  if (integerSteps || centres.length === 1) table = Float32Array.from(cdf);
  else {
    table = new Float32Array(FLOAT_ENTRIES);
    for (let k = 0; k < FLOAT_ENTRIES; k++) table[k] = interp(lo + ((hi - lo) * k) / (FLOAT_ENTRIES - 1), centres, cdf);
  }
  t = { lo, hi, cdf: table };
  curves.set(vol, t);
  return t;
}

/** Window, level and LUT that draw `vol` globally equalised through the colour map `lut` (RGBA, any length). */
export function globalEqualizedLook(vol: Volume, lut: Uint8ClampedArray): EqualizedLook {
  let byLut = looks.get(vol);
  if (!byLut) looks.set(vol, (byLut = new WeakMap()));
  const hit = byLut.get(lut);
  if (hit) return hit;
  const { lo, hi, cdf } = equalizationTable(vol);
  const nc = lut.length / 4;
  const out = new Uint8ClampedArray(cdf.length * 4);
  for (let k = 0; k < cdf.length; k++) {
    const c = Math.round(cdf[k] * (nc - 1)) * 4;
    out.set(lut.subarray(c, c + 4), k * 4);
  }
  // The renderer puts value v at entry round((v − (level − window/2)) / window · (n − 1)).
  const look = { window: Math.max(hi - lo, 1e-6), level: (hi + lo) / 2, lut: out };
  byLut.set(lut, look);
  return look;
}
