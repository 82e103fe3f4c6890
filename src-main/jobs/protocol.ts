/**
 * Messages between a job runner and its worker (thread or utility process). Volumes travel
 * as plain objects; their typed arrays are structured-cloned, or transferred when listed
 * in the transfer list.
 */
import type { Volume } from '../../src-shared/image/volume';

export type ToWorker =
  | {
      type: 'run';
      id: number;
      kind: string;
      params: unknown;
      inputs: Volume[];
      /**
       * Int32 flags (worker threads only): [0] the runner sets to 1 to cancel, [1] (when
       * present) to 1 to ask the job to finish early keeping its result.
       */
      abort?: SharedArrayBuffer;
      /** Send the inputs back with the answer (they were lent, not copied). */
      returnInputs: boolean;
    }
  | { type: 'cancel'; id: number }
  /** Finish early, keeping the result (kinds that can; see JobRunOptions.finish). */
  | { type: 'finish'; id: number };

export type FromWorker =
  | { type: 'progress'; id: number; fraction: number; message: string; preview?: unknown }
  | { type: 'done'; id: number; volumes: Volume[]; values?: Record<string, unknown>; inputs?: Volume[] }
  | { type: 'error'; id: number; name: string; message: string; inputs?: Volume[] };

/** The ArrayBuffers directly inside a preview object (its planes), to transfer rather than copy. */
export function previewBuffers(preview: unknown): ArrayBuffer[] {
  if (!preview || typeof preview !== 'object') return [];
  return Object.values(preview).filter((v): v is ArrayBuffer => v instanceof ArrayBuffer);
}

/** Slack (bytes) allowed around a volume's voxels for its buffer to count as its own. */
const OWN_SLACK = 64 << 10;

/**
 * Prepares volumes for postMessage. `lend`: a buffer that holds essentially only the
 * volume's voxels (a NIfTI header in front is fine) is transferred, not copied. A view on
 * a much larger buffer (a slice of something else, a pooled Node Buffer) is never
 * transferred, which would detach unrelated data; its voxels alone are copied out first
 * (structured clone would otherwise copy the whole underlying buffer). SharedArrayBuffers
 * are shared as they are.
 */
export function packVolumes(volumes: Volume[], lend: boolean): { volumes: Volume[]; transfer: ArrayBuffer[] } {
  const transfer = new Set<ArrayBuffer>();
  const out = volumes.map((v) => {
    const d = v.data;
    const buf = d.buffer;
    if (!(buf instanceof ArrayBuffer)) return v; // SharedArrayBuffer: shared, not copied
    const owned = buf.byteLength - d.byteLength <= OWN_SLACK;
    if (owned) {
      if (lend && buf.byteLength > 0) transfer.add(buf);
      return v;
    }
    const copy = d.slice() as Volume['data'];
    transfer.add(copy.buffer as ArrayBuffer);
    return { ...v, data: copy };
  });
  return { volumes: out, transfer: [...transfer] };
}
