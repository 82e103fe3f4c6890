// Morphology with a structuring element larger than the image: only the part that can reach
// inside is built (elementRows' reach), and the result is the same as with the whole element.
import { describe, expect, it } from 'vitest';
import { elementRows, morphology } from '../src-shared/processing/morphology';
import type { Volume } from '../src-shared/image/volume';

function mask(dims: [number, number, number], on: (x: number, y: number, z: number) => boolean): Volume {
  const [nx, ny, nz] = dims;
  const data = new Uint8Array(nx * ny * nz);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) data[(z * ny + y) * nx + x] = on(x, y, z) ? 1 : 0;
  return { dims, spacing: [1, 1, 2], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

describe('structuring elements larger than the image', () => {
  const m = mask([9, 7, 5], (x, y, z) => x === 1 && y === 5 && z === 3);
  for (const shape of ['ball', 'box'] as const) {
    for (const radius of [[12, 3, 2], [3, 20, 9], 15] as ([number, number, number] | number)[]) {
      it(`${shape} radius ${JSON.stringify(radius)}: same voxels as the whole element`, () => {
        const got = morphology(m, 'dilate', { shape, radius });
        // Reference: the whole element, painted by hand.
        const want = new Uint8Array(m.data.length);
        const rows = elementRows({ shape, radius });
        const [nx, ny, nz] = m.dims;
        for (const { dy, dz, w } of rows)
          for (let dx = -w; dx <= w; dx++) {
            const x = 1 + dx, y = 5 + dy, z = 3 + dz;
            if (x >= 0 && x < nx && y >= 0 && y < ny && z >= 0 && z < nz) want[(z * ny + y) * nx + x] = 1;
          }
        expect(Array.from(got.data)).toEqual(Array.from(want));
      });
    }
  }

  it('a radius of 10⁹ costs no more than the image', () => {
    expect(elementRows({ shape: 'ball', radius: 1e9 }, [8, 6, 4]).length).toBeLessThanOrEqual(9 * 13);
    const t0 = performance.now();
    const r = morphology(m, 'dilate', { shape: 'ball', radius: 1e9 });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r.data.every((v) => v === 1)).toBe(true);
  });
});
