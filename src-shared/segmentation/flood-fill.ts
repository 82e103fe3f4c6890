/**
 * Flood fill (paint bucket) on a label volume: the connected region of voxels that have the
 * seed's label (and, optionally, an image value inside [lower, upper]) is found from the seed,
 * in 3D (6-connected) or on one slice (4-connected).
 *
 * Scanline fill: each seed grows into a run along the scan axis, and only the run starts of the
 * neighbouring rows are pushed, so the stack holds a few entries per run instead of one per
 * voxel and the inner loops walk memory in order. On the 512×512×300 synthetic CT this fills the
 * body (21 M voxels) ~6× faster than the former voxel-by-voxel breadth-first search
 * (bench/processing-flood-fill.bench.mjs). A one-slice fill keeps its "seen" marks for that slice
 * only, so it costs the slice, not the volume.
 */
import type { VoxelArray } from '../image/volume';

/** Accept a voxel when image[i] · slope + intercept lies in [lower, upper]. Plain data (unlike a
 *  closure it can be posted to the fill worker). */
export interface FloodRange {
  image: VoxelArray;
  slope: number;
  intercept: number;
  lower: number;
  upper: number;
}

export interface FloodOptions {
  /** 3D (6-neighbours) or one slice across `sliceAxis` (4-neighbours). */
  threeD: boolean;
  sliceAxis: number;
  /** The image's value within a range (on the same grid as the labels). */
  range?: FloodRange;
  /** Extra condition per voxel (slower than `range`; for callers with their own rule). */
  accept?: (i: number) => boolean;
  /** Stop after this many voxels (guards a runaway fill); Infinity by default. */
  maxVoxels?: number;
}

/** Linear indices of the region connected to `seed` (ijk) whose label equals the seed's. */
export function floodRegion(labels: VoxelArray, dims: readonly number[], seed: readonly number[], o: FloodOptions): Uint32Array {
  const [nx, ny, nz] = dims;
  const [si, sj, sk] = seed;
  if (si < 0 || sj < 0 || sk < 0 || si >= nx || sj >= ny || sk >= nz) return new Uint32Array(0);
  const strides = [1, nx, nx * ny];
  // Local grid (u scan axis, v, w): in 3D x, y, z; on a slice the two in-plane axes, w of length 1.
  const inPlane = o.threeD ? [0, 1, 2] : [0, 1, 2].filter((a) => a !== o.sliceAxis);
  const ax = o.threeD ? inPlane : [...inPlane, o.sliceAxis];
  const nu = dims[ax[0]];
  const nv = dims[ax[1]];
  const nw = o.threeD ? dims[ax[2]] : 1;
  const su = strides[ax[0]];
  const sv = strides[ax[1]];
  const sw = o.threeD ? strides[ax[2]] : 0;
  const base = o.threeD ? 0 : seed[o.sliceAxis] * strides[o.sliceAxis];
  const nuv = nu * nv;

  const target = labels[si + nx * (sj + ny * sk)];
  const img = o.range?.image;
  const slope = o.range ? o.range.slope || 1 : 1;
  const icpt = o.range?.intercept ?? 0;
  const lo = o.range?.lower ?? -Infinity;
  const hi = o.range?.upper ?? Infinity;
  const accept = o.accept;
  const ok = (g: number): boolean => {
    if (labels[g] !== target) return false;
    if (img) {
      const x = img[g] * slope + icpt;
      if (!(x >= lo && x <= hi)) return false;
    }
    return !accept || accept(g);
  };

  const s0 = si + nx * (sj + ny * sk);
  if (!ok(s0)) return new Uint32Array(0);
  const max = o.maxVoxels ?? Infinity;
  const seen = new Uint8Array(nuv * nw);
  let out = new Uint32Array(1024);
  let count = 0;
  let stack = new Uint32Array(256);
  let top = 0;
  const push = (l: number) => {
    if (top === stack.length) {
      const s = new Uint32Array(stack.length * 2);
      s.set(stack);
      stack = s;
    }
    stack[top++] = l;
  };
  const c0 = [seed[ax[0]], seed[ax[1]], o.threeD ? seed[ax[2]] : 0];
  push(c0[0] + nu * (c0[1] + nv * c0[2]));

  // Pushes the start of every acceptable, unseen run of row (v, w) within u0…u1.
  const scanRow = (v: number, w: number, u0: number, u1: number) => {
    const lRow = nu * (v + nv * w);
    const gRow = base + v * sv + w * sw;
    let inRun = false;
    for (let u = u0; u <= u1; u++) {
      if (!seen[lRow + u] && ok(gRow + u * su)) {
        if (!inRun) push(lRow + u);
        inRun = true;
      } else inRun = false;
    }
  };

  while (top > 0 && count < max) {
    const l = stack[--top];
    if (seen[l]) continue;
    const u = l % nu;
    const v = ((l - u) / nu) % nv;
    const w = (l - u - v * nu) / nuv;
    const lRow = l - u;
    const gRow = base + v * sv + w * sw;
    let u0 = u;
    while (u0 > 0 && !seen[lRow + u0 - 1] && ok(gRow + (u0 - 1) * su)) u0--;
    let u1 = u;
    while (u1 < nu - 1 && !seen[lRow + u1 + 1] && ok(gRow + (u1 + 1) * su)) u1++;
    if (count + (u1 - u0 + 1) > out.length) {
      const grown = new Uint32Array(Math.max(out.length * 2, count + (u1 - u0 + 1)));
      grown.set(out.subarray(0, count));
      out = grown;
    }
    for (let x = u0; x <= u1; x++) {
      seen[lRow + x] = 1;
      out[count++] = gRow + x * su;
    }
    if (v > 0) scanRow(v - 1, w, u0, u1);
    if (v < nv - 1) scanRow(v + 1, w, u0, u1);
    if (w > 0) scanRow(v, w - 1, u0, u1);
    if (w < nw - 1) scanRow(v, w + 1, u0, u1);
  }
  return out.slice(0, Math.min(count, max));
}
