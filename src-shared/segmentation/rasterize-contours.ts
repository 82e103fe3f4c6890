/**
 * Rasterises planar world-space contours (DICOM RT structure set ROIs: CLOSED_PLANAR polygons
 * in patient LPS mm) onto a voxel grid, exactly: every contour point is mapped to continuous
 * voxel indices; the contours are grouped by the slice they lie on (the index axis most
 * normal to their plane, rounded to the nearest slice); on each slice the voxel centres inside
 * the contours by the even-odd rule are set (so holes, stored as separate inner contours, stay
 * empty, and overlapping islands XOR as the DICOM standard's "exclusive or" reading says).
 */
import type { ImageGeometry, Vec3 } from '../image/volume';
import { worldToIndexMatrix } from '../geometry/geometry';
import { fillSliceVoxels, inPlaneAxes, type Ring } from './polygon-fill';

export interface RasterResult {
  /** Linear indices of the voxels inside. */
  count: number;
  /** Contours that lay between slices or outside the grid (skipped). */
  skipped: number;
  /** Contours whose points were not on one slice (tilted more than half a slice). */
  nonPlanar: number;
}

/**
 * Sets out[i] = value for the voxels inside the contours (each contour a flat [x,y,z,x,y,z…]
 * list in LPS mm). Returns counts for the report.
 */
export function rasterizeContours(g: ImageGeometry, contours: readonly (readonly number[])[], out: { [i: number]: number }, value = 1): RasterResult {
  const m = worldToIndexMatrix(g);
  const toIndex = (x: number, y: number, z: number): Vec3 => [
    m[0] * x + m[1] * y + m[2] * z + m[3],
    m[4] * x + m[5] * y + m[6] * z + m[7],
    m[8] * x + m[9] * y + m[10] * z + m[11],
  ];
  // The slice axis: the index axis along which the contours' points vary least.
  const bySlice = new Map<string, Ring[]>();
  let skipped = 0;
  let nonPlanar = 0;
  for (const c of contours) {
    const n = Math.floor(c.length / 3);
    if (n < 3) {
      skipped++;
      continue;
    }
    const pts: Vec3[] = [];
    for (let p = 0; p < n; p++) pts.push(toIndex(c[p * 3], c[p * 3 + 1], c[p * 3 + 2]));
    let axis = 2;
    let best = Infinity;
    for (let a = 0; a < 3; a++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const p of pts) {
        lo = Math.min(lo, p[a]);
        hi = Math.max(hi, p[a]);
      }
      if (hi - lo < best) {
        best = hi - lo;
        axis = a;
      }
    }
    if (best > 0.5) nonPlanar++;
    const mean = pts.reduce((s, p) => s + p[axis], 0) / n;
    const k = Math.round(mean);
    if (k < 0 || k >= g.dims[axis] || Math.abs(mean - k) > 0.5 - 1e-6) {
      skipped++;
      continue;
    }
    const [a, b] = inPlaneAxes(axis);
    const key = `${axis}:${k}`;
    let l = bySlice.get(key);
    if (!l) bySlice.set(key, (l = []));
    l.push(pts.map((p) => [p[a], p[b]] as [number, number]));
  }
  let count = 0;
  for (const [key, rings] of bySlice) {
    const [axis, k] = key.split(':').map(Number);
    fillSliceVoxels(g.dims, axis, k, rings, (i) => {
      out[i] = value;
      count++;
    });
  }
  return { count, skipped, nonPlanar };
}
