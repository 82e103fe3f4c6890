/**
 * The WebAssembly SIMD kernels (src-shared/analysis/wasm): the committed binary is the one the
 * AssemblyScript source compiles to, and each kernel agrees with a plain reference on volumes
 * with odd sizes (rows that are no multiple of 4, so the vector loops' spill paths run), ties
 * and edges: the 3×3×3 median exactly (against sorting every window), the Gaussian passes
 * within float rounding (against a float64 tap loop), for any split of the slices into slabs.
 * The JavaScript fallback (LATTICE_SIMD=0 in a thread) is checked by analysis-real through
 * the same kernel table; here the inline JS kernels are compared directly as well.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gaussianHalfKernel, smoothXY, smoothZ } from '../src-shared/registration/gaussian';
import { edtPassSlab, medianSelectSlab, surfaceInBoxSlab } from '../src-shared/analysis/kernels';
import { simdKernels } from '../src-shared/analysis/wasm/simd';
import { percentile } from '../src-shared/analysis/compare-masks';
import { distanceTransform } from '../src-shared/analysis/distance';
import type { Volume } from '../src-shared/image/volume';
// @ts-expect-error plain ESM build script without types
import { compileKernels, moduleText } from '../scripts/build-wasm.mjs';

const clamp = (v: number, n: number) => (v < 0 ? 0 : v >= n ? n - 1 : v);

function randomVolume(nx: number, ny: number, nz: number, levels: number, seed: number): Float32Array {
  const a = new Float32Array(nx * ny * nz);
  let s = seed;
  for (let i = 0; i < a.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    a[i] = (s % levels) - (levels >> 1) + (i % 7 === 0 ? 500 : 0);
  }
  return a;
}

function bruteMedian(src: Float32Array, nx: number, ny: number, nz: number): Float32Array {
  const out = new Float32Array(src.length);
  const w: number[] = [];
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        w.length = 0;
        for (let c = -1; c <= 1; c++) for (let b = -1; b <= 1; b++) for (let a = -1; a <= 1; a++) w.push(src[(clamp(k + c, nz) * ny + clamp(j + b, ny)) * nx + clamp(i + a, nx)]);
        w.sort((x, y) => x - y);
        out[(k * ny + j) * nx + i] = w[13];
      }
  return out;
}

/** Separable Gaussian in float64, one tap at a time, edges replicated. */
function bruteGauss(src: Float32Array, dims: [number, number, number], kernels: Float32Array[]): Float64Array {
  let cur = Float64Array.from(src);
  const [nx, ny, nz] = dims;
  for (let axis = 0; axis < 3; axis++) {
    const w = kernels[axis];
    const r = dims[axis] > 1 ? w.length - 1 : 0;
    const stride = [1, nx, nx * ny][axis];
    const next = new Float64Array(cur.length);
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          const q = [i, j, k][axis];
          const p = (k * ny + j) * nx + i;
          let s = w[0] * cur[p];
          for (let t = 1; t <= r; t++) s += w[t] * (cur[p + (clamp(q - t, dims[axis]) - q) * stride] + cur[p + (clamp(q + t, dims[axis]) - q) * stride]);
          next[p] = s;
        }
    cur = next;
  }
  return cur;
}

const simd = simdKernels();

describe('analysis WebAssembly kernels', () => {
  it('the committed binary is what the AssemblyScript source compiles to', async () => {
    const committed = readFileSync(resolve(__dirname, '../src-shared/analysis/wasm/kernels-wasm.ts'), 'utf8');
    expect(moduleText(await compileKernels())).toBe(committed);
  }, 60_000);

  it('WebAssembly SIMD is available in Node (the fast path runs in the app and the CLI)', () => {
    expect(simd).not.toBeNull();
  });

  it.each([
    [37, 23, 11, 5],
    [8, 4, 3, 1000],
    [1, 5, 4, 3],
    [13, 1, 6, 4],
  ])('median 3×3×3 of %i×%i×%i (%i levels) equals sorting every window, in any slab split', (nx, ny, nz, levels) => {
    const src = randomVolume(nx, ny, nz, levels, nx * 31 + nz);
    const ref = bruteMedian(src, nx, ny, nz);
    const out = new Float32Array(src.length);
    const cut = Math.max(1, nz >> 1);
    simd!.median27(src, out, nx, ny, nz, 0, cut);
    simd!.median27(src, out, nx, ny, nz, cut, nz);
    expect(Array.from(out)).toEqual(Array.from(ref));
    const js = new Float32Array(src.length);
    medianSelectSlab(src, js, [nx, ny, nz], [1, 1, 1], 0, nz);
    expect(Array.from(js)).toEqual(Array.from(ref));
  });

  it.each([
    [37, 29, 13, [2.05, 1.3, 1.0]],
    [64, 16, 9, [0.6, 3.5, 2.2]],
    [5, 7, 1, [1.5, 1.5, 0]],
  ] as Array<[number, number, number, number[]]>)('Gaussian of %i×%i×%i, σ %j voxels: SIMD = float64 reference = JavaScript passes', (nx, ny, nz, sigma) => {
    const dims: [number, number, number] = [nx, ny, nz];
    const src = randomVolume(nx, ny, nz, 200, 7 + nx);
    const ks = sigma.map((s, a) => gaussianHalfKernel(dims[a] > 1 ? s : 0));
    const ref = bruteGauss(src, dims, ks);
    const n = src.length;
    const a = new Float32Array(n), b = new Float32Array(n);
    simd!.smoothXY(src, a, nx, ny, ks[0], ks[1], 0, nz);
    const cut = Math.max(1, nz - 4);
    simd!.smoothZ(a, b, nx, ny, nz, ks[2], 0, cut);
    simd!.smoothZ(a, b, nx, ny, nz, ks[2], cut, nz);
    const ja = new Float32Array(n), jb = new Float32Array(n);
    smoothXY(src, ja, nx, ny, ks[0], ks[1], 0, nz);
    smoothZ(ja, jb, nx, ny, nz, ks[2], 0, nz);
    let dSimd = 0, dJs = 0;
    for (let i = 0; i < n; i++) {
      dSimd = Math.max(dSimd, Math.abs(b[i] - ref[i]) / (Math.abs(ref[i]) + 1));
      dJs = Math.max(dJs, Math.abs(jb[i] - ref[i]) / (Math.abs(ref[i]) + 1));
    }
    expect(dSimd).toBeLessThan(1e-5);
    expect(dJs).toBeLessThan(1e-5);
  });

  it.each([
    [23, 17, 9],
    [6, 31, 5],
  ])('EDT passes along j and k of %i×%i×%i equal the JavaScript passes (squared and roots)', (nx, ny, nz) => {
    const n = nx * ny * nz;
    const base = new Float32Array(n);
    for (let i = 0; i < n; i++) base[i] = i % 13 === 0 ? 0 : i % 29 === 0 ? Infinity : ((i * 7919) % 97) * 0.37;
    for (const root of [false, true]) {
      const a = base.slice(), b = base.slice();
      simd!.edtPass(a, nx, ny, nz, 1, 0.7, 0, nz, false);
      simd!.edtPass(a, nx, ny, nz, 2, 2.9, 0, 4, root);
      simd!.edtPass(a, nx, ny, nz, 2, 2.9, 4, ny, root);
      edtPassSlab(b, [nx, ny, nz], 1, 0.7, 0, nz);
      edtPassSlab(b, [nx, ny, nz], 2, 2.9, 0, ny, root);
      expect(Array.from(a)).toEqual(Array.from(b));
    }
  });

  it('percentile (selection, linear time) equals numpy-style percentiles of the sorted values', () => {
    let seed = 99;
    for (const n of [1, 2, 3, 10, 1001, 20000]) {
      const v = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        v[i] = (seed % 50) * 0.5; // many ties
      }
      const sorted = v.slice().sort();
      for (const q of [0, 5, 50, 95, 99.9, 100]) {
        const pos = (q / 100) * (n - 1);
        const lo = Math.floor(pos), hi = Math.min(n - 1, lo + 1);
        expect(percentile(v.slice(), q)).toBeCloseTo(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo), 12);
      }
    }
  });

  it.each([
    [[37, 23, 11], [0, 0, 0], [37, 23, 11]],
    [[40, 30, 12], [3, 2, 1], [30, 27, 10]],
    [[16, 9, 5], [0, 1, 0], [16, 8, 5]],
  ])('surface voxels of a %j mask in the box from %j of size %j: SIMD = JavaScript, counts too', (dims, lo, size) => {
    const [nx, ny, nz] = dims;
    const m = new Uint8Array(nx * ny * nz);
    let seed = nx;
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          // a blob with ragged edges touching the image faces, plus specks
          const r = ((i - nx / 2) / (nx / 2)) ** 2 + ((j - ny / 2) / (ny / 2)) ** 2 + ((k - nz / 2) / (nz / 2)) ** 2;
          m[(k * ny + j) * nx + i] = r < 0.9 + (seed % 5) * 0.05 || seed % 37 === 0 ? 1 : 0;
        }
    const nb = size[0] * size[1] * size[2];
    const a = new Uint8Array(nb), b = new Uint8Array(nb);
    const cut = Math.max(1, size[2] >> 1);
    const ca = simd!.surfaceInBox(m, a, dims, lo, size, 0, cut) + simd!.surfaceInBox(m, a, dims, lo, size, cut, size[2]);
    const cb = surfaceInBoxSlab(m, b, dims as [number, number, number], lo as [number, number, number], size as [number, number, number], 0, size[2]);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(ca).toBe(cb);
    expect(cb).toBeGreaterThan(10);
  });

  it('signed distance (inside part computed on the grown bounding box) equals brute force, mask touching two faces', async () => {
    const dims: [number, number, number] = [17, 13, 9];
    const sp: [number, number, number] = [0.7, 1.3, 2.9];
    const [nx, ny, nz] = dims;
    const d = new Uint8Array(nx * ny * nz);
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) d[(k * ny + j) * nx + i] = (i < 9 && j > 3 && k < 6) || (i === 12 && j === 2 && k === 4) ? 1 : 0;
    const vol: Volume = { dims, spacing: sp, origin: [1, 2, 3], direction: [0.6, 0.8, 0, -0.8, 0.6, 0, 0, 0, 1], data: d, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
    const out = (await distanceTransform(vol, { mode: 'signed' })).data;
    let worst = 0;
    for (let q = 0; q < d.length; q++) {
      const [i, j, k] = [q % nx, Math.floor(q / nx) % ny, Math.floor(q / (nx * ny))];
      let best = Infinity;
      for (let p = 0; p < d.length; p++) {
        if (d[p] === d[q]) continue;
        const [a, b, c] = [p % nx, Math.floor(p / nx) % ny, Math.floor(p / (nx * ny))];
        best = Math.min(best, Math.hypot((a - i) * sp[0], (b - j) * sp[1], (c - k) * sp[2]));
      }
      const want = d[q] ? -best : best;
      worst = Math.max(worst, Math.abs(out[q] - want) / (Math.abs(want) + 1));
    }
    expect(worst).toBeLessThan(1e-6);
  });
});
