/**
 * What the analysis operations share: options (progress, cancel, the slab executor), real
 * voxel values as float32, float32 result volumes, foreground of a mask or label.
 */
import { voxelCount, type ImageGeometry, type Volume } from '../image/volume';
import { throwIfAborted, type ProcessingOptions } from '../processing/progress';
import { volumeOnGrid } from '../processing/volume-utils';
import { foregroundRange, InlineSlabExecutor, type KernelArgMap, type KernelName, type SlabExecutor, type VoxelTypeName } from './kernels';

export interface AnalysisOptions extends ProcessingOptions {
  /** Runs the heavy kernels (all cores in the app and the CLI); inline when absent. */
  executor?: SlabExecutor;
}

export function executorOf(opts: AnalysisOptions): SlabExecutor {
  return opts.executor ?? new InlineSlabExecutor();
}

/** Unique buffer names per call (several operations may share one executor). */
let serial = 0;
export function bufferName(what: string): string {
  return `analysis-${what}-${++serial}`;
}

/** Real values (stored · slope + intercept) of the first 3D frame, into `out` (new when absent). */
export function realValues(vol: Volume, out?: Float32Array): Float32Array {
  const n = voxelCount(vol);
  const o = out ?? new Float32Array(n);
  const d = vol.data;
  const slope = vol.rescaleSlope || 1;
  const icpt = vol.rescaleIntercept || 0;
  if (slope === 1 && icpt === 0) {
    if (d instanceof Float32Array) o.set(d.subarray(0, n));
    else for (let i = 0; i < n; i++) o[i] = d[i];
  } else for (let i = 0; i < n; i++) o[i] = d[i] * slope + icpt;
  return o;
}

/** A float32 volume on the grid of `g` (slope 1), named in metadata for the UI. */
export function floatResult(g: ImageGeometry, data: Float32Array, src?: Volume, description?: string): Volume {
  const meta: Volume['metadata'] = src ? { ...src.metadata } : {};
  if (description) meta.Derivation = description;
  return volumeOnGrid(g, data, meta);
}

/**
 * Foreground of a mask or label volume's first frame: value ≠ 0, or, with `label`, real
 * value = label. Returned as a 0/1 Uint8Array (`into` when given).
 */
export function foreground(vol: Volume, label?: number, into?: Uint8Array): Uint8Array {
  const n = voxelCount(vol);
  const out = into ?? new Uint8Array(n);
  foregroundRange(vol.data, out, 0, n, storedLabel(vol, label));
  return out;
}

/** The stored value of real value `label` (undefined stays undefined: any non-zero voxel). */
function storedLabel(vol: Volume, label?: number): number | undefined {
  return label === undefined ? undefined : (label - (vol.rescaleIntercept || 0)) / (vol.rescaleSlope || 1);
}

/**
 * foreground() into a byte mask in executor buffer `name` (allocBytes), on every thread: the
 * voxels are copied into the executor's memory once (a memcpy) and compared there by slabs.
 */
export async function foregroundShared(ex: SlabExecutor, vol: Volume, name: string, label?: number): Promise<Uint8Array> {
  const n = voxelCount(vol);
  const out = allocBytes(ex, name, n);
  if (ex.threads === 1) return foreground(vol, label, out);
  const src = vol.data.subarray(0, n);
  const raw = bufferName('fg-raw');
  const r = ex.alloc(raw, Math.ceil(src.byteLength / 4), true);
  try {
    new Uint8Array(r.buffer, r.byteOffset, src.byteLength).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
    const type = vol.data.constructor.name as VoxelTypeName;
    await ex.run('foreground', { raw, type, dst: name, plane: vol.dims[0] * vol.dims[1], stored: storedLabel(vol, label) }, vol.dims[2]);
  } finally {
    ex.free(raw);
  }
  return out;
}

/** A byte mask of `n` voxels in executor buffer `name` (a Float32 buffer of ⌈n/4⌉; the caller writes every byte). */
export function allocBytes(ex: SlabExecutor, name: string, n: number): Uint8Array {
  const f = ex.alloc(name, Math.ceil(n / 4), true);
  return new Uint8Array(f.buffer, f.byteOffset, n);
}

/**
 * Runs kernel `op` over [0, n) slices in chunks of a few slabs per thread, reporting
 * progress (from `f0` to `f1`) and checking cancellation between chunks.
 */
export async function runChunked<K extends KernelName>(
  ex: SlabExecutor,
  op: K,
  args: KernelArgMap[K],
  n: number,
  opts: AnalysisOptions,
  f0: number,
  f1: number,
  message: string,
): Promise<void> {
  const chunk = Math.max(ex.threads, Math.ceil(n / 16 / ex.threads) * ex.threads);
  for (let c = 0; c < n; c += chunk) {
    throwIfAborted(opts.signal);
    opts.onProgress?.(f0 + ((f1 - f0) * c) / n, message);
    await ex.run(op, { ...args, offset: c }, Math.min(chunk, n - c));
  }
  throwIfAborted(opts.signal);
}
