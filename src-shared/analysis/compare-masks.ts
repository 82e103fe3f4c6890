/**
 * Agreement of two masks on the same grid: A is the segmentation under test, B the reference.
 *
 * Overlap (voxel counts): TP = |A∩B|; precision = TP/|A|, recall (sensitivity) = TP/|B|,
 * Dice = 2TP/(|A|+|B|), Jaccard = TP/|A∪B|. Volumes in mL (count × voxel volume).
 * Centre of mass: mean voxel-centre position of each mask in world LPS mm, and their distance.
 *
 * Surface distances (the convention of MedPy / the surface-distance literature):
 * - The surface of a mask is its foreground voxels with at least one of the 6 face neighbours
 *   in the background; voxels beyond the image edge count as background (mask ^ erosion(mask)
 *   with scipy's default border_value = 0).
 * - d(a, S) is the Euclidean distance in mm between voxel centres from surface voxel a to the
 *   nearest surface voxel of the other mask (exact EDT with the grid's spacing).
 * - Hausdorff = max over both directions: max(max_{a∈S_A} d(a,S_B), max_{b∈S_B} d(b,S_A)).
 * - HD95 = the 95th percentile (linear interpolation, numpy's default) of the pooled distances
 *   of both directions (MedPy's hd95). Directed 95th percentiles are reported as well.
 * - Mean surface distance = the mean of the pooled distances of both directions; ASSD (the
 *   average of the two directed means, MedPy's assd) is reported too.
 * Surface distances are null when either mask is empty.
 */
import { type Vec3, type Volume } from '../image/volume';
import { indexToWorld } from '../geometry/geometry';
import { assertSameGrid } from '../processing/volume-utils';
import { bufferName, executorOf, foreground, type AnalysisOptions } from './common';
import { distanceToFeatures } from './distance';

export interface DirectedSurfaceDistance {
  /** Surface voxels of the source mask. */
  count: number;
  mean: number;
  max: number;
  p95: number;
}

export interface MaskComparison {
  voxelsA: number;
  voxelsB: number;
  intersection: number;
  union: number;
  volumeA_ml: number;
  volumeB_ml: number;
  precision: number | null;
  recall: number | null;
  dice: number | null;
  jaccard: number | null;
  /** World LPS mm; null for an empty mask. */
  centreA: Vec3 | null;
  centreB: Vec3 | null;
  centreDistance_mm: number | null;
  hausdorff_mm: number | null;
  hausdorff95_mm: number | null;
  meanSurfaceDistance_mm: number | null;
  assd_mm: number | null;
  aToB: DirectedSurfaceDistance | null;
  bToA: DirectedSurfaceDistance | null;
}

export interface CompareParams {
  /** Use only voxels of this label value in A / B (label layers); default non-zero. */
  labelA?: number;
  labelB?: number;
}

/** Surface voxels of a 0/1 mask (6-neighbourhood, outside = background). */
export function surfaceOf(m: Uint8Array, dims: Vec3): Uint8Array {
  return surfaceInBox(m, dims, [0, 0, 0], dims);
}

/**
 * The surface voxels of mask `m` (on the grid `dims`) inside the box from `lo` of size `cd`,
 * as a mask on the box's own grid: only the box is visited, and it holds every surface voxel
 * when it holds the mask's bounding box.
 */
function surfaceInBox(m: Uint8Array, dims: Vec3, lo: Vec3, cd: Vec3): Uint8Array {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const s = new Uint8Array(cd[0] * cd[1] * cd[2]);
  for (let k = lo[2], t = 0; k < lo[2] + cd[2]; k++)
    for (let j = lo[1]; j < lo[1] + cd[1]; j++) {
      const row = k * plane + j * nx;
      const edge = j === 0 || j === ny - 1 || k === 0 || k === nz - 1;
      for (let i = lo[0]; i < lo[0] + cd[0]; i++, t++) {
        const p = row + i;
        if (!m[p]) continue;
        if (edge || i === 0 || i === nx - 1 || !m[p - 1] || !m[p + 1] || !m[p - nx] || !m[p + nx] || !m[p - plane] || !m[p + plane]) s[t] = 1;
      }
    }
  return s;
}

/** numpy.percentile(values, q) with linear interpolation; sorts `v` in place. */
export function percentile(v: Float64Array, q: number): number {
  if (v.length === 0) return NaN;
  v.sort();
  const pos = (q / 100) * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(v.length - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

export async function compareMasks(a: Volume, b: Volume, p: CompareParams = {}, opts: AnalysisOptions = {}): Promise<MaskComparison> {
  assertSameGrid(a, b, 'compare masks');
  const dims = a.dims;
  opts.onProgress?.(0, 'Comparing masks');
  const A = foreground(a, p.labelA);
  const B = foreground(b, p.labelB);
  let na = 0, nb = 0, tp = 0;
  const ca = [0, 0, 0], cb = [0, 0, 0];
  // The box holding both masks (their surfaces lie in it): the EDTs below run on it only.
  const lo: Vec3 = [Infinity, Infinity, Infinity], hi: Vec3 = [-1, -1, -1];
  const [nx, ny, nz] = dims;
  for (let k = 0, q = 0; k < nz; k++)
    for (let j = 0; j < ny; j++) {
      let first = -1, last = -1;
      for (let i = 0; i < nx; i++, q++) {
        const x = A[q], y = B[q];
        if (!(x | y)) continue;
        if (first < 0) first = i;
        last = i;
        if (x) {
          na++;
          ca[0] += i; ca[1] += j; ca[2] += k;
        }
        if (y) {
          nb++;
          cb[0] += i; cb[1] += j; cb[2] += k;
        }
        tp += x & y;
      }
      if (first < 0) continue;
      if (first < lo[0]) lo[0] = first;
      if (last > hi[0]) hi[0] = last;
      if (j < lo[1]) lo[1] = j;
      if (j > hi[1]) hi[1] = j;
      if (k < lo[2]) lo[2] = k;
      hi[2] = k;
    }
  const voxelMl = (a.spacing[0] * a.spacing[1] * a.spacing[2]) / 1000;
  const centre = (c: number[], cnt: number): Vec3 | null => (cnt ? indexToWorld(a, [c[0] / cnt, c[1] / cnt, c[2] / cnt]) : null);
  const centreA = centre(ca, na), centreB = centre(cb, nb);
  const union = na + nb - tp;
  const res: MaskComparison = {
    voxelsA: na,
    voxelsB: nb,
    intersection: tp,
    union,
    volumeA_ml: na * voxelMl,
    volumeB_ml: nb * voxelMl,
    precision: na ? tp / na : null,
    recall: nb ? tp / nb : null,
    dice: na + nb ? (2 * tp) / (na + nb) : null,
    jaccard: union ? tp / union : null,
    centreA,
    centreB,
    centreDistance_mm: centreA && centreB ? Math.hypot(centreA[0] - centreB[0], centreA[1] - centreB[1], centreA[2] - centreB[2]) : null,
    hausdorff_mm: null,
    hausdorff95_mm: null,
    meanSurfaceDistance_mm: null,
    assd_mm: null,
    aToB: null,
    bToA: null,
  };
  if (!na || !nb) return res;

  const cd = [0, 1, 2].map((x) => hi[x] - lo[x] + 1) as Vec3;
  const sa = surfaceInBox(A, dims, lo, cd), sb = surfaceInBox(B, dims, lo, cd);
  const ex = executorOf(opts);
  const directed = async (from: Uint8Array, to: Uint8Array, f0: number, f1: number): Promise<Float64Array> => {
    const name = bufferName('surface');
    try {
      const dist = await distanceToFeatures(ex, name, to, cd, a.spacing, opts, f0, f1, true);
      let cnt = 0;
      for (let i = 0; i < from.length; i++) cnt += from[i];
      const d = new Float64Array(cnt);
      for (let i = 0, t = 0; i < from.length; i++) if (from[i]) d[t++] = dist[i];
      return d;
    } finally {
      ex.free(name);
    }
  };
  const dAB = await directed(sa, sb, 0.05, 0.5);
  const dBA = await directed(sb, sa, 0.5, 0.95);
  const stats = (d: Float64Array): DirectedSurfaceDistance => {
    let s = 0, m = 0;
    for (const x of d) {
      s += x;
      if (x > m) m = x;
    }
    return { count: d.length, mean: s / d.length, max: m, p95: percentile(Float64Array.from(d), 95) };
  };
  res.aToB = stats(dAB);
  res.bToA = stats(dBA);
  const pooled = new Float64Array(dAB.length + dBA.length);
  pooled.set(dAB);
  pooled.set(dBA, dAB.length);
  let sum = 0;
  for (const x of pooled) sum += x;
  res.hausdorff_mm = Math.max(res.aToB.max, res.bToA.max);
  res.meanSurfaceDistance_mm = sum / pooled.length;
  res.assd_mm = (res.aToB.mean + res.bToA.mean) / 2;
  res.hausdorff95_mm = percentile(pooled, 95);
  opts.onProgress?.(1, 'Comparing masks');
  return res;
}
