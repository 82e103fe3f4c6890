/**
 * Colour maps available to the layers: the presets plus the user's custom maps, which are
 * kept in the user's settings through the host (settings.get/set, key 'colormaps.custom'),
 * so Electron and the browser host behave the same. LUTs are built once per map version.
 */
import { defineStore } from 'pinia';
import { computed, shallowRef } from 'vue';
import { type ColorMap, PRESET_COLORMAPS, buildLut, resolveColorMap, sanitizeColorMap } from '../colormaps';

export interface SettingsBackend {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
}

export const CUSTOM_MAPS_KEY = 'colormaps.custom';

export const useColorMapsStore = defineStore('colormaps', () => {
  const custom = shallowRef<ColorMap[]>([]);
  /**
   * Maps being edited (not yet saved): id → map. The layer that uses such an id draws the
   * edited points live, as the editor's points move.
   */
  const drafts = shallowRef<Record<string, ColorMap>>({});
  let backend: SettingsBackend | null = null;
  const lutCache = new Map<string, { map: ColorMap; lut: Uint8ClampedArray }>();

  const all = computed(() => [...PRESET_COLORMAPS, ...custom.value]);

  function get(id: string): ColorMap {
    return drafts.value[id] ?? resolveColorMap(id, custom.value);
  }

  /** The 256-entry RGBA LUT of a map id (cached while the map object stays the same). */
  function lut(id: string): Uint8ClampedArray {
    const map = get(id);
    const hit = lutCache.get(id);
    if (hit && hit.map === map) return hit.lut;
    const l = buildLut(map);
    lutCache.set(id, { map, lut: l });
    return l;
  }

  function setDraft(id: string, map: ColorMap | null) {
    const next = { ...drafts.value };
    if (map) next[id] = map;
    else delete next[id];
    drafts.value = next;
  }

  async function setBackend(b: SettingsBackend) {
    backend = b;
    try {
      const raw = await b.get(CUSTOM_MAPS_KEY);
      custom.value = Array.isArray(raw) ? raw.map(sanitizeColorMap).filter((m): m is ColorMap => !!m) : [];
    } catch {
      custom.value = [];
    }
  }

  async function persist() {
    if (!backend) throw new Error('No connection to the Lattice host: custom colour maps cannot be saved.');
    await backend.set(
      CUSTOM_MAPS_KEY,
      custom.value.map((m) => ({ name: m.name, points: m.points })),
    );
  }

  /** Saves (or replaces, by name) a custom map; returns its id ('custom:<name>'). */
  async function saveCustom(name: string, points: ColorMap['points']): Promise<string> {
    const m = sanitizeColorMap({ name, points });
    if (!m) throw new Error('A colour map needs a name and at least two valid points.');
    custom.value = [...custom.value.filter((c) => c.id !== m.id), m];
    await persist();
    return m.id;
  }

  async function deleteCustom(id: string) {
    custom.value = custom.value.filter((c) => c.id !== id);
    await persist();
  }

  return { custom, all, drafts, get, lut, setDraft, setBackend, saveCustom, deleteCustom };
});
