// Colour maps: interpolation between control points (colour and opacity), the 256-entry
// LUT, inversion, id resolution, and sanitising maps read back from the settings.
import { describe, expect, it } from 'vitest';
import {
  PRESET_COLORMAPS,
  buildLut,
  invertColorMap,
  resolveColorMap,
  sampleColorMap,
  sanitizeColorMap,
  type ColorMap,
} from '../src-renderer/colormaps';
import { blendLayer, lutToRgba } from '../src-renderer/rendering/layer-plane';

const twoPoint: ColorMap = {
  id: 't',
  name: 'T',
  points: [
    { x: 0.2, r: 0, g: 100, b: 200, a: 0 },
    { x: 0.6, r: 200, g: 100, b: 0, a: 1 },
  ],
};

describe('colour maps', () => {
  it('has the presets the issue lists', () => {
    const names = PRESET_COLORMAPS.map((m) => m.name);
    for (const n of ['Grayscale', 'Hot', 'Cool', 'Jet', 'Spring', 'Summer', 'Autumn', 'Winter', 'Copper', 'HSV', 'Blue-White-Red']) expect(names).toContain(n);
    for (const m of PRESET_COLORMAPS) {
      expect(m.points[0].x).toBe(0);
      expect(m.points[m.points.length - 1].x).toBe(1);
    }
  });

  it('interpolates colour and opacity linearly and clamps outside the points', () => {
    expect(sampleColorMap(twoPoint, 0)).toMatchObject({ r: 0, g: 100, b: 200, a: 0 });
    const c = sampleColorMap(twoPoint, 0.3);
    expect([c.r, c.g, c.b, c.a].map((v) => +v.toFixed(9))).toEqual([50, 100, 150, 0.25]);
    expect(sampleColorMap(twoPoint, 0.5).r).toBeCloseTo(150, 10);
    expect(sampleColorMap(twoPoint, 0.5).a).toBeCloseTo(0.75, 10);
    expect(sampleColorMap(twoPoint, 1)).toMatchObject({ r: 200, g: 100, b: 0, a: 1 });
  });

  it('builds a 256-entry RGBA LUT (hot: black → red at 3/8 → yellow → white)', () => {
    const lut = buildLut(resolveColorMap('hot'));
    expect(lut.length).toBe(1024);
    expect([...lut.slice(0, 4)]).toEqual([0, 0, 0, 255]);
    expect([...lut.slice(1020)]).toEqual([255, 255, 255, 255]);
    // Entry 64 is x = 64/255 = 0.251 → red = 0.251/0.375·255 = 170.7
    expect(lut[64 * 4]).toBe(171);
    expect(lut[64 * 4 + 1]).toBe(0);
    const t = buildLut(twoPoint);
    expect(t[3]).toBe(0); // opacity 0 below the first point
    expect(t[Math.round(0.4 * 255) * 4 + 3]).toBeGreaterThan(120);
    expect(t[Math.round(0.4 * 255) * 4 + 3]).toBeLessThan(135);
  });

  it('inverts maps and resolves inverted ids', () => {
    const inv = invertColorMap(twoPoint);
    expect(inv.id).toBe('t:inv');
    expect(inv.points.map((p) => p.x)).toEqual([0.4, 0.8]);
    for (const x of [0, 0.1, 0.35, 0.5, 0.9, 1]) {
      const a = sampleColorMap(inv, x);
      const b = sampleColorMap(twoPoint, 1 - x);
      for (const k of ['r', 'g', 'b', 'a'] as const) expect(a[k]).toBeCloseTo(b[k], 9);
    }
    expect(invertColorMap(inv).id).toBe('t');
    const hotInv = buildLut(resolveColorMap('hot:inv'));
    expect([...hotInv.slice(0, 4)]).toEqual([255, 255, 255, 255]);
    expect([...hotInv.slice(1020)]).toEqual([0, 0, 0, 255]);
    expect(resolveColorMap('no-such').id).toBe('grayscale');
    expect(resolveColorMap('custom:T', [{ ...twoPoint, id: 'custom:T' }]).points).toEqual(twoPoint.points);
  });

  it('sanitises maps from the settings', () => {
    expect(sanitizeColorMap({ name: 'x', points: [{ x: 0, r: 0, g: 0, b: 0, a: 1 }] })).toBeNull();
    expect(sanitizeColorMap({ name: 'x', points: [{ x: 0, r: 0, g: 0, b: 0, a: 1 }, { x: 'a' }] })).toBeNull();
    const m = sanitizeColorMap({ name: ' Mine ', points: [{ x: 2, r: 300, g: 0, b: 0, a: 1 }, { x: 0, r: 0, g: 0, b: 0, a: -1 }] })!;
    expect(m.id).toBe('custom:Mine');
    expect(m.points).toEqual([
      { x: 0, r: 0, g: 0, b: 0, a: 0 },
      { x: 1, r: 255, g: 0, b: 0, a: 1 },
    ]);
  });

  it('maps values through window/level and blends overlays with LUT alpha × opacity', () => {
    const lut = buildLut(resolveColorMap('grayscale'));
    const vals = new Float32Array([-100, 0, 50, 100, 200, NaN]);
    const rgba = new Uint8ClampedArray(24);
    lutToRgba(vals, { slope: 1, intercept: 0, window: 100, level: 50, lut }, rgba);
    const grey = [0, 1, 2, 3, 4, 5].map((i) => rgba[i * 4]);
    expect([grey[0], grey[1], grey[3], grey[4], grey[5]]).toEqual([0, 0, 255, 255, 0]);
    expect(Math.abs(grey[2] - 127.5)).toBeLessThanOrEqual(0.5);
    expect(rgba[5 * 4 + 3]).toBe(255);
    // Red map at 50 %: half-way to red; label 0 and NaN leave the pixel alone.
    const red = buildLut({ id: 'r', name: 'r', points: [{ x: 0, r: 255, g: 0, b: 0, a: 1 }, { x: 1, r: 255, g: 0, b: 0, a: 1 }] });
    const dst = new Uint8ClampedArray(12).fill(100);
    const n = blendLayer(new Float32Array([1, 0, NaN]), { slope: 1, intercept: 0, window: 1, level: 0.5, lut: red }, 0.5, true, dst);
    expect(n).toBe(1);
    expect([...dst.slice(0, 3)]).toEqual([178, 50, 50]);
    expect([...dst.slice(4, 11)]).toEqual([100, 100, 100, 100, 100, 100, 100]);
  });
});
