/**
 * Messages of the 3D flood fill worker (src-renderer/segmentation/flood-fill.worker.ts), and
 * the worker's side of them as a plain class so that the protocol is tested without a worker.
 *
 * The labels travel as a copy made for this fill (transferred both ways: the worker hands the
 * buffer back with the region so the client reuses it for the next copy). The image, large and
 * unchanging for a loaded layer, is structured-cloned once per image `key` and kept by the
 * worker (only the latest one); later fills on it send the key alone.
 */
import type { VoxelArray } from '../image/volume';
import { floodRegion } from './flood-fill';

export interface FloodRequest {
  id: number;
  labels: VoxelArray;
  dims: [number, number, number];
  seed: [number, number, number];
  threeD: boolean;
  sliceAxis: number;
  maxVoxels?: number;
  /** The image range condition; `image` present only when the worker lacks image `key`. */
  range?: { key: number; image?: VoxelArray; slope: number; intercept: number; lower: number; upper: number };
}

export type FloodReply =
  | { id: number; region: Uint32Array; labels: VoxelArray; ms: number }
  /** `needImage`: the worker does not hold the image of this key (resend it with the image). */
  | { id: number; error: string; needImage?: boolean; labels?: VoxelArray };

export class FloodFillService {
  private image: { key: number; data: VoxelArray } | null = null;

  /** The reply to one request and the buffers to transfer with it. */
  handle(req: FloodRequest): { reply: FloodReply; transfer: ArrayBuffer[] } {
    const back = [req.labels.buffer as ArrayBuffer];
    let range;
    if (req.range) {
      const { key, image, ...r } = req.range;
      if (image) this.image = { key, data: image };
      if (this.image?.key !== key) return { reply: { id: req.id, error: `image ${key} is not held by the worker`, needImage: true, labels: req.labels }, transfer: back };
      range = { ...r, image: this.image.data };
    }
    try {
      const t0 = performance.now();
      const region = floodRegion(req.labels, req.dims, req.seed, { threeD: req.threeD, sliceAxis: req.sliceAxis, maxVoxels: req.maxVoxels, range });
      return { reply: { id: req.id, region, labels: req.labels, ms: performance.now() - t0 }, transfer: [region.buffer as ArrayBuffer, ...back] };
    } catch (e) {
      return { reply: { id: req.id, error: e instanceof Error ? e.message : String(e), labels: req.labels }, transfer: back };
    }
  }
}
