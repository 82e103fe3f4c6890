/**
 * NIfTI-1 single-file (.nii, magic "n+1") header parsing and encoding. Pure: works on
 * Uint8Array, no node: imports (file access and gzip live in src-main/nifti).
 *
 * Geometry follows the NIfTI-1 standard's precedence (the one nibabel, ITK and
 * nifti1_io use for the "best" transform): sform when sform_code > 0, else qform when
 * qform_code > 0, else pixdim only (ANALYZE method 1). NIfTI's RAS is converted to
 * Lattice's LPS here and only here.
 */
import type { Mat4, Vec3, Volume, VoxelArray, VoxelType } from '../image/volume';
import { VOXEL_ARRAY } from '../image/volume';
import {
  affineToQuaternion,
  geometryToNiftiAffine,
  isQuaternionRepresentable,
  niftiAffineToGeometry,
  quaternionToAffine,
} from '../geometry/nifti-transform';

export const NIFTI1_HEADER_SIZE = 348;
/** Header + the 4-byte extension flag: where our data starts. */
export const NIFTI1_VOX_OFFSET = 352;

/** NIfTI-1 xform codes. */
export const NIFTI_XFORM = { UNKNOWN: 0, SCANNER_ANAT: 1, ALIGNED_ANAT: 2, TALAIRACH: 3, MNI_152: 4, TEMPLATE_OTHER: 5 } as const;
/** Intent codes we use. */
export const NIFTI_INTENT = { NONE: 0, DISPLACEMENT_VECTOR: 1006, VECTOR: 1007 } as const;

export interface Nifti1Header {
  sizeof_hdr: number;
  dim_info: number;
  /** dim[0] = number of dimensions, dim[1..7] sizes. */
  dim: number[];
  intent_p1: number;
  intent_p2: number;
  intent_p3: number;
  intent_code: number;
  datatype: number;
  bitpix: number;
  slice_start: number;
  /** pixdim[0] = qfac, pixdim[1..7] voxel sizes / time step. */
  pixdim: number[];
  vox_offset: number;
  scl_slope: number;
  scl_inter: number;
  slice_end: number;
  slice_code: number;
  xyzt_units: number;
  cal_max: number;
  cal_min: number;
  slice_duration: number;
  toffset: number;
  descrip: string;
  aux_file: string;
  qform_code: number;
  sform_code: number;
  quatern_b: number;
  quatern_c: number;
  quatern_d: number;
  qoffset_x: number;
  qoffset_y: number;
  qoffset_z: number;
  srow_x: number[];
  srow_y: number[];
  srow_z: number[];
  intent_name: string;
  magic: string;
  /** Byte order of the file (header and data). */
  littleEndian: boolean;
}

export interface NiftiWriteOptions {
  /** sform_code; default 1 (scanner anatomical), as dcm2niix writes. 0 writes no sform. */
  sformCode?: number;
  /** qform_code; default 1, as dcm2niix. Forced to 0 when the affine is sheared (no quaternion can represent it). */
  qformCode?: number;
  /** descrip (at most 79 bytes are kept). Default "Lattice". */
  description?: string;
  /** intent_code; default volume.metadata.niftiIntentCode, else 1007 (vector) for vector images, else 0. */
  intentCode?: number;
  /** intent_name (at most 15 bytes). */
  intentName?: string;
  /**
   * Write the volume's frames as vector components: dim = (5, nx, ny, nz, 1, C), the
   * layout of ITK/ANTs displacement fields. Must equal volume.frames. Default
   * volume.metadata.vectorComponents when it is a number > 1 that equals frames.
   */
  vectorComponents?: number;
  /** pixdim[4] in seconds; default volume.frameSpacing ?? 0. */
  frameSpacing?: number;
  /** xyzt_units; default 10 (mm + s), as dcm2niix. */
  xyztUnits?: number;
  /** dim[0] = 2 when nz == 1 and frames == 1. */
  twoD?: boolean;
}

interface DatatypeInfo {
  type: VoxelType;
  bitpix: number;
}

const DATATYPES: Record<number, DatatypeInfo> = {
  2: { type: 'uint8', bitpix: 8 },
  4: { type: 'int16', bitpix: 16 },
  8: { type: 'int32', bitpix: 32 },
  16: { type: 'float32', bitpix: 32 },
  64: { type: 'float64', bitpix: 64 },
  256: { type: 'int8', bitpix: 8 },
  512: { type: 'uint16', bitpix: 16 },
  768: { type: 'uint32', bitpix: 32 },
};

const DATATYPE_CODE: Record<VoxelType, number> = {
  uint8: 2,
  int16: 4,
  int32: 8,
  float32: 16,
  float64: 64,
  int8: 256,
  uint16: 512,
  uint32: 768,
};

/** NIFTI_TYPE_RGB24: 3 interleaved uint8 samples per voxel (Volume.components = 3). */
const DT_RGB24 = 128;

const UNSUPPORTED_DATATYPES: Record<number, string> = {
  1: 'binary (1 bit)',
  32: 'complex64',
  1024: 'int64',
  1280: 'uint64',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'RGBA32',
};

export class NiftiFormatError extends Error {
  override name = 'NiftiFormatError';
}

function readString(bytes: Uint8Array, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && bytes[end] !== 0) end++;
  // latin1 so that every byte maps to one character and nothing throws.
  let s = '';
  for (let i = offset; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function writeString(bytes: Uint8Array, offset: number, length: number, s: string): void {
  // Keep one byte for the terminating NUL; non-latin1 characters become '?'.
  const n = Math.min(s.length, length - 1);
  for (let i = 0; i < n; i++) {
    const code = s.charCodeAt(i);
    bytes[offset + i] = code < 256 ? code : 0x3f;
  }
}

/** Parses the 348-byte header (either byte order). Throws NiftiFormatError. */
export function parseNifti1Header(bytes: Uint8Array): Nifti1Header {
  if (bytes.byteLength < NIFTI1_HEADER_SIZE) {
    throw new NiftiFormatError(`file too short for a NIfTI-1 header (${bytes.byteLength} bytes, need ${NIFTI1_HEADER_SIZE})`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  if (dv.getInt32(0, true) === 348) le = true;
  else if (dv.getInt32(0, false) === 348) le = false;
  else if (dv.getInt32(0, true) === 540 || dv.getInt32(0, false) === 540) {
    throw new NiftiFormatError('this is a NIfTI-2 file (sizeof_hdr 540); only NIfTI-1 is supported');
  } else {
    throw new NiftiFormatError(`not a NIfTI-1 file (sizeof_hdr is ${dv.getInt32(0, true)}, expected 348)`);
  }
  const magic = readString(bytes, 344, 4);
  if (magic === 'ni1') {
    throw new NiftiFormatError('this is the header of a two-file NIfTI pair (.hdr/.img, magic "ni1"); only single-file .nii is supported');
  }
  if (magic !== 'n+1') {
    throw new NiftiFormatError(`bad NIfTI-1 magic ${JSON.stringify(magic)} (expected "n+1"); ANALYZE 7.5 files are not supported`);
  }
  const i16 = (o: number) => dv.getInt16(o, le);
  const f32 = (o: number) => dv.getFloat32(o, le);
  const dim: number[] = [];
  for (let i = 0; i < 8; i++) dim.push(i16(40 + 2 * i));
  const pixdim: number[] = [];
  for (let i = 0; i < 8; i++) pixdim.push(f32(76 + 4 * i));
  const row = (o: number) => [f32(o), f32(o + 4), f32(o + 8), f32(o + 12)];
  return {
    sizeof_hdr: 348,
    dim_info: bytes[39],
    dim,
    intent_p1: f32(56),
    intent_p2: f32(60),
    intent_p3: f32(64),
    intent_code: i16(68),
    datatype: i16(70),
    bitpix: i16(72),
    slice_start: i16(74),
    pixdim,
    vox_offset: f32(108),
    scl_slope: f32(112),
    scl_inter: f32(116),
    slice_end: i16(120),
    slice_code: bytes[122],
    xyzt_units: bytes[123],
    cal_max: f32(124),
    cal_min: f32(128),
    slice_duration: f32(132),
    toffset: f32(136),
    descrip: readString(bytes, 148, 80),
    aux_file: readString(bytes, 228, 24),
    qform_code: i16(252),
    sform_code: i16(254),
    quatern_b: f32(256),
    quatern_c: f32(260),
    quatern_d: f32(264),
    qoffset_x: f32(268),
    qoffset_y: f32(272),
    qoffset_z: f32(276),
    srow_x: row(280),
    srow_y: row(296),
    srow_z: row(312),
    intent_name: readString(bytes, 328, 16),
    magic,
    littleEndian: le,
  };
}

/** The sform matrix of a header (RAS). */
export function headerSform(h: Nifti1Header): Mat4 {
  return [...h.srow_x, ...h.srow_y, ...h.srow_z, 0, 0, 0, 1];
}

/** The qform matrix of a header (RAS), as nifti_quatern_to_mat44 computes it. */
export function headerQform(h: Nifti1Header): Mat4 {
  return quaternionToAffine({
    b: h.quatern_b,
    c: h.quatern_c,
    d: h.quatern_d,
    qx: h.qoffset_x,
    qy: h.qoffset_y,
    qz: h.qoffset_z,
    qfac: h.pixdim[0] < 0 ? -1 : 1,
    pixdim: [h.pixdim[1], h.pixdim[2], h.pixdim[3]],
  });
}

/** Which transform defines the geometry, by the standard's precedence. */
export function headerGeometrySource(h: Nifti1Header): 'sform' | 'qform' | 'pixdim' {
  if (h.sform_code > 0) return 'sform';
  if (h.qform_code > 0) return 'qform';
  return 'pixdim';
}

/** The best index → RAS affine of a header (sform, else qform, else ANALYZE pixdim scaling). */
export function headerAffine(h: Nifti1Header): Mat4 {
  switch (headerGeometrySource(h)) {
    case 'sform':
      return headerSform(h);
    case 'qform':
      return headerQform(h);
    default: {
      const p = (i: number) => (h.pixdim[i] > 0 && Number.isFinite(h.pixdim[i]) ? h.pixdim[i] : 1);
      return [p(1), 0, 0, 0, 0, p(2), 0, 0, 0, 0, p(3), 0, 0, 0, 0, 1];
    }
  }
}

/** Seconds per unit of the time code in xyzt_units (NIfTI: 8 s, 16 ms, 24 µs). */
function timeUnitSeconds(xyztUnits: number): number {
  switch (xyztUnits & 0x38) {
    case 16:
      return 1e-3;
    case 24:
      return 1e-6;
    default:
      return 1;
  }
}

/** Millimetres per unit of the space code (NIfTI: 1 m, 2 mm, 3 µm; 0 unknown = mm). */
function spaceUnitMm(xyztUnits: number): number {
  switch (xyztUnits & 0x07) {
    case 1:
      return 1000;
    case 3:
      return 1e-3;
    default:
      return 1;
  }
}

function byteSwapInPlace(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

const PLATFORM_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Where the voxels of a parsed header lie and how many bytes the whole file needs
 * (vox_offset + voxel bytes). Throws NiftiFormatError for unsupported datatypes and
 * invalid dims. Used by parseNifti1 and by streaming readers to size their buffer.
 */
export function nifti1Layout(header: Nifti1Header) {
  const components = header.datatype === DT_RGB24 ? 3 : 1;
  const info = components === 3 ? DATATYPES[2] : DATATYPES[header.datatype];
  if (!info) {
    const name = UNSUPPORTED_DATATYPES[header.datatype];
    throw new NiftiFormatError(
      name
        ? `NIfTI datatype ${header.datatype} (${name}) is not supported; supported: uint8, int8, int16, uint16, int32, uint32, float32, float64, RGB24`
        : `unknown NIfTI datatype code ${header.datatype}`,
    );
  }
  const ndim = header.dim[0];
  if (!(ndim >= 1 && ndim <= 7)) throw new NiftiFormatError(`invalid dim[0] = ${ndim} (must be 1..7)`);
  for (let i = 1; i <= ndim; i++) {
    if (header.dim[i] < 0) throw new NiftiFormatError(`invalid dim[${i}] = ${header.dim[i]}`);
  }
  // Sizes beyond dim[0] are ignored; a zero size inside it counts as 1 (as nifti1_io does).
  const size = (i: number) => (i <= ndim && header.dim[i] > 0 ? header.dim[i] : 1);
  const dims: Vec3 = [size(1), size(2), size(3)];
  const dim4 = size(4);
  const dim5 = size(5);
  const frames = dim4 * dim5 * size(6) * size(7);
  const bpv = VOXEL_ARRAY[info.type].BYTES_PER_ELEMENT;
  // Samples, not voxels, for RGB24 (three uint8 per voxel).
  const nvox = dims[0] * dims[1] * dims[2] * frames * components;
  if (!Number.isFinite(header.vox_offset) || header.vox_offset < 0) {
    throw new NiftiFormatError(`invalid vox_offset ${header.vox_offset}`);
  }
  // A single-file NIfTI's data cannot start inside the header; 0 (seen from some old writers) means 352.
  const voxOffset = Math.max(NIFTI1_VOX_OFFSET, Math.floor(header.vox_offset));
  return { info, ndim, dims, dim4, dim5, frames, nvox, bpv, components, voxOffset, byteLength: voxOffset + nvox * bpv };
}

/**
 * Parses a whole single-file NIfTI-1 image (already decompressed). The voxel array is
 * a view on `bytes` when its offset is aligned for the type and the file's byte order
 * is native; otherwise the data are copied (and byte-swapped for big-endian files).
 */
export function parseNifti1(bytes: Uint8Array): { header: Nifti1Header; volume: Volume } {
  const header = parseNifti1Header(bytes);
  const { info, ndim, dims, dim4, dim5, frames, nvox, bpv, components, voxOffset, byteLength: need } = nifti1Layout(header);
  if (bytes.byteLength < need) {
    throw new NiftiFormatError(
      `file is truncated: header says ${dims.join('×')}×${frames} ${info.type} voxels from byte ${voxOffset} (${need} bytes), but there are only ${bytes.byteLength} bytes`,
    );
  }

  const Ctor = VOXEL_ARRAY[info.type];
  const absOffset = bytes.byteOffset + voxOffset;
  let data: VoxelArray;
  if (header.littleEndian === PLATFORM_LITTLE_ENDIAN && absOffset % bpv === 0) {
    data = new Ctor(bytes.buffer, absOffset, nvox);
  } else {
    const copy = bytes.slice(voxOffset, voxOffset + nvox * bpv);
    if (header.littleEndian !== PLATFORM_LITTLE_ENDIAN) byteSwapInPlace(copy, bpv);
    data = new Ctor(copy.buffer, 0, nvox);
  }

  const source = headerGeometrySource(header);
  const affine = headerAffine(header);
  const mm = spaceUnitMm(header.xyzt_units);
  if (mm !== 1) for (let i = 0; i < 12; i++) affine[i] *= mm;
  const geometry = niftiAffineToGeometry(affine, dims);

  let slope = header.scl_slope;
  let inter = header.scl_inter;
  if (!Number.isFinite(slope) || slope === 0 || components > 1) {
    slope = 1;
    inter = 0;
  } else if (!Number.isFinite(inter)) {
    inter = 0;
  }

  const metadata: Volume['metadata'] = {
    niftiGeometrySource: source,
    niftiQformCode: header.qform_code,
    niftiSformCode: header.sform_code,
  };
  if (source === 'pixdim') {
    metadata.niftiGeometryNote = 'no sform or qform (both codes 0): geometry from pixdim only (ANALYZE method 1), orientation unknown';
  }
  if (header.intent_code !== 0) metadata.niftiIntentCode = header.intent_code;
  if (header.intent_name) metadata.niftiIntentName = header.intent_name;
  if (header.descrip) metadata.niftiDescription = header.descrip;
  if (ndim >= 5 && dim5 > 1) {
    metadata.vectorComponents = dim5;
    if (dim4 > 1) metadata.niftiTimePoints = dim4;
  }
  if (ndim > 5) metadata.niftiDim = header.dim.slice(0, ndim + 1);

  const frameSpacing = ndim >= 4 && Number.isFinite(header.pixdim[4]) && header.pixdim[4] > 0 ? header.pixdim[4] * timeUnitSeconds(header.xyzt_units) : 0;
  const volume: Volume = {
    ...geometry,
    data,
    voxelType: info.type,
    frames,
    frameSpacing,
    rescaleSlope: slope,
    rescaleIntercept: inter,
    metadata,
  };
  if (components > 1) volume.components = components;
  return { header, volume };
}

function isTrivialRescale(slope: number, inter: number): boolean {
  return (slope === 1 || !Number.isFinite(slope) || slope === 0) && (inter === 0 || !Number.isFinite(inter));
}

/**
 * The 352 bytes (348-byte header + 4 zero extension bytes) that precede the voxel data
 * of a little-endian .nii file for `volume`. The voxel bytes are not touched: the
 * caller writes volume.data's bytes right after (no copy).
 */
export function encodeNifti1Header(volume: Volume, opts: NiftiWriteOptions = {}): Uint8Array {
  const components = volume.components && volume.components > 1 ? volume.components : 1;
  if (components > 1 && !(components === 3 && volume.voxelType === 'uint8')) {
    throw new Error(`cannot write ${components}-sample ${volume.voxelType} voxels to NIfTI (only 8-bit RGB, as RGB24)`);
  }
  const code = components === 3 ? DT_RGB24 : DATATYPE_CODE[volume.voxelType];
  if (code === undefined) throw new Error(`cannot write voxel type ${volume.voxelType} to NIfTI`);
  const bitpix = components === 3 ? 24 : DATATYPES[code].bitpix;
  const [nx, ny, nz] = volume.dims;
  const frames = volume.frames ?? 1;
  const expected = nx * ny * nz * frames * components;
  if (volume.data.length !== expected) {
    throw new Error(`volume data length ${volume.data.length} does not match ${nx}×${ny}×${nz}×${frames}${components > 1 ? `×${components}` : ''} = ${expected}`);
  }
  for (const d of [nx, ny, nz, frames]) {
    if (!(Number.isInteger(d) && d >= 1 && d <= 32767)) throw new Error(`NIfTI-1 cannot store a dimension of ${d} (1..32767)`);
  }

  const metaVc = volume.metadata?.vectorComponents;
  let vc = opts.vectorComponents ?? (typeof metaVc === 'number' && metaVc > 1 && metaVc === frames ? metaVc : 0);
  if (vc && vc !== frames) throw new Error(`vectorComponents ${vc} must equal volume.frames ${frames}`);
  if (vc === 1 && frames === 1) vc = 0;

  const metaIntent = volume.metadata?.niftiIntentCode;
  const intentCode = opts.intentCode ?? (typeof metaIntent === 'number' ? metaIntent : vc ? NIFTI_INTENT.VECTOR : 0);
  const sformCode = opts.sformCode ?? NIFTI_XFORM.SCANNER_ANAT;
  let qformCode = opts.qformCode ?? NIFTI_XFORM.SCANNER_ANAT;

  const affine = geometryToNiftiAffine(volume);
  const q = affineToQuaternion(affine);
  // A sheared affine (e.g. an un-resampled gantry-tilt stack) has no quaternion: say so
  // with qform_code 0 rather than write a qform that places voxels elsewhere.
  if (qformCode > 0 && !isQuaternionRepresentable(affine)) qformCode = 0;

  const out = new Uint8Array(NIFTI1_VOX_OFFSET);
  const dv = new DataView(out.buffer);
  const i16 = (o: number, v: number) => dv.setInt16(o, v, true);
  const f32 = (o: number, v: number) => dv.setFloat32(o, v, true);
  dv.setInt32(0, NIFTI1_HEADER_SIZE, true);
  out[38] = 0x72; // regular = 'r', as ANALYZE readers expect

  let dim: number[];
  if (vc) dim = [5, nx, ny, nz, 1, vc, 1, 1];
  else if (frames > 1) dim = [4, nx, ny, nz, frames, 1, 1, 1];
  else if (opts.twoD && nz === 1) dim = [2, nx, ny, 1, 1, 1, 1, 1];
  else dim = [3, nx, ny, nz, 1, 1, 1, 1];
  for (let i = 0; i < 8; i++) i16(40 + 2 * i, dim[i]);

  i16(68, intentCode);
  i16(70, code);
  i16(72, bitpix);
  const frameSpacing = opts.frameSpacing ?? volume.frameSpacing ?? 0;
  const pixdim = [q.qfac, volume.spacing[0], volume.spacing[1], volume.spacing[2], Number.isFinite(frameSpacing) ? frameSpacing : 0, 0, 0, 0];
  for (let i = 0; i < 8; i++) f32(76 + 4 * i, pixdim[i]);
  f32(108, NIFTI1_VOX_OFFSET);

  const slope = volume.rescaleSlope;
  const inter = volume.rescaleIntercept;
  if (isTrivialRescale(slope, inter)) {
    f32(112, 1);
    f32(116, 0);
  } else {
    f32(112, Number.isFinite(slope) && slope !== 0 ? slope : 1);
    f32(116, Number.isFinite(inter) ? inter : 0);
  }
  out[123] = opts.xyztUnits ?? 10;
  // cal_max, cal_min, slice_duration, toffset, glmax, glmin stay 0.
  writeString(out, 148, 80, opts.description ?? 'Lattice');

  i16(252, qformCode);
  i16(254, sformCode);
  f32(256, q.b);
  f32(260, q.c);
  f32(264, q.d);
  f32(268, q.qx);
  f32(272, q.qy);
  f32(276, q.qz);
  for (let c = 0; c < 4; c++) {
    f32(280 + 4 * c, affine[c]);
    f32(296 + 4 * c, affine[4 + c]);
    f32(312 + 4 * c, affine[8 + c]);
  }
  writeString(out, 328, 16, opts.intentName ?? '');
  writeString(out, 344, 4, 'n+1');
  // Bytes 348..351: extension flag 0 (no extensions).
  return out;
}

/**
 * The voxel bytes to write after encodeNifti1Header: a view on volume.data (no copy)
 * on little-endian platforms; a byte-swapped copy on a big-endian one.
 */
export function voxelBytesLittleEndian(data: VoxelArray): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (PLATFORM_LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return view;
  const copy = view.slice();
  byteSwapInPlace(copy, data.BYTES_PER_ELEMENT);
  return copy;
}
