// The layer API of the images store: roles, looks, reorder, shown image, linked contrast,
// preview layer, host ids (uploads once).
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { Volume } from '../src-shared/image/volume';
import { useImagesStore } from '../src-renderer/stores/images';
import { useWindowLevelStore } from '../src-renderer/stores/window-level';

function vol(values: (i: number) => number, type: 'int16' | 'uint8' | 'float32' = 'int16', modality = 'CT'): Volume {
  const dims: [number, number, number] = [6, 5, 4];
  const n = 120;
  const data = type === 'uint8' ? new Uint8Array(n) : type === 'float32' ? new Float32Array(n) : new Int16Array(n);
  for (let i = 0; i < n; i++) data[i] = values(i);
  return {
    dims, spacing: [1, 1, 2], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: type, frames: 1,
    rescaleSlope: 1, rescaleIntercept: 0, metadata: { Modality: modality },
  };
}

describe('layer API', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('adds, updates, reorders, shows and removes layers', () => {
    const images = useImagesStore();
    const wl = useWindowLevelStore();
    const main = images.addLayer(vol((i) => i * 10), { role: 'main', name: 'CT' });
    const add = images.addLayer(vol((i) => i, 'float32', 'MR'), { role: 'additional', name: 'MR' });
    const mask = images.addLayer(vol((i) => (i % 7 === 0 ? 1 : 0), 'uint8', ''), { role: 'overlay', name: 'mask' });
    const pet = images.addLayer(vol((i) => i * 2, 'float32', 'PT'), { role: 'overlay', name: 'PET', colormap: 'hot', opacity: 0.4 });
    expect(images.layer(mask)!.isLabel).toBe(true);
    expect(images.layer(mask)!.opacity).toBe(0.5);
    expect(images.layer(pet)!.isLabel).toBe(false);
    expect(images.layer(pet)!.colormap).toBe('hot');
    expect(images.layer(pet)!.opacity).toBe(0.4);
    expect(images.overlays.map((o) => o.name)).toEqual(['mask', 'PET']);

    images.updateLayer(pet, { nickname: 'FDG', opacity: 3, visible: false });
    expect(images.layer(pet)).toMatchObject({ nickname: 'FDG', opacity: 1, visible: false });
    expect(() => images.updateLayer(add, { role: 'main' })).toThrow(/main image/);

    images.moveLayer(pet, -2);
    expect(images.images.map((i) => i.name)).toEqual(['CT', 'PET', 'MR', 'mask']);
    images.moveLayer(pet, -5); // never above the main image
    expect(images.images[0].name).toBe('CT');

    expect(images.shown!.id).toBe(main);
    images.setShown(add);
    expect(images.shown!.id).toBe(add);
    expect(() => images.setShown(mask)).toThrow();
    // Renaming the main image must not reset its window (records are replaced on change).
    wl.set(123, 45);
    images.updateLayer(main, { nickname: 'planning CT' });
    expect([wl.window, wl.level]).toEqual([123, 45]);

    images.removeLayer(add);
    expect(images.shown!.id).toBe(main);
    images.removeLayer(main);
    expect(images.images).toEqual([]);
  });

  it('main contrast goes through the window-level store; linking copies it to every layer', async () => {
    const images = useImagesStore();
    const wl = useWindowLevelStore();
    const main = images.addLayer(vol((i) => i * 10), { role: 'main', name: 'CT' });
    const b = images.addLayer(vol((i) => i, 'float32', 'MR'), { role: 'overlay', name: 'MR' });
    images.setContrast(main, 500, 100);
    expect([wl.window, wl.level]).toEqual([500, 100]);
    images.setContrast(b, 20, 5);
    expect(images.contrastOf(b)).toEqual([20, 5]);
    expect(images.contrastOf(main)).toEqual([500, 100]);
    images.setLinkContrast(true);
    expect(images.contrastOf(b)).toEqual([500, 100]);
    images.setContrast(b, 60, 30);
    expect(images.contrastOf(main)).toEqual([60, 30]);
    wl.set(70, 10);
    await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(images.contrastOf(b)).toEqual([70, 10]);
  });

  it('preview layer is outside the list; host ids upload once', async () => {
    const images = useImagesStore();
    images.addLayer(vol((i) => i), { role: 'main', name: 'CT', hostId: 'h-main' });
    const res = images.addLayer(vol((i) => i % 2, 'uint8'), { role: 'overlay', name: 'result' });
    images.setPreviewLayer(vol((i) => i % 3, 'uint8'), { colormap: 'autumn', opacity: 0.3 });
    expect(images.preview).toMatchObject({ colormap: 'autumn', opacity: 0.3, isLabel: true });
    expect(images.images.length).toBe(2);
    let uploads = 0;
    images.setHostUploader(async () => `h${++uploads}`);
    expect(await images.hostVolumeId(images.main!.id)).toBe('h-main');
    expect(await images.hostVolumeId(res)).toBe('h1');
    expect(await images.hostVolumeId(res)).toBe('h1');
    expect(uploads).toBe(1);
    images.setPreviewLayer(null);
    expect(images.preview).toBeNull();
  });
});
