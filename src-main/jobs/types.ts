/**
 * The job runner: heavy work (processing, registration) runs outside the caller's event
 * loop — in worker threads (command line, browser host) or Electron utility processes
 * (desktop app) — behind this one interface.
 */
import type { Volume } from '../../src-shared/image/volume';

export interface JobProgress {
  /** 0..1 */
  fraction: number;
  message: string;
}

export interface JobRunOptions {
  /**
   * Progress; `preview` is a kind's live picture of its state (e.g. a DemonsPreview, with
   * ArrayBuffer planes), passed on as the worker sent it.
   */
  onProgress?: (fraction: number, message: string, preview?: unknown) => void;
  signal?: AbortSignal;
  /**
   * Asks the job to stop early and end with what it has (job.done, not a cancellation).
   * Only kinds that support it (registration.demons) look at it; others run on.
   */
  finish?: AbortSignal;
  /**
   * How input voxels reach the worker:
   * - 'lend' (default): the buffers are transferred (not copied) to the worker thread and
   *   transferred back with the result, re-attached to the caller's Volume objects
   *   (`input.data` is replaced by an equal view on the returned buffer). While the job
   *   runs the caller must not touch them. If the worker crashes they are lost: the error
   *   says so (`JobCrashedError.inputsLost`). Only a buffer that holds essentially just the
   *   volume (e.g. a NIfTI file buffer: header + voxels) is lent; a view on a larger buffer
   *   is copied instead, so unrelated data sharing it is never detached.
   * - 'copy': the worker gets copies; the caller's volumes stay usable throughout.
   * Utility processes cannot share memory, so there inputs are always copied.
   */
  transfer?: 'lend' | 'copy';
}

export interface JobResult {
  /** New volumes (they become layers). */
  volumes: Volume[];
  /** Small JSON-able results (a threshold, a translation, counts). */
  values?: Record<string, unknown>;
}

export interface JobRunner {
  run(kind: string, params: unknown, inputs: Volume[], opts?: JobRunOptions): Promise<JobResult>;
  /** Ends idle and running workers (running jobs reject with JobCancelledError). */
  dispose(): Promise<void>;
}

/** The job was cancelled through its signal. name = 'AbortError'. */
export class JobCancelledError extends Error {
  constructor(kind: string) {
    super(`Job '${kind}' was cancelled`);
    this.name = 'AbortError';
  }
}

/** The worker ended without an answer (crash, out of memory, killed). The runner stays usable. */
export class JobCrashedError extends Error {
  constructor(
    readonly kind: string,
    detail: string,
    readonly inputsLost: boolean,
  ) {
    super(
      `Job '${kind}' failed: its worker stopped unexpectedly (${detail}).` +
        (inputsLost ? ' The input volumes lent to it are no longer available; reload them.' : ''),
    );
    this.name = 'JobCrashedError';
  }
}

/** The job itself reported an error (bad parameters, mismatched images, …). */
export class JobFailedError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = 'JobFailedError';
  }
}
