/**
 * Worker program for the segmentation job kinds (src-main/segmentation/jobs.ts): RT structure
 * set rasterisation, the active contour, label file reading and writing. Bundled to
 * out/node/workers/segmentation.js and started by the job runners.
 */
import { serveJobs, type JobHandler } from '../jobs/serve';
import { runActiveContour, runReadLabels, runRtStruct, runSave } from '../segmentation/jobs';

const handlers: Record<string, JobHandler> = {
  'segmentation.rtstruct': (params, inputs, ctx) => runRtStruct(params, inputs, ctx),
  'segmentation.active-contour': (params, inputs, ctx) => runActiveContour(params, inputs, ctx),
  'segmentation.save': (params, inputs) => runSave(params, inputs),
  'segmentation.read-labels': (params) => runReadLabels(params),
};

serveJobs(handlers);
