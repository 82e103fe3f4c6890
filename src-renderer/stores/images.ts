/**
 * Loaded images (VolView style: one store per concern). The main image defines the
 * geometry of the views and the cursor; additional images and overlays (layers issue) are
 * kept here too. Volumes are wrapped in markRaw: the voxel array must never become a Vue
 * proxy (that would make every voxel read go through a getter and copy nothing but cost a lot).
 */
import { defineStore } from 'pinia';
import { markRaw, shallowRef, computed } from 'vue';
import type { Volume } from '../../src-shared/image/volume';

export type ImageRole = 'main' | 'additional' | 'overlay';

export interface LoadedImage {
  id: string;
  name: string;
  role: ImageRole;
  volume: Volume;
  modality: string;
  /** Unit of the real values shown in the status bar (e.g. "HU" for CT), '' when unknown. */
  units: string;
  /** Where it came from (folder or file path), for the recent list and the title bar. */
  source: string;
  /** Id of the copy the main process / host keeps (to release it, or to run jobs on it). */
  hostId?: string;
}

export function unitsFor(modality: string, metadata: Volume['metadata']): string {
  const m = modality.toUpperCase();
  if (m === 'CT') return 'HU';
  const u = metadata.RescaleType ?? metadata.Units;
  if (typeof u === 'string' && u && u.toUpperCase() !== 'US') return u;
  return '';
}

let nextId = 1;

export const useImagesStore = defineStore('images', () => {
  const images = shallowRef<LoadedImage[]>([]);
  /** Called with the images that were dropped (replaced or removed), to free their host copies. */
  let onRemoved: (gone: LoadedImage[]) => void = () => undefined;
  function setOnRemoved(fn: (gone: LoadedImage[]) => void) {
    onRemoved = fn;
  }

  const main = computed(() => images.value.find((i) => i.role === 'main') ?? null);
  const hasImage = computed(() => main.value !== null);

  function add(input: Omit<LoadedImage, 'id' | 'units' | 'volume'> & { volume: Volume; units?: string }): LoadedImage {
    const img: LoadedImage = {
      ...input,
      id: `img${nextId++}`,
      volume: markRaw(input.volume),
      units: input.units ?? unitsFor(input.modality, input.volume.metadata),
    };
    if (img.role === 'main') {
      // A new main image replaces the whole session (ITK-SNAP: "load as main image").
      const gone = images.value;
      images.value = [img];
      if (gone.length) onRemoved(gone);
    } else {
      if (!main.value) throw new Error('Load a main image before adding another image or an overlay.');
      images.value = [...images.value, img];
    }
    return img;
  }

  function remove(id: string) {
    const img = images.value.find((i) => i.id === id);
    if (!img) return;
    const gone = img.role === 'main' ? images.value : [img];
    images.value = img.role === 'main' ? [] : images.value.filter((i) => i.id !== id);
    onRemoved(gone);
  }

  function clear() {
    const gone = images.value;
    images.value = [];
    if (gone.length) onRemoved(gone);
  }

  return { images, main, hasImage, add, remove, clear, setOnRemoved };
});
