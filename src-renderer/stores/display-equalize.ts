/**
 * Histogram equalisation as a display option of a layer (Layer Inspector ▸ Contrast): the
 * mode lives in the layer record (`equalize`, saved in workspaces); this store turns it into
 * what the views draw (rendering/equalize-display.ts) and, for 'adaptive', makes the CLAHE
 * display volume with the 'analysis.clahe' job on the host (all cores, off the UI thread),
 * once per layer volume. The stored voxels never change: the cursor inspector, the tools
 * and exports still see the layer's own values.
 */
import { defineStore } from 'pinia';
import { markRaw, ref, shallowRef, watch } from 'vue';
import type { Volume } from '../../src-shared/image/volume';
import { globalEqualizedLook, type EqualizedLook, type EqualizeMode } from '../rendering/equalize-display';
import { isRgb } from '../rendering/rgb-plane';
import { useImagesStore, type LoadedImage } from './images';

export interface DisplayEqualizeBackend {
  startJob(kind: string, args: Record<string, unknown>, inputs: string[], onProgress: (fraction: number | null, message: string) => void): Promise<{ done: Promise<{ volumes: { id: string }[] }>; cancel(): Promise<void> }>;
  getVolume(hostId: string): Promise<Volume>;
  releaseVolumes(ids: string[]): Promise<unknown>;
}

/** What a view draws for a layer instead of its own look (absent: its own look). */
export interface EqualizedPlane extends EqualizedLook {
  /** The volume to sample (the CLAHE display volume for 'adaptive', else the layer's). */
  volume: Volume;
}

type AdaptiveState = { state: 'running'; fraction: number } | { state: 'ready'; volume: Volume } | { state: 'failed'; error: string };

export const useDisplayEqualizeStore = defineStore('displayEqualize', () => {
  const images = useImagesStore();
  let backend: DisplayEqualizeBackend | null = null;
  /** CLAHE display volumes by the layer volume they were made from (dropped with it). */
  const adaptive = shallowRef(new Map<Volume, AdaptiveState>());
  /** Bumped whenever a display volume arrives (views redraw). */
  const version = ref(0);

  function setBackend(b: DisplayEqualizeBackend) {
    backend = b;
    for (const l of images.images) if (l.equalize === 'adaptive') void ensureAdaptive(l.id);
  }

  function modeOf(l: Pick<LoadedImage, 'equalize'>): EqualizeMode {
    return l.equalize ?? 'off';
  }

  function put(v: Volume, s: AdaptiveState) {
    const m = new Map(adaptive.value);
    m.set(v, s);
    adaptive.value = m;
    version.value++;
  }

  function setMode(id: string, mode: EqualizeMode) {
    images.updateLayer(id, { equalize: mode === 'off' ? undefined : mode });
    if (mode === 'adaptive') void ensureAdaptive(id);
  }

  /** Starts the CLAHE display volume of a layer unless it exists or is being made. */
  async function ensureAdaptive(id: string): Promise<void> {
    const l = images.layer(id);
    if (!l || !backend || !modesFor(l).includes('adaptive')) return;
    const src = l.volume;
    const cur = adaptive.value.get(src);
    if (cur && cur.state !== 'failed') return;
    put(src, { state: 'running', fraction: 0 });
    const b = backend;
    try {
      const hostId = await images.hostVolumeId(id);
      const job = await b.startJob('analysis.clahe', {}, [hostId], (fraction) => {
        const s = adaptive.value.get(src);
        if (s?.state === 'running' && fraction !== null) put(src, { state: 'running', fraction });
      });
      const r = await job.done;
      const out = r.volumes[0];
      const vol = await b.getVolume(out.id);
      await b.releaseVolumes([out.id]).catch(() => undefined); // the renderer keeps the only copy it needs
      put(src, { state: 'ready', volume: markRaw(vol) });
    } catch (e) {
      put(src, { state: 'failed', error: e instanceof Error ? e.message : String(e) });
    }
  }

  /** The state of a layer's adaptive display volume (for the inspector). */
  function adaptiveState(id: string): AdaptiveState | null {
    const l = images.layer(id);
    return l ? (adaptive.value.get(l.volume) ?? null) : null;
  }

  /**
   * Which modes a layer can be shown in: none for labels and colour images (drawn as they
   * are); no 'adaptive' for 4D images (the CLAHE display volume is of one 3D volume).
   */
  function modesFor(l: Pick<LoadedImage, 'volume' | 'isLabel'>): EqualizeMode[] {
    if (l.isLabel || isRgb(l.volume)) return [];
    return l.volume.frames > 1 ? ['off', 'global'] : ['off', 'global', 'adaptive'];
  }

  /**
   * What a view draws for a layer with colour map `lut`: null when it is not equalised (or
   * its CLAHE volume is not ready yet: the layer is drawn as usual meanwhile), and for the
   * layers modesFor excludes.
   */
  function planeLook(l: Pick<LoadedImage, 'equalize' | 'volume' | 'isLabel'>, lut: Uint8ClampedArray): EqualizedPlane | null {
    const mode = modeOf(l);
    if (mode === 'off' || !modesFor(l).includes(mode)) return null;
    if (mode === 'global') return { volume: l.volume, ...globalEqualizedLook(l.volume, lut) };
    const s = adaptive.value.get(l.volume);
    return s?.state === 'ready' ? { volume: s.volume, window: 1, level: 0.5, lut } : null;
  }

  // Layers that ask for 'adaptive' without a display volume (opened from a workspace, a new
  // volume under the same layer) get one; volumes of removed layers are dropped.
  watch(
    () => images.images,
    (ls) => {
      for (const l of ls) if (l.equalize === 'adaptive' && !adaptive.value.has(l.volume)) void ensureAdaptive(l.id);
      const live = new Set(ls.map((l) => l.volume));
      if ([...adaptive.value.keys()].some((v) => !live.has(v))) adaptive.value = new Map([...adaptive.value].filter(([v]) => live.has(v)));
    },
  );

  return { version, setBackend, setMode, modeOf, modesFor, ensureAdaptive, adaptiveState, planeLook };
});
