/**
 * Job runner entry point. Electron code imports UtilityProcessJobRunner from
 * './utility-process-runner' directly (it needs the 'electron' module); everything else
 * uses ThreadJobRunner.
 */
export * from './types';
export { ThreadJobRunner, type ThreadJobRunnerOptions } from './thread-runner';
export { jobKindCanStopEarly, registerJobKind, registeredJobKinds, workerForKind, type JobKindOptions } from './kinds';
export { resolveWorkerScript } from './worker-paths';
