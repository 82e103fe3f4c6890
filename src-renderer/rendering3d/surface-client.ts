/**
 * Label surfaces computed in a web worker (surface.worker.ts), cached per volume object (layer
 * volumes are immutable: a changed mask is a new Volume, so the cache key is the object).
 * Falls back to computing on this thread where workers are unavailable.
 */
import type { Volume } from '../../src-shared/image/volume';
import type { LabelMesh } from './surface';

const cache = new WeakMap<Volume, Promise<LabelMesh[]>>();
let worker: Worker | null = null;
let nextId = 1;
const waiting = new Map<number, { ok(m: LabelMesh[]): void; fail(e: Error): void }>();

function getWorker(): Worker | null {
  if (worker) return worker;
  try {
    worker = new Worker(new URL('./surface.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<{ id: number; meshes?: LabelMesh[]; error?: string }>) => {
      const w = waiting.get(e.data.id);
      if (!w) return;
      waiting.delete(e.data.id);
      if (e.data.error !== undefined) w.fail(new Error(e.data.error));
      else w.ok(e.data.meshes ?? []);
    };
    return worker;
  } catch {
    return null;
  }
}

export function surfacesOf(vol: Volume, frame = 0): Promise<LabelMesh[]> {
  const hit = cache.get(vol);
  if (hit) return hit;
  const w = getWorker();
  const p = w
    ? new Promise<LabelMesh[]>((ok, fail) => {
        const id = nextId++;
        waiting.set(id, { ok, fail });
        // The structured clone copies the voxels (the layer keeps its own array).
        const { metadata: _m, ...plain } = vol;
        w.postMessage({ id, volume: { ...plain, metadata: {} }, frame });
      })
    : import('./surface').then((s) => s.labelSurfaces(vol, {}, frame));
  cache.set(vol, p);
  return p;
}
