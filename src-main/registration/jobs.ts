/**
 * Registration as job kinds (run off the UI thread by the job runner, src-main/jobs):
 *   'registration.affine'  inputs [fixed, moving] → volumes [warped], values { matrixRas, matrixLps, parameters, metrics }
 *   'registration.demons'  inputs [fixed, moving] → volumes [warped, field, jacobian],
 *                          values { matrixRas, matrixLps (the initial transform, identity if none), metrics }
 * Parameters are validated here (zod), once for every caller; the worker program is
 * src-main/workers/registration-job.ts (the name 'registration' is the kernels' thread pool).
 */
import { z } from 'zod';
import type { Mat4, Volume } from '../../src-shared/image/volume';
import type { AbortFlag } from '../../src-shared/processing/progress';
import { RegistrationCancelled } from '../../src-shared/registration/cancel';
import { resolveDemonsOptions } from './demons';
import { registerAffine, registerDemons, warpVolume } from './register';

export const REGISTRATION_JOB_KINDS = ['registration.affine', 'registration.demons'] as const;

const mat4 = z.array(z.number().finite()).length(16);
const threads = z.number().int().min(1).max(256).optional();

export const affineJobParams = z
  .object({
    transform: z.enum(['rigid', 'affine']).optional(),
    metric: z.enum(['msd', 'ncc', 'mi']).optional(),
    levels: z.number().int().min(1).max(6).optional(),
    init: z.enum(['centers', 'moments', 'none']).optional(),
    samples: z.number().int().min(1000).max(10_000_000).optional(),
    bins: z.number().int().min(4).max(256).optional(),
    initialMatrix: mat4.optional(),
    threads,
  })
  .strict();

export const demonsJobParams = z
  .object({
    levels: z.number().int().min(1).max(6).optional(),
    iterations: z.union([z.number().int().min(0).max(10_000), z.array(z.number().int().min(0).max(10_000)).min(1).max(6)]).optional(),
    sigmaFluid: z.number().min(0).max(20).optional(),
    sigmaElastic: z.number().min(0).max(20).optional(),
    force: z.enum(['moving', 'fixed', 'symmetric']).optional(),
    diffeomorphic: z.boolean().optional(),
    maxStep: z.number().gt(0).max(5).optional(),
    stopOnPlateau: z.boolean().optional(),
    tolerance: z.number().min(0).max(1).optional(),
    patience: z.number().int().min(1).max(1000).optional(),
    minSize: z.number().int().min(2).max(1024).optional(),
    imageSigma: z.number().min(0).max(10).optional(),
    linearEdges: z.boolean().optional(),
    edgeMargin: z.number().min(0).max(10).optional(),
    /** Pull-back LPS 4×4 (fixed world → moving world), e.g. an affine job's matrixLps. */
    initialTransform: mat4.optional(),
    threads,
  })
  .strict();

export interface RegistrationJobContext {
  onProgress(fraction: number, message: string): void;
  signal: AbortFlag;
}

const IDENTITY: Mat4 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];

/** S·M·S with S = diag(−1, −1, 1, 1): an LPS map in RAS coordinates. */
function lpsToRas(m: ArrayLike<number>): Mat4 {
  const s = [-1, -1, 1, 1];
  return Array.from({ length: 16 }, (_, i) => s[i >> 2] * m[i] * s[i & 3]) as unknown as Mat4;
}

function parse<T>(schema: z.ZodType<T>, kind: string, params: unknown): T {
  const r = schema.safeParse(params ?? {});
  if (!r.success) throw new Error(`${kind}: invalid parameters: ${r.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

function twoInputs(kind: string, inputs: Volume[]): [Volume, Volume] {
  if (inputs.length !== 2) throw new Error(`${kind} needs 2 input volumes (fixed, moving), got ${inputs.length}`);
  return [inputs[0], inputs[1]];
}

/**
 * The job's AbortFlag (polled, shared with the runner) as an AbortSignal for the
 * registration API, which checks it between iterations.
 */
function bridgeSignal(flag: AbortFlag): { signal: AbortSignal; stop: () => void } {
  const ac = new AbortController();
  const check = () => {
    if (flag.aborted && !ac.signal.aborted) ac.abort();
  };
  const timer = setInterval(check, 20);
  check();
  return { signal: ac.signal, stop: () => clearInterval(timer) };
}

/** Cancellation leaves as an 'AbortError', which the runners report as a cancelled job. */
function asAbort(e: unknown): unknown {
  if (e instanceof RegistrationCancelled) {
    const err = new Error('registration cancelled');
    err.name = 'AbortError';
    return err;
  }
  return e;
}

/** Max iterations of each actual level (coarsest first), as runDemons applies them. */
function levelIterations(it: number | number[], levels: number): number[] {
  if (typeof it === 'number') return new Array(levels).fill(it);
  const a = it.length >= levels ? it.slice(it.length - levels) : it.slice();
  while (a.length < levels) a.push(it[it.length - 1]);
  return a;
}

export async function runRegistrationJob(
  kind: string,
  params: unknown,
  inputs: Volume[],
  ctx: RegistrationJobContext,
): Promise<{ volumes: Volume[]; values: Record<string, unknown> }> {
  if (kind !== 'registration.affine' && kind !== 'registration.demons') throw new Error(`unknown registration job kind '${kind}'`);
  const [fixed, moving] = twoInputs(kind, inputs);
  const { signal, stop } = bridgeSignal(ctx.signal);
  try {
    if (kind === 'registration.affine') {
      const p = parse(affineJobParams, kind, params);
      const { threads: t, initialMatrix, ...opts } = p;
      const res = await registerAffine(fixed, moving, { ...opts, initialMatrix: initialMatrix as Mat4 | undefined }, {
        signal,
        // The optimiser has no fixed iteration count: the fraction within a level only tends to 1.
        onProgress: (q) =>
          ctx.onProgress((0.9 * (q.level - 1 + q.iteration / (q.iteration + 50))) / q.levels, `Affine level ${q.level}/${q.levels}, iteration ${q.iteration}, metric ${q.metric.toPrecision(5)}`),
      });
      ctx.onProgress(0.95, 'Resampling the moving image');
      const warped = await warpVolume(fixed, moving, { matrixLps: res.matrixLps, threads: t });
      return { volumes: [warped], values: { matrixRas: res.matrixRas, matrixLps: res.matrixLps, parameters: res.parameters, metrics: res.metrics } };
    }
    const p = parse(demonsJobParams, kind, params);
    const { initialTransform, ...opts } = p;
    const its = resolveDemonsOptions(opts).iterations;
    const res = await registerDemons(fixed, moving, { ...opts, initialTransform: initialTransform as Mat4 | undefined, jacobian: true, worldField: true }, {
      signal,
      onProgress: (q) => {
        const max = Math.max(1, levelIterations(its, q.levels)[q.level - 1] ?? 1);
        const f = (q.level - 1 + Math.min(1, q.iteration / max)) / q.levels;
        ctx.onProgress(0.95 * f, `Demons level ${q.level}/${q.levels}, iteration ${q.iteration}, MSD ${q.msd.toPrecision(5)}`);
      },
    });
    const m = initialTransform ?? IDENTITY;
    return {
      volumes: [res.warped, res.field!, res.jacobian!],
      values: { matrixRas: lpsToRas(m), matrixLps: Array.from(m), metrics: res.metrics },
    };
  } catch (e) {
    throw asAbort(e);
  } finally {
    stop();
  }
}
