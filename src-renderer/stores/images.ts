/**
 * Loaded images = the layers of the viewer (VolView style: one store per concern).
 *
 * LAYER API (used by the viewer, the layer inspector and the processing tools):
 *
 *   const images = useImagesStore();
 *   const id = images.addLayer(volume, { role: 'overlay', name: 'Threshold', colormap: 'hot',
 *                                        opacity: 0.5, isLabel: true });   // → layer id
 *   images.updateLayer(id, { nickname, visible, opacity, colormap, window, level, isLabel, role, equalize });
 *   images.removeLayer(id);                    // removing the main image clears everything
 *   images.moveLayer(id, -1 | +1);             // reorder (overlays draw in list order)
 *   images.setShown(id | null);                // which of main/additional images the views show
 *   images.setPreviewLayer(volume | null, { colormap?, opacity?, isLabel?, window?, level? });
 *       // a live preview overlay drawn on top of everything, NOT in the layer list
 *   await images.hostVolumeId(id);             // the host's id of the layer's volume (uploads it
 *                                              // once with volume.put when it was made here),
 *                                              // for job inputs and export
 *   images.layer(id) / images.images / images.main / images.overlays / images.shown
 *   images.updateLayer(id, { worldTransform: m | undefined });   // registration transform
 *       // row-major 4×4 LPS, PULL-BACK: maps display (fixed/main) world points to the layer's
 *       // own world points (the engine's and resampleToGeometry's worldTransform convention);
 *       // applied when the layer is sampled on a plane and in the cursor inspector.
 *
 * Roles: the main image defines the display grid and the cursor; 'additional' images are
 * shown one at a time in its place (thumbnails in each view's corner switch them); overlays
 * are drawn semi-transparently over whatever is shown. Every non-main layer is resampled in
 * WORLD space onto the displayed plane (trilinear; nearest for label images), so different
 * grids, spacings and orientations line up.
 *
 * Contrast: window/level are real values (stored·slope + intercept). The main image's live in
 * the window-level store (its presets and drag); `contrastOf(id)` / `setContrast(id, w, l)`
 * give one entry point for any layer, and honour "link contrast across layers".
 *
 * Volumes are wrapped in markRaw: the voxel array must never become a Vue proxy. Layer
 * records are immutable: every change replaces the record (the list is a shallowRef).
 */
import { defineStore } from 'pinia';
import { markRaw, shallowRef, computed, ref } from 'vue';
import type { Mat4, Volume } from '../../src-shared/image/volume';
import { percentileRange } from '../rendering/slice-extract';

export type ImageRole = 'main' | 'additional' | 'overlay';

/** How a layer is drawn. */
export interface LayerLook {
  /** Colour map id (see ../colormaps): 'grayscale', 'hot', 'jet:inv', 'custom:Name', … */
  colormap: string;
  /** 0..1 (overlays are blended with it; a shown image ignores it). */
  opacity: number;
  /** Window and level in real values. */
  window: number;
  level: number;
  /** Label/mask image: nearest-neighbour sampling and value 0 drawn transparent. */
  isLabel: boolean;
}

export interface LoadedImage extends LayerLook {
  id: string;
  name: string;
  /** User-given name (shown instead of `name` when set). */
  nickname: string;
  role: ImageRole;
  visible: boolean;
  volume: Volume;
  modality: string;
  /** Unit of the real values shown in the status bar (e.g. "HU" for CT), '' when unknown. */
  units: string;
  /** Where it came from (folder or file path), for the recent list and the title bar. */
  source: string;
  /** Id of the copy the main process / host keeps (to release it, or to run jobs on it). */
  hostId?: string;
  /** Registration transform (pull-back: display world → this layer's world); absent = identity. */
  worldTransform?: Mat4;
  /** How it was made, in full ("Dilate (ball r2) of Threshold > 60 of CT"): tooltips and the Info tab. */
  provenance?: string;
  /** Warnings of its loading (shown while it is the image in view). */
  warnings?: string[];
  /**
   * A mask on the same grid (a masked image's mask): where it is 0 the layer is drawn black
   * under any window/level, whatever value is stored there. Display only.
   */
  clip?: Volume;
  /**
   * Histogram equalisation of the display (Contrast tab; stores/display-equalize.ts): it
   * replaces window/level while set. Absent = off. Display only.
   */
  equalize?: 'global' | 'adaptive';
}

export interface PreviewLayer extends LayerLook {
  volume: Volume;
}

export interface AddLayerOptions extends Partial<LayerLook> {
  role: ImageRole;
  name: string;
  nickname?: string;
  modality?: string;
  source?: string;
  hostId?: string;
  units?: string;
  visible?: boolean;
  provenance?: string;
  warnings?: string[];
  clip?: Volume;
  equalize?: 'global' | 'adaptive';
}

export type LayerPatch = Partial<Pick<LoadedImage, 'nickname' | 'visible' | 'opacity' | 'colormap' | 'window' | 'level' | 'isLabel' | 'role' | 'worldTransform' | 'source' | 'clip' | 'hostId' | 'equalize'>>;

/** `name`, or `name 2`, `name 3`… so that no two layers share a title. */
export function uniqueName(name: string, taken: Iterable<string>): string {
  const set = new Set(taken);
  if (!set.has(name)) return name;
  let n = 2;
  while (set.has(`${name} ${n}`)) n++;
  return `${name} ${n}`;
}

/** True when a layer is one of the user's files (loaded from, or written to, an absolute path). */
export function isSavedLayer(l: Pick<LoadedImage, 'source'>): boolean {
  return /^([A-Za-z]:)?[\\/]/.test(l.source);
}

export function unitsFor(modality: string, metadata: Volume['metadata']): string {
  const m = modality.toUpperCase();
  if (m === 'CT') return 'HU';
  const u = metadata.RescaleType ?? metadata.Units;
  if (typeof u === 'string' && u && u.toUpperCase() !== 'US') return u;
  return '';
}

/** Integer images with few distinct values (≤ 32 in a sample) are taken for label maps. */
export function looksLikeLabels(v: Volume): boolean {
  if (v.voxelType === 'float32' || v.voxelType === 'float64') return false;
  if (v.components && v.components > 1) return false; // colour: drawn as it is
  const n = v.dims[0] * v.dims[1] * v.dims[2];
  const stride = Math.max(1, Math.floor(n / 200_000));
  const seen = new Set<number>();
  for (let i = 0; i < n; i += stride) {
    seen.add(v.data[i]);
    if (seen.size > 32) return false;
  }
  return true;
}

/** Default look of a new layer: CT abdomen window for CT, percentiles otherwise; labels: 0..max in HSV (distinct hues; 0 is drawn transparent), overlays Hot at 50 %. */
export function defaultLook(v: Volume, modality: string, role: ImageRole, isLabel?: boolean): LayerLook {
  const label = isLabel ?? (role !== 'main' && looksLikeLabels(v));
  let window: number;
  let level: number;
  if (label) {
    let max = 1;
    const n = v.dims[0] * v.dims[1] * v.dims[2];
    for (let i = 0; i < n; i++) if (v.data[i] > max) max = v.data[i];
    const hi = max * v.rescaleSlope + v.rescaleIntercept;
    const lo = v.rescaleIntercept;
    window = Math.max(hi - lo, 1e-6);
    level = (hi + lo) / 2;
  } else if (modality.toUpperCase() === 'CT') {
    window = 400;
    level = 40;
  } else {
    const [lo, hi] = percentileRange(v);
    window = Math.max(hi - lo, 1e-6);
    level = (lo + hi) / 2;
  }
  return { colormap: role === 'overlay' ? (label ? 'hsv' : 'hot') : 'grayscale', opacity: role === 'overlay' ? 0.5 : 1, window, level, isLabel: label };
}

let nextId = 1;

export const useImagesStore = defineStore('images', () => {
  const images = shallowRef<LoadedImage[]>([]);
  const preview = shallowRef<PreviewLayer | null>(null);
  /** Id of the main/additional image the views show (null = the main image). */
  const shownId = ref<string | null>(null);
  /** Link window/level across layers (MeVisLab SynchroView2D's synchLUTs). */
  const linkContrast = ref(false);
  /** Called with the images that were dropped (replaced or removed), to free their host copies. */
  let onRemoved: (gone: LoadedImage[]) => void = () => undefined;
  function setOnRemoved(fn: (gone: LoadedImage[]) => void) {
    onRemoved = fn;
  }
  /** Uploads a volume made in the renderer to the host; returns its host id (set by main.ts). */
  let uploader: ((v: Volume, name: string) => Promise<string>) | null = null;
  function setHostUploader(fn: (v: Volume, name: string) => Promise<string>) {
    uploader = fn;
  }
  /** Main-image contrast hooks, set by the window-level store (which owns the main's W/L). */
  let mainContrast: { get(): [number, number]; set(w: number, l: number): void } | null = null;
  function bindMainContrast(c: typeof mainContrast) {
    mainContrast = c;
  }

  const main = computed(() => images.value.find((i) => i.role === 'main') ?? null);
  const hasImage = computed(() => main.value !== null);
  const overlays = computed(() => images.value.filter((i) => i.role === 'overlay'));
  /** Images that can be shown in the views (main first). */
  const showable = computed(() => images.value.filter((i) => i.role !== 'overlay'));
  const shown = computed(() => images.value.find((i) => i.id === shownId.value && i.role !== 'overlay') ?? main.value);

  function layer(id: string): LoadedImage | undefined {
    return images.value.find((i) => i.id === id);
  }

  function add(input: Omit<LoadedImage, 'id' | 'units' | 'volume' | keyof LayerLook | 'nickname' | 'visible'> & { volume: Volume; units?: string } & Partial<LayerLook> & { nickname?: string; visible?: boolean }): LoadedImage {
    const look = defaultLook(input.volume, input.modality, input.role, input.isLabel);
    const img: LoadedImage = {
      ...look,
      nickname: '',
      visible: true,
      ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
      id: `img${nextId++}`,
      volume: markRaw(input.volume),
      units: input.units ?? unitsFor(input.modality, input.volume.metadata),
      ...(input.clip ? { clip: markRaw(input.clip) } : {}),
    } as LoadedImage;
    // Names are unique (demons runs, repeated operations): "Warped", "Warped 2"…
    if (img.role !== 'main') img.name = uniqueName(img.name, images.value.map(layerTitle));
    if (img.role === 'main') {
      // A new main image replaces the whole session (ITK-SNAP: "load as main image").
      const gone = images.value;
      images.value = [img];
      shownId.value = null;
      preview.value = null;
      if (gone.length) onRemoved(gone);
    } else {
      if (!main.value) throw new Error('Load a main image before adding another image or an overlay.');
      images.value = [...images.value, img];
      if (linkContrast.value && mainContrast) {
        const [w, l] = mainContrast.get();
        images.value = images.value.map((i) => (i.id === img.id ? { ...i, window: w, level: l } : i));
      }
    }
    return layer(img.id)!;
  }

  /** Adds a layer; returns its id. */
  function addLayer(volume: Volume, o: AddLayerOptions): string {
    return add({ ...o, volume, modality: o.modality ?? String(volume.metadata.Modality ?? ''), source: o.source ?? '' }).id;
  }

  function remove(id: string) {
    const img = layer(id);
    if (!img) return;
    const gone = img.role === 'main' ? images.value : [img];
    images.value = img.role === 'main' ? [] : images.value.filter((i) => i.id !== id);
    if (img.role === 'main') preview.value = null;
    if (shownId.value === id || img.role === 'main') shownId.value = null;
    onRemoved(gone);
  }
  const removeLayer = remove;

  function updateLayer(id: string, patch: LayerPatch) {
    const img = layer(id);
    if (!img) throw new Error(`No layer ${id}`);
    if (patch.role && patch.role !== img.role && (patch.role === 'main' || img.role === 'main')) {
      throw new Error('The main image defines the display grid: load another image as main instead of changing roles.');
    }
    const clean: LayerPatch = { ...patch };
    if (clean.opacity !== undefined) clean.opacity = Math.min(1, Math.max(0, clean.opacity));
    if (clean.window !== undefined) clean.window = Math.max(1e-6, clean.window);
    if (clean.window !== undefined || clean.level !== undefined) {
      const w = clean.window ?? contrastOf(id)[0];
      const l = clean.level ?? contrastOf(id)[1];
      delete clean.window;
      delete clean.level;
      setContrast(id, w, l);
    }
    images.value = images.value.map((i) => (i.id === id ? { ...i, ...clean } : i));
    if (patch.role === 'overlay' && shownId.value === id) shownId.value = null;
  }

  function moveLayer(id: string, delta: number) {
    const list = [...images.value];
    const from = list.findIndex((i) => i.id === id);
    if (from < 0) return;
    // The main image stays first.
    const to = Math.min(list.length - 1, Math.max(1, from + delta));
    if (list[from].role === 'main' || to === from) return;
    const [x] = list.splice(from, 1);
    list.splice(to, 0, x);
    images.value = list;
  }

  function setShown(id: string | null) {
    const img = id ? layer(id) : null;
    if (id && (!img || img.role === 'overlay')) throw new Error(`Layer ${id} is not an image that can be shown`);
    shownId.value = img && img.role !== 'main' ? img.id : null;
  }

  /** Window/level of any layer (real values). */
  function contrastOf(id: string): [number, number] {
    const img = layer(id);
    if (!img) throw new Error(`No layer ${id}`);
    if (img.role === 'main' && mainContrast) return mainContrast.get();
    return [img.window, img.level];
  }

  /** Sets a layer's window/level; with linkContrast, every layer gets the same. */
  function setContrast(id: string, window: number, level: number, fromMainStore = false) {
    const w = Math.max(1e-6, window);
    const targets = linkContrast.value ? images.value.map((i) => i.id) : [id];
    for (const t of targets) {
      const img = layer(t);
      if (!img) continue;
      if (img.role === 'main') {
        if (!fromMainStore) mainContrast?.set(w, level);
      }
    }
    images.value = images.value.map((i) => (targets.includes(i.id) ? { ...i, window: w, level } : i));
  }

  function setLinkContrast(on: boolean) {
    linkContrast.value = on;
    if (on && main.value && mainContrast) {
      const [w, l] = mainContrast.get();
      setContrast(main.value.id, w, l, true);
    }
  }

  function setPreviewLayer(volume: Volume | null, look: Partial<LayerLook> = {}) {
    if (!volume) {
      preview.value = null;
      return;
    }
    const base = defaultLook(volume, '', 'overlay', look.isLabel);
    preview.value = { ...base, ...look, volume: markRaw(volume) };
  }

  /** The host's id of a layer's volume; a volume made in the renderer is uploaded once. */
  async function hostVolumeId(id: string): Promise<string> {
    const img = layer(id);
    if (!img) throw new Error(`No layer ${id}`);
    if (img.hostId) return img.hostId;
    if (!uploader) throw new Error('No connection to the Lattice host.');
    const hostId = await uploader(img.volume, img.nickname || img.name);
    images.value = images.value.map((i) => (i.id === id ? { ...i, hostId } : i));
    return hostId;
  }

  function clear() {
    const gone = images.value;
    images.value = [];
    shownId.value = null;
    preview.value = null;
    if (gone.length) onRemoved(gone);
  }

  return {
    images,
    main,
    hasImage,
    overlays,
    showable,
    shown,
    shownId,
    preview,
    linkContrast,
    layer,
    add,
    addLayer,
    remove,
    removeLayer,
    updateLayer,
    moveLayer,
    setShown,
    contrastOf,
    setContrast,
    setLinkContrast,
    setPreviewLayer,
    hostVolumeId,
    clear,
    setOnRemoved,
    setHostUploader,
    bindMainContrast,
  };
});

/** Display name of a layer. */
export function layerTitle(l: Pick<LoadedImage, 'nickname' | 'name'>): string {
  return l.nickname || l.name;
}
