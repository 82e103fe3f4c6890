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
      /** Int32 flag the runner sets to 1 to cancel (worker threads only). */
      abort?: SharedArrayBuffer;
      /** Send the inputs back with the answer (they were lent, not copied). */
      returnInputs: boolean;
    }
  | { type: 'cancel'; id: number };

export type FromWorker =
  | { type: 'progress'; id: number; fraction: number; message: string }
  | { type: 'done'; id: number; volumes: Volume[]; values?: Record<string, unknown>; inputs?: Volume[] }
  | { type: 'error'; id: number; name: string; message: string; inputs?: Volume[] };

/** The distinct ArrayBuffers behind the volumes (SharedArrayBuffers are shared, never transferred). */
export function transferList(volumes: Volume[]): ArrayBuffer[] {
  const set = new Set<ArrayBuffer>();
  for (const v of volumes) {
    const b = v.data.buffer;
    if (b instanceof ArrayBuffer && b.byteLength > 0) set.add(b);
  }
  return [...set];
}
