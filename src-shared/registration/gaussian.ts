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
): void {
  const rx = kx.length - 1;
  const ry = ky.length - 1;
  const plane = nx * ny;
  if (rowBuf.length < nx + 2 * rx) rowBuf = new Float32Array(nx + 2 * rx);
  if (sliceBuf.length < plane) sliceBuf = new Float32Array(plane);
  const pad = rowBuf;
  const tmp = sliceBuf;
  for (let k = k0; k < k1; k++) {
    const base = k * plane;
    // --- along i, into tmp
    for (let j = 0; j < ny; j++) {
      const row = base + j * nx;
      const to = j * nx;
      if (rx === 0) {
        for (let i = 0; i < nx; i++) tmp[to + i] = src[row + i];
        continue;
      }
      const first = src[row];
      const last = src[row + nx - 1];
      for (let t = 0; t < rx; t++) {
        pad[t] = first;
        pad[rx + nx + t] = last;
      }
      for (let i = 0; i < nx; i++) pad[rx + i] = src[row + i];
      const w0 = kx[0];
      for (let i = 0; i < nx; i++) {
        const c = i + rx;
        let s = w0 * pad[c];
        for (let t = 1; t <= rx; t++) s += kx[t] * (pad[c - t] + pad[c + t]);
        tmp[to + i] = s;
      }
    }
    // --- along j, tmp → dst (whole rows at a time: contiguous inner loop)
    if (ry === 0) {
      for (let p = 0; p < plane; p++) dst[base + p] = tmp[p];
      continue;
    }
    const w0 = ky[0];
    for (let j = 0; j < ny; j++) {
      const out = base + j * nx;
      const c = j * nx;
      for (let i = 0; i < nx; i++) dst[out + i] = w0 * tmp[c + i];
      for (let t = 1; t <= ry; t++) {
        const a = (j - t < 0 ? 0 : j - t) * nx;
        const b = (j + t > ny - 1 ? ny - 1 : j + t) * nx;
        const w = ky[t];
        for (let i = 0; i < nx; i++) dst[out + i] += w * (tmp[a + i] + tmp[b + i]);
      }
    }
  }
}

/** Smooths along k (kernel kz) for output slices [k0,k1): src → dst (must not alias). */
export function smoothZ(
  src: Float32Array,
  dst: Float32Array,
  nx: number,
  ny: number,
  nz: number,
  kz: Float32Array,
  k0: number,
  k1: number,
): void {
  const rz = kz.length - 1;
  const plane = nx * ny;
  const w0 = kz[0];
  for (let k = k0; k < k1; k++) {
    const out = k * plane;
    if (rz === 0 || nz === 1) {
      for (let p = 0; p < plane; p++) dst[out + p] = src[out + p];
      continue;
    }
    for (let p = 0; p < plane; p++) dst[out + p] = w0 * src[out + p];
    for (let t = 1; t <= rz; t++) {
      const a = (k - t < 0 ? 0 : k - t) * plane;
      const b = (k + t > nz - 1 ? nz - 1 : k + t) * plane;
      const w = kz[t];
      for (let p = 0; p < plane; p++) dst[out + p] += w * (src[a + p] + src[b + p]);
    }
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
