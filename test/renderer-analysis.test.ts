// The Tools panel's analysis store (stores/analysis.ts): what it asks the host for (kind,
// parameters, inputs), the layers it adds, the compare-masks and label-statistics tables and
// the Chan–Vese slice taken at the 3D cursor. The host runs the real engines in-process.
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { Vec3, Volume } from '../src-shared/image/volume';
import { runProcessingJob } from '../src-shared/processing/jobs';
import { runAnalysisJob } from '../src-shared/analysis/jobs';
import { useImagesStore } from '../src-renderer/stores/images';
import { useViewStore } from '../src-renderer/stores/view';
import { useWindowLevelStore } from '../src-renderer/stores/window-level';
import { useToolsStore, type ToolsBackend } from '../src-renderer/stores/tools';
import { parseKernel, useAnalysisStore } from '../src-renderer/stores/analysis';

function ct(): Volume {
  const dims: Vec3 = [12, 10, 6];
  const data = new Int16Array(12 * 10 * 6);
  for (let k = 0, o = 0; k < 6; k++) for (let j = 0; j < 10; j++) for (let i = 0; i < 12; i++, o++) data[o] = (i >= 3 && i <= 8 && j >= 2 && j <= 7 ? 100 : -1000) + 1024 + ((i * 7 + j * 3 + k) % 5);
  return { dims, spacing: [0.8, 0.7, 2.5], origin: [-10, 20, 5], direction: [0, 1, 0, 1, 0, 0, 0, 0, -1], data, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: -1024, metadata: { Modality: 'CT' } };
}

function setup() {
  setActivePinia(createPinia());
  const held = new Map<string, Volume>();
  const calls: Array<{ kind: string; args: Record<string, unknown>; inputs: string[] }> = [];
  let n = 0;
  const backend: ToolsBackend = {
    async startJob(kind, args, inputs, onProgress) {
      calls.push({ kind, args, inputs });
      const vols = inputs.map((id) => held.get(id)!);
      const opts = { onProgress: (f: number, m: string) => onProgress(f, m) };
      const done = (kind.startsWith('analysis.') ? runAnalysisJob(kind, args, vols, opts) : Promise.resolve(runProcessingJob(kind, args, vols, opts))).then((out) => ({
        volumes: out.volumes.map((v) => {
          const id = `h${++n}`;
          held.set(id, v);
          return { id };
        }),
        result: out.values,
      }));
      return { done, cancel: async () => undefined };
    },
    async getVolume(id) {
      return held.get(id)!;
    },
  };
  const images = useImagesStore();
  useWindowLevelStore();
  const vol = ct();
  held.set('ct', vol);
  images.add({ name: 'CT', role: 'main', volume: vol, modality: 'CT', source: '/data/ct', hostId: 'ct' });
  const tools = useToolsStore();
  tools.setBackend(backend);
  return { images, tools, analysis: useAnalysisStore(), calls, vol };
}

describe('analysis store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('runs a Gaussian filter on the main image and adds a float32 layer; Undo removes it', async () => {
    const { images, tools, analysis, calls } = setup();
    analysis.forms.filter.filter = 'gaussian';
    analysis.forms.filter.sigmaMm = 1.5;
    const ids = await analysis.applyFilter();
    expect(tools.error).toBeNull();
    expect(calls[0]).toEqual({ kind: 'analysis.filter', args: { filter: 'gaussian', sigmaMm: 1.5 }, inputs: ['ct'] });
    const layer = images.images.find((i) => i.id === ids[0])!;
    expect(layer.name).toBe('Gaussian σ 1.5 mm of CT');
    expect(layer.volume.voxelType).toBe('float32');
    tools.undo();
    expect(images.images.some((i) => i.id === ids[0])).toBe(false);
  });

  it('equalises adaptively (CLAHE job) or globally, as the form says', async () => {
    const { images, analysis, calls, tools } = setup();
    Object.assign(analysis.forms.equalize, { method: 'adaptive', tile: 4, clipLimit: 0.02, perSlice: true });
    const [id] = await analysis.applyEqualize();
    expect(tools.error).toBeNull();
    expect(calls[0]).toEqual({ kind: 'analysis.clahe', args: { clipLimit: 0.02, nbins: 256, perSlice: true, kernelSize: 4 }, inputs: ['ct'] });
    const layer = images.images.find((i) => i.id === id)!;
    expect(layer.name).toBe('CLAHE per slice clip 0.02 of CT');
    const d = layer.volume.data as Float32Array;
    expect(Math.min(...d)).toBe(0);
    expect(Math.max(...d)).toBe(1);
    analysis.forms.equalize.method = 'global';
    await analysis.applyEqualize();
    expect(calls[1]).toMatchObject({ kind: 'analysis.equalize', args: { bins: 256 } });
  });

  it('compares two masks into a table and measures labels, leaving nothing to undo', async () => {
    const { tools, analysis, vol } = setup();
    tools.forms.threshold.lower = -500;
    await tools.applyThreshold();
    tools.forms.morphology.operation = 'dilate';
    tools.forms.morphology.radius = 1;
    await tools.applyMorphology();
    // Defaults: A = the older mask, B = the newest.
    const c = await analysis.applyCompare();
    expect(tools.error).toBeNull();
    expect(c!.names[0]).toMatch(/^Threshold/);
    expect(c!.names[1]).toMatch(/^Dilate/);
    expect(c!.precision).toBe(1);
    expect(c!.dice).toBeGreaterThan(0.5);
    expect(c!.dice).toBeLessThan(1);
    expect(c!.hausdorff_mm).toBeGreaterThan(0);
    const before = tools.undoStack.length;
    const s = await analysis.applyStats();
    expect(tools.undoStack.length).toBe(before);
    expect(s!.rows).toHaveLength(1);
    expect(s!.rows[0].voxels).toBe(c!.voxelsB);
    expect(s!.rows[0].mean).toBeGreaterThan(-1000); // the dilated body takes some air
    expect(s!.image).toBe('CT');
    void vol;
  });

  it('runs Chan–Vese on the slice at the 3D cursor and adds a mask overlay', async () => {
    const { images, analysis, calls } = setup();
    const view = useViewStore();
    view.cursor = [5, 5, 4];
    analysis.forms.chanVese.iterations = 30;
    const ids = await analysis.applyChanVese();
    expect(calls[0].kind).toBe('analysis.chanVese');
    expect(calls[0].args.slice).toEqual({ axis: 2, index: 4 });
    const m = images.images.find((i) => i.id === ids[0])!;
    expect(m.role).toBe('overlay');
    expect(m.volume.voxelType).toBe('uint8');
    const d = m.volume.data;
    const count = (k: number) => Array.from(d.subarray(k * 120, (k + 1) * 120)).reduce((a, b) => a + b, 0);
    expect(count(4)).toBeGreaterThan(20);
    expect(count(3)).toBe(0); // only the cursor's slice
  });

  it('parses a kernel typed as rows and slices', () => {
    expect(parseKernel('1 2 3\n4 5 6\n\n7 8 9\n1 1 1')).toEqual({ kernel: [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1], size: [3, 2, 2] });
    expect(() => parseKernel('1 2\n3')).toThrow(/same number/);
  });
});
