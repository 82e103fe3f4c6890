// Flood fill: the scanline fill (src-shared/segmentation/flood-fill.ts) gives exactly the region
// of a plain voxel-by-voxel breadth-first search (the former implementation, kept here as the
// reference) on random label volumes of odd sizes, in 3D and on slices across each axis, with and
// without an image range; and the fill worker's message protocol (flood-fill-protocol.ts).
import { describe, expect, it } from 'vitest';
import { floodRegion, type FloodRange } from '../src-shared/segmentation/flood-fill';
import { FloodFillService, type FloodRequest } from '../src-shared/segmentation/flood-fill-protocol';

/** The former implementation: BFS over 6 / 4 neighbours. */
function bfsRegion(labels: ArrayLike<number>, dims: number[], seed: number[], threeD: boolean, sliceAxis: number, accept: (i: number) => boolean): number[] {
  const [nx, ny, nz] = dims;
  const s0 = seed[0] + nx * (seed[1] + ny * seed[2]);
  const target = labels[s0];
  if (!accept(s0)) return [];
  const seen = new Uint8Array(nx * ny * nz);
  const q = [s0];
  seen[s0] = 1;
  const use = [0, 1, 2].map((a) => threeD || a !== sliceAxis);
  for (let h = 0; h < q.length; h++) {
    const i = q[h];
    const c = [i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))];
    const st = [1, nx, nx * ny];
    for (let a = 0; a < 3; a++) {
      if (!use[a]) continue;
      for (const d of [-1, 1]) {
        const x = c[a] + d;
        if (x < 0 || x >= dims[a]) continue;
        const j = i + d * st[a];
        if (seen[j] || labels[j] !== target || !accept(j)) continue;
        seen[j] = 1;
        q.push(j);
      }
    }
  }
  return q.sort((a, b) => a - b);
}

function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

const sorted = (r: Uint32Array) => Array.from(r).sort((a, b) => a - b);

describe('scanline flood fill', () => {
  it('equals the breadth-first region on random volumes of odd sizes (3D and slices across i, j, k; with an image range)', () => {
    const rand = rng(7);
    let checked = 0;
    let nonTrivial = 0;
    for (const dims of [[7, 5, 3], [13, 11, 9], [1, 17, 5], [21, 1, 3], [9, 7, 1], [31, 23, 11]]) {
      const n = dims[0] * dims[1] * dims[2];
      for (const density of [0.2, 0.45, 0.7]) {
        // Two labels (so the seed's label matters) and an image with a slope and intercept.
        const labels = new Uint8Array(n).map(() => (rand() < density ? 1 : 0));
        const image = new Int16Array(n).map(() => Math.floor(rand() * 200) - 100);
        const range: FloodRange = { image, slope: 2, intercept: 10, lower: -120, upper: 150 };
        const inRange = (i: number) => image[i] * 2 + 10 >= -120 && image[i] * 2 + 10 <= 150;
        for (let t = 0; t < 4; t++) {
          const seed = dims.map((d) => Math.floor(rand() * d));
          for (const [threeD, axis] of [[true, 2], [false, 0], [false, 1], [false, 2]] as const) {
            const plain = floodRegion(labels, dims, seed, { threeD, sliceAxis: axis });
            expect(sorted(plain)).toEqual(bfsRegion(labels, dims, seed, threeD, axis, () => true));
            const ranged = floodRegion(labels, dims, seed, { threeD, sliceAxis: axis, range });
            const ref = bfsRegion(labels, dims, seed, threeD, axis, inRange);
            expect(sorted(ranged)).toEqual(ref);
            // No voxel twice.
            expect(new Set(ranged).size).toBe(ranged.length);
            // A closure condition gives the same region as the range.
            expect(sorted(floodRegion(labels, dims, seed, { threeD, sliceAxis: axis, accept: inRange }))).toEqual(ref);
            checked++;
            if (ref.length > 20) nonTrivial++;
          }
        }
      }
    }
    expect(checked).toBe(6 * 3 * 4 * 4);
    expect(nonTrivial).toBeGreaterThan(20);
  });

  it('stops at maxVoxels; a seed outside the volume or rejected by the range fills nothing', () => {
    const dims = [15, 9, 7];
    const labels = new Uint16Array(15 * 9 * 7);
    expect(floodRegion(labels, dims, [3, 3, 3], { threeD: true, sliceAxis: 2, maxVoxels: 100 }).length).toBe(100);
    expect(floodRegion(labels, dims, [3, 3, 3], { threeD: true, sliceAxis: 2 }).length).toBe(15 * 9 * 7);
    expect(floodRegion(labels, dims, [15, 3, 3], { threeD: true, sliceAxis: 2 }).length).toBe(0);
    const image = new Float32Array(labels.length).fill(5);
    expect(floodRegion(labels, dims, [3, 3, 3], { threeD: true, sliceAxis: 2, range: { image, slope: 1, intercept: 0, lower: 6, upper: 9 } }).length).toBe(0);
  });
});

describe('flood fill worker protocol', () => {
  it('sends the image once per key, hands the label buffer back, asks for the image it lacks', () => {
    const dims: [number, number, number] = [9, 7, 5];
    const n = 9 * 7 * 5;
    const image = new Int16Array(n).map((_, i) => (i % 9 < 4 ? 100 : -100));
    const labels = new Uint8Array(n);
    const svc = new FloodFillService();
    const req = (o: Partial<FloodRequest>): FloodRequest => ({ id: 1, labels: labels.slice(), dims, seed: [1, 1, 1], threeD: true, sliceAxis: 2, ...o });
    const range = { slope: 1, intercept: 0, lower: 0, upper: 1000 };

    // Without the image for key 3: an error that asks for it, and the labels come back.
    const miss = svc.handle(req({ id: 1, range: { key: 3, ...range } }));
    expect(miss.reply).toMatchObject({ id: 1, needImage: true });
    expect('labels' in miss.reply && miss.reply.labels?.length).toBe(n);

    const first = req({ id: 2, range: { key: 3, image, ...range } });
    const a = svc.handle(first);
    if ('error' in a.reply) throw new Error(a.reply.error);
    expect(a.reply.id).toBe(2);
    expect(a.reply.region.length).toBe(4 * 7 * 5);
    // The region and the label copy are transferred back (the client reuses the copy).
    expect(a.transfer).toContain(a.reply.region.buffer);
    expect(a.transfer).toContain(first.labels.buffer);
    expect(a.reply.labels).toBe(first.labels);

    // Same key, no image: the held one is used; another range on it gives the complement.
    const b = svc.handle(req({ id: 3, seed: [6, 1, 1], range: { key: 3, slope: 1, intercept: 0, lower: -1000, upper: 0 } }));
    if ('error' in b.reply) throw new Error(b.reply.error);
    expect(b.reply.region.length).toBe(5 * 7 * 5);
    // A new key replaces the held image; the old key then needs resending.
    const other = new Int16Array(n).fill(100);
    const c = svc.handle(req({ id: 4, range: { key: 4, image: other, ...range } }));
    expect('region' in c.reply && c.reply.region.length).toBe(n);
    expect(svc.handle(req({ id: 5, range: { key: 3, ...range } })).reply).toMatchObject({ needImage: true });
    // No range: labels only.
    const d = svc.handle(req({ id: 6 }));
    expect('region' in d.reply && d.reply.region.length).toBe(n);
  });
});
