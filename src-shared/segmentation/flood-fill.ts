/**
 * Flood fill (paint bucket) on a label volume: the connected region of voxels that have the
 * seed's label (and, optionally, an image value inside [lower, upper]) is found from the seed,
 * in 3D (6-connected) or on one slice (4-connected). Breadth-first with a typed-array queue,
 * so a fill of a whole 512×512×300 region needs no recursion and ~5 bytes per voxel.
 */
import type { VoxelArray } from '../image/volume';

export interface FloodOptions {
  /** 3D (6-neighbours) or one slice across `sliceAxis` (4-neighbours). */
  threeD: boolean;
  sliceAxis: number;
  /** Extra condition per voxel (e.g. the image's value within a range). */
  accept?: (i: number) => boolean;
  /** Stop after this many voxels (guards a runaway fill); Infinity by default. */
  maxVoxels?: number;
}

/** Linear indices of the region connected to `seed` (ijk) whose label equals the seed's. */
export function floodRegion(labels: VoxelArray, dims: readonly number[], seed: readonly number[], o: FloodOptions): Uint32Array {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  const [si, sj, sk] = seed;
  if (si < 0 || sj < 0 || sk < 0 || si >= nx || sj >= ny || sk >= nz) return new Uint32Array(0);
  const s0 = si + nx * (sj + ny * sk);
  const target = labels[s0];
  const accept = o.accept ?? (() => true);
  if (!accept(s0)) return new Uint32Array(0);
  const seen = new Uint8Array(n);
  let queue = new Uint32Array(1024);
  let head = 0;
  let tail = 0;
  const max = o.maxVoxels ?? Infinity;
  const push = (i: number) => {
    if (seen[i] || labels[i] !== target || !accept(i)) return;
    seen[i] = 1;
    if (tail === queue.length) {
      const q = new Uint32Array(queue.length * 2);
      q.set(queue);
      queue = q;
    }
    queue[tail++] = i;
  };
  push(s0);
  const use = [o.threeD || o.sliceAxis !== 0, o.threeD || o.sliceAxis !== 1, o.threeD || o.sliceAxis !== 2];
  const nxy = nx * ny;
  while (head < tail && tail < max) {
    const i = queue[head++];
    const x = i % nx;
    const y = ((i - x) / nx) % ny;
    const z = (i - x - y * nx) / nxy;
    if (use[0]) {
      if (x > 0) push(i - 1);
      if (x < nx - 1) push(i + 1);
    }
    if (use[1]) {
      if (y > 0) push(i - nx);
      if (y < ny - 1) push(i + nx);
    }
    if (use[2]) {
      if (z > 0) push(i - nxy);
      if (z < nz - 1) push(i + nxy);
    }
  }
  return queue.slice(0, tail);
}
