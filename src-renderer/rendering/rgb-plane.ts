/**
 * Colour (RGB) layers in the slice views: drawn as they are, no window/level and no
 * colour map. An RGB volume (Volume.components = 3, interleaved uint8) is handled as
 * three scalar channel volumes, so the one reslicing code (extractSlice, samplePlane,
 * layerValueAt) serves colour unchanged; the channels are split once per volume (cached).
 */
import { componentsOf, type Volume } from '../../src-shared/image/volume';

const channelCache = new WeakMap<Volume, Volume[]>();

export function isRgb(v: Volume): boolean {
  return componentsOf(v) === 3;
}

/** The R, G and B channels of an RGB volume as scalar uint8 volumes with its geometry. */
export function rgbChannels(v: Volume): Volume[] {
  let ch = channelCache.get(v);
  if (ch) return ch;
  const n = v.data.length / 3;
  const planes = [new Uint8Array(n), new Uint8Array(n), new Uint8Array(n)];
  const d = v.data;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    planes[0][i] = d[j];
    planes[1][i] = d[j + 1];
    planes[2][i] = d[j + 2];
  }
  ch = planes.map((data) => ({ ...v, data, voxelType: 'uint8' as const, components: 1, rescaleSlope: 1, rescaleIntercept: 0 }));
  channelCache.set(v, ch);
  return ch;
}

/**
 * Writes three channel planes (NaN outside the image) as RGBA: opaque colours, `outside`
 * where the image does not reach. With opacity < 1 the colours are blended over dst
 * (an RGB overlay); returns the number of pixels coloured.
 */
export function rgbToRgba(r: Float32Array, g: Float32Array, b: Float32Array, dst: Uint8ClampedArray, opacity = 1, outside: readonly number[] = [0, 0, 0, 255]): number {
  let touched = 0;
  const a = Math.max(0, Math.min(1, opacity));
  for (let i = 0, o = 0; i < r.length; i++, o += 4) {
    const x = r[i];
    if (Number.isNaN(x)) {
      if (a >= 1) {
        dst[o] = outside[0];
        dst[o + 1] = outside[1];
        dst[o + 2] = outside[2];
        dst[o + 3] = outside[3];
      }
      continue;
    }
    if (a >= 1) {
      dst[o] = x;
      dst[o + 1] = g[i];
      dst[o + 2] = b[i];
      dst[o + 3] = 255;
    } else {
      dst[o] = dst[o] * (1 - a) + x * a;
      dst[o + 1] = dst[o + 1] * (1 - a) + g[i] * a;
      dst[o + 2] = dst[o + 2] * (1 - a) + b[i] * a;
    }
    touched++;
  }
  return touched;
}

/** "R 12, G 200, B 34" for the cursor inspector. */
export function formatRgb(values: number[]): string {
  return values.some((x) => Number.isNaN(x)) ? '—' : `R ${Math.round(values[0])}, G ${Math.round(values[1])}, B ${Math.round(values[2])}`;
}
