/**
 * Per-label statistics of a label (or mask) volume: voxel count, volume in mL and, with an
 * image on the same grid, mean / SD / min / max of its real values inside each label.
 * Labels are the distinct non-zero real values of the first frame (0 = background, left
 * out unless `includeBackground`). SD is the population SD (ddof = 0), like
 * scipy.ndimage.standard_deviation. Sums are float64, shifted by the label's first value
 * (no cancellation for CT-sized values).
 */
import { voxelCount, type Volume } from '../image/volume';
import { throwIfAborted } from '../processing/progress';
import { assertSameGrid } from '../processing/volume-utils';
import type { AnalysisOptions } from './common';

export interface LabelStat {
  label: number;
  voxels: number;
  volume_ml: number;
  mean?: number;
  sd?: number;
  min?: number;
  max?: number;
}

export interface LabelStatsParams {
  includeBackground?: boolean;
}

export function labelStatistics(labels: Volume, image?: Volume, p: LabelStatsParams = {}, opts: AnalysisOptions = {}): LabelStat[] {
  if (image) assertSameGrid(labels, image, 'label statistics');
  const n = voxelCount(labels);
  const ld = labels.data;
  const ls = labels.rescaleSlope || 1, li = labels.rescaleIntercept || 0;
  const id = image?.data;
  const is = image ? image.rescaleSlope || 1 : 1, ii = image ? image.rescaleIntercept || 0 : 0;
  interface Acc { count: number; shift: number; s: number; s2: number; min: number; max: number }
  const accs = new Map<number, Acc>();
  const plane = labels.dims[0] * labels.dims[1];
  let last = NaN;
  let acc: Acc | undefined;
  for (let q = 0; q < n; q++) {
    if (q % (plane * 8) === 0) {
      throwIfAborted(opts.signal);
      opts.onProgress?.(q / n, 'Label statistics');
    }
    const stored = ld[q];
    if (stored !== last) {
      last = stored;
      const lab = stored * ls + li;
      if (lab === 0 && !p.includeBackground) {
        acc = undefined;
        continue;
      }
      acc = accs.get(lab);
      if (!acc) {
        acc = { count: 0, shift: id ? id[q] * is + ii : 0, s: 0, s2: 0, min: Infinity, max: -Infinity };
        accs.set(lab, acc);
      }
    }
    if (!acc) continue;
    acc.count++;
    if (id) {
      const v = id[q] * is + ii;
      const x = v - acc.shift;
      acc.s += x;
      acc.s2 += x * x;
      if (v < acc.min) acc.min = v;
      if (v > acc.max) acc.max = v;
    }
  }
  const voxelMl = (labels.spacing[0] * labels.spacing[1] * labels.spacing[2]) / 1000;
  return [...accs.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([label, a]) => {
      const st: LabelStat = { label, voxels: a.count, volume_ml: a.count * voxelMl };
      if (id) {
        const m = a.s / a.count;
        st.mean = a.shift + m;
        st.sd = Math.sqrt(Math.max(0, a.s2 / a.count - m * m));
        st.min = a.min;
        st.max = a.max;
      }
      return st;
    });
}
