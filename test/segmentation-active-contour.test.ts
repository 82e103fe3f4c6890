/**
 * ITK-SNAP-style active contour (src-shared/segmentation/active-contour.ts): a seed bubble in
 * a bright ellipsoid grows to the ellipsoid's boundary with the threshold (region competition)
 * speed and with the edge speed, on an anisotropic grid, and stops there.
 */
import { describe, expect, it } from 'vitest';
import type { Vec3, Volume } from '../src-shared/image/volume';
import { ActiveContour } from '../src-shared/segmentation/active-contour';

function phantom(): { vol: Volume; truth: Uint8Array } {
  const dims: Vec3 = [48, 40, 20];
  const spacing: Vec3 = [1, 1.2, 2];
  const data = new Int16Array(dims[0] * dims[1] * dims[2]);
  const truth = new Uint8Array(data.length);
  const c = [24, 20, 10];
  const radii = [14, 10, 12]; // mm
  for (let k = 0, o = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++, o++) {
        const r = Math.hypot(((i - c[0]) * spacing[0]) / radii[0], ((j - c[1]) * spacing[1]) / radii[1], ((k - c[2]) * spacing[2]) / radii[2]);
        const inside = r <= 1;
        truth[o] = inside ? 1 : 0;
        // Bright object (200) on a dark background (0) with a little deterministic texture.
        data[o] = (inside ? 200 : 0) + ((i * 7 + j * 13 + k * 5) % 11) - 5;
      }
  return { vol: { dims, spacing, origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} }, truth };
}

function dice(a: Uint8Array, b: Uint8Array): number {
  let ab = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] & b[i];
    na += a[i];
    nb += b[i];
  }
  return (2 * ab) / (na + nb);
}

describe('active contour', () => {
  it('threshold speed: a bubble grows to fill the object and stops at its boundary', () => {
    const { vol, truth } = phantom();
    const ac = new ActiveContour(vol, { speed: { mode: 'threshold', lower: 100, upper: 1000 }, bubbles: [{ center: [24, 20, 10], radius: 3 }], beta: 0.1 });
    const first = ac.insideCount();
    const sizes = [first];
    for (let s = 0; s < 8; s++) sizes.push(ac.step(10));
    // It grows monotonically, then levels off near the object's size.
    for (let s = 1; s < 4; s++) expect(sizes[s]).toBeGreaterThan(sizes[s - 1]);
    const total = truth.reduce((a, b) => a + b, 0);
    expect(sizes.at(-1)!).toBeGreaterThan(0.9 * total);
    expect(sizes.at(-1)!).toBeLessThan(1.1 * total);
    expect(dice(ac.fullMask(), truth)).toBeGreaterThan(0.95);
    // More iterations do not leak out (the speed is negative outside).
    ac.step(20);
    expect(dice(ac.fullMask(), truth)).toBeGreaterThan(0.95);
  });

  it('edge speed: the front stops on the edge; the ROI limits it', () => {
    const { vol, truth } = phantom();
    const ac = new ActiveContour(vol, { speed: { mode: 'edge', kappa: 10, exponent: 2 }, bubbles: [{ center: [24, 20, 10], radius: 3 }], beta: 0.1 });
    ac.step(120);
    expect(dice(ac.fullMask(), truth)).toBeGreaterThan(0.9);
    const roi = new ActiveContour(vol, { speed: { mode: 'threshold', lower: 100, upper: 1000 }, bubbles: [{ center: [24, 20, 10], radius: 3 }], roi: { start: [20, 0, 0], end: [48, 40, 20] } });
    roi.step(80);
    const m = roi.fullMask();
    for (let o = 0; o < m.length; o++) if (m[o]) expect(o % 48).toBeGreaterThanOrEqual(20);
    expect(roi.start).toEqual([20, 0, 0]);
  });
});

describe('active contour on a real CT', () => {
  it('threshold speed from one seed converges to the seed\'s connected component of the band (Dice > 0.9)', async () => {
    const { scanDicom, loadDicomSeries } = await import('../src-main/dicom/index');
    const { floodRegion } = await import('../src-shared/segmentation/flood-fill');
    const { resolve } = await import('node:path');
    const scan = await scanDicom([resolve(__dirname, '../../shared/data/dicom/ct_ge_lightspeed_3slice')]);
    const ct = (await loadDicomSeries(scan, scan.series[0].id)).volume;
    const [nx, ny, nz] = ct.dims;
    const lo = 200;
    const hi = 3000;
    const hu = (i: number) => ct.data[i] * ct.rescaleSlope + ct.rescaleIntercept;
    const inBand = (i: number) => hu(i) >= lo && hu(i) <= hi;
    // A bony/contrast structure: a 6-connected component of the band with 2 000…40 000 voxels
    // whose seed has band voxels all around it (so a small bubble starts inside).
    const zeros = new Uint8Array(nx * ny * nz);
    let comp: Uint32Array | null = null;
    let seed: Vec3 = [0, 0, 0];
    const k = Math.floor(nz / 2);
    search: for (let j = 2; j < ny - 2; j += 4)
      for (let i = 2; i < nx - 2; i += 4) {
        const o = i + nx * (j + ny * k);
        if (![0, 1, -1, nx, -nx, 2, -2, 2 * nx, -2 * nx].every((d) => inBand(o + d))) continue;
        const r = floodRegion(zeros, ct.dims, [i, j, k], { threeD: true, sliceAxis: 2, accept: inBand, maxVoxels: 50_000 });
        if (r.length >= 2000 && r.length <= 40_000) {
          comp = r;
          seed = [i, j, k];
          break search;
        }
      }
    expect(comp, 'a bony structure in the CT').not.toBeNull();
    const truth = new Uint8Array(nx * ny * nz);
    const box = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
    for (const o of comp!) {
      truth[o] = 1;
      const c = [o % nx, Math.floor(o / nx) % ny, Math.floor(o / (nx * ny))];
      for (let a = 0; a < 3; a++) {
        box[a] = Math.min(box[a], c[a]);
        box[a + 3] = Math.max(box[a + 3], c[a]);
      }
    }
    const ac = new ActiveContour(ct, {
      speed: { mode: 'threshold', lower: lo, upper: hi, smoothness: 20 },
      bubbles: [{ center: seed, radius: 0.8 }],
      beta: 0.05,
      roi: { start: [box[0] - 8, box[1] - 8, 0], end: [box[3] + 9, box[4] + 9, nz] },
    });
    let prev = -1;
    for (let s = 0; s < 60 && ac.insideCount() !== prev; s++) {
      prev = ac.insideCount();
      ac.step(10);
    }
    const d = dice(ac.fullMask(), truth);
    if (process.env.LATTICE_DEBUG) console.log('real CT active contour: component', comp!.length, 'voxels, Dice', d.toFixed(4), 'iterations', ac.iteration);
    expect(d).toBeGreaterThan(0.9);
  });
});
