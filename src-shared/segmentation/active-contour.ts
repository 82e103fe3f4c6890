/**
 * ITK-SNAP's semi-automatic segmentation ("snake"): seed bubbles grow as a level set driven by
 * a speed image, in 3D, inside a region of interest.
 *
 * Speed images (ITK-SNAP's pre-segmentation step):
 * - threshold (region competition): P(x) = tanh((I − lower)/s) + tanh((upper − I)/s) − 1,
 *   in [−1, 1]: positive inside the intensity band (the front grows), negative outside (it
 *   shrinks back), about 0 at the thresholds; s is the smoothness in image units.
 * - edge (geodesic active contour): g(x) = 1 / (1 + (|∇I_σ|/κ)^λ), in (0, 1]: ~1 in flat regions,
 *   ~0 on strong edges (|∇I_σ| in image units per mm, central differences of the image smoothed
 *   with a Gaussian of σ mm, default 1), so the front slows down and stops at edges.
 *
 * Evolution (φ < 0 inside, in mm): ∂φ/∂t = −α·F·|∇φ| + β·G·κ·|∇φ| + γ·∇F·∇φ, with F the speed
 * (P or g), G = 1 for region competition and g for the geodesic contour (curvature is weaker on
 * edges), κ the mean curvature (smooths the front). The advection term (weight γ) moves the
 * front down the speed's gradient, i.e. with velocity −γ∇g: onto the valley of g that marks an
 * edge from either side, so a front that propagation pushed a little past an edge is pulled
 * back, and one slowed before it is drawn in (Caselles et al.'s geodesic active contour; ITK-SNAP
 * defaults γ = 2 for edges and 0 for region competition). |∇φ| of the propagation term is
 * Osher–Sethian upwind, the advection term first-order upwind per axis (the side the velocity
 * comes from), the curvature term central differences, all with the voxel spacing (anisotropic
 * grids evolve in true mm). The time step keeps all terms stable (CFL).
 *
 * Narrow band: φ is kept only near the front, clamped to ±B (B = 3 voxels); each iteration
 * updates the voxels with |φ| < B and their 6-neighbours, so one step costs in proportion to
 * the front's area, not the ROI's volume. Every few steps φ is re-distanced in the band
 * (Sussman's |∇φ| = 1 iterations) so the band stays a distance function.
 */
import type { Vec3, Volume } from '../image/volume';
import { smooth3D } from '../registration/gaussian';

export type SpeedParams =
  | { mode: 'threshold'; lower: number; upper: number; smoothness?: number }
  | { mode: 'edge'; kappa: number; exponent?: number; sigma?: number };

export interface Bubble {
  /** Continuous voxel index of the centre. */
  center: Vec3;
  /** Radius in mm. */
  radius: number;
}

export interface ContourParams {
  speed: SpeedParams;
  bubbles: Bubble[];
  /** Propagation weight α (default 1). */
  alpha?: number;
  /** Curvature weight β (default 0.2). */
  beta?: number;
  /** Advection weight γ (default 2 for edge speed, 0 for threshold speed, as ITK-SNAP). */
  gamma?: number;
  /** Region of interest [start, end) in voxels; the whole image by default. */
  roi?: { start: Vec3; end: Vec3 };
}

/** Real value reader of a volume (first frame). */
function realReader(v: Volume): (i: number) => number {
  const s = v.rescaleSlope || 1;
  const b = v.rescaleIntercept || 0;
  const d = v.data;
  return (i) => d[i] * s + b;
}

export class ActiveContour {
  readonly start: Vec3;
  readonly size: Vec3;
  readonly speed: Float32Array;
  readonly phi: Float32Array;
  iteration = 0;
  private readonly h: Vec3;
  private readonly band: number;
  private readonly alpha: number;
  private readonly beta: number;
  private readonly gamma: number;
  /** Advection velocity −γ∇F (mm per unit time) per axis on the ROI; null when γ = 0. */
  private readonly adv: [Float32Array, Float32Array, Float32Array] | null;
  private readonly edge: boolean;
  private readonly dt: number;
  private active = new Uint32Array(0);
  private activeCount = 0;
  private readonly mark: Uint32Array;
  private epoch = 1;
  private readonly next: Float32Array;

  constructor(
    private readonly vol: Volume,
    p: ContourParams,
  ) {
    const d = vol.dims;
    const s0 = p.roi?.start ?? [0, 0, 0];
    const e0 = p.roi?.end ?? d;
    this.start = [0, 1, 2].map((a) => Math.max(0, Math.min(d[a] - 1, Math.floor(s0[a])))) as Vec3;
    const end = [0, 1, 2].map((a) => Math.max(this.start[a] + 1, Math.min(d[a], Math.ceil(e0[a])))) as Vec3;
    this.size = [end[0] - this.start[0], end[1] - this.start[1], end[2] - this.start[2]];
    const n = this.size[0] * this.size[1] * this.size[2];
    this.h = [...vol.spacing] as Vec3;
    const hmin = Math.min(...this.h);
    // A float32 value, so that voxels clamped to ±B (stored in float32) test as outside the band.
    this.band = Math.fround(3 * hmin);
    this.alpha = p.alpha ?? 1;
    this.beta = p.beta ?? 0.2;
    this.edge = p.speed.mode === 'edge';
    this.gamma = p.gamma ?? (this.edge ? 2 : 0);
    this.speed = this.makeSpeed(p.speed);
    this.adv = this.gamma !== 0 ? this.advection() : null;
    // First-order terms: |αF| + Σ|u_a|·hmin/h_a moved per unit time, in units of hmin.
    let maxF = 0;
    for (let i = 0; i < n; i++) {
      let f = Math.abs(this.alpha * this.speed[i]);
      if (this.adv) f += (Math.abs(this.adv[0][i]) * hmin) / this.h[0] + (Math.abs(this.adv[1][i]) * hmin) / this.h[1] + (Math.abs(this.adv[2][i]) * hmin) / this.h[2];
      maxF = Math.max(maxF, f);
    }
    const dtProp = (0.5 * hmin) / Math.max(maxF, 1e-6);
    const dtCurv = this.beta > 0 ? (hmin * hmin) / (6 * this.beta) : Infinity;
    this.dt = Math.min(dtProp, dtCurv * 0.9);
    this.phi = new Float32Array(n).fill(this.band);
    this.next = new Float32Array(n);
    this.mark = new Uint32Array(n);
    this.seed(p.bubbles);
  }

  /** Speed image on the ROI. */
  private makeSpeed(sp: SpeedParams): Float32Array {
    const [sx, sy, sz] = this.size;
    const [ox, oy, oz] = this.start;
    const [nx, ny] = this.vol.dims;
    const val = realReader(this.vol);
    const out = new Float32Array(sx * sy * sz);
    if (sp.mode === 'threshold') {
      const s = Math.max(sp.smoothness ?? Math.max((sp.upper - sp.lower) / 20, 1e-6), 1e-6);
      for (let k = 0, o = 0; k < sz; k++)
        for (let j = 0; j < sy; j++)
          for (let i = 0; i < sx; i++, o++) {
            const x = val(ox + i + nx * (oy + j + ny * (oz + k)));
            out[o] = Math.tanh((x - sp.lower) / s) + Math.tanh((sp.upper - x) / s) - 1;
          }
      return out;
    }
    const kappa = Math.max(sp.kappa, 1e-9);
    const lam = sp.exponent ?? 2;
    const h = this.vol.spacing;
    // The ROI's values, Gaussian-smoothed (σ in mm, per axis in voxels) against noise.
    const vals = new Float32Array(sx * sy * sz);
    for (let k = 0, o = 0; k < sz; k++) for (let j = 0; j < sy; j++) for (let i = 0; i < sx; i++, o++) vals[o] = val(ox + i + nx * (oy + j + ny * (oz + k)));
    const sig = sp.sigma ?? 1;
    if (sig > 0) smooth3D(vals, vals, new Float32Array(vals.length), [sx, sy, sz], [sig / h[0], sig / h[1], sig / h[2]]);
    // Image units per mm.
    forEachGradient(vals, this.size, h, (o, gx, gy, gz) => {
      out[o] = 1 / (1 + Math.pow(Math.hypot(gx, gy, gz) / kappa, lam));
    });
    return out;
  }

  /** u = −γ∇F, per mm. */
  private advection(): [Float32Array, Float32Array, Float32Array] {
    const F = this.speed;
    const g = this.gamma;
    const u: [Float32Array, Float32Array, Float32Array] = [new Float32Array(F.length), new Float32Array(F.length), new Float32Array(F.length)];
    forEachGradient(F, this.size, this.h, (o, gx, gy, gz) => {
      u[0][o] = -g * gx;
      u[1][o] = -g * gy;
      u[2][o] = -g * gz;
    });
    return u;
  }

  /** φ = distance to the nearest bubble's sphere (mm), clamped to the band. */
  private seed(bubbles: Bubble[]) {
    const [sx, sy, sz] = this.size;
    const h = this.h;
    const B = this.band;
    for (const b of bubbles) {
      const c = [b.center[0] - this.start[0], b.center[1] - this.start[1], b.center[2] - this.start[2]];
      const ext = [0, 1, 2].map((a) => (b.radius + B) / h[a]);
      for (let k = Math.max(0, Math.floor(c[2] - ext[2])); k <= Math.min(sz - 1, Math.ceil(c[2] + ext[2])); k++)
        for (let j = Math.max(0, Math.floor(c[1] - ext[1])); j <= Math.min(sy - 1, Math.ceil(c[1] + ext[1])); j++)
          for (let i = Math.max(0, Math.floor(c[0] - ext[0])); i <= Math.min(sx - 1, Math.ceil(c[0] + ext[0])); i++) {
            const d = Math.hypot((i - c[0]) * h[0], (j - c[1]) * h[1], (k - c[2]) * h[2]) - b.radius;
            const o = i + sx * (j + sy * k);
            if (d < this.phi[o]) this.phi[o] = Math.max(-B, d);
          }
      // A bubble smaller than a voxel still holds the voxel under its centre.
      const ci = [0, 1, 2].map((a) => Math.round(c[a]));
      if (ci.every((x, a) => x >= 0 && x < this.size[a])) {
        const o = ci[0] + sx * (ci[1] + sy * ci[2]);
        this.phi[o] = Math.min(this.phi[o], -0.5 * Math.min(...h));
      }
    }
    this.collectActive(true);
  }

  /**
   * Active voxels: |φ| < B and their 6-neighbours. After the first, only the previous active
   * voxels are looked at: the front moves less than a voxel per step (CFL), so the new band
   * lies within the old band and its neighbours.
   */
  private collectActive(full = false) {
    const [sx, sy, sz] = this.size;
    const n = this.phi.length;
    const B = this.band;
    this.epoch++;
    if (this.epoch === 0xffffffff) {
      this.mark.fill(0);
      this.epoch = 1;
    }
    const ep = this.epoch;
    let cnt = 0;
    const add = (o: number) => {
      if (this.mark[o] === ep) return;
      this.mark[o] = ep;
      if (cnt === this.active.length) {
        const a = new Uint32Array(Math.max(1024, this.active.length * 2));
        a.set(this.active);
        this.active = a;
      }
      this.active[cnt++] = o;
    };
    const sxy = sx * sy;
    const prev = full ? null : this.active.slice(0, this.activeCount);
    if (!full) cnt = 0;
    const total = prev ? prev.length : n;
    for (let q = 0; q < total; q++) {
      const o = prev ? prev[q] : q;
      if (!(Math.abs(this.phi[o]) < B)) continue;
      add(o);
      const i = o % sx;
      const j = ((o - i) / sx) % sy;
      const k = (o - i - j * sx) / sxy;
      if (i > 0) add(o - 1);
      if (i < sx - 1) add(o + 1);
      if (j > 0) add(o - sx);
      if (j < sy - 1) add(o + sx);
      if (k > 0) add(o - sxy);
      if (k < sz - 1) add(o + sxy);
    }
    this.activeCount = cnt;
  }

  /** Runs `n` iterations; returns the number of voxels inside. */
  step(n = 1): number {
    for (let it = 0; it < n; it++) {
      this.update();
      this.iteration++;
      if (this.iteration % 4 === 0) this.redistance(2);
      this.collectActive();
    }
    return this.insideCount();
  }

  private update() {
    const [sx, sy, sz] = this.size;
    const sxy = sx * sy;
    const phi = this.phi;
    const [hx, hy, hz] = this.h;
    const B = this.band;
    const act = this.active;
    const m = this.activeCount;
    const dt = this.dt;
    for (let q = 0; q < m; q++) {
      const o = act[q];
      const i = o % sx;
      const j = ((o - i) / sx) % sy;
      const k = (o - i - j * sx) / sxy;
      const p = phi[o];
      const xm = i > 0 ? phi[o - 1] : p;
      const xp = i < sx - 1 ? phi[o + 1] : p;
      const ym = j > 0 ? phi[o - sx] : p;
      const yp = j < sy - 1 ? phi[o + sx] : p;
      const zm = k > 0 ? phi[o - sxy] : p;
      const zp = k < sz - 1 ? phi[o + sxy] : p;
      const dmx = (p - xm) / hx;
      const dpx = (xp - p) / hx;
      const dmy = (p - ym) / hy;
      const dpy = (yp - p) / hy;
      const dmz = (p - zm) / hz;
      const dpz = (zp - p) / hz;
      const F = this.alpha * this.speed[o];
      let grad: number;
      if (F > 0) {
        grad = Math.sqrt(Math.max(dmx, 0) ** 2 + Math.min(dpx, 0) ** 2 + Math.max(dmy, 0) ** 2 + Math.min(dpy, 0) ** 2 + Math.max(dmz, 0) ** 2 + Math.min(dpz, 0) ** 2);
      } else {
        grad = Math.sqrt(Math.min(dmx, 0) ** 2 + Math.max(dpx, 0) ** 2 + Math.min(dmy, 0) ** 2 + Math.max(dpy, 0) ** 2 + Math.min(dmz, 0) ** 2 + Math.max(dpz, 0) ** 2);
      }
      let curv = 0;
      if (this.beta > 0) {
        const px = (xp - xm) / (2 * hx);
        const py = (yp - ym) / (2 * hy);
        const pz = (zp - zm) / (2 * hz);
        const pxx = (xp - 2 * p + xm) / (hx * hx);
        const pyy = (yp - 2 * p + ym) / (hy * hy);
        const pzz = (zp - 2 * p + zm) / (hz * hz);
        // Cross derivatives with clamped neighbours (offsets 0 at the ROI's faces).
        const ip = i < sx - 1 ? 1 : 0;
        const im = i > 0 ? 1 : 0;
        const jp = j < sy - 1 ? sx : 0;
        const jm = j > 0 ? sx : 0;
        const kp = k < sz - 1 ? sxy : 0;
        const km = k > 0 ? sxy : 0;
        const pxy = (phi[o + ip + jp] - phi[o + ip - jm] - phi[o - im + jp] + phi[o - im - jm]) / (4 * hx * hy);
        const pxz = (phi[o + ip + kp] - phi[o + ip - km] - phi[o - im + kp] + phi[o - im - km]) / (4 * hx * hz);
        const pyz = (phi[o + jp + kp] - phi[o + jp - km] - phi[o - jm + kp] + phi[o - jm - km]) / (4 * hy * hz);
        const g2 = px * px + py * py + pz * pz;
        const num = pxx * (py * py + pz * pz) + pyy * (px * px + pz * pz) + pzz * (px * px + py * py) - 2 * (px * py * pxy + px * pz * pxz + py * pz * pyz);
        curv = (this.beta * (this.edge ? this.speed[o] : 1) * num) / (g2 + 1e-9);
      }
      let adv = 0;
      if (this.adv) {
        // ∂φ/∂t = −u·∇φ, each derivative taken on the upwind side of u.
        const ux = this.adv[0][o];
        const uy = this.adv[1][o];
        const uz = this.adv[2][o];
        adv = ux * (ux > 0 ? dmx : dpx) + uy * (uy > 0 ? dmy : dpy) + uz * (uz > 0 ? dmz : dpz);
      }
      const v = p + dt * (-F * grad + curv - adv);
      this.next[o] = v < -B ? -B : v > B ? B : v;
    }
    for (let q = 0; q < m; q++) phi[act[q]] = this.next[act[q]];
  }

  /** Sussman re-distancing in the band: ∂φ/∂τ = S(φ0)(1 − |∇φ|), Godunov upwind. */
  private redistance(iterations: number) {
    const [sx, sy, sz] = this.size;
    const sxy = sx * sy;
    const phi = this.phi;
    const [hx, hy, hz] = this.h;
    const hmin = Math.min(hx, hy, hz);
    const B = this.band;
    const act = this.active;
    const m = this.activeCount;
    const phi0 = new Float32Array(m);
    for (let q = 0; q < m; q++) phi0[q] = phi[act[q]];
    const dtau = 0.3 * hmin;
    for (let it = 0; it < iterations; it++) {
      for (let q = 0; q < m; q++) {
        const o = act[q];
        const i = o % sx;
        const j = ((o - i) / sx) % sy;
        const k = (o - i - j * sx) / sxy;
        const p = phi[o];
        const a0 = phi0[q];
        const S = a0 / Math.sqrt(a0 * a0 + hmin * hmin);
        const dmx = (p - (i > 0 ? phi[o - 1] : p)) / hx;
        const dpx = ((i < sx - 1 ? phi[o + 1] : p) - p) / hx;
        const dmy = (p - (j > 0 ? phi[o - sx] : p)) / hy;
        const dpy = ((j < sy - 1 ? phi[o + sx] : p) - p) / hy;
        const dmz = (p - (k > 0 ? phi[o - sxy] : p)) / hz;
        const dpz = ((k < sz - 1 ? phi[o + sxy] : p) - p) / hz;
        let g2: number;
        if (a0 > 0) g2 = Math.max(Math.max(dmx, 0) ** 2, Math.min(dpx, 0) ** 2) + Math.max(Math.max(dmy, 0) ** 2, Math.min(dpy, 0) ** 2) + Math.max(Math.max(dmz, 0) ** 2, Math.min(dpz, 0) ** 2);
        else g2 = Math.max(Math.min(dmx, 0) ** 2, Math.max(dpx, 0) ** 2) + Math.max(Math.min(dmy, 0) ** 2, Math.max(dpy, 0) ** 2) + Math.max(Math.min(dmz, 0) ** 2, Math.max(dpz, 0) ** 2);
        let v = p - dtau * S * (Math.sqrt(g2) - 1);
        // Never flip the sign of a voxel while re-distancing (the front must not move).
        if (a0 < 0 && v >= 0) v = -1e-4;
        else if (a0 > 0 && v <= 0) v = 1e-4;
        this.next[o] = v < -B ? -B : v > B ? B : v;
      }
      for (let q = 0; q < m; q++) phi[act[q]] = this.next[act[q]];
    }
  }

  insideCount(): number {
    let n = 0;
    for (let o = 0; o < this.phi.length; o++) if (this.phi[o] < 0) n++;
    return n;
  }

  /** Inside (φ < 0) as 0/1 on the ROI. */
  roiMask(out = new Uint8Array(this.phi.length)): Uint8Array {
    for (let o = 0; o < this.phi.length; o++) out[o] = this.phi[o] < 0 ? 1 : 0;
    return out;
  }

  /** Inside as a 0/1 uint8 array on the whole image grid. */
  fullMask(): Uint8Array {
    const [nx, ny, nz] = this.vol.dims;
    const out = new Uint8Array(nx * ny * nz);
    const [sx, sy, sz] = this.size;
    const [ox, oy, oz] = this.start;
    for (let k = 0, o = 0; k < sz; k++)
      for (let j = 0; j < sy; j++) {
        const base = ox + nx * (oy + j + ny * (oz + k));
        for (let i = 0; i < sx; i++, o++) out[base + i] = this.phi[o] < 0 ? 1 : 0;
      }
    return out;
  }
}

/** Copies an ROI mask (start, size) into a whole-grid 0/1 array. */
export function pasteRoi(dst: Uint8Array, dims: readonly number[], start: readonly number[], size: readonly number[], roi: Uint8Array): void {
  const [nx, ny] = dims;
  for (let k = 0, o = 0; k < size[2]; k++)
    for (let j = 0; j < size[1]; j++) {
      const base = start[0] + nx * (start[1] + j + ny * (start[2] + k));
      for (let i = 0; i < size[0]; i++, o++) dst[base + i] = roi[o];
    }
}

/**
 * Calls fn(o, ∂f/∂x, ∂f/∂y, ∂f/∂z) for every voxel o of f (size voxels, spacing h mm):
 * central differences, one-sided at the faces (0 along an axis of one voxel), per mm.
 */
function forEachGradient(f: Float32Array, size: readonly number[], h: readonly number[], fn: (o: number, gx: number, gy: number, gz: number) => void): void {
  const [sx, sy, sz] = size;
  const sxy = sx * sy;
  for (let k = 0, o = 0; k < sz; k++)
    for (let j = 0; j < sy; j++)
      for (let i = 0; i < sx; i++, o++) {
        const i0 = i > 0 ? 1 : 0, i1 = i < sx - 1 ? 1 : 0;
        const j0 = j > 0 ? 1 : 0, j1 = j < sy - 1 ? 1 : 0;
        const k0 = k > 0 ? 1 : 0, k1 = k < sz - 1 ? 1 : 0;
        const gx = i0 + i1 ? (f[o + i1] - f[o - i0]) / ((i0 + i1) * h[0]) : 0;
        const gy = j0 + j1 ? (f[o + j1 * sx] - f[o - j0 * sx]) / ((j0 + j1) * h[1]) : 0;
        const gz = k0 + k1 ? (f[o + k1 * sxy] - f[o - k0 * sxy]) / ((k0 + k1) * h[2]) : 0;
        fn(o, gx, gy, gz);
      }
}
