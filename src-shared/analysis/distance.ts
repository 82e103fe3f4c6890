/**
 * Exact Euclidean distance transform in mm (Felzenszwalb–Huttenlocher, separable: one pass
 * per axis with that axis's spacing, see kernels.ts), of a mask (non-zero voxels, or one label).
 * Distances are between voxel centres, on the voxel grid (direction cosines do not change
 * them: the grid's axes are orthogonal).
 *
 * Modes (scipy.ndimage.distance_transform_edt(x, sampling=spacing) is the reference):
 * - 'outside': every voxel's distance to the nearest mask voxel (0 inside) = edt(~mask)
 * - 'inside':  every mask voxel's distance to the nearest background voxel (0 outside) = edt(mask)
 * - 'signed':  outside − inside: positive outside, negative inside, no zero level (ITK's
 *              SignedMaurerDistanceMap sign convention, voxel-centre distances).
 * A distance to nothing (empty mask for 'outside', no background for 'inside') is an error.
 */
import { voxelCount, type Vec3, type Volume } from '../image/volume';
import { allocBytes, bufferName, executorOf, floatResult, foregroundShared, runChunked, type AnalysisOptions } from './common';
import { mergeMaskPairStats, type SlabExecutor } from './kernels';

export type DistanceMode = 'inside' | 'outside' | 'signed';

export interface DistanceParams {
  mode?: DistanceMode;
  /** Only voxels with this real value are the mask (label volumes); default: every non-zero voxel. */
  label?: number;
}

/**
 * Distances in mm (squared, mm², unless `root`) from every voxel to the nearest voxel of the
 * byte mask in executor buffer `fname` (allocBytes; 1 = feature), into a new executor buffer
 * `name` (the caller frees it). +Infinity when there is no feature. The first pass reads the
 * mask on every thread; the last pass takes the roots.
 */
export async function distanceToFeatures(
  ex: SlabExecutor,
  name: string,
  fname: string,
  dims: Vec3,
  spacing: Vec3,
  opts: AnalysisOptions,
  f0 = 0,
  f1 = 1,
  root = false,
): Promise<Float32Array> {
  ex.alloc(name, dims[0] * dims[1] * dims[2], true);
  const d = [...dims] as [number, number, number];
  const axes = ([0, 1, 2] as const).filter((a) => a === 0 || dims[a] > 1);
  const df = (f1 - f0) / axes.length;
  for (const [t, axis] of axes.entries()) {
    const args = { buf: name, dims: d, axis, spacing: spacing[axis], root: root && t === axes.length - 1, ...(axis === 0 ? { feature: fname } : {}) };
    await runChunked(ex, 'edtPass', args, axis === 2 ? dims[1] : dims[2], opts, f0 + t * df, f0 + (t + 1) * df, 'Distance transform');
  }
  return ex.get(name);
}

export async function distanceTransform(mask: Volume, p: DistanceParams = {}, opts: AnalysisOptions = {}): Promise<Volume> {
  const mode = p.mode ?? 'outside';
  const n = voxelCount(mask);
  const dims = mask.dims;
  const ex = executorOf(opts);
  // The mask goes straight into the executor's memory, where the first pass of every
  // thread reads it.
  const fname = bufferName('edt-mask');
  const fg = await foregroundShared(ex, mask, fname, p.label);
  const names = [fname];
  try {
    // Voxel count and bounding box of the mask, on every thread.
    const stats = mergeMaskPairStats((await ex.run('maskPairStats', { a: fname, b: fname, dims }, dims[2])) as number[][]);
    const count = stats[0];
    if (count === 0 && mode !== 'inside') throw new Error('distance: the mask is empty (no voxel to measure the distance to)');
    if (count === n && mode !== 'outside') throw new Error('distance: the mask fills the whole image (no background voxel to measure the distance to)');
    const out = new Float32Array(n);
    if (mode !== 'inside') {
      const name = bufferName('edt-out');
      names.push(name);
      out.set(await distanceToFeatures(ex, name, fname, dims, mask.spacing, opts, 0, mode === 'signed' ? 0.5 : 1, true));
      ex.free(names.pop()!);
    }
    if (mode !== 'outside' && count > 0) {
      // Inside: the distance from mask voxels to the background. It is computed on the mask's
      // bounding box grown by one voxel (clamped to the image): exact, because the nearest
      // background voxel of a point in the box can always be moved onto the box (clamping
      // each coordinate only brings it closer), and the grown box's border is background.
      const lo = [0, 1, 2].map((a) => Math.max(0, stats[9 + a] - 1)) as Vec3;
      const hi = [0, 1, 2].map((a) => Math.min(dims[a] - 1, stats[12 + a] + 1)) as Vec3;
      const bd = [0, 1, 2].map((a) => hi[a] - lo[a] + 1) as Vec3;
      const bname = bufferName('edt-bg');
      names.push(bname);
      const bg = allocBytes(ex, bname, bd[0] * bd[1] * bd[2]);
      const [nx, ny] = dims;
      for (let k = 0, t = 0; k < bd[2]; k++)
        for (let j = 0; j < bd[1]; j++) {
          const row = ((k + lo[2]) * ny + j + lo[1]) * nx + lo[0];
          for (let i = 0; i < bd[0]; i++, t++) bg[t] = fg[row + i] ^ 1;
        }
      const name = bufferName('edt-in');
      names.push(name);
      const dist = await distanceToFeatures(ex, name, bname, bd, mask.spacing, opts, mode === 'signed' ? 0.5 : 0, 1, true);
      const sign = mode === 'inside' ? 1 : -1;
      for (let k = 0, t = 0; k < bd[2]; k++)
        for (let j = 0; j < bd[1]; j++) {
          const row = ((k + lo[2]) * ny + j + lo[1]) * nx + lo[0];
          for (let i = 0; i < bd[0]; i++, t++) if (bg[t] === 0) out[row + i] = sign * dist[t];
        }
    }
    return floatResult(mask, out, undefined, `distance (${mode}, mm)`);
  } finally {
    for (const x of names) ex.free(x);
  }
}
