// World-space resampling of a layer onto the main image's view planes, between grids with
// oblique directions and different (anisotropic) spacing. The source holds a linear function
// of WORLD position, which trilinear interpolation reproduces exactly; so every plane pixel
// inside the source must equal the function at the pixel's world point, whatever the grids.
import { describe, expect, it } from 'vitest';
import type { Mat3, Vec3, Volume } from '../src-shared/image/volume';
import { gridToWorld, indexToWorld, sliceGrid, worldToContinuousIndex, VIEW_NAMES } from '../src-renderer/rendering/slice-geometry';
import { layerValueAt, samplePlane } from '../src-renderer/rendering/layer-plane';
import { axisRotation } from './registration-helpers';


const f = (p: Vec3) => 3 * p[0] - 2 * p[1] + 0.5 * p[2] + 7;

function volumeOf(dims: Vec3, spacing: Vec3, origin: Vec3, direction: Mat3, value: (p: Vec3, ijk: Vec3) => number, slope = 1, intercept = 0): Volume {
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  const g = { dims, spacing, origin, direction };
  let o = 0;
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) data[o++] = (value(indexToWorld(g, [i, j, k]), [i, j, k]) - intercept) / slope;
  return { ...g, data, voxelType: 'float32', frames: 1, rescaleSlope: slope, rescaleIntercept: intercept, metadata: {} };
}

// Main (display) grid: oblique too, anisotropic.
const main = volumeOf([40, 36, 12], [0.9, 1.1, 3], [-20, -15, -10], axisRotation([0.2, 1, 0.3], 0.25), () => 0);
// Layer: another obliquity, other spacing, other origin, with slope/intercept.
const layer = volumeOf([30, 28, 26], [1.3, 0.8, 1.7], [-12, -18, -14], axisRotation([1, -0.4, 0.6], -0.5), f, 2, -100);

describe('layer resampling onto view planes (world space)', () => {
  it('trilinear: every inside pixel equals the world function at its centre, in every view', () => {
    const through: Vec3 = indexToWorld(main, [17, 21, 6]);
    for (const view of VIEW_NAMES) {
      const grid = sliceGrid(main, view);
      const vals = samplePlane(layer, grid, through, 'linear');
      expect(vals.length).toBe(grid.width * grid.height);
      let inside = 0;
      let outside = 0;
      for (let r = 0; r < grid.height; r++)
        for (let c = 0; c < grid.width; c++) {
          const p = gridToWorld(grid, c, r, through);
          const ijk = worldToContinuousIndex(layer, p);
          const v = vals[r * grid.width + c];
          const strictly = ijk.every((x, a) => x >= 0 && x <= layer.dims[a] - 1);
          const domain = ijk.every((x, a) => x >= -0.5 && x <= layer.dims[a] - 0.5);
          if (strictly) {
            inside++;
            expect(Math.abs(v - f(p))).toBeLessThan(2e-3 * Math.max(1, Math.abs(f(p))));
          } else if (!domain) {
            outside++;
            expect(Number.isNaN(v)).toBe(true);
          }
        }
      expect(inside, view).toBeGreaterThan(50);
      expect(outside, view).toBeGreaterThan(50);
    }
  });

  it('nearest (labels): each pixel takes the label of the voxel whose centre is nearest', () => {
    const labels = volumeOf([30, 28, 26], [1.3, 0.8, 1.7], [-12, -18, -14], axisRotation([1, -0.4, 0.6], -0.5), (_p, [i, j, k]) => (i * 7 + j * 3 + k) % 5);
    const through: Vec3 = indexToWorld(main, [10, 10, 5]);
    const grid = sliceGrid(main, 'coronal');
    const vals = samplePlane(labels, grid, through, 'nearest');
    let checked = 0;
    for (let r = 0; r < grid.height; r += 3)
      for (let c = 0; c < grid.width; c += 3) {
        const ijk = worldToContinuousIndex(labels, gridToWorld(grid, c, r, through));
        if (!ijk.every((x, a) => x >= 0 && x <= labels.dims[a] - 1)) continue;
        const [i, j, k] = ijk.map(Math.round);
        expect(vals[r * grid.width + c]).toBe((i * 7 + j * 3 + k) % 5);
        checked++;
      }
    expect(checked).toBeGreaterThan(20);
  });

  it('layerValueAt gives the value and the fractional voxel index of a world point', () => {
    const p: Vec3 = [1.3, -2.7, 4.1];
    const { value, index } = layerValueAt(layer, p, 'linear');
    expect(value).toBeCloseTo(f(p), 2);
    const back = indexToWorld(layer, index);
    for (let a = 0; a < 3; a++) expect(back[a]).toBeCloseTo(p[a], 9);
    expect(index.some((x) => Math.abs(x - Math.round(x)) > 0.05)).toBe(true);
    expect(Number.isNaN(layerValueAt(layer, [500, 0, 0], 'linear').value)).toBe(true);
  });

  it('reuses the output buffer', () => {
    const grid = sliceGrid(main, 'axial');
    const buf = new Float32Array(grid.width * grid.height);
    expect(samplePlane(layer, grid, main.origin, 'linear', 0, buf)).toBe(buf);
  });
});
