// The segmentation store (src-renderer/stores/segmentation.ts) without a DOM: label layers on
// an oblique, anisotropic main image, brush strokes in world space, undo/redo and the voxel
// counts kept from the edits, polygon and flood fill on the view's slice, label outline
// display, the RTSTRUCT and active-contour flows against a fake host, and label files.
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { Mat3, Vec3, Volume } from '../src-shared/image/volume';
import { indexToWorld } from '../src-shared/geometry/geometry';
import { useImagesStore } from '../src-renderer/stores/images';
import { useSegmentationStore, type SegmentationBackend } from '../src-renderer/stores/segmentation';
import { labelOutline } from '../src-renderer/rendering/label-outline';
import { rotationMatrix } from './registration-helpers';

function image(direction: Mat3 = rotationMatrix(0.2, 0.1, -0.3) as Mat3): Volume {
  const dims: Vec3 = [40, 30, 12];
  return { dims, spacing: [0.8, 1.2, 2.5], origin: [5, -3, 10], direction, data: new Int16Array(40 * 30 * 12).fill(100), voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: { Modality: 'CT' } };
}

function fakeBackend(over: Partial<SegmentationBackend> = {}) {
  const calls: { kind: string; args: Record<string, unknown>; inputs: string[] }[] = [];
  const texts: Record<string, string> = {};
  const b: SegmentationBackend = {
    startJob: async (kind, args, inputs) => {
      calls.push({ kind, args, inputs });
      return { done: Promise.resolve({ volumes: [], result: { files: [String(args.path)] } }), cancel: async () => undefined };
    },
    getVolume: async () => {
      throw new Error('no volume');
    },
    putVolume: async () => 'up1',
    releaseVolumes: async () => undefined,
    openImage: async () => {
      throw new Error('no file');
    },
    saveText: async (p, t) => {
      texts[p] = t;
    },
    ...over,
  };
  return { b, calls, texts };
}

let images: ReturnType<typeof useImagesStore>;
let seg: ReturnType<typeof useSegmentationStore>;
beforeEach(() => {
  setActivePinia(createPinia());
  images = useImagesStore();
  seg = useSegmentationStore();
  images.addLayer(image(), { role: 'main', name: 'CT', hostId: 'ct1' });
});

describe('segmentation store', () => {
  it('a new label layer is an overlay on the main grid with ITK-SNAP labels 1…6', () => {
    const id = seg.newLayer();
    const l = images.layer(id)!;
    expect(l.role).toBe('overlay');
    expect(l.isLabel).toBe(true);
    expect(l.volume.dims).toEqual([40, 30, 12]);
    expect(l.volume.direction).toEqual(images.main!.volume.direction);
    expect(seg.activeTable.map((x) => x.name)).toEqual(['Label 1', 'Label 2', 'Label 3', 'Label 4', 'Label 5', 'Label 6']);
    const look = seg.planeLook(id)!;
    expect([...look.lut.slice(4, 8)]).toEqual([255, 0, 0, 255]);
    expect(seg.editing).toBe(false);
    seg.tool = 'brush';
    expect(seg.editing).toBe(true);
  });

  it('brush strokes at world points on an oblique grid, counts, undo and redo', () => {
    const id = seg.newLayer();
    const vol = images.layer(id)!.volume;
    seg.tool = 'brush';
    Object.assign(seg.brush, { shape: 'square', size: 3, unit: 'voxel', threeD: false });
    const w = (i: number, j: number, k: number) => indexToWorld(vol, [i, j, k]);
    // The direction is oblique: the axial view's normal is closest to index axis k.
    seg.pointerDown('axial', w(10, 10, 5));
    seg.pointerMove(w(20, 10, 5));
    seg.pointerUp();
    const n = seg.countOf(1);
    expect(n).toBe(3 * 13);
    for (let i = 9; i <= 21; i++) for (let j = 9; j <= 11; j++) expect(vol.data[i + 40 * (j + 30 * 5)]).toBe(1);
    const rev = seg.revision;
    seg.activeLabel = 2;
    seg.paintOver.mode = 'background';
    seg.pointerDown('axial', w(22, 10, 5));
    seg.pointerUp();
    expect(seg.countOf(2)).toBe(6); // 9 minus the 3 voxels already label 1 (i = 21)
    expect(seg.revision).toBeGreaterThan(rev);
    expect(seg.historyDepth).toEqual([2, 0]);
    seg.undo();
    expect(seg.countOf(2)).toBe(0);
    expect(seg.countOf(1)).toBe(n);
    seg.undo();
    expect(seg.countOf(1)).toBe(0);
    expect(vol.data.every((x) => x === 0)).toBe(true);
    seg.redo();
    seg.redo();
    expect([seg.countOf(1), seg.countOf(2)]).toEqual([n, 6]);
    // The eraser clears, honouring "only label 2".
    seg.tool = 'eraser';
    seg.paintOver.mode = 'label';
    seg.paintOver.label = 2;
    Object.assign(seg.brush, { size: 40 });
    seg.pointerDown('axial', w(15, 10, 5));
    seg.pointerUp();
    expect([seg.countOf(1), seg.countOf(2)]).toEqual([n, 0]);
  });

  it('polygon and flood fill on the slice of the view', async () => {
    // A straight (non-oblique) main image replaces the session.
    images.addLayer(image([1, 0, 0, 0, 1, 0, 0, 0, 1]), { role: 'main', name: 'CT2' });
    const id = seg.newLayer();
    const vol = images.layer(id)!.volume;
    seg.tool = 'polygon';
    const w = (i: number, j: number, k: number) => indexToWorld(vol, [i, j, k]);
    for (const [i, j] of [[2.5, 2.5], [12.5, 2.5], [12.5, 8.5], [2.5, 8.5]]) seg.pointerDown('axial', w(i, j, 4));
    expect(seg.polygon?.points).toHaveLength(4);
    expect(seg.closePolygon()).toBe(10 * 6);
    expect(seg.polygon).toBeNull();
    // Coronal polygon: on the slice j = 20 (index axis j is the coronal normal here).
    for (const [i, k] of [[0.5, 0.5], [4.5, 0.5], [4.5, 3.5]]) seg.pointerDown('coronal', w(i, 20, k));
    const tri = seg.closePolygon();
    expect(tri).toBeGreaterThan(0);
    for (let o = 0; o < vol.data.length; o++) if (vol.data[o] && Math.floor(o / 40) % 30 > 10) expect(Math.floor(o / 40) % 30).toBe(20);
    // Flood fill inside the rectangle (label 1 → label 3) in 2D.
    seg.tool = 'fill';
    seg.activeLabel = 3;
    expect(await seg.floodFillAt('axial', w(5, 5, 4))).toBe(60);
    seg.activeLabel = 4;
    // Background fill on the empty slice 0 in 2D: the whole slice, nothing beyond it.
    expect(await seg.floodFillAt('axial', w(30, 25, 0))).toBe(40 * 30);
    seg.undo();
    expect(seg.countOf(4)).toBe(0);
  });

  it('outline display keeps only the boundary pixels of each label', () => {
    const v = new Float32Array([0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(labelOutline(v, 5, 5))).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('loads an RT structure set as layers named and coloured from the file', async () => {
    const vols: Record<string, Volume> = {};
    const mask = (n: number) => ({ ...image(), data: new Uint8Array(40 * 30 * 12).fill(0).map((_, i) => (i < n ? 1 : 0)), voxelType: 'uint8' as const });
    vols.r1 = mask(10);
    vols.r2 = mask(20);
    const { b, calls } = fakeBackend({
      startJob: async (kind, args, inputs) => {
        calls.push({ kind, args, inputs });
        return {
          done: Promise.resolve({ volumes: [{ id: 'r1' }, { id: 'r2' }], result: { label: 'RS', rois: [{ number: 1, name: 'PTV', color: [255, 0, 128], voxels: 10 }, { number: 4, name: 'Body', voxels: 20 }] } }),
          cancel: async () => undefined,
        };
      },
      getVolume: async (id) => vols[id],
    });
    seg.setBackend(b);
    expect(await seg.loadStructureSet('/data/rt.dcm')).toBe(2);
    expect(calls[0]).toEqual({ kind: 'segmentation.rtstruct', args: { file: '/data/rt.dcm' }, inputs: ['ct1'] });
    expect(seg.layers.map((l) => l.name)).toEqual(['PTV', 'Body']);
    expect(seg.activeTable[0]).toMatchObject({ value: 1, name: 'PTV', color: [255, 0, 128] });
    expect(seg.countOf(1)).toBe(10);
    // Editing drops the host copy (it is stale now).
    seg.tool = 'brush';
    seg.pointerDown('axial', indexToWorld(images.main!.volume, [20, 20, 6]));
    seg.pointerUp();
    expect(images.layer(seg.activeId!)!.hostId).toBeUndefined();
  });

  it('active contour: job arguments in voxels with an ROI, previews, accept into the layer', async () => {
    const id = seg.newLayer();
    let preview: ((p: Record<string, unknown>) => void) | undefined;
    const result = { ...image(), data: new Uint8Array(40 * 30 * 12), voxelType: 'uint8' as const };
    for (let i = 100; i < 150; i++) result.data[i] = 1;
    const { b, calls } = fakeBackend({
      startJob: async (kind, args, inputs, on) => {
        calls.push({ kind, args, inputs });
        preview = on.onPreview;
        preview?.({ box: [0, 0, 0, 40, 30, 12], mask: result.data.slice().buffer, iteration: 5, voxels: 50 });
        return { done: Promise.resolve({ volumes: [{ id: 'snake' }], result: { voxels: 50, iterations: 5 } }), cancel: async () => undefined };
      },
      getVolume: async () => result,
    });
    seg.setBackend(b);
    seg.tool = 'bubble';
    seg.snake.radius = 2;
    seg.snake.roiMarginMm = 5;
    seg.pointerDown('axial', indexToWorld(images.main!.volume, [20, 15, 6]));
    expect(seg.bubbles).toHaveLength(1);
    await seg.runSnake();
    const args = calls[0].args as { bubbles: { center: number[]; radius: number }[]; roi: { start: number[]; end: number[] }; speed: { mode: string } };
    expect(args.bubbles[0].center.map((x) => Math.round(x * 1e6) / 1e6)).toEqual([20, 15, 6]);
    expect(args.bubbles[0].radius).toBe(2);
    // 5 mm around the centre: 6.25, 4.2 and 2 voxels.
    expect(args.roi.start).toEqual([13, 10, 4]);
    expect(args.roi.end).toEqual([28, 21, 9]);
    expect(args.speed.mode).toBe('threshold');
    // No advection with the threshold speed (ITK-SNAP's region competition).
    expect((args as unknown as { gamma: number }).gamma).toBe(0);
    expect(images.preview).not.toBeNull();
    expect(seg.snake.previews).toBe(1);
    expect(seg.acceptSnake()).toBe(50);
    expect(seg.countOf(1)).toBe(50);
    expect(images.preview).toBeNull();
    expect(images.layer(id)!.volume.data[120]).toBe(1);
    seg.undo();
    expect(seg.countOf(1)).toBe(0);
    // Edge speed: the advection weight of the form (ITK-SNAP's 2 by default) goes with it.
    seg.snake.mode = 'edge';
    expect(seg.snake.gamma).toBe(2);
    seg.snake.gamma = 3.5;
    seg.tool = 'bubble';
    if (!seg.bubbles.length) seg.pointerDown('axial', indexToWorld(images.main!.volume, [20, 15, 6]));
    await seg.runSnake();
    const edgeArgs = calls.at(-1)!.args as { speed: { mode: string }; gamma: number };
    expect(edgeArgs.speed.mode).toBe('edge');
    expect(edgeArgs.gamma).toBe(3.5);
  });

  it('saves through a job with the table; exports and imports ITK-SNAP label files', async () => {
    const { b, calls, texts } = fakeBackend();
    seg.setBackend(b);
    seg.newLayer();
    seg.updateLabel(2, { name: 'Lesion', opacity: 0.5 });
    await seg.save('/tmp/x.nii.gz', '/tmp/x.txt');
    expect(seg.error).toBe('');
    expect(calls[0].kind).toBe('segmentation.save');
    expect(calls[0].inputs).toEqual(['up1']);
    expect((calls[0].args.labels as { name: string }[])[1].name).toBe('Lesion');
    await seg.exportLabels('/tmp/l.txt');
    expect(texts['/tmp/l.txt']).toMatch(/2 +0 +255 +0 +0\.5 +1 +1 +"Lesion"/);
    await seg.open('/tmp/none.nii.gz');
    expect(seg.error).toMatch(/no file/);
  });
});
