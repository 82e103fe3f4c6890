import { describe, expect, it } from 'vitest';
import { gaussianHalfKernel, smooth3D, smoothXY, smoothZ } from '../src-shared/registration/gaussian';
import { compose, jacobianDeterminant, sampleClamped, subsample, upsampleField, warpImage, demonsForce } from '../src-shared/registration/field-kernels';
import { InlineExecutor, slabs } from '../src-shared/registration/ops';

const dims: [number, number, number] = [13, 11, 9];
const n = dims[0] * dims[1] * dims[2];
const idx = (i: number, j: number, k: number) => (k * dims[1] + j) * dims[0] + i;
const clamp = (v: number, hi: number) => Math.max(0, Math.min(hi, v));

function random(len: number, seed = 1): Float32Array {
  let s = seed;
  const a = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    s = (s * 16807) % 2147483647;
    a[i] = (s / 2147483647) * 100;
  }
  return a;
}

describe('Gaussian smoothing', () => {
  it('has a normalised symmetric kernel with radius ceil(3σ)', () => {
    for (const s of [0.5, 1, 1.5, 2.7]) {
      const k = gaussianHalfKernel(s);
      expect(k.length).toBe(Math.ceil(3 * s) + 1);
      let sum = k[0];
      for (let t = 1; t < k.length; t++) sum += 2 * k[t];
      expect(sum).toBeCloseTo(1, 6);
    }
    expect(Array.from(gaussianHalfKernel(0))).toEqual([1]);
  });

  it('equals a direct 3D convolution with clamped edges (σ = 1 to 5, slabs in any order)', () => {
    const src = random(n);
    for (const sigma of [1, 1.5, 3, 5]) {
      const k = gaussianHalfKernel(sigma);
      const r = k.length - 1;
      const out = new Float32Array(n), tmp = new Float32Array(n);
      // as the thread pool does: pass 1 over slabs, then pass 2 over slabs
      for (const [a, b] of slabs(dims[2], 3).reverse()) smoothXY(src, tmp, dims[0], dims[1], k, k, a, b);
      for (const [a, b] of slabs(dims[2], 3)) smoothZ(tmp, out, dims[0], dims[1], dims[2], k, a, b);
      let maxErr = 0;
      for (let kk = 0; kk < dims[2]; kk++)
        for (let j = 0; j < dims[1]; j++)
          for (let i = 0; i < dims[0]; i++) {
            let s = 0;
            for (let c = -r; c <= r; c++)
              for (let b = -r; b <= r; b++)
                for (let a = -r; a <= r; a++)
                  s += k[Math.abs(a)] * k[Math.abs(b)] * k[Math.abs(c)] * src[idx(clamp(i + a, dims[0] - 1), clamp(j + b, dims[1] - 1), clamp(kk + c, dims[2] - 1))];
            maxErr = Math.max(maxErr, Math.abs(s - out[idx(i, j, kk)]));
          }
      expect(maxErr).toBeLessThan(1e-3);
    }
  });

  it('with linear edges equals 1D passes over point-reflected padding, and keeps a linear field exactly', () => {
    // Reference: one axis at a time in float64, s(−t) = 2·s(0) − s(t) beyond each edge.
    const pass = (v: Float64Array, axis: number, k: Float32Array) => {
      const out = new Float64Array(v.length);
      const len = dims[axis], r = k.length - 1;
      const stride = axis === 0 ? 1 : axis === 1 ? dims[0] : dims[0] * dims[1];
      for (let kk = 0; kk < dims[2]; kk++)
        for (let j = 0; j < dims[1]; j++)
          for (let i = 0; i < dims[0]; i++) {
            const o = idx(i, j, kk), p = [i, j, kk][axis], base = o - p * stride;
            const at = (q: number): number => {
              if (q < 0) return 2 * v[base] - v[base + Math.min(-q, len - 1) * stride];
              if (q > len - 1) return 2 * v[base + (len - 1) * stride] - v[base + Math.max(2 * (len - 1) - q, 0) * stride];
              return v[base + q * stride];
            };
            let acc = 0;
            for (let t = -r; t <= r; t++) acc += k[Math.abs(t)] * at(p + t);
            out[o] = acc;
          }
      return out;
    };
    const src = random(n, 3);
    for (const sigma of [1, 1.5, 3]) {
      const k = gaussianHalfKernel(sigma);
      const out = new Float32Array(n), tmp = new Float32Array(n);
      for (const [a, b] of slabs(dims[2], 3).reverse()) smoothXY(src, tmp, dims[0], dims[1], k, k, a, b, true);
      for (const [a, b] of slabs(dims[2], 3)) smoothZ(tmp, out, dims[0], dims[1], dims[2], k, a, b, false, true);
      const ref = pass(pass(pass(Float64Array.from(src), 0, k), 1, k), 2, k);
      let maxErr = 0;
      for (let o = 0; o < n; o++) maxErr = Math.max(maxErr, Math.abs(ref[o] - out[o]));
      expect(maxErr).toBeLessThan(1e-3);
      // `add` accumulates the same result
      const acc = new Float32Array(n).fill(5);
      smoothZ(tmp, acc, dims[0], dims[1], dims[2], k, 0, dims[2], true, true);
      for (let o = 0; o < n; o += 37) expect(acc[o]).toBeCloseTo(out[o] + 5, 3);
    }
    // A linear ramp (a field with a slope at the border) is unchanged with linear edges;
    // replicated edges pull its border values towards the interior.
    const ramp = new Float32Array(n);
    for (let kk = 0; kk < dims[2]; kk++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) ramp[idx(i, j, kk)] = 0.5 * i - 0.25 * j + 2 * kk;
    const k2 = gaussianHalfKernel(2);
    const lin = new Float32Array(n), rep = new Float32Array(n), t1 = new Float32Array(n), t2 = new Float32Array(n);
    smoothXY(ramp, t1, dims[0], dims[1], k2, k2, 0, dims[2], true);
    smoothZ(t1, lin, dims[0], dims[1], dims[2], k2, 0, dims[2], false, true);
    smoothXY(ramp, t2, dims[0], dims[1], k2, k2, 0, dims[2]);
    smoothZ(t2, rep, dims[0], dims[1], dims[2], k2, 0, dims[2]);
    let linErr = 0;
    for (let o = 0; o < n; o++) linErr = Math.max(linErr, Math.abs(lin[o] - ramp[o]));
    expect(linErr).toBeLessThan(1e-4);
    expect(rep[idx(0, 0, 0)] - ramp[idx(0, 0, 0)]).toBeGreaterThan(1); // dragged inwards by ≈0.4σ·slope
  });

  it('uses the grouped path for long planes with a large radius (σ = 3 on 40×30 planes)', () => {
    const d2: [number, number, number] = [40, 30, 6];
    const m = 40 * 30 * 6;
    const src = random(m, 7);
    const k = gaussianHalfKernel(3);
    const r = k.length - 1;
    const out = new Float32Array(m), tmp = new Float32Array(m);
    smoothXY(src, tmp, 40, 30, k, k, 0, 6);
    smoothZ(tmp, out, 40, 30, 6, k, 0, 6);
    const at = (i: number, j: number, kk: number) => src[(clamp(kk, 5) * 30 + clamp(j, 29)) * 40 + clamp(i, 39)];
    let maxErr = 0;
    for (const [i, j, kk] of [[0, 0, 0], [20, 15, 3], [39, 29, 5], [7, 22, 1]]) {
      let s = 0;
      for (let c = -r; c <= r; c++) for (let b = -r; b <= r; b++) for (let a = -r; a <= r; a++) s += k[Math.abs(a)] * k[Math.abs(b)] * k[Math.abs(c)] * at(i + a, j + b, kk + c);
      maxErr = Math.max(maxErr, Math.abs(s - out[(kk * 30 + j) * 40 + i]));
    }
    expect(maxErr).toBeLessThan(1e-3);
  });

  it('keeps a constant image constant and adds into the output with add = true', () => {
    const c = new Float32Array(n).fill(7);
    const out = new Float32Array(n), tmp = new Float32Array(n);
    smooth3D(c, out, tmp, dims, 2);
    for (const v of out) expect(v).toBeCloseTo(7, 4);
    const acc = new Float32Array(n).fill(1);
    smoothZ(c, acc, dims[0], dims[1], dims[2], gaussianHalfKernel(1), 0, dims[2], true);
    for (const v of acc) expect(v).toBeCloseTo(8, 4);
  });

  it('smooths 2D images (nz = 1) in plane only', () => {
    const d2: [number, number, number] = [20, 16, 1];
    const src = random(320, 3);
    const out = new Float32Array(320), tmp = new Float32Array(320);
    smooth3D(src, out, tmp, d2, 1);
    let s0 = 0, s1 = 0;
    for (let i = 0; i < 320; i++) { s0 += src[i]; s1 += out[i]; }
    expect(Math.abs(s1 - s0) / s0).toBeLessThan(0.05);
    expect(Number.isFinite(out[0])).toBe(true);
  });
});

describe('field kernels', () => {
  it('warps by a constant field like a shifted sampler, and sums the squared difference', () => {
    const img = random(n, 5);
    const d = new Float32Array(3 * n);
    d.fill(1.5, 0, n); // +1.5 voxel along i
    d.fill(-0.25, n, 2 * n);
    const out = new Float32Array(n);
    const ssd = warpImage(img, d, out, dims, 0, dims[2], img);
    let ref = 0;
    for (let k = 0; k < dims[2]; k++)
      for (let j = 0; j < dims[1]; j++)
        for (let i = 0; i < dims[0]; i++) {
          const v = sampleClamped(img, ...dims, i + 1.5, j - 0.25, k);
          expect(out[idx(i, j, k)]).toBeCloseTo(v, 4);
          ref += (img[idx(i, j, k)] - v) ** 2;
        }
    expect(ssd).toBeCloseTo(ref, 0);
  });

  it('composes two translations into their sum', () => {
    const d = new Float32Array(3 * n), v = new Float32Array(3 * n), out = new Float32Array(3 * n);
    d.fill(0.5, 0, n); d.fill(-1, 2 * n, 3 * n);
    v.fill(0.25, n, 2 * n); v.fill(0.75, 0, n);
    compose(d, v, out, dims, 0, dims[2]);
    expect(out[idx(5, 5, 4)]).toBeCloseTo(1.25, 6);
    expect(out[n + idx(5, 5, 4)]).toBeCloseTo(0.25, 6);
    expect(out[2 * n + idx(5, 5, 4)]).toBeCloseTo(-1, 6);
  });

  it('computes the Jacobian determinant of a linear map exactly and counts folding', () => {
    // d(x) = (0.2 i, −0.1 j, 0.5 k) → det = 1.2 · 0.9 · 1.5
    const d = new Float32Array(3 * n);
    for (let k = 0; k < dims[2]; k++)
      for (let j = 0; j < dims[1]; j++)
        for (let i = 0; i < dims[0]; i++) {
          d[idx(i, j, k)] = 0.2 * i;
          d[n + idx(i, j, k)] = -0.1 * j;
          d[2 * n + idx(i, j, k)] = 0.5 * k;
        }
    const out = new Float32Array(n);
    const [neg, mn, mx] = jacobianDeterminant(d, out, dims, 0, dims[2]);
    expect(neg).toBe(0);
    expect(mn).toBeCloseTo(1.62, 5);
    expect(mx).toBeCloseTo(1.62, 5);
    // a fold: d_i = −2 i → det = −1 everywhere
    for (let o = 0; o < n; o++) d[o] = -2 * (o % dims[0]);
    const [neg2] = jacobianDeterminant(d, null, dims, 0, dims[2]);
    expect(neg2).toBe(n);
  });

  it('demons force points along the gradient and is bounded by maxStep', () => {
    // fixed is a ramp along i; warped equals fixed shifted: force must be along ±i only
    const F = new Float32Array(n), W = new Float32Array(n), u = new Float32Array(3 * n);
    for (let o = 0; o < n; o++) { F[o] = 10 * (o % dims[0]); W[o] = F[o] - 5; }
    demonsForce(F, W, null, u, dims, 'moving', 0.5, 0, dims[2]);
    for (let o = 0; o < n; o++) {
      expect(Math.abs(u[n + o])).toBe(0);
      const len = Math.hypot(u[o], u[n + o], u[2 * n + o]);
      expect(len).toBeLessThanOrEqual(0.5 + 1e-6);
    }
    // interior: diff = 5, g = 10 → u = 5·10 / (100 + 25) = 0.4 voxel toward +i
    expect(u[idx(6, 5, 4)]).toBeCloseTo(0.4, 5);
  });

  it('demons force is zero where x + d(x) is outside the moving grid or within edgeMargin of its border', () => {
    const F = new Float32Array(n), W = new Float32Array(n), u = new Float32Array(3 * n);
    for (let o = 0; o < n; o++) { F[o] = 10 * (o % dims[0]) + 3 * Math.floor(o / (dims[0] * dims[1])); W[o] = F[o] - 5; }
    // field: shift along k by −1.2 voxels everywhere → slice k maps to k − 1.2
    const d = new Float32Array(3 * n);
    for (let o = 0; o < n; o++) d[2 * n + o] = -1.2;
    const at = (i: number, j: number, k: number) => Math.hypot(u[idx(i, j, k)], u[n + idx(i, j, k)], u[2 * n + idx(i, j, k)]);
    demonsForce(F, W, null, u, dims, 'moving', 0.5, 0, dims[2], d, 0);
    expect(at(6, 5, 0)).toBe(0); // −1.2: outside
    expect(at(6, 5, 1)).toBeGreaterThan(0); // −0.2: inside
    demonsForce(F, W, null, u, dims, 'moving', 0.5, 0, dims[2], d, 1);
    expect(at(6, 5, 1)).toBe(0); // −0.2 < 1 − 0.5: within the margin
    expect(at(6, 5, 2)).toBeGreaterThan(0); // 0.8
    expect(at(0, 5, 4)).toBe(0); // i = 0 lies in the margin along i
    expect(at(6, 0, 4)).toBe(0);
    expect(at(6, 5, dims[2] - 1)).toBeGreaterThan(0); // k = 8 → 6.8 ≤ 8 − 0.5
    expect(at(dims[0] - 1, 5, 4)).toBe(0); // i = 12 > 12 − 0.5
    expect(at(dims[0] - 2, 5, 4)).toBeGreaterThan(0); // i = 11
  });

  it('down-samples by 2 and up-samples fields with doubled vectors', () => {
    const src = random(n, 9);
    const cd: [number, number, number] = [7, 6, 5];
    const out = new Float32Array(7 * 6 * 5);
    subsample(src, dims, out, cd, 0, 5);
    expect(out[(2 * 6 + 3) * 7 + 4]).toBe(src[idx(8, 6, 4)]);
    const f = new Float32Array(3 * 7 * 6 * 5).fill(1);
    const up = new Float32Array(3 * n);
    upsampleField(f, cd, up, dims, 0, dims[2]);
    for (const v of up) expect(v).toBeCloseTo(2, 6);
  });

  it('inline executor runs ops by name over its buffers', async () => {
    const ex = new InlineExecutor();
    const a = ex.alloc('a', n);
    a.set(random(n, 11));
    ex.alloc('b', n);
    ex.alloc('c', n);
    await ex.run('smoothXY', { src: 'a', dst: 'b', dims, sigma: [1, 1, 1], comps: 1 }, dims[2]);
    await ex.run('smoothZ', { src: 'b', dst: 'c', dims, sigma: [1, 1, 1], comps: 1 }, dims[2]);
    const ref = new Float32Array(n);
    smooth3D(a, ref, new Float32Array(n), dims, 1);
    for (let o = 0; o < n; o++) expect(ex.get('c')[o]).toBeCloseTo(ref[o], 4);
    await expect(ex.run('warp', { moving: 'nope', field: 'a', out: 'b', dims }, 1)).rejects.toThrow(/unknown buffer/);
    await ex.close();
  });
});
