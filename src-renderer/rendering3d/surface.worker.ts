/**
 * Web worker: label surfaces (marching cubes + smoothing, surface.ts) off the UI thread.
 * In: { id, volume (geometry, data, voxelType, frames…), frame }. Out: { id, meshes } with the
 * mesh arrays transferred, or { id, error }.
 */
import type { Volume } from '../../src-shared/image/volume';
import { labelSurfaces } from './surface';

self.onmessage = (e: MessageEvent<{ id: number; volume: Volume; frame: number }>) => {
  const { id, volume, frame } = e.data;
  try {
    const meshes = labelSurfaces(volume, {}, frame);
    const transfer: ArrayBuffer[] = [];
    for (const m of meshes) {
      transfer.push(m.points.buffer as ArrayBuffer, m.polys.buffer as ArrayBuffer);
      if (m.normals) transfer.push(m.normals.buffer as ArrayBuffer);
    }
    (self as unknown as Worker).postMessage({ id, meshes }, transfer);
  } catch (err) {
    (self as unknown as Worker).postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
