/**
 * Chan–Vese active contour without edges (region-based level set), the scheme of
 * scikit-image's `segmentation.chan_vese` (Getreuer's semi-implicit discretisation), in 2D on
 * one slice and its direct extension to 3D (six neighbours instead of four).
 *
 * As skimage: the image is rescaled to [0, 1] (min → 0, max → 1); c1 / c2 are the mean
 * intensities where φ > 0 / φ ≤ 0; each iteration
 *   φ ← (φ + dt·δ(φ)·(μ·K + ΔE)) / (1 + μ·dt·δ(φ)·ΣC),   δ(x) = 1 / (1 + x²),
 * with ΔE = −λ1(I − c1)² + λ2(I − c2)², C the inverse gradient norms towards each neighbour
 * (η = 1e-16), K = Σ C·φ(neighbour); edges replicate φ. It stops when the RMS change of φ is
 * ≤ tol or after maxIterations. The segmentation is φ > 0 (uint8 0/1).
 * Distances are in voxels (skimage ignores spacing too); the initial level set is skimage's
 * checkerboard sin(πx/5)·sin(πy/5)[·sin(πz/5)] or a mask (+1 inside, −1 outside).
 */
import { voxelCount, type Volume } from '../image/volume';
import { throwIfAborted } from '../processing/progress';
import { maskVolume } from '../processing/volume-utils';
import { realValues, type AnalysisOptions } from './common';

export interface ChanVeseParams {
  mu?: number;
  lambda1?: number;
  lambda2?: number;
  tol?: number;
  maxIterations?: number;
  dt?: number;
  /** A slice (2D) instead of the whole volume: index along index axis `axis`. */
  slice?: { axis: 0 | 1 | 2; index: number };
}

export interface ChanVeseResult {
  mask: Volume;
  iterations: number;
  /** RMS change of φ in the last iteration. */
  change: number;
  /** Mean of the rescaled image inside / outside at the end. */
  c1: number;
  c2: number;
}

/** Largest number of voxels evolved at once (two float64 level sets + the image). */
export const CHAN_VESE_MAX_VOXELS = 24_000_000;

/** The 2D or 3D evolution on a grid (nx, ny, nz) of values `img` (rescaled here). */
export function chanVeseGrid(
  img: Float64Array,
  dims: [number, number, number],
  p: ChanVeseParams,
  init: Float64Array | null,
  opts: AnalysisOptions = {},
): { phi: Float64Array; iterations: number; change: number; c1: number; c2: number } {
  const mu = p.mu ?? 0.25, l1 = p.lambda1 ?? 1, l2 = p.lambda2 ?? 1, tol = p.tol ?? 1e-3, maxIt = p.maxIterations ?? 500, dt = p.dt ?? 0.5;
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    if (img[i] < lo) lo = img[i];
    if (img[i] > hi) hi = img[i];
  }
  for (let i = 0; i < n; i++) img[i] -= lo;
  if (hi - lo !== 0) for (let i = 0; i < n; i++) img[i] /= hi - lo;
  let phi = new Float64Array(n);
  if (init) phi.set(init);
  else {
    const sf = Math.PI / 5;
    for (let k = 0, q = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++, q++) phi[q] = Math.sin(sf * j) * Math.sin(sf * i) * (nz > 1 ? Math.sin(sf * k) : 1);
  }
  let next = new Float64Array(n);
  const eta = 1e-16;
  const plane = nx * ny;
  let it = 0, change = tol + 1, c1 = 0, c2 = 0;
  while (change > tol && it < maxIt) {
    throwIfAborted(opts.signal);
    opts.onProgress?.(it / maxIt, `Chan–Vese iteration ${it + 1}`);
    let sIn = 0, nIn = 0, sOut = 0;
    for (let q = 0; q < n; q++) {
      if (phi[q] > 0) {
        sIn += img[q];
        nIn++;
      } else sOut += img[q];
    }
    c1 = nIn ? sIn / nIn : sIn;
    c2 = n - nIn ? sOut / (n - nIn) : sOut;
    let ss = 0;
    for (let k = 0, q = 0; k < nz; k++) {
      const zm = k > 0 ? -plane : 0, zp = k < nz - 1 ? plane : 0;
      for (let j = 0; j < ny; j++) {
        const ym = j > 0 ? -nx : 0, yp = j < ny - 1 ? nx : 0;
        for (let i = 0; i < nx; i++, q++) {
          const xm = i > 0 ? -1 : 0, xp = i < nx - 1 ? 1 : 0;
          const c = phi[q];
          const pxp = phi[q + xp], pxn = phi[q + xm], pyp = phi[q + yp], pyn = phi[q + ym];
          const dxp = pxp - c, dxn = c - pxn, dx0 = (pxp - pxn) / 2;
          const dyp = pyp - c, dyn = c - pyn, dy0 = (pyp - pyn) / 2;
          let C1, C2, C3, C4, C5 = 0, C6 = 0, K;
          if (nz > 1) {
            const pzp = phi[q + zp], pzn = phi[q + zm];
            const dzp = pzp - c, dzn = c - pzn, dz0 = (pzp - pzn) / 2;
            C1 = 1 / Math.sqrt(eta + dxp * dxp + dy0 * dy0 + dz0 * dz0);
            C2 = 1 / Math.sqrt(eta + dxn * dxn + dy0 * dy0 + dz0 * dz0);
            C3 = 1 / Math.sqrt(eta + dx0 * dx0 + dyp * dyp + dz0 * dz0);
            C4 = 1 / Math.sqrt(eta + dx0 * dx0 + dyn * dyn + dz0 * dz0);
            C5 = 1 / Math.sqrt(eta + dx0 * dx0 + dy0 * dy0 + dzp * dzp);
            C6 = 1 / Math.sqrt(eta + dx0 * dx0 + dy0 * dy0 + dzn * dzn);
            K = pxp * C1 + pxn * C2 + pyp * C3 + pyn * C4 + pzp * C5 + pzn * C6;
          } else {
            C1 = 1 / Math.sqrt(eta + dxp * dxp + dy0 * dy0);
            C2 = 1 / Math.sqrt(eta + dxn * dxn + dy0 * dy0);
            C3 = 1 / Math.sqrt(eta + dx0 * dx0 + dyp * dyp);
            C4 = 1 / Math.sqrt(eta + dx0 * dx0 + dyn * dyn);
            K = pxp * C1 + pxn * C2 + pyp * C3 + pyn * C4;
          }
          const v = img[q];
          const diff = -l1 * (v - c1) * (v - c1) + l2 * (v - c2) * (v - c2);
          const delta = 1 / (1 + c * c);
          const np = (c + dt * delta * (mu * K + diff)) / (1 + mu * dt * delta * (C1 + C2 + C3 + C4 + C5 + C6));
          next[q] = np;
          ss += (np - c) * (np - c);
        }
      }
    }
    [phi, next] = [next, phi];
    change = Math.sqrt(ss / n);
    it++;
  }
  return { phi, iterations: it, change, c1, c2 };
}

/**
 * Chan–Vese on the whole volume (3D) or on one slice (p.slice); `init` is an optional mask
 * on the same grid giving the initial contour. Returns a full-size uint8 mask.
 */
export function chanVese(vol: Volume, p: ChanVeseParams = {}, init?: Volume, opts: AnalysisOptions = {}): ChanVeseResult {
  const [nx, ny, nz] = vol.dims;
  const real = realValues(vol);
  const initFg = init ? init.data : null;
  const out = new Uint8Array(voxelCount(vol));
  // Index of voxel (u, v) of the working grid in the volume.
  let gdims: [number, number, number];
  let at: (u: number, v: number, w: number) => number;
  if (p.slice) {
    const { axis, index } = p.slice;
    if (!Number.isInteger(index) || index < 0 || index >= vol.dims[axis]) throw new Error(`chan-vese: slice ${index} is outside 0…${vol.dims[axis] - 1} along axis ${axis}`);
    if (axis === 2) {
      gdims = [nx, ny, 1];
      at = (u, v) => (index * ny + v) * nx + u;
    } else if (axis === 1) {
      gdims = [nx, nz, 1];
      at = (u, v) => (v * ny + index) * nx + u;
    } else {
      gdims = [ny, nz, 1];
      at = (u, v) => (v * ny + u) * nx + index;
    }
  } else {
    gdims = [nx, ny, nz];
    at = (u, v, w) => (w * ny + v) * nx + u;
  }
  const n = gdims[0] * gdims[1] * gdims[2];
  if (n > CHAN_VESE_MAX_VOXELS) throw new Error(`chan-vese: ${n} voxels is too many to evolve at once (at most ${CHAN_VESE_MAX_VOXELS}); crop the image first or run it on a slice`);
  const img = new Float64Array(n);
  const phi0 = initFg ? new Float64Array(n) : null;
  for (let w = 0, q = 0; w < gdims[2]; w++)
    for (let v = 0; v < gdims[1]; v++)
      for (let u = 0; u < gdims[0]; u++, q++) {
        const x = at(u, v, w);
        img[q] = real[x];
        if (phi0 && initFg) phi0[q] = initFg[x] !== 0 ? 1 : -1;
      }
  const r = chanVeseGrid(img, gdims, p, phi0, opts);
  for (let w = 0, q = 0; w < gdims[2]; w++)
    for (let v = 0; v < gdims[1]; v++)
      for (let u = 0; u < gdims[0]; u++, q++) if (r.phi[q] > 0) out[at(u, v, w)] = 1;
  return { mask: maskVolume(vol, out, { Derivation: 'Chan–Vese' }), iterations: r.iterations, change: r.change, c1: r.c1, c2: r.c2 };
}
