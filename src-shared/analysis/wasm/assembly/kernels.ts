// AssemblyScript (not TypeScript): the SIMD inner loops of the analysis kernels, compiled to
// WebAssembly by scripts/build-wasm.mjs into ../kernels-wasm.ts (run `npm run build:wasm`
// after changing this file; test/analysis-wasm.test.ts fails when the two disagree).
//
// Memory: the caller (../simd.ts) lays out its buffers in this module's linear memory from
// __heap_base on and passes byte addresses; nothing here allocates. Every loop works on
// 4 floats at a time and may read and write up to 3 floats past the end of a row or line;
// callers leave 16 bytes of slack after every buffer, and loops that write past a row end
// go in increasing order, so the next row overwrites that spill with its own values.

// ---------------------------------------------------------------------------------------
// Separable Gaussian (truncated, normalised, edges replicated: scipy mode='nearest').
// w: half kernel w[0..r] (f32), w[0] the centre.

/** Along rows: dst row = kernel * src row, for nRows rows of nx floats; pad: nx + 2r + 8 floats. */
export function gaussRows(src: usize, dst: usize, nx: i32, nRows: i32, w: usize, r: i32, pad: usize): void {
  const w0 = f32x4.splat(load<f32>(w));
  for (let row = 0; row < nRows; row++) {
    const s = src + <usize>(row * nx) * 4;
    const d = dst + <usize>(row * nx) * 4;
    const first = load<f32>(s), last = load<f32>(s + <usize>(nx - 1) * 4);
    for (let t = 0; t < r; t++) {
      store<f32>(pad + <usize>t * 4, first);
      store<f32>(pad + <usize>(r + nx + t) * 4, last);
    }
    memory.copy(pad + <usize>r * 4, s, <usize>nx * 4);
    const c = pad + <usize>r * 4;
    for (let i = 0; i < nx; i += 8) {
      const p = c + <usize>i * 4;
      let a0 = f32x4.mul(w0, v128.load(p));
      let a1 = f32x4.mul(w0, v128.load(p, 16));
      for (let t = 1; t <= r; t++) {
        const wt = f32x4.splat(load<f32>(w + <usize>t * 4));
        const lo = p - <usize>t * 4, hi = p + <usize>t * 4;
        a0 = f32x4.add(a0, f32x4.mul(wt, f32x4.add(v128.load(lo), v128.load(hi))));
        a1 = f32x4.add(a1, f32x4.mul(wt, f32x4.add(v128.load(lo, 16), v128.load(hi, 16))));
      }
      v128.store(d + <usize>i * 4, a0);
      if (i + 4 < nx) v128.store(d + <usize>i * 4, a1, 16);
    }
  }
}

/**
 * Across lines: nLines lines of len floats, contiguous; dst line q (q0 ≤ q < q1) =
 * w0·src[q] + Σ_t w_t·(src[max(q−t, 0)] + src[min(q+t, nLines−1)]). Used along j (lines =
 * the rows of a slice) and along k (lines = pieces of planes).
 */
export function gaussLines(src: usize, dst: usize, len: i32, nLines: i32, q0: i32, q1: i32, w: usize, r: i32): void {
  const w0 = f32x4.splat(load<f32>(w));
  const stride = <usize>len * 4;
  for (let q = q0; q < q1; q++) {
    const c = src + <usize>q * stride;
    const d = dst + <usize>q * stride;
    let p = 0;
    for (; p + 16 <= len; p += 16) {
      const o = <usize>p * 4;
      let a0 = f32x4.mul(w0, v128.load(c + o));
      let a1 = f32x4.mul(w0, v128.load(c + o, 16));
      let a2 = f32x4.mul(w0, v128.load(c + o, 32));
      let a3 = f32x4.mul(w0, v128.load(c + o, 48));
      for (let t = 1; t <= r; t++) {
        const wt = f32x4.splat(load<f32>(w + <usize>t * 4));
        const lo = src + <usize>(q - t < 0 ? 0 : q - t) * stride + o;
        const hi = src + <usize>(q + t > nLines - 1 ? nLines - 1 : q + t) * stride + o;
        a0 = f32x4.add(a0, f32x4.mul(wt, f32x4.add(v128.load(lo), v128.load(hi))));
        a1 = f32x4.add(a1, f32x4.mul(wt, f32x4.add(v128.load(lo, 16), v128.load(hi, 16))));
        a2 = f32x4.add(a2, f32x4.mul(wt, f32x4.add(v128.load(lo, 32), v128.load(hi, 32))));
        a3 = f32x4.add(a3, f32x4.mul(wt, f32x4.add(v128.load(lo, 48), v128.load(hi, 48))));
      }
      v128.store(d + o, a0);
      v128.store(d + o, a1, 16);
      v128.store(d + o, a2, 32);
      v128.store(d + o, a3, 48);
    }
    for (; p < len; p += 4) {
      const o = <usize>p * 4;
      let a0 = f32x4.mul(w0, v128.load(c + o));
      for (let t = 1; t <= r; t++) {
        const wt = f32x4.splat(load<f32>(w + <usize>t * 4));
        const lo = src + <usize>(q - t < 0 ? 0 : q - t) * stride + o;
        const hi = src + <usize>(q + t > nLines - 1 ? nLines - 1 : q + t) * stride + o;
        a0 = f32x4.add(a0, f32x4.mul(wt, f32x4.add(v128.load(lo), v128.load(hi))));
      }
      v128.store(d + o, a0);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Median of the 3×3×3 box, exact, 4 voxels at a time, edges replicated (mode='nearest').
//
// For output row (j, k) the 9 input rows (j±1, k±1, clamped) give, at each i, a column of 9
// values; each column is sorted once (a 25-comparator network, checked by the 0-1 principle
// in test/analysis-wasm.test.ts) and shared by the three windows that contain it. A window is
// then a 9×3 matrix (its columns i−1, i, i+1, each sorted); sorting every row of 3 keeps the
// columns sorted, and in a matrix sorted both ways 7 entries are provably at or below the
// median and 7 at or above it, which leaves 13 candidates (low column rows 5–8, middle rows
// 2–6, high rows 0–3) whose median is the answer: found by forgetful selection (keep 8,
// repeatedly drop the minimum and the maximum and take in the next one).

/**
 * One output slice: s0, s1, s2 are the input slices k−1, k, k+1 (clamped by the caller),
 * nx·ny floats each; dst nx·ny floats; scratch 9 × (nx + 8) floats.
 */
export function median27Slice(s0: usize, s1: usize, s2: usize, dst: usize, nx: i32, ny: i32, scratch: usize): void {
  const sStride = <usize>(nx + 8) * 4;
  const rowBytes = <usize>nx * 4;
  for (let j = 0; j < ny; j++) {
    const jm = <usize>(j > 0 ? j - 1 : 0) * rowBytes;
    const j0 = <usize>j * rowBytes;
    const jp = <usize>(j < ny - 1 ? j + 1 : ny - 1) * rowBytes;
    // Sorted columns into scratch row m at float offset 1 + i (offset 0 and nx + 1: edge copies).
    for (let i = 0; i < nx; i += 4) {
      const o = <usize>i * 4;
      let v0 = v128.load(s0 + jm + o), v1 = v128.load(s0 + j0 + o), v2 = v128.load(s0 + jp + o);
      let v3 = v128.load(s1 + jm + o), v4 = v128.load(s1 + j0 + o), v5 = v128.load(s1 + jp + o);
      let v6 = v128.load(s2 + jm + o), v7 = v128.load(s2 + j0 + o), v8 = v128.load(s2 + jp + o);
      let t: v128;
    t = f32x4.pmin(v0, v3); v3 = f32x4.pmax(v0, v3); v0 = t;
    t = f32x4.pmin(v1, v7); v7 = f32x4.pmax(v1, v7); v1 = t;
    t = f32x4.pmin(v2, v5); v5 = f32x4.pmax(v2, v5); v2 = t;
    t = f32x4.pmin(v4, v8); v8 = f32x4.pmax(v4, v8); v4 = t;
    t = f32x4.pmin(v0, v7); v7 = f32x4.pmax(v0, v7); v0 = t;
    t = f32x4.pmin(v2, v4); v4 = f32x4.pmax(v2, v4); v2 = t;
    t = f32x4.pmin(v3, v8); v8 = f32x4.pmax(v3, v8); v3 = t;
    t = f32x4.pmin(v5, v6); v6 = f32x4.pmax(v5, v6); v5 = t;
    t = f32x4.pmin(v0, v2); v2 = f32x4.pmax(v0, v2); v0 = t;
    t = f32x4.pmin(v1, v3); v3 = f32x4.pmax(v1, v3); v1 = t;
    t = f32x4.pmin(v4, v5); v5 = f32x4.pmax(v4, v5); v4 = t;
    t = f32x4.pmin(v7, v8); v8 = f32x4.pmax(v7, v8); v7 = t;
    t = f32x4.pmin(v1, v4); v4 = f32x4.pmax(v1, v4); v1 = t;
    t = f32x4.pmin(v3, v6); v6 = f32x4.pmax(v3, v6); v3 = t;
    t = f32x4.pmin(v5, v7); v7 = f32x4.pmax(v5, v7); v5 = t;
    t = f32x4.pmin(v0, v1); v1 = f32x4.pmax(v0, v1); v0 = t;
    t = f32x4.pmin(v2, v4); v4 = f32x4.pmax(v2, v4); v2 = t;
    t = f32x4.pmin(v3, v5); v5 = f32x4.pmax(v3, v5); v3 = t;
    t = f32x4.pmin(v6, v8); v8 = f32x4.pmax(v6, v8); v6 = t;
    t = f32x4.pmin(v2, v3); v3 = f32x4.pmax(v2, v3); v2 = t;
    t = f32x4.pmin(v4, v5); v5 = f32x4.pmax(v4, v5); v4 = t;
    t = f32x4.pmin(v6, v7); v7 = f32x4.pmax(v6, v7); v6 = t;
    t = f32x4.pmin(v1, v2); v2 = f32x4.pmax(v1, v2); v1 = t;
    t = f32x4.pmin(v3, v4); v4 = f32x4.pmax(v3, v4); v3 = t;
    t = f32x4.pmin(v5, v6); v6 = f32x4.pmax(v5, v6); v5 = t;
      const b = scratch + 4 + o;
      v128.store(b, v0);
      v128.store(b + sStride, v1);
      v128.store(b + 2 * sStride, v2);
      v128.store(b + 3 * sStride, v3);
      v128.store(b + 4 * sStride, v4);
      v128.store(b + 5 * sStride, v5);
      v128.store(b + 6 * sStride, v6);
      v128.store(b + 7 * sStride, v7);
      v128.store(b + 8 * sStride, v8);
    }
    for (let m = 0; m < 9; m++) {
      const row = scratch + <usize>m * sStride;
      store<f32>(row, load<f32>(row + 4));
      store<f32>(row + <usize>(nx + 1) * 4, load<f32>(row + <usize>nx * 4));
    }
    const d = dst + j0;
    for (let i = 0; i < nx; i += 4) {
      const b = scratch + <usize>i * 4; // column i − 1 of row 0
      let t: v128;
      // Rows 0, 1: only their maximum is a candidate.
      let c9 = max3(b);
      let c10 = max3(b + sStride);
      // Rows 2, 3: middle and maximum.
      let lo = f32x4.pmin(v128.load(b + 2 * sStride), v128.load(b + 2 * sStride, 4));
      let hi = f32x4.pmax(v128.load(b + 2 * sStride), v128.load(b + 2 * sStride, 4));
      let x = v128.load(b + 2 * sStride, 8);
      let c4 = f32x4.pmax(lo, f32x4.pmin(hi, x));
      let c11 = f32x4.pmax(hi, x);
      lo = f32x4.pmin(v128.load(b + 3 * sStride), v128.load(b + 3 * sStride, 4));
      hi = f32x4.pmax(v128.load(b + 3 * sStride), v128.load(b + 3 * sStride, 4));
      x = v128.load(b + 3 * sStride, 8);
      let c5 = f32x4.pmax(lo, f32x4.pmin(hi, x));
      let c12 = f32x4.pmax(hi, x);
      // Row 4: middle.
      lo = f32x4.pmin(v128.load(b + 4 * sStride), v128.load(b + 4 * sStride, 4));
      hi = f32x4.pmax(v128.load(b + 4 * sStride), v128.load(b + 4 * sStride, 4));
      x = v128.load(b + 4 * sStride, 8);
      let c6 = f32x4.pmax(lo, f32x4.pmin(hi, x));
      // Rows 5, 6: minimum and middle.
      lo = f32x4.pmin(v128.load(b + 5 * sStride), v128.load(b + 5 * sStride, 4));
      hi = f32x4.pmax(v128.load(b + 5 * sStride), v128.load(b + 5 * sStride, 4));
      x = v128.load(b + 5 * sStride, 8);
      let c0 = f32x4.pmin(lo, x);
      let c7 = f32x4.pmax(lo, f32x4.pmin(hi, x));
      lo = f32x4.pmin(v128.load(b + 6 * sStride), v128.load(b + 6 * sStride, 4));
      hi = f32x4.pmax(v128.load(b + 6 * sStride), v128.load(b + 6 * sStride, 4));
      x = v128.load(b + 6 * sStride, 8);
      let c1 = f32x4.pmin(lo, x);
      let c8 = f32x4.pmax(lo, f32x4.pmin(hi, x));
      // Rows 7, 8: only their minimum.
      let c2 = min3(b + 7 * sStride);
      let c3 = min3(b + 8 * sStride);
      t = f32x4.pmin(c0, c1); c1 = f32x4.pmax(c0, c1); c0 = t;
      t = f32x4.pmin(c0, c2); c2 = f32x4.pmax(c0, c2); c0 = t;
      t = f32x4.pmin(c0, c3); c3 = f32x4.pmax(c0, c3); c0 = t;
      t = f32x4.pmin(c0, c4); c4 = f32x4.pmax(c0, c4); c0 = t;
      t = f32x4.pmin(c0, c5); c5 = f32x4.pmax(c0, c5); c0 = t;
      t = f32x4.pmin(c0, c6); c6 = f32x4.pmax(c0, c6); c0 = t;
      t = f32x4.pmin(c0, c7); c7 = f32x4.pmax(c0, c7); c0 = t;
      t = f32x4.pmin(c1, c7); c7 = f32x4.pmax(c1, c7); c1 = t;
      t = f32x4.pmin(c2, c7); c7 = f32x4.pmax(c2, c7); c2 = t;
      t = f32x4.pmin(c3, c7); c7 = f32x4.pmax(c3, c7); c3 = t;
      t = f32x4.pmin(c4, c7); c7 = f32x4.pmax(c4, c7); c4 = t;
      t = f32x4.pmin(c5, c7); c7 = f32x4.pmax(c5, c7); c5 = t;
      t = f32x4.pmin(c6, c7); c7 = f32x4.pmax(c6, c7); c6 = t;
      t = f32x4.pmin(c1, c2); c2 = f32x4.pmax(c1, c2); c1 = t;
      t = f32x4.pmin(c1, c3); c3 = f32x4.pmax(c1, c3); c1 = t;
      t = f32x4.pmin(c1, c4); c4 = f32x4.pmax(c1, c4); c1 = t;
      t = f32x4.pmin(c1, c5); c5 = f32x4.pmax(c1, c5); c1 = t;
      t = f32x4.pmin(c1, c6); c6 = f32x4.pmax(c1, c6); c1 = t;
      t = f32x4.pmin(c1, c8); c8 = f32x4.pmax(c1, c8); c1 = t;
      t = f32x4.pmin(c2, c8); c8 = f32x4.pmax(c2, c8); c2 = t;
      t = f32x4.pmin(c3, c8); c8 = f32x4.pmax(c3, c8); c3 = t;
      t = f32x4.pmin(c4, c8); c8 = f32x4.pmax(c4, c8); c4 = t;
      t = f32x4.pmin(c5, c8); c8 = f32x4.pmax(c5, c8); c5 = t;
      t = f32x4.pmin(c6, c8); c8 = f32x4.pmax(c6, c8); c6 = t;
      t = f32x4.pmin(c2, c3); c3 = f32x4.pmax(c2, c3); c2 = t;
      t = f32x4.pmin(c2, c4); c4 = f32x4.pmax(c2, c4); c2 = t;
      t = f32x4.pmin(c2, c5); c5 = f32x4.pmax(c2, c5); c2 = t;
      t = f32x4.pmin(c2, c6); c6 = f32x4.pmax(c2, c6); c2 = t;
      t = f32x4.pmin(c2, c9); c9 = f32x4.pmax(c2, c9); c2 = t;
      t = f32x4.pmin(c3, c9); c9 = f32x4.pmax(c3, c9); c3 = t;
      t = f32x4.pmin(c4, c9); c9 = f32x4.pmax(c4, c9); c4 = t;
      t = f32x4.pmin(c5, c9); c9 = f32x4.pmax(c5, c9); c5 = t;
      t = f32x4.pmin(c6, c9); c9 = f32x4.pmax(c6, c9); c6 = t;
      t = f32x4.pmin(c3, c4); c4 = f32x4.pmax(c3, c4); c3 = t;
      t = f32x4.pmin(c3, c5); c5 = f32x4.pmax(c3, c5); c3 = t;
      t = f32x4.pmin(c3, c6); c6 = f32x4.pmax(c3, c6); c3 = t;
      t = f32x4.pmin(c3, c10); c10 = f32x4.pmax(c3, c10); c3 = t;
      t = f32x4.pmin(c4, c10); c10 = f32x4.pmax(c4, c10); c4 = t;
      t = f32x4.pmin(c5, c10); c10 = f32x4.pmax(c5, c10); c5 = t;
      t = f32x4.pmin(c6, c10); c10 = f32x4.pmax(c6, c10); c6 = t;
      t = f32x4.pmin(c4, c5); c5 = f32x4.pmax(c4, c5); c4 = t;
      t = f32x4.pmin(c4, c6); c6 = f32x4.pmax(c4, c6); c4 = t;
      t = f32x4.pmin(c4, c11); c11 = f32x4.pmax(c4, c11); c4 = t;
      t = f32x4.pmin(c5, c11); c11 = f32x4.pmax(c5, c11); c5 = t;
      t = f32x4.pmin(c6, c11); c11 = f32x4.pmax(c6, c11); c6 = t;
      t = f32x4.pmin(c5, c6); c6 = f32x4.pmax(c5, c6); c5 = t;
      t = f32x4.pmin(c5, c12); c12 = f32x4.pmax(c5, c12); c5 = t;
      t = f32x4.pmin(c6, c12); c12 = f32x4.pmax(c6, c12); c6 = t;
      // The median is now c6.
      v128.store(d + <usize>i * 4, c6);
    }
  }
}

@inline function max3(p: usize): v128 {
  return f32x4.pmax(f32x4.pmax(v128.load(p), v128.load(p, 4)), v128.load(p, 8));
}

@inline function min3(p: usize): v128 {
  return f32x4.pmin(f32x4.pmin(v128.load(p), v128.load(p, 4)), v128.load(p, 8));
}

// ---------------------------------------------------------------------------------------
// Exact squared Euclidean distance transform, one pass along lines (Felzenszwalb &
// Huttenlocher; the same arithmetic as edt1d in ../../kernels.ts, in float64): `count` lines
// of n f32 values at buf + 4·(q·stride + t), t < count, rewritten in place with
// min_p (s·(q − p))² + f(p), or its square root with `root` (the last pass).
// Lines are gathered EDT_BLOCK at a time, so that every read and write of the strided
// volume touches EDT_BLOCK neighbouring floats (a cache line or more) instead of one.
// scratch: EDT_BLOCK·(n + 9)·12 + 8·(n + 1) + 4·n bytes.

const EDT_BLOCK = 16;

export function edtLines(buf: usize, n: i32, stride: i32, count: i32, s: f64, scratch: usize, root: i32): void {
  // Line-major scratch lines of L = n + 9 values: a power-of-two line length (512) would put
  // the EDT_BLOCK values of one gather 4 KiB apart, on the same cache sets.
  const L = n + 9;
  const f = scratch; // EDT_BLOCK lines of L f64
  const out = f + <usize>(EDT_BLOCK * L) * 8; // EDT_BLOCK lines of L f32
  const z = out + <usize>(EDT_BLOCK * L) * 4;
  const v = z + <usize>(n + 1) * 8;
  for (let t0 = 0; t0 < count; t0 += EDT_BLOCK) {
    const m = count - t0 < EDT_BLOCK ? count - t0 : EDT_BLOCK;
    for (let q = 0; q < n; q++) {
      const src = buf + (<usize>(q * stride + t0) << 2);
      for (let u = 0; u < m; u++) store<f64>(f + <usize>(u * L + q) * 8, <f64>load<f32>(src + (<usize>u << 2)));
    }
    for (let u = 0; u < m; u++) edtLine(f + <usize>(u * L) * 8, out + <usize>(u * L) * 4, n, s, z, v, root);
    for (let q = 0; q < n; q++) {
      const dst = buf + (<usize>(q * stride + t0) << 2);
      for (let u = 0; u < m; u++) store<f32>(dst + (<usize>u << 2), load<f32>(out + <usize>(u * L + q) * 4));
    }
  }
}

/**
 * One line: f (n f64) → out (n f32). (Comparing the intersections as cross-multiplied
 * fractions, without divisions, was measured 1.5× slower: the extra array's traffic costs
 * more than the divisions' latency.)
 */
function edtLine(f: usize, out: usize, n: i32, s: f64, z: usize, v: usize, root: i32): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = load<f64>(f + <usize>q * 8);
    if (fq == Infinity) continue;
    const xq = <f64>q * s;
    if (k < 0) {
      k = 0;
      store<i32>(v, q);
      store<f64>(z, -Infinity);
      store<f64>(z, Infinity, 8);
      continue;
    }
    const c = fq + xq * xq;
    let p = load<i32>(v + <usize>k * 4);
    let xp = <f64>p * s;
    let x = (c - (load<f64>(f + <usize>p * 8) + xp * xp)) / (2 * (xq - xp));
    while (x <= load<f64>(z + <usize>k * 8)) {
      k--;
      p = load<i32>(v + <usize>k * 4);
      xp = <f64>p * s;
      x = (c - (load<f64>(f + <usize>p * 8) + xp * xp)) / (2 * (xq - xp));
    }
    k++;
    store<i32>(v + <usize>k * 4, q);
    store<f64>(z + <usize>k * 8, x);
    store<f64>(z + <usize>(k + 1) * 8, Infinity);
  }
  if (k < 0) {
    for (let q = 0; q < n; q++) store<f32>(out + <usize>q * 4, Infinity);
    return;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    const xq = <f64>q * s;
    while (load<f64>(z + <usize>(k + 1) * 8) < xq) k++;
    const p = load<i32>(v + <usize>k * 4);
    const dx = xq - <f64>p * s;
    const d = dx * dx + load<f64>(f + <usize>p * 8);
    store<f32>(out + <usize>q * 4, <f32>(root ? Math.sqrt(d) : d));
  }
}

// ---------------------------------------------------------------------------------------
// Surface voxels of a 0/1 byte mask (6-neighbourhood, beyond the image = background), 16
// voxels at a time: surface = m & ~(m[i−1] & m[i+1] & m[j−1] & m[j+1] & m[k−1] & m[k+1]).

/**
 * One slice k of the box: m0, m1, m2 are the mask's slices k−1, k, k+1 (nx·ny bytes each;
 * m0 and m2 unused when `faceK`, i.e. k is the first or last slice); dst gets the box's rows
 * lo1 ≤ j < lo1 + size1, columns lo0 ≤ i < lo0 + size0 (size0 bytes a row). Returns the
 * number of surface voxels written.
 */
export function surfaceSlice(m0: usize, m1: usize, m2: usize, dst: usize, nx: i32, ny: i32, lo0: i32, lo1: i32, size0: i32, size1: i32, faceK: i32): i32 {
  const iota = i8x16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  let acc = i32x4.splat(0);
  for (let jb = 0; jb < size1; jb++) {
    const j = lo1 + jb;
    const row = <usize>(j * nx + lo0);
    const d = dst + <usize>(jb * size0);
    const face = faceK || j == 0 || j == ny - 1;
    for (let t = 0; t < size0; t += 16) {
      const p = row + <usize>t;
      const c = v128.load(m1 + p);
      let s = c;
      if (!face) {
        const inner = v128.and(
          v128.and(v128.and(v128.load(m1 + p - 1), v128.load(m1 + p + 1)), v128.and(v128.load(m1 + p - <usize>nx), v128.load(m1 + p + <usize>nx))),
          v128.and(v128.load(m0 + p), v128.load(m2 + p)),
        );
        s = v128.andnot(c, inner);
      }
      const rest = size0 - t;
      if (rest < 16) s = v128.and(s, i8x16.lt_u(iota, i8x16.splat(<i8>rest)));
      v128.store(d + <usize>t, s);
      acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(s)));
    }
    if (!face) {
      // Voxels on the image's faces i = 0 and i = nx − 1 are surface wherever the mask is set.
      if (lo0 == 0 && load<u8>(m1 + row) && !load<u8>(d)) {
        store<u8>(d, 1);
        acc = i32x4.add(acc, i32x4(1, 0, 0, 0));
      }
      if (lo0 + size0 == nx && load<u8>(m1 + row + <usize>(size0 - 1)) && !load<u8>(d + <usize>(size0 - 1))) {
        store<u8>(d + <usize>(size0 - 1), 1);
        acc = i32x4.add(acc, i32x4(1, 0, 0, 0));
      }
    }
  }
  return i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
}
