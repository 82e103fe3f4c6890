/**
 * File ▸ Save workspace / Open workspace (ITK-SNAP's workspaces, Slicer's scenes): what is on
 * screen — the layers' files, roles, names, contrast, colour maps, opacity, visibility, order,
 * registration transforms, the mask that blacks out a masked image, the image shown, the
 * cursor, the 4D volume, zoom/pan, the 3D view's camera and the view options — in one small JSON file (format in
 * src-shared/workspace/workspace.ts), with paths relative to its folder.
 *
 * Saving: layers made here and never written (processing results, registration outputs) are
 * exported first, beside the workspace, as `<workspace>.<layer>.nii.gz` (atomically, by the
 * host; `<workspace>.<layer>_2.nii.gz`, … when that name is taken: an existing file is never
 * replaced), and become saved layers that later saves reuse; then the JSON is written
 * (atomically), so a workspace never names a file that is not there. Saving again to the
 * workspace the session came from replaces its JSON without asking.
 *
 * Opening: every layer's file is loaded first (the session on screen stays until then); a
 * missing or unreadable file is reported by name and skipped, the rest opens. When the main
 * image cannot be opened, the first image that can becomes the main image. Opening replaces
 * the session, so unsaved layers are asked about first (as when a new main image is opened).
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { Volume } from '../../src-shared/image/volume';
import { IpcError } from '../../src-shared/ipc/errors';
import {
  WORKSPACE_FORMAT,
  WORKSPACE_VERSION,
  baseOf,
  dirOf,
  parseWorkspace,
  relativeTo,
  resolveFrom,
  type Workspace,
  type WorkspaceInput,
  type WorkspaceLayer,
} from '../../src-shared/workspace/workspace';
import { isSavedLayer, layerTitle, useImagesStore, type LoadedImage } from './images';
import { exportFileName, useLayerUiStore, type SaveProgressFn } from './layer-ui';
import { useLoadingStore, type LoadedSeries } from './loading';
import { useViewStore } from './view';
import type { ViewName } from '../rendering/slice-geometry';

export interface WorkspaceBackend {
  readText(path: string): Promise<{ path: string; text: string }>;
  writeText(path: string, text: string, overwrite: boolean): Promise<{ path: string; bytes: number }>;
  exportVolume(hostId: string, path: string, overwrite: boolean, onProgress?: SaveProgressFn): Promise<{ path: string; bytes: number }>;
  /** Opens an image file (NIfTI…). */
  openFile(path: string): Promise<LoadedSeries>;
  /** Scans a DICOM folder and loads the series with this uid (and dims, when a uid was split). */
  openDicom(folder: string, series: { uid?: string; dims?: number[] } | undefined): Promise<LoadedSeries>;
  getSetting(key: string): Promise<unknown>;
  setSetting(key: string, value: unknown): Promise<void>;
}

const RECENT_KEY = 'workspace.recent';
/** Numbered names tried for one unsaved layer before giving up (…_2.nii.gz, …_3.nii.gz, …). */
const MAX_NAME_TRIES = 1000;
const MAX_RECENT = 10;
const VIEWS: ViewName[] = ['axial', 'coronal', 'sagittal'];
const isImageFile = (p: string) => /\.[A-Za-z0-9]+(\.gz)?$/.test(baseOf(p));

export const useWorkspaceStore = defineStore('workspace', () => {
  const images = useImagesStore();
  const view = useViewStore();
  const ui = useLayerUiStore();
  let backend: WorkspaceBackend | null = null;

  /** The dialog: 'save' / 'open' with a path field (the same in Electron and the browser). */
  const dialog = ref<'save' | 'open' | null>(null);
  const path = ref('');
  const overwrite = ref(false);
  const busy = ref<string | null>(null);
  const error = ref<string | null>(null);
  /** Files of the last opened workspace that could not be opened (one line each). */
  const problems = ref<string[]>([]);
  /** Open was asked while unsaved layers exist: waiting for "discard" or "save first". */
  const confirmDiscard = ref(false);
  const recent = ref<string[]>([]);
  /** The workspace file last saved or opened (the next Save proposes it). */
  const current = ref('');

  function need(): WorkspaceBackend {
    if (!backend) throw new Error('No connection to the Lattice host.');
    return backend;
  }
  function message(e: unknown) {
    return e instanceof Error ? e.message : String(e);
  }

  async function setBackend(b: WorkspaceBackend) {
    backend = b;
    await refreshRecent();
  }

  async function refreshRecent() {
    try {
      const v = await need().getSetting(RECENT_KEY);
      recent.value = Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, MAX_RECENT) : [];
    } catch {
      recent.value = [];
    }
  }

  async function addRecent(p: string) {
    recent.value = [p, ...recent.value.filter((x) => x !== p)].slice(0, MAX_RECENT);
    await need().setSetting(RECENT_KEY, recent.value).catch(() => undefined);
  }

  async function startSave() {
    error.value = null;
    overwrite.value = false;
    if (current.value) path.value = current.value;
    else {
      const folder = await ui.outputFolderNow();
      const name = exportFileName(images.main ? layerTitle(images.main) : 'workspace').replace(/\.nii\.gz$/, '');
      path.value = folder ? `${folder.replace(/[\\/]$/, '')}/${name}.workspace.json` : `${name}.workspace.json`;
    }
    dialog.value = 'save';
  }

  function startOpen() {
    error.value = null;
    confirmDiscard.value = false;
    if (!path.value) path.value = current.value || recent.value[0] || ui.outputFolder;
    dialog.value = 'open';
  }

  /** Where a layer's file is, for the workspace; null when it was made here and is not saved. */
  function fileOf(l: LoadedImage): { file: string; kind: WorkspaceLayer['kind']; series?: WorkspaceLayer['series'] } | null {
    if (!isSavedLayer(l)) return null;
    if (isImageFile(l.source)) return { file: l.source, kind: 'file' };
    const uid = l.volume.metadata.SeriesInstanceUID;
    return { file: l.source, kind: 'dicom', series: { ...(typeof uid === 'string' && uid ? { uid } : {}), dims: [...l.volume.dims] } };
  }

  /** Saves the session to `target` (.json). Returns true when written. */
  async function save(target = path.value, replace = overwrite.value): Promise<boolean> {
    const b = need();
    error.value = null;
    const p = target.trim();
    try {
      if (!images.main) throw new Error('Open an image first: an empty session is not a workspace.');
      if (!/\.json$/i.test(p)) throw new Error('The workspace file name must end in .json.');
      if (!/^([A-Za-z]:)?[\\/]/.test(p)) throw new Error('Give the full path of the workspace file (e.g. /home/me/study.workspace.json).');
      const dir = dirOf(p);
      const base = baseOf(p).replace(/\.json$/i, '').replace(/\.workspace$/i, '');
      busy.value = 'Saving…';
      // Layers made here: written beside the workspace first, each under a name of its own
      // that is neither the file of an open layer nor any file already there (a re-save, or
      // another session saved to the same workspace): nothing written before is replaced,
      // so no workspace's layer loses its data. Layers saved before keep their file.
      const norm = (f: string) => f.replace(/[\\/]+/g, '/');
      const taken = new Set(images.images.filter(isSavedLayer).map((l) => norm(l.source)));
      for (const l of images.images) {
        if (fileOf(l)) continue;
        const hostId = await images.hostVolumeId(l.id);
        for (let n = 1; ; n++) {
          const name = `${base}.${exportFileName(n === 1 ? layerTitle(l) : `${layerTitle(l)} ${n}`)}`;
          const file = `${dir}/${name}`;
          if (taken.has(norm(file))) continue;
          busy.value = `Writing ${name}…`;
          try {
            const r = await ui.trackSave(`Writing ${name}…`, (onProgress) => b.exportVolume(hostId, file, false, onProgress));
            taken.add(norm(r.path));
            images.updateLayer(l.id, { source: r.path });
            break;
          } catch (e) {
            if (!(e instanceof IpcError && e.code === 'exists') || n >= MAX_NAME_TRIES) throw e;
          }
        }
      }
      const list = images.images;
      const cam3d = view.camera3d();
      const ws: WorkspaceInput = {
        format: WORKSPACE_FORMAT,
        version: WORKSPACE_VERSION,
        layers: list.map((l) => {
          const f = fileOf(l)!;
          const [window, level] = images.contrastOf(l.id);
          const clip = l.clip ? list.findIndex((x) => x.volume === l.clip) : -1;
          return {
            file: relativeTo(dir, f.file),
            kind: f.kind,
            ...(f.series ? { series: f.series } : {}),
            role: l.role,
            name: l.name,
            nickname: l.nickname,
            colormap: l.colormap,
            opacity: l.opacity,
            visible: l.visible,
            window,
            level,
            isLabel: l.isLabel,
            ...(l.worldTransform ? { worldTransform: [...l.worldTransform] } : {}),
            ...(clip >= 0 ? { clipLayer: clip } : {}),
            ...(l.provenance ? { provenance: l.provenance } : {}),
            ...(l.equalize ? { equalize: l.equalize } : {}),
          };
        }),
        shownLayer: images.shown && images.shown.role !== 'main' ? list.findIndex((x) => x.id === images.shown!.id) : null,
        cursor: [...view.cursor] as [number, number, number],
        frame: view.frame,
        cameras: Object.fromEntries(VIEWS.map((v) => [v, { ...view.cameras[v] }])),
        ...(cam3d ? { camera3d: cam3d } : {}),
        layout: { convention: view.convention, showCrosshair: view.showCrosshair, linkContrast: images.linkContrast },
      };
      busy.value = 'Writing the workspace…';
      // Saving again the workspace this session came from (or was saved to) replaces it.
      const r = await b.writeText(p, JSON.stringify(ws, null, 1) + '\n', replace || (!!current.value && norm(current.value) === norm(p)));
      current.value = r.path;
      ui.wroteTo(r.path);
      await addRecent(r.path);
      ui.notify(`Saved workspace ${r.path}`);
      dialog.value = null;
      return true;
    } catch (e) {
      error.value = message(e);
      return false;
    } finally {
      busy.value = null;
    }
  }

  async function loadLayer(l: WorkspaceLayer, abs: string): Promise<LoadedSeries> {
    const b = need();
    return l.kind === 'dicom' ? b.openDicom(abs, l.series) : b.openFile(abs);
  }

  /**
   * Opens a workspace (replacing the session). With unsaved layers on screen it asks first
   * (confirmDiscard) unless `discard`. Returns true when something was opened.
   */
  async function open(target = path.value, discard = false): Promise<boolean> {
    const b = need();
    error.value = null;
    problems.value = [];
    const p = target.trim();
    if (!discard && useLoadingStore().unsavedLayers().length) {
      path.value = p;
      confirmDiscard.value = true;
      dialog.value = 'open';
      return false;
    }
    confirmDiscard.value = false;
    try {
      busy.value = 'Reading the workspace…';
      const r = await b.readText(p);
      const ws: Workspace = parseWorkspace(r.text, r.path);
      const dir = dirOf(r.path);
      const loaded: (LoadedSeries | null)[] = [];
      const missing: string[] = [];
      for (const [i, l] of ws.layers.entries()) {
        const abs = resolveFrom(dir, l.file);
        busy.value = `Opening ${l.nickname || l.name} (${i + 1} of ${ws.layers.length})…`;
        try {
          loaded.push(await loadLayer(l, abs));
        } catch (e) {
          loaded.push(null);
          missing.push(`${l.nickname || l.name} (${abs}): ${message(e)}`);
        }
      }
      let mainAt = loaded[0] ? 0 : ws.layers.findIndex((l, i) => loaded[i] && l.role !== 'overlay');
      if (mainAt < 0) throw new Error(`${r.path}: none of its images could be opened.\n${missing.join('\n')}`);
      if (mainAt > 0) missing.push(`The main image is missing: ${ws.layers[mainAt].nickname || ws.layers[mainAt].name} is shown as the main image instead.`);
      // Replace the session.
      images.setLinkContrast(false);
      const ids: (string | null)[] = ws.layers.map(() => null);
      const order = [mainAt, ...ws.layers.map((_, i) => i).filter((i) => i !== mainAt)];
      for (const i of order) {
        const s = loaded[i];
        if (!s) continue;
        const l = ws.layers[i];
        const role = i === mainAt ? 'main' : l.role === 'main' ? 'additional' : l.role;
        const abs = resolveFrom(dir, l.file);
        const img = images.add({
          name: l.name,
          role,
          volume: s.volume,
          modality: s.modality,
          source: abs,
          hostId: s.hostId,
          warnings: s.warnings ?? [],
          nickname: l.nickname,
          colormap: l.colormap,
          opacity: l.opacity,
          visible: l.visible,
          isLabel: l.isLabel,
          ...(role !== 'main' ? { window: l.window, level: l.level } : {}),
          ...(l.worldTransform ? { worldTransform: l.worldTransform } : {}),
          ...(l.provenance ? { provenance: l.provenance } : {}),
          ...(l.equalize ? { equalize: l.equalize } : {}),
        });
        ids[i] = img.id;
        if (role === 'main') images.setContrast(img.id, l.window, l.level);
      }
      ws.layers.forEach((l, i) => {
        const id = ids[i];
        const c = l.clipLayer;
        if (!id || c === undefined) return;
        const clip = ids[c] ? images.layer(ids[c]!)?.volume : undefined;
        if (clip) images.updateLayer(id, { clip: clip as Volume });
      });
      const shown = ws.shownLayer !== null ? ids[ws.shownLayer] : null;
      images.setShown(shown && ws.shownLayer !== mainAt ? shown : null);
      if (ws.layout.convention) view.convention = ws.layout.convention;
      if (ws.layout.showCrosshair !== undefined) view.showCrosshair = ws.layout.showCrosshair;
      if (ws.cursor) view.setCursorIndex(ws.cursor);
      view.setFrame(ws.frame);
      for (const v of VIEWS) if (ws.cameras[v]) Object.assign(view.cameras[v], ws.cameras[v]);
      // Applied by the 3D view once this session's image is in its scene (which resets it).
      view.restoreCamera3d(ws.camera3d ?? null);
      if (ws.layout.linkContrast) images.linkContrast = true;
      problems.value = missing;
      current.value = r.path;
      path.value = r.path;
      await addRecent(r.path);
      ui.notify(`Opened workspace ${r.path}${missing.length ? ` (${missing.length} problem${missing.length > 1 ? 's' : ''})` : ''}`);
      // Keep the dialog open to show what could not be opened.
      dialog.value = missing.length ? 'open' : null;
      return true;
    } catch (e) {
      error.value = message(e);
      dialog.value = 'open';
      return false;
    } finally {
      busy.value = null;
    }
  }

  return { dialog, path, overwrite, busy, error, problems, confirmDiscard, recent, current, setBackend, refreshRecent, startSave, startOpen, save, open };
});
