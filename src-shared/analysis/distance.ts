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
import { bufferName, executorOf, floatResult, foreground, runChunked, type AnalysisOptions } from './common';
import type { SlabExecutor } from './kernels';

export type DistanceMode = 'inside' | 'outside' | 'signed';

export interface DistanceParams {
  mode?: DistanceMode;
  /** Only voxels with this real value are the mask (label volumes); default: every non-zero voxel. */
  label?: number;
}

/**
 * Squared distances (mm²) from every voxel to the nearest voxel where `feature` is 1, into a
 * new executor buffer `name` (the caller frees it). +Infinity when there is no feature.
 */
export async function squaredDistanceToFeatures(
  ex: SlabExecutor,
  name: string,
  feature: Uint8Array,
  dims: Vec3,
  spacing: Vec3,
  opts: AnalysisOptions,
  f0 = 0,
  f1 = 1,
): Promise<Float32Array> {
  const b = ex.alloc(name, feature.length, true);
  for (let i = 0; i < feature.length; i++) b[i] = feature[i] ? 0 : Infinity;
  const df = (f1 - f0) / 3;
  const d = [...dims] as [number, number, number];
  let first = true; // the first pass sees the binary map (0 / +∞): a cheaper scan does it
  for (let axis = 0 as 0 | 1 | 2; axis < 3; axis++) {
    if (dims[axis] === 1) continue;
    await runChunked(ex, 'edtPass', { buf: name, dims: d, axis, spacing: spacing[axis], binary: first && axis === 0 }, axis === 2 ? dims[1] : dims[2], opts, f0 + axis * df, f0 + (axis + 1) * df, 'Distance transform');
    first = false;
  }
  return ex.get(name);
}

export async function distanceTransform(mask: Volume, p: DistanceParams = {}, opts: AnalysisOptions = {}): Promise<Volume> {
  const mode = p.mode ?? 'outside';
  const fg = foreground(mask, p.label);
  const n = voxelCount(mask);
  let count = 0;
  for (let i = 0; i < n; i++) count += fg[i];
  if (count === 0 && mode !== 'inside') throw new Error('distance: the mask is empty (no voxel to measure the distance to)');
  if (count === n && mode !== 'outside') throw new Error('distance: the mask fills the whole image (no background voxel to measure the distance to)');
  const ex = executorOf(opts);
  const out = new Float32Array(n);
  if (mode !== 'inside') {
    const name = bufferName('edt-out');
    try {
      const sq = await squaredDistanceToFeatures(ex, name, fg, mask.dims, mask.spacing, opts, 0, mode === 'signed' ? 0.5 : 1);
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(sq[i]);
    } finally {
      ex.free(name);
    }
  }
  if (mode !== 'outside') {
    const bg = new Uint8Array(n);
    for (let i = 0; i < n; i++) bg[i] = fg[i] ^ 1;
    const name = bufferName('edt-in');
    try {
      const sq = await squaredDistanceToFeatures(ex, name, bg, mask.dims, mask.spacing, opts, mode === 'signed' ? 0.5 : 0, 1);
      const sign = mode === 'inside' ? 1 : -1;
      for (let i = 0; i < n; i++) if (fg[i]) out[i] = sign * Math.sqrt(sq[i]);
    } finally {
      ex.free(name);
    }
  }
  return floatResult(mask, out, undefined, `distance (${mode}, mm)`);
}
