/**
 * The image file formats Lattice reads and writes, recognised by file name. One place for
 * the list, used by the main process (which reader to call), the CLI (--format) and the
 * renderer (which paths open as images rather than as DICOM folders).
 *
 * NIfTI (.nii, .nii.gz) is read by our own reader (src-main/nifti); every other format goes
 * through itk-wasm's image-io pipelines (src-main/io/itk-image-io.ts). DICOM is not listed:
 * it is recognised by content, folder by folder (src-main/dicom).
 */

export type ImageFormat =
  | 'nifti'
  | 'analyze'
  | 'nrrd'
  | 'meta'
  | 'vtk'
  | 'minc'
  | 'mgh'
  | 'gipl'
  | 'tiff'
  | 'png'
  | 'jpeg'
  | 'bmp';

export interface ImageFormatInfo {
  format: ImageFormat;
  /** Human name for messages and dialogs. */
  label: string;
  /** Lower-case extensions without the dot, the first one is the default for writing. */
  extensions: string[];
  /** A 2D picture format (one slice; 8/16-bit grey or RGB). */
  planar: boolean;
  /** Whether Lattice can write it. */
  writable: boolean;
}

export const IMAGE_FORMATS: readonly ImageFormatInfo[] = [
  { format: 'nifti', label: 'NIfTI', extensions: ['nii.gz', 'nii'], planar: false, writable: true },
  { format: 'nrrd', label: 'NRRD', extensions: ['nrrd', 'nhdr'], planar: false, writable: true },
  { format: 'meta', label: 'MetaImage', extensions: ['mha', 'mhd'], planar: false, writable: true },
  { format: 'analyze', label: 'Analyze 7.5', extensions: ['hdr', 'img'], planar: false, writable: false },
  { format: 'vtk', label: 'VTK legacy image', extensions: ['vtk'], planar: false, writable: true },
  { format: 'minc', label: 'MINC', extensions: ['mnc', 'mnc2'], planar: false, writable: true },
  { format: 'mgh', label: 'FreeSurfer MGH', extensions: ['mgz', 'mgh', 'mgh.gz'], planar: false, writable: true },
  { format: 'gipl', label: 'GIPL', extensions: ['gipl', 'gipl.gz'], planar: false, writable: true },
  { format: 'tiff', label: 'TIFF', extensions: ['tif', 'tiff'], planar: true, writable: true },
  { format: 'png', label: 'PNG', extensions: ['png'], planar: true, writable: true },
  { format: 'jpeg', label: 'JPEG', extensions: ['jpg', 'jpeg'], planar: true, writable: true },
  { format: 'bmp', label: 'BMP', extensions: ['bmp'], planar: true, writable: true },
];

/** Every extension, longest first so that "nii.gz" wins over "gz"-less matches. */
const BY_EXTENSION: Array<[string, ImageFormatInfo]> = IMAGE_FORMATS.flatMap((f) => f.extensions.map((e) => [e, f] as [string, ImageFormatInfo])).sort(
  (a, b) => b[0].length - a[0].length,
);

/** The format a file name stands for, or null (DICOM files, folders, anything else). */
export function imageFormatOf(path: string): ImageFormatInfo | null {
  const name = path.split(/[\\/]/).pop()!.toLowerCase();
  for (const [ext, f] of BY_EXTENSION) if (name.endsWith(`.${ext}`) && name.length > ext.length + 1) return f;
  return null;
}

/** True for a path that opens as an image file (not a DICOM folder/file). */
export function isImageFilePath(path: string): boolean {
  return imageFormatOf(path) !== null;
}

/** The format named by a --format value (nrrd, mha, nii, nii.gz, png, …) or an extension. */
export function formatForName(name: string): { format: ImageFormatInfo; extension: string } | null {
  const n = name.toLowerCase().replace(/^\./, '');
  for (const f of IMAGE_FORMATS) {
    if (f.format === n) return { format: f, extension: f.extensions[0]! };
    if (f.extensions.includes(n)) return { format: f, extension: n };
  }
  return null;
}

/** File name without the image extension ("ct.nii.gz" → "ct"). */
export function stripImageExtension(name: string): string {
  const f = imageFormatOf(name);
  if (!f) return name;
  const lower = name.toLowerCase();
  const ext = f.extensions.find((e) => lower.endsWith(`.${e}`))!;
  return name.slice(0, name.length - ext.length - 1);
}

/** Extensions (no dot) of the formats that can be written, for save dialogs and messages. */
export const WRITABLE_EXTENSIONS: readonly string[] = IMAGE_FORMATS.filter((f) => f.writable).flatMap((f) => f.extensions);

/** Extensions of every readable format, for open dialogs. */
export const READABLE_EXTENSIONS: readonly string[] = IMAGE_FORMATS.flatMap((f) => f.extensions);
