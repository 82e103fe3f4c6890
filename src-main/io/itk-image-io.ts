/**
 * Reading and writing the image formats NIfTI and DICOM do not cover (NRRD, MetaImage,
 * Analyze, VTK, MINC, MGH, GIPL, TIFF, PNG, JPEG, BMP) through itk-wasm's image-io
 * pipelines, which ship inside the npm package (no network, no CDN).
 *
 * Geometry: itk-wasm's Image carries ITK's physical space, which is LPS like ours, its
 * `origin` is the centre of the first pixel and its `direction` is row-major with the
 * index axes as columns — exactly our Volume's convention (verified in
 * test/itk-image-io.test.ts with a non-axial direction written by hand in NRRD and MHA).
 * So geometry is copied as is; a 2D image becomes a one-slice volume (k spacing 1 mm),
 * a 4D image a series of frames.
 *
 * Voxels: the typed array itk-wasm returns becomes the volume's data without a copy for
 * scalar images. Multi-component images are split into planar frames (our model stores
 * vector images as frames, metadata.vectorComponents = C); RGB(A) pictures become grey
 * (Rec. 601 luma) with a warning, as the image model has no colour voxels yet.
 * ITK vector images (displacement fields in .nrrd/.mha) hold LPS vectors; in memory and in
 * NIfTI Lattice keeps displacement vectors in RAS (README, "Conventions"), so x and y are
 * negated when reading and writing them.
 */
import { mkdtemp, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Image } from 'itk-wasm';
import { VOXEL_ARRAY, voxelCount, type Mat3, type Vec3, type Volume, type VoxelArray, type VoxelType } from '../../src-shared/image/volume';
import { imageFormatOf, type ImageFormat } from '../../src-shared/image/file-formats';

export class ImageFileError extends Error {
  override name = 'ImageFileError';
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${basename(path)}: ${message}`, options);
  }
}

type ItkFormat = Exclude<ImageFormat, 'analyze'> | 'nifti';
type ImageIoModule = typeof import('@itk-wasm/image-io');

let ioModule: Promise<ImageIoModule> | null = null;
/** itk-wasm is loaded on first use: the CLI and the app start without it. */
function imageIo(): Promise<ImageIoModule> {
  ioModule ??= import('@itk-wasm/image-io');
  return ioModule;
}

function readerOf(io: ImageIoModule, f: ItkFormat) {
  switch (f) {
    case 'nifti':
      return io.niftiReadImageNode;
    case 'nrrd':
      return io.nrrdReadImageNode;
    case 'meta':
      return io.metaReadImageNode;
    case 'vtk':
      return io.vtkReadImageNode;
    case 'minc':
      return io.mincReadImageNode;
    case 'mgh':
      return io.mghReadImageNode;
    case 'gipl':
      return io.giplReadImageNode;
    case 'tiff':
      return io.tiffReadImageNode;
    case 'png':
      return io.pngReadImageNode;
    case 'jpeg':
      return io.jpegReadImageNode;
    case 'bmp':
      return io.bmpReadImageNode;
  }
}

function writerOf(io: ImageIoModule, f: ItkFormat) {
  switch (f) {
    case 'nifti':
      return io.niftiWriteImageNode;
    case 'nrrd':
      return io.nrrdWriteImageNode;
    case 'meta':
      return io.metaWriteImageNode;
    case 'vtk':
      return io.vtkWriteImageNode;
    case 'minc':
      return io.mincWriteImageNode;
    case 'mgh':
      return io.mghWriteImageNode;
    case 'gipl':
      return io.giplWriteImageNode;
    case 'tiff':
      return io.tiffWriteImageNode;
    case 'png':
      return io.pngWriteImageNode;
    case 'jpeg':
      return io.jpegWriteImageNode;
    case 'bmp':
      return io.bmpWriteImageNode;
  }
}

/** The pipeline for a path: Analyze goes through ITK's NIfTI IO, which reads .hdr/.img pairs. */
function itkFormatOf(path: string): { format: ItkFormat; path: string } {
  const f = imageFormatOf(path);
  if (!f) throw new ImageFileError(path, 'not an image format Lattice knows (by its extension)');
  if (f.format === 'analyze') return { format: 'nifti', path: path.replace(/\.img$/i, (m) => (m === '.IMG' ? '.HDR' : '.hdr')) };
  return { format: f.format, path };
}

function pipelineMessage(err: unknown): string {
  let m = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  if (!m) {
    try {
      m = JSON.stringify(err) ?? String(err);
    } catch {
      m = String(err);
    }
  }
  // ITK exceptions are long multi-line dumps; the description line is what matters.
  const desc = /Description:\s*(.+)/.exec(m)?.[1];
  return (desc ?? m.split('\n').find((l) => l.trim()) ?? m).trim().slice(0, 300);
}

export interface ItkReadResult {
  volume: Volume;
  warnings: string[];
}

/** Reads any itk-wasm-supported image file into a Volume. Errors name the file. */
export async function readItkImage(path: string): Promise<ItkReadResult> {
  // The pipelines mount the file's folder into their virtual file system: absolute paths only.
  const { format, path: ioPath } = itkFormatOf(resolve(path));
  const st = await stat(ioPath).catch((err: NodeJS.ErrnoException) => {
    throw new ImageFileError(ioPath, err.code === 'ENOENT' ? 'file not found' : err.message, { cause: err });
  });
  if (st.isDirectory()) throw new ImageFileError(ioPath, 'is a folder, not a file');
  if (st.size === 0) throw new ImageFileError(ioPath, 'the file is empty');
  const io = await imageIo();
  let image: Image | undefined;
  try {
    const r = await readerOf(io, format)(ioPath);
    if (!r.couldRead) throw new Error(`not a readable ${imageFormatOf(path)!.label} file`);
    image = r.image;
  } catch (err) {
    throw new ImageFileError(ioPath, `cannot read: ${pipelineMessage(err)}`, { cause: err });
  }
  if (!image?.data) throw new ImageFileError(ioPath, 'the file has no pixel data');
  try {
    const result = itkImageToVolume(image, { sourceFile: path, sourceFormat: imageFormatOf(path)!.label });
    if (format === 'png') {
      const sp = await pngPixelSpacing(ioPath);
      if (sp) [result.volume.spacing[0], result.volume.spacing[1]] = sp;
    }
    return result;
  } catch (err) {
    throw new ImageFileError(ioPath, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/**
 * The pixel size a PNG's pHYs chunk gives in pixels per metre (ITK's PNG reader ignores
 * it), in mm; null when the file has none or gives only an aspect ratio (unit 0).
 */
export async function pngPixelSpacing(path: string): Promise<[number, number] | null> {
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(64 << 10);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const dv = new DataView(head.buffer, 0, bytesRead);
    // Chunks: length (4), type (4), data, CRC (4); pHYs comes before the first IDAT.
    for (let off = 8; off + 8 <= bytesRead; ) {
      const len = dv.getUint32(off);
      const type = String.fromCharCode(...head.subarray(off + 4, off + 8));
      if (type === 'IDAT' || type === 'IEND') return null;
      if (type === 'pHYs' && len === 9 && off + 17 <= bytesRead) {
        const px = dv.getUint32(off + 8);
        const py = dv.getUint32(off + 12);
        return head[off + 16] === 1 && px > 0 && py > 0 ? [1000 / px, 1000 / py] : null;
      }
      off += 12 + len;
    }
    return null;
  } finally {
    await fh.close();
  }
}

const COMPONENT_TYPES: Record<string, VoxelType> = {
  uint8: 'uint8',
  int8: 'int8',
  uint16: 'uint16',
  int16: 'int16',
  uint32: 'uint32',
  int32: 'int32',
  float32: 'float32',
  float64: 'float64',
};

/**
 * itk-wasm Image → Volume. Scalar data are taken over without a copy; the geometry of
 * 2D images is padded to 3D (k: spacing 1, direction z), 4D images become frames.
 */
export function itkImageToVolume(image: Image, extra: Record<string, string> = {}): ItkReadResult {
  const warnings: string[] = [];
  const dim = image.imageType.dimension;
  if (dim < 1 || dim > 4) throw new Error(`${dim}-dimensional images are not supported`);
  const size = [...image.size];
  const dims: Vec3 = [size[0] ?? 1, size[1] ?? 1, size[2] ?? 1];
  const frames = dim === 4 ? size[3]! : 1;
  const spacing: Vec3 = [0, 1, 2].map((a) => (a < dim ? Math.abs(image.spacing[a]!) || 1 : 1)) as Vec3;
  const origin: Vec3 = [0, 1, 2].map((a) => (a < dim ? image.origin[a]! : 0)) as Vec3;
  const direction: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let r = 0; r < Math.min(dim, 3); r++) for (let c = 0; c < Math.min(dim, 3); c++) direction[r * 3 + c] = Number(image.direction[r * dim + c]);
  if (dim === 2 && direction[0] * direction[4] - direction[1] * direction[3] < 0) direction[8] = -1; // keep it a rotation

  let data = image.data as unknown as VoxelArray | BigInt64Array | BigUint64Array;
  let voxelType = COMPONENT_TYPES[image.imageType.componentType];
  if (!voxelType) {
    // 64-bit integers: no such voxel type here; float64 holds them exactly up to 2^53.
    voxelType = 'float64';
    data = Float64Array.from(data as BigInt64Array, Number);
    warnings.push(`${image.imageType.componentType} voxels were converted to float64`);
  }
  const metadata: Volume['metadata'] = { ...extra };
  for (const [k, v] of image.metadata ?? []) {
    if (typeof v === 'string' && v.length <= 1024) metadata[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') metadata[k] = v;
  }
  const n = voxelCount({ dims }) * frames;
  const comps = image.imageType.components;
  const pixelType = image.imageType.pixelType;
  if (data.length !== n * comps) throw new Error(`pixel data hold ${data.length} values, the header says ${n * comps}`);
  let outFrames = frames;
  let out = data as VoxelArray;
  if (comps > 1) {
    if (frames > 1) throw new Error(`4D images with ${comps} components per voxel are not supported`);
    if (pixelType === 'RGB' || pixelType === 'RGBA') {
      out = rgbToGrey(data as VoxelArray, n, comps, voxelType);
      warnings.push(`${pixelType} colour image shown as grey (luma 0.299 R + 0.587 G + 0.114 B)`);
      metadata.originalPixelType = pixelType;
    } else {
      // Vector image (e.g. a displacement field): planar frames, one per component.
      const flipXY = comps === 3 && (pixelType === 'Vector' || pixelType === 'CovariantVector' || pixelType === 'Offset');
      out = deinterleave(data as VoxelArray, n, comps, voxelType, flipXY ? [-1, -1, 1] : undefined);
      outFrames = comps;
      metadata.vectorComponents = comps;
      if (flipXY) metadata.vectorSpace = 'RAS';
    }
  }
  const volume: Volume = {
    dims,
    spacing,
    origin,
    direction,
    data: out,
    voxelType,
    frames: outFrames,
    ...(dim === 4 && image.spacing[3] && image.spacing[3] !== 1 ? { frameSpacing: image.spacing[3] } : {}),
    rescaleSlope: 1,
    rescaleIntercept: 0,
    metadata,
  };
  return { volume, warnings };
}

function rgbToGrey(src: VoxelArray, n: number, comps: number, t: VoxelType): VoxelArray {
  const out = new VOXEL_ARRAY[t](n);
  const round = t !== 'float32' && t !== 'float64';
  for (let i = 0, s = 0; i < n; i++, s += comps) {
    const y = 0.299 * src[s]! + 0.587 * src[s + 1]! + 0.114 * src[s + 2]!;
    out[i] = round ? Math.round(y) : y;
  }
  return out;
}

function deinterleave(src: VoxelArray, n: number, comps: number, t: VoxelType, scale?: number[]): VoxelArray {
  const out = new VOXEL_ARRAY[t](n * comps);
  for (let c = 0; c < comps; c++) {
    const s = scale?.[c] ?? 1;
    const base = c * n;
    for (let i = 0, j = c; i < n; i++, j += comps) out[base + i] = s * src[j]!;
  }
  return out;
}

export interface ItkWriteOptions {
  /** Compress where the format can (NRRD/MHA gzip, PNG deflate, TIFF). Default false: faster. */
  compress?: boolean;
}

/** 2D picture formats and the voxel types they hold. */
const PICTURE_TYPES: Partial<Record<ItkFormat, VoxelType[]>> = {
  png: ['uint8', 'uint16'],
  jpeg: ['uint8'],
  bmp: ['uint8'],
  tiff: ['uint8', 'uint16', 'float32'],
};

/**
 * Writes `volume` in the format its extension names. The files are written into a
 * private folder next to the target and then renamed into place, so a failure never
 * leaves a half-written file and detached headers (.nhdr, .mhd) keep their data file's
 * name. Returns warnings (value conversions) for the caller to show.
 */
export async function writeItkImage(path: string, volume: Volume, opts: ItkWriteOptions = {}): Promise<{ warnings: string[] }> {
  path = resolve(path);
  const { format } = itkFormatOf(path);
  if (imageFormatOf(path)!.format === 'analyze') throw new ImageFileError(path, 'Analyze files are read only; write NIfTI (.nii) instead');
  let prepared: { image: Image; warnings: string[] };
  try {
    prepared = volumeToItkImage(volume, format);
  } catch (err) {
    throw new ImageFileError(path, err instanceof Error ? err.message : String(err), { cause: err });
  }
  const io = await imageIo();
  const dir = dirname(path);
  const tmp = await mkdtemp(join(dir, `.${basename(path)}.`)).catch((err: NodeJS.ErrnoException) => {
    throw new ImageFileError(path, `cannot write in ${dir}: ${err.code === 'ENOENT' ? 'folder not found' : err.message}`, { cause: err });
  });
  try {
    const r = await writerOf(io, format)(prepared.image, join(tmp, basename(path)), { useCompression: !!opts.compress });
    if (!r.couldWrite) throw new Error('the writer refused this image');
    // The header last, so that a reader never sees a header whose data file is missing.
    const names = await readdir(tmp);
    names.sort((a, b) => Number(a === basename(path)) - Number(b === basename(path)));
    for (const name of names) await rename(join(tmp, name), join(dir, name));
  } catch (err) {
    throw new ImageFileError(path, `cannot write: ${pipelineMessage(err)}`, { cause: err });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { warnings: prepared.warnings };
}

/**
 * Volume → itk-wasm Image for `format`. Scalar 3D voxels are passed without a copy; real
 * values (rescale slope/intercept, which these formats cannot store) are computed into a
 * new array of the smallest fitting type; pictures get 8/16-bit values.
 */
export function volumeToItkImage(volume: Volume, format: ItkFormat = 'nrrd'): { image: Image; warnings: string[] } {
  const warnings: string[] = [];
  const vc = Number(volume.metadata.vectorComponents) || 0;
  const isVector = vc > 1 && vc === volume.frames;
  const picture = PICTURE_TYPES[format];
  let { data, voxelType } = realValues(volume, warnings);
  if (picture) {
    if (volume.dims[2] !== 1 || volume.frames !== 1)
      throw new Error(`${format.toUpperCase()} holds one 2D image; this volume is ${volume.dims.join('×')}${volume.frames > 1 ? `×${volume.frames}` : ''} (export one slice, or choose NIfTI/NRRD/MHA)`);
    ({ data, voxelType } = toPictureRange(data, voxelType, picture, warnings));
  }
  const dim = picture ? 2 : volume.frames > 1 && !isVector ? 4 : 3;
  const n = voxelCount(volume);
  let components = 1;
  let pixelType: 'Scalar' | 'Vector' = 'Scalar';
  if (isVector) {
    components = vc;
    pixelType = 'Vector';
    // Planar RAS frames → interleaved LPS vectors (see the header comment).
    const out = new VOXEL_ARRAY[voxelType](n * vc);
    for (let c = 0; c < vc; c++) {
      const s = vc === 3 && c < 2 ? -1 : 1;
      for (let i = 0, j = c; i < n; i++, j += vc) out[j] = s * data[c * n + i]!;
    }
    data = out;
  }
  const direction = new Float64Array(dim * dim);
  for (let r = 0; r < dim; r++) for (let c = 0; c < dim; c++) direction[r * dim + c] = r < 3 && c < 3 ? volume.direction[r * 3 + c]! : r === c ? 1 : 0;
  const size = dim === 4 ? [...volume.dims, volume.frames] : volume.dims.slice(0, dim);
  const spacing = dim === 4 ? [...volume.spacing, volume.frameSpacing || 1] : volume.spacing.slice(0, dim);
  const origin = dim === 4 ? [...volume.origin, 0] : volume.origin.slice(0, dim);
  const metadata = new Map<string, string | number>();
  const image = {
    imageType: { dimension: dim, componentType: voxelType, pixelType, components },
    name: 'image',
    origin,
    spacing,
    direction,
    size,
    metadata,
    data,
  } as unknown as Image;
  return { image, warnings };
}

/** The stored values with slope/intercept applied, in the narrowest exact type (no copy when 1/0). */
function realValues(v: Volume, warnings: string[]): { data: VoxelArray; voxelType: VoxelType } {
  const slope = v.rescaleSlope || 1;
  const inter = v.rescaleIntercept || 0;
  if (slope === 1 && inter === 0) return { data: v.data, voxelType: v.voxelType };
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.data.length; i++) {
    const x = v.data[i]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const a = lo * slope + inter;
  const b = hi * slope + inter;
  const min = Math.min(a, b);
  const max = Math.max(a, b);
  const integral = Number.isInteger(slope) && Number.isInteger(inter);
  const t: VoxelType = !integral ? 'float32' : min >= -32768 && max <= 32767 ? 'int16' : min >= -(2 ** 31) && max < 2 ** 31 ? 'int32' : 'float32';
  const out = new VOXEL_ARRAY[t](v.data.length);
  for (let i = 0; i < v.data.length; i++) out[i] = v.data[i]! * slope + inter;
  warnings.push(`rescale slope ${slope} / intercept ${inter} applied: real values stored as ${t} (the format has no rescale fields)`);
  return { data: out, voxelType: t };
}

/** Values for an 8/16-bit picture: kept (rounded) when they fit, otherwise min…max mapped to 0…255. */
function toPictureRange(data: VoxelArray, t: VoxelType, allowed: VoxelType[], warnings: string[]): { data: VoxelArray; voxelType: VoxelType } {
  if (allowed.includes(t)) return { data, voxelType: t };
  let lo = Infinity;
  let hi = -Infinity;
  let integral = true;
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    if (integral && !Number.isInteger(x)) integral = false;
  }
  // Values already in 8 (16) bits, e.g. a registration's float result of an 8-bit picture:
  // kept, rounded to the nearest integer, so the picture keeps its grey levels.
  const rounded = integral ? '' : ' (rounded to integers)';
  if (lo >= -0.5 && hi < 255.5) {
    if (!integral) warnings.push(`${t} values written as 8-bit${rounded}`);
    return { data: Uint8Array.from(data, (x) => Math.round(x)), voxelType: 'uint8' };
  }
  if (lo >= -0.5 && hi < 65535.5 && allowed.includes('uint16')) {
    if (!integral) warnings.push(`${t} values written as 16-bit${rounded}`);
    return { data: Uint16Array.from(data, (x) => Math.round(x)), voxelType: 'uint16' };
  }
  const out = new Uint8Array(data.length);
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  for (let i = 0; i < data.length; i++) out[i] = Math.round((data[i]! - lo) * scale);
  warnings.push(`${t} values ${+lo.toPrecision(6)}…${+hi.toPrecision(6)} scaled to 0…255 for an 8-bit picture`);
  return { data: out, voxelType: 'uint8' };
}
