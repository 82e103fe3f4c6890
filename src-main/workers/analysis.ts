/**
 * Worker program for the analysis job kinds (src-shared/analysis/jobs.ts). Bundled to
 * out/node/workers/analysis.js and started by the job runners. The heavy kernels run on a
 * thread pool of their own (out/node/workers/analysis-kernels.js, next to this file), made
 * on first use and kept while this worker lives.
 */
import { serveJobs, type JobHandler } from '../jobs/serve';
import { analysisJobKinds, runAnalysisJob } from '../../src-shared/analysis/jobs';
import { createAnalysisExecutor, type ClosableSlabExecutor } from '../analysis/pool';

let executor: ClosableSlabExecutor | null = null;

const handlers: Record<string, JobHandler> = {};
for (const kind of Object.keys(analysisJobKinds)) {
  handlers[kind] = (params, inputs, ctx) => runAnalysisJob(kind, params, inputs, { onProgress: ctx.onProgress, signal: ctx.signal, executor: (executor ??= createAnalysisExecutor()) });
}

serveJobs(handlers);
