/**
 * Connected-component operations on uint8 masks: keep the largest component, fill holes.
 * Both label runs (runs.ts) rather than voxels, so memory is O(runs), not O(voxels).
 */
import type { Volume } from '../image/volume';
import { voxelCount } from '../image/volume';
import { ProgressTracker, type ProcessingOptions } from './progress';
import { encodeRuns, labelRuns, type Connectivity } from './runs';
import { copyGeometry } from './volume-utils';

export interface ComponentParams {
  /** Neighbourhood of foreground voxels: 6 (faces, default), 18 or 26. */
  connectivity?: Connectivity;
  /** Work in each k slice separately (2D components / holes). Default false. */
  sliceWise?: boolean;
}

function asMask(src: Volume, data: Uint8Array): Volume {
  return { ...copyGeometry(src), data, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

export interface LargestComponentResult {
  mask: Volume;
  /** Number of foreground components found. */
  components: number;
  /** Voxels in the kept component (0 for an empty mask). */
  voxels: number;
}

/** The largest connected foreground component (ties: the first in storage order). */
export function largestComponent(mask: Volume, p: ComponentParams = {}, opts: ProcessingOptions = {}): LargestComponentResult {
  const tracker = new ProgressTracker(opts, [1, 2, 1]);
  const dims = mask.dims;
  const nx = dims[0];
  const runs = encodeRuns(mask.data, dims, true, tracker, 0);
  const { root, size } = labelRuns(runs, p.connectivity ?? 6, p.sliceWise ?? false, tracker, 1);
  const out = new Uint8Array(voxelCount(mask));
  let components = 0;
  let best = -1;
  for (let i = 0; i < runs.count; i++) {
    if (root[i] !== i) continue;
    components++;
    if (best < 0 || size[i] > size[best]) best = i;
  }
  if (p.sliceWise) {
    // Largest component of every slice.
    const [, ny, nz] = dims;
    for (let z = 0; z < nz; z++) {
      tracker.report(2, z / nz, 'Writing');
      const q0 = runs.rowStart[z * ny];
      const q1 = runs.rowStart[(z + 1) * ny];
      let b = -1;
      for (let q = q0; q < q1; q++) if (root[q] === q && (b < 0 || size[q] > size[b])) b = q;
      if (b < 0) continue;
      for (let r = z * ny; r < (z + 1) * ny; r++)
        for (let q = runs.rowStart[r]; q < runs.rowStart[r + 1]; q++) if (root[q] === b) out.fill(1, r * nx + runs.starts[q], r * nx + runs.ends[q]);
    }
    return { mask: asMask(mask, out), components, voxels: out.reduce((a, v) => a + v, 0) };
  }
  if (best >= 0) {
    const nRows = dims[1] * dims[2];
    for (let r = 0; r < nRows; r++) {
      if ((r & 4095) === 0) tracker.report(2, r / nRows, 'Writing');
      for (let q = runs.rowStart[r], qe = runs.rowStart[r + 1]; q < qe; q++) if (root[q] === best) out.fill(1, r * nx + runs.starts[q], r * nx + runs.ends[q]);
    }
  }
  tracker.report(2, 1, 'Writing');
  return { mask: asMask(mask, out), components, voxels: best >= 0 ? size[best] : 0 };
}

export interface FillHolesResult {
  mask: Volume;
  /** Voxels that were holes and are now foreground. */
  filled: number;
}

/**
 * Fills holes: background regions that do not reach the image border become foreground
 * (ITK's BinaryFillholeImageFilter). `connectivity` is that of the background flood:
 * 6 (faces, default, ITK's FullyConnected off) lets a hole leak out only through a face;
 * 26 also through edges and corners. Axes of size 1 have no border, so a single slice
 * gets 2D hole filling; `sliceWise` fills each k slice on its own.
 */
export function fillHoles(mask: Volume, p: ComponentParams = {}, opts: ProcessingOptions = {}): FillHolesResult {
  const tracker = new ProgressTracker(opts, [1, 2, 1]);
  const dims = mask.dims;
  const [nx, ny, nz] = dims;
  const sliceWise = p.sliceWise ?? false;
  const bgConn: Connectivity = p.connectivity ?? 6;
  const runs = encodeRuns(mask.data, dims, false, tracker, 0);
  const { root } = labelRuns(runs, bgConn, sliceWise, tracker, 1);
  const border = new Uint8Array(runs.count);
  const yBorder = ny > 1;
  const zBorder = nz > 1 && !sliceWise;
  const xBorder = nx > 1;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++) {
      const r = z * ny + y;
      const edgeRow = (yBorder && (y === 0 || y === ny - 1)) || (zBorder && (z === 0 || z === nz - 1));
      for (let q = runs.rowStart[r], qe = runs.rowStart[r + 1]; q < qe; q++)
        if (edgeRow || (xBorder && (runs.starts[q] === 0 || runs.ends[q] === nx))) border[root[q]] = 1;
    }
  const n = voxelCount(mask);
  const out = new Uint8Array(n);
  const src = mask.data;
  for (let i = 0; i < n; i++) out[i] = src[i] !== 0 ? 1 : 0;
  let filled = 0;
  const nRows = ny * nz;
  for (let r = 0; r < nRows; r++) {
    if ((r & 4095) === 0) tracker.report(2, r / nRows, 'Filling');
    for (let q = runs.rowStart[r], qe = runs.rowStart[r + 1]; q < qe; q++)
      if (!border[root[q]]) {
        out.fill(1, r * nx + runs.starts[q], r * nx + runs.ends[q]);
        filled += runs.ends[q] - runs.starts[q];
      }
  }
  tracker.report(2, 1, 'Filling');
  return { mask: asMask(mask, out), filled };
}
