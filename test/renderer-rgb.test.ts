/**
 * Colour layers in the viewer (pure parts): an RGB volume's channels reslice with the
 * scalar code; the plane is written as RGBA directly (no LUT), blended as an overlay; the
 * cursor inspector reads R, G, B; the IPC wire carries the sample count.
 */
import { describe, expect, it } from 'vitest';
import type { Volume } from '../src-shared/image/volume';
import { formatRgb, isRgb, rgbChannels, rgbToRgba } from '../src-renderer/rendering/rgb-plane';
import { extractSlice, voxelValue } from '../src-renderer/rendering/slice-extract';
import { sliceGrid } from '../src-renderer/rendering/slice-geometry';
import { fromWireVolume, toWireVolume } from '../src-shared/ipc/volume-wire';

// 4×3×2 RGB volume, voxel (i,j,k) = (10i, 20j, 100k), oblique direction, anisotropic spacing.
function rgbVolume(): Volume {
  const [nx, ny, nz] = [4, 3, 2];
  const data = new Uint8Array(nx * ny * nz * 3);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) data.set([10 * i, 20 * j, 100 * k], 3 * (i + nx * (j + ny * k)));
  const c = Math.cos(0.3);
  const s = Math.sin(0.3);
  return { dims: [nx, ny, nz], spacing: [0.8, 1.2, 3], origin: [5, -7, 2], direction: [c, -s, 0, s, c, 0, 0, 0, 1], data, voxelType: 'uint8', components: 3, frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

describe('RGB layers', () => {
  it('channels are scalar volumes with the same geometry (cached)', () => {
    const v = rgbVolume();
    expect(isRgb(v)).toBe(true);
    const ch = rgbChannels(v);
    expect(ch).toBe(rgbChannels(v));
    expect(ch.map((c) => [c.components, c.data.length])).toEqual([[1, 24], [1, 24], [1, 24]]);
    expect(ch.map((c) => voxelValue(c, [3, 2, 1], 0))).toEqual([30, 40, 100]);
    expect(ch[0].origin).toEqual(v.origin);
  });

  it('an axial plane of the channels drawn as RGBA: the voxels colours, opaque', () => {
    const v = rgbVolume();
    const grid = sliceGrid(v, 'axial', 'radiological');
    const planes = rgbChannels(v).map((c) => extractSlice(c, grid, [5, -7, 2 + 3], undefined, 0));
    const rgba = new Uint8ClampedArray(grid.width * grid.height * 4);
    const n = rgbToRgba(planes[0], planes[1], planes[2], rgba);
    expect(n).toBeGreaterThan(0);
    const seen = new Set<string>();
    for (let i = 0; i < rgba.length; i += 4) if (rgba[i + 3] === 255 && (rgba[i] || rgba[i + 1] || rgba[i + 2])) seen.add(`${rgba[i]},${rgba[i + 1]},${rgba[i + 2]}`);
    // Slice k = 1: blue 100 everywhere, red/green the voxel's i/j.
    expect([...seen].every((c) => c.endsWith(',100'))).toBe(true);
    expect(seen).toContain('30,40,100');
    expect(seen.size).toBe(12);
  });

  it('as an overlay: blended with its opacity, outside pixels untouched', () => {
    const dst = new Uint8ClampedArray([100, 100, 100, 255, 7, 8, 9, 255]);
    const n = rgbToRgba(Float32Array.of(200, NaN), Float32Array.of(0, NaN), Float32Array.of(50, NaN), dst, 0.5);
    expect(n).toBe(1);
    expect(Array.from(dst)).toEqual([150, 50, 75, 255, 7, 8, 9, 255]);
    expect(formatRgb([12, 200, 34.4])).toBe('R 12, G 200, B 34');
    expect(formatRgb([NaN, 0, 0])).toBe('—');
  });

  it('crosses the IPC wire with its sample count', () => {
    const v = rgbVolume();
    const w = toWireVolume('x', 'rgb', v);
    expect(w.header.components).toBe(3);
    expect(w.header.byteLength).toBe(72);
    const back = fromWireVolume(w);
    expect(back.components).toBe(3);
    expect(Array.from(back.data)).toEqual(Array.from(v.data));
  });
});

describe('processing refuses colour volumes with the reason', () => {
  it('threshold on an RGB volume', async () => {
    const { runProcessingJob } = await import('../src-shared/processing/jobs');
    expect(() => runProcessingJob('processing.threshold', { lower: 10 }, [rgbVolume()])).toThrow(/colour \(RGB\) images cannot be processed/);
  });
});
