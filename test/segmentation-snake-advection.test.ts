/**
 * Geodesic active contour's advection term (src-shared/segmentation/active-contour.ts, γ·∇g·∇φ):
 * on a ball with a blurred edge (erf profile) on an anisotropic grid with oblique direction
 * cosines, the edge-speed front with advection settles on the edge (mean distance of its zero
 * level set to the true sphere, in world mm), nearer than without advection, where the
 * propagation keeps pushing it through the weak speed minimum and out of the ball.
 */
import { describe, expect, it } from 'vitest';
import type { Mat3, Vec3, Volume } from '../src-shared/image/volume';
import { ActiveContour } from '../src-shared/segmentation/active-contour';

const DIMS: Vec3 = [41, 35, 19];
const SPACING: Vec3 = [0.8, 1.1, 2];
// Rotation of 25° about (1, 2, 3)/√14: every direction cosine oblique.
const DIR: Mat3 = (() => {
  const a = (25 * Math.PI) / 180;
  const [x, y, z] = [1, 2, 3].map((v) => v / Math.sqrt(14));
  const c = Math.cos(a), s = Math.sin(a), t = 1 - c;
  return <Mat3>[t * x * x + c, t * x * y - s * z, t * x * z + s * y, t * x * y + s * z, t * y * y + c, t * y * z - s * x, t * x * z - s * y, t * y * z + s * x, t * z * z + c];
})();
const ORIGIN: Vec3 = [-12, 5, 30];
const world = (i: number, j: number, k: number): Vec3 => {
  const p = [i * SPACING[0], j * SPACING[1], k * SPACING[2]];
  return [0, 1, 2].map((r) => ORIGIN[r] + DIR[r * 3] * p[0] + DIR[r * 3 + 1] * p[1] + DIR[r * 3 + 2] * p[2]) as Vec3;
};
const CENTRE_IJK: Vec3 = [20.3, 16.8, 9.2];
const CENTRE = world(...CENTRE_IJK);
const R = 11; // mm
const BLUR = 1.5; // mm (σ of the edge's Gaussian blur)

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7).
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

function ball(): Volume {
  const data = new Float32Array(DIMS[0] * DIMS[1] * DIMS[2]);
  for (let k = 0, o = 0; k < DIMS[2]; k++)
    for (let j = 0; j < DIMS[1]; j++)
      for (let i = 0; i < DIMS[0]; i++, o++) {
        const d = Math.hypot(...world(i, j, k).map((v, a) => v - CENTRE[a])) - R;
        data[o] = 50 * (1 - erf(d / (BLUR * Math.SQRT2)));
      }
  return { dims: DIMS, spacing: SPACING, origin: ORIGIN, direction: DIR, data, voxelType: 'float32', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

/** Mean |distance| (mm) to the sphere of the zero crossings of φ along the grid's edges. */
function frontDistance(ac: ActiveContour): { mean: number; crossings: number } {
  const [sx, sy, sz] = ac.size;
  const phi = ac.phi;
  let sum = 0;
  let n = 0;
  for (let k = 0; k < sz; k++)
    for (let j = 0; j < sy; j++)
      for (let i = 0; i < sx; i++) {
        const o = i + sx * (j + sy * k);
        for (const [di, dj, dk] of [[1, 0, 0], [0, 1, 0], [0, 0, 1]]) {
          if (i + di >= sx || j + dj >= sy || k + dk >= sz) continue;
          const a = phi[o];
          const b = phi[o + di + sx * (dj + sy * dk)];
          if ((a < 0) === (b < 0)) continue;
          const t = a / (a - b);
          const p = world(i + t * di, j + t * dj, k + t * dk);
          sum += Math.abs(Math.hypot(...p.map((v, q) => v - CENTRE[q])) - R);
          n++;
        }
      }
  return { mean: sum / n, crossings: n };
}

/** The farthest inside voxel centre from the ball's centre, minus R (mm): > 0 is outside. */
function farthestInside(ac: ActiveContour): number {
  const m = ac.fullMask();
  let far = -Infinity;
  for (let k = 0, o = 0; k < DIMS[2]; k++)
    for (let j = 0; j < DIMS[1]; j++)
      for (let i = 0; i < DIMS[0]; i++, o++) if (m[o]) far = Math.max(far, Math.hypot(...world(i, j, k).map((v, a) => v - CENTRE[a])) - R);
  return far;
}

describe('active contour advection (geodesic active contour)', () => {
  it('pulls the edge-speed front onto a blurred edge and keeps it from leaking (oblique, anisotropic grid)', () => {
    const vol = ball();
    const make = (gamma: number) => new ActiveContour(vol, { speed: { mode: 'edge', kappa: 4, exponent: 2, sigma: 1 }, bubbles: [{ center: CENTRE_IJK, radius: 4 }], beta: 0.2, gamma });
    const withAdv = make(2);
    const without = make(0);
    const log: string[] = [];
    for (const it of [200, 400]) {
      withAdv.step(200);
      without.step(200);
      const dA = frontDistance(withAdv);
      const d0 = frontDistance(without);
      const fA = farthestInside(withAdv);
      const f0 = farthestInside(without);
      log.push(`${it} it: advection ${dA.mean.toFixed(2)} mm (farthest inside ${fA.toFixed(2)}), without ${d0.crossings ? d0.mean.toFixed(2) : '– (no front left)'} mm (farthest ${f0.toFixed(2)})`);
      // With advection: on the edge (a fraction of a voxel) and not across it.
      expect(dA.crossings).toBeGreaterThan(500);
      expect(dA.mean).toBeLessThan(0.5);
      expect(fA).toBeLessThan(1.5);
      // Without: farther from the edge (or gone through it, nothing left of the front).
      expect(dA.mean).toBeLessThan(d0.crossings ? 0.75 * d0.mean : Infinity);
    }
    // Without advection the propagation carries the front through the edge (g ≈ 0.03 > 0).
    expect(farthestInside(without)).toBeGreaterThan(5);
    console.log(`front to edge (mean |distance| of the zero level set to the sphere): ${log.join('; ')}`);
  });

  it('defaults: γ = 2 with the edge speed, 0 with the threshold speed (ITK-SNAP)', () => {
    const vol = ball();
    const bubbles = [{ center: CENTRE_IJK, radius: 4 }];
    const edge = (gamma?: number) => {
      const ac = new ActiveContour(vol, { speed: { mode: 'edge', kappa: 10 }, bubbles, gamma });
      ac.step(30);
      return Array.from(ac.phi);
    };
    expect(edge()).toEqual(edge(2));
    expect(edge()).not.toEqual(edge(0));
    const thr = (gamma?: number) => {
      const ac = new ActiveContour(vol, { speed: { mode: 'threshold', lower: 50, upper: 1000 }, bubbles, gamma });
      ac.step(30);
      return Array.from(ac.phi);
    };
    expect(thr()).toEqual(thr(0));
  });
});
