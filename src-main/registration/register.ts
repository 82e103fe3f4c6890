/**
 * Registration of Volumes (the library API): demons on all cores, composed with an optional
 * affine pull-back, and resampling of the moving image through the result.
 *
 *   registerAffine(fixed, moving, opts, { onProgress, signal }) → { matrixLps, matrixRas, … }
 *   registerDemons(fixed, moving, { ...opts, initialTransform }, { onProgress, signal, stop, preview })
 *       → { field, warped, jacobian, difference, metrics }
 *   warpVolume(fixed, moving, { matrixLps }) → moving on the fixed grid (affine only)
 *
 * Every transform maps fixed-world points to moving-world points (LPS internally; the
 * displacement-field Volume holds RAS mm vectors, as NIfTI and the benchmark contract want).
 */
import type { ImageGeometry, Mat4, Volume } from '../../src-shared/image/volume';
import { gridIndexToWorld, gridWorldToIndex, mulMat4, resampleToGeometry } from '../../src-shared/image/resample';
import type { Executor } from '../../src-shared/registration/ops';
import { realImage } from '../../src-shared/registration/affine';
import { RegistrationCancelled, throwIfAborted } from '../../src-shared/registration/cancel';
import { createExecutor, defaultThreadCount } from './pool';
import { runDemons, type DemonsCallbacks, type DemonsOptions, type DemonsStopPoint, type LevelSummary } from './demons';

export { registerAffine } from '../../src-shared/registration/affine';
export type { AffineOptions, AffineResult, AffineProgress } from '../../src-shared/registration/affine';
export { RegistrationCancelled } from '../../src-shared/registration/cancel';
export { DEMONS_DEFAULTS, type DemonsCallbacks, type DemonsOptions, type DemonsProgress, type DemonsStopPoint, type LevelSummary } from './demons';

export interface DemonsVolumeOptions extends DemonsOptions {
  /** Pull-back LPS 4×4 (fixed world → moving world) applied before the demons, e.g. an affine result. */
  initialTransform?: Mat4;
  /** Threads (default: BENCH_THREADS / LATTICE_THREADS, else all cores). */
  threads?: number;
  /** Also compute the Jacobian determinant image (default true). */
  jacobian?: boolean;
  /** Also compute the RAS world displacement field Volume (default true). */
  worldField?: boolean;
  /** Also compute warped − fixed on the fixed grid, in the fixed image's real values (default false). */
  difference?: boolean;
}

export interface DemonsMetrics {
  msdBefore: number;
  msdAfter: number;
  nccBefore: number;
  nccAfter: number;
  /** Voxels with det(∂φ/∂x) ≤ 0, and their fraction of the grid. */
  negativeJacobianVoxels: number;
  negativeJacobianFraction: number;
  minJacobian: number;
  maxJacobian: number;
  levels: LevelSummary[];
  threads: number;
  seconds: number;
  /** True when `stop` ended the iterations early (the result is the field reached so far). */
  stoppedEarly: boolean;
  /** Where it stopped (only when stoppedEarly). */
  stoppedAt?: DemonsStopPoint;
}

export interface DemonsVolumeResult {
  /** Displacement field on the fixed grid: frames = 3 (x, y, z), RAS mm, fixed → moving. */
  field: Volume | null;
  /** Displacement in fixed voxel units of the demons part only (3n, component-major). */
  fieldVoxels: Float32Array;
  /** Moving image resampled through the whole transform onto the fixed grid (float32). */
  warped: Volume;
  /** det(Jacobian) of the whole map x ↦ x + D(x). */
  jacobian: Volume | null;
  /** warped − fixed (float32, fixed grid, real values), when asked. */
  difference: Volume | null;
  metrics: DemonsMetrics;
}

function floatVolume(g: ImageGeometry, data: Float32Array, frames = 1, metadata: Volume['metadata'] = {}): Volume {
  return {
    dims: [...g.dims],
    spacing: [...g.spacing],
    origin: [...g.origin],
    direction: [...g.direction],
    data,
    voxelType: 'float32',
    frames,
    rescaleSlope: 1,
    rescaleIntercept: 0,
    metadata,
  };
}

function msdNcc(a: Float32Array, b: Float32Array): { msd: number; ncc: number } {
  let s = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  const n = a.length;
  for (let i = 0; i < n; i++) {
    const x = a[i], y = b[i];
    const e = x - y;
    s += e * e; sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y;
  }
  const cov = sab - (sa * sb) / n, va = saa - (sa * sa) / n, vb = sbb - (sb * sb) / n;
  return { msd: s / n, ncc: va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : 0 };
}

const top3 = (m: Mat4) => m.slice(0, 12);

/**
 * Resamples moving through (affine ∘ (id + d)) onto the fixed grid on the executor; writes
 * the warped image into buffer 'warped' and, when asked, the RAS world field into 'fieldRas'.
 */
async function finalizeOnExecutor(ex: Executor, fixed: ImageGeometry, moving: Volume, transform: Mat4 | undefined, d: string | undefined, worldField: boolean): Promise<void> {
  const n = fixed.dims[0] * fixed.dims[1] * fixed.dims[2];
  const mimg = realImage(moving);
  const mbuf = ex.alloc('Mreal', mimg.data.length);
  mbuf.set(mimg.data);
  const i2w = gridIndexToWorld(fixed);
  const P = transform ? mulMat4(transform, i2w) : i2w;
  const Q = mulMat4(gridWorldToIndex(moving), P);
  ex.alloc('warped', n);
  if (worldField) ex.alloc('fieldRas', 3 * n);
  await ex.run(
    'finalize',
    { moving: 'Mreal', movingDims: moving.dims, d, dims: fixed.dims, Q: top3(Q), P: top3(P), I2W: top3(i2w), warped: 'warped', worldRas: worldField ? 'fieldRas' : undefined },
    fixed.dims[2],
  );
  ex.free('Mreal');
}

/** Moving resampled onto the fixed grid through an affine pull-back (or identity). */
export async function warpVolume(fixed: ImageGeometry, moving: Volume, opts: { matrixLps?: Mat4; threads?: number } = {}): Promise<Volume> {
  const ex = createExecutor(opts.threads ?? defaultThreadCount());
  try {
    await finalizeOnExecutor(ex, fixed, moving, opts.matrixLps, undefined, false);
    return floatVolume(fixed, ex.get('warped'));
  } finally {
    await ex.close();
  }
}

/**
 * Demons registration of `moving` to `fixed` (any grids: moving is first resampled in world
 * space onto the fixed grid, through `initialTransform` when given).
 */
export async function registerDemons(
  fixed: Volume,
  moving: Volume,
  options: DemonsVolumeOptions = {},
  cb: DemonsCallbacks = {},
): Promise<DemonsVolumeResult> {
  const t0 = performance.now();
  throwIfAborted(cb.signal);
  const threads = options.threads ?? defaultThreadCount();
  const ex = createExecutor(threads);
  const onAbort = () => void ex.close();
  cb.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const n = fixed.dims[0] * fixed.dims[1] * fixed.dims[2];
    const F0 = ex.alloc('F0', n);
    const fixedReal = realImage(fixed).data;
    F0.set(fixedReal);
    const M0 = ex.alloc('M0', n);
    const sameGrid =
      !options.initialTransform &&
      fixed.dims.every((d, i) => d === moving.dims[i]) &&
      gridIndexToWorld(fixed).every((v, i) => Math.abs(v - gridIndexToWorld(moving)[i]) < 1e-4);
    if (sameGrid) M0.set(realImage(moving).data);
    else {
      // Outside the moving field of view: its minimum (the background of CT/MR/PET).
      const mr = realImage(moving).data;
      let mn = Infinity;
      for (let i = 0; i < mr.length; i++) if (mr[i] < mn) mn = mr[i];
      resampleToGeometry(moving, fixed, { worldTransform: options.initialTransform, out: M0, fill: mn });
    }
    const before = msdNcc(F0, M0);
    const { field, levels, stoppedAt } = await runDemons(ex, fixed.dims, options, { ...cb, spacing: fixed.spacing });
    throwIfAborted(cb.signal);

    const worldField = options.worldField ?? true;
    await finalizeOnExecutor(ex, fixed, moving, options.initialTransform, field, worldField);
    const warped = ex.get('warped');
    // against the original fixed image (the demons may have smoothed F0 in place)
    const after = msdNcc(fixedReal, warped);
    let difference: Float32Array | null = null;
    if (options.difference) {
      difference = new Float32Array(n);
      for (let i = 0; i < n; i++) difference[i] = warped[i] - fixedReal[i];
    }

    let jac: Float32Array | null = null;
    if (options.jacobian ?? true) jac = ex.alloc('jac', n);
    const parts = (await ex.run('jacobian', { d: field, out: jac ? 'jac' : undefined, dims: fixed.dims }, fixed.dims[2])) as number[][];
    // det of the whole map = det(affine linear part) · det(I + ∂d/∂x).
    const T = options.initialTransform;
    const detA = T ? T[0] * (T[5] * T[10] - T[6] * T[9]) - T[1] * (T[4] * T[10] - T[6] * T[8]) + T[2] * (T[4] * T[9] - T[5] * T[8]) : 1;
    if (jac && detA !== 1) for (let i = 0; i < n; i++) jac[i] *= detA;
    let neg = 0, mn = Infinity, mx = -Infinity;
    for (const [c, a, b] of parts) {
      neg += c;
      mn = Math.min(mn, a);
      mx = Math.max(mx, b);
    }
    if (detA <= 0) neg = n - neg;
    const result: DemonsVolumeResult = {
      field: worldField ? floatVolume(fixed, ex.get('fieldRas'), 3, { vectorComponents: 3, niftiIntentCode: 1007 }) : null,
      fieldVoxels: ex.get(field),
      warped: floatVolume(fixed, warped),
      jacobian: jac ? floatVolume(fixed, jac) : null,
      difference: difference ? floatVolume(fixed, difference) : null,
      metrics: {
        msdBefore: before.msd,
        msdAfter: after.msd,
        nccBefore: before.ncc,
        nccAfter: after.ncc,
        negativeJacobianVoxels: neg,
        negativeJacobianFraction: neg / n,
        minJacobian: mn * detA,
        maxJacobian: mx * detA,
        levels,
        threads: ex.threads,
        seconds: (performance.now() - t0) / 1000,
        stoppedEarly: !!stoppedAt,
        ...(stoppedAt ? { stoppedAt } : {}),
      },
    };
    return result;
  } catch (e) {
    // Closing the pool on abort rejects the pending ops: report it as the cancellation it is.
    if (cb.signal?.aborted) throw new RegistrationCancelled();
    throw e;
  } finally {
    cb.signal?.removeEventListener('abort', onAbort);
    await ex.close();
  }
}
