/**
 * Binary morphology on uint8 masks (any non-zero voxel is foreground): dilation, erosion,
 * opening, closing with a ball (ellipsoid for anisotropic radii) or box.
 *
 * Definitions (the tests check them against a voxel-by-voxel brute force):
 * - The ball of radii (rx, ry, rz) voxels holds the offsets with
 *   (dx/rx)² + (dy/ry)² + (dz/rz)² ≤ 1 (skimage.morphology.ball for equal radii);
 *   the box holds |dx| ≤ rx, |dy| ≤ ry, |dz| ≤ rz.
 * - Dilation treats voxels outside the image as background; erosion treats them as
 *   foreground (ITK's default), so objects touching the border are not eaten from it.
 * - n iterations apply the operation n times.
 *
 * Method: run-length rows (see runs.ts). For each (dy, dz) of the element the x extent
 * is one interval [-w, w], so the output row is the union of the neighbouring rows' runs
 * widened by w. Erosion is the complement of the dilation of the complement.
 */
import type { Vec3, Volume } from '../image/volume';
import { voxelCount } from '../image/volume';
import { ProgressTracker, type ProcessingOptions } from './progress';
import { encodeRuns, paintDilatedRuns, type RowOffset } from './runs';
import { copyGeometry } from './volume-utils';

export type ElementShape = 'ball' | 'box';

export interface StructuringElement {
  shape: ElementShape;
  /** Radius in voxels along i, j, k (a single number: the same on every axis). */
  radius: number | Vec3;
}

export type MorphOperation = 'dilate' | 'erode' | 'open' | 'close';

export interface MorphParams extends StructuringElement {
  /** Times to apply the operation (for open/close: n erosions then n dilations, or the reverse). Default 1. */
  iterations?: number;
}

function radii(r: number | Vec3): Vec3 {
  const v: Vec3 = typeof r === 'number' ? [r, r, r] : r;
  for (const x of v) if (!(x >= 0) || !Number.isInteger(x)) throw new Error(`morphology: radius must be a non-negative integer number of voxels, got ${x}`);
  return v;
}

/**
 * The element as one x half-width per (dy, dz) row. With `reach` (the image's dims − 1),
 * rows and half-widths that can only fall outside the image are left out: the same result,
 * and a radius of 10⁹ on a small image costs what one as large as the image does, instead of
 * 10¹⁸ rows.
 */
export function elementRows(el: StructuringElement, reach?: Vec3): RowOffset[] {
  const [rx, ry, rz] = radii(el.radius);
  const [mx, my, mz] = reach ?? [Infinity, Infinity, Infinity];
  const yMax = Math.min(ry, my);
  const zMax = Math.min(rz, mz);
  const rows: RowOffset[] = [];
  for (let dz = -zMax; dz <= zMax; dz++) {
    for (let dy = -yMax; dy <= yMax; dy++) {
      if (el.shape === 'box') {
        rows.push({ dy, dz, w: Math.min(rx, mx) });
        continue;
      }
      const q = 1 - (ry ? (dy / ry) ** 2 : 0) - (rz ? (dz / rz) ** 2 : 0);
      if (q < -1e-12) continue;
      rows.push({ dy, dz, w: Math.min(mx, Math.floor(rx * Math.sqrt(Math.max(0, q)) + 1e-9)) });
    }
  }
  return rows;
}

/** Voxel radii of a radius in mm on a grid (at least 0; rounded to the nearest voxel). */
export function radiusFromMm(mm: number, spacing: Vec3): Vec3 {
  return spacing.map((s) => Math.max(0, Math.round(mm / s))) as Vec3;
}

function asMask(src: Volume, data: Uint8Array): Volume {
  return { ...copyGeometry(src), data, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

/** One dilation (foregroundOut = 1, background outside) or erosion of raw mask voxels. */
function step(data: Uint8Array | Volume['data'], dims: Vec3, rows: RowOffset[], erode: boolean, tracker: ProgressTracker, stage: number): Uint8Array {
  const n = dims[0] * dims[1] * dims[2];
  // Dilation: paint 1 over zeros from the foreground runs. Erosion: paint 0 over ones
  // from the background runs (outside the image contributes no background runs).
  const runs = encodeRuns(data, dims, !erode);
  const out = new Uint8Array(n);
  if (erode) out.fill(1);
  paintDilatedRuns(runs, rows, out, erode ? 0 : 1, 0, dims[2], tracker, stage);
  return out;
}

/** Dilation, erosion, opening or closing of the first frame of `mask`; returns a uint8 0/1 mask. */
export function morphology(mask: Volume, op: MorphOperation, p: MorphParams, opts: ProcessingOptions = {}): Volume {
  const iterations = p.iterations ?? 1;
  if (!Number.isInteger(iterations) || iterations < 0) throw new Error(`morphology: iterations must be a non-negative integer, got ${iterations}`);
  const rows = elementRows(p, [mask.dims[0] - 1, mask.dims[1] - 1, mask.dims[2] - 1]);
  const sequence: boolean[] = []; // true = erode
  for (let i = 0; i < iterations; i++) if (op === 'dilate' || op === 'close') sequence.push(false);
  for (let i = 0; i < iterations; i++) if (op === 'erode' || op === 'open') sequence.push(true);
  if (op === 'open') for (let i = 0; i < iterations; i++) sequence.push(false);
  if (op === 'close') for (let i = 0; i < iterations; i++) sequence.push(true);
  const tracker = new ProgressTracker(opts, sequence.length ? sequence.map(() => 1) : [1]);
  let data: Uint8Array | Volume['data'] = mask.data.length === voxelCount(mask) ? mask.data : mask.data.subarray(0, voxelCount(mask));
  sequence.forEach((erode, i) => {
    data = step(data, mask.dims, rows, erode, tracker, i);
  });
  if (sequence.length === 0) data = Uint8Array.from(data, (v) => (v !== 0 ? 1 : 0));
  tracker.report(Math.max(0, sequence.length - 1), 1, 'Morphology');
  return asMask(mask, data as Uint8Array);
}

export const dilate = (m: Volume, p: MorphParams, o?: ProcessingOptions) => morphology(m, 'dilate', p, o);
export const erode = (m: Volume, p: MorphParams, o?: ProcessingOptions) => morphology(m, 'erode', p, o);
export const open = (m: Volume, p: MorphParams, o?: ProcessingOptions) => morphology(m, 'open', p, o);
export const close = (m: Volume, p: MorphParams, o?: ProcessingOptions) => morphology(m, 'close', p, o);
