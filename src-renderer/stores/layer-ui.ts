/**
 * UI state around the layers: which layer the inspector edits, whether the inspector and
 * the export dialog are open, and exporting a layer to NIfTI through the host.
 *
 * Export: Electron shows the native save dialog; the browser host has none, so the dialog
 * shows a path field. The host writes to a temporary file and renames it (volume.export →
 * writeNiftiFile), refuses to replace an existing file unless asked, and we never pass a
 * layer's own source file as the target.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { imageFormatOf } from '../../src-shared/image/file-formats';
import { useImagesStore, layerTitle } from './images';

export interface ExportBackend {
  /** True where a native save dialog exists (Electron). */
  hasNativeDialogs(): Promise<boolean>;
  /** Native save dialog: the chosen path, or null when cancelled. */
  saveDialog(defaultPath: string): Promise<string | null>;
  exportVolume(hostId: string, path: string, overwrite: boolean): Promise<{ path: string; bytes: number }>;
}

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
  let backend: ExportBackend | null = null;

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

  function defaultExportPath(id: string): string {
    const l = images.layer(id);
    if (!l) return '';
    const folder = l.source && !/\.nii(\.gz)?$/i.test(l.source) ? l.source : l.source.replace(/[\\/][^\\/]*$/, '');
    const sep = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
    return folder ? `${folder.replace(/[\\/]$/, '')}${sep}${exportFileName(layerTitle(l))}` : exportFileName(layerTitle(l));
  }

  /** File ▸ Export layer…: native dialog in Electron, else the dialog with a path field. */
  async function startExport(id?: string) {
    const target = id ?? selectedId.value ?? images.main?.id;
    if (!target) return;
    selectedId.value = target;
    exportError.value = '';
    exportMessage.value = '';
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
    exportMessage.value = '';
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
      const r = await backend.exportVolume(hostId, p, overwrite);
      exportMessage.value = `Wrote ${r.path} (${(r.bytes / 1048576).toFixed(1)} MB)`;
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
    setExportBackend,
    select,
    openInspector,
    startExport,
    exportTo,
  };
});
