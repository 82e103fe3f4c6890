/**
 * 3D flood fill in a web worker (flood-fill.worker.ts), so that filling a large region of a big
 * volume does not freeze the UI. The labels are copied into a reused spare buffer and
 * transferred; the image of the range condition is sent once per image (see
 * flood-fill-protocol.ts). Falls back to filling on this thread where workers are unavailable
 * (unit tests under Node).
 */
import type { Volume, VoxelArray } from '../../src-shared/image/volume';
import { floodRegion } from '../../src-shared/segmentation/flood-fill';
import type { FloodReply, FloodRequest } from '../../src-shared/segmentation/flood-fill-protocol';

export interface FloodJob {
  labels: Volume;
  seed: [number, number, number];
  sliceAxis: number;
  range?: { image: Volume; lower: number; upper: number };
}

let worker: Worker | null = null;
let nextId = 1;
const waiting = new Map<number, (r: FloodReply) => void>();
/** Image volumes the worker has been sent (the worker keeps the latest only). */
const imageKeys = new WeakMap<Volume, number>();
let nextKey = 1;
let heldKey = 0;
let spare: VoxelArray | null = null;

function getWorker(): Worker | null {
  if (worker) return worker;
  if (typeof Worker === 'undefined') return null;
  try {
    worker = new Worker(new URL('./flood-fill.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<FloodReply>) => {
      const w = waiting.get(e.data.id);
      waiting.delete(e.data.id);
      w?.(e.data);
    };
    return worker;
  } catch {
    return null;
  }
}

function copyLabels(src: VoxelArray): VoxelArray {
  const s = spare;
  spare = null;
  if (s && s.constructor === src.constructor && s.length === src.length) {
    s.set(src as never);
    return s;
  }
  return src.slice();
}

function post(w: Worker, req: FloodRequest): Promise<FloodReply> {
  return new Promise((ok) => {
    waiting.set(req.id, ok);
    w.postMessage(req, [req.labels.buffer as ArrayBuffer]);
  });
}

/** The region's linear indices (computed from the labels as they are now). */
export async function floodRegionOffThread(job: FloodJob): Promise<{ region: Uint32Array; inWorker: boolean }> {
  const { labels, seed, sliceAxis, range } = job;
  const img = range?.image;
  const w = getWorker();
  if (!w) {
    const r = img ? { image: img.data, slope: img.rescaleSlope || 1, intercept: img.rescaleIntercept || 0, lower: range.lower, upper: range.upper } : undefined;
    return { region: floodRegion(labels.data, labels.dims, seed, { threeD: true, sliceAxis, range: r }), inWorker: false };
  }
  let key = 0;
  if (img) {
    key = imageKeys.get(img) ?? nextKey++;
    imageKeys.set(img, key);
  }
  const request = (withImage: boolean): FloodRequest => ({
    id: nextId++,
    labels: copyLabels(labels.data),
    dims: [...labels.dims] as [number, number, number],
    seed,
    threeD: true,
    sliceAxis,
    // The image is structured-cloned (the layer keeps its own array).
    range: img ? { key, ...(withImage ? { image: img.data } : {}), slope: img.rescaleSlope || 1, intercept: img.rescaleIntercept || 0, lower: range.lower, upper: range.upper } : undefined,
  });
  let reply = await post(w, request(!!img && heldKey !== key));
  if ('error' in reply && reply.needImage) {
    if (reply.labels) spare = reply.labels;
    reply = await post(w, request(true));
  }
  if (img) heldKey = key;
  if (reply.labels) spare = reply.labels;
  if ('error' in reply) throw new Error(reply.error);
  return { region: reply.region, inWorker: true };
}
