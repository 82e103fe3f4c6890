/**
 * Volume-rendering presets (pure): colour and opacity as functions of the REAL value (HU for
 * CT), the way 3D Slicer's VolumeRendering presets are written, and the conversion of a
 * Lattice colour map (the colour-map editor's points over a layer's window) to the same form,
 * so a layer's edited map drives its 3D rendering too.
 *
 * CT values follow Slicer's CT-Bone / CT-Soft-Tissue / CT-Lung presets (simplified to their
 * visible ramps); "skin" puts an opaque skin-coloured ramp on the air/tissue edge (−500 … −300
 * HU), which with shading renders the body surface. MR default and PET use the image's own
 * 0.5–99.5 % percentile range because their units are arbitrary.
 */
import type { ColorMap } from '../colormaps';

export type BlendMode = 'composite' | 'mip';

/** One node: real value, RGB 0..1, opacity 0..1. */
export interface TransferPoint {
  value: number;
  r: number;
  g: number;
  b: number;
  a: number;
}

export interface TransferFunction {
  points: TransferPoint[];
  blend: BlendMode;
  /** Gradient shading (surfaces look solid); off for MIP. */
  shade: boolean;
}

export type PresetId = 'layer' | 'ct-bone' | 'ct-soft' | 'ct-lung' | 'ct-skin' | 'mr-default' | 'pet-hot-mip';

export const PRESETS: { id: PresetId; label: string }[] = [
  { id: 'layer', label: 'Layer colour map' },
  { id: 'ct-bone', label: 'CT bone' },
  { id: 'ct-soft', label: 'CT soft tissue' },
  { id: 'ct-lung', label: 'CT lung' },
  { id: 'ct-skin', label: 'CT skin' },
  { id: 'mr-default', label: 'MR default' },
  { id: 'pet-hot-mip', label: 'PET hot MIP' },
];

const tp = (value: number, r: number, g: number, b: number, a: number): TransferPoint => ({ value, r, g, b, a });

/** The preset a modality starts with. */
export function defaultPreset(modality: string): PresetId {
  const m = modality.toUpperCase();
  if (m === 'CT') return 'ct-bone';
  if (m === 'PT' || m === 'NM') return 'pet-hot-mip';
  return 'mr-default';
}

/**
 * The transfer function of a preset. `range` is the image's robust [lo, hi] (real values),
 * used by the relative presets (MR, PET).
 */
export function presetTransfer(id: Exclude<PresetId, 'layer'>, range: [number, number]): TransferFunction {
  const [lo, hi] = range[1] > range[0] ? range : [range[0], range[0] + 1];
  const at = (f: number) => lo + f * (hi - lo);
  switch (id) {
    case 'ct-bone':
      return { blend: 'composite', shade: true, points: [tp(-3024, 0, 0, 0, 0), tp(-16, 0.73, 0.25, 0.3, 0), tp(641, 0.91, 0.82, 0.55, 0.72), tp(3071, 1, 1, 1, 0.71)] };
    case 'ct-soft':
      return {
        blend: 'composite',
        shade: true,
        points: [tp(-2048, 0, 0, 0, 0), tp(-167, 0, 0, 0, 0), tp(-160, 0.55, 0.25, 0.15, 0.4), tp(64, 0.88, 0.6, 0.29, 0.5), tp(240, 1, 0.94, 0.95, 0.6), tp(3661, 0.83, 0.66, 1, 0)],
      };
    case 'ct-lung':
      return {
        blend: 'composite',
        shade: true,
        points: [tp(-1000, 0.3, 0.3, 1, 0), tp(-600, 0, 0, 1, 0), tp(-599, 0.13, 0.2, 0.6, 0.15), tp(-400, 0.35, 0.35, 1, 0.15), tp(-100, 1, 0.76, 0.76, 0), tp(3071, 1, 1, 1, 0)],
      };
    case 'ct-skin':
      return { blend: 'composite', shade: true, points: [tp(-1000, 0, 0, 0, 0), tp(-500, 0.87, 0.6, 0.48, 0), tp(-300, 0.95, 0.76, 0.65, 0.9), tp(3071, 1, 0.9, 0.85, 0.9)] };
    case 'mr-default':
      return { blend: 'composite', shade: true, points: [tp(at(0), 0, 0, 0, 0), tp(at(0.2), 0.55, 0.45, 0.4, 0), tp(at(0.6), 0.9, 0.8, 0.7, 0.3), tp(at(1), 1, 1, 1, 0.6)] };
    case 'pet-hot-mip':
      return { blend: 'mip', shade: false, points: [tp(at(0), 0, 0, 0, 0), tp(at(3 / 8), 1, 0, 0, 3 / 8), tp(at(6 / 8), 1, 1, 0, 6 / 8), tp(at(1), 1, 1, 1, 1)] };
  }
}

/**
 * A Lattice colour map over a window (real values) as a transfer function: the map's points
 * (x ∈ [0,1] along the window, colour, opacity) become nodes at level − window/2 + x·window.
 */
export function colorMapTransfer(map: ColorMap, window: number, level: number, blend: BlendMode = 'composite'): TransferFunction {
  const lo = level - window / 2;
  const points = map.points.map((q) => tp(lo + q.x * window, q.r / 255, q.g / 255, q.b / 255, q.a));
  return { blend, shade: blend === 'composite', points };
}

/**
 * MIP of any preset: the same colours, with opacity rising with the value (a MIP shows the
 * brightest sample along the ray; the opacity only weighs how much of it covers the
 * background), i.e. a grey ramp over [lo, hi] unless the preset is already a MIP.
 */
export function asMip(tf: TransferFunction, window: number, level: number): TransferFunction {
  if (tf.blend === 'mip') return tf;
  const lo = level - window / 2;
  return { blend: 'mip', shade: false, points: [tp(lo, 0, 0, 0, 0), tp(lo + window, 1, 1, 1, 1)] };
}
