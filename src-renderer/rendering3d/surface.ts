/**
 * Label/mask layers as surfaces (no WebGL; runs in a worker or in Node tests): for each label
 * value, marching cubes on the 0/1 image of that label (cropped to the label's bounding box
 * plus one voxel of zero padding, so the surface closes at the image border), then windowed-
 * sinc smoothing (Taubin's non-shrinking smoother, vtkWindowedSincPolyDataFilter) and normals.
 *
 * vtkImageMarchingCubes works in origin + spacing·index space and ignores the direction, so it
 * runs in INDEX space (origin 0, spacing 1) and the points are then mapped with the label
 * image's own index → world matrix (oblique and anisotropic grids are right). Points come out
 * in the layer's own world (LPS mm); the actor's user matrix applies its registration.
 */
/// <reference path="./vtk-shims.d.ts" />
import vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData';
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray';
import vtkImageMarchingCubes from '@kitware/vtk.js/Filters/General/ImageMarchingCubes';
import vtkWindowedSincPolyDataFilter from '@kitware/vtk.js/Filters/General/WindowedSincPolyDataFilter';
import vtkPolyDataNormals from '@kitware/vtk.js/Filters/Core/PolyDataNormals';
import type { Vec3, Volume } from '../../src-shared/image/volume';
import { indexToWorldMatrix } from '../../src-shared/geometry/geometry';

export interface LabelMesh {
  /** Stored label value. */
  label: number;
  /** xyz per point, LPS mm in the layer's own world. */
  points: Float32Array;
  /** vtk cell array: 3, a, b, c, 3, … */
  polys: Uint32Array;
  normals: Float32Array | null;
}

/** Distinct non-zero stored values (at most `max`, smallest first). */
export function labelValues(vol: Volume, max = 32, frame = 0): number[] {
  const n = vol.dims[0] * vol.dims[1] * vol.dims[2];
  const base = frame * n;
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const v = vol.data[base + i];
    if (v !== 0 && !seen.has(v)) {
      seen.add(v);
      if (seen.size > max) break;
    }
  }
  return [...seen].sort((a, b) => a - b).slice(0, max);
}

/** Index bounding box [lo, hi] (inclusive) of voxels equal to `label`; null when none. */
export function labelBox(vol: Volume, label: number, frame = 0): { lo: Vec3; hi: Vec3 } | null {
  const [nx, ny, nz] = vol.dims;
  const base = frame * nx * ny * nz;
  const lo: Vec3 = [nx, ny, nz];
  const hi: Vec3 = [-1, -1, -1];
  const d = vol.data;
  for (let k = 0, o = base; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, o++) {
        if (d[o] !== label) continue;
        if (i < lo[0]) lo[0] = i;
        if (i > hi[0]) hi[0] = i;
        if (j < lo[1]) lo[1] = j;
        if (j > hi[1]) hi[1] = j;
        if (k < lo[2]) lo[2] = k;
        if (k > hi[2]) hi[2] = k;
      }
    }
  }
  return hi[0] < 0 ? null : { lo, hi };
}

export interface SurfaceOptions {
  /** Windowed-sinc iterations (0 = no smoothing). */
  iterations?: number;
  /** Pass band (smaller = smoother), as vtkWindowedSincPolyDataFilter. */
  passBand?: number;
}

/** The smoothed surface of one label value, or null when the label is absent. */
export function labelSurface(vol: Volume, label: number, opts: SurfaceOptions = {}, frame = 0): LabelMesh | null {
  const box = labelBox(vol, label, frame);
  if (!box) return null;
  const [nx, ny] = vol.dims;
  const base = frame * nx * ny * vol.dims[2];
  // One voxel of zero padding around the box (also outside the image).
  const lo = box.lo.map((x) => x - 1) as Vec3;
  const dims = [0, 1, 2].map((a) => box.hi[a] - box.lo[a] + 3) as Vec3;
  const mask = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let k = 1; k < dims[2] - 1; k++) {
    for (let j = 1; j < dims[1] - 1; j++) {
      let src = base + lo[0] + 1 + (lo[1] + j) * nx + (lo[2] + k) * nx * ny;
      let o = 1 + j * dims[0] + k * dims[0] * dims[1];
      for (let i = 1; i < dims[0] - 1; i++, o++, src++) mask[o] = vol.data[src] === label ? 1 : 0;
    }
  }
  const img = vtkImageData.newInstance();
  img.setDimensions(dims);
  img.setOrigin([0, 0, 0]);
  img.setSpacing([1, 1, 1]);
  img.getPointData().setScalars(vtkDataArray.newInstance({ name: 'mask', values: mask, numberOfComponents: 1 }));
  const mc = vtkImageMarchingCubes.newInstance({ contourValue: 0.5, computeNormals: false, mergePoints: true });
  mc.setInputData(img);
  let poly = mc.getOutputData();
  // Padded-crop index → source index → world, in place.
  const pts = poly.getPoints().getData() as Float32Array;
  const m = indexToWorldMatrix(vol);
  for (let p = 0; p < pts.length; p += 3) {
    const i = pts[p] + lo[0];
    const j = pts[p + 1] + lo[1];
    const k = pts[p + 2] + lo[2];
    pts[p] = m[0] * i + m[1] * j + m[2] * k + m[3];
    pts[p + 1] = m[4] * i + m[5] * j + m[6] * k + m[7];
    pts[p + 2] = m[8] * i + m[9] * j + m[10] * k + m[11];
  }
  poly.getPoints().modified();
  const iterations = opts.iterations ?? 15;
  if (iterations > 0 && poly.getNumberOfPoints() > 0) {
    const smooth = vtkWindowedSincPolyDataFilter.newInstance({ numberOfIterations: iterations, passBand: opts.passBand ?? 0.1, nonManifoldSmoothing: 1, featureEdgeSmoothing: 0, boundarySmoothing: 1 });
    smooth.setInputData(poly);
    poly = smooth.getOutputData();
  }
  let normals: Float32Array | null = null;
  if (poly.getNumberOfPoints() > 0) {
    const nf = vtkPolyDataNormals.newInstance();
    nf.setInputData(poly);
    const withNormals = nf.getOutputData();
    normals = (withNormals.getPointData().getNormals()?.getData() as Float32Array | undefined) ?? null;
  }
  return {
    label,
    points: Float32Array.from(poly.getPoints().getData() as ArrayLike<number>),
    polys: Uint32Array.from(poly.getPolys().getData() as ArrayLike<number>),
    normals: normals ? Float32Array.from(normals) : null,
  };
}

/** Surfaces of every label of a label image (at most `maxLabels`). */
export function labelSurfaces(vol: Volume, opts: SurfaceOptions & { maxLabels?: number } = {}, frame = 0): LabelMesh[] {
  const out: LabelMesh[] = [];
  for (const l of labelValues(vol, opts.maxLabels ?? 16, frame)) {
    const s = labelSurface(vol, l, opts, frame);
    if (s && s.polys.length) out.push(s);
  }
  return out;
}
