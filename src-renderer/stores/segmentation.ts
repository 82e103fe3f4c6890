/**
 * Segmentation (label) layers and their hand editing, ITK-SNAP style.
 *
 * A label layer is an ordinary overlay of the images store (isLabel, on the main image's grid,
 * uint16 voxels) plus what this store keeps for it: its label table (names, colours, opacity,
 * visibility), how it is drawn (filled or outlines) and its undo history. The views draw a
 * label layer through `planeLook(id)` (its LUT: value v → label v's colour) instead of a
 * colour map.
 *
 * Editing runs here, in the renderer, one stroke at a time (light work on one slice or one
 * brush ball): the pure voxel operations are src-shared/segmentation (brush, polygon, flood
 * fill, paint-over rule) and every edit is recorded as voxel runs (EditHistory) for undo/redo.
 * Heavy or file work goes to the host as jobs (src-main/segmentation/jobs.ts): RTSTRUCT
 * rasterisation, the active contour (with live previews), saving/reading label files.
 *
 * Tools (left button in a view while a label layer is being edited): brush, eraser, polygon
 * (click vertices, double-click / Enter to fill, Escape to cancel), flood fill, bubbles (seeds
 * of the active contour). Ctrl+Z / Ctrl+Shift+Z (or Ctrl+Y) undo and redo while editing.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, reactive, ref, shallowRef } from 'vue';
import type { Vec3, Volume } from '../../src-shared/image/volume';
import { copyGeometry } from '../../src-shared/processing/volume-utils';
import { EditHistory, EditRecorder, type VoxelEdit } from '../../src-shared/segmentation/edit-history';
import { paintStroke, paintVoxels, type BrushShape, type PaintOver, type SizeUnit } from '../../src-shared/segmentation/paint';
import { fillSliceVoxels, inPlaneAxes } from '../../src-shared/segmentation/polygon-fill';
import { floodRegion } from '../../src-shared/segmentation/flood-fill';
import { floodRegionOffThread } from '../segmentation/flood-fill-client';
import { pasteRoi } from '../../src-shared/segmentation/active-contour';
import { defaultLabel, defaultLabelTable, labelLut, nextFreeLabel, parseItkSnapLabels, withEntries, writeItkSnapLabels, type LabelEntry } from '../../src-shared/segmentation/label-table';
import { closestIndexAxis, viewAxes, worldToContinuousIndex, type ViewName } from '../rendering/slice-geometry';
import { layerTitle, useImagesStore } from './images';
import { useViewStore } from './view';

export type SegTool = 'navigate' | 'brush' | 'eraser' | 'polygon' | 'fill' | 'bubble';

export interface SegJob {
  done: Promise<{ volumes: { id: string; name?: string }[]; result?: Record<string, unknown> }>;
  cancel(keep?: boolean): Promise<void>;
}

/** What the store needs from the host (set in main.ts; tests pass a fake). */
export interface SegmentationBackend {
  startJob(kind: string, args: Record<string, unknown>, inputs: string[], on: { onProgress?: (f: number | null, m: string) => void; onPreview?: (p: Record<string, unknown>) => void }): Promise<SegJob>;
  getVolume(hostId: string): Promise<Volume>;
  putVolume(v: Volume, name: string): Promise<string>;
  releaseVolumes(ids: string[]): Promise<void>;
  openImage(path: string): Promise<{ volume: Volume; hostId: string }>;
  saveText(path: string, text: string, overwrite: boolean): Promise<unknown>;
}

export interface SnakePreview {
  iteration: number;
  voxels: number;
}

const sameGrid = (a: Volume, b: Volume) =>
  a.dims.every((d, i) => d === b.dims[i]) &&
  a.spacing.every((s, i) => Math.abs(s - b.spacing[i]) < 1e-4 * Math.max(1, s)) &&
  a.origin.every((o, i) => Math.abs(o - b.origin[i]) < 1e-3) &&
  a.direction.every((d, i) => Math.abs(d - b.direction[i]) < 1e-4);

export const useSegmentationStore = defineStore('segmentation', () => {
  const images = useImagesStore();
  const view = useViewStore();
  let backend: SegmentationBackend | null = null;
  function setBackend(b: SegmentationBackend) {
    backend = b;
  }
  function need(): SegmentationBackend {
    if (!backend) throw new Error('No connection to the Lattice host.');
    return backend;
  }

  /** Label table per label layer id. */
  const tables = ref<Record<string, LabelEntry[]>>({});
  /** 'outline' draws label boundaries only (ITK-SNAP's contour display). */
  const display = ref<Record<string, 'filled' | 'outline'>>({});
  /** Bumped on every voxel edit (the views resample label layers when it changes). */
  const revision = ref(0);
  /** Bumped when the tool overlay (polygon, bubbles) changes. */
  const overlayRevision = ref(0);
  const versions = new Map<string, number>();
  /** Voxels per label value, per layer (counted once, then kept up to date from each edit's runs). */
  const counts = ref<Record<string, Record<number, number>>>({});
  const histories = new Map<string, EditHistory>();
  const historyDepth = ref<[number, number]>([0, 0]);

  const activeId = ref<string | null>(null);
  const activeLabel = ref(1);
  const tool = ref<SegTool>('navigate');
  const brush = reactive({ shape: 'round' as BrushShape, size: 8, unit: 'voxel' as SizeUnit, threeD: false });
  const paintOver = reactive({ mode: 'all' as PaintOver['mode'], label: 1 });
  const fill = reactive({ threeD: false, useRange: false, lower: -1000, upper: 3000 });
  const message = ref('');
  const error = ref('');
  const busy = ref(false);

  const layers = computed(() => images.images.filter((l) => tables.value[l.id]));
  const active = computed(() => (activeId.value ? images.layer(activeId.value) ?? null : null));
  /** A label layer is being edited with a tool (mouse and Ctrl+Z belong to the segmentation). */
  const editing = computed(() => !!active.value && tool.value !== 'navigate');
  const activeTable = computed(() => (activeId.value ? tables.value[activeId.value] ?? [] : []));

  function isLabelLayer(id: string | undefined): boolean {
    return !!id && !!tables.value[id];
  }

  /** How the views draw a label layer: LUT from its table, and outline or filled. */
  function planeLook(id: string): { lut: Uint8ClampedArray; window: number; level: number; outline: boolean; version: number } | null {
    const t = tables.value[id];
    if (!t) return null;
    return { ...lutFor(id, t), outline: display.value[id] === 'outline', version: versions.get(id) ?? 0 };
  }
  const lutCache = new Map<string, { table: LabelEntry[]; lut: ReturnType<typeof labelLut> }>();
  function lutFor(id: string, t: LabelEntry[]) {
    const c = lutCache.get(id);
    if (c && c.table === t) return c.lut;
    const lut = labelLut(t, 255);
    lutCache.set(id, { table: t, lut });
    return lut;
  }

  function registerLayer(id: string, table: LabelEntry[], how: 'filled' | 'outline' = 'filled') {
    tables.value = { ...tables.value, [id]: table };
    display.value = { ...display.value, [id]: how };
    histories.set(id, new EditHistory());
    versions.set(id, 0);
    recount(id);
  }

  function recount(id: string) {
    const l = images.layer(id);
    if (!l) return;
    const c: Record<number, number> = {};
    const d = l.volume.data;
    for (let i = 0; i < d.length; i++) if (d[i] !== 0) c[d[i]] = (c[d[i]] ?? 0) + 1;
    counts.value = { ...counts.value, [id]: c };
  }

  /** Applies an edit's before → after to the counts (sign −1 for undo). */
  function countEdit(id: string, e: VoxelEdit, sign: 1 | -1) {
    const c = { ...(counts.value[id] ?? {}) };
    const from = sign === 1 ? e.before : e.after;
    const to = sign === 1 ? e.after : e.before;
    for (let k = 0; k < e.count; k++) {
      if (from[k]) c[from[k]] = (c[from[k]] ?? 0) - 1;
      if (to[k]) c[to[k]] = (c[to[k]] ?? 0) + 1;
    }
    counts.value = { ...counts.value, [id]: c };
  }

  /** Forget layers the images store no longer has. */
  function prune() {
    const ids = new Set(images.images.map((l) => l.id));
    if (Object.keys(tables.value).some((id) => !ids.has(id))) {
      tables.value = Object.fromEntries(Object.entries(tables.value).filter(([id]) => ids.has(id)));
      for (const id of [...histories.keys()]) if (!ids.has(id)) histories.delete(id);
    }
    if (activeId.value && !ids.has(activeId.value)) activeId.value = layers.value[0]?.id ?? null;
  }

  /** A new empty segmentation on the main image's grid (uint16, ITK-SNAP's labels 1…6). */
  function newLayer(name = 'Segmentation'): string {
    const main = images.main;
    if (!main) throw new Error('Load an image first.');
    const n = main.volume.dims[0] * main.volume.dims[1] * main.volume.dims[2];
    const vol: Volume = { ...copyGeometry(main.volume), data: new Uint16Array(n), voxelType: 'uint16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: { Modality: 'SEG', SeriesDescription: name } };
    return addLabelVolume(vol, name, defaultLabelTable());
  }

  function addLabelVolume(vol: Volume, name: string, table: LabelEntry[], opts: { hostId?: string; how?: 'filled' | 'outline'; activate?: boolean } = {}): string {
    const { window, level } = labelLut(table, 255);
    const id = images.addLayer(vol, { role: 'overlay', name, isLabel: true, modality: 'SEG', units: '', opacity: 0.5, window, level, colormap: 'grayscale', hostId: opts.hostId, source: name });
    registerLayer(id, table, opts.how);
    if (opts.activate !== false || !activeId.value) {
      activeId.value = id;
      activeLabel.value = table[0]?.value ?? 1;
    }
    return id;
  }

  function setActive(id: string | null) {
    activeId.value = id && tables.value[id] ? id : null;
    const t = activeTable.value;
    if (t.length && !t.some((l) => l.value === activeLabel.value)) activeLabel.value = t[0].value;
  }

  function setDisplay(id: string, how: 'filled' | 'outline') {
    display.value = { ...display.value, [id]: how };
  }

  function updateLabel(value: number, patch: Partial<Omit<LabelEntry, 'value'>>) {
    const id = activeId.value;
    if (!id) return;
    const t = tables.value[id];
    const e = t.find((l) => l.value === value) ?? defaultLabel(value);
    tables.value = { ...tables.value, [id]: withEntries(t, [{ ...e, ...patch, value }]) };
  }

  function addLabel(): number {
    const id = activeId.value;
    if (!id) throw new Error('Choose a segmentation layer first.');
    const v = nextFreeLabel(tables.value[id]);
    tables.value = { ...tables.value, [id]: withEntries(tables.value[id], [defaultLabel(v)]) };
    activeLabel.value = v;
    return v;
  }

  function removeLabel(value: number) {
    const id = activeId.value;
    if (!id) return;
    tables.value = { ...tables.value, [id]: tables.value[id].filter((l) => l.value !== value) };
  }

  function rule(): PaintOver {
    return paintOver.mode === 'label' ? { mode: 'label', label: paintOver.label } : { mode: paintOver.mode };
  }

  // ---- edits ------------------------------------------------------------------------------

  let stroke: { rec: EditRecorder; last: Vec3; label: number; axis: number } | null = null;

  function target(): { id: string; vol: Volume } {
    const l = active.value;
    if (!l) throw new Error('Choose a segmentation layer first.');
    return { id: l.id, vol: l.volume };
  }

  function sliceAxisOf(v: Volume, viewName: ViewName): number {
    return closestIndexAxis(v, viewAxes(viewName, view.convention).normal).axis;
  }

  /** Marks a layer's voxels as changed: the views resample it and a stale host copy is dropped. */
  function changed(id: string) {
    versions.set(id, (versions.get(id) ?? 0) + 1);
    revision.value++;
    const l = images.layer(id);
    if (l?.hostId) {
      const old = l.hostId;
      images.updateLayer(id, { hostId: undefined });
      void backend?.releaseVolumes([old]).catch(() => undefined);
    }
  }

  function commit(id: string, rec: EditRecorder) {
    const e = rec.finish();
    if (e) {
      histories.get(id)?.push(e);
      countEdit(id, e, 1);
    }
    historyDepth.value = histories.get(id)?.depth ?? [0, 0];
  }

  /** Left button down in a view with a tool. */
  function pointerDown(viewName: ViewName, world: Vec3, opts: { doubleClick?: boolean } = {}) {
    error.value = '';
    if (tool.value === 'bubble') return addBubble(world);
    const { id, vol } = target();
    const c = worldToContinuousIndex(vol, world);
    const axis = sliceAxisOf(vol, viewName);
    if (tool.value === 'brush' || tool.value === 'eraser') {
      const label = tool.value === 'eraser' ? 0 : activeLabel.value;
      stroke = { rec: new EditRecorder(vol.data), last: c, label, axis };
      paintStroke(stroke.rec, vol, c, c, { ...brush, sliceAxis: axis }, label, rule());
      changed(id);
      return;
    }
    if (tool.value === 'polygon') {
      if (opts.doubleClick) return closePolygon();
      if (polygon.value && polygon.value.view !== viewName) polygon.value = null;
      polygon.value = { view: viewName, points: [...(polygon.value?.points ?? []), world] };
      overlayRevision.value++;
      return;
    }
    if (tool.value === 'fill') void floodFillAt(viewName, world);
  }

  function pointerMove(world: Vec3) {
    if (!stroke) return;
    const { id, vol } = target();
    const c = worldToContinuousIndex(vol, world);
    if (paintStroke(stroke.rec, vol, stroke.last, c, { ...brush, sliceAxis: stroke.axis }, stroke.label, rule()) > 0) changed(id);
    stroke.last = c;
  }

  function pointerUp() {
    if (!stroke) return;
    const s = stroke;
    stroke = null;
    commit(target().id, s.rec);
  }

  /** Where the mouse is over a view with the brush or eraser (its footprint is drawn there). */
  const hover = shallowRef<{ view: ViewName; world: Vec3 } | null>(null);
  function setHover(viewName: ViewName | null, world?: Vec3) {
    const next = viewName && world && (tool.value === 'brush' || tool.value === 'eraser') && active.value ? { view: viewName, world } : null;
    if (!next && !hover.value) return;
    hover.value = next;
    overlayRevision.value++;
  }

  /** The brush footprint in mm along the view's screen axes (for the hover outline). */
  function brushFootprintMm(viewName: ViewName): [number, number] {
    const v = active.value?.volume;
    if (!v || brush.unit === 'mm') return [brush.size, brush.size];
    const ax = viewAxes(viewName, view.convention);
    return [brush.size * v.spacing[closestIndexAxis(v, ax.right).axis], brush.size * v.spacing[closestIndexAxis(v, ax.down).axis]];
  }

  // Polygon tool: vertices (world) on one view's plane.
  const polygon = shallowRef<{ view: ViewName; points: Vec3[] } | null>(null);

  function closePolygon(): number {
    const poly = polygon.value;
    polygon.value = null;
    overlayRevision.value++;
    if (!poly || poly.points.length < 3) return 0;
    const { id, vol } = target();
    const axis = sliceAxisOf(vol, poly.view);
    const [a, b] = inPlaneAxes(axis);
    const idx = poly.points.map((p) => worldToContinuousIndex(vol, p));
    const k = Math.round(idx[0][axis]);
    const rec = new EditRecorder(vol.data);
    const n = paintVoxels(rec, activeLabel.value, rule(), (visit) => fillSliceVoxels(vol.dims, axis, k, [idx.map((p) => [p[a], p[b]] as [number, number])], visit));
    commit(id, rec);
    if (n) changed(id);
    message.value = `Polygon: ${n} voxels set to label ${activeLabel.value}`;
    return n;
  }

  function cancelPolygon() {
    polygon.value = null;
    overlayRevision.value++;
  }

  /** A 3D fill is running in the worker (further fill clicks wait for it). */
  const filling = ref(false);
  /** Where the last fill ran ('worker' or 'ui': a one-slice fill, or no workers) and its time. */
  const lastFill = shallowRef<{ where: 'worker' | 'ui'; ms: number } | null>(null);

  /**
   * Paint-bucket fill. One slice is filled on this thread (a few ms even on a 512² slice: see
   * bench/processing-flood-fill.bench.mjs); a 3D fill runs in a worker on a copy of the labels,
   * and its region is painted (and recorded for undo) when it comes back.
   */
  async function floodFillAt(viewName: ViewName, world: Vec3): Promise<number> {
    if (filling.value) return 0;
    const { id, vol } = target();
    const c = worldToContinuousIndex(vol, world).map(Math.round) as Vec3;
    const main = images.main!;
    const useRange = fill.useRange && sameGrid(main.volume, vol);
    const sliceAxis = sliceAxisOf(vol, viewName);
    const t0 = performance.now();
    let region: Uint32Array;
    if (!fill.threeD) {
      const m = main.volume;
      const range = useRange ? { image: m.data, slope: m.rescaleSlope || 1, intercept: m.rescaleIntercept || 0, lower: fill.lower, upper: fill.upper } : undefined;
      region = floodRegion(vol.data, vol.dims, c, { threeD: false, sliceAxis, range });
      lastFill.value = { where: 'ui', ms: performance.now() - t0 };
    } else {
      filling.value = true;
      message.value = 'Filling…';
      try {
        const r = await floodRegionOffThread({ labels: vol, seed: c, sliceAxis, range: useRange ? { image: main.volume, lower: fill.lower, upper: fill.upper } : undefined });
        region = r.region;
        lastFill.value = { where: r.inWorker ? 'worker' : 'ui', ms: performance.now() - t0 };
      } catch (e) {
        error.value = e instanceof Error ? e.message : String(e);
        message.value = '';
        return 0;
      } finally {
        filling.value = false;
      }
      // The layer may have been closed (or replaced) while the worker ran.
      if (images.layer(id)?.volume.data !== vol.data) return 0;
    }
    const rec = new EditRecorder(vol.data);
    const n = paintVoxels(rec, activeLabel.value, rule(), (visit) => region.forEach((i) => visit(i)));
    commit(id, rec);
    if (n) changed(id);
    message.value = `Fill: ${n} voxels set to label ${activeLabel.value}`;
    return n;
  }

  function undo(): boolean {
    const l = active.value;
    const h = l && histories.get(l.id);
    // Not while a 3D fill runs: its region was found on the labels as they were at the click.
    if (!l || !h || filling.value) return false;
    pointerUp();
    const e = h.undo(l.volume.data);
    historyDepth.value = h.depth;
    if (e) {
      changed(l.id);
      countEdit(l.id, e, -1);
    }
    return !!e;
  }

  function redo(): boolean {
    const l = active.value;
    const h = l && histories.get(l.id);
    if (!l || !h || filling.value) return false;
    const e = h.redo(l.volume.data);
    historyDepth.value = h.depth;
    if (e) {
      changed(l.id);
      countEdit(l.id, e, 1);
    }
    return !!e;
  }

  /** Voxel count of a label in the active layer. */
  function countOf(value: number): number {
    return (activeId.value && counts.value[activeId.value]?.[value]) || 0;
  }

  // ---- files ------------------------------------------------------------------------------

  async function withBusy<T>(what: string, run: () => Promise<T>): Promise<T | undefined> {
    busy.value = true;
    error.value = '';
    message.value = what;
    try {
      return await run();
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
      message.value = '';
      return undefined;
    } finally {
      busy.value = false;
    }
  }

  /** Saves the active layer as NIfTI + .labels.json (+ an ITK-SNAP label file when given). */
  function save(path: string, itkSnapPath?: string, overwrite = false) {
    return withBusy('Saving…', async () => {
      const { id, vol } = target();
      const b = need();
      const hostId = await b.putVolume(vol, layerTitle(images.layer(id)!));
      try {
        const job = await b.startJob('segmentation.save', { path, labels: tables.value[id], ...(itkSnapPath ? { itkSnapPath } : {}), overwrite }, [hostId], {});
        const r = await job.done;
        message.value = `Saved ${(r.result?.files as string[]).join(', ')}`;
      } finally {
        void b.releaseVolumes([hostId]).catch(() => undefined);
      }
    });
  }

  /** Opens a label NIfTI (with its .labels.json sidecar when there is one) as a new label layer. */
  function open(path: string) {
    return withBusy('Opening…', async () => {
      const main = images.main;
      if (!main) throw new Error('Load the image the segmentation belongs to first.');
      const b = need();
      let { volume, hostId } = await b.openImage(path);
      if (volume.voxelType === 'float32' || volume.voxelType === 'float64') throw new Error(`${path}: float voxels: not a label image`);
      if (!sameGrid(volume, main.volume)) {
        // Another grid: resample (nearest) onto the main image's grid on the host.
        const job = await b.startJob('processing.resample', { interpolation: 'nearest', fill: 0 }, [hostId, await images.hostVolumeId(main.id)], {});
        const r = await job.done;
        void b.releaseVolumes([hostId]).catch(() => undefined);
        hostId = r.volumes[0].id;
        volume = await b.getVolume(hostId);
      }
      const side = await (await b.startJob('segmentation.read-labels', { path }, [], {})).done;
      let table = (side.result?.labels as LabelEntry[] | null) ?? null;
      if (!table) {
        const seen = new Set<number>();
        const d = volume.data;
        for (let i = 0; i < d.length; i++) if (d[i] !== 0) seen.add(d[i] * (volume.rescaleSlope || 1) + (volume.rescaleIntercept || 0));
        table = [...seen].filter((v) => Number.isInteger(v) && v > 0 && v <= 65535).sort((x, y) => x - y).map(defaultLabel);
      }
      const name = path.split(/[\\/]/).pop() ?? path;
      addLabelVolume(volume, name, table.length ? table : defaultLabelTable(), { hostId });
      message.value = `Opened ${name} (${table.length} labels)`;
    });
  }

  /** Replaces the active layer's table by an ITK-SNAP label description file. */
  function importLabels(path: string) {
    return withBusy('Reading labels…', async () => {
      const { id } = target();
      const r = await (await need().startJob('segmentation.read-labels', { path }, [], {})).done;
      const t = r.result?.labels as LabelEntry[] | null;
      if (!t) throw new Error(`${path}: no labels found`);
      tables.value = { ...tables.value, [id]: parseItkSnapLabels(writeItkSnapLabels(t)) };
      message.value = `Read ${t.length} labels from ${path}`;
    });
  }

  function exportLabels(path: string, overwrite = false) {
    return withBusy('Writing labels…', async () => {
      const { id } = target();
      await need().saveText(path, writeItkSnapLabels(tables.value[id]), overwrite);
      message.value = `Wrote ${path}`;
    });
  }

  /** Loads an RT structure set as one label layer per ROI (named and coloured as in the file). */
  function loadStructureSet(file: string) {
    return withBusy('Rasterising structures…', async () => {
      const main = images.main;
      if (!main) throw new Error('Load the CT the structure set belongs to first.');
      const b = need();
      const job = await b.startJob('segmentation.rtstruct', { file }, [await images.hostVolumeId(main.id)], {
        onProgress: (_f, m) => (message.value = m),
      });
      const r = await job.done;
      const rois = (r.result?.rois ?? []) as { number: number; name: string; color?: [number, number, number]; voxels: number; skipped?: number }[];
      let first = '';
      for (let i = 0; i < r.volumes.length; i++) {
        const roi = rois[i];
        const vol = await b.getVolume(r.volumes[i].id);
        const entry: LabelEntry = { ...defaultLabel(1), name: roi.name, ...(roi.color ? { color: roi.color } : {}) };
        const id = addLabelVolume(vol, roi.name, [entry], { hostId: r.volumes[i].id, activate: i === 0 });
        if (!first) first = id;
      }
      if (first) setActive(first);
      // Contours that lie between or beyond the CT's slices are named, not silently lost.
      message.value = `${String(r.result?.label ?? 'Structure set')}: ${rois.map((x) => `${x.name} (${x.voxels} voxels${x.skipped ? `; ${x.skipped} contours off the CT slices` : ''})`).join(', ')}`;
      return r.volumes.length;
    });
  }

  // ---- active contour -----------------------------------------------------------------------

  const snake = reactive({
    mode: 'threshold' as 'threshold' | 'edge',
    lower: 100,
    upper: 3000,
    smoothness: 0,
    kappa: 50,
    exponent: 2,
    sigma: 1,
    alpha: 1,
    beta: 0.2,
    /** Advection weight γ of the edge mode (ITK-SNAP's default 2; the threshold mode uses none). */
    gamma: 2,
    radius: 4,
    /** The evolution runs in a box this far (mm) around the bubbles (0: the whole image). */
    roiMarginMm: 60,
    iterations: 200,
    running: false,
    iteration: 0,
    voxels: 0,
    previews: 0,
  });
  /** Seed bubbles: world centre and radius (mm). */
  const bubbles = ref<{ center: Vec3; radius: number }[]>([]);
  let snakeJob: SegJob | null = null;
  const snakeResult = shallowRef<Volume | null>(null);
  let snakeHost: string | null = null;

  function addBubble(world: Vec3) {
    bubbles.value = [...bubbles.value, { center: [...world] as Vec3, radius: snake.radius }];
    overlayRevision.value++;
  }

  function clearBubbles() {
    bubbles.value = [];
    overlayRevision.value++;
  }

  /** Live picture of the contour: the ROI mask pasted into a whole-grid preview overlay. */
  let previewVol: Volume | null = null;
  function showSnakePreview(p: Record<string, unknown>) {
    const main = images.main;
    if (!main || !(p.mask instanceof ArrayBuffer)) return;
    const box = p.box as number[];
    const dims = main.volume.dims;
    if (!previewVol || previewVol.dims.some((d, i) => d !== dims[i])) {
      previewVol = { ...copyGeometry(main.volume), data: new Uint8Array(dims[0] * dims[1] * dims[2]), voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
    }
    pasteRoi(previewVol.data as Uint8Array, dims, box.slice(0, 3), box.slice(3, 6), new Uint8Array(p.mask));
    snake.iteration = Number(p.iteration ?? 0);
    snake.voxels = Number(p.voxels ?? 0);
    snake.previews++;
    // A new Volume object each time: the views cache planes per volume object.
    images.setPreviewLayer(markRaw({ ...previewVol }), { isLabel: true, colormap: 'bwr', opacity: 0.6, window: 1, level: 0.5 });
  }

  /** Runs the evolution as a job; previews show it growing; resolves when it ends. */
  function runSnake() {
    return withBusy('Active contour…', async () => {
      const main = images.main;
      if (!main) throw new Error('Load an image first.');
      if (!bubbles.value.length) throw new Error('Place at least one bubble (Bubbles tool: click in a view).');
      const b = need();
      const speed = snake.mode === 'threshold' ? { mode: 'threshold', lower: snake.lower, upper: snake.upper, ...(snake.smoothness > 0 ? { smoothness: snake.smoothness } : {}) } : { mode: 'edge', kappa: snake.kappa, exponent: snake.exponent, sigma: snake.sigma };
      const centres = bubbles.value.map((x) => worldToContinuousIndex(main.volume, x.center));
      const v = main.volume;
      const roi =
        snake.roiMarginMm > 0
          ? {
              start: [0, 1, 2].map((a) => Math.max(0, Math.floor(Math.min(...centres.map((c) => c[a])) - snake.roiMarginMm / v.spacing[a]))),
              end: [0, 1, 2].map((a) => Math.min(v.dims[a], Math.ceil(Math.max(...centres.map((c) => c[a])) + snake.roiMarginMm / v.spacing[a]) + 1)),
            }
          : undefined;
      const args = {
        ...(roi ? { roi } : {}),
        bubbles: bubbles.value.map((x, i) => ({ center: centres[i], radius: x.radius })),
        speed,
        alpha: snake.alpha,
        beta: snake.beta,
        gamma: snake.mode === 'edge' ? snake.gamma : 0,
        iterations: snake.iterations,
        previewMs: 150,
      };
      snake.running = true;
      snake.previews = 0;
      snakeResult.value = null;
      try {
        const job = (snakeJob = await b.startJob('segmentation.active-contour', args, [await images.hostVolumeId(main.id)], {
          onProgress: (_f, m) => (message.value = m),
          onPreview: showSnakePreview,
        }));
        const r = await job.done;
        if (snakeHost) void b.releaseVolumes([snakeHost]).catch(() => undefined);
        snakeHost = r.volumes[0].id;
        snakeResult.value = markRaw(await b.getVolume(snakeHost));
        snake.voxels = Number(r.result?.voxels ?? snake.voxels);
        snake.iteration = Number(r.result?.iterations ?? snake.iteration);
        message.value = `Active contour: ${snake.voxels} voxels after ${snake.iteration} iterations${r.result?.stoppedEarly ? ' (stopped)' : ''}. Accept to put it in the label layer.`;
      } finally {
        snake.running = false;
        snakeJob = null;
      }
    });
  }

  /** Stops the evolution, keeping the contour reached so far. */
  async function stopSnake() {
    await snakeJob?.cancel(true);
  }

  /** Writes the contour into the active label layer (active label, paint-over rule; undoable). */
  function acceptSnake(): number {
    const res = snakeResult.value;
    if (!res) throw new Error('Run the active contour first.');
    const { id, vol } = target();
    const rec = new EditRecorder(vol.data);
    const m = res.data;
    const n = paintVoxels(rec, activeLabel.value, rule(), (visit) => {
      for (let i = 0; i < m.length; i++) if (m[i]) visit(i);
    });
    commit(id, rec);
    if (n) changed(id);
    discardSnake();
    message.value = `Accepted: ${n} voxels set to label ${activeLabel.value}`;
    return n;
  }

  function discardSnake() {
    snakeResult.value = null;
    images.setPreviewLayer(null);
    if (snakeHost) void backend?.releaseVolumes([snakeHost]).catch(() => undefined);
    snakeHost = null;
    clearBubbles();
  }

  return {
    tables,
    counts,
    display,
    revision,
    overlayRevision,
    historyDepth,
    activeId,
    activeLabel,
    tool,
    brush,
    paintOver,
    fill,
    message,
    error,
    busy,
    layers,
    active,
    editing,
    activeTable,
    polygon,
    hover,
    setHover,
    brushFootprintMm,
    snake,
    bubbles,
    snakeResult,
    setBackend,
    isLabelLayer,
    planeLook,
    prune,
    newLayer,
    addLabelVolume,
    setActive,
    setDisplay,
    updateLabel,
    addLabel,
    removeLabel,
    pointerDown,
    pointerMove,
    pointerUp,
    closePolygon,
    cancelPolygon,
    floodFillAt,
    filling,
    lastFill,
    undo,
    redo,
    countOf,
    save,
    open,
    importLabels,
    exportLabels,
    loadStructureSet,
    addBubble,
    clearBubbles,
    runSnake,
    stopSnake,
    acceptSnake,
    discardSnake,
  };
});
