// Histogram equalisation as a display option (rendering/equalize-display.ts,
// stores/display-equalize.ts): the global display LUT draws exactly the colour of the
// equalisation operation's value; 'adaptive' draws the CLAHE display volume made by the
// 'analysis.clahe' job; off restores the layer's own look; the mode is saved in workspaces.
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { Vec3, Volume } from '../src-shared/image/volume';
import { clahe, equalizeHistogram, runAnalysisJob } from '../src-shared/analysis';
import { workspaceLayerSchema } from '../src-shared/workspace/workspace';
import { buildLut, PRESET_COLORMAPS } from '../src-renderer/colormaps';
import { lutToRgba } from '../src-renderer/rendering/layer-plane';
import { globalEqualizedLook } from '../src-renderer/rendering/equalize-display';
import { useImagesStore } from '../src-renderer/stores/images';
import { useWindowLevelStore } from '../src-renderer/stores/window-level';
import { useDisplayEqualizeStore } from '../src-renderer/stores/display-equalize';

function volume(dims: Vec3, f: (i: number, j: number, k: number) => number, type: 'int16' | 'float32', slope = 1, intercept = 0): Volume {
  const n = dims[0] * dims[1] * dims[2];
  const data = type === 'int16' ? new Int16Array(n) : new Float32Array(n);
  for (let k = 0, q = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++, q++) data[q] = f(i, j, k);
  return { dims, spacing: [0.7, 0.9, 2.5], origin: [1, 2, 3], direction: [0, 1, 0, -1, 0, 0, 0, 0, 1], data, voxelType: type, frames: 1, rescaleSlope: slope, rescaleIntercept: intercept, metadata: {} };
}

/** Grey level index (0…255) of each pixel drawn through a LUT, and of a plain grey ramp. */
const hot = buildLut(PRESET_COLORMAPS.find((m) => m.id === 'hot')!);
const grey = buildLut(PRESET_COLORMAPS.find((m) => m.id === 'grayscale')!);

describe('display equalisation', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('global: the display LUT draws colormap(equalize_hist value) — exactly for integer images, within one colour step otherwise', () => {
    // Integer image (one bin per value) and a rescaled one (CT-like stored + intercept: 256 bins).
    const int = volume([30, 20, 6], (i, j, k) => Math.round(40 * Math.sin(i / 3) + j * j * 0.3 + k * 7 + ((i * 13 + j * 7) % 9)), 'int16');
    const ct = volume([30, 20, 6], (i, j, k) => Math.round(900 * Math.cos(i / 5) * Math.sin(j / 4) + k * 30) + 1024, 'int16', 1, -1024);
    for (const [name, vol, tol] of [['integer', int, 0], ['rescaled', ct, 1]] as const) {
      const eq = equalizeHistogram(vol).data as Float32Array;
      const look = globalEqualizedLook(vol, hot);
      expect(globalEqualizedLook(vol, hot), 'cached per volume and map').toBe(look);
      const rgba = new Uint8ClampedArray(eq.length * 4);
      lutToRgba(Float32Array.from(vol.data), { slope: vol.rescaleSlope, intercept: vol.rescaleIntercept, window: look.window, level: look.level, lut: look.lut }, rgba);
      let worst = 0;
      for (let q = 0; q < eq.length; q++) {
        // The colour the operation's value gets in the same map: nearest entry of 256.
        const e = Math.round(eq[q] * 255);
        // Hot is monotone per channel sum: compare the entry whose colour was drawn.
        const drawn = [0, 1, 2].map((c) => rgba[q * 4 + c]);
        let best = 256;
        for (let t = Math.max(0, e - 3); t <= Math.min(255, e + 3); t++) if ([0, 1, 2].every((c) => hot[t * 4 + c] === drawn[c])) best = Math.min(best, Math.abs(t - e));
        worst = Math.max(worst, best);
      }
      expect(worst, name).toBeLessThanOrEqual(tol);
    }
  });

  it('the layer keeps its mode; adaptive draws the CLAHE volume from the job, label layers never change, off restores the look', async () => {
    const images = useImagesStore();
    useWindowLevelStore();
    const ct = volume([24, 20, 8], (i, j, k) => (i > 6 && i < 18 && j > 4 && j < 15 ? 60 : -900) + ((i * 7 + j * 3 + k) % 11) * 4 + 1024, 'int16', 1, -1024);
    images.add({ name: 'CT', role: 'main', volume: ct, modality: 'CT', source: '/data/ct', hostId: 'ct' });
    const main = images.main!;
    const labels = images.addLayer(volume([24, 20, 8], (i) => (i > 10 ? 1 : 0), 'int16'), { role: 'overlay', name: 'mask', isLabel: true, hostId: 'm' });
    const held = new Map<string, Volume>([['ct', ct]]);
    const calls: Array<{ kind: string; args: unknown; inputs: string[] }> = [];
    const released: string[] = [];
    const eqStore = useDisplayEqualizeStore();
    eqStore.setBackend({
      async startJob(kind, args, inputs, onProgress) {
        calls.push({ kind, args, inputs });
        const done = runAnalysisJob(kind, args, inputs.map((id) => held.get(id)!), { onProgress: (f, m) => onProgress(f, m) }).then((o) => {
          held.set('out1', o.volumes[0]);
          return { volumes: [{ id: 'out1' }] };
        });
        return { done, cancel: async () => undefined };
      },
      getVolume: async (id) => held.get(id)!,
      releaseVolumes: async (ids) => released.push(...ids),
    });
    expect(eqStore.planeLook(images.layer(main.id)!, grey)).toBeNull();

    eqStore.setMode(main.id, 'global');
    expect(images.layer(main.id)!.equalize).toBe('global');
    const g = eqStore.planeLook(images.layer(main.id)!, grey)!;
    expect(g.volume).toBe(ct); // the layer's own voxels, through another LUT
    expect(g.lut).not.toBe(grey);

    eqStore.setMode(main.id, 'adaptive');
    await eqStore.ensureAdaptive(main.id); // the job started by setMode; this waits for nothing new
    await new Promise((r) => setTimeout(r, 0));
    await expect.poll(() => eqStore.adaptiveState(main.id)?.state).toBe('ready');
    expect(calls).toEqual([{ kind: 'analysis.clahe', args: {}, inputs: ['ct'] }]);
    expect(released).toEqual(['out1']);
    const a = eqStore.planeLook(images.layer(main.id)!, grey)!;
    expect({ window: a.window, level: a.level, lut: a.lut }).toEqual({ window: 1, level: 0.5, lut: grey });
    expect(Array.from(a.volume.data)).toEqual(Array.from((await clahe(ct)).data));
    expect(main.volume.data).toBe(ct.data); // stored data untouched

    // Which modes a layer offers: not labels nor colour images; no adaptive for 4D.
    expect(eqStore.modesFor(images.layer(main.id)!)).toEqual(['off', 'global', 'adaptive']);
    expect(eqStore.modesFor({ volume: { ...ct, frames: 2 }, isLabel: false })).toEqual(['off', 'global']);
    expect(eqStore.modesFor({ volume: { ...ct, voxelType: 'uint8', components: 3, data: new Uint8Array(ct.data.length * 3) }, isLabel: false })).toEqual([]);
    expect(eqStore.modesFor(images.layer(labels)!)).toEqual([]);
    // A label layer is never equalised; switching back to off gives the layer's own look.
    images.updateLayer(labels, { equalize: 'global' });
    expect(eqStore.planeLook(images.layer(labels)!, grey)).toBeNull();
    eqStore.setMode(main.id, 'off');
    expect(images.layer(main.id)!.equalize).toBeUndefined();
    expect(eqStore.planeLook(images.layer(main.id)!, grey)).toBeNull();
    // Switching adaptive on again reuses the volume already made.
    eqStore.setMode(main.id, 'adaptive');
    expect(eqStore.planeLook(images.layer(main.id)!, grey)!.volume).toBe(a.volume);
    expect(calls.length).toBe(1);
  });

  it('workspace layers store the mode (absent = off) and refuse unknown modes', () => {
    const base = { file: 'ct.nii.gz', kind: 'file', role: 'main', name: 'CT', window: 400, level: 40 };
    expect(workspaceLayerSchema.parse({ ...base, equalize: 'adaptive' }).equalize).toBe('adaptive');
    expect(workspaceLayerSchema.parse(base).equalize).toBeUndefined();
    expect(workspaceLayerSchema.safeParse({ ...base, equalize: 'clahe' }).success).toBe(false);
  });
});
