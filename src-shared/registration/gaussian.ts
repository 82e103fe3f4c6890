/**
 * Separable Gaussian smoothing of Float32 volumes (the hot loop of demons).
 *
 * Truncated, normalised kernels (radius ceil(3σ)), edge handling by clamping (replicate the
 * border voxel, like scipy's mode='nearest' and ITK's zero-flux Neumann condition).
 * Every pass is split by slabs of k so that worker threads can each take a slab:
 *   pass 1 `smoothXY`  src → dst, slices [k0,k1): rows along i, then columns along j;
 *   pass 2 `smoothZ`   src → dst, slices [k0,k1): along k (reads neighbouring slices, so it
 *                      needs its own output buffer and a barrier after pass 1).
 * Inner loops run over contiguous memory (a row or a whole slice) so they stay fast in V8.
 */

/** Half kernel w[0..r] (w[0] centre), normalised so that w0 + 2·Σw[t] = 1. Empty for σ ≤ 0. */
export function gaussianHalfKernel(sigma: number, truncate = 3): Float32Array {
  if (!(sigma > 0)) return new Float32Array([1]);
  const r = Math.max(1, Math.ceil(truncate * sigma));
  const w = new Float64Array(r + 1);
  let sum = 0;
  for (let t = 0; t <= r; t++) {
    w[t] = Math.exp(-(t * t) / (2 * sigma * sigma));
    sum += t === 0 ? w[t] : 2 * w[t];
  }
  const out = new Float32Array(r + 1);
  for (let t = 0; t <= r; t++) out[t] = w[t] / sum;
  return out;
}

let rowBuf = new Float32Array(0);
let sliceBuf = new Float32Array(0);
const offA = new Int32Array(64);
const offB = new Int32Array(64);

/** Smooths along i (kernel kx) and j (kernel ky) every slice k in [k0,k1): src → dst (may alias). */
export function smoothXY(
  src: Float32Array,
  dst: Float32Array,
  nx: number,
  ny: number,
  kx: Float32Array,
  ky: Float32Array,
  k0: number,
  k1: number,
  linearEdges = false,
): void {
  const rx = kx.length - 1;
  const ry = ky.length - 1;
  const plane = nx * ny;
  if (rowBuf.length < nx + 2 * rx) rowBuf = new Float32Array(nx + 2 * rx);
  if (sliceBuf.length < plane) sliceBuf = new Float32Array(plane);
  const pad = rowBuf;
  const tmp = sliceBuf;
  const ax = new Int32Array(rx + 1), bx = new Int32Array(rx + 1);
  for (let t = 1; t <= rx; t++) {
    ax[t] = rx - t;
    bx[t] = rx + t;
  }
  for (let k = k0; k < k1; k++) {
    const base = k * plane;
    // --- along i, into tmp (each row copied into a buffer padded with its edge values)
    for (let j = 0; j < ny; j++) {
      const row = base + j * nx;
      const to = j * nx;
      if (rx === 0) {
        for (let i = 0; i < nx; i++) tmp[to + i] = src[row + i];
        continue;
      }
      const first = src[row];
      const last = src[row + nx - 1];
      if (linearEdges)
        for (let t = 1; t <= rx; t++) {
          pad[rx - t] = 2 * first - src[row + (t < nx ? t : nx - 1)];
          pad[rx + nx - 1 + t] = 2 * last - src[row + (nx - 1 - t > 0 ? nx - 1 - t : 0)];
        }
      else
        for (let t = 0; t < rx; t++) {
          pad[t] = first;
          pad[rx + nx + t] = last;
        }
      for (let i = 0; i < nx; i++) pad[rx + i] = src[row + i];
      combineRows(pad, rx, ax, bx, kx, tmp, to, nx, false);
    }
    // --- along j, tmp → dst (whole rows at a time, rows clamped at the edges)
    for (let j = 0; j < ny; j++) {
      for (let t = 1; t <= ry; t++) {
        offA[t] = (j - t < 0 ? 0 : j - t) * nx;
        offB[t] = (j + t > ny - 1 ? ny - 1 : j + t) * nx;
      }
      combineRows(tmp, j * nx, offA, offB, ky, dst, base + j * nx, nx, false);
      if (linearEdges) linearEdgeCorrection(tmp, j, ny, nx, 0, ky, dst, base + j * nx, nx);
    }
  }
}

/**
 * Smooths along k (kernel kz) for output slices [k0,k1): src → dst (must not alias).
 * With `add`, the result is added to dst instead (fuses "d += G * u").
 */
export function smoothZ(
  src: Float32Array,
  dst: Float32Array,
  nx: number,
  ny: number,
  nz: number,
  kz: Float32Array,
  k0: number,
  k1: number,
  add = false,
  linearEdges = false,
): void {
  const rz = nz === 1 ? 0 : kz.length - 1;
  const plane = nx * ny;
  const w = rz === 0 ? ONE : kz;
  // Cache blocking: each output plane reads 2r+1 input planes; going through the plane in
  // blocks of Z_BLOCK values keeps those 2r+1 pieces in L2 while k advances.
  for (let p0 = 0; p0 < plane; p0 += Z_BLOCK) {
    const len = Math.min(Z_BLOCK, plane - p0);
    for (let k = k0; k < k1; k++) {
      for (let t = 1; t <= rz; t++) {
        offA[t] = (k - t < 0 ? 0 : k - t) * plane + p0;
        offB[t] = (k + t > nz - 1 ? nz - 1 : k + t) * plane + p0;
      }
      combineRows(src, k * plane + p0, offA, offB, w, dst, k * plane + p0, len, add);
      if (linearEdges && rz > 0) linearEdgeCorrection(src, k, nz, plane, p0, w, dst, k * plane + p0, len);
    }
  }
}

const Z_BLOCK = 2048;

/**
 * Turns a replicate-edge result into the linear-edge one for output line `q` of a pass along
 * an axis of length `len` (lines `stride` apart, starting at `p0`): every tap that fell beyond
 * the edge read s(edge) but should read 2·s(edge) − s(mirror), so add w·(s(edge) − s(mirror)).
 * Only lines within one kernel radius of an edge have such taps.
 */
function linearEdgeCorrection(
  s: Float32Array,
  q: number,
  len: number,
  stride: number,
  p0: number,
  w: Float32Array,
  d: Float32Array,
  o: number,
  n: number,
): void {
  const r = w.length - 1;
  const last = len - 1;
  for (let t = 1; t <= r; t++) {
    if (q - t < 0) {
      const m = t - q > last ? last : t - q;
      const e = p0, f = m * stride + p0, wt = w[t];
      for (let p = 0; p < n; p++) d[o + p] += wt * (s[e + p] - s[f + p]);
    }
    if (q + t > last) {
      const m = 2 * last - q - t < 0 ? 0 : 2 * last - q - t;
      const e = last * stride + p0, f = m * stride + p0, wt = w[t];
      for (let p = 0; p < n; p++) d[o + p] += wt * (s[e + p] - s[f + p]);
    }
  }
}

const ONE = new Float32Array([1]);

/**
 * d[o+p] (=, or += when add) w0·s[c+p] + Σ_t w_t·(s[a_t+p] + s[b_t+p]) for p < len: one output
 * row/plane from 2r+1 input rows/planes. Unrolled per radius up to 4, grouped by 4 taps beyond (2× faster in V8 than a tap loop
 * that re-reads and re-writes the output for every tap).
 */
export function combineRows(
  s: Float32Array,
  c: number,
  a: Int32Array,
  b: Int32Array,
  w: Float32Array,
  d: Float32Array,
  o: number,
  len: number,
  add: boolean,
): void {
  const r = w.length - 1;
  const w0 = w[0];
  // Long lines (planes) with a large radius: grouped passes beat the fully unrolled loop there
  // (it spills registers); short rows run faster fully unrolled. Both measured in V8 12.
  if (r > 4 && len > 512) {
    combineGrouped(s, c, a, b, w, d, o, len, add);
    return;
  }
  switch (r) {
    case 0:
      if (add) for (let p = 0; p < len; p++) d[o + p] += w0 * s[c + p];
      else for (let p = 0; p < len; p++) d[o + p] = w0 * s[c + p];
      return;
    case 1: {
      const a1 = a[1], b1 = b[1], w1 = w[1];
      if (add) for (let p = 0; p < len; p++) d[o + p] += w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]);
      else for (let p = 0; p < len; p++) d[o + p] = w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]);
      return;
    }
    case 2: {
      const a1 = a[1], b1 = b[1], w1 = w[1], a2 = a[2], b2 = b[2], w2 = w[2];
      if (add) for (let p = 0; p < len; p++) d[o + p] += w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]);
      else for (let p = 0; p < len; p++) d[o + p] = w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]);
      return;
    }
    case 3: {
      const a1 = a[1], b1 = b[1], w1 = w[1], a2 = a[2], b2 = b[2], w2 = w[2], a3 = a[3], b3 = b[3], w3 = w[3];
      if (add) for (let p = 0; p < len; p++) d[o + p] += w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]);
      else for (let p = 0; p < len; p++) d[o + p] = w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]);
      return;
    }
    case 4: {
      const a1 = a[1], b1 = b[1], w1 = w[1], a2 = a[2], b2 = b[2], w2 = w[2], a3 = a[3], b3 = b[3], w3 = w[3], a4 = a[4], b4 = b[4], w4 = w[4];
      if (add) for (let p = 0; p < len; p++) d[o + p] += w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]);
      else for (let p = 0; p < len; p++) d[o + p] = w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]);
      return;
    }
    case 5: {
      const a1 = a[1], b1 = b[1], w1 = w[1], a2 = a[2], b2 = b[2], w2 = w[2], a3 = a[3], b3 = b[3], w3 = w[3], a4 = a[4], b4 = b[4], w4 = w[4], a5 = a[5], b5 = b[5], w5 = w[5];
      if (add) for (let p = 0; p < len; p++) d[o + p] += w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]);
      else for (let p = 0; p < len; p++) d[o + p] = w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]);
      return;
    }
    case 6: {
      const a1 = a[1], b1 = b[1], w1 = w[1], a2 = a[2], b2 = b[2], w2 = w[2], a3 = a[3], b3 = b[3], w3 = w[3], a4 = a[4], b4 = b[4], w4 = w[4], a5 = a[5], b5 = b[5], w5 = w[5], a6 = a[6], b6 = b[6], w6 = w[6];
      if (add) for (let p = 0; p < len; p++) d[o + p] += w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]) + w6 * (s[a6 + p] + s[b6 + p]);
      else for (let p = 0; p < len; p++) d[o + p] = w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]) + w6 * (s[a6 + p] + s[b6 + p]);
      return;
    }
    case 7: {
      const a1 = a[1], b1 = b[1], w1 = w[1], a2 = a[2], b2 = b[2], w2 = w[2], a3 = a[3], b3 = b[3], w3 = w[3], a4 = a[4], b4 = b[4], w4 = w[4], a5 = a[5], b5 = b[5], w5 = w[5], a6 = a[6], b6 = b[6], w6 = w[6], a7 = a[7], b7 = b[7], w7 = w[7];
      if (add) for (let p = 0; p < len; p++) d[o + p] += w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]) + w6 * (s[a6 + p] + s[b6 + p]) + w7 * (s[a7 + p] + s[b7 + p]);
      else for (let p = 0; p < len; p++) d[o + p] = w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]) + w6 * (s[a6 + p] + s[b6 + p]) + w7 * (s[a7 + p] + s[b7 + p]);
      return;
    }
    case 8: {
      const a1 = a[1], b1 = b[1], w1 = w[1], a2 = a[2], b2 = b[2], w2 = w[2], a3 = a[3], b3 = b[3], w3 = w[3], a4 = a[4], b4 = b[4], w4 = w[4], a5 = a[5], b5 = b[5], w5 = w[5], a6 = a[6], b6 = b[6], w6 = w[6], a7 = a[7], b7 = b[7], w7 = w[7], a8 = a[8], b8 = b[8], w8 = w[8];
      if (add) for (let p = 0; p < len; p++) d[o + p] += w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]) + w6 * (s[a6 + p] + s[b6 + p]) + w7 * (s[a7 + p] + s[b7 + p]) + w8 * (s[a8 + p] + s[b8 + p]);
      else for (let p = 0; p < len; p++) d[o + p] = w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]) + w6 * (s[a6 + p] + s[b6 + p]) + w7 * (s[a7 + p] + s[b7 + p]) + w8 * (s[a8 + p] + s[b8 + p]);
      return;
    }
    case 9: {
      const a1 = a[1], b1 = b[1], w1 = w[1], a2 = a[2], b2 = b[2], w2 = w[2], a3 = a[3], b3 = b[3], w3 = w[3], a4 = a[4], b4 = b[4], w4 = w[4], a5 = a[5], b5 = b[5], w5 = w[5], a6 = a[6], b6 = b[6], w6 = w[6], a7 = a[7], b7 = b[7], w7 = w[7], a8 = a[8], b8 = b[8], w8 = w[8], a9 = a[9], b9 = b[9], w9 = w[9];
      if (add) for (let p = 0; p < len; p++) d[o + p] += w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]) + w6 * (s[a6 + p] + s[b6 + p]) + w7 * (s[a7 + p] + s[b7 + p]) + w8 * (s[a8 + p] + s[b8 + p]) + w9 * (s[a9 + p] + s[b9 + p]);
      else for (let p = 0; p < len; p++) d[o + p] = w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]) + w6 * (s[a6 + p] + s[b6 + p]) + w7 * (s[a7 + p] + s[b7 + p]) + w8 * (s[a8 + p] + s[b8 + p]) + w9 * (s[a9 + p] + s[b9 + p]);
      return;
    }
    case 10: {
      const a1 = a[1], b1 = b[1], w1 = w[1], a2 = a[2], b2 = b[2], w2 = w[2], a3 = a[3], b3 = b[3], w3 = w[3], a4 = a[4], b4 = b[4], w4 = w[4], a5 = a[5], b5 = b[5], w5 = w[5], a6 = a[6], b6 = b[6], w6 = w[6], a7 = a[7], b7 = b[7], w7 = w[7], a8 = a[8], b8 = b[8], w8 = w[8], a9 = a[9], b9 = b[9], w9 = w[9], a10 = a[10], b10 = b[10], w10 = w[10];
      if (add) for (let p = 0; p < len; p++) d[o + p] += w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]) + w6 * (s[a6 + p] + s[b6 + p]) + w7 * (s[a7 + p] + s[b7 + p]) + w8 * (s[a8 + p] + s[b8 + p]) + w9 * (s[a9 + p] + s[b9 + p]) + w10 * (s[a10 + p] + s[b10 + p]);
      else for (let p = 0; p < len; p++) d[o + p] = w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]) + w6 * (s[a6 + p] + s[b6 + p]) + w7 * (s[a7 + p] + s[b7 + p]) + w8 * (s[a8 + p] + s[b8 + p]) + w9 * (s[a9 + p] + s[b9 + p]) + w10 * (s[a10 + p] + s[b10 + p]);
      return;
    }
    case 11: {
      const a1 = a[1], b1 = b[1], w1 = w[1], a2 = a[2], b2 = b[2], w2 = w[2], a3 = a[3], b3 = b[3], w3 = w[3], a4 = a[4], b4 = b[4], w4 = w[4], a5 = a[5], b5 = b[5], w5 = w[5], a6 = a[6], b6 = b[6], w6 = w[6], a7 = a[7], b7 = b[7], w7 = w[7], a8 = a[8], b8 = b[8], w8 = w[8], a9 = a[9], b9 = b[9], w9 = w[9], a10 = a[10], b10 = b[10], w10 = w[10], a11 = a[11], b11 = b[11], w11 = w[11];
      if (add) for (let p = 0; p < len; p++) d[o + p] += w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]) + w6 * (s[a6 + p] + s[b6 + p]) + w7 * (s[a7 + p] + s[b7 + p]) + w8 * (s[a8 + p] + s[b8 + p]) + w9 * (s[a9 + p] + s[b9 + p]) + w10 * (s[a10 + p] + s[b10 + p]) + w11 * (s[a11 + p] + s[b11 + p]);
      else for (let p = 0; p < len; p++) d[o + p] = w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]) + w6 * (s[a6 + p] + s[b6 + p]) + w7 * (s[a7 + p] + s[b7 + p]) + w8 * (s[a8 + p] + s[b8 + p]) + w9 * (s[a9 + p] + s[b9 + p]) + w10 * (s[a10 + p] + s[b10 + p]) + w11 * (s[a11 + p] + s[b11 + p]);
      return;
    }
    case 12: {
      const a1 = a[1], b1 = b[1], w1 = w[1], a2 = a[2], b2 = b[2], w2 = w[2], a3 = a[3], b3 = b[3], w3 = w[3], a4 = a[4], b4 = b[4], w4 = w[4], a5 = a[5], b5 = b[5], w5 = w[5], a6 = a[6], b6 = b[6], w6 = w[6], a7 = a[7], b7 = b[7], w7 = w[7], a8 = a[8], b8 = b[8], w8 = w[8], a9 = a[9], b9 = b[9], w9 = w[9], a10 = a[10], b10 = b[10], w10 = w[10], a11 = a[11], b11 = b[11], w11 = w[11], a12 = a[12], b12 = b[12], w12 = w[12];
      if (add) for (let p = 0; p < len; p++) d[o + p] += w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]) + w6 * (s[a6 + p] + s[b6 + p]) + w7 * (s[a7 + p] + s[b7 + p]) + w8 * (s[a8 + p] + s[b8 + p]) + w9 * (s[a9 + p] + s[b9 + p]) + w10 * (s[a10 + p] + s[b10 + p]) + w11 * (s[a11 + p] + s[b11 + p]) + w12 * (s[a12 + p] + s[b12 + p]);
      else for (let p = 0; p < len; p++) d[o + p] = w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]) + w5 * (s[a5 + p] + s[b5 + p]) + w6 * (s[a6 + p] + s[b6 + p]) + w7 * (s[a7 + p] + s[b7 + p]) + w8 * (s[a8 + p] + s[b8 + p]) + w9 * (s[a9 + p] + s[b9 + p]) + w10 * (s[a10 + p] + s[b10 + p]) + w11 * (s[a11 + p] + s[b11 + p]) + w12 * (s[a12 + p] + s[b12 + p]);
      return;
    }
    default:
      combineGrouped(s, c, a, b, w, d, o, len, add);

  }
}

/** Full 3D (or 2D when nz = 1) smoothing on one thread: src → dst via tmp. */
export function smooth3D(
  src: Float32Array,
  dst: Float32Array,
  tmp: Float32Array,
  dims: readonly [number, number, number],
  sigma: number | readonly [number, number, number],
): void {
  const [nx, ny, nz] = dims;
  const s = typeof sigma === 'number' ? [sigma, sigma, sigma] : sigma;
  const kx = gaussianHalfKernel(nx > 1 ? s[0] : 0);
  const ky = gaussianHalfKernel(ny > 1 ? s[1] : 0);
  const kz = gaussianHalfKernel(nz > 1 ? s[2] : 0);
  smoothXY(src, tmp, nx, ny, kx, ky, 0, nz);
  smoothZ(tmp, dst, nx, ny, nz, kz, 0, nz);
}

/** combineRows for any radius: the first 4 tap pairs with the centre, then groups of 4. */
function combineGrouped(
  s: Float32Array,
  c: number,
  a: Int32Array,
  b: Int32Array,
  w: Float32Array,
  d: Float32Array,
  o: number,
  len: number,
  add: boolean,
): void {
  const r = w.length - 1;
  const w0 = w[0];
  // Large radius: groups of 4 tap pairs per pass, so few arrays are live in the loop
  // (a fully unrolled 19-tap loop spills registers and runs slower per tap).
  const a1 = a[1], b1 = b[1], w1 = w[1], a2 = a[2], b2 = b[2], w2 = w[2];
  const a3 = a[3], b3 = b[3], w3 = w[3], a4 = a[4], b4 = b[4], w4 = w[4];
  if (add)
    for (let p = 0; p < len; p++)
  d[o + p] += w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]);
  else
    for (let p = 0; p < len; p++)
  d[o + p] = w0 * s[c + p] + w1 * (s[a1 + p] + s[b1 + p]) + w2 * (s[a2 + p] + s[b2 + p]) + w3 * (s[a3 + p] + s[b3 + p]) + w4 * (s[a4 + p] + s[b4 + p]);
  for (let t = 5; t <= r; t += 4) {
    const e1 = a[t], f1 = b[t], v1 = w[t];
    const e2 = t + 1 <= r ? a[t + 1] : c, f2 = t + 1 <= r ? b[t + 1] : c, v2 = t + 1 <= r ? w[t + 1] : 0;
    const e3 = t + 2 <= r ? a[t + 2] : c, f3 = t + 2 <= r ? b[t + 2] : c, v3 = t + 2 <= r ? w[t + 2] : 0;
    const e4 = t + 3 <= r ? a[t + 3] : c, f4 = t + 3 <= r ? b[t + 3] : c, v4 = t + 3 <= r ? w[t + 3] : 0;
    for (let p = 0; p < len; p++)
  d[o + p] += v1 * (s[e1 + p] + s[f1 + p]) + v2 * (s[e2 + p] + s[f2 + p]) + v3 * (s[e3 + p] + s[f3 + p]) + v4 * (s[e4 + p] + s[f4 + p]);
  }
    }
