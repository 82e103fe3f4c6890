/**
 * Kernels of the demons iteration over Float32 arrays on one grid (the fixed grid of the
 * current level), all in voxel units of that grid. Each works on output slices [k0,k1) so
 * the thread pool can split the volume by slabs of k (2D images: nz = 1, one slab).
 *
 * Displacement fields are one Float32Array of 3n values, component-major (all i, then all j,
 * then all k components): d maps fixed voxel x to the moving position x + d(x).
 */

export type Dims = readonly [number, number, number];

/** Trilinear sample of img at continuous index (x,y,z), clamped to the grid (edge replicate). */
export function sampleClamped(img: Float32Array, nx: number, ny: number, nz: number, x: number, y: number, z: number): number {
  if (x < 0) x = 0; else if (x > nx - 1) x = nx - 1;
  if (y < 0) y = 0; else if (y > ny - 1) y = ny - 1;
  if (z < 0) z = 0; else if (z > nz - 1) z = nz - 1;
  const fx = Math.floor(x), fy = Math.floor(y), fz = Math.floor(z);
  const tx = x - fx, ty = y - fy, tz = z - fz;
  const x1 = fx < nx - 1 ? 1 : 0;
  const y1 = fy < ny - 1 ? nx : 0;
  const z1 = fz < nz - 1 ? nx * ny : 0;
  const b = (fz * ny + fy) * nx + fx;
  const c00 = img[b] + tx * (img[b + x1] - img[b]);
  const c01 = img[b + y1] + tx * (img[b + y1 + x1] - img[b + y1]);
  const c10 = img[b + z1] + tx * (img[b + z1 + x1] - img[b + z1]);
  const c11 = img[b + z1 + y1] + tx * (img[b + z1 + y1 + x1] - img[b + z1 + y1]);
  const c0 = c00 + ty * (c01 - c00);
  const c1 = c10 + ty * (c11 - c10);
  return c0 + tz * (c1 - c0);
}

/**
 * warped(x) = moving(x + d(x)) for slices [k0,k1); returns Σ (fixed − warped)² over them
 * (when fixed is given).
 */
export function warpImage(
  moving: Float32Array,
  field: Float32Array,
  out: Float32Array,
  dims: Dims,
  k0: number,
  k1: number,
  fixed?: Float32Array,
): number {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  let ssd = 0;
  for (let k = k0; k < k1; k++)
    for (let j = 0; j < ny; j++) {
      let o = (k * ny + j) * nx;
      for (let i = 0; i < nx; i++, o++) {
        const w = sampleClamped(moving, nx, ny, nz, i + field[o], j + field[n + o], k + field[2 * n + o]);
        out[o] = w;
        if (fixed) {
          const e = fixed[o] - w;
          ssd += e * e;
        }
      }
    }
  return ssd;
}

/** Central-difference gradient (one-sided at the borders, 0 along a singleton axis) into g (3n). */
export function gradient(img: Float32Array, g: Float32Array, dims: Dims, k0: number, k1: number): void {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  const sz = nx * ny;
  for (let k = k0; k < k1; k++)
    for (let j = 0; j < ny; j++) {
      const row = (k * ny + j) * nx;
      for (let i = 0; i < nx; i++) {
        const o = row + i;
        g[o] = gradAt(img, o, i, nx, 1);
        g[n + o] = gradAt(img, o, j, ny, nx);
        g[2 * n + o] = gradAt(img, o, k, nz, sz);
      }
    }
}

function gradAt(img: Float32Array, o: number, p: number, len: number, stride: number): number {
  if (len < 2) return 0;
  if (p === 0) return img[o + stride] - img[o];
  if (p === len - 1) return img[o] - img[o - stride];
  return 0.5 * (img[o + stride] - img[o - stride]);
}

export type ForceKind = 'moving' | 'fixed' | 'symmetric';

/**
 * Demons force for slices [k0,k1) into u (3n):
 *   u = (F − W) g / (|g|² + α (F − W)²),   α = 1 / (4 maxStep²)
 * with g = ∇W (moving), ∇F (fixed) or (∇F + ∇W)/2 (symmetric, ESM). The α term bounds
 * |u| by maxStep voxels (Thirion's classic form is α = 1, i.e. maxStep = 0.5).
 * gradF is the precomputed fixed gradient (3n), needed for 'fixed' and 'symmetric'.
 * With `field` (the current displacement), voxels mapped outside the moving grid, or within
 * `edgeMargin` voxels of its border, get no force: samples there are made of edge padding
 * (clamped interpolation, the pyramid's smoothing) and one-sided differences.
 */
export function demonsForce(
  fixed: Float32Array,
  warped: Float32Array,
  gradF: Float32Array | null,
  u: Float32Array,
  dims: Dims,
  kind: ForceKind,
  maxStep: number,
  k0: number,
  k1: number,
  field: Float32Array | null = null,
  edgeMargin = 0,
): void {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  const sz = nx * ny;
  const lo = edgeMargin - 0.5;
  const hx = nx - 0.5 - edgeMargin, hy = ny - 0.5 - edgeMargin, hz = nz - 0.5 - edgeMargin;
  const alpha = 1 / (4 * maxStep * maxStep);
  const useW = kind !== 'fixed';
  const useF = kind !== 'moving' && gradF !== null;
  const wW = kind === 'symmetric' ? 0.5 : 1;
  for (let k = k0; k < k1; k++)
    for (let j = 0; j < ny; j++) {
      const row = (k * ny + j) * nx;
      for (let i = 0; i < nx; i++) {
        const o = row + i;
        let gx = 0, gy = 0, gz = 0;
        if (useW) {
          gx = wW * gradAt(warped, o, i, nx, 1);
          gy = wW * gradAt(warped, o, j, ny, nx);
          gz = wW * gradAt(warped, o, k, nz, sz);
        }
        if (useF) {
          gx += wW * gradF![o];
          gy += wW * gradF![n + o];
          gz += wW * gradF![2 * n + o];
        }
        const diff = fixed[o] - warped[o];
        const den = gx * gx + gy * gy + gz * gz + alpha * diff * diff;
        // No force where x + d(x) falls outside the moving image: the clamped sample there is
        // not the anatomy that corresponds (it lies beyond the field of view), so its
        // difference would only pull the field in a wrong direction.
        let outside = false;
        if (field) {
          const px = i + field[o], py = j + field[n + o], pz = k + field[2 * n + o];
          outside = (nx > 1 && (px < lo || px > hx)) || (ny > 1 && (py < lo || py > hy)) || (nz > 1 && (pz < lo || pz > hz));
        }
        if (den < 1e-9 || outside) {
          u[o] = 0; u[n + o] = 0; u[2 * n + o] = 0;
          continue;
        }
        const s = diff / den;
        u[o] = s * gx;
        u[n + o] = s * gy;
        u[2 * n + o] = s * gz;
      }
    }
}

/** d += scale·u on voxels of slices [k0,k1) (all three components). */
export function addScaled(d: Float32Array, u: Float32Array, scale: number, dims: Dims, k0: number, k1: number): void {
  const n = dims[0] * dims[1] * dims[2];
  const a = k0 * dims[0] * dims[1];
  const b = k1 * dims[0] * dims[1];
  for (let c = 0; c < 3; c++) {
    const off = c * n;
    for (let o = off + a; o < off + b; o++) d[o] += scale * u[o];
  }
}

/** Largest squared vector norm of a field over slices [k0,k1). */
export function maxNormSq(u: Float32Array, dims: Dims, k0: number, k1: number): number {
  const n = dims[0] * dims[1] * dims[2];
  const a = k0 * dims[0] * dims[1];
  const b = k1 * dims[0] * dims[1];
  let m = 0;
  for (let o = a; o < b; o++) {
    const v = u[o] * u[o] + u[n + o] * u[n + o] + u[2 * n + o] * u[2 * n + o];
    if (v > m) m = v;
  }
  return m;
}

/**
 * Composition for slices [k0,k1): out(x) = v(x) + d(x + v(x)) — the displacement of
 * x ↦ φ_d(φ_v(x)). With v = d this is one squaring step of exp (scaling and squaring).
 * out must not alias d or v.
 */
export function compose(d: Float32Array, v: Float32Array, out: Float32Array, dims: Dims, k0: number, k1: number): void {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  const dx = d.subarray(0, n), dy = d.subarray(n, 2 * n), dz = d.subarray(2 * n, 3 * n);
  for (let k = k0; k < k1; k++)
    for (let j = 0; j < ny; j++) {
      let o = (k * ny + j) * nx;
      for (let i = 0; i < nx; i++, o++) {
        const vx = v[o], vy = v[n + o], vz = v[2 * n + o];
        const x = i + vx, y = j + vy, z = k + vz;
        out[o] = vx + sampleClamped(dx, nx, ny, nz, x, y, z);
        out[n + o] = vy + sampleClamped(dy, nx, ny, nz, x, y, z);
        out[2 * n + o] = vz + (nz > 1 ? sampleClamped(dz, nx, ny, nz, x, y, z) : 0);
      }
    }
}

/** Scales a field in place on slices [k0,k1). */
export function scaleField(u: Float32Array, s: number, dims: Dims, k0: number, k1: number): void {
  const n = dims[0] * dims[1] * dims[2];
  const a = k0 * dims[0] * dims[1];
  const b = k1 * dims[0] * dims[1];
  for (let c = 0; c < 3; c++) for (let o = c * n + a; o < c * n + b; o++) u[o] *= s;
}

/**
 * Jacobian determinant of x ↦ x + d(x) (central differences, one-sided at the borders) for
 * slices [k0,k1) into out (may be null). Returns [count ≤ 0, min, max]. Voxel units are fine:
 * the determinant is the same in world units (index→world is a constant affine map).
 */
export function jacobianDeterminant(d: Float32Array, out: Float32Array | null, dims: Dims, k0: number, k1: number): [number, number, number] {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  const sz = nx * ny;
  let neg = 0, mn = Infinity, mx = -Infinity;
  for (let k = k0; k < k1; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const o = (k * ny + j) * nx + i;
        const a00 = 1 + gradAt(d, o, i, nx, 1), a01 = gradAt(d, o, j, ny, nx), a02 = gradAt(d, o, k, nz, sz);
        const a10 = gradAt(d, n + o, i, nx, 1), a11 = 1 + gradAt(d, n + o, j, ny, nx), a12 = gradAt(d, n + o, k, nz, sz);
        const a20 = gradAt(d, 2 * n + o, i, nx, 1), a21 = gradAt(d, 2 * n + o, j, ny, nx), a22 = 1 + gradAt(d, 2 * n + o, k, nz, sz);
        const det = a00 * (a11 * a22 - a12 * a21) - a01 * (a10 * a22 - a12 * a20) + a02 * (a10 * a21 - a11 * a20);
        if (out) out[o] = det;
        if (det <= 0) neg++;
        if (det < mn) mn = det;
        if (det > mx) mx = det;
      }
  return [neg, mn, mx];
}

/** Size of the next coarser level: halve every axis longer than 1 (rounding up). */
export function halfDims(d: Dims): [number, number, number] {
  return [d[0] > 1 ? Math.ceil(d[0] / 2) : 1, d[1] > 1 ? Math.ceil(d[1] / 2) : 1, d[2] > 1 ? Math.ceil(d[2] / 2) : 1];
}

/** Takes every 2nd voxel of a (pre-smoothed) image: coarse voxel c ↔ fine voxel 2c. Slices [k0,k1) of the coarse grid. */
export function subsample(src: Float32Array, srcDims: Dims, out: Float32Array, outDims: Dims, k0: number, k1: number): void {
  const [nx, ny] = srcDims;
  const [ox, oy] = outDims;
  const fx = srcDims[0] > 1 ? 2 : 1, fy = srcDims[1] > 1 ? 2 : 1, fz = srcDims[2] > 1 ? 2 : 1;
  for (let k = k0; k < k1; k++)
    for (let j = 0; j < oy; j++) {
      const so = (k * fz * ny + j * fy) * nx;
      let o = (k * oy + j) * ox;
      for (let i = 0; i < ox; i++, o++) out[o] = src[so + i * fx];
    }
}

/**
 * Up-samples a coarse field onto the next finer grid (fine voxel f ↔ coarse f/2), scaling
 * the vectors to fine voxel units. Fine slices [k0,k1).
 */
export function upsampleField(src: Float32Array, srcDims: Dims, out: Float32Array, outDims: Dims, k0: number, k1: number): void {
  const [cx, cy, cz] = srcDims;
  const [nx, ny, nz] = outDims;
  const cn = cx * cy * cz;
  const n = nx * ny * nz;
  const fx = nx > 1 ? 2 : 1, fy = ny > 1 ? 2 : 1, fz = nz > 1 ? 2 : 1;
  const sx = src.subarray(0, cn), sy = src.subarray(cn, 2 * cn), sz = src.subarray(2 * cn, 3 * cn);
  for (let k = k0; k < k1; k++)
    for (let j = 0; j < ny; j++) {
      let o = (k * ny + j) * nx;
      for (let i = 0; i < nx; i++, o++) {
        const x = i / fx, y = j / fy, z = k / fz;
        out[o] = fx * sampleClamped(sx, cx, cy, cz, x, y, z);
        out[n + o] = fy * sampleClamped(sy, cx, cy, cz, x, y, z);
        out[2 * n + o] = fz * sampleClamped(sz, cx, cy, cz, x, y, z);
      }
    }
}

/**
 * Final resampling through the whole transform, for fixed slices [k0,k1):
 * the total map sends fixed index x to the moving-world point P·(x + d(x)) (P = pull-back
 * affine ∘ fixed index→world, 3×4 row-major) and to the moving continuous index Q·(x + d(x)).
 * Writes warped = moving(Q·(x + d)) (trilinear, clamped to the moving grid) and, when
 * worldRas is given, the world displacement in RAS mm: P·(x + d) − I2W·x with x and y negated.
 */
export function finalizeWarp(
  moving: Float32Array,
  movingDims: Dims,
  d: Float32Array | null,
  dims: Dims,
  Q: ArrayLike<number>,
  P: ArrayLike<number>,
  I2W: ArrayLike<number>,
  warped: Float32Array | null,
  worldRas: Float32Array | null,
  k0: number,
  k1: number,
): void {
  const [nx, ny, nz] = dims;
  const [mx, my, mz] = movingDims;
  const n = nx * ny * nz;
  for (let k = k0; k < k1; k++)
    for (let j = 0; j < ny; j++) {
      let o = (k * ny + j) * nx;
      for (let i = 0; i < nx; i++, o++) {
        const x = d ? i + d[o] : i, y = d ? j + d[n + o] : j, z = d ? k + d[2 * n + o] : k;
        if (warped) {
          const qi = Q[0] * x + Q[1] * y + Q[2] * z + Q[3];
          const qj = Q[4] * x + Q[5] * y + Q[6] * z + Q[7];
          const qk = Q[8] * x + Q[9] * y + Q[10] * z + Q[11];
          warped[o] = sampleClamped(moving, mx, my, mz, qi, qj, qk);
        }
        if (worldRas) {
          const px = P[0] * x + P[1] * y + P[2] * z + P[3] - (I2W[0] * i + I2W[1] * j + I2W[2] * k + I2W[3]);
          const py = P[4] * x + P[5] * y + P[6] * z + P[7] - (I2W[4] * i + I2W[5] * j + I2W[6] * k + I2W[7]);
          const pz = P[8] * x + P[9] * y + P[10] * z + P[11] - (I2W[8] * i + I2W[9] * j + I2W[10] * k + I2W[11]);
          worldRas[o] = -px;
          worldRas[n + o] = -py;
          worldRas[2 * n + o] = pz;
        }
      }
    }
}
