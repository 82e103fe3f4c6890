/**
 * The processing operations as job kinds: validated parameters (zod) + a function from
 * input volumes to output volumes. The worker (src-main/workers/processing.ts), the
 * command line and the UI all go through this one table, so an operation's parameters
 * are defined once.
 */
import { z } from 'zod';
import { VOXEL_ARRAY, voxelCount, type Mat4, type Volume } from '../image/volume';
import { resampleToGeometry } from '../image/resample';
import { alignCentres } from './align';
import { combineMasks } from './combine';
import { fillHoles, largestComponent } from './components';
import { cropVolume, worldBoxToVoxelBox } from './crop';
import { applyMask } from './mask';
import { morphology } from './morphology';
import type { ProcessingOptions } from './progress';
import { otsuMask, threshold } from './threshold';
import { copyGeometry, integerRange } from './volume-utils';
import { warpFieldJob, warpFieldParams } from '../image/warp-field';

export interface JobOutput {
  volumes: Volume[];
  values?: Record<string, unknown>;
}

export interface JobKindDefinition<P = unknown> {
  /** Parameter schema; parse errors become the job's error message. */
  params: z.ZodType<P>;
  /** Number of input volumes [min, max]. */
  inputs: [number, number];
  run(params: P, inputs: Volume[], opts: ProcessingOptions): JobOutput;
}

const vec3 = z.tuple([z.number(), z.number(), z.number()]);
const intVec3 = z.tuple([z.number().int(), z.number().int(), z.number().int()]);
const writeValue = z.union([z.number(), z.literal('image')]);
const connectivity = z.union([z.literal(6), z.literal(18), z.literal(26)]);

const thresholdParams = z.object({
  lower: z.number().optional(),
  upper: z.number().optional(),
  lowerInclusive: z.boolean().optional(),
  upperInclusive: z.boolean().optional(),
  relative: z.boolean().optional(),
  inside: writeValue.optional(),
  outside: writeValue.optional(),
});
const thresholdMaskParams = thresholdParams.extend({ background: z.number().optional() });
const otsuParams = z.object({ bins: z.number().int().min(2).max(1 << 16).optional() });
const maskParams = z.object({ background: z.number().optional() });
const morphParams = z.object({
  operation: z.enum(['dilate', 'erode', 'open', 'close']),
  shape: z.enum(['ball', 'box']).default('ball'),
  radius: z.union([z.number().int().min(0), intVec3]),
  iterations: z.number().int().min(0).max(1000).default(1),
});
const componentParams = z.object({ connectivity: connectivity.optional(), sliceWise: z.boolean().optional() });
const combineParams = z.object({ operation: z.enum(['union', 'intersection', 'difference', 'xor']) });
const cropParams = z.union([
  z.object({ box: z.object({ start: intVec3, end: intVec3 }) }),
  z.object({ worldBox: z.object({ a: vec3, b: vec3 }) }),
]);
const alignParams = z.object({ mode: z.enum(['geometry', 'mass']).default('geometry') });
const resampleParams = z.object({
  interpolation: z.enum(['linear', 'nearest']).default('linear'),
  fill: z.number().default(0),
  /** Optional pull-back LPS 4×4 (reference world → source world), e.g. a registration result. */
  worldTransform: z.array(z.number().finite()).length(16).optional(),
});

/**
 * Resampled image on the reference grid. Nearest-neighbour resampling of an integer image
 * keeps its voxel type (values are copied, not interpolated); otherwise float32.
 */
function resampleJob(p: z.infer<typeof resampleParams>, [src, ref]: Volume[], opts: ProcessingOptions): JobOutput {
  opts.onProgress?.(0, 'Resampling');
  const real = resampleToGeometry(src, ref, { interpolation: p.interpolation, fill: p.fill, worldTransform: p.worldTransform as Mat4 | undefined });
  opts.onProgress?.(0.9, 'Resampling');
  const g = copyGeometry(ref);
  const r = integerRange(src.voxelType);
  const slope = src.rescaleSlope || 1;
  const icpt = src.rescaleIntercept || 0;
  const fillStored = (p.fill - icpt) / slope;
  if (p.interpolation === 'nearest' && r && Number.isInteger(fillStored) && fillStored >= r[0] && fillStored <= r[1]) {
    const out = new VOXEL_ARRAY[src.voxelType](voxelCount(g));
    for (let i = 0; i < out.length; i++) out[i] = Math.round((real[i] - icpt) / slope);
    return { volumes: [{ ...g, data: out, voxelType: src.voxelType, frames: 1, rescaleSlope: src.rescaleSlope, rescaleIntercept: src.rescaleIntercept, metadata: { ...src.metadata } }] };
  }
  return { volumes: [{ ...g, data: real, voxelType: 'float32', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: { ...src.metadata } }] };
}

function def<S extends z.ZodType>(params: S, inputs: [number, number], run: (p: z.infer<S>, inputs: Volume[], opts: ProcessingOptions) => JobOutput): JobKindDefinition {
  return { params, inputs, run: run as JobKindDefinition['run'] };
}

/** Job kinds served by the processing worker. Inputs are listed in each comment. */
export const processingJobKinds: Record<string, JobKindDefinition> = {
  /** [image] → [threshold result] */
  'processing.threshold': def(thresholdParams, [1, 1], (p, [v], o) => ({ volumes: [threshold(v, p, o)] })),
  /** [image] → [mask], values.threshold */
  'processing.otsu': def(otsuParams, [1, 1], (p, [v], o) => {
    const r = otsuMask(v, { ...o, bins: p.bins });
    return { volumes: [r.mask], values: { threshold: r.threshold } };
  }),
  /** [image] → [mask, masked image]: threshold then mask in one job (the usual pair). */
  'processing.thresholdMask': def(thresholdMaskParams, [1, 1], (p, [v], o) => {
    const { background, ...tp } = p;
    const half = (f: number) => (g: number, msg: string) => o.onProgress?.(f + g / 2, msg);
    const mask = threshold(v, { ...tp, inside: 1, outside: 0 }, { signal: o.signal, onProgress: half(0) });
    return { volumes: [mask, applyMask(v, mask, { background }, { signal: o.signal, onProgress: half(0.5) })] };
  }),
  /** [image, mask] → [masked image] */
  'processing.mask': def(maskParams, [2, 2], (p, [v, m], o) => ({ volumes: [applyMask(v, m, p, o)] })),
  /** [mask] → [mask] */
  'processing.morphology': def(morphParams, [1, 1], (p, [m], o) => ({
    volumes: [morphology(m, p.operation, { shape: p.shape, radius: p.radius, iterations: p.iterations }, o)],
  })),
  /** [mask] → [mask], values.filled */
  'processing.fillHoles': def(componentParams, [1, 1], (p, [m], o) => {
    const r = fillHoles(m, p, o);
    return { volumes: [r.mask], values: { filled: r.filled } };
  }),
  /** [mask] → [mask], values.components, values.voxels */
  'processing.largestComponent': def(componentParams, [1, 1], (p, [m], o) => {
    const r = largestComponent(m, p, o);
    return { volumes: [r.mask], values: { components: r.components, voxels: r.voxels } };
  }),
  /** [mask, mask, …] → [mask] */
  'processing.combine': def(combineParams, [2, 64], (p, ms, o) => ({ volumes: [combineMasks(p.operation, ms, o)] })),
  /** [image] → [cropped], values.box */
  'processing.crop': def(cropParams, [1, 1], (p, [v], o) => {
    const box = 'box' in p ? p.box : worldBoxToVoxelBox(v, p.worldBox.a, p.worldBox.b);
    return { volumes: [cropVolume(v, box, o)], values: { box } };
  }),
  /** [moving, fixed] → [moving translated], values.translation (LPS mm) */
  'processing.align': def(alignParams, [2, 2], (p, [m, f], o) => {
    const r = alignCentres(m, f, p.mode, o);
    return { volumes: [r.volume], values: { translation: r.translation } };
  }),
  /** [image, reference] → [image on the reference grid] */
  'processing.resample': def(resampleParams, [2, 2], resampleJob),
  /** [image, displacement field] → [image warped by the field, on the field's grid] (src-shared/image/warp-field.ts) */
  'processing.warpField': def(warpFieldParams, [2, 2], warpFieldJob),
};

/** Parameter schemas by kind (for forms in the UI and validation at the IPC boundary). */
export const processingJobParams = {
  'processing.threshold': thresholdParams,
  'processing.otsu': otsuParams,
  'processing.thresholdMask': thresholdMaskParams,
  'processing.mask': maskParams,
  'processing.morphology': morphParams,
  'processing.fillHoles': componentParams,
  'processing.largestComponent': componentParams,
  'processing.combine': combineParams,
  'processing.crop': cropParams,
  'processing.align': alignParams,
  'processing.resample': resampleParams,
  'processing.warpField': warpFieldParams,
} as const;

export type ProcessingJobKind = keyof typeof processingJobParams;
/** What a caller passes for kind K (defaults not yet applied). */
export type ProcessingJobParams<K extends ProcessingJobKind> = z.input<(typeof processingJobParams)[K]>;

/** Validates and runs one job kind in the current thread (the worker, or tests). */
export function runProcessingJob(kind: string, params: unknown, inputs: Volume[], opts: ProcessingOptions = {}): JobOutput {
  const k = processingJobKinds[kind];
  if (!k) throw new Error(`unknown processing job '${kind}'`);
  const [lo, hi] = k.inputs;
  if (inputs.length < lo || inputs.length > hi) throw new Error(`${kind}: expects ${lo === hi ? lo : `${lo}–${hi}`} input volume(s), got ${inputs.length}`);
  // The operations work on one value per voxel; colour volumes hold three (Volume.components).
  if (inputs.some((v) => (v.components ?? 1) > 1)) throw new Error(`${kind}: colour (RGB) images cannot be processed (the operations work on greyscale images)`);
  const parsed = k.params.safeParse(params ?? {});
  if (!parsed.success) throw new Error(`${kind}: invalid parameters: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`);
  return k.run(parsed.data, inputs, opts);
}
