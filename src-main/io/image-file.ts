/**
 * One entry point for image files, whatever the format: NIfTI through our own reader
 * (faster than itk-wasm's, see bench/image-io.bench.mjs, and it keeps dcm2niix's
 * conventions) plus its JSON sidecar, everything else through itk-wasm.
 * Errors name the file and the problem.
 */
import { basename } from 'node:path';
import type { Volume } from '../../src-shared/image/volume';
import { imageFormatOf, stripImageExtension } from '../../src-shared/image/file-formats';
import { ImageFileError, readItkImage, writeItkImage, type ItkWriteOptions } from './itk-image-io';
import { applyNiftiSidecar, writeNiftiSidecar } from './nifti-sidecar';

export { ImageFileError } from './itk-image-io';

export interface ImageReadResult {
  volume: Volume;
  warnings: string[];
  /** Display name: the file name without its image extension. */
  name: string;
  format: string;
}

export async function readImageFile(path: string, opts: { sidecar?: boolean } = {}): Promise<ImageReadResult> {
  const f = imageFormatOf(path);
  if (!f) throw new ImageFileError(path, 'not an image file Lattice can open (known: NIfTI, NRRD, MetaImage, Analyze, VTK, MINC, MGH, GIPL, TIFF, PNG, JPEG, BMP; DICOM opens by folder)');
  const name = stripImageExtension(basename(path));
  if (f.format === 'nifti') {
    const { readNiftiFile } = await import('../nifti/nifti-file');
    const { volume } = await readNiftiFile(path);
    const warnings = opts.sidecar === false ? [] : await applyNiftiSidecar(path, volume);
    return { volume, warnings, name, format: f.label };
  }
  const { volume, warnings } = await readItkImage(path);
  return { volume, warnings, name, format: f.label };
}

/** Writes by extension (NIfTI with our writer, the rest with itk-wasm), atomically. */
export async function writeImageFile(path: string, volume: Volume, opts: ItkWriteOptions = {}): Promise<{ warnings: string[] }> {
  const f = imageFormatOf(path);
  if (!f) throw new ImageFileError(path, 'unknown output format (use .nii, .nii.gz, .nrrd, .nhdr, .mha, .mhd, .vtk, .tif, .png, .jpg or .bmp)');
  if (!f.writable) throw new ImageFileError(path, `${f.label} is read only here; write NIfTI (.nii) instead`);
  if (f.format === 'nifti') {
    const { writeNiftiFile } = await import('../nifti/nifti-file');
    await writeNiftiFile(path, volume);
    // Keep the modality for the next opening (a CT stays a CT); never replaces an existing sidecar.
    const sidecar = await writeNiftiSidecar(path, volume).catch(() => null);
    return { warnings: sidecar ? [`modality written to the sidecar ${basename(sidecar)}`] : [] };
  }
  return writeItkImage(path, volume, opts);
}
