/**
 * Registration as job kinds (run off the UI thread by the job runner, src-main/jobs):
 *   'registration.affine'  inputs [fixed, moving] → volumes [warped], values { matrixRas, matrixLps, parameters, metrics }
 *   'registration.demons'  inputs [fixed, moving] → volumes [warped, field, jacobian, difference],
 *                          values { matrixRas, matrixLps (the initial transform, identity if none), metrics,
 *                                   stoppedEarly, stoppedAt? {level, levels, iteration} }
 *       warped: moving through the whole transform on the fixed grid (float32); field: RAS mm
 *       displacement (3 frames); jacobian: det of the whole map; difference: warped − fixed
 *       (float32, fixed grid, the fixed image's real values).
 *       With params.preview { axis?, index?, intervalMs? } the progress messages carry
 *       DemonsPreviews (src-shared/registration/preview.ts) of that fixed-grid slice.
 *       ctx.finish (job.cancel { keep: true }) stops the iterations early; the job then ends
 *       normally with the field reached so far (stoppedEarly = true).
 * Parameters are validated here (zod), once for every caller; the worker program is
 * src-main/workers/registration-job.ts (the name 'registration' is the kernels' thread pool).
 */
import { z } from 'zod';
import type { Mat4, Volume } from '../../src-shared/image/volume';
import type { AbortFlag } from '../../src-shared/processing/progress';
import { RegistrationCancelled } from '../../src-shared/registration/cancel';
import type { DemonsPreview } from '../../src-shared/registration/preview';
import { iterationsFor, resolveDemonsOptions } from './demons';
import { mat4Identity } from '../../src-shared/geometry/mat';
import { flipWorldMatrixLpsRas } from '../../src-shared/registration/itk-transform';
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
    /** Live previews of one fixed-grid slice in the progress messages (DemonsPreviewRequest). */
    preview: z
      .object({
        axis: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
        index: z.number().int().min(0).optional(),
        intervalMs: z.number().min(0).max(10_000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export interface RegistrationJobContext {
  onProgress(fraction: number, message: string, preview?: DemonsPreview): void;
  signal: AbortFlag;
  /** Stop early keeping the result (job.cancel { keep: true }); only the demons look at it. */
  finish?: { readonly requested: boolean };
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
 * The job's AbortFlag and finish request (polled, shared with the runner) as AbortSignals
 * for the registration API, which checks them between iterations.
 */
function bridgeSignal(flag: AbortFlag, finish?: { readonly requested: boolean }): { signal: AbortSignal; finishSignal: AbortSignal; stop: () => void } {
  const ac = new AbortController();
  const fin = new AbortController();
  const check = () => {
    if (flag.aborted && !ac.signal.aborted) ac.abort();
    if (finish?.requested && !fin.signal.aborted) fin.abort();
  };
  const timer = setInterval(check, 20);
  check();
  return { signal: ac.signal, finishSignal: fin.signal, stop: () => clearInterval(timer) };
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

export async function runRegistrationJob(
  kind: string,
  params: unknown,
  inputs: Volume[],
  ctx: RegistrationJobContext,
): Promise<{ volumes: Volume[]; values: Record<string, unknown> }> {
  if (kind !== 'registration.affine' && kind !== 'registration.demons') throw new Error(`unknown registration job kind '${kind}'`);
  const [fixed, moving] = twoInputs(kind, inputs);
  const { signal, finishSignal, stop } = bridgeSignal(ctx.signal, ctx.finish);
  try {
    if (kind === 'registration.affine') {
      const p = parse(affineJobParams, kind, params);
      const { threads: t, initialMatrix, ...opts } = p;
      const res = await registerAffine(fixed, moving, { ...opts, initialMatrix: initialMatrix as Mat4 | undefined }, {
        signal,
        // The optimiser has no fixed iteration count: the fraction within a level only tends to 1.
        onProgress: (q) =>
          ctx.onProgress((0.9 * (q.level - 1 + q.iteration / (q.iteration + 50))) / q.levels, `${p.transform === 'affine' ? 'Affine' : 'Rigid'} level ${q.level}/${q.levels}, iteration ${q.iteration}, metric ${q.metric.toPrecision(5)}`),
      });
      ctx.onProgress(0.95, 'Resampling the moving image');
      const warped = await warpVolume(fixed, moving, { matrixLps: res.matrixLps, threads: t });
      return { volumes: [warped], values: { matrixRas: res.matrixRas, matrixLps: res.matrixLps, parameters: res.parameters, metrics: res.metrics } };
    }
    const p = parse(demonsJobParams, kind, params);
    const { initialTransform, preview, ...opts } = p;
    const its = resolveDemonsOptions(opts).iterations;
    // A preview rides on the progress message of its iteration (the last one sent).
    let fraction = 0, message = 'Demons';
    const res = await registerDemons(fixed, moving, { ...opts, initialTransform: initialTransform as Mat4 | undefined, jacobian: true, worldField: true, difference: true }, {
      signal,
      stop: finishSignal,
      onProgress: (q) => {
        const max = Math.max(1, iterationsFor(its, q.levels)[q.level - 1] ?? 1);
        const f = (q.level - 1 + Math.min(1, q.iteration / max)) / q.levels;
        fraction = 0.95 * f;
        message = `Demons level ${q.level}/${q.levels}, iteration ${q.iteration}, MSD ${q.msd.toPrecision(5)}`;
        ctx.onProgress(fraction, message);
      },
      ...(preview ? { preview: { ...preview, onPreview: (pv: DemonsPreview) => ctx.onProgress(fraction, message, pv) } } : {}),
    });
    const m = (initialTransform as Mat4 | undefined) ?? mat4Identity();
    const stoppedAt = res.metrics.stoppedAt;
    return {
      volumes: [res.warped, res.field!, res.jacobian!, res.difference!],
      values: { matrixRas: flipWorldMatrixLpsRas(m), matrixLps: Array.from(m), metrics: res.metrics, stoppedEarly: !!stoppedAt, ...(stoppedAt ? { stoppedAt } : {}) },
    };
  } catch (e) {
    throw asAbort(e);
  } finally {
    stop();
  }
}
