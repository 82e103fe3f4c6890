/**
 * Progress reporting and cancellation for the processing operations.
 *
 * The operations are synchronous tight loops (they run inside a worker, where blocking
 * is fine), so cancellation cannot arrive as an event: instead each operation polls
 * `signal.aborted` between slabs. In a worker thread that flag is backed by a
 * SharedArrayBuffer the job runner writes to; a standard AbortSignal also fits.
 */

/** Anything with an `aborted` flag: an AbortSignal, or the job runner's shared flag. */
export interface AbortFlag {
  readonly aborted: boolean;
}

/** fraction in [0, 1]; message says what is being done ("Dilating", "Labelling"). */
export type ProgressCallback = (fraction: number, message: string) => void;

export interface ProcessingOptions {
  onProgress?: ProgressCallback;
  signal?: AbortFlag;
}

/** Thrown by an operation whose signal was aborted. name = 'AbortError' like the DOM's. */
export class OperationCancelledError extends Error {
  constructor(message = 'Operation cancelled') {
    super(message);
    this.name = 'AbortError';
  }
}

export function throwIfAborted(signal: AbortFlag | undefined): void {
  if (signal?.aborted) throw new OperationCancelledError();
}

/**
 * Splits the work of one operation into weighted stages so that nested loops can report
 * a single monotone fraction: `stage(i)` gives a reporter for stage i whose 0..1 maps
 * onto that stage's share of the whole.
 */
export class ProgressTracker {
  private readonly total: number;
  private readonly starts: number[] = [];
  private lastReported = -1;

  constructor(
    private readonly opts: ProcessingOptions,
    private readonly weights: number[] = [1],
  ) {
    let s = 0;
    for (const w of weights) {
      this.starts.push(s);
      s += w;
    }
    this.total = s || 1;
  }

  /** Reports fraction f (0..1) of stage i; also the place where cancellation is checked. */
  report(i: number, f: number, message: string): void {
    throwIfAborted(this.opts.signal);
    const cb = this.opts.onProgress;
    if (!cb) return;
    const g = (this.starts[i] + this.weights[i] * Math.min(1, Math.max(0, f))) / this.total;
    // Throttle to 0.5 % steps: progress crosses thread boundaries as messages.
    if (g - this.lastReported < 0.005 && g < 1) return;
    this.lastReported = g;
    cb(g, message);
  }
}
