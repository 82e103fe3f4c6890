/**
 * Window/level of the main image, in real values (HU for CT). Presets follow common
 * radiology practice; "MR auto" (and the default for any non-CT image) uses the
 * 0.5–99.5 % percentiles of the image.
 */
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import { percentileRange } from '../rendering/slice-extract';
import { useImagesStore } from './images';

export interface WindowPreset {
  id: string;
  label: string;
  window: number;
  level: number;
}

export const CT_PRESETS: readonly WindowPreset[] = [
  { id: 'ct-brain', label: 'CT brain', window: 80, level: 40 },
  { id: 'ct-lung', label: 'CT lung', window: 1500, level: -600 },
  { id: 'ct-bone', label: 'CT bone', window: 2000, level: 300 },
  { id: 'ct-abdomen', label: 'CT abdomen', window: 400, level: 40 },
];

export const useWindowLevelStore = defineStore('windowLevel', () => {
  const images = useImagesStore();
  const window = ref(400);
  const level = ref(40);
  /** Id of the preset in use ('auto' for percentiles), null after a manual change. */
  const preset = ref<string | null>('ct-abdomen');

  function set(w: number, l: number) {
    window.value = Math.max(1e-6, w);
    level.value = l;
    preset.value = null;
  }

  function applyPreset(id: string) {
    if (id === 'auto') return auto();
    const p = CT_PRESETS.find((x) => x.id === id);
    if (!p) throw new Error(`Unknown window preset ${id}`);
    window.value = p.window;
    level.value = p.level;
    preset.value = id;
  }

  /** Percentile window of the main image ("MR auto"). */
  function auto() {
    const img = images.main;
    if (!img) return;
    const [lo, hi] = percentileRange(img.volume);
    window.value = Math.max(hi - lo, 1e-6);
    level.value = (lo + hi) / 2;
    preset.value = 'auto';
  }

  /**
   * Drag to adjust (as in ITK-SNAP and Slicer): dragging right widens the window, dragging
   * down raises the level (darker picture). Sensitivity is the current window / 256 per
   * pixel, so the same gesture works for HU and for MR arbitrary units.
   */
  function dragBy(dxPixels: number, dyPixels: number) {
    const k = Math.max(window.value, 1) / 256;
    set(window.value + dxPixels * k, level.value + dyPixels * k);
  }

  // The layer API reads and writes the main image's contrast through these.
  images.bindMainContrast({
    get: () => [window.value, level.value],
    set: (w, l) => set(w, l),
  });
  // "Link contrast across layers": the main image's window/level goes to every layer.
  watch([window, level], ([w, l]) => {
    const m = images.main;
    if (images.linkContrast && m) images.setContrast(m.id, w, l, true);
  });

  // Layer records are replaced on every change (rename, opacity…): react to a new main VOLUME.
  watch(
    () => images.main?.volume,
    () => {
      const img = images.main;
      if (!img) return;
      if (img.modality.toUpperCase() === 'CT') applyPreset('ct-abdomen');
      else auto();
    },
    { flush: 'sync' },
  );

  return { window, level, preset, set, applyPreset, auto, dragBy, presets: CT_PRESETS };
});
