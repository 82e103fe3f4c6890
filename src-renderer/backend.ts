/**
 * The loading store's backend built on the typed IPC client (src-renderer/api): the same
 * code runs in Electron and in the browser host. Volumes arrive as one ArrayBuffer + a JSON
 * header and are wrapped without a copy (LatticeApi.loadSeries → fromWireVolume).
 * NIfTI files (typed or dropped) are listed as one-item "series" and opened with image.open.
 */
import type { LatticeApi } from './api';
import type { ScanResult } from '../src-shared/ipc/contract';
import { isImageFilePath } from '../src-shared/image/file-formats';
import type { FolderListing, LoaderBackend, SeriesSummary } from './stores/loading';

/** Image files (NIfTI, NRRD, MHA, PNG, …) open with image.open; anything else is scanned as DICOM. */
const NIFTI = { test: isImageFilePath };

function niftiItem(path: string): SeriesSummary {
  const name = path.split(/[\\/]/).pop() ?? path;
  return { id: path, scanId: '', kind: 'nifti', path, description: name, modality: '', dims: [], slices: 0, warnings: [], folder: path };
}

/** RT structure sets found by the scan: listed after the images, loadable onto a matching CT. */
function structureSetSummaries(r: ScanResult, folder: string): SeriesSummary[] {
  return (r.structureSets ?? []).map((s) => ({
    id: s.file,
    scanId: r.scanId,
    kind: 'rtstruct' as const,
    path: s.file,
    description: `${s.label}: ${s.rois.map((x) => x.name).join(', ') || 'no ROIs'}`,
    modality: 'RTSTRUCT',
    dims: [],
    slices: 0,
    warnings: [],
    folder,
    detail: `${s.file} · ${s.rois.length} ROIs · references series ${s.referencedSeriesUids.join(', ') || '—'}`,
    references: { series: s.referencedSeriesUids, frameOfReference: s.frameOfReferenceUids },
  }));
}

function toSummaries(r: ScanResult, folder: string): SeriesSummary[] {
  return [...imageSummaries(r, folder), ...structureSetSummaries(r, folder)];
}

function imageSummaries(r: ScanResult, folder: string): SeriesSummary[] {
  return r.series.map((s) => ({
    id: s.id,
    scanId: r.scanId,
    kind: 'dicom' as const,
    description: s.description || `Series ${s.seriesNumber ?? ''}`.trim(),
    modality: s.modality,
    dims: s.frames > 1 ? [...s.dims, s.frames] : [...s.dims],
    slices: s.dims[2],
    warnings: s.warnings,
    seriesNumber: s.seriesNumber ?? undefined,
    folder,
    detail: `${s.spacing.map((x) => +x.toFixed(3)).join(' × ')} mm, ${s.orientation}, ${s.fileCount} files${s.patientName ? `, ${s.patientName}` : ''}`,
  }));
}

export function createIpcBackend(api: LatticeApi): LoaderBackend {
  async function scanPaths(paths: string[], label: string, onProgress?: (fraction: number, message?: string) => void): Promise<SeriesSummary[]> {
    // An Analyze pair (.hdr + .img) is one image: list it once, by its header.
    const nifti = paths.filter((p) => NIFTI.test(p) && !(/\.img$/i.test(p) && paths.some((q) => q.toLowerCase() === p.toLowerCase().replace(/\.img$/, '.hdr'))));
    const others = paths.filter((p) => !NIFTI.test(p));
    const list = nifti.map(niftiItem);
    if (others.length) {
      const r = await api.scanDicom(others, onProgress ? { onProgress: (f, m) => onProgress(f ?? 0, m) } : {});
      list.push(...toSummaries(r, label));
      if (!list.length && r.problems.length) {
        const p = r.problems.slice(0, 3).map((x) => `${x.file}: ${x.problem}`);
        throw new Error(`No image series found in ${label}. ${p.join('; ')}${r.problems.length > 3 ? ` (and ${r.problems.length - 3} more)` : ''}`);
      }
    }
    return list;
  }

  return {
    scanFolder: (path, onProgress) => scanPaths([path], path, onProgress),

    scanDropped(dt, onProgress) {
      // pathsFromDrop must start synchronously inside the drop handler (the browser empties
      // the DataTransfer afterwards): no await before it.
      const dropped = api.pathsFromDrop(dt, { onProgress: (f, m) => onProgress?.(f ?? 0, m) });
      return dropped.then((items) => {
        if (!items.length) throw new Error('Nothing that can be opened was dropped.');
        const label = items.length === 1 ? items[0].name : `${items.length} dropped items`;
        return scanPaths(
          items.map((i) => i.path),
          label,
          onProgress,
        );
      });
    },

    async loadSeries(series, onProgress, signal) {
      const opts = { onProgress: (f: number | null, m: string) => onProgress(f ?? 0, m), signal };
      const r =
        series.kind === 'nifti' ? await api.openImage(series.path ?? series.id, opts) : await api.loadSeries(series.scanId, series.id, opts);
      const modality = String(r.volume.metadata.Modality ?? series.modality ?? '');
      return { volume: r.volume, modality, name: r.header.name || series.description, warnings: r.warnings, hostId: r.header.id };
    },

    async release(hostIds) {
      await api.releaseVolumes(hostIds);
    },

    async listFolder(path): Promise<FolderListing> {
      const r = await api.listFolder(path || undefined);
      return {
        path: r.path,
        parent: r.parent,
        entries: r.entries
          .filter((e) => e.kind !== 'other')
          .map((e) => ({ name: e.name, path: e.path, isDirectory: e.kind === 'folder', hint: e.hint })),
        places: r.places,
      };
    },

    async pickFolderNatively() {
      const info = await api.info();
      if (!info.nativeDialogs) return undefined;
      const paths = await api.openDialog('dicom-folder');
      return paths[0] ?? null;
    },

    async recentFolders() {
      return (await api.recent()).map((e) => e.path);
    },

    async addRecentFolder(path) {
      await api.addRecent(path, NIFTI.test(path) ? 'image' : 'dicom-folder');
    },
  };
}
