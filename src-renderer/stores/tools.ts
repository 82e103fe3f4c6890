/**
 * The Tools panel's state: one form per processing operation, the job in progress (progress,
 * cancel, error), the live threshold preview, the crop box drawn in the views and an undo stack.
 *
 * All processing runs as a job on the host (LatticeApi.startJob with the host-side volume ids:
 * the job runner's utility processes / worker threads), never on the UI thread. Two things
 * are computed here because they are display, not processing: the threshold PREVIEW (a uint8
 * 0/1 volume by the same rule, in slabs across tasks) and the crop box; both are shown through
 * the layer model's preview layer. The applied threshold runs as a job.
 *
 * Parameters are checked with the same zod schemas the host applies (processingJobParams), so
 * a bad value is reported before any job starts.
 *
 * Results become new layers with short names ("Threshold > 60", "Dilate (ball r2)"; the images
 * store makes them unique: "Threshold > 60 2") and their full provenance ("Dilate (ball r2) of
 * Threshold > 60 of CT", tooltips and the Info tab): masks as label
 * overlays, images as additional images; a masked image is shown in the main image's place and
 * follows the side panel's window/level. Undo removes the layers the last operation added (and
 * restores any it replaced). Layers go through a small `LayerSink` (default: the images store's
 * layer API: addLayer / removeLayer / setPreviewLayer / hostVolumeId / setShown), so this store
 * never owns a layer model.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, reactive, ref, shallowRef, watch } from 'vue';
import type { Vec3, Volume } from '../../src-shared/image/volume';
import type { ProcessingJobKind, ProcessingJobParams } from '../../src-shared/processing/jobs';
import { processingJobParams } from '../../src-shared/processing/jobs';
import { realRange } from '../../src-shared/processing/volume-utils';
import { worldBoxToVoxelBox } from '../../src-shared/processing/crop';
import { radiusFromMm } from '../../src-shared/processing/morphology';
import { indexToWorld, nearestVoxelIndex } from '../rendering/slice-geometry';
import { layerTitle, useImagesStore, type ImageRole } from './images';
import { useViewStore } from './view';

// ---------- what the store needs from the outside ----------

export interface ToolsJob {
  /** Resolves with the new volumes' host ids and names, rejects on failure or cancel. */
  done: Promise<{ volumes: { id: string; name?: string }[]; result?: Record<string, unknown> }>;
  cancel(): Promise<void>;
}

/** The host: starts jobs on held volumes and hands back their results' voxels. */
export interface ToolsBackend {
  startJob(kind: string, args: Record<string, unknown>, inputs: string[], onProgress: (fraction: number | null, message: string) => void): Promise<ToolsJob>;
  getVolume(hostId: string): Promise<Volume>;
}

/** A layer as the tools see it. */
export interface ToolLayer {
  id: string;
  name: string;
  role: ImageRole;
  volume: Volume;
  hostId?: string;
  isLabel?: boolean;
  /** How it was made ("Threshold > 60 of CT"); absent for a loaded image. */
  provenance?: string;
}

/** Full provenance of a layer: how it was made, else its name. */
export const provenanceOf = (l: ToolLayer) => l.provenance || l.name;

export interface NewLayer {
  role: 'additional' | 'overlay';
  name: string;
  hostId: string;
  isLabel: boolean;
  colormap?: string;
  opacity?: number;
  provenance?: string;
}

/** Where results go (the layer model of the layers issue, or the images store). */
export interface LayerSink {
  list(): ToolLayer[];
  add(volume: Volume, opts: NewLayer): string;
  remove(id: string): void;
  /** Re-adds a layer that an operation replaced (undo). */
  restore(layer: ToolLayer): string;
  /** Live preview overlay (null hides it). */
  setPreview(volume: Volume | null, look: { colormap: string; opacity: number }): void;
  /** The host's id of a layer's volume (uploading it once when it was made in the renderer). */
  hostId(id: string): Promise<string>;
  /** Shows an image layer in the views in place of the main image, with the main's contrast. */
  show(id: string): void;
}

/**
 * The layer model of the images store (layers issue: addLayer / removeLayer / setPreviewLayer /
 * hostVolumeId) as the tools' sink.
 */
export function imagesStoreSink(): LayerSink {
  const images = useImagesStore();
  /** Layers shown in the main image's place that follow its window/level. */
  const following = new Set<string>();
  let stopFollow: (() => void) | null = null;
  const sink: LayerSink = {
    list: () => images.images.map((i) => ({ id: i.id, name: layerTitle(i), role: i.role, volume: i.volume, hostId: i.hostId, isLabel: i.isLabel, provenance: i.provenance })),
    add(volume, o) {
      const main = images.main;
      const id = images.addLayer(volume, {
        role: o.role,
        name: o.name,
        hostId: o.hostId,
        isLabel: o.isLabel,
        source: o.name,
        ...(o.provenance ? { provenance: o.provenance } : {}),
        ...(o.colormap ? { colormap: o.colormap } : {}),
        ...(o.opacity !== undefined ? { opacity: o.opacity } : {}),
        ...(o.isLabel ? { modality: 'SEG', units: '' } : { modality: main?.modality ?? '', units: main?.units }),
      });
      return id;
    },
    remove: (id) => images.removeLayer(id),
    restore: (l) => images.addLayer(l.volume, { role: l.role === 'main' ? 'additional' : l.role, name: l.name, hostId: l.hostId, isLabel: l.isLabel }),
    setPreview: (v, look) => images.setPreviewLayer(v, { ...look, isLabel: true }),
    hostId: (id) => images.hostVolumeId(id),
    show(id) {
      const main = images.main;
      if (main) {
        const [w, l] = images.contrastOf(main.id);
        images.updateLayer(id, { window: w, level: l });
      }
      images.setShown(id);
      following.add(id);
      followMainContrast();
    },
  };
  return sink;
  /**
   * A result shown in the main image's place (the masked image) takes the main image's
   * window/level whenever it changes: the side panel's window/level then acts on the picture
   * the user is looking at, and the masked background stays black while the rest follows.
   */
  function followMainContrast() {
    if (stopFollow) return;
    stopFollow = watch(
      // A string, so that only a change of the numbers (not of the layer list) calls back.
      () => (images.main ? images.contrastOf(images.main.id).join(' ') : ''),
      (key) => {
        if (!key) return;
        const [w, l] = key.split(' ').map(Number);
        for (const id of [...following]) {
          const layer = images.layer(id);
          if (!layer) following.delete(id);
          else if (layer.window !== w || layer.level !== l) images.updateLayer(id, { window: w, level: l });
        }
      },
    );
  }
}

// ---------- operations ----------

export type OperationId = 'threshold' | 'otsu' | 'mask' | 'morphology' | 'fillHoles' | 'largestComponent' | 'combine' | 'crop' | 'align' | 'resample';

export interface UndoEntry {
  label: string;
  added: string[];
  replaced: ToolLayer[];
}

export type WriteChoice = 'one' | 'zero' | 'image' | 'value';

/**
 * Colour maps of result masks (0 is transparent for label layers; 1 takes the map's top
 * colour): red for a threshold and its preview, green for masks derived from a mask,
 * magenta for combinations.
 */
export const MASK_COLOURS = { threshold: 'bwr', derived: 'winter', combined: 'cool' } as const;

const fmt = (x: number) => String(+x.toFixed(4));

/** "Threshold > 60", "Threshold 60 … 200" from the form (the layer name says what was done). */
export function thresholdLabel(f: { lower: number | null; upper: number | null; lowerInclusive: boolean; relative: boolean }): string {
  const u = f.relative ? ' (rel.)' : '';
  if (f.lower !== null && f.upper !== null) return `Threshold ${fmt(f.lower)} … ${fmt(f.upper)}${u}`;
  if (f.lower !== null) return `Threshold ${f.lowerInclusive ? '≥' : '>'} ${fmt(f.lower)}${u}`;
  if (f.upper !== null) return `Threshold ≤ ${fmt(f.upper)}${u}`;
  return 'Threshold';
}

/** The validated job parameters of a kind (the same zod schema the host applies). */
export function jobParams<K extends ProcessingJobKind>(kind: K, p: ProcessingJobParams<K>): Record<string, unknown> {
  const r = processingJobParams[kind].safeParse(p);
  if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join('.') || 'parameters'}: ${i.message}`).join('; '));
  return p as Record<string, unknown>;
}

/** Real minimum per volume (the mask form shows it on every render). */
const minimumCache = new WeakMap<Volume, number>();

interface PreviewBounds {
  lo: number;
  hi: number;
  li: boolean;
  ui: boolean;
}

type ThresholdForm = { lower: number | null; upper: number | null; lowerInclusive: boolean; upperInclusive: boolean; relative: boolean };

function previewBounds(vol: Volume, f: ThresholdForm): PreviewBounds {
  let lo = f.lower ?? -Infinity;
  let hi = f.upper ?? Infinity;
  if (f.relative) {
    const [mn, mx] = realRange(vol);
    if (f.lower !== null) lo = mn + f.lower * (mx - mn);
    if (f.upper !== null) hi = mn + f.upper * (mx - mn);
  }
  return { lo, hi, li: f.lowerInclusive, ui: f.upperInclusive };
}

function previewRange(vol: Volume, b: PreviewBounds, dst: Uint8Array, from: number, to: number) {
  const s = vol.rescaleSlope || 1;
  const c = vol.rescaleIntercept || 0;
  const d = vol.data;
  const { lo, hi, li, ui } = b;
  for (let i = from; i < to; i++) {
    const v = d[i] * s + c;
    dst[i] = (li ? v >= lo : v > lo) && (ui ? v <= hi : v < hi) ? 1 : 0;
  }
}

/** Real-valued threshold test on a whole volume → 0/1 bytes (the preview's rule; reuses `out`). */
export function previewMask(vol: Volume, f: ThresholdForm, out?: Uint8Array): Uint8Array {
  const n = vol.dims[0] * vol.dims[1] * vol.dims[2];
  const dst = out && out.length === n ? out : new Uint8Array(n);
  previewRange(vol, previewBounds(vol, f), dst, 0, n);
  return dst;
}

/** Voxel box [start, end] (inclusive) of two world corners in an image. */
export function voxelBoxOf(vol: Volume, a: Vec3, b: Vec3): { start: Vec3; end: Vec3 } {
  const ia = nearestVoxelIndex(vol, a);
  const ib = nearestVoxelIndex(vol, b);
  const clamp = (x: number, ax: number) => Math.min(vol.dims[ax] - 1, Math.max(0, x));
  return {
    start: [0, 1, 2].map((ax) => clamp(Math.min(ia[ax], ib[ax]), ax)) as Vec3,
    end: [0, 1, 2].map((ax) => clamp(Math.max(ia[ax], ib[ax]), ax)) as Vec3,
  };
}

export const useToolsStore = defineStore('tools', () => {
  const images = useImagesStore();
  const view = useViewStore();
  let backend: ToolsBackend | null = null;
  let sink: LayerSink | null = null;

  function setBackend(b: ToolsBackend) {
    backend = b;
  }
  function setLayerSink(s: LayerSink) {
    sink = s;
  }
  function layersSink(): LayerSink {
    return (sink ??= imagesStoreSink());
  }

  /** Layers to choose inputs from (refreshes with the images store). */
  const layers = computed<ToolLayer[]>(() => {
    void images.images; // dependency for the default sink
    void revision.value;
    return layersSink().list();
  });
  /** Bumped by an external layer model on change (notifyLayersChanged). */
  const revision = ref(0);
  function notifyLayersChanged() {
    revision.value++;
  }
  const masks = computed(() => layers.value.filter((l) => l.isLabel));

  const forms = reactive({
    threshold: { source: '', lower: 60 as number | null, upper: null as number | null, lowerInclusive: false, upperInclusive: true, relative: false, inside: 'one' as WriteChoice, insideValue: 1, outside: 'zero' as WriteChoice, outsideValue: 0, preview: true },
    otsu: { source: '', bins: 256 },
    mask: { image: '', mask: '', backgroundMode: 'minimum' as 'minimum' | 'value', background: 0 },
    morphology: { source: '', operation: 'dilate' as 'dilate' | 'erode' | 'open' | 'close', shape: 'ball' as 'ball' | 'box', radius: 1, radiusUnits: 'voxels' as 'voxels' | 'mm', iterations: 1 },
    fillHoles: { source: '', sliceWise: false },
    largestComponent: { source: '', connectivity: 6 as 6 | 18 | 26 },
    combine: { a: '', b: '', operation: 'union' as 'union' | 'intersection' | 'difference' | 'xor' },
    crop: { source: '', units: 'voxels' as 'voxels' | 'mm', start: [0, 0, 0] as Vec3, end: [0, 0, 0] as Vec3 },
    align: { moving: '', fixed: '', mode: 'geometry' as 'geometry' | 'mass' },
    resample: { source: '', reference: '', interpolation: 'linear' as 'linear' | 'nearest', fill: 0 },
  });

  // Default inputs: the main image for image inputs, the newest mask for mask inputs.
  watch(
    layers,
    (ls) => {
      const ids = new Set(ls.map((l) => l.id));
      const main = ls.find((l) => l.role === 'main')?.id ?? ls[0]?.id ?? '';
      const lastMask = [...ls].reverse().find((l) => l.isLabel)?.id ?? '';
      const prevMask = [...ls].reverse().filter((l) => l.isLabel)[1]?.id ?? '';
      const f = forms;
      const fix = (cur: string, dflt: string) => (cur && ids.has(cur) ? cur : dflt);
      f.threshold.source = fix(f.threshold.source, main);
      f.otsu.source = fix(f.otsu.source, main);
      f.mask.image = fix(f.mask.image, main);
      f.mask.mask = fix(f.mask.mask, lastMask);
      f.morphology.source = fix(f.morphology.source, lastMask);
      f.fillHoles.source = fix(f.fillHoles.source, lastMask);
      f.largestComponent.source = fix(f.largestComponent.source, lastMask);
      f.combine.a = fix(f.combine.a, prevMask || lastMask);
      f.combine.b = fix(f.combine.b, lastMask);
      f.crop.source = fix(f.crop.source, main);
      f.align.moving = fix(f.align.moving, ls.find((l) => l.role !== 'main')?.id ?? '');
      f.align.fixed = fix(f.align.fixed, main);
      f.resample.source = fix(f.resample.source, ls.find((l) => l.role !== 'main')?.id ?? '');
      f.resample.reference = fix(f.resample.reference, main);
    },
    { immediate: true, flush: 'sync' },
  );

  // A new crop source starts with its whole box (then narrowed by the user).
  watch(
    () => forms.crop.source,
    () => {
      if (forms.crop.source && layersSink().list().some((l) => l.id === forms.crop.source)) cropWholeImage();
    },
    { immediate: true, flush: 'sync' },
  );
  // Switching units converts the corners (voxel centres ↔ LPS mm), it does not reset them.
  watch(
    () => forms.crop.units,
    (units, before) => {
      const src = layersSink().list().find((l) => l.id === forms.crop.source);
      if (!src || units === before) return;
      const v = src.volume;
      const conv = (p: Vec3): Vec3 => (units === 'mm' ? indexToWorld(v, p) : voxelBoxOf(v, p, p).start);
      forms.crop.start = conv(forms.crop.start);
      forms.crop.end = conv(forms.crop.end);
    },
    { flush: 'sync' },
  );

  // Newest mask of a new operation becomes the default of the mask inputs.
  function preferMask(id: string) {
    forms.mask.mask = id;
    forms.morphology.source = id;
    forms.fillHoles.source = id;
    forms.largestComponent.source = id;
    forms.combine.a = forms.combine.b && forms.combine.b !== id ? forms.combine.b : forms.combine.a;
    forms.combine.b = id;
  }

  // ---------- job state ----------
  const running = ref<{ label: string; fraction: number | null; message: string } | null>(null);
  const error = ref<string | null>(null);
  /** Short note on the last result (e.g. "Otsu threshold 412.5"). */
  const lastNote = ref<string | null>(null);
  const undoStack = shallowRef<UndoEntry[]>([]);
  let current: ToolsJob | null = null;
  let cancelled = false;

  const canUndo = computed(() => undoStack.value.length > 0 && !running.value);

  function layer(id: string): ToolLayer {
    const l = layersSink().list().find((x) => x.id === id);
    if (!l) throw new Error('Choose the input layer(s) first.');
    return l;
  }

  /** A mask input: a label layer (dilating a CT "as a mask" would silently binarise it). */
  function maskLayer(id: string, what: string): ToolLayer {
    const l = layer(id);
    if (!l.isLabel) throw new Error(`${what}: ${l.name} is not a mask (label image). Choose a mask, or mark the layer as a label image in the Layer Inspector.`);
    return l;
  }

  async function hostIdOf(l: ToolLayer): Promise<string> {
    if (l.hostId) return l.hostId;
    // Made in the renderer (e.g. drawn): the host needs a copy to run jobs on it.
    need();
    return layersSink().hostId(l.id);
  }

  function need(): ToolsBackend {
    if (!backend) throw new Error('No connection to the Lattice host.');
    return backend;
  }

  interface Output {
    name: string;
    role: 'additional' | 'overlay';
    isLabel: boolean;
    colormap?: string;
    opacity?: number;
    provenance?: string;
  }

  /**
   * Runs one operation as a host job and adds its outputs as layers. Returns the new layer ids
   * (empty on failure or cancel; the message is in `error`).
   */
  async function run(label: string, kind: ProcessingJobKind | `analysis.${string}`, params: Record<string, unknown>, inputs: ToolLayer[], outputs: Output[], note?: (r: Record<string, unknown> | undefined) => string | null): Promise<string[]> {
    if (running.value) return [];
    error.value = null;
    lastNote.value = null;
    cancelled = false;
    running.value = { label, fraction: 0, message: 'Starting…' };
    const added: string[] = [];
    const session = mainId();
    try {
      const ids = await Promise.all(inputs.map(hostIdOf));
      current = await need().startJob(kind, params, ids, (fraction, message) => {
        if (running.value) running.value = { label, fraction, message };
      });
      const r = await current.done;
      // Another main image was loaded meanwhile: the result belongs to a closed session.
      if (mainId() !== session) throw new Error('another main image was loaded while it ran; the result was dropped');
      running.value = { label, fraction: 1, message: 'Fetching the result…' };
      const vols = await Promise.all(r.volumes.map((v) => need().getVolume(v.id)));
      vols.forEach((vol, i) => {
        const o = outputs[i] ?? outputs[outputs.length - 1];
        added.push(layersSink().add(vol, { ...o, hostId: r.volumes[i].id }));
      });
      notifyLayersChanged();
      // An operation that only measures (no layers) leaves nothing to undo.
      if (added.length) undoStack.value = [...undoStack.value, { label, added, replaced: [] }];
      lastNote.value = note?.(r.result) ?? null;
      return added;
    } catch (e) {
      error.value = cancelled ? `${label}: cancelled.` : `${label} failed: ${e instanceof Error ? e.message : String(e)}`;
      return [];
    } finally {
      current = null;
      running.value = null;
    }
  }

  function mainId(): string | null {
    return layersSink().list().find((l) => l.role === 'main')?.id ?? null;
  }

  // A new main image starts a new session: the old results and their undo entries are gone.
  watch(
    () => images.main?.id ?? null,
    () => {
      undoStack.value = [];
      lastNote.value = null;
      error.value = null;
    },
  );

  async function cancel() {
    if (!current) return;
    cancelled = true;
    await current.cancel().catch(() => undefined);
  }

  function undo(): UndoEntry | null {
    if (running.value) return null;
    const e = undoStack.value[undoStack.value.length - 1];
    if (!e) return null;
    undoStack.value = undoStack.value.slice(0, -1);
    const s = layersSink();
    const present = new Set(s.list().map((l) => l.id));
    for (const id of e.added) if (present.has(id)) s.remove(id);
    for (const l of e.replaced) s.restore(l);
    notifyLayersChanged();
    lastNote.value = `Undone: ${e.label}`;
    error.value = null;
    return e;
  }

  // ---------- operations ----------

  const write = (c: WriteChoice, v: number): number | 'image' => (c === 'one' ? 1 : c === 'zero' ? 0 : c === 'image' ? 'image' : v);

  function thresholdParamsFromForm() {
    const f = forms.threshold;
    return jobParams('processing.threshold', {
      ...(f.lower !== null ? { lower: f.lower, lowerInclusive: f.lowerInclusive } : {}),
      ...(f.upper !== null ? { upper: f.upper, upperInclusive: f.upperInclusive } : {}),
      relative: f.relative,
      inside: write(f.inside, f.insideValue),
      outside: write(f.outside, f.outsideValue),
    });
  }

  async function applyThreshold() {
    const f = forms.threshold;
    const src = layer(f.source);
    const params = thresholdParamsFromForm();
    const isLabel = params.inside !== 'image' && params.outside !== 'image' && [params.inside, params.outside].every((v) => v === 0 || v === 1);
    const name = thresholdLabel(f);
    const ids = await run(thresholdLabel(f), 'processing.threshold', params, [src], [{ name, provenance: `${name} of ${provenanceOf(src)}`, role: isLabel ? 'overlay' : 'additional', isLabel, colormap: isLabel ? MASK_COLOURS.threshold : undefined, opacity: isLabel ? 0.5 : undefined }]);
    if (ids.length) {
      setPreviewEnabled(false);
      if (isLabel) preferMask(ids[0]);
    }
    return ids;
  }

  async function applyOtsu() {
    const src = layer(forms.otsu.source);
    let value: number | null = null;
    const ids = await run('Otsu threshold', 'processing.otsu', jobParams('processing.otsu', { bins: forms.otsu.bins }), [src], [{ name: 'Otsu', provenance: `Otsu of ${provenanceOf(src)}`, role: 'overlay', isLabel: true, colormap: MASK_COLOURS.threshold, opacity: 0.5 }], (r) => {
      value = typeof r?.threshold === 'number' ? r.threshold : null;
      return value === null ? null : `Otsu threshold: ${fmt(value)}`;
    });
    if (ids.length) {
      preferMask(ids[0]);
      // The threshold form takes Otsu's value, to refine from there.
      if (value !== null) Object.assign(forms.threshold, { lower: value, upper: null, lowerInclusive: false, relative: false });
    }
    return ids;
  }

  /** The real minimum of an image (the mask operation's default background). */
  function imageMinimum(id: string): number {
    const v = layer(id).volume;
    let m = minimumCache.get(v);
    if (m === undefined) minimumCache.set(v, (m = realRange(v)[0]));
    return m;
  }

  async function applyMask() {
    const f = forms.mask;
    const img = layer(f.image);
    const m = maskLayer(f.mask, 'Mask');
    const background = f.backgroundMode === 'minimum' ? imageMinimum(img.id) : f.background;
    const ids = await run('Mask', 'processing.mask', jobParams('processing.mask', { background }), [img, m], [{ name: `Masked ${img.name}`, provenance: `${provenanceOf(img)} masked by ${provenanceOf(m)}`, role: 'additional', isLabel: false }], () => `Background ${fmt(background)}`);
    // Outside the mask is drawn black under any window/level, whatever value it holds.
    for (const id of ids) images.layer(id) && images.updateLayer(id, { clip: m.volume });
    // What the user masked for: look at it (in the main image's place, same window/level).
    if (ids.length) layersSink().show(ids[0]);
    return ids;
  }

  async function applyMorphology() {
    const f = forms.morphology;
    const opName = { dilate: 'Dilate', erode: 'Erode', open: 'Open', close: 'Close' }[f.operation];
    const src = maskLayer(f.source, opName);
    // A radius in mm becomes per-axis voxel radii (anisotropic spacing: a true ball in mm).
    const radius = f.radiusUnits === 'mm' ? radiusFromMm(f.radius, src.volume.spacing) : f.radius;
    const r = f.radiusUnits === 'mm' ? `${fmt(f.radius)} mm` : `r${f.radius}`;
    const label = `${opName} (${f.shape} ${r}${f.iterations > 1 ? ` ×${f.iterations}` : ''})`;
    const ids = await run(label, 'processing.morphology', jobParams('processing.morphology', { operation: f.operation, shape: f.shape, radius, iterations: f.iterations }), [src], [
      { name: label, provenance: `${label} of ${provenanceOf(src)}`, role: 'overlay', isLabel: true, colormap: MASK_COLOURS.derived, opacity: 0.5 },
    ], () => (Array.isArray(radius) ? `Radius in voxels (i, j, k): ${radius.join(', ')}` : null));
    if (ids.length) preferMask(ids[0]);
    return ids;
  }

  async function applyFillHoles() {
    const f = forms.fillHoles;
    const src = maskLayer(f.source, 'Fill holes');
    const ids = await run('Fill holes', 'processing.fillHoles', jobParams('processing.fillHoles', { sliceWise: f.sliceWise }), [src], [{ name: 'Filled', provenance: `Filled ${provenanceOf(src)}`, role: 'overlay', isLabel: true, colormap: MASK_COLOURS.derived, opacity: 0.5 }], (r) =>
      typeof r?.filled === 'number' ? `${r.filled} voxels filled` : null,
    );
    if (ids.length) preferMask(ids[0]);
    return ids;
  }

  async function applyLargestComponent() {
    const f = forms.largestComponent;
    const src = maskLayer(f.source, 'Largest component');
    const ids = await run('Largest component', 'processing.largestComponent', jobParams('processing.largestComponent', { connectivity: f.connectivity }), [src], [
      { name: 'Largest component', provenance: `Largest component of ${provenanceOf(src)}`, role: 'overlay', isLabel: true, colormap: MASK_COLOURS.derived, opacity: 0.5 },
    ], (r) => (typeof r?.components === 'number' ? `${r.components} components; kept ${r.voxels} voxels` : null));
    if (ids.length) preferMask(ids[0]);
    return ids;
  }

  async function applyCombine() {
    const f = forms.combine;
    const a = maskLayer(f.a, 'Combine');
    const b = maskLayer(f.b, 'Combine');
    const word = { union: 'Union', intersection: 'Intersection', difference: 'Difference', xor: 'XOR' }[f.operation];
    const ids = await run(word, 'processing.combine', jobParams('processing.combine', { operation: f.operation }), [a, b], [{ name: word, provenance: `${word} of ${provenanceOf(a)}, ${provenanceOf(b)}`, role: 'overlay', isLabel: true, colormap: MASK_COLOURS.combined, opacity: 0.5 }]);
    if (ids.length) preferMask(ids[0]);
    return ids;
  }

  /** Sets a crop corner from the 3D cursor (in the form's units). */
  function cropCornerFromCursor(which: 'start' | 'end') {
    const f = forms.crop;
    const p = view.cursorWorld;
    // Full precision: a corner on a voxel centre must keep that voxel (the field shows it rounded).
    if (f.units === 'mm') f[which] = [...p] as Vec3;
    else f[which] = nearestVoxelIndex(layer(f.source).volume, p);
  }

  // ---- drawing the crop box in a view: arm, then click-drag in any view ----
  // The views move the 3D cursor on a left click/drag; while armed, the first cursor move
  // is corner 1 and the following ones corner 2 (the box preview follows as a rubber band).
  // Axes the drag did not move (the view's normal) keep the box's previous extent.
  const drawingBox = ref(false);
  let draw: { first: Vec3 | null; before: { start: Vec3; end: Vec3 } } | null = null;

  function beginBoxDraw() {
    const f = forms.crop;
    layer(f.source);
    if (f.units === 'mm') f.units = 'voxels'; // converts the current corners
    draw = { first: null, before: { start: [...f.start] as Vec3, end: [...f.end] as Vec3 } };
    drawingBox.value = true;
    showCropBox(true);
  }

  /** Ends the drag (pointer released); returns whether a box was drawn. */
  function endBoxDraw(): boolean {
    const drew = !!draw?.first;
    if (drawingBox.value && drew) drawingBox.value = false;
    if (!drew) return false;
    draw = null;
    return true;
  }

  function cancelBoxDraw() {
    if (draw) {
      forms.crop.start = draw.before.start;
      forms.crop.end = draw.before.end;
    }
    draw = null;
    drawingBox.value = false;
  }

  watch(
    () => view.cursor,
    (c) => {
      if (!drawingBox.value || !draw) return;
      const src = layersSink().list().find((l) => l.id === forms.crop.source);
      if (!src) return;
      const ijk = nearestVoxelIndex(src.volume, view.cursorWorld);
      if (!draw.first) draw.first = ijk;
      const a = draw.first;
      const b = draw.before;
      // Same slice along an axis: keep the previous extent there.
      forms.crop.start = [0, 1, 2].map((k) => (a[k] === ijk[k] ? Math.min(b.start[k], b.end[k]) : Math.min(a[k], ijk[k]))) as Vec3;
      forms.crop.end = [0, 1, 2].map((k) => (a[k] === ijk[k] ? Math.max(b.start[k], b.end[k]) : Math.max(a[k], ijk[k]))) as Vec3;
      void c;
    },
    { flush: 'sync' },
  );

  /** Whole image as the crop box. */
  function cropWholeImage() {
    const f = forms.crop;
    const vol = layer(f.source).volume;
    if (f.units === 'voxels') {
      f.start = [0, 0, 0];
      f.end = [vol.dims[0] - 1, vol.dims[1] - 1, vol.dims[2] - 1];
    } else {
      f.start = indexToWorld(vol, [0, 0, 0]);
      f.end = indexToWorld(vol, [vol.dims[0] - 1, vol.dims[1] - 1, vol.dims[2] - 1]);
    }
  }

  async function applyCrop() {
    const f = forms.crop;
    const src = layer(f.source);
    if (f.units === 'voxels') {
      for (const [which, c] of [['Corner 1', f.start], ['Corner 2', f.end]] as const)
        for (let a = 0; a < 3; a++)
          if (!Number.isInteger(c[a]) || c[a] < 0 || c[a] >= src.volume.dims[a])
            throw new Error(`Crop: ${which} ${'ijk'[a]} = ${c[a]} is not a voxel index of ${src.name} (0 … ${src.volume.dims[a] - 1}).`);
    }
    const params =
      f.units === 'voxels'
        ? // The form's corners are inclusive voxel indices in either order (as shown in
          // ITK-SNAP); the engine's box is [start, end) per axis.
          jobParams('processing.crop', { box: { start: [0, 1, 2].map((a) => Math.min(f.start[a], f.end[a])) as Vec3, end: [0, 1, 2].map((a) => Math.max(f.start[a], f.end[a]) + 1) as Vec3 } })
        : jobParams('processing.crop', { worldBox: { a: [...f.start] as Vec3, b: [...f.end] as Vec3 } });
    return run('Crop', 'processing.crop', params, [src], [{ name: `Cropped ${src.name}`, provenance: `Cropped ${provenanceOf(src)}`, role: src.isLabel ? 'overlay' : 'additional', isLabel: !!src.isLabel, colormap: src.isLabel ? MASK_COLOURS.derived : undefined, opacity: src.isLabel ? 0.5 : undefined }], (r) => {
      const b = r?.box as { start: Vec3; end: Vec3 } | undefined;
      return b ? `Kept voxels ${b.start.join(',')} – ${b.end.map((x) => x - 1).join(',')} (inclusive)` : null;
    });
  }

  async function applyAlign() {
    const f = forms.align;
    const m = layer(f.moving);
    const fx = layer(f.fixed);
    return run('Align centres', 'processing.align', jobParams('processing.align', { mode: f.mode }), [m, fx], [{ name: `${m.name} aligned`, provenance: `${provenanceOf(m)} aligned to ${provenanceOf(fx)}`, role: m.isLabel ? 'overlay' : 'additional', isLabel: !!m.isLabel }], (r) => {
      const t = r?.translation as Vec3 | undefined;
      return t ? `Translation ${t.map((x) => x.toFixed(2)).join(', ')} mm (LPS)` : null;
    });
  }

  async function applyResample() {
    const f = forms.resample;
    const s = layer(f.source);
    const ref_ = layer(f.reference);
    return run('Resample', 'processing.resample', jobParams('processing.resample', { interpolation: f.interpolation, fill: f.fill }), [s, ref_], [
      { name: `${s.name} resampled`, provenance: `${provenanceOf(s)} on the grid of ${provenanceOf(ref_)}`, role: s.isLabel ? 'overlay' : 'additional', isLabel: !!s.isLabel },
    ]);
  }

  // ---------- live threshold preview (display only) ----------
  const previewOn = ref(false);
  let previewBuf: Uint8Array | undefined;
  let previewTimer: ReturnType<typeof setTimeout> | null = null;
  /** The preview's mask volume, for tests and for sinks that want it. */
  const previewVolume = shallowRef<Volume | null>(null);

  function setPreviewEnabled(on: boolean) {
    previewOn.value = on;
    if (on) cropBoxShown.value = false;
    updatePreview();
  }

  let previewGeneration = 0;

  /**
   * Recomputes the preview mask in slabs of ~4 M voxels per task, so a large volume never
   * blocks the page for long; a newer request abandons an older one.
   */
  function updatePreview() {
    if (previewTimer) clearTimeout(previewTimer);
    previewTimer = null;
    const gen = ++previewGeneration;
    const f = { ...forms.threshold };
    const src = layersSink().list().find((l) => l.id === f.source);
    if (!previewOn.value || !src) {
      previewVolume.value = null;
      layersSink().setPreview(null, { colormap: MASK_COLOURS.threshold, opacity: 0.4 });
      return;
    }
    const v = src.volume;
    const n = v.dims[0] * v.dims[1] * v.dims[2];
    const buf = previewBuf && previewBuf.length === n ? previewBuf : new Uint8Array(n);
    previewBuf = buf;
    const bounds = previewBounds(v, f);
    const slab = 1 << 22;
    const step = (from: number) => {
      if (gen !== previewGeneration) return;
      const to = Math.min(n, from + slab);
      previewRange(v, bounds, buf, from, to);
      if (to < n) {
        setTimeout(() => step(to), 0);
        return;
      }
      const vol: Volume = markRaw({ dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data: buf, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} });
      previewVolume.value = vol;
      layersSink().setPreview(vol, { colormap: MASK_COLOURS.threshold, opacity: 0.4 });
    };
    step(0);
  }

  /** Debounced: typing a bound recomputes at most every 60 ms. */
  function schedulePreview() {
    if (previewTimer) return;
    previewTimer = setTimeout(() => {
      previewTimer = null;
      updatePreview();
    }, 60);
  }

  watch(
    () => [forms.threshold.source, forms.threshold.lower, forms.threshold.upper, forms.threshold.lowerInclusive, forms.threshold.upperInclusive, forms.threshold.relative],
    () => {
      if (previewOn.value) schedulePreview();
    },
  );

  // ---------- crop box shown in the views (display only) ----------
  const cropBoxShown = ref(false);
  let cropTimer: ReturnType<typeof setTimeout> | null = null;

  /** The crop form's box as a voxel box [start, end) of its image, or null when it is invalid. */
  function cropVoxelBox(): { start: Vec3; end: Vec3 } | null {
    const f = forms.crop;
    const src = layersSink().list().find((l) => l.id === f.source);
    if (!src) return null;
    const v = src.volume;
    try {
      if (f.units === 'mm') return worldBoxToVoxelBox(v, f.start, f.end);
      const start = [0, 1, 2].map((a) => Math.max(0, Math.min(f.start[a], f.end[a]))) as Vec3;
      const end = [0, 1, 2].map((a) => Math.min(v.dims[a], Math.max(f.start[a], f.end[a]) + 1)) as Vec3;
      return start.every((x, a) => Number.isInteger(x) && x < end[a]) ? { start, end } : null;
    } catch {
      return null;
    }
  }

  /** Shows the crop box as a translucent overlay (the preview layer) while the crop form is open. */
  function showCropBox(on: boolean) {
    cropBoxShown.value = on;
    if (on && previewOn.value) previewOn.value = false;
    drawCropBox();
  }

  function drawCropBox() {
    if (cropTimer) clearTimeout(cropTimer);
    cropTimer = null;
    const src = layersSink().list().find((l) => l.id === forms.crop.source);
    const box = cropBoxShown.value ? cropVoxelBox() : null;
    if (!src || !box) {
      if (!previewOn.value) {
        previewVolume.value = null;
        layersSink().setPreview(null, { colormap: MASK_COLOURS.combined, opacity: 0.25 });
      }
      return;
    }
    const v = src.volume;
    const [nx, ny] = v.dims;
    const buf = new Uint8Array(nx * ny * v.dims[2]);
    for (let k = box.start[2]; k < box.end[2]; k++)
      for (let j = box.start[1]; j < box.end[1]; j++) buf.fill(1, box.start[0] + nx * (j + ny * k), box.end[0] + nx * (j + ny * k));
    const vol: Volume = markRaw({ dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data: buf, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} });
    previewVolume.value = vol;
    layersSink().setPreview(vol, { colormap: MASK_COLOURS.combined, opacity: 0.25 });
  }

  watch(
    () => [forms.crop.source, forms.crop.units, ...forms.crop.start, ...forms.crop.end],
    () => {
      if (!cropBoxShown.value || cropTimer) return;
      cropTimer = setTimeout(drawCropBox, 60);
    },
  );

  return {
    forms,
    layers,
    cropBoxShown,
    showCropBox,
    drawingBox,
    beginBoxDraw,
    endBoxDraw,
    cancelBoxDraw,
    cropVoxelBox,
    masks,
    running,
    error,
    lastNote,
    undoStack,
    canUndo,
    previewOn,
    previewVolume,
    setBackend,
    setLayerSink,
    notifyLayersChanged,
    cancel,
    undo,
    imageMinimum,
    applyThreshold,
    applyOtsu,
    applyMask,
    applyMorphology,
    applyFillHoles,
    applyLargestComponent,
    applyCombine,
    applyCrop,
    applyAlign,
    applyResample,
    cropCornerFromCursor,
    cropWholeImage,
    setPreviewEnabled,
    updatePreview,
    /** For other tool sections (stores/analysis.ts): run a job with this panel's progress, cancel, errors and undo. */
    runOperation: run,
    layerOf: layer,
  };
});

/** The store's backend on the typed IPC client. */
export function ipcToolsBackend(api: {
  startJob(kind: string, args: Record<string, unknown>, inputs: string[], opts: { onProgress?: (f: number | null, m: string) => void }): Promise<{ done: Promise<{ volumes: { id: string; name?: string }[]; result?: Record<string, unknown> }>; cancel(): Promise<void> }>;
  getVolume(id: string): Promise<{ volume: Volume }>;
}): ToolsBackend {
  return {
    startJob: (kind, args, inputs, onProgress) => api.startJob(kind, args, inputs, { onProgress }),
    getVolume: async (id) => (await api.getVolume(id)).volume,
  };
}
