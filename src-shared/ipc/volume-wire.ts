/**
 * How a Volume crosses the IPC boundary: a small JSON-able header plus exactly one
 * ArrayBuffer holding the voxels (i fastest, see src-shared/image/volume.ts).
 *
 * The bytes never go through JSON. In Electron the ArrayBuffer rides in the invoke
 * result (structured clone); over the browser host's WebSocket it is sent as its own
 * binary frame (see wire-codec.ts). Either way the receiver wraps the buffer in the
 * right typed array without copying it.
 */
import { VOXEL_ARRAY, type MetadataValue, type Mat3, type Vec3, type Volume, type VoxelType } from '../image/volume';

/** Where a volume came from, for titles, recent lists and exports. */
export interface VolumeSource {
  kind: 'dicom' | 'nifti' | 'image' | 'job' | 'renderer';
  /** File or folder it was read from. */
  path?: string;
  seriesInstanceUid?: string;
  /** The job kind that produced it. */
  job?: string;
}

/** Everything about a volume except its voxels. */
export interface VolumeHeader {
  /** Id of the copy the main process keeps (send this instead of the bytes). */
  id: string;
  /** Short human-readable name (series description or file name). */
  name: string;
  dims: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
  voxelType: VoxelType;
  frames: number;
  frameSpacing?: number;
  /** Samples per voxel when > 1 (3: RGB, interleaved). */
  components?: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  metadata: Record<string, MetadataValue>;
  /** Length of the voxel buffer in bytes (dims product × frames × bytes per voxel). */
  byteLength: number;
  source?: VolumeSource;
}

/** A volume on the wire: header + one ArrayBuffer of exactly `header.byteLength` bytes. */
export interface WireVolume {
  header: VolumeHeader;
  data: ArrayBuffer;
}

export function expectedByteLength(h: Pick<VolumeHeader, 'dims' | 'frames' | 'voxelType' | 'components'>): number {
  return h.dims[0] * h.dims[1] * h.dims[2] * Math.max(1, h.frames) * Math.max(1, h.components ?? 1) * VOXEL_ARRAY[h.voxelType].BYTES_PER_ELEMENT;
}

/**
 * The voxel bytes of a volume as one ArrayBuffer of exactly the right length.
 * Zero-copy when the typed array already spans its whole buffer (the usual case);
 * otherwise (a view into a bigger or shared buffer) the bytes are copied once.
 */
export function voxelBuffer(v: Pick<Volume, 'data'>): ArrayBuffer {
  const d = v.data;
  if (d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.buffer instanceof ArrayBuffer) return d.buffer;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice().buffer;
}

export function headerOf(id: string, name: string, v: Volume, source?: VolumeSource): VolumeHeader {
  return {
    id,
    name,
    dims: [...v.dims] as Vec3,
    spacing: [...v.spacing] as Vec3,
    origin: [...v.origin] as Vec3,
    direction: [...v.direction] as Mat3,
    voxelType: v.voxelType,
    frames: v.frames,
    ...(v.frameSpacing !== undefined ? { frameSpacing: v.frameSpacing } : {}),
    ...(v.components && v.components > 1 ? { components: v.components } : {}),
    rescaleSlope: v.rescaleSlope,
    rescaleIntercept: v.rescaleIntercept,
    metadata: v.metadata,
    byteLength: v.data.byteLength,
    ...(source ? { source } : {}),
  };
}

export function toWireVolume(id: string, name: string, v: Volume, source?: VolumeSource): WireVolume {
  return { header: headerOf(id, name, v, source), data: voxelBuffer(v) };
}

/**
 * Wraps a received volume's buffer in the typed array its header names. No copy: the
 * returned Volume's `data.buffer` IS `wire.data`.
 */
export function fromWireVolume(wire: WireVolume): Volume {
  const h = wire.header;
  const want = expectedByteLength(h);
  if (wire.data.byteLength !== want) {
    throw new Error(`volume ${h.id} (${h.name}): received ${wire.data.byteLength} bytes, expected ${want} for ${h.dims.join('×')}×${h.frames} ${h.voxelType}`);
  }
  const Ctor = VOXEL_ARRAY[h.voxelType];
  const data = new Ctor(wire.data, 0, want / Ctor.BYTES_PER_ELEMENT);
  return {
    dims: h.dims,
    spacing: h.spacing,
    origin: h.origin,
    direction: h.direction,
    data,
    voxelType: h.voxelType,
    frames: h.frames,
    ...(h.frameSpacing !== undefined ? { frameSpacing: h.frameSpacing } : {}),
    ...(h.components && h.components > 1 ? { components: h.components } : {}),
    rescaleSlope: h.rescaleSlope,
    rescaleIntercept: h.rescaleIntercept,
    metadata: h.metadata,
  };
}
