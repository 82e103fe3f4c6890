/**
 * Worker program for the processing job kinds (src-shared/processing/jobs.ts). Bundled by
 * scripts/build-node.mjs to out/node/workers/processing.js; started by the job runners of
 * src-main/jobs (worker thread or Electron utility process).
 */
import { threadId } from 'node:worker_threads';
import { serveJobs, type JobHandler } from '../jobs/serve';
import { processingJobKinds, runProcessingJob } from '../../src-shared/processing/jobs';
import { OperationCancelledError } from '../../src-shared/processing/progress';

const handlers: Record<string, JobHandler> = {};
for (const kind of Object.keys(processingJobKinds)) {
  handlers[kind] = (params, inputs, ctx) => runProcessingJob(kind, params, inputs, { onProgress: ctx.onProgress, signal: ctx.signal });
}

// Diagnostics for the runner's own tests: a crash, and a slow cancellable job with progress.
handlers['diagnostics.crash'] = (params) => {
  const how = (params as { how?: string } | null)?.how ?? 'exit';
  if (how === 'throw') setImmediate(() => { throw new Error('deliberate crash'); });
  else process.exit(3);
  return new Promise(() => undefined);
};
handlers['diagnostics.sleep'] = (params, _inputs, ctx) => {
  const ms = Math.min(60_000, Number((params as { ms?: number } | null)?.ms ?? 1000));
  const t0 = Date.now();
  // Busy loop on purpose: proves that cancellation reaches synchronous work.
  for (;;) {
    const f = (Date.now() - t0) / ms;
    if (f >= 1) break;
    if (ctx.signal.aborted) throw new OperationCancelledError();
    ctx.onProgress(f, 'Sleeping');
    const until = Date.now() + 20;
    while (Date.now() < until);
  }
  return { volumes: [], values: { sleptMs: Date.now() - t0, threadId } };
};

serveJobs(handlers);
