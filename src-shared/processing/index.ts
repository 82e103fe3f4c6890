/** Image processing operations (pure TypeScript over typed arrays; runs in workers). */
export * from './progress';
export * from './volume-utils';
export * from './threshold';
export * from './mask';
export * from './morphology';
export * from './components';
export * from './combine';
export * from './crop';
export * from './align';
export { encodeRuns, labelRuns, type Connectivity, type RowRuns } from './runs';
export { processingJobKinds, processingJobParams, runProcessingJob, type JobKindDefinition, type JobOutput, type ProcessingJobKind, type ProcessingJobParams } from './jobs';
