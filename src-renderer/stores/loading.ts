/**
 * The loading flow and its dialogs: open a folder → list of series → pick one → (ask how to
 * load it when an image is already open) → progress → views. The store talks to the host
 * through a small `LoaderBackend` (see ../backend.ts for the one built on the IPC client), so
 * that it can be unit-tested with a fake backend.
 */
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { Volume } from '../../src-shared/image/volume';
import { type ImageRole, isSavedLayer, useImagesStore } from './images';

export interface SeriesSummary {
  /** Opaque id the backend understands for loadSeries (with scanId). */
  id: string;
  /** Id of the scan that found it (the host forgets series between scans). */
  scanId: string;
  /** A DICOM series, a NIfTI file opened directly (then `path` is the file), or an RT structure set (path = its file). */
  kind?: 'dicom' | 'nifti' | 'rtstruct';
  /** RT structure sets: what they reference (to match the loaded image). */
  references?: { series: string[]; frameOfReference: string[] };
  path?: string;
  description: string;
  modality: string;
  /** Columns, rows, slices (and volumes for 4D). */
  dims: number[];
  slices: number;
  warnings: string[];
  seriesNumber?: number | string;
  /** Folder the series was found in. */
  folder: string;
  /** E.g. "512×512×3, 0.7×0.7×5 mm, axial". */
  detail?: string;
}

export interface FolderEntry {
  name: string;
  path: string;
  isDirectory: boolean;
  /** 'nifti' / 'dicom' / 'dicomdir' when the name suggests it. */
  hint?: string;
}

export interface FolderListing {
  path: string;
  parent: string | null;
  entries: FolderEntry[];
  /** Good starting points (home, roots, sample data). */
  places: { name: string; path: string }[];
}

export interface LoadedSeries {
  volume: Volume;
  modality: string;
  name: string;
  warnings?: string[];
  /** Id of the host's copy. */
  hostId?: string;
}

export interface LoaderBackend {
  /** Finds the series in a folder (recursively). */
  scanFolder(path: string, onProgress?: (fraction: number, message?: string) => void): Promise<SeriesSummary[]>;
  /**
   * Finds the series in files or folders dropped on the window. Must read the DataTransfer
   * synchronously (before its first await): browsers empty it when the drop handler returns.
   */
  scanDropped(items: DataTransfer, onProgress?: (fraction: number, message?: string) => void): Promise<SeriesSummary[]>;
  /** Loads one series; `onProgress` gets a fraction in [0, 1]; aborting `signal` cancels on the host too. */
  loadSeries(series: SeriesSummary, onProgress: (fraction: number, message?: string) => void, signal?: AbortSignal): Promise<LoadedSeries>;
  /** Lets the host free its copies of volumes the viewer no longer shows. */
  release(hostIds: string[]): Promise<void>;
  listFolder(path: string): Promise<FolderListing>;
  /**
   * The operating system's folder picker where there is one (Electron): the chosen path, or
   * null when the user cancelled; undefined where there is none (browser host: use listFolder).
   */
  pickFolderNatively?(): Promise<string | null | undefined>;
  recentFolders(): Promise<string[]>;
  addRecentFolder(path: string): Promise<void>;
}

export type LoadingPhase = 'idle' | 'scanning' | 'choose' | 'ask-role' | 'confirm-discard' | 'loading';

export const useLoadingStore = defineStore('loading', () => {
  const images = useImagesStore();
  let backend: LoaderBackend | null = null;

  const dialogOpen = ref(false);
  const phase = ref<LoadingPhase>('idle');
  const folder = ref('');
  const series = shallowRef<SeriesSummary[]>([]);
  const pending = shallowRef<SeriesSummary | null>(null);
  const progress = ref(0);
  const progressText = ref('');
  const error = ref<string | null>(null);
  const recent = ref<string[]>([]);
  /** Warnings of the last load (shown in the side panel). */
  const warnings = ref<string[]>([]);
  const listing = shallowRef<FolderListing | null>(null);
  /** performance.now() when the last series was picked, and when it was in the images store. */
  const pickedAt = ref(0);
  const loadedAt = ref(0);

  let abort: AbortController | null = null;
  /** Loads an RT structure set onto the main image (set by the segmentation store's panel). */
  let structureSetLoader: ((s: SeriesSummary) => Promise<boolean>) | null = null;
  function setStructureSetLoader(fn: (s: SeriesSummary) => Promise<boolean>) {
    structureSetLoader = fn;
  }

  function setBackend(b: LoaderBackend) {
    backend = b;
    images.setOnRemoved((gone) => {
      const ids = gone.map((g) => g.hostId).filter((x): x is string => !!x);
      if (ids.length) void b.release(ids).catch(() => undefined);
    });
  }

  /** Cancels the load in progress (the host stops reading too). */
  function cancelLoad() {
    abort?.abort();
  }

  function need(): LoaderBackend {
    if (!backend) throw new Error('No connection to the Lattice host.');
    return backend;
  }

  function message(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
  }

  function openDialog() {
    dialogOpen.value = true;
    error.value = null;
    if (phase.value !== 'loading') phase.value = series.value.length ? 'choose' : 'idle';
    void refreshRecent();
  }

  function closeDialog() {
    if (phase.value === 'loading') return; // the progress bar stays until the load ends
    dialogOpen.value = false;
    phase.value = 'idle';
    pending.value = null;
  }

  async function refreshRecent() {
    try {
      recent.value = await need().recentFolders();
    } catch {
      recent.value = [];
    }
  }

  async function browse(path: string) {
    error.value = null;
    try {
      listing.value = await need().listFolder(path);
    } catch (e) {
      error.value = message(e);
    }
  }

  /**
   * "Browse…": the native folder picker in Electron (then scans what was picked); returns
   * false where there is none, so the dialog shows the host's folder browser instead.
   */
  async function browseNative(): Promise<boolean> {
    const b = need();
    if (!b.pickFolderNatively) return false;
    let picked: string | null | undefined;
    try {
      picked = await b.pickFolderNatively();
    } catch (e) {
      error.value = message(e);
      return true;
    }
    if (picked === undefined) return false;
    if (picked) await scanFolder(picked);
    return true;
  }

  async function handleScan(where: string, run: () => Promise<SeriesSummary[]>) {
    dialogOpen.value = true;
    progress.value = 0;
    error.value = null;
    phase.value = 'scanning';
    folder.value = where;
    series.value = [];
    try {
      const found = await run();
      series.value = found;
      phase.value = 'choose';
      if (!found.length) error.value = `No DICOM image series found in ${where}.`;
    } catch (e) {
      phase.value = 'idle';
      error.value = message(e);
    }
  }

  async function scanFolder(path: string) {
    const p = path.trim();
    if (!p) {
      error.value = 'Type a folder path first.';
      return;
    }
    progressText.value = `Scanning ${p}…`;
    await handleScan(p, async () => {
      const found = await need().scanFolder(p, (f, m) => {
        progress.value = f;
        if (m) progressText.value = m;
      });
      void need()
        .addRecentFolder(p)
        .then(refreshRecent)
        .catch(() => undefined);
      return found;
    });
  }

  /** Called from the drop handler; the backend reads `items` before this first awaits. */
  async function scanDropped(items: DataTransfer) {
    progressText.value = 'Reading dropped files…';
    await handleScan('dropped files', () =>
      need().scanDropped(items, (f, m) => {
        progress.value = f;
        if (m) progressText.value = m;
      }),
    );
  }

  /** The user picked a series: ask how to load it if an image is open, else load as main. */
  async function pick(s: SeriesSummary) {
    if (s.kind === 'rtstruct') {
      // Structures are not an image: they open as label layers onto the loaded CT.
      if (!images.main) {
        error.value = 'An RT structure set opens onto its CT: load the CT first, then pick the structure set.';
        return;
      }
      if (!structureSetLoader) return;
      error.value = null;
      phase.value = 'loading';
      progressText.value = `Loading ${s.description}…`;
      const ok = await structureSetLoader(s).catch((e) => {
        error.value = message(e);
        return false;
      });
      phase.value = 'choose';
      if (ok) dialogOpen.value = false;
      return;
    }
    pickedAt.value = performance.now();
    pending.value = s;
    if (images.hasImage) {
      phase.value = 'ask-role';
      return;
    }
    await load('main');
  }

  /** Layers made in this session and not written to a file (lost when a new main image replaces them). */
  function unsavedLayers() {
    return images.images.filter((l) => l.role !== 'main' && !isSavedLayer(l));
  }

  /**
   * Loads the picked series. A new MAIN image replaces every layer: when some were made here
   * and never saved, the dialog asks first (phase 'confirm-discard'); `discard` confirms.
   */
  async function load(role: ImageRole, discard = false) {
    const s = pending.value;
    if (!s) return;
    if (role === 'main' && !discard && unsavedLayers().length) {
      phase.value = 'confirm-discard';
      return;
    }
    phase.value = 'loading';
    progress.value = 0;
    progressText.value = `Loading ${s.description || 'series'}…`;
    error.value = null;
    const ctl = (abort = new AbortController());
    try {
      const r = await need().loadSeries(
        s,
        (f, m) => {
          progress.value = Math.max(0, Math.min(1, f));
          if (m) progressText.value = m;
        },
        ctl.signal,
      );
      if (ctl.signal.aborted) throw new Error('Loading was cancelled.');
      images.add({ name: r.name, role, volume: r.volume, modality: r.modality, source: s.folder, hostId: r.hostId, warnings: r.warnings ?? [] });
      warnings.value = r.warnings ?? [];
      loadedAt.value = performance.now();
      progress.value = 1;
      phase.value = 'idle';
      pending.value = null;
      dialogOpen.value = false;
    } catch (e) {
      phase.value = 'choose';
      error.value = ctl.signal.aborted ? 'Loading was cancelled.' : message(e);
    } finally {
      if (abort === ctl) abort = null;
    }
  }

  return {
    dialogOpen,
    phase,
    folder,
    series,
    pending,
    progress,
    progressText,
    error,
    recent,
    warnings,
    listing,
    pickedAt,
    loadedAt,
    setBackend,
    openDialog,
    closeDialog,
    refreshRecent,
    browse,
    browseNative,
    scanFolder,
    scanDropped,
    pick,
    load,
    unsavedLayers,
    cancelLoad,
    setStructureSetLoader,
  };
});
