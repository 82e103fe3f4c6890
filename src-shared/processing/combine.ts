/** Set operations on masks (non-zero = inside): union, intersection, difference, xor. */
import { voxelCount, type Volume } from '../image/volume';
import { ProgressTracker, type ProcessingOptions } from './progress';
import { assertSameGrid, copyGeometry } from './volume-utils';

export type CombineOperation = 'union' | 'intersection' | 'difference' | 'xor';

/**
 * Combines masks left to right: union/intersection/xor of all; difference = first minus
 * every other (a ∧ ¬b ∧ ¬c …). Returns a uint8 0/1 mask on the grid of the first.
 */
export function combineMasks(op: CombineOperation, masks: Volume[], opts: ProcessingOptions = {}): Volume {
  if (masks.length < 2) throw new Error(`combine ${op}: needs at least two masks, got ${masks.length}`);
  const first = masks[0];
  masks.slice(1).forEach((m, i) => assertSameGrid(first, m, `combine ${op} (mask 1 and mask ${i + 2})`));
  const n = voxelCount(first);
  const out = new Uint8Array(n);
  const a = first.data;
  for (let i = 0; i < n; i++) out[i] = a[i] !== 0 ? 1 : 0;
  const tracker = new ProgressTracker(opts, masks.slice(1).map(() => 1));
  masks.slice(1).forEach((m, k) => {
    const b = m.data;
    const chunk = 1 << 22;
    for (let s = 0; s < n; s += chunk) {
      tracker.report(k, s / n, 'Combining');
      const e = Math.min(n, s + chunk);
      switch (op) {
        case 'union':
          for (let i = s; i < e; i++) if (b[i] !== 0) out[i] = 1;
          break;
        case 'intersection':
          for (let i = s; i < e; i++) if (b[i] === 0) out[i] = 0;
          break;
        case 'difference':
          for (let i = s; i < e; i++) if (b[i] !== 0) out[i] = 0;
          break;
        case 'xor':
          for (let i = s; i < e; i++) if (b[i] !== 0) out[i] ^= 1;
          break;
      }
    }
    tracker.report(k, 1, 'Combining');
  });
  return { ...copyGeometry(first), data: out, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}
