/**
 * Small pictures of layers for the image switcher in each view's corner: the middle axial
 * slice of the layer on its own grid, in its colour map and window, as a data URL. Made once
 * per volume and look (a few ms), not per frame.
 */
import type { Volume } from '../../src-shared/image/volume';
import { lutToRgba, samplePlane } from './layer-plane';
import { indexToWorld, sliceGrid } from './slice-geometry';

const cache = new WeakMap<Volume, { key: string; url: string }>();

export function layerThumbnail(vol: Volume, window: number, level: number, lut: Uint8ClampedArray, lutKey: string): string {
  const key = `${window} ${level} ${lutKey}`;
  const hit = cache.get(vol);
  if (hit && hit.key === key) return hit.url;
  const grid = sliceGrid(vol, 'axial');
  const centre = indexToWorld(vol, [(vol.dims[0] - 1) / 2, (vol.dims[1] - 1) / 2, Math.floor((vol.dims[2] - 1) / 2)]);
  const values = samplePlane(vol, grid, centre, 'nearest', 0);
  const img = new ImageData(grid.width, grid.height);
  lutToRgba(values, { slope: 1, intercept: 0, window, level, lut }, img.data);
  const full = document.createElement('canvas');
  full.width = grid.width;
  full.height = grid.height;
  full.getContext('2d')!.putImageData(img, 0, 0);
  const size = 56;
  const small = document.createElement('canvas');
  const k = size / Math.max(grid.width * grid.pixelRight, grid.height * grid.pixelDown);
  small.width = Math.max(1, Math.round(grid.width * grid.pixelRight * k));
  small.height = Math.max(1, Math.round(grid.height * grid.pixelDown * k));
  small.getContext('2d')!.drawImage(full, 0, 0, small.width, small.height);
  const url = small.toDataURL('image/png');
  cache.set(vol, { key, url });
  return url;
}
