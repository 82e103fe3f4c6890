/**
 * Polygon scan fill on one slice of a voxel grid, used by the polygon tool and by RT structure
 * set rasterisation. Rule: a voxel is inside when its CENTRE is inside the polygons by the
 * even-odd rule, over all the rings together, so a contour inside another is a hole (DICOM
 * RTSTRUCT keeps holes as separate contours, and the even-odd rule is the XOR of the rings).
 * Ties are broken half-open: a centre exactly on a left/top edge is in, on a right/bottom
 * edge out (the usual scanline convention), so shared edges are filled once.
 *
 * Points are (u, v) continuous indices along the slice's two in-plane index axes (voxel
 * centres at integers).
 */
export type Ring = readonly (readonly [number, number])[];

/**
 * Calls visit(u, v) for every grid point (0 ≤ u < width, 0 ≤ v < height) inside the rings.
 */
export function scanFill(rings: readonly Ring[], width: number, height: number, visit: (u: number, v: number) => void): void {
  let vmin = Infinity;
  let vmax = -Infinity;
  for (const r of rings) for (const p of r) {
    if (p[1] < vmin) vmin = p[1];
    if (p[1] > vmax) vmax = p[1];
  }
  if (!(vmin <= vmax)) return;
  const xs: number[] = [];
  for (let v = Math.max(0, Math.ceil(vmin)); v <= Math.min(height - 1, Math.floor(vmax)); v++) {
    xs.length = 0;
    for (const ring of rings) {
      const n = ring.length;
      if (n < 3) continue;
      for (let a = 0; a < n; a++) {
        const p = ring[a];
        const q = ring[(a + 1) % n];
        // Edge crosses the scanline y = v, half-open in y: [min, max).
        if ((p[1] <= v && q[1] > v) || (q[1] <= v && p[1] > v)) xs.push(p[0] + ((v - p[1]) * (q[0] - p[0])) / (q[1] - p[1]));
      }
    }
    if (xs.length < 2) continue;
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // Centres u with x0 ≤ u < x1.
      const u0 = Math.max(0, Math.ceil(xs[k]));
      const u1 = Math.min(width - 1, Math.ceil(xs[k + 1]) - 1);
      for (let u = u0; u <= u1; u++) visit(u, v);
    }
  }
}

/** Even-odd point-in-rings test with the same half-open convention as scanFill. */
export function insideRings(rings: readonly Ring[], u: number, v: number): boolean {
  let inside = false;
  for (const ring of rings) {
    const n = ring.length;
    if (n < 3) continue;
    for (let a = 0; a < n; a++) {
      const p = ring[a];
      const q = ring[(a + 1) % n];
      if ((p[1] <= v && q[1] > v) || (q[1] <= v && p[1] > v)) {
        const x = p[0] + ((v - p[1]) * (q[0] - p[0])) / (q[1] - p[1]);
        if (u >= x) inside = !inside;
      }
    }
  }
  return inside;
}

/** The two in-plane index axes of a slice across `axis` (ascending). */
export function inPlaneAxes(axis: number): [number, number] {
  return axis === 0 ? [1, 2] : axis === 1 ? [0, 2] : [0, 1];
}

/**
 * Visits the linear indices of the voxels of slice `index` across `axis` inside the rings,
 * which are given in the slice's in-plane continuous indices (inPlaneAxes order).
 */
export function fillSliceVoxels(dims: readonly number[], axis: number, index: number, rings: readonly Ring[], visit: (i: number) => void): void {
  if (index < 0 || index >= dims[axis]) return;
  const [a, b] = inPlaneAxes(axis);
  const stride = [1, dims[0], dims[0] * dims[1]];
  const base = index * stride[axis];
  scanFill(rings, dims[a], dims[b], (u, v) => visit(base + u * stride[a] + v * stride[b]));
}
