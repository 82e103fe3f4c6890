/**
 * Cropping that keeps the image's place in the world: the cropped image's origin is the
 * world position of the box's first voxel, spacing and direction are unchanged, so every
 * kept voxel stays exactly where it was.
 */
import { VOXEL_ARRAY, type Vec3, type Volume, type ImageGeometry } from '../image/volume';
import { indexToWorld, worldToIndex } from '../geometry/geometry';
import { ProgressTracker, type ProcessingOptions } from './progress';
import { copyGeometry } from './volume-utils';

/** Voxel box: start inclusive, end exclusive, per axis i, j, k (like Python slices). */
export interface VoxelBox {
  start: Vec3;
  end: Vec3;
}

export function validateBox(g: Pick<ImageGeometry, 'dims'>, box: VoxelBox): void {
  for (let a = 0; a < 3; a++) {
    const s = box.start[a];
    const e = box.end[a];
    if (!Number.isInteger(s) || !Number.isInteger(e)) throw new Error(`crop: box bounds must be integers (axis ${'ijk'[a]}: ${s}:${e})`);
    if (s < 0 || e > g.dims[a] || e <= s) {
      throw new Error(`crop: box ${s}:${e} on axis ${'ijk'[a]} is empty or outside the image (0:${g.dims[a]})`);
    }
  }
}

/** The geometry of a crop of `g` to `box`. */
export function cropGeometry(g: ImageGeometry, box: VoxelBox): ImageGeometry {
  validateBox(g, box);
  const out = copyGeometry(g);
  out.dims = [box.end[0] - box.start[0], box.end[1] - box.start[1], box.end[2] - box.start[2]];
  out.origin = indexToWorld(g, box.start);
  return out;
}

/** Crops every frame of `vol` to `box`; voxel type, rescale and metadata are kept. */
export function cropVolume(vol: Volume, box: VoxelBox, opts: ProcessingOptions = {}): Volume {
  const g = cropGeometry(vol, box);
  const [nx, ny, nz] = vol.dims;
  const [cx, cy, cz] = g.dims;
  const frames = vol.frames || 1;
  const out = new VOXEL_ARRAY[vol.voxelType](cx * cy * cz * frames);
  const src = vol.data;
  const tracker = new ProgressTracker(opts);
  let o = 0;
  for (let f = 0; f < frames; f++) {
    for (let z = 0; z < cz; z++) {
      tracker.report(0, (f * cz + z) / (frames * cz), 'Cropping');
      let rowBase = ((f * nz + z + box.start[2]) * ny + box.start[1]) * nx + box.start[0];
      for (let y = 0; y < cy; y++) {
        // Row copies: subarray + set is a memcpy, no per-voxel loop.
        (out as Uint8Array).set((src as Uint8Array).subarray(rowBase, rowBase + cx), o);
        o += cx;
        rowBase += nx;
      }
    }
  }
  tracker.report(0, 1, 'Cropping');
  return {
    ...g,
    data: out,
    voxelType: vol.voxelType,
    frames,
    frameSpacing: vol.frameSpacing,
    rescaleSlope: vol.rescaleSlope,
    rescaleIntercept: vol.rescaleIntercept,
    metadata: { ...vol.metadata },
  };
}

/**
 * The voxel box of a world box given by two opposite LPS corners (mm): the smallest box
 * holding every voxel whose centre lies inside the world box, clamped to the image. For
 * an oblique image the world box's corners are mapped to index space and their bounding
 * box is taken (it may then include voxels just outside the world box's corners).
 * Throws when the world box misses the image.
 */
export function worldBoxToVoxelBox(g: ImageGeometry, a: Vec3, b: Vec3): VoxelBox {
  const lo: Vec3 = [Infinity, Infinity, Infinity];
  const hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let c = 0; c < 8; c++) {
    const p: Vec3 = [c & 1 ? a[0] : b[0], c & 2 ? a[1] : b[1], c & 4 ? a[2] : b[2]];
    const ijk = worldToIndex(g, p);
    for (let k = 0; k < 3; k++) {
      lo[k] = Math.min(lo[k], ijk[k]);
      hi[k] = Math.max(hi[k], ijk[k]);
    }
  }
  const eps = 1e-6;
  const start = lo.map((v, k) => Math.max(0, Math.ceil(v - eps))) as Vec3;
  const end = hi.map((v, k) => Math.min(g.dims[k], Math.floor(v + eps) + 1)) as Vec3;
  for (let k = 0; k < 3; k++) {
    if (end[k] <= start[k]) throw new Error(`crop: the world box does not contain any voxel centre of the image on axis ${'ijk'[k]}`);
  }
  return { start, end };
}
