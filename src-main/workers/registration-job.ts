/**
 * Worker program for the registration job kinds ('registration.affine', 'registration.demons';
 * see src-main/registration/jobs.ts). Bundled to out/node/workers/registration-job.js and started
 * by the job runners. The demons inside it use their own kernel thread pool
 * (out/node/workers/registration.js, next to this file).
 */
import { serveJobs, type JobHandler } from '../jobs/serve';
import { REGISTRATION_JOB_KINDS, runRegistrationJob } from '../registration/jobs';

const handlers: Record<string, JobHandler> = {};
for (const kind of REGISTRATION_JOB_KINDS) handlers[kind] = (params, inputs, ctx) => runRegistrationJob(kind, params, inputs, ctx);

serveJobs(handlers);
