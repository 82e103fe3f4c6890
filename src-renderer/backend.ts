/**
 * The loading store's backend built on the typed IPC client (src-renderer/api): the same
 * code runs in Electron and in the browser host. Volumes arrive as one ArrayBuffer + a JSON
 * header and are wrapped without a copy (fromWireVolume).
 */
import type { Args, Channel, EventName, Events, Result } from '../src-shared/ipc/contract';
import { fromWireVolume } from '../src-shared/ipc/volume-wire';
import type { FolderListing, LoaderBackend, SeriesSummary } from './stores/loading';

/** What this file needs from the IPC client. */
export interface IpcClient {
  invoke<C extends Channel>(channel: C, args: Args<C>): Promise<Result<C>>;
  on<E extends EventName>(event: E, handler: (payload: Events[E]) => void): () => void;
}

let taskCounter = 0;
const newTask = () => `viewer-${Date.now().toString(36)}-${taskCounter++}`;

/** Reads every file of a drop, folders included (webkitGetAsEntry), with relative paths. */
async function collectDroppedFiles(dt: DataTransfer): Promise<{ relativePath: string; file: File }[]> {
  const out: { relativePath: string; file: File }[] = [];
  const entries: FileSystemEntry[] = [];
  for (const item of Array.from(dt.items ?? [])) {
    const e = item.kind === 'file' ? item.webkitGetAsEntry?.() : null;
    if (e) entries.push(e);
  }
  if (!entries.length) {
    for (const f of Array.from(dt.files)) out.push({ relativePath: f.name, file: f });
    return out;
  }
  const walk = async (e: FileSystemEntry, prefix: string): Promise<void> => {
    if (e.isFile) {
      const file = await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej));
      out.push({ relativePath: prefix + e.name, file });
    } else if (e.isDirectory) {
      const reader = (e as FileSystemDirectoryEntry).createReader();
      // readEntries returns at most ~100 entries per call: read until empty.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const c of batch) await walk(c, `${prefix}${e.name}/`);
      }
    }
  };
  for (const e of entries) await walk(e, '');
  return out;
}

export function createIpcBackend(api: IpcClient): LoaderBackend {
  const toSummaries = (r: Result<'dicom.scan'>, folder: string): SeriesSummary[] =>
    r.series.map((s) => ({
      id: s.id,
      scanId: r.scanId,
      description: s.description || `Series ${s.seriesNumber ?? ''}`.trim(),
      modality: s.modality,
      dims: s.frames > 1 ? [...s.dims, s.frames] : [...s.dims],
      slices: s.dims[2],
      warnings: s.warnings,
      seriesNumber: s.seriesNumber ?? undefined,
      folder,
      detail: `${s.spacing.map((x) => +x.toFixed(2)).join('×')} mm, ${s.orientation}, ${s.fileCount} files`,
    }));

  async function scanPaths(paths: string[], label: string): Promise<SeriesSummary[]> {
    const r = await api.invoke('dicom.scan', { paths });
    const list = toSummaries(r, label);
    if (!list.length && r.problems.length) {
      const p = r.problems.slice(0, 3).map((x) => `${x.file}: ${x.problem}`);
      throw new Error(`No image series found in ${label}. ${p.join('; ')}`);
    }
    return list;
  }

  return {
    scanFolder: (path) => scanPaths([path], path),

    async scanDropped(dt) {
      const files = await collectDroppedFiles(dt);
      if (!files.length) throw new Error('Nothing to open in the dropped items.');
      const info = await api.invoke('app.info', {});
      // Upload in batches under the host's per-call limit.
      let uploadId: string | undefined;
      let dir = '';
      let batch: { relativePath: string; data: ArrayBuffer }[] = [];
      let bytes = 0;
      const flush = async () => {
        if (!batch.length) return;
        const r = await api.invoke('upload.files', { uploadId, files: batch });
        uploadId = r.uploadId;
        dir = r.dir;
        batch = [];
        bytes = 0;
      };
      for (const f of files) {
        if (bytes + f.file.size > info.maxUploadBytes) await flush();
        batch.push({ relativePath: f.relativePath, data: await f.file.arrayBuffer() });
        bytes += f.file.size;
      }
      await flush();
      return scanPaths([dir], files.length === 1 ? files[0].relativePath : `${files.length} dropped files`);
    },

    async loadSeries(series, onProgress) {
      const task = newTask();
      const off = api.on('task.progress', (p) => {
        if (p.task === task) onProgress(p.fraction ?? 0, p.message);
      });
      try {
        const r = await api.invoke('dicom.load', { scanId: series.scanId, seriesId: series.id, task });
        const volume = fromWireVolume(r.volume);
        const modality = String(volume.metadata.Modality ?? series.modality ?? '');
        return { volume, modality, name: r.volume.header.name || series.description };
      } finally {
        off();
      }
    },

    async listFolder(path): Promise<FolderListing> {
      const r = await api.invoke('fs.list', path ? { path } : {});
      return {
        path: r.path,
        parent: r.parent,
        entries: r.entries
          .filter((e) => e.kind !== 'other')
          .map((e) => ({ name: e.name, path: e.path, isDirectory: e.kind === 'folder' })),
        places: r.places,
      };
    },

    async recentFolders() {
      const r = await api.invoke('recent.list', {});
      return r.filter((e) => e.kind === 'dicom-folder').map((e) => e.path);
    },

    async addRecentFolder(path) {
      await api.invoke('recent.add', { path, kind: 'dicom-folder' });
    },
  };
}
