/**
 * The file-format modules the services build on (DICOM, NIfTI), loaded lazily so that
 * the Electron main process and the host start fast and only pay for a reader when the
 * user first opens something. Tests may pass their own implementation.
 */
import type { Volume } from '../../src-shared/image/volume';
import type { DicomScan } from '../dicom/types';

export interface Readers {
  scanDicom(inputs: string[], opts?: { onProgress?(done: number, total: number): void; signal?: AbortSignal }): Promise<DicomScan>;
  loadDicomSeries(
    scan: DicomScan,
    seriesId: string,
    opts?: { onProgress?(done: number, total: number): void; signal?: AbortSignal },
  ): Promise<{ volume: Volume; warnings: string[] }>;
  readNiftiFile(path: string): Promise<{ volume: Volume }>;
  /** onProgress: voxel bytes written so far and the total (see NiftiFileWriteOptions). */
  writeNiftiFile(path: string, volume: Volume, opts?: { onProgress?(done: number, total: number): void }): Promise<unknown>;
  /** Any other image file (NRRD, MetaImage, PNG, …: src-main/io); optional for test fakes. */
  readImageFile?(path: string): Promise<{ volume: Volume; warnings: string[] }>;
  writeImageFile?(path: string, volume: Volume): Promise<{ warnings: string[] }>;
}

export const defaultReaders: Readers = {
  async scanDicom(inputs, opts) {
    const m = await import('../dicom/index');
    return m.scanDicom(inputs, opts);
  },
  async loadDicomSeries(scan, seriesId, opts) {
    const m = await import('../dicom/index');
    return m.loadDicomSeries(scan, seriesId, opts);
  },
  async readNiftiFile(path) {
    const m = await import('../nifti/nifti-file');
    return m.readNiftiFile(path);
  },
  async writeNiftiFile(path, volume, opts) {
    const m = await import('../nifti/nifti-file');
    return m.writeNiftiFile(path, volume, opts);
  },
  async readImageFile(path) {
    const m = await import('../io/image-file');
    return m.readImageFile(path);
  },
  async writeImageFile(path, volume) {
    const m = await import('../io/image-file');
    return m.writeImageFile(path, volume);
  },
};
