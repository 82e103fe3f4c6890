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
import { allocBytes, bufferName, executorOf, foregroundShared, type AnalysisOptions } from './common';
import { distanceToFeatures } from './distance';
import { mergeMaskPairStats, select } from './kernels';

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

/**
 * numpy.percentile(values, q) with linear interpolation; reorders `v`. Linear time: a
 * selection of the lower neighbour, then the smallest value above it (a sort of the pooled
 * surface distances, a million or more on a body outline, took most of compare-masks' time).
 */
export function percentile(v: Float64Array, q: number): number {
  const n = v.length;
  if (n === 0) return NaN;
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const x = select(v, n, lo); // v[0..lo) ≤ x ≤ v(lo..n)
  if (lo + 1 >= n) return x;
  let y = Infinity;
  for (let i = lo + 1; i < n; i++) if (v[i] < y) y = v[i];
  return x + (y - x) * (pos - lo);
}

export async function compareMasks(a: Volume, b: Volume, p: CompareParams = {}, opts: AnalysisOptions = {}): Promise<MaskComparison> {
  assertSameGrid(a, b, 'compare masks');
  const dims = a.dims;
  opts.onProgress?.(0, 'Comparing masks');
  const ex = executorOf(opts);
  // Both masks, the surfaces and the distances live in the executor's (shared) memory, so
  // that every pass over the volume runs on all threads.
  const nameA = bufferName('cmp-a'), nameB = bufferName('cmp-b');
  const names = [nameA, nameB];
  try {
    await foregroundShared(ex, a, nameA, p.labelA);
    await foregroundShared(ex, b, nameB, p.labelB);
    const t = mergeMaskPairStats((await ex.run('maskPairStats', { a: nameA, b: nameB, dims }, dims[2])) as number[][]);
    const [na, nb, tp] = t;
    const voxelMl = (a.spacing[0] * a.spacing[1] * a.spacing[2]) / 1000;
    const centre = (s: number, cnt: number): Vec3 | null => (cnt ? indexToWorld(a, [t[s] / cnt, t[s + 1] / cnt, t[s + 2] / cnt]) : null);
    const centreA = centre(3, na), centreB = centre(6, nb);
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

    // Both surfaces on the box that holds both masks (and so every surface voxel): the EDT on
    // that box is exact for its voxels (every feature lies inside it), and often much smaller.
    const lo = [t[9], t[10], t[11]] as Vec3;
    const cd = [0, 1, 2].map((x) => t[12 + x] - lo[x] + 1) as Vec3;
    const nBox = cd[0] * cd[1] * cd[2];
    const surfA = bufferName('cmp-sa'), surfB = bufferName('cmp-sb');
    names.push(surfA, surfB);
    const sa = allocBytes(ex, surfA, nBox), sb = allocBytes(ex, surfB, nBox);
    const total = (parts: unknown[]) => (parts as number[]).reduce((x, y) => x + y, 0);
    const countA = total(await ex.run('surfaceInBox', { src: nameA, dst: surfA, dims, lo, size: cd }, cd[2]));
    const countB = total(await ex.run('surfaceInBox', { src: nameB, dst: surfB, dims, lo, size: cd }, cd[2]));
    const directed = async (from: Uint8Array, cnt: number, to: string, f0: number, f1: number): Promise<Float64Array> => {
      const name = bufferName('surface');
      try {
        const dist = await distanceToFeatures(ex, name, to, cd, a.spacing, opts, f0, f1, true);
        const d = new Float64Array(cnt);
        // Surfaces are sparse: skip four empty bytes at a time (the buffer is 4-aligned).
        const words = new Uint32Array(from.buffer, from.byteOffset, nBox >> 2);
        let q = 0;
        for (let w = 0; w < words.length; w++) {
          if (words[w] === 0) continue;
          for (let i = w << 2; i < (w << 2) + 4; i++) if (from[i]) d[q++] = dist[i];
        }
        for (let i = words.length << 2; i < nBox; i++) if (from[i]) d[q++] = dist[i];
        return d;
      } finally {
        ex.free(name);
      }
    };
    const dAB = await directed(sa, countA, surfB, 0.05, 0.5);
    const dBA = await directed(sb, countB, surfA, 0.5, 0.95);
    const stats = (d: Float64Array): DirectedSurfaceDistance => {
      let s = 0, m = 0;
      for (const x of d) {
        s += x;
        if (x > m) m = x;
      }
      return { count: d.length, mean: s / d.length, max: m, p95: percentile(d.slice(), 95) };
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
  } finally {
    for (const x of names) ex.free(x);
  }
}
