/**
 * The image model shared by every part of Lattice.
 *
 * Conventions (the same as ITK and DICOM, so that DICOM geometry needs no conversion):
 * - World coordinates are patient LPS in millimetres (x to the patient's Left,
 *   y to Posterior, z to Superior). NIfTI's RAS appears only at the NIfTI boundary.
 * - `origin` is the world position of the centre of voxel (0,0,0).
 * - `direction` is a 3×3 matrix stored row-major whose COLUMNS are the unit world
 *   directions of the index axes i, j, k: world = origin + D · diag(spacing) · index.
 * - Voxels are stored with i fastest, then j, then k, then the volume index t (4D).
 */

export type Vec3 = [number, number, number];
/** Row-major 3×3 matrix: m[r * 3 + c]. */
export type Mat3 = [number, number, number, number, number, number, number, number, number];
/** Row-major 4×4 matrix: m[r * 4 + c]. */
export type Mat4 = number[];

export type VoxelType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

export type VoxelArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

export interface ImageGeometry {
  /** Number of voxels along i, j, k. */
  dims: Vec3;
  /** Voxel size in mm along i, j, k (always positive). */
  spacing: Vec3;
  /** LPS world position (mm) of the centre of voxel (0,0,0). */
  origin: Vec3;
  /** Row-major 3×3, columns = unit LPS directions of i, j, k. */
  direction: Mat3;
}

export type MetadataValue = string | number | boolean | null | number[] | string[];

export interface Volume extends ImageGeometry {
  /** Stored voxel values (before rescale), length = dims[0]*dims[1]*dims[2]*frames*components. */
  data: VoxelArray;
  /**
   * Samples per voxel, interleaved (voxel v's samples at data[v*components + c]). Absent
   * or 1 for scalar images; 3 for colour (RGB, uint8: NIfTI RGB24). Colour values are
   * shown as they are (no rescale, no colour map).
   */
  components?: number;
  voxelType: VoxelType;
  /** Number of 3D volumes stored one after another (4D series); 1 for a plain 3D image. */
  frames: number;
  /** Time between volumes in seconds (NIfTI pixdim[4]); 0 when unknown. */
  frameSpacing?: number;
  /** Real value = stored * rescaleSlope + rescaleIntercept. */
  rescaleSlope: number;
  rescaleIntercept: number;
  /** Patient / study / series information and other tags, for display and sidecars. */
  metadata: Record<string, MetadataValue>;
}

export const VOXEL_ARRAY: Record<VoxelType, { new (n: number): VoxelArray; new (b: ArrayBufferLike, o?: number, n?: number): VoxelArray; BYTES_PER_ELEMENT: number }> = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

export function bytesPerVoxel(t: VoxelType): number {
  return VOXEL_ARRAY[t].BYTES_PER_ELEMENT;
}

export function voxelTypeOf(a: VoxelArray): VoxelType {
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Float32Array) return 'float32';
  return 'float64';
}

export function voxelCount(g: Pick<ImageGeometry, 'dims'>): number {
  return g.dims[0] * g.dims[1] * g.dims[2];
}

/** Samples per voxel (1 for scalar images, 3 for RGB). */
export function componentsOf(v: Pick<Volume, 'components'>): number {
  return v.components && v.components > 1 ? v.components : 1;
}

export const IDENTITY3: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
