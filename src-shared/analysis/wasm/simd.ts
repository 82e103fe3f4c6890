/**
 * The WebAssembly SIMD versions of the analysis kernels' hottest loops (Gaussian rows and
 * lines, the exact 3×3×3 median), 4 floats per instruction: see ./assembly/kernels.ts.
 *
 * Each thread (worker, CLI, test) instantiates its own small module and copies the slices it
 * works on into the module's memory and back; the copies are plain memcpy and cost a few per
 * cent of the arithmetic they save. Where WebAssembly SIMD is missing, or LATTICE_SIMD=0 is
 * set, simdKernels() is null and the callers keep their JavaScript loops (same results to
 * float rounding: the sums are taken in another order).
 */
import { KERNELS_WASM_BASE64 } from './kernels-wasm';

interface KernelExports {
  memory: WebAssembly.Memory;
  __heap_base?: WebAssembly.Global;
  gaussRows(src: number, dst: number, nx: number, nRows: number, w: number, r: number, pad: number): void;
  gaussLines(src: number, dst: number, len: number, nLines: number, q0: number, q1: number, w: number, r: number): void;
  median27Slice(s0: number, s1: number, s2: number, dst: number, nx: number, ny: number, scratch: number): void;
  edtLines(buf: number, n: number, stride: number, count: number, s: number, scratch: number, root: number): void;
  surfaceSlice(m0: number, m1: number, m2: number, dst: number, nx: number, ny: number, lo0: number, lo1: number, size0: number, size1: number, faceK: number): number;
}

const SLACK = 16; // bytes after every buffer: the vector loops may spill up to 3 floats

/** Bump layout of one call's buffers in the module memory (reset for every call). */
class Layout {
  private at: number;
  constructor(base: number) {
    this.at = base;
  }
  /** Byte address of a new buffer of `floats` floats (16-byte aligned, with slack). */
  floats(floats: number): number {
    const p = (this.at + 15) & ~15;
    this.at = p + floats * 4 + SLACK;
    return p;
  }
  get end(): number {
    return this.at;
  }
}

export class SimdKernels {
  private f32: Float32Array;
  private readonly base: number;
  constructor(private readonly k: KernelExports) {
    this.base = ((k.__heap_base ? Number(k.__heap_base.value) : 1024) + 15) & ~15;
    this.f32 = new Float32Array(k.memory.buffer);
  }

  private layout(): Layout {
    return new Layout(this.base);
  }

  /** Grows the memory to hold `l`'s buffers (the views are renewed after growing). */
  private ensure(l: Layout): Float32Array {
    const need = l.end - this.k.memory.buffer.byteLength;
    if (need > 0) this.k.memory.grow(Math.ceil(need / 65536));
    if (this.f32.buffer !== this.k.memory.buffer) this.f32 = new Float32Array(this.k.memory.buffer);
    return this.f32;
  }

  private putKernel(mem: Float32Array, at: number, w: Float32Array): void {
    mem.set(w, at >> 2);
  }

  /** Gaussian along i (kx) then j (ky) of slices [k0, k1): src → dst (may alias). */
  smoothXY(src: Float32Array, dst: Float32Array, nx: number, ny: number, kx: Float32Array, ky: Float32Array, k0: number, k1: number): void {
    const plane = nx * ny;
    const l = this.layout();
    const wx = l.floats(kx.length), wy = l.floats(ky.length);
    const pad = l.floats(nx + 2 * (kx.length - 1) + 8);
    const a = l.floats(plane), b = l.floats(plane);
    const mem = this.ensure(l);
    this.putKernel(mem, wx, kx);
    this.putKernel(mem, wy, ky);
    for (let k = k0; k < k1; k++) {
      mem.set(src.subarray(k * plane, (k + 1) * plane), a >> 2);
      this.k.gaussRows(a, b, nx, ny, wx, kx.length - 1, pad);
      this.k.gaussLines(b, a, nx, ny, 0, ny, wy, ky.length - 1);
      dst.set(mem.subarray(a >> 2, (a >> 2) + plane), k * plane);
    }
  }

  /** Gaussian along k (kz) for output slices [k0, k1): src → dst (distinct). */
  smoothZ(src: Float32Array, dst: Float32Array, nx: number, ny: number, nz: number, kz: Float32Array, k0: number, k1: number): void {
    const plane = nx * ny;
    const r = nz > 1 ? kz.length - 1 : 0;
    const kb = Math.max(0, k0 - r), ke = Math.min(nz, k1 + r);
    const lines = ke - kb;
    // Pieces of BLOCK voxels of every plane: the 2r + 1 planes a piece needs stay in cache.
    const BLOCK = 2048;
    const l = this.layout();
    const w = l.floats(kz.length);
    const a = l.floats(lines * BLOCK), b = l.floats(lines * BLOCK);
    const mem = this.ensure(l);
    this.putKernel(mem, w, r === 0 ? new Float32Array([1]) : kz);
    for (let p0 = 0; p0 < plane; p0 += BLOCK) {
      const len = Math.min(BLOCK, plane - p0);
      for (let k = kb; k < ke; k++) mem.set(src.subarray(k * plane + p0, k * plane + p0 + len), (a >> 2) + (k - kb) * len);
      // Local clamping is the volume's: the block starts at plane 0 or r planes before k0.
      this.k.gaussLines(a, b, len, lines, k0 - kb, k1 - kb, w, r);
      for (let k = k0; k < k1; k++) {
        const o = (b >> 2) + (k - kb) * len;
        dst.set(mem.subarray(o, o + len), k * plane + p0);
      }
    }
  }

  /** Exact median of the 3×3×3 box (edges replicated) for output slices [k0, k1): src → dst. */
  median27(src: Float32Array, dst: Float32Array, nx: number, ny: number, nz: number, k0: number, k1: number): void {
    const plane = nx * ny;
    const l = this.layout();
    const slots = [l.floats(plane), l.floats(plane), l.floats(plane)];
    const out = l.floats(plane);
    const scratch = l.floats(9 * (nx + 8));
    const mem = this.ensure(l);
    const held = [-1, -1, -1];
    const slice = (k: number): number => {
      const c = k < 0 ? 0 : k >= nz ? nz - 1 : k;
      const s = c % 3;
      if (held[s] !== c) {
        mem.set(src.subarray(c * plane, (c + 1) * plane), slots[s] >> 2);
        held[s] = c;
      }
      return slots[s];
    };
    for (let k = k0; k < k1; k++) {
      this.k.median27Slice(slice(k - 1), slice(k), slice(k + 1), out, nx, ny, scratch);
      dst.set(mem.subarray(out >> 2, (out >> 2) + plane), k * plane);
    }
  }

  /**
   * Surface voxels of the 0/1 byte mask `m` (grid `dims`) inside the box from `lo` of size
   * `size`, box slices [k0, k1), into `dst` on the box's grid (kernels.ts surfaceInBoxSlab
   * is the same); returns their count.
   */
  surfaceInBox(m: Uint8Array, dst: Uint8Array, dims: readonly number[], lo: readonly number[], size: readonly number[], k0: number, k1: number): number {
    const [nx, ny, nz] = dims;
    const plane = nx * ny;
    const boxPlane = size[0] * size[1];
    const l = this.layout();
    const slots = [l.floats(plane / 4 + 1), l.floats(plane / 4 + 1), l.floats(plane / 4 + 1)];
    const out = l.floats(boxPlane / 4 + 1);
    this.ensure(l);
    const bytes = new Uint8Array(this.k.memory.buffer);
    const held = [-1, -1, -1];
    const slice = (k: number): number => {
      const c = k < 0 ? 0 : k >= nz ? nz - 1 : k;
      const s = c % 3;
      if (held[s] !== c) {
        bytes.set(m.subarray(c * plane, (c + 1) * plane), slots[s]);
        held[s] = c;
      }
      return slots[s];
    };
    let count = 0;
    for (let kb = k0; kb < k1; kb++) {
      const k = kb + lo[2];
      const face = k === 0 || k === nz - 1 ? 1 : 0;
      const m1 = slice(k);
      const m0 = face ? m1 : slice(k - 1), m2 = face ? m1 : slice(k + 1);
      count += this.k.surfaceSlice(m0, m1, m2, out, nx, ny, lo[0], lo[1], size[0], size[1], face);
      dst.set(bytes.subarray(out, out + boxPlane), kb * boxPlane);
    }
    return count;
  }

  /**
   * One exact EDT pass (squared distances in place, or their roots with `root`) along j for
   * slices [k0, k1) (`axis` 1) or along k for rows j in [k0, k1) (`axis` 2), spacing `s` mm.
   */
  edtPass(data: Float32Array, nx: number, ny: number, nz: number, axis: 1 | 2, s: number, k0: number, k1: number, root: boolean): void {
    const plane = nx * ny;
    const n = axis === 1 ? ny : nz;
    const l = this.layout();
    const lines = l.floats(axis === 1 ? plane : nz * nx);
    const scratch = l.floats(16 * (n + 9) * 3 + 2 * (n + 1) + n); // see edtLines (EDT_BLOCK = 16)
    const mem = this.ensure(l);
    const at = lines >> 2;
    for (let c = k0; c < k1; c++) {
      if (axis === 1) {
        // One slice: its nx columns of ny values.
        mem.set(data.subarray(c * plane, (c + 1) * plane), at);
        this.k.edtLines(lines, ny, nx, nx, s, scratch, root ? 1 : 0);
        data.set(mem.subarray(at, at + plane), c * plane);
      } else {
        // Row j of every slice, gathered as nz lines of nx: nx lines of nz values across them.
        for (let k = 0; k < nz; k++) mem.set(data.subarray(k * plane + c * nx, k * plane + (c + 1) * nx), at + k * nx);
        this.k.edtLines(lines, nz, nx, nx, s, scratch, root ? 1 : 0);
        for (let k = 0; k < nz; k++) data.set(mem.subarray(at + k * nx, at + (k + 1) * nx), k * plane + c * nx);
      }
    }
  }
}

let cached: SimdKernels | null | undefined;

function disabledByEnv(): boolean {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env?.LATTICE_SIMD === '0';
}

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(s.length));
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** This thread's SIMD kernels, or null where WebAssembly SIMD is not available (or disabled). */
export function simdKernels(): SimdKernels | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (disabledByEnv() || typeof WebAssembly === 'undefined') return cached;
  try {
    const mod = new WebAssembly.Module(decode(KERNELS_WASM_BASE64));
    const inst = new WebAssembly.Instance(mod, { env: { abort: () => { throw new Error('analysis wasm: abort'); } } });
    cached = new SimdKernels(inst.exports as unknown as KernelExports);
  } catch {
    cached = null; // no SIMD (old engine) or compilation refused: the JavaScript loops run
  }
  return cached;
}
