/**
 * DICOM reading for Lattice (main-process side).
 *
 *   const scan = await scanDicom(['/path/to/folder']);
 *   const { volume, warnings } = await loadDicomSeries(scan, scan.series[0].id);
 *
 * scanDicom reads headers only; loadDicomSeries reads and decodes the pixels of one
 * series into a Volume in natural DICOM order (i along columns, j along rows, k along
 * the sorted slice normal; LPS geometry). See convert.ts for DICOM → NIfTI.
 */
import type { Volume } from '../../src-shared/image/volume';
import type { DicomScan } from './types';
import { scanDicom, scanState, type ScanOptions } from './scan';
import { assembleVolume, type LoadOptions } from './assemble';
import type { VolumeGroup } from './split';
import { viewerResampled } from './resampled-outputs';

export type { DicomScan, DicomSeriesSummary, FileProblem } from './types';
export { scanDicom, type ScanOptions };
export type { LoadOptions };

/** The internal volume group behind a series id (rescans when the scan came over IPC). */
export async function seriesGroup(scan: DicomScan, seriesId: string): Promise<VolumeGroup> {
  let state = scanState(scan);
  if (!state) {
    const inputs = (scan as DicomScan & { inputs?: string[] }).inputs;
    if (!inputs) throw new Error('this scan result carries no internal state; scan again');
    state = scanState(await scanDicom(inputs));
  }
  const g = state?.groups.get(seriesId);
  if (!g) throw new Error(`no series with id '${seriesId}' in this scan`);
  return g;
}

/**
 * The viewer's load: the series as stored, except that a stack with uneven slice spacing
 * comes back resampled to equal spacing (with a warning), so that every slice shown is
 * where the scanner put it (NIfTI-like grids cannot place uneven slices).
 */
export async function loadDicomSeries(scan: DicomScan, seriesId: string, opts: LoadOptions = {}): Promise<{ volume: Volume; warnings: string[] }> {
  const group = await seriesGroup(scan, seriesId);
  const loaded = await assembleVolume(group, opts);
  const even = await viewerResampled(group, loaded.volume, opts.signal);
  return even ? { volume: even.volume, warnings: [...loaded.warnings, even.warning] } : loaded;
}
