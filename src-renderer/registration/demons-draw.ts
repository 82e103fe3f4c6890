/**
 * Pictures of a running demons registration, from the job's DemonsPreview (one slice of the
 * fixed grid, see src-shared/registration/preview.ts): the three classic panes — an image
 * (source, target or warped), the deformation (grid or Jacobian determinant) and the current
 * update — and the MSD-against-iteration curve. Pure functions over typed arrays (RGBA
 * buffers, polylines), so they are unit-tested without a canvas; the component only copies
 * the buffers into ImageData and strokes the polylines. Plain planes go through the slice
 * views' own lutToRgba (rendering/layer-plane.ts), see rangeRgba.
 */
import { buildLut, resolveColorMap } from '../colormaps';
import { lutToRgba } from '../rendering/layer-plane';

/** A plane's values from lo to hi through a LUT, as new RGBA bytes (the slice views' lutToRgba). */
export function rangeRgba(values: Float32Array, lo: number, hi: number, lut: Uint8ClampedArray): Uint8ClampedArray {
  const out = new Uint8ClampedArray(4 * values.length);
  lutToRgba(values, { slope: 1, intercept: 0, window: hi - lo, level: (lo + hi) / 2, lut }, out);
  return out;
}

const lutCache = new Map<string, Uint8ClampedArray>();
/** The LUT of a colour map id ('grayscale', 'hot', 'bwr', …): 256 entries, or `size`. */
export function lutOf(id: string, size = 256): Uint8ClampedArray {
  const key = `${id}/${size}`;
  let l = lutCache.get(key);
  if (!l) lutCache.set(key, (l = buildLut(resolveColorMap(id), size)));
  return l;
}

/**
 * Jacobian determinant on a diverging scale centred at 1 (volume kept): blue = compression
 * (det < 1), white = 1, red = expansion. Symmetric in log(det), so halving and doubling are
 * equally strong; |log det| ≥ log(range) saturates. det ≤ 0 (folding) is drawn black.
 */
export function jacobianRgba(jac: Float32Array, out: Uint8ClampedArray, range = 2): Uint8ClampedArray {
  // An odd number of entries puts det = 1 exactly on the map's white centre.
  const lut = lutOf('bwr', 511);
  const L = Math.log(range);
  for (let i = 0; i < jac.length; i++) {
    const d = jac[i];
    const o = i * 4;
    if (!(d > 0)) {
      out[o] = out[o + 1] = out[o + 2] = 0;
    } else {
      const t = Math.max(-1, Math.min(1, Math.log(d) / L));
      const k = Math.round((t + 1) * 255) * 4;
      out[o] = lut[k];
      out[o + 1] = lut[k + 1];
      out[o + 2] = lut[k + 2];
    }
    out[o + 3] = 255;
  }
  return out;
}

/**
 * The Jacobian pane's scale: the plane's largest departure from 1 in log terms, as a factor
 * (det ∈ [1/r, r] spans the colours), at least 1.05 so a near-identity map stays pale.
 */
export function jacobianRange(jac: Float32Array, min = 1.05, max = 4): number {
  let m = 0;
  for (let i = 0; i < jac.length; i++) if (jac[i] > 0) m = Math.max(m, Math.abs(Math.log(jac[i])));
  return Math.min(max, Math.max(min, Math.exp(m)));
}

/**
 * The deformation as a grid: the lines x = const and y = const every `every` pixels of the
 * fixed grid, each point p drawn at p + d(p) (where the transform sends it), in preview
 * pixel coordinates (pixel centres at integers). `disp`: 2 × width × height (x then y).
 */
export function gridLines(disp: Float32Array, width: number, height: number, every: number): Float32Array[] {
  const n = width * height;
  const step = Math.max(1, Math.round(every));
  /** The polyline through `count` grid points; pixel(t) = [x, y] of the t-th. */
  const trace = (count: number, pixel: (t: number) => [number, number]) => {
    const l = new Float32Array(2 * count);
    for (let t = 0; t < count; t++) {
      const [x, y] = pixel(t);
      const i = y * width + x;
      l[2 * t] = x + disp[i];
      l[2 * t + 1] = y + disp[n + i];
    }
    return l;
  };
  const lines: Float32Array[] = [];
  for (let y = 0; y < height; y += step) lines.push(trace(width, (x) => [x, y]));
  for (let x = 0; x < width; x += step) lines.push(trace(height, (y) => [x, y]));
  return lines;
}

/** An MSD as the summary and the plot's labels print it (the same digits in both places). */
export function formatMsd(v: number | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toPrecision(4) : '?';
}

/** One pyramid level's stretch of the MSD history: its first and last iteration's MSD. */
export interface LevelMsd {
  level: number;
  first: number;
  last: number;
  iterations: number;
}

/**
 * The MSD history cut by level. Each level's MSD is measured on that level's (downsampled,
 * smoothed) grid, so these are not the full-resolution MSD of the original images that the
 * result reports: the summary and the plot name both, labelled, from this one function.
 */
export function msdByLevel(history: { msd: number[]; level: number[] }): LevelMsd[] {
  const out: LevelMsd[] = [];
  for (let i = 0; i < history.msd.length; i++) {
    const lev = history.level[i];
    const cur = out[out.length - 1];
    if (cur && cur.level === lev) {
      cur.last = history.msd[i];
      cur.iterations++;
    } else out.push({ level: lev, first: history.msd[i], last: history.msd[i], iterations: 1 });
  }
  return out;
}

/** "level 1/2: 812.3 → 401.2" for each level (the plot's labels and the summary's). */
export function levelMsdLabel(l: LevelMsd, levels: number): string {
  return `level ${l.level}/${levels}: ${formatMsd(l.first)} → ${formatMsd(l.last)}`;
}

export interface MsdPlot {
  /** Polyline "x,y x,y …" in the plot's box (y down). */
  points: string;
  /** x of each level's first iteration after the first level. */
  levelMarks: number[];
  min: number;
  max: number;
}

/**
 * MSD against iteration (all levels, one x step per iteration) scaled into width × height
 * with `pad` pixels of margin. Each level starts on a coarser or finer image, so its MSD
 * jumps at a level change: the marks show where.
 */
export function msdPlot(history: { msd: number[]; level: number[] }, width: number, height: number, pad = 4): MsdPlot {
  const m = history.msd;
  if (!m.length) return { points: '', levelMarks: [], min: 0, max: 0 };
  let min = Infinity, max = -Infinity;
  for (const v of m) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min || Math.abs(max) || 1;
  const xOf = (i: number) => pad + (m.length > 1 ? (i * (width - 2 * pad)) / (m.length - 1) : 0);
  const yOf = (v: number) => pad + ((max - v) * (height - 2 * pad)) / span;
  const pts: string[] = [];
  const marks: number[] = [];
  for (let i = 0; i < m.length; i++) {
    pts.push(`${xOf(i).toFixed(1)},${yOf(m[i]).toFixed(1)}`);
    if (i > 0 && history.level[i] !== history.level[i - 1]) marks.push(xOf(i));
  }
  return { points: pts.join(' '), levelMarks: marks, min, max };
}
