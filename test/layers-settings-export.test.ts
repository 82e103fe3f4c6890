// Custom colour maps through the settings (colormaps store + the host's settings.json and
// the settings.get/set contract), and exporting a layer (layer-ui store): path checks, never
// the layer's own source file, renderer-made volumes uploaded once before export.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Volume } from '../src-shared/image/volume';
import { parseArgs } from '../src-shared/ipc/contract';
import { UserSettings } from '../src-main/services/settings';
import { useColorMapsStore, CUSTOM_MAPS_KEY } from '../src-renderer/stores/colormaps';
import { useImagesStore } from '../src-renderer/stores/images';
import { exportFileName, useLayerUiStore } from '../src-renderer/stores/layer-ui';

function vol(): Volume {
  const data = new Int16Array(24).map((_, i) => i);
  return { dims: [4, 3, 2], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: { Modality: 'CT' } };
}

let dir: string;
beforeEach(() => {
  setActivePinia(createPinia());
  dir = mkdtempSync(path.join(tmpdir(), 'lattice-settings-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('settings', () => {
  it('host settings.json: get/set/remove, damaged file reads as empty', async () => {
    const s = new UserSettings(dir);
    expect(await s.get('a')).toBeNull();
    await Promise.all([s.set('a', { x: 1 }), s.set('b', [1, 2])]);
    expect(await s.get('a')).toEqual({ x: 1 });
    expect(JSON.parse(readFileSync(path.join(dir, 'settings.json'), 'utf8'))).toEqual({ a: { x: 1 }, b: [1, 2] });
    await s.set('a', null);
    expect(await s.get('a')).toBeNull();
    writeFileSync(path.join(dir, 'settings.json'), '{ broken');
    expect(await s.get('b')).toBeNull();
  });

  it('contract validates keys and size', () => {
    expect(parseArgs('settings.set', { key: 'colormaps.custom', value: [1] })).toEqual({ key: 'colormaps.custom', value: [1] });
    expect(() => parseArgs('settings.get', { key: '../etc' })).toThrow(/key/);
    expect(() => parseArgs('settings.set', { key: 'x', value: 'y'.repeat(300 * 1024) })).toThrow(/256 KiB/);
  });

  it('colour-map store: saves custom maps through the backend and reads them back (bad entries dropped)', async () => {
    const store = new UserSettings(dir);
    const backend = { get: (k: string) => store.get(k), set: (k: string, v: unknown) => store.set(k, v) };
    const cm = useColorMapsStore();
    await cm.setBackend(backend);
    expect(cm.custom).toEqual([]);
    const pts = [
      { x: 0, r: 0, g: 0, b: 0, a: 0 },
      { x: 1, r: 255, g: 0, b: 0, a: 1 },
    ];
    const id = await cm.saveCustom('Red ramp', pts);
    expect(id).toBe('custom:Red ramp');
    expect(cm.lut(id)[255 * 4]).toBe(255);
    expect(cm.lut(`${id}:inv`)[0]).toBe(255);
    await store.set(CUSTOM_MAPS_KEY, [...((await store.get(CUSTOM_MAPS_KEY)) as unknown[]), { name: 'bad', points: [] }]);
    setActivePinia(createPinia());
    const again = useColorMapsStore();
    await again.setBackend(backend);
    expect(again.custom.map((m) => m.id)).toEqual(['custom:Red ramp']);
    expect(again.all.length).toBeGreaterThan(11);
    // Drafts draw live and replace the LUT.
    const before = again.lut('draft:x');
    again.setDraft('draft:x', { id: 'draft:x', name: 'd', points: pts });
    expect(again.lut('draft:x')).not.toBe(before);
    expect(again.lut('draft:x')[255 * 4]).toBe(255);
  });
});

describe('export layer', () => {
  it('checks the path, refuses the source file, uploads renderer volumes once', async () => {
    const images = useImagesStore();
    const ui = useLayerUiStore();
    const calls: string[] = [];
    images.setHostUploader(async () => {
      calls.push('upload');
      return 'h9';
    });
    ui.setExportBackend({
      hasNativeDialogs: async () => false,
      saveDialog: async () => null,
      exportVolume: async (hostId, p, overwrite) => {
        calls.push(`export ${hostId} ${p} ${overwrite}`);
        return { path: p, bytes: 2 * 1048576 };
      },
    });
    const main = images.addLayer(vol(), { role: 'main', name: 'CT', source: '/data/ct.nii.gz', hostId: 'h1' });
    const made = images.addLayer(vol(), { role: 'overlay', name: 'Threshold 60/none' });
    await ui.startExport(made);
    expect(ui.exportOpen).toBe(true);
    expect(ui.exportPath).toBe('Threshold_60_none.nii.gz');
    expect(await ui.exportTo(main, '/data/ct.nii.gz')).toBe(false);
    expect(ui.exportError).toMatch(/own source file/);
    expect(await ui.exportTo(made, '/data/ct.nii.gz', true)).toBe(false);
    expect(ui.exportError).toMatch(/source file of CT/);
    // NRRD, MHA, PNG… are written too (issue 12); a name no writer takes is refused.
    expect(await ui.exportTo(main, '/tmp/out.docx')).toBe(false);
    expect(ui.exportError).toMatch(/\.nii/);
    expect(await ui.exportTo(main, '/tmp/ct copy.nii.gz')).toBe(true);
    expect(await ui.exportTo(made, '/tmp/t.nii')).toBe(true);
    expect(await ui.exportTo(made, '/tmp/t2.nii', true)).toBe(true);
    expect(calls).toEqual(['export h1 /tmp/ct copy.nii.gz false', 'upload', 'export h9 /tmp/t.nii false', 'export h9 /tmp/t2.nii true']);
    expect(ui.exportMessage).toMatch(/Wrote \/tmp\/t2.nii \(2.0 MB\)/);
    expect(exportFileName('a/b:c.nii')).toBe('a_b_c.nii.gz');
  });

  it('uses the native save dialog where there is one', async () => {
    const images = useImagesStore();
    const ui = useLayerUiStore();
    const seen: string[] = [];
    ui.setExportBackend({
      hasNativeDialogs: async () => true,
      saveDialog: async (d) => {
        seen.push(d);
        return '/out/x.nii.gz';
      },
      exportVolume: async (h, p, overwrite) => {
        seen.push(`${h} ${p} ${overwrite}`);
        return { path: p, bytes: 1 };
      },
      defaultFolder: async () => '/home/u/Documents',
    });
    images.addLayer(vol(), { role: 'main', name: 'CT', source: '/data/series1', hostId: 'h1' });
    await ui.startExport();
    expect(ui.exportOpen).toBe(false);
    // Proposed in the output folder, never inside the DICOM series' folder.
    expect(seen).toEqual(['/home/u/Documents/CT.nii.gz', 'h1 /out/x.nii.gz true']);
  });
});
