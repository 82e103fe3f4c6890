// Unit tests for the Tools panel's store (stores/tools.ts): parameters sent to the job runner,
// results added as named layers, undo, the mask's "image minimum" background, cancel and
// failure messages, the live threshold preview and crop corners from the cursor.
// The backend runs the real processing engine in-process (what the host's worker does) and
// records every job, so the assertions are on real voxels and on what the UI asked for.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { Vec3, Volume } from '../src-shared/image/volume';
import { runProcessingJob } from '../src-shared/processing/jobs';
import { worldBoxToVoxelBox } from '../src-shared/processing/crop';
import { useImagesStore } from '../src-renderer/stores/images';
import { useViewStore } from '../src-renderer/stores/view';
import { useWindowLevelStore } from '../src-renderer/stores/window-level';
import { nextTick } from 'vue';
import { previewMask, thresholdLabel, useToolsStore, type ToolsBackend, type ToolsJob } from '../src-renderer/stores/tools';

/** A 'CT' 8×6×4: air −1000 around a body block of 100 HU with a 300 HU core; padding −3024 at i=0. */
function ct(): Volume {
  const dims: Vec3 = [8, 6, 4];
  const data = new Int16Array(8 * 6 * 4);
  for (let k = 0, o = 0; k < 4; k++)
    for (let j = 0; j < 6; j++)
      for (let i = 0; i < 8; i++, o++) {
        const body = i >= 2 && i <= 5 && j >= 1 && j <= 4;
        const core = i >= 3 && i <= 4 && j >= 2 && j <= 3;
        // stored = HU + 1024 (slope 1, intercept −1024), as many scanners write it
        data[o] = (i === 0 ? -3024 : core ? 300 : body ? 100 : -1000) + 1024;
      }
  const a = (15 * Math.PI) / 180;
  return {
    dims,
    spacing: [0.8, 0.7, 2.5],
    origin: [-10, 20, 5],
    direction: [Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a), 0, 0, 0, 1],
    data,
    voxelType: 'int16',
    frames: 1,
    rescaleSlope: 1,
    rescaleIntercept: -1024,
    metadata: { Modality: 'CT' },
  };
}

const real = (v: Volume, idx: number) => v.data[idx] * (v.rescaleSlope || 1) + (v.rescaleIntercept || 0);
const at = (v: Volume, i: number, j: number, k: number) => i + v.dims[0] * (j + v.dims[1] * k);

interface Call {
  kind: string;
  args: Record<string, unknown>;
  inputs: string[];
}

/** The host, played in-process: holds volumes by id and runs jobs with the real engine. */
function fakeHost(opts: { fail?: string; hang?: boolean; delayMs?: number } = {}) {
  const held = new Map<string, Volume>();
  const calls: Call[] = [];
  let n = 0;
  const backend: ToolsBackend = {
    async startJob(kind, args, inputs, onProgress): Promise<ToolsJob> {
      calls.push({ kind, args, inputs });
      let reject!: (e: Error) => void;
      const done = new Promise<{ volumes: { id: string }[]; result?: Record<string, unknown> }>((res, rej) => {
        reject = rej;
        if (opts.hang) return;
        setTimeout(() => {
          try {
            if (opts.fail) throw new Error(opts.fail);
            const out = runProcessingJob(kind, args, inputs.map((id) => held.get(id)!), { onProgress: (f, m) => onProgress(f, m) });
            const ids = out.volumes.map((v) => {
              const id = `h${++n}`;
              held.set(id, v);
              return { id };
            });
            res({ volumes: ids, result: out.values });
          } catch (e) {
            rej(e as Error);
          }
        }, opts.delayMs ?? 1);
      });
      return { done, cancel: async () => reject(new Error('cancelled')) };
    },
    async getVolume(id) {
      return held.get(id)!;
    },
  };
  const upload = async (v: Volume) => {
    const id = `h${++n}`;
    held.set(id, v);
    return id;
  };
  return { backend, held, calls, upload };
}

function setup(host = fakeHost()) {
  setActivePinia(createPinia());
  const images = useImagesStore();
  useWindowLevelStore(); // owns the main image's window/level, as in the app
  const vol = ct();
  host.held.set('ct', vol);
  images.add({ name: 'CT', role: 'main', volume: vol, modality: 'CT', source: '/data/ct', hostId: 'ct' });
  images.setHostUploader(host.upload);
  const tools = useToolsStore();
  tools.setBackend(host.backend);
  return { images, tools, host, vol };
}

describe('tools store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('threshold at 60 runs processing.threshold on the host id and adds a 0/1 mask layer named after the operation', async () => {
    const { images, tools, host, vol } = setup();
    expect(tools.forms.threshold.source).toBe(images.main!.id);
    tools.forms.threshold.lower = 60;
    tools.forms.threshold.lowerInclusive = false; // voxels ≤ 60 → 0, others → 1
    const ids = await tools.applyThreshold();
    expect(tools.error).toBeNull();
    expect(host.calls).toEqual([{ kind: 'processing.threshold', args: { lower: 60, lowerInclusive: false, relative: false, inside: 1, outside: 0 }, inputs: ['ct'] }]);
    expect(ids).toHaveLength(1);
    const layer = images.images.find((i) => i.id === ids[0])!;
    // Short name, full provenance (issue 15 item 4).
    expect(layer.name).toBe('Threshold > 60');
    expect(layer.provenance).toBe('Threshold > 60 of CT');
    expect(layer.role).toBe('overlay');
    expect(layer.hostId).toBe('h1');
    const m = layer.volume;
    expect(m.origin).toEqual(vol.origin);
    expect(m.direction).toEqual(vol.direction);
    expect(m.data[at(m, 3, 2, 1)]).toBe(1); // core 300 HU
    expect(m.data[at(m, 2, 1, 1)]).toBe(1); // body 100 HU
    expect(m.data[at(m, 7, 0, 1)]).toBe(0); // air
    expect(m.data[at(m, 0, 3, 1)]).toBe(0); // padding
    // The new mask is the default input of the mask operation.
    expect(tools.forms.mask.mask).toBe(ids[0]);
    expect(tools.forms.mask.image).toBe(images.main!.id);
  });

  it('mask defaults to background = image minimum, so outside voxels read the minimum (−3024 HU), inside keeps the original', async () => {
    const { images, tools, host, vol } = setup();
    const [maskId] = await tools.applyThreshold();
    expect(tools.forms.mask.backgroundMode).toBe('minimum');
    expect(tools.imageMinimum(images.main!.id)).toBe(-3024);
    const [maskedId] = await tools.applyMask();
    expect(tools.error).toBeNull();
    expect(host.calls[1]).toEqual({ kind: 'processing.mask', args: { background: -3024 }, inputs: ['ct', images.images.find((i) => i.id === maskId)!.hostId] });
    const masked = images.images.find((i) => i.id === maskedId)!;
    expect(masked.name).toBe('Masked CT');
    expect(masked.role).toBe('additional');
    // Shown in the main image's place, under the main image's window/level.
    expect(images.shown?.id).toBe(maskedId);
    expect(images.contrastOf(maskedId)).toEqual(images.contrastOf(images.main!.id));
    // …and follows the side panel's window/level (the main image's).
    const wl = useWindowLevelStore();
    wl.set(3000, 0);
    await nextTick();
    expect(images.contrastOf(maskedId)).toEqual([3000, 0]);
    const v = masked.volume;
    for (let idx = 0; idx < v.data.length; idx++) {
      const orig = real(vol, idx);
      expect(real(v, idx)).toBe(orig > 60 ? orig : -3024);
    }
    // A chosen value is sent as is.
    tools.forms.mask.backgroundMode = 'value';
    tools.forms.mask.background = 0;
    await tools.applyMask();
    expect(host.calls[2].args).toEqual({ background: 0 });
  });

  it('morphology, fill holes, largest component, combine chain on the newest mask; undo removes the last result only', async () => {
    const { images, tools, host } = setup();
    const [t] = await tools.applyThreshold();
    tools.forms.morphology.operation = 'erode';
    tools.forms.morphology.radius = 1;
    tools.forms.morphology.shape = 'box';
    const [e] = await tools.applyMorphology();
    expect(host.calls[1]).toEqual({ kind: 'processing.morphology', args: { operation: 'erode', shape: 'box', radius: 1, iterations: 1 }, inputs: [images.images.find((i) => i.id === t)!.hostId] });
    expect(images.images.find((i) => i.id === e)!.name).toBe('Erode (box r1)');
    expect(images.images.find((i) => i.id === e)!.provenance).toBe('Erode (box r1) of Threshold > 60 of CT');
    // The 4×4×4 body eroded with a 3×3×3 box: the 2×2 interior in-plane; outside the image
    // counts as foreground (ITK's convention), so the first and last slices keep it.
    const ev = images.images.find((i) => i.id === e)!.volume;
    let count = 0;
    for (const x of ev.data) count += x;
    expect(count).toBe(2 * 2 * 4);
    expect(tools.forms.combine.a).toBe(t);
    expect(tools.forms.combine.b).toBe(e);
    tools.forms.combine.operation = 'difference';
    const [d] = await tools.applyCombine();
    const dv = images.images.find((i) => i.id === d)!.volume;
    let dc = 0;
    for (const x of dv.data) dc += x;
    expect(dc).toBe(4 * 4 * 4 - 16);
    expect(images.images.find((i) => i.id === d)!.name).toBe('Difference');
    expect(images.images.find((i) => i.id === d)!.provenance).toMatch(/^Difference of /);
    const [f] = await tools.applyFillHoles();
    expect(host.calls[3].kind).toBe('processing.fillHoles');
    const [lc] = await tools.applyLargestComponent();
    expect(host.calls[4]).toMatchObject({ kind: 'processing.largestComponent', args: { connectivity: 6 } });
    expect(tools.lastNote).toMatch(/components; kept \d+ voxels/);
    expect(tools.undoStack.map((u) => u.label)).toEqual(['Threshold > 60', 'Erode (box r1)', 'Difference', 'Fill holes', 'Largest component']);

    const before = images.images.map((i) => i.id);
    const released: string[] = [];
    images.setOnRemoved((gone) => released.push(...gone.map((g) => g.hostId!)));
    const u = tools.undo();
    expect(u?.label).toBe('Largest component');
    expect(images.images.map((i) => i.id)).toEqual(before.filter((id) => id !== lc));
    expect(released).toHaveLength(1); // the host copy is freed
    tools.undo();
    expect(images.images.some((i) => i.id === f)).toBe(false);
    expect(images.images.some((i) => i.id === d)).toBe(true);
    expect(tools.undoStack).toHaveLength(3);
  });

  it('morphology radius in mm becomes per-axis voxel radii; Otsu sets the threshold form to its value', async () => {
    const { tools, host } = setup();
    await tools.applyThreshold();
    tools.forms.morphology.radiusUnits = 'mm';
    tools.forms.morphology.radius = 2.5; // spacing 0.8, 0.7, 2.5 → 3, 4, 1 voxels
    await tools.applyMorphology();
    expect(host.calls[1].args).toEqual({ operation: 'dilate', shape: 'ball', radius: [3, 4, 1], iterations: 1 });
    expect(tools.undoStack[1].label).toBe('Dilate (ball 2.5 mm)');
    await tools.applyOtsu();
    expect(tools.error).toBeNull();
    expect(host.calls[2].kind).toBe('processing.otsu');
    const t = Number(/Otsu threshold: (.*)$/.exec(tools.lastNote!)![1]);
    expect(t).toBeGreaterThanOrEqual(-3024);
    expect(t).toBeLessThan(300);
    expect(tools.forms.threshold.lower).toBe(t);
  });

  it('crop: corners from the cursor in voxels and in mm; the job gets a voxel box or a world box', async () => {
    const { images, tools, host, vol } = setup();
    const view = useViewStore();
    view.setCursorIndex([2, 1, 1]);
    tools.cropCornerFromCursor('start');
    view.setCursorIndex([5, 4, 2]);
    tools.cropCornerFromCursor('end');
    expect(tools.forms.crop.start).toEqual([2, 1, 1]);
    expect(tools.forms.crop.end).toEqual([5, 4, 2]);
    const [c] = await tools.applyCrop();
    expect(host.calls[0]).toEqual({ kind: 'processing.crop', args: { box: { start: [2, 1, 1], end: [6, 5, 3] } }, inputs: ['ct'] });
    const cv = images.images.find((i) => i.id === c)!.volume;
    expect(cv.dims).toEqual([4, 4, 2]);
    // Keeps its place in the world: its voxel 0 is the original's voxel (2,1,1).
    const w = (v: Volume, ijk: Vec3) => [0, 1, 2].map((r) => v.origin[r] + [0, 1, 2].reduce((s, k) => s + v.direction[r * 3 + k] * v.spacing[k] * ijk[k], 0));
    w(cv, [0, 0, 0]).forEach((x, r) => expect(x).toBeCloseTo(w(vol, [2, 1, 1])[r], 6));
    expect(tools.lastNote).toBe('Kept voxels 2,1,1 – 5,4,2 (inclusive)');

    tools.forms.crop.units = 'mm';
    view.setCursorIndex([1, 1, 0]);
    tools.cropCornerFromCursor('start');
    view.setCursorIndex([3, 2, 1]);
    tools.cropCornerFromCursor('end');
    const a = view.cursorWorld;
    expect(tools.forms.crop.end).toEqual(a);
    await tools.applyCrop();
    expect(host.calls[1].args).toEqual({ worldBox: { a: tools.forms.crop.start, b: tools.forms.crop.end } });
    const box = worldBoxToVoxelBox(vol, tools.forms.crop.start, tools.forms.crop.end);
    const cv2 = images.images[images.images.length - 1].volume;
    expect(cv2.dims).toEqual([0, 1, 2].map((k) => box.end[k] - box.start[k]));
    // The corner voxels (1,1,0) and (3,2,1) are inside the world box.
    expect(box.start.every((x, k) => x <= [1, 1, 0][k])).toBe(true);
    expect(box.end.every((x, k) => x > [3, 2, 1][k])).toBe(true);
    // Units switch converts the corners: back in voxels they are the cursor's voxels again.
    tools.forms.crop.units = 'voxels';
    expect(tools.forms.crop.start).toEqual([1, 1, 0]);
    expect(tools.forms.crop.end).toEqual([3, 2, 1]);
    // 'Whole image' in mm keeps every voxel (corners on the outermost voxel centres).
    tools.forms.crop.units = 'mm';
    tools.cropWholeImage();
    await tools.applyCrop();
    expect(images.images[images.images.length - 1].volume.dims).toEqual(vol.dims);
    // Out-of-image voxel corners are refused before any job starts, with a message naming them.
    tools.forms.crop.units = 'voxels';
    tools.forms.crop.end = [8, 5, 3];
    const nJobs = host.calls.length;
    await expect(tools.applyCrop()).rejects.toThrow('Crop: Corner 2 i = 8 is not a voxel index of CT (0 … 7).');
    expect(host.calls).toHaveLength(nJobs);
  });

  it('the crop box is drawn in the views (preview layer) while the crop form is open, and follows the fields', async () => {
    const { images, tools } = setup();
    tools.forms.crop.start = [1, 2, 0];
    tools.forms.crop.end = [3, 4, 1];
    tools.showCropBox(true);
    const count = (v: Volume | null) => (v ? (v.data as Uint8Array).reduce((s, x) => s + x, 0) : -1);
    expect(count(tools.previewVolume)).toBe(3 * 3 * 2);
    expect(images.preview?.volume).toBe(tools.previewVolume);
    expect(tools.previewVolume!.data[at(tools.previewVolume!, 1, 2, 0)]).toBe(1);
    expect(tools.previewVolume!.data[at(tools.previewVolume!, 0, 2, 0)]).toBe(0);
    tools.forms.crop.end = [7, 5, 3];
    // The box preview is recomputed asynchronously: poll rather than sleep a fixed time,
    // which failed on a loaded machine.
    await vi.waitFor(() => expect(count(tools.previewVolume)).toBe(7 * 4 * 4), { timeout: 10_000 });
    // The threshold preview takes over the preview layer; closing the form hides the box.
    tools.setPreviewEnabled(true);
    expect(tools.cropBoxShown).toBe(false);
    tools.setPreviewEnabled(false);
    tools.showCropBox(false);
    expect(images.preview).toBeNull();
  });

  it('drawing the crop box: the first cursor move is corner 1, the drag sets corner 2; the unmoved axis keeps its extent', async () => {
    const { tools } = setup();
    const view = useViewStore();
    view.setCursorIndex([4, 3, 2]);
    expect(tools.forms.crop.start).toEqual([0, 0, 0]); // whole image by default
    expect(tools.forms.crop.end).toEqual([7, 5, 3]);
    tools.beginBoxDraw();
    expect(tools.drawingBox).toBe(true);
    expect(tools.endBoxDraw()).toBe(false); // the button's own pointer-up: still armed
    expect(tools.drawingBox).toBe(true);
    view.setCursorIndex([5, 1, 2]); // press in an axial view
    view.setCursorIndex([6, 2, 2]);
    view.setCursorIndex([2, 4, 2]); // drag
    expect(tools.endBoxDraw()).toBe(true);
    expect(tools.drawingBox).toBe(false);
    expect(tools.forms.crop.start).toEqual([2, 1, 0]);
    expect(tools.forms.crop.end).toEqual([5, 4, 3]);
    expect(tools.cropVoxelBox()).toEqual({ start: [2, 1, 0], end: [6, 5, 4] });
    // Later cursor moves no longer change the box; Esc while armed restores it.
    view.setCursorIndex([0, 0, 0]);
    expect(tools.forms.crop.start).toEqual([2, 1, 0]);
    tools.beginBoxDraw();
    view.setCursorIndex([1, 1, 1]);
    view.setCursorIndex([3, 3, 1]);
    tools.cancelBoxDraw();
    expect(tools.forms.crop.start).toEqual([2, 1, 0]);
    expect(tools.forms.crop.end).toEqual([5, 4, 3]);
  });

  it('align and resample send [moving, fixed] / [image, reference] and name the results', async () => {
    const { images, tools, host, vol } = setup();
    const other: Volume = { ...ct(), origin: [30, -5, 40] };
    images.add({ name: 'MR', role: 'additional', volume: other, modality: 'MR', source: '', isLabel: false });
    // not held by the host yet: the store uploads it first
    tools.forms.align.moving = images.images[1].id;
    tools.forms.align.fixed = images.main!.id;
    const [a] = await tools.applyAlign();
    expect(tools.error).toBeNull();
    expect(host.calls[0].kind).toBe('processing.align');
    expect(host.calls[0].inputs[1]).toBe('ct');
    expect(host.held.get(host.calls[0].inputs[0])).toBe(other);
    const av = images.images.find((i) => i.id === a)!;
    expect(av.name).toBe('MR aligned');
    expect(av.provenance).toBe('MR aligned to CT');
    expect(av.volume.origin.map((x) => +x.toFixed(6))).toEqual(vol.origin.map((x) => +x.toFixed(6)));
    expect(tools.lastNote).toMatch(/^Translation .* mm \(LPS\)$/);
    tools.forms.resample.source = a;
    tools.forms.resample.interpolation = 'nearest';
    const [r] = await tools.applyResample();
    expect(host.calls[1]).toMatchObject({ kind: 'processing.resample', args: { interpolation: 'nearest', fill: 0 } });
    expect(images.images.find((i) => i.id === r)!.name).toBe('MR aligned resampled');
    expect(images.images.find((i) => i.id === r)!.provenance).toBe('MR aligned to CT on the grid of CT');
  });

  it('a failed job leaves a clear message and no layer; cancel says cancelled; bad parameters never reach the host', async () => {
    let s = setup(fakeHost({ fail: 'worker crashed (exit code 134)' }));
    const n = s.images.images.length;
    expect(await s.tools.applyThreshold()).toEqual([]);
    expect(s.tools.error).toBe('Threshold > 60 failed: worker crashed (exit code 134)');
    expect(s.images.images).toHaveLength(n);
    expect(s.tools.running).toBeNull();
    expect(s.tools.undoStack).toHaveLength(0);

    s = setup(fakeHost({ hang: true }));
    const p = s.tools.applyThreshold();
    await new Promise((r) => setTimeout(r, 5));
    expect(s.tools.running?.label).toBe('Threshold > 60');
    await s.tools.cancel();
    expect(await p).toEqual([]);
    expect(s.tools.error).toBe('Threshold > 60: cancelled.');
    expect(s.tools.running).toBeNull();

    s = setup();
    s.tools.forms.morphology.source = s.images.main!.id;
    s.tools.forms.morphology.radius = -2;
    // Mask inputs must be masks: dilating the CT "as a mask" would binarise it (issue 15 item 9).
    await expect(s.tools.applyMorphology()).rejects.toThrow(/CT is not a mask \(label image\)/);
    s.images.updateLayer(s.images.main!.id, { isLabel: true });
    await expect(s.tools.applyMorphology()).rejects.toThrow(/radius/);
    expect(s.host.calls).toHaveLength(0);
  });

  it('a new main image drops the undo history, and a job that ends after it adds nothing', async () => {
    const s = setup(fakeHost({ delayMs: 40 }));
    const p = s.tools.applyThreshold();
    await new Promise((r) => setTimeout(r, 5));
    s.images.add({ name: 'Other CT', role: 'main', volume: ct(), modality: 'CT', source: '' });
    expect(await p).toEqual([]); // the job finished after the switch
    expect(s.tools.error).toBe('Threshold > 60 failed: another main image was loaded while it ran; the result was dropped');
    expect(s.images.images.map((i) => i.name)).toEqual(['Other CT']);

    const t = setup();
    await t.tools.applyThreshold();
    expect(t.tools.undoStack).toHaveLength(1);
    t.images.add({ name: 'Other CT', role: 'main', volume: ct(), modality: 'CT', source: '' });
    await nextTick();
    expect(t.tools.undoStack).toHaveLength(0);
    expect(t.tools.canUndo).toBe(false);
  });

  it('live preview: a 0/1 mask of the shown threshold, recomputed when the bounds change, hidden after apply', async () => {
    const { tools, vol } = setup();
    tools.setPreviewEnabled(true);
    const p = tools.previewVolume!;
    expect(p.dims).toEqual(vol.dims);
    expect(p.origin).toEqual(vol.origin);
    for (let i = 0; i < vol.data.length; i++) expect(p.data[i]).toBe(real(vol, i) > 60 ? 1 : 0);
    tools.forms.threshold.lower = 200;
    await vi.waitFor(
      () => {
        for (let i = 0; i < vol.data.length; i++) expect(tools.previewVolume!.data[i]).toBe(real(vol, i) > 200 ? 1 : 0);
      },
      { timeout: 10_000 },
    );
    await tools.applyThreshold();
    expect(tools.previewOn).toBe(false);
    expect(tools.previewVolume).toBeNull();
  });

  it('previewMask: inclusive/exclusive bounds, both bounds, relative bounds; labels', () => {
    const v = ct();
    const count = (m: Uint8Array) => m.reduce((s, x) => s + x, 0);
    expect(count(previewMask(v, { lower: 100, upper: null, lowerInclusive: true, upperInclusive: true, relative: false }))).toBe(16 * 4);
    expect(count(previewMask(v, { lower: 100, upper: null, lowerInclusive: false, upperInclusive: true, relative: false }))).toBe(4 * 4);
    expect(count(previewMask(v, { lower: -1000, upper: 100, lowerInclusive: true, upperInclusive: false, relative: false }))).toBe((48 - 6 - 16) * 4);
    // relative: 0 = −3024, 1 = 300 → 0.99 ≈ 266.8
    expect(count(previewMask(v, { lower: 0.99, upper: null, lowerInclusive: true, upperInclusive: true, relative: true }))).toBe(4 * 4);
    expect(thresholdLabel({ lower: 60, upper: null, lowerInclusive: false, relative: false })).toBe('Threshold > 60');
    expect(thresholdLabel({ lower: -100, upper: 200, lowerInclusive: true, relative: false })).toBe('Threshold -100 … 200');
    expect(thresholdLabel({ lower: null, upper: 0.5, lowerInclusive: true, relative: true })).toBe('Threshold ≤ 0.5 (rel.)');
  });
});
