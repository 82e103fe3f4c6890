/**
 * Multi-resolution demons registration (Thirion), orchestrated over an Executor (thread pool
 * or inline). The numeric kernels are in src-shared/registration/; this file only sequences
 * them: pyramid → per level: warp, force, fluid smoothing, update (add or compose),
 * elastic smoothing, with MSD-based stopping, progress and cancellation.
 */
import { DEMONS_FORM_DEFAULTS } from '../../src-shared/registration/demons-form';
import type { Executor } from '../../src-shared/registration/ops';
import { halfDims, type Dims, type ForceKind } from '../../src-shared/registration/field-kernels';
import { throwIfAborted } from '../../src-shared/registration/cancel';
import type { Vec3 } from '../../src-shared/image/volume';
import type { DemonsPreview, DemonsPreviewRequest } from '../../src-shared/registration/preview';
import { buildDemonsPreview, previewAxes, previewSampling, sliceField } from '../../src-shared/registration/preview-slice';
export { RegistrationCancelled } from '../../src-shared/registration/cancel';

export interface DemonsOptions {
  /** Resolution levels (each halves the grid, Gaussian anti-aliasing σ = 1 voxel). Default 3. */
  levels?: number;
  /** Max iterations per level, coarsest first; a number applies to every level. */
  iterations?: number | number[];
  /** Gaussian σ (voxels of each level) applied to the update (fluid regularisation); 0 = off. */
  sigmaFluid?: number;
  /** Gaussian σ (voxels) applied to the displacement after each update (elastic); 0 = off. */
  sigmaElastic?: number;
  /** Gradient of the force: warped moving (default), fixed, or both (symmetric). */
  force?: ForceKind;
  /** Compose the updates (d ← d ∘ exp(u), diffeomorphic) instead of adding them. */
  diffeomorphic?: boolean;
  /** Largest step of the force per iteration, voxels (Thirion's classic form is 0.5). */
  maxStep?: number;
  /** Stop a level when the MSD has not improved by `tolerance` (relative) for `patience` iterations. */
  stopOnPlateau?: boolean;
  tolerance?: number;
  patience?: number;
  /** Levels are dropped until the coarsest has at least this many voxels along every axis > 1. */
  minSize?: number;
  /**
   * Gaussian σ (voxels) applied to both images at the finest level before the forces are
   * computed (coarser levels are already smoothed by the pyramid). Noise gradients of
   * unsmoothed images drive the force in low-contrast tissue; 0 = off.
   */
  imageSigma?: number;
  /**
   * Elastic smoothing of the displacement with point-reflected edges (s(−t) = 2·s(0) − s(t),
   * keeps a linear field unchanged) instead of replicated border vectors. Default true;
   * see `edgeMargin`, which it goes with.
   */
  linearEdges?: boolean;
  /**
   * No force where x + d(x) lies within this many voxels (of each level) of the moving
   * image's border, or beyond it. Default 1.
   */
  edgeMargin?: number;
}

/**
 * Defaults (measured on the benchmark's CT-like 3D pair and 2D cine-MR-like pair, chosen as
 * general values rather than tuned to one phantom; see the commit/report for the table):
 * - 3 levels: the coarsest (4× down-sampled) captures motions of 10+ mm in a few voxels.
 * - symmetric (ESM) force: uses both gradients, converges in fewer iterations than either.
 * - σ_fluid = 4 voxels: smoothing the update spreads the force from edges into low-contrast
 *   tissue (liver, muscle, fat), where the noise-dominated local force is unreliable; it is
 *   what lowered the endpoint error most (σ_fluid 1 → 2 → 3 → 4: 0.46 → 0.37 → 0.33 →
 *   0.29 mm on the CT phantom). σ_elastic = 1 voxel keeps the field smooth without stalling
 *   convergence (0.75 and 1.5 were both worse; 2 left the MSD well above the noise floor).
 * - max step 0.35 voxel (Thirion's normalisation has 0.5; 1 was clearly worse, 0.25 no
 *   better): smaller, steadier steps with the MSD-plateau stop.
 * - iterations 150/80/5, coarse → fine, with the MSD-plateau stop: the coarse levels are
 *   cheap and set the large-scale field; at full resolution a few iterations recover the
 *   fine detail (MSD), while many more only fit noise and cost most of the time.
 * - σ_image = 1 voxel at the finest level: removes the noise gradients that otherwise drive
 *   the force there (the coarse levels are already smoothed by the pyramid).
 * - field-of-view border: linear (point-reflected) edges for the elastic smoothing and no
 *   force within 1 voxel of the moving image's border. Half the error was near the border
 *   where motion crosses it (bottom slices of the CT phantom: 0.63 mm against 0.23 inside):
 *   replicated border vectors drag the field at the border towards the interior values by
 *   ≈0.4·σ·slope every iteration. Reflecting alone let the unreliable forces at the border
 *   (samples there are made of the pyramid's edge padding, a one-sided gradient, anatomy that
 *   is partly outside the moving image) steer the now free edge; without those forces the
 *   edge follows the interior's slope. Together (and only together): EPE 0.288 → 0.241 mm on
 *   the CT phantom, 0.335 → 0.318 on a second pair (other seed, other motion that does not
 *   cross the border much), 0.245 → 0.235 on the 2D pair; each alone was worse on one of them.
 *   A 1-voxel margin is what the central-difference gradient and the trilinear sample at the
 *   border need; 2 voxels was slightly worse on both 3D pairs.
 * Checked and kept: the plateau stop is not early — running the coarse levels to 150/80 or
 * 300/160 iterations without it was worse (0.304, 0.298 against 0.288; the coarse MSD rises
 * again), and 25 finest-level iterations gave 0.285 for twice the CPU time.
 */
export const DEMONS_DEFAULTS: Required<DemonsOptions> = {
  // levels, iterations, σ fluid/elastic, force, diffeomorphic, plateau stop: the values the
  // app's demons form shows, kept in src-shared so the renderer needs no main-process code.
  ...DEMONS_FORM_DEFAULTS,
  iterations: [...DEMONS_FORM_DEFAULTS.iterations],
  maxStep: 0.35,
  tolerance: 5e-4,
  patience: 5,
  minSize: 8,
  imageSigma: 1,
  linearEdges: true,
  edgeMargin: 1,
};

export interface DemonsProgress {
  stage: 'demons';
  level: number; // 1 = coarsest
  levels: number;
  iteration: number; // 1-based
  msd: number;
  dims: Dims;
}

export interface LevelSummary {
  level: number;
  dims: Dims;
  iterations: number;
  msdFirst: number;
  msdLast: number;
  seconds: number;
}

export interface RegistrationCallbacks<P> {
  onProgress?: (p: P) => void;
  signal?: AbortSignal;
}

/** Where a demons run was stopped early (see DemonsCallbacks.stop). */
export interface DemonsStopPoint {
  /** 1 = coarsest. */
  level: number;
  levels: number;
  /** Iterations done at that level before the stop. */
  iteration: number;
}

export interface DemonsCallbacks extends RegistrationCallbacks<DemonsProgress> {
  /**
   * Stop early, keeping the result: checked at the top of each iteration. When it is
   * aborted the current level ends at once, the remaining iterations of every level are
   * skipped, the field is still carried up to full resolution, and the run returns normally
   * (with `stoppedAt`). `signal` still cancels (throws).
   */
  stop?: AbortSignal;
  /** Live previews of one slice (DemonsPreview), see runDemons. */
  preview?: DemonsPreviewRequest & { onPreview(p: DemonsPreview): void };
}

export interface DemonsRunCallbacks extends DemonsCallbacks {
  /** mm per voxel of the full-resolution grid; needed only for previews (pixelMm, update in mm). */
  spacing?: Vec3;
}


/** Lets timers and abort events run between iterations (the executor may keep this thread busy). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export function resolveDemonsOptions(o: DemonsOptions = {}): Required<DemonsOptions> {
  const r = { ...DEMONS_DEFAULTS };
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  return r;
}

/** Max iterations of each actual level (coarsest first): a number for all, or the last `levels` of a list (its last entry repeated when short). */
export function iterationsFor(it: number | number[], levels: number): number[] {
  if (typeof it === 'number') return new Array(levels).fill(it);
  if (it.length >= levels) return it.slice(it.length - levels);
  const out = it.slice();
  while (out.length < levels) out.push(it[it.length - 1]);
  return out;
}

const sum = (r: Array<number | number[]>) => r.reduce<number>((a, b) => a + (b as number), 0);
const max = (r: Array<number | number[]>) => r.reduce<number>((a, b) => Math.max(a, b as number), 0);

/**
 * Demons on two images sampled on one grid. `fixed` and `moving` are the executor buffers
 * 'F0' and 'M0' (the caller fills them). Leaves the displacement (voxel units, component-major,
 * 3n) in the executor buffer whose name is returned, plus per-level summaries.
 *
 * With `cb.preview`, calls onPreview with a DemonsPreview of one fixed-grid slice after the
 * first iteration of each level, after any iteration once `intervalMs` (default 200) have
 * passed since the last one, and once at the end (the final full-resolution field; also
 * after a stop). Previews only read the buffers: they never change the numbers.
 */
export async function runDemons(
  ex: Executor,
  dims: Dims,
  options: DemonsOptions,
  cb: DemonsRunCallbacks = {},
): Promise<{ field: string; levels: LevelSummary[]; stoppedAt?: DemonsStopPoint }> {
  const o = resolveDemonsOptions(options);
  // Levels: keep the coarsest grid at least minSize voxels along every non-singleton axis.
  let levels = Math.max(1, Math.floor(o.levels));
  const minAxis = Math.min(...dims.filter((d) => d > 1));
  while (levels > 1 && minAxis / 2 ** (levels - 1) < o.minSize) levels--;
  const its = iterationsFor(o.iterations, levels);

  // Pyramid: F_l, M_l for l = 1..levels−1 (smooth σ = 1 voxel, then every 2nd voxel).
  const pyr: Dims[] = [dims];
  for (let l = 1; l < levels; l++) {
    const pd = pyr[l - 1];
    const cd = halfDims(pd);
    pyr.push(cd);
    const pn = pd[0] * pd[1] * pd[2];
    ex.alloc('tmpA', pn);
    ex.alloc('tmpB', pn);
    for (const img of ['F', 'M']) {
      await ex.run('smoothXY', { src: `${img}${l - 1}`, dst: 'tmpA', dims: pd, sigma: [1, 1, 1], comps: 1 }, pd[2]);
      await ex.run('smoothZ', { src: 'tmpA', dst: 'tmpB', dims: pd, sigma: [1, 1, 1], comps: 1 }, pd[2]);
      ex.alloc(`${img}${l}`, cd[0] * cd[1] * cd[2]);
      await ex.run('subsample', { src: 'tmpB', srcDims: pd, out: `${img}${l}`, outDims: cd }, cd[2]);
    }
    ex.free('tmpA');
    ex.free('tmpB');
  }

  // Level voxel c ↔ full voxel c·factor (subsample takes every 2nd voxel of axes longer than 1).
  const factor: Vec3[] = [[1, 1, 1]];
  for (let l = 1; l < levels; l++) factor.push([0, 1, 2].map((a) => factor[l - 1][a] * (pyr[l - 1][a] > 1 ? 2 : 1)) as unknown as Vec3);
  const pv = cb.preview ? makePreviewer(ex, dims, cb.spacing ?? [1, 1, 1], cb.preview, levels, pyr, factor) : null;
  let stoppedAt: DemonsStopPoint | undefined;

  if (o.imageSigma > 0) {
    const s: [number, number, number] = [o.imageSigma, o.imageSigma, o.imageSigma];
    // Finest level only: smoothing the (already anti-aliased) coarse levels too was measured
    // to be less accurate.
    for (let l = 0; l < 1; l++) {
      const ld = pyr[l];
      ex.alloc('tmpA', ld[0] * ld[1] * ld[2]);
      for (const img of [`F${l}`, `M${l}`]) {
        await ex.run('smoothXY', { src: img, dst: 'tmpA', dims: ld, sigma: s, comps: 1 }, ld[2]);
        await ex.run('smoothZ', { src: 'tmpA', dst: img, dims: ld, sigma: s, comps: 1 }, ld[2]);
      }
      ex.free('tmpA');
    }
  }

  const summaries: LevelSummary[] = [];
  let d = '';
  let prevDims: Dims | null = null;
  for (let li = 0; li < levels; li++) {
    throwIfAborted(cb.signal);
    const lev = levels - 1 - li;
    const ld = pyr[lev];
    const n = ld[0] * ld[1] * ld[2];
    const nz = ld[2];
    const F = `F${lev}`, M = `M${lev}`;
    const t0 = performance.now();
    // Field buffers of this level (names swap as the iteration ping-pongs between them).
    let dCur = `d${lev}`;
    let dAlt = `dAlt${lev}`;
    let u = 'u', uAlt = 'uAlt';
    ex.alloc(dCur, 3 * n);
    ex.alloc(dAlt, 3 * n);
    ex.alloc(u, 3 * n);
    ex.alloc(uAlt, 3 * n);
    ex.alloc('W', n);
    if (prevDims) {
      await ex.run('upsampleField', { src: d, srcDims: prevDims, out: dCur, outDims: ld }, nz);
      ex.free(d);
      ex.free(d.replace(/^d/, 'dAlt'));
    }
    let gradF: string | undefined;
    if (o.force !== 'moving' && !stoppedAt) {
      gradF = 'gF';
      ex.alloc(gradF, 3 * n);
      await ex.run('gradient', { src: F, out: gradF, dims: ld }, nz);
    }
    const sf: [number, number, number] = [o.sigmaFluid, o.sigmaFluid, o.sigmaFluid];
    const se: [number, number, number] = [o.sigmaElastic, o.sigmaElastic, o.sigmaElastic];
    let best = Infinity, wait = 0;
    let first = NaN, last = NaN, done = 0;
    for (let it = 0; it < its[li] && !stoppedAt; it++) {
      throwIfAborted(cb.signal);
      if (cb.stop?.aborted) {
        stoppedAt = { level: li + 1, levels, iteration: done };
        break;
      }
      const msd = sum(await ex.run('warp', { moving: M, field: dCur, out: 'W', dims: ld, fixed: F }, nz)) / n;
      if (it === 0) first = msd;
      last = msd;
      done = it + 1;
      pv?.iterationStarted(lev, dCur, msd, li + 1);
      cb.onProgress?.({ stage: 'demons', level: li + 1, levels, iteration: it + 1, msd, dims: ld });
      if (o.stopOnPlateau) {
        if (msd < best * (1 - o.tolerance)) {
          best = msd;
          wait = 0;
        } else if (++wait >= o.patience) break;
      }
      await ex.run('force', { fixed: F, warped: 'W', gradF, out: u, dims: ld, kind: o.force, maxStep: o.maxStep, field: dCur, edgeMargin: o.edgeMargin }, nz);
      if (!o.diffeomorphic) {
        // d += G_fluid * u (the k pass of the smoothing adds straight into d)
        if (o.sigmaFluid > 0) {
          await ex.run('smoothXY', { src: u, dst: uAlt, dims: ld, sigma: sf, comps: 3 }, nz);
          await ex.run('smoothZ', { src: uAlt, dst: dCur, dims: ld, sigma: sf, comps: 3, add: true }, nz);
        } else await ex.run('addScaled', { d: dCur, u, scale: 1, dims: ld }, nz);
      } else {
        if (o.sigmaFluid > 0) {
          await ex.run('smoothXY', { src: u, dst: uAlt, dims: ld, sigma: sf, comps: 3 }, nz);
          await ex.run('smoothZ', { src: uAlt, dst: u, dims: ld, sigma: sf, comps: 3 }, nz);
        }
        // v = exp(u) by scaling and squaring (steps until |u|/2^s ≤ 0.5 voxel), then d ← d ∘ v.
        const m = Math.sqrt(max(await ex.run('maxNormSq', { u, dims: ld }, nz)));
        const s = m > 0.5 ? Math.ceil(Math.log2(m / 0.5)) : 0;
        if (s > 0) {
          await ex.run('scale', { u, s: 2 ** -s, dims: ld }, nz);
          for (let q = 0; q < s; q++) {
            await ex.run('compose', { d: u, v: u, out: uAlt, dims: ld }, nz);
            [u, uAlt] = [uAlt, u];
          }
        }
        await ex.run('compose', { d: dCur, v: u, out: dAlt, dims: ld }, nz);
        [dCur, dAlt] = [dAlt, dCur];
      }
      if (o.sigmaElastic > 0) {
        await ex.run('smoothXY', { src: dCur, dst: dAlt, dims: ld, sigma: se, comps: 3, linearEdges: o.linearEdges }, nz);
        await ex.run('smoothZ', { src: dAlt, dst: dCur, dims: ld, sigma: se, comps: 3, linearEdges: o.linearEdges }, nz);
      }
      pv?.iterationDone(lev, dCur, li + 1, done, it === 0);
      await yieldToEventLoop();
    }
    summaries.push({ level: li + 1, dims: ld, iterations: done, msdFirst: first, msdLast: last, seconds: (performance.now() - t0) / 1000 });
    // Keep only the current field; the alternate buffer goes with it into the next level.
    ex.free(u);
    ex.free(uAlt);
    ex.free('W');
    if (gradF) ex.free(gradF);
    if (lev > 0) {
      ex.free(F);
      ex.free(M);
    }
    // Normalise names so the next level can free both: current → d{lev}, alternate → dAlt{lev}.
    if (dCur !== `d${lev}`) {
      // ping-pong left the field in the 'alt' buffer: copy it back (cheap compared to a level)
      await ex.run('copy', { src: dCur, dst: `d${lev}`, dims: ld, comps: 3 }, nz);
    }
    d = `d${lev}`;
    prevDims = ld;
  }
  ex.free(`dAlt0`);
  pv?.final(d, summaries[summaries.length - 1]?.iterations ?? 0);
  return { field: d, levels: summaries, ...(stoppedAt ? { stoppedAt } : {}) };
}

/**
 * The preview side of runDemons: keeps the MSD history and the field at the preview pixels
 * before each iteration (for the update plane), and decides when to emit.
 */
function makePreviewer(
  ex: Executor,
  dims: Dims,
  spacing: Vec3,
  req: DemonsPreviewRequest & { onPreview(p: DemonsPreview): void },
  levels: number,
  pyr: Dims[],
  factor: Vec3[],
) {
  const axes = previewAxes(req.axis ?? 2);
  const nAxis = dims[axes[2]];
  const slice = Math.min(nAxis - 1, Math.max(0, Math.round(req.index ?? Math.floor(nAxis / 2))));
  const interval = req.intervalMs ?? 200;
  const history = { msd: [] as number[], level: [] as number[] };
  let lastAt = -Infinity;
  // The field at the preview pixels before the last completed update (and its level), and
  // before the iteration under way (a plateau stop abandons it without an update).
  let previous: Float32Array | null = null;
  let previousLev = -1;
  let pending: Float32Array | null = null;
  let lastMsd = NaN;
  const sampling = (lev: number) => previewSampling(pyr[lev], axes, Math.round(slice / factor[lev][axes[2]]));
  const emit = (lev: number, field: string, level: number, iteration: number) => {
    const p = buildDemonsPreview({
      dims: pyr[lev],
      spacing: [0, 1, 2].map((a) => spacing[a] * factor[lev][a]) as unknown as Vec3,
      sampling: sampling(lev),
      slice,
      level,
      levels,
      iteration,
      msd: lastMsd,
      history,
      fixed: ex.get(`F${lev}`),
      moving: ex.get(`M${lev}`),
      field: ex.get(field),
      previousField: previous,
    });
    lastAt = performance.now();
    req.onPreview(p);
  };
  return {
    /** After the iteration's warp (its MSD), before the field changes. */
    iterationStarted(lev: number, field: string, msd: number, level: number) {
      history.msd.push(msd);
      history.level.push(level);
      lastMsd = msd;
      pending = sliceField(ex.get(field), pyr[lev], sampling(lev));
    },
    /** After the iteration's update of the field. */
    iterationDone(lev: number, field: string, level: number, iteration: number, first: boolean) {
      previous = pending;
      previousLev = lev;
      if (first || performance.now() - lastAt >= interval) emit(lev, field, level, iteration);
    },
    /** The final full-resolution field (buffer `field` on level 0's grid). */
    final(field: string, iteration: number) {
      // An update made on a coarser grid (a stop) is not shown on this one.
      if (previousLev !== 0) previous = null;
      emit(0, field, levels, iteration);
    },
  };
}
