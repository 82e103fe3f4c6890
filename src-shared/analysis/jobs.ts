/**
 * The analysis operations as job kinds, served by the 'analysis' worker program
 * (src-main/workers/analysis.ts), which gives them an executor on every core. Parameters are
 * validated here (zod), once for the app, the browser host and the command line.
 *   'analysis.filter'       [image] → [float32 filtered image]
 *   'analysis.equalize'     [image, mask?] → [float32 0…1]
 *   'analysis.clahe'        [image] → [float32 0…1] (adaptive equalisation)
 *   'analysis.distance'     [mask] → [float32 distance in mm]
 *   'analysis.compareMasks' [A, B] → values: MaskComparison
 *   'analysis.labelStats'   [labels, image?] → values.labels: LabelStat[]
 *   'analysis.chanVese'     [image, initial mask?] → [uint8 mask], values { iterations, change, c1, c2 }
 */
import { z } from 'zod';
import type { Vec3, Volume } from '../image/volume';
import type { JobOutput } from '../processing/jobs';
import { assertSameGrid } from '../processing/volume-utils';
import { chanVese } from './chan-vese';
import type { AnalysisOptions } from './common';
import { foreground } from './common';
import { compareMasks } from './compare-masks';
import { distanceTransform } from './distance';
import { clahe } from './clahe';
import { equalizeHistogram } from './equalize';
import { FILTER_KINDS, filterVolume, type FilterKind } from './filters';
import { labelStatistics } from './label-stats';

const intVec3 = z.tuple([z.number().int().min(0).max(50), z.number().int().min(0).max(50), z.number().int().min(0).max(50)]);
const posVec3 = z.tuple([z.number().min(0).max(1000), z.number().min(0).max(1000), z.number().min(0).max(1000)]);

const filterParams = z
  .object({
    filter: z.enum(FILTER_KINDS as [FilterKind, ...FilterKind[]]),
    radius: z.union([z.number().int().min(0).max(50), intVec3]).optional(),
    sigmaMm: z.union([z.number().min(0).max(1000), posVec3]).optional(),
    kernel: z.array(z.number().finite()).max(15 * 15 * 15).optional(),
    kernelSize: z.tuple([z.number().int(), z.number().int(), z.number().int()]).optional(),
  })
  .strict();
const equalizeParams = z.object({ bins: z.number().int().min(2).max(1 << 16).optional() }).strict();
const tileSize = z.number().int().min(1).max(4096);
const claheParams = z
  .object({
    kernelSize: z.union([tileSize, z.tuple([tileSize, tileSize, tileSize])]).optional(),
    clipLimit: z.number().min(0).max(1).optional(),
    nbins: z.number().int().min(2).max(1 << 14).optional(),
    perSlice: z.boolean().optional(),
  })
  .strict();
const distanceParams = z.object({ mode: z.enum(['inside', 'outside', 'signed']).optional(), label: z.number().optional() }).strict();
const compareParams = z.object({ labelA: z.number().optional(), labelB: z.number().optional() }).strict();
const statsParams = z.object({ includeBackground: z.boolean().optional() }).strict();
const chanVeseParams = z
  .object({
    mu: z.number().min(0).max(100).optional(),
    lambda1: z.number().min(0).max(100).optional(),
    lambda2: z.number().min(0).max(100).optional(),
    tol: z.number().min(0).max(1).optional(),
    maxIterations: z.number().int().min(1).max(100_000).optional(),
    dt: z.number().gt(0).max(100).optional(),
    slice: z.object({ axis: z.union([z.literal(0), z.literal(1), z.literal(2)]), index: z.number().int().min(0) }).strict().optional(),
  })
  .strict();

export interface AnalysisJobKind<P = unknown> {
  params: z.ZodType<P>;
  inputs: [number, number];
  run(params: P, inputs: Volume[], opts: AnalysisOptions): Promise<JobOutput> | JobOutput;
}

function def<S extends z.ZodType>(params: S, inputs: [number, number], run: (p: z.infer<S>, inputs: Volume[], opts: AnalysisOptions) => Promise<JobOutput> | JobOutput): AnalysisJobKind {
  return { params, inputs, run: run as AnalysisJobKind['run'] };
}

export const analysisJobKinds: Record<string, AnalysisJobKind> = {
  'analysis.filter': def(filterParams, [1, 1], async (p, [v], o) => ({ volumes: [await filterVolume(v, { ...p, radius: p.radius as number | Vec3 | undefined, sigmaMm: p.sigmaMm as number | Vec3 | undefined, kernelSize: p.kernelSize as Vec3 | undefined }, o)] })),
  'analysis.equalize': def(equalizeParams, [1, 2], (p, [v, m], o) => {
    if (m) assertSameGrid(v, m, 'equalize');
    return { volumes: [equalizeHistogram(v, p, m ? foreground(m) : undefined, o)] };
  }),
  'analysis.clahe': def(claheParams, [1, 1], async (p, [v], o) => ({ volumes: [await clahe(v, { ...p, kernelSize: p.kernelSize as number | Vec3 | undefined }, o)] })),
  'analysis.distance': def(distanceParams, [1, 1], async (p, [m], o) => ({ volumes: [await distanceTransform(m, p, o)] })),
  'analysis.compareMasks': def(compareParams, [2, 2], async (p, [a, b], o) => ({ volumes: [], values: { ...(await compareMasks(a, b, p, o)) } })),
  'analysis.labelStats': def(statsParams, [1, 2], (p, [l, img], o) => ({ volumes: [], values: { labels: labelStatistics(l, img, p, o) } })),
  'analysis.chanVese': def(chanVeseParams, [1, 2], (p, [img, init], o) => {
    if (init) assertSameGrid(img, init, 'chan-vese');
    const r = chanVese(img, p, init, o);
    return { volumes: [r.mask], values: { iterations: r.iterations, change: r.change, c1: r.c1, c2: r.c2 } };
  }),
};

export type AnalysisJobKindName = keyof typeof analysisJobKinds;

/** Validates and runs one analysis job kind (the worker, the tests). */
export async function runAnalysisJob(kind: string, params: unknown, inputs: Volume[], opts: AnalysisOptions = {}): Promise<JobOutput> {
  const k = analysisJobKinds[kind];
  if (!k) throw new Error(`unknown analysis job '${kind}'`);
  const [lo, hi] = k.inputs;
  if (inputs.length < lo || inputs.length > hi) throw new Error(`${kind}: expects ${lo === hi ? lo : `${lo}–${hi}`} input volume(s), got ${inputs.length}`);
  const parsed = k.params.safeParse(params ?? {});
  if (!parsed.success) throw new Error(`${kind}: invalid parameters: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`);
  return k.run(parsed.data, inputs, opts);
}
