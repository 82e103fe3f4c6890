/**
 * Which worker program serves which job kind. A worker program is an entry point bundled
 * by scripts/build-node.mjs to out/node/workers/<name>.js; it calls serveJobs() (serve.ts)
 * with its handlers. To add a job kind served by a new worker:
 *   1. src-main/workers/<name>.ts: serveJobs({ 'my.kind': (params, inputs, ctx) => … });
 *   2. registerJobKind('my.kind', '<name>') at start-up (or add it to the table below).
 * A kind whose handler honours ctx.finish (ends early, keeping its result) registers with
 * { canStopEarly: true }: job.cancel { keep: true } then finishes it instead of cancelling.
 */
import { processingJobKinds } from '../../src-shared/processing/jobs';
import { analysisJobKinds } from '../../src-shared/analysis/jobs';

export interface JobKindOptions {
  /** The handler ends early with its result so far when ctx.finish is requested. */
  canStopEarly?: boolean;
}

const kinds = new Map<string, string>();
const stopEarly = new Set<string>();

export function registerJobKind(kind: string, worker: string, opts: JobKindOptions = {}): void {
  const prev = kinds.get(kind);
  if (prev && prev !== worker) throw new Error(`job kind '${kind}' is already served by worker '${prev}'`);
  kinds.set(kind, worker);
  if (opts.canStopEarly) stopEarly.add(kind);
}

/** Whether a kind registered as able to stop early and keep its result. */
export function jobKindCanStopEarly(kind: string): boolean {
  return stopEarly.has(kind);
}

/** The worker name for a kind; throws a message listing the known kinds. */
export function workerForKind(kind: string): string {
  const w = kinds.get(kind);
  if (!w) throw new Error(`unknown job kind '${kind}' (known: ${[...kinds.keys()].sort().join(', ')})`);
  return w;
}

export function registeredJobKinds(): string[] {
  return [...kinds.keys()].sort();
}

for (const k of Object.keys(processingJobKinds)) registerJobKind(k, 'processing');
// Image analysis (filters, distance maps, mask comparison…: src-shared/analysis/jobs.ts).
for (const k of Object.keys(analysisJobKinds)) registerJobKind(k, 'analysis');
// Diagnostics served by the processing worker (used by the tests of the runner).
registerJobKind('diagnostics.crash', 'processing');
registerJobKind('diagnostics.sleep', 'processing');
// Registration (src-main/registration/jobs.ts), served by its own worker program.
registerJobKind('registration.affine', 'registration-job');
registerJobKind('registration.demons', 'registration-job', { canStopEarly: true });
// Segmentation (src-main/segmentation/jobs.ts): RT structures, active contour, label files.
registerJobKind('segmentation.rtstruct', 'segmentation');
registerJobKind('segmentation.active-contour', 'segmentation', { canStopEarly: true });
registerJobKind('segmentation.save', 'segmentation');
registerJobKind('segmentation.read-labels', 'segmentation');
