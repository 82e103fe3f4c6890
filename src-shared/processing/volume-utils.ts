/**
 * Small helpers shared by the processing operations: masks with a source's geometry,
 * real ↔ stored values, grid checks.
 */
import { voxelCount, voxelTypeOf, type ImageGeometry, type Vec3, type Volume, type VoxelArray, type VoxelType } from '../image/volume';

/** Copy of a geometry (arrays are cloned so the result can be changed freely). */
export function copyGeometry(g: ImageGeometry): ImageGeometry {
  return {
    dims: [...g.dims] as Vec3,
    spacing: [...g.spacing] as Vec3,
    origin: [...g.origin] as Vec3,
    direction: [...g.direction] as ImageGeometry['direction'],
  };
}

/** A new 3D volume on grid `g` with the given voxels (slope 1, intercept 0). */
export function volumeOnGrid(g: ImageGeometry, data: VoxelArray, metadata: Volume['metadata'] = {}): Volume {
  const n = voxelCount(g);
  if (data.length !== n) throw new Error(`volumeOnGrid: ${data.length} voxels for a ${g.dims.join('×')} grid`);
  return {
    ...copyGeometry(g),
    data,
    voxelType: voxelTypeOf(data),
    frames: 1,
    rescaleSlope: 1,
    rescaleIntercept: 0,
    metadata: { ...metadata },
  };
}

/** A uint8 mask (0/1) on the grid of `g`. */
export function maskVolume(g: ImageGeometry, data: Uint8Array, metadata: Volume['metadata'] = {}): Volume {
  return volumeOnGrid(g, data, metadata);
}

/** Range of representable stored values of an integer type; null for float types. */
export function integerRange(t: VoxelType): [number, number] | null {
  switch (t) {
    case 'uint8': return [0, 255];
    case 'int8': return [-128, 127];
    case 'uint16': return [0, 65535];
    case 'int16': return [-32768, 32767];
    case 'uint32': return [0, 4294967295];
    case 'int32': return [-2147483648, 2147483647];
    default: return null;
  }
}

/**
 * The stored value that represents real value `v` in volume `vol` exactly, or null when
 * none does (not an integer of the type's range after undoing slope/intercept).
 */
export function storedValueFor(vol: Pick<Volume, 'voxelType' | 'rescaleSlope' | 'rescaleIntercept'>, v: number): number | null {
  const slope = vol.rescaleSlope || 1;
  const s = (v - (vol.rescaleIntercept || 0)) / slope;
  const r = integerRange(vol.voxelType);
  if (!r) return vol.voxelType === 'float32' ? (Math.fround(s) * slope + (vol.rescaleIntercept || 0) === v ? s : null) : s;
  const si = Math.round(s);
  if (Math.abs(si - s) > 1e-9 * Math.max(1, Math.abs(s))) return null;
  if (si < r[0] || si > r[1]) return null;
  return si;
}

/** Minimum and maximum stored value of the first 3D frame. */
export function storedRange(vol: Volume): [number, number] {
  const d = vol.data;
  const n = voxelCount(vol);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = d[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Minimum and maximum real value (stored · slope + intercept) of the first 3D frame. */
export function realRange(vol: Volume): [number, number] {
  const [a, b] = storedRange(vol);
  const slope = vol.rescaleSlope || 1;
  const icpt = vol.rescaleIntercept || 0;
  const x = a * slope + icpt;
  const y = b * slope + icpt;
  return x <= y ? [x, y] : [y, x];
}

/** Geometry agreement within `tol` mm / direction units (float rounding in files). */
export function sameGrid(a: ImageGeometry, b: ImageGeometry, tol = 1e-3): boolean {
  for (let i = 0; i < 3; i++) {
    if (a.dims[i] !== b.dims[i]) return false;
    if (Math.abs(a.spacing[i] - b.spacing[i]) > tol) return false;
    if (Math.abs(a.origin[i] - b.origin[i]) > tol) return false;
  }
  for (let i = 0; i < 9; i++) if (Math.abs(a.direction[i] - b.direction[i]) > tol) return false;
  return true;
}

/** Throws a message that names both images when two volumes are not on the same grid. */
export function assertSameGrid(a: ImageGeometry, b: ImageGeometry, what: string): void {
  if (a.dims.some((d, i) => d !== b.dims[i])) {
    throw new Error(`${what}: the images have different sizes (${a.dims.join('×')} and ${b.dims.join('×')}); resample one onto the other first`);
  }
  if (!sameGrid(a, b)) {
    throw new Error(`${what}: the images have the same size but different positions, spacing or orientation; resample one onto the other first`);
  }
}
