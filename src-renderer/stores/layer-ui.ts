/**
 * UI state around the layers: which layer the inspector edits, whether the inspector and
 * the export dialog are open, and exporting a layer to NIfTI through the host.
 *
 * Export: Electron shows the native save dialog; the browser host has none, so the dialog
 * shows a path field. The host writes to a temporary file and renames it (volume.export →
 * writeNiftiFile), refuses to replace an existing file unless asked, and we never pass a
 * layer's own source file as the target.
 *
 * The proposed path is <output folder>/<layer name>.nii.gz: the folder last written to, else
 * the backend's default (~/Documents, else home), never a DICOM series' folder; the name
 * follows the layer chosen. A written layer's `source` becomes its file (it is then saved).
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { imageFormatOf } from '../../src-shared/image/file-formats';
import { isSavedLayer, useImagesStore, layerTitle } from './images';
import { baseOf, dirOf } from '../../src-shared/workspace/workspace';

export interface ExportBackend {
  /** True where a native save dialog exists (Electron). */
  hasNativeDialogs(): Promise<boolean>;
  /** Native save dialog: the chosen path, or null when cancelled. */
  saveDialog(defaultPath: string): Promise<string | null>;
  exportVolume(hostId: string, path: string, overwrite: boolean, onProgress?: SaveProgressFn): Promise<{ path: string; bytes: number }>;
  /** Where outputs go by default: the folder last written to (remembered), else ~/Documents or home. */
  defaultFolder?(): Promise<string>;
  /** Remembers the folder of a file just written (next session's default). */
  rememberFolder?(folder: string): Promise<void>;
}

/** The host's progress of a write: fraction 0..1 (null when unknown) and its message. */
export type SaveProgressFn = (fraction: number | null, message: string) => void;

/** A write in progress, as the status area shows it. */
export interface SaveProgress {
  message: string;
  fraction: number | null;
}

/** How long a "Wrote …" message stays on screen. */
export const MESSAGE_MS = 8000;

export type InspectorTab = 'general' | 'contrast' | 'colormap' | 'info' | 'metadata';

/** A file name for a layer's export: its title, made safe, with .nii.gz. */
export function exportFileName(title: string): string {
  const base = title.replace(/[^A-Za-z0-9._ -]+/g, '_').trim().replace(/\s+/g, '_') || 'layer';
  return `${base.replace(/\.nii(\.gz)?$/i, '')}.nii.gz`;
}

export const useLayerUiStore = defineStore('layerUi', () => {
  const images = useImagesStore();
  const selectedId = ref<string | null>(null);
  const inspectorOpen = ref(false);
  const tab = ref<InspectorTab>('general');
  const exportOpen = ref(false);
  const exportPath = ref('');
  const exportMessage = ref('');
  const exportError = ref('');
  const exporting = ref(false);
  /** The write in progress (export, demons results): shown bottom right with a bar. */
  const saveProgress = ref<SaveProgress | null>(null);
  /** Folder of the last file written (export, workspace); '' until known. */
  const outputFolder = ref('');
  let backend: ExportBackend | null = null;
  let messageTimer: ReturnType<typeof setTimeout> | null = null;
  let saveSeq = 0;

  /** Shows a short message (bottom right) that goes away by itself. */
  function notify(text: string) {
    exportMessage.value = text;
    if (messageTimer) clearTimeout(messageTimer);
    messageTimer = text ? setTimeout(() => (exportMessage.value = ''), MESSAGE_MS) : null;
  }

  /** Folders of the open DICOM series: outputs never go there. */
  function isDicomFolder(folder: string): boolean {
    const norm = (s: string) => s.replace(/[\\/]+$/, '');
    return images.images.some((l) => isSavedLayer(l) && !/\.[A-Za-z0-9]+(\.gz)?$/.test(l.source) && (norm(folder) === norm(l.source) || norm(folder).startsWith(norm(l.source) + '/')));
  }

  /** The folder outputs are proposed in (see the header comment). */
  async function outputFolderNow(): Promise<string> {
    if (outputFolder.value && !isDicomFolder(outputFolder.value)) return outputFolder.value;
    const d = (await backend?.defaultFolder?.().catch(() => '')) ?? '';
    if (d && !isDicomFolder(d)) outputFolder.value = d;
    return outputFolder.value;
  }

  /** Remembers where a file was written. */
  function wroteTo(path: string) {
    const dir = dirOf(path);
    outputFolder.value = dir;
    void backend?.rememberFolder?.(dir).catch(() => undefined);
  }

  /**
   * Runs one write, showing its progress (a big .nii.gz takes seconds: the user sees how
   * far it is instead of a frozen button). One at a time is shown: the latest.
   */
  async function trackSave<T>(message: string, run: (onProgress: SaveProgressFn) => Promise<T>): Promise<T> {
    const seq = ++saveSeq;
    saveProgress.value = { message, fraction: 0 };
    try {
      return await run((fraction, msg) => {
        if (seq === saveSeq) saveProgress.value = { message: msg || message, fraction };
      });
    } finally {
      if (seq === saveSeq) saveProgress.value = null;
    }
  }

  function setExportBackend(b: ExportBackend) {
    backend = b;
  }

  function select(id: string | null) {
    selectedId.value = id;
  }

  function openInspector(id?: string, t?: InspectorTab) {
    inspectorOpen.value = true;
    if (id) selectedId.value = id;
    if (!selectedId.value || !images.layer(selectedId.value)) selectedId.value = images.main?.id ?? null;
    if (t) tab.value = t;
  }

  /** <folder>/<layer name>.nii.gz (the folder of `current` when given, else the output folder). */
  function defaultExportPath(id: string, folder = outputFolder.value): string {
    const l = images.layer(id);
    if (!l) return '';
    const sep = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
    return folder ? `${folder.replace(/[\\/]$/, '')}${sep}${exportFileName(layerTitle(l))}` : exportFileName(layerTitle(l));
  }

  /** The export dialog's layer changed: same folder, the new layer's name. */
  function exportLayerChanged(id: string) {
    const p = exportPath.value.trim();
    const folder = p && baseOf(p) !== p ? dirOf(p) : outputFolder.value;
    exportPath.value = defaultExportPath(id, folder);
  }

  /** File ▸ Export layer…: native dialog in Electron, else the dialog with a path field. */
  async function startExport(id?: string) {
    const target = id ?? selectedId.value ?? images.main?.id;
    if (!target) return;
    selectedId.value = target;
    exportError.value = '';
    notify('');
    await outputFolderNow();
    exportPath.value = defaultExportPath(target);
    if (backend && (await backend.hasNativeDialogs().catch(() => false))) {
      const p = await backend.saveDialog(exportPath.value);
      // The system dialog has already asked before replacing an existing file.
      if (p) await exportTo(target, p, true);
      return;
    }
    exportOpen.value = true;
  }

  /** Writes layer `id` to `path` (.nii / .nii.gz). Returns true when written. */
  async function exportTo(id: string, path: string, overwrite = false): Promise<boolean> {
    exportError.value = '';
    notify('');
    const l = images.layer(id);
    try {
      if (!l) throw new Error('That layer is no longer loaded.');
      const p = path.trim();
      if (!imageFormatOf(p)?.writable) throw new Error('The file name must end in .nii or .nii.gz (or .nrrd, .mha, .vtk, .mnc, .mgz; .png, .tif, .jpg, .bmp for one slice).');
      const norm = (s: string) => s.replace(/[\\/]+$/, '');
      // Never write over a file an open image was read from.
      const src = images.images.find((x) => x.source && norm(x.source) === norm(p));
      if (src) throw new Error(src.id === l.id ? `${p} is the layer's own source file; choose another name.` : `${p} is the source file of ${layerTitle(src)}; choose another name.`);
      if (!backend) throw new Error('No connection to the Lattice host.');
      exporting.value = true;
      const hostId = await images.hostVolumeId(id);
      const b = backend;
      const r = await trackSave(`Writing ${baseOf(p)}…`, (onProgress) => b.exportVolume(hostId, p, overwrite, onProgress));
      notify(`Wrote ${r.path} (${(r.bytes / 1048576).toFixed(1)} MB)`);
      wroteTo(r.path);
      // The layer is now saved in that file (a new main image no longer asks about it).
      const now = images.layer(id);
      if (now && !isSavedLayer(now)) images.updateLayer(id, { source: r.path });
      exportOpen.value = false;
      return true;
    } catch (e) {
      exportError.value = e instanceof Error ? e.message : String(e);
      return false;
    } finally {
      exporting.value = false;
    }
  }

  return {
    selectedId,
    inspectorOpen,
    tab,
    exportOpen,
    exportPath,
    exportMessage,
    exportError,
    exporting,
    saveProgress,
    trackSave,
    outputFolder,
    setExportBackend,
    notify,
    outputFolderNow,
    wroteTo,
    exportLayerChanged,
    select,
    openInspector,
    startExport,
    exportTo,
  };
});
