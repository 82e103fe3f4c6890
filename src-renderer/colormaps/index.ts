/**
 * Colour maps (pure TS, no DOM): a map is a list of control points along the normalised
 * intensity axis x ∈ [0, 1] (0 = bottom of the window, 1 = top), each with a colour and an
 * opacity. Between points colour and opacity are interpolated linearly (as ITK-SNAP's colour
 * map editor does); before the first / after the last point the end point's value holds.
 * Rendering uses a 256-entry RGBA lookup table built once per map (buildLut).
 *
 * Ids: a preset id ('hot'), a custom map's id ('custom:My map'), and either with the suffix
 * ':inv' for the inverted version (x → 1 − x).
 */

export interface ColorPoint {
  /** Position along the window, 0..1. */
  x: number;
  /** Colour, 0..255. */
  r: number;
  g: number;
  b: number;
  /** Opacity, 0..1. */
  a: number;
}

export interface ColorMap {
  id: string;
  name: string;
  points: ColorPoint[];
  /** True for user-made maps (kept in the settings). */
  custom?: boolean;
}

const p = (x: number, r: number, g: number, b: number, a = 1): ColorPoint => ({ x, r, g, b, a });

/** Evenly spaced points from a list of [r, g, b] colours. */
function even(name: string, id: string, colours: [number, number, number][]): ColorMap {
  const n = colours.length - 1;
  return { id, name, points: colours.map(([r, g, b], i) => p(i / n, r, g, b)) };
}

/** The presets (MATLAB / ITK-SNAP definitions). */
export const PRESET_COLORMAPS: readonly ColorMap[] = [
  even('Grayscale', 'grayscale', [[0, 0, 0], [255, 255, 255]]),
  { id: 'hot', name: 'Hot', points: [p(0, 0, 0, 0), p(3 / 8, 255, 0, 0), p(6 / 8, 255, 255, 0), p(1, 255, 255, 255)] },
  even('Cool', 'cool', [[0, 255, 255], [255, 0, 255]]),
  {
    id: 'jet',
    name: 'Jet',
    points: [p(0, 0, 0, 128), p(1 / 8, 0, 0, 255), p(3 / 8, 0, 255, 255), p(5 / 8, 255, 255, 0), p(7 / 8, 255, 0, 0), p(1, 128, 0, 0)],
  },
  even('Spring', 'spring', [[255, 0, 255], [255, 255, 0]]),
  even('Summer', 'summer', [[0, 128, 102], [255, 255, 102]]),
  even('Autumn', 'autumn', [[255, 0, 0], [255, 255, 0]]),
  even('Winter', 'winter', [[0, 0, 255], [0, 255, 128]]),
  { id: 'copper', name: 'Copper', points: [p(0, 0, 0, 0), p(0.8, 255, 159, 102), p(1, 255, 199, 127)] },
  even('HSV', 'hsv', [[255, 0, 0], [255, 255, 0], [0, 255, 0], [0, 255, 255], [0, 0, 255], [255, 0, 255], [255, 0, 0]]),
  even('Blue-White-Red', 'bwr', [[0, 0, 255], [255, 255, 255], [255, 0, 0]]),
  // Diverging overlay: see-through at the centre (e.g. a Jacobian at 1, a difference at 0),
  // so only the departures colour the image underneath.
  { id: 'bcr', name: 'Blue-Clear-Red', points: [p(0, 0, 0, 255), p(0.5, 255, 255, 255, 0), p(1, 255, 0, 0)] },
];

export const INVERTED_SUFFIX = ':inv';

/** The same map mirrored along the intensity axis. */
export function invertColorMap(m: ColorMap): ColorMap {
  const base = m.id.endsWith(INVERTED_SUFFIX) ? m.id.slice(0, -INVERTED_SUFFIX.length) : `${m.id}${INVERTED_SUFFIX}`;
  const name = m.name.endsWith(' (inverted)') ? m.name.slice(0, -11) : `${m.name} (inverted)`;
  const points = m.points.map((q) => ({ ...q, x: 1 - q.x })).sort((a, b) => a.x - b.x);
  return { id: base, name, points, ...(m.custom ? { custom: true } : {}) };
}

/** Looks a map up by id among the presets and `custom`, resolving ':inv'. Unknown → grayscale. */
export function resolveColorMap(id: string, custom: readonly ColorMap[] = []): ColorMap {
  const inv = id.endsWith(INVERTED_SUFFIX);
  const baseId = inv ? id.slice(0, -INVERTED_SUFFIX.length) : id;
  const base = PRESET_COLORMAPS.find((m) => m.id === baseId) ?? custom.find((m) => m.id === baseId) ?? PRESET_COLORMAPS[0];
  return inv ? invertColorMap(base) : base;
}

/** Colour and opacity at x (linear between the surrounding points; clamped at the ends). */
export function sampleColorMap(m: ColorMap, x: number): ColorPoint {
  const pts = m.points;
  if (!pts.length) return p(x, 0, 0, 0, 0);
  if (x <= pts[0].x) return { ...pts[0], x };
  const last = pts[pts.length - 1];
  if (x >= last.x) return { ...last, x };
  let i = 1;
  while (pts[i].x < x) i++;
  const a = pts[i - 1];
  const b = pts[i];
  const t = b.x > a.x ? (x - a.x) / (b.x - a.x) : 1;
  return { x, r: a.r + t * (b.r - a.r), g: a.g + t * (b.g - a.g), b: a.b + t * (b.b - a.b), a: a.a + t * (b.a - a.a) };
}

export const LUT_SIZE = 256;

/** RGBA lookup table (LUT_SIZE entries, bytes); entry i is the map at x = i / (LUT_SIZE − 1). */
export function buildLut(m: ColorMap, size = LUT_SIZE): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(size * 4);
  for (let i = 0; i < size; i++) {
    const c = sampleColorMap(m, i / (size - 1));
    lut[i * 4] = Math.round(c.r);
    lut[i * 4 + 1] = Math.round(c.g);
    lut[i * 4 + 2] = Math.round(c.b);
    lut[i * 4 + 3] = Math.round(c.a * 255);
  }
  return lut;
}

/** Checks and normalises a map read from the settings (sorted points, values in range); null when unusable. */
export function sanitizeColorMap(raw: unknown): ColorMap | null {
  if (!raw || typeof raw !== 'object') return null;
  const o = raw as Record<string, unknown>;
  if (typeof o.name !== 'string' || !o.name.trim() || !Array.isArray(o.points) || o.points.length < 2) return null;
  const clamp = (v: unknown, lo: number, hi: number) => (typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : NaN);
  const points: ColorPoint[] = [];
  for (const q of o.points as Record<string, unknown>[]) {
    const pt = p(clamp(q?.x, 0, 1), clamp(q?.r, 0, 255), clamp(q?.g, 0, 255), clamp(q?.b, 0, 255), clamp(q?.a, 0, 1));
    if (Object.values(pt).some((v) => Number.isNaN(v))) return null;
    points.push(pt);
  }
  points.sort((a, b) => a.x - b.x);
  const name = o.name.trim().slice(0, 100);
  return { id: `custom:${name}`, name, points, custom: true };
}

/** CSS linear-gradient of a map (for swatches). */
export function cssGradient(m: ColorMap): string {
  const stops = m.points.map((q) => `rgba(${q.r | 0}, ${q.g | 0}, ${q.b | 0}, ${q.a}) ${(q.x * 100).toFixed(1)}%`);
  return `linear-gradient(to right, ${stops.join(', ')})`;
}
