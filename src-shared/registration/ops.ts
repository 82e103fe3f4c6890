/**
 * The operations a registration executor can run on a slab [k0,k1) of slices, over named
 * Float32 buffers. The same table runs inline (one thread) and inside every worker thread
 * (src-main/workers/registration.ts), where the buffers live in SharedArrayBuffers.
 * Each op returns a number (or numbers) per slab; the executor hands the caller one result
 * per slab for reduction.
 */
import { gaussianHalfKernel, smoothXY, smoothZ } from './gaussian';
import {
  addScaled,
  compose,
  demonsForce,
  finalizeWarp,
  gradient,
  jacobianDeterminant,
  maxNormSq,
  scaleField,
  subsample,
  upsampleField,
  warpImage,
  type Dims,
  type ForceKind,
} from './field-kernels';

export type Buffers = Map<string, Float32Array>;

function buf(b: Buffers, name: string): Float32Array {
  const a = b.get(name);
  if (!a) throw new Error(`registration op: unknown buffer '${name}'`);
  return a;
}

function comp(a: Float32Array, c: number, n: number): Float32Array {
  return a.subarray(c * n, (c + 1) * n);
}

const kernelCache = new Map<number, Float32Array>();
function kernel(sigma: number): Float32Array {
  let k = kernelCache.get(sigma);
  if (!k) kernelCache.set(sigma, (k = gaussianHalfKernel(sigma)));
  return k;
}

export interface OpArgMap {
  /** Pass 1 of smoothing (i and j) of `comps` components: src → dst. */
  /** `linearEdges`: point-reflection edges (for displacement fields), see gaussian.ts. */
  smoothXY: { src: string; dst: string; dims: Dims; sigma: [number, number, number]; comps: number; linearEdges?: boolean };
  /** Pass 2 of smoothing (k): src → dst (distinct buffers); with add, dst += result. */
  smoothZ: { src: string; dst: string; dims: Dims; sigma: [number, number, number]; comps: number; add?: boolean; linearEdges?: boolean };
  /** warped = moving(x + field(x)); returns Σ(fixed − warped)². */
  warp: { moving: string; field: string; out: string; dims: Dims; fixed?: string };
  gradient: { src: string; out: string; dims: Dims };
  force: { fixed: string; warped: string; gradF?: string; out: string; dims: Dims; kind: ForceKind; maxStep: number; field?: string; edgeMargin?: number };
  addScaled: { d: string; u: string; scale: number; dims: Dims };
  scale: { u: string; s: number; dims: Dims };
  maxNormSq: { u: string; dims: Dims };
  compose: { d: string; v: string; out: string; dims: Dims };
  jacobian: { d: string; out?: string; dims: Dims };
  subsample: { src: string; srcDims: Dims; out: string; outDims: Dims };
  upsampleField: { src: string; srcDims: Dims; out: string; outDims: Dims };
  copy: { src: string; dst: string; dims: Dims; comps: number };
  /** Warped moving image and RAS world field through affine ∘ (id + d); see finalizeWarp. */
  finalize: {
    moving: string;
    movingDims: Dims;
    d?: string;
    dims: Dims;
    Q: number[];
    P: number[];
    I2W: number[];
    warped?: string;
    worldRas?: string;
  };
}
export type OpName = keyof OpArgMap;

type OpFn<K extends OpName> = (b: Buffers, a: OpArgMap[K], k0: number, k1: number) => number | number[];

export const OPS: { [K in OpName]: OpFn<K> } = {
  smoothXY(b, a, k0, k1) {
    const n = a.dims[0] * a.dims[1] * a.dims[2];
    const src = buf(b, a.src), dst = buf(b, a.dst);
    const kx = kernel(a.dims[0] > 1 ? a.sigma[0] : 0), ky = kernel(a.dims[1] > 1 ? a.sigma[1] : 0);
    for (let c = 0; c < a.comps; c++) smoothXY(comp(src, c, n), comp(dst, c, n), a.dims[0], a.dims[1], kx, ky, k0, k1, a.linearEdges ?? false);
    return 0;
  },
  smoothZ(b, a, k0, k1) {
    const n = a.dims[0] * a.dims[1] * a.dims[2];
    const src = buf(b, a.src), dst = buf(b, a.dst);
    const kz = kernel(a.dims[2] > 1 ? a.sigma[2] : 0);
    for (let c = 0; c < a.comps; c++) smoothZ(comp(src, c, n), comp(dst, c, n), a.dims[0], a.dims[1], a.dims[2], kz, k0, k1, a.add ?? false, a.linearEdges ?? false);
    return 0;
  },
  warp(b, a, k0, k1) {
    return warpImage(buf(b, a.moving), buf(b, a.field), buf(b, a.out), a.dims, k0, k1, a.fixed ? buf(b, a.fixed) : undefined);
  },
  gradient(b, a, k0, k1) {
    gradient(buf(b, a.src), buf(b, a.out), a.dims, k0, k1);
    return 0;
  },
  force(b, a, k0, k1) {
    demonsForce(buf(b, a.fixed), buf(b, a.warped), a.gradF ? buf(b, a.gradF) : null, buf(b, a.out), a.dims, a.kind, a.maxStep, k0, k1, a.field ? buf(b, a.field) : null, a.edgeMargin ?? 0);
    return 0;
  },
  addScaled(b, a, k0, k1) {
    addScaled(buf(b, a.d), buf(b, a.u), a.scale, a.dims, k0, k1);
    return 0;
  },
  scale(b, a, k0, k1) {
    scaleField(buf(b, a.u), a.s, a.dims, k0, k1);
    return 0;
  },
  maxNormSq(b, a, k0, k1) {
    return maxNormSq(buf(b, a.u), a.dims, k0, k1);
  },
  compose(b, a, k0, k1) {
    compose(buf(b, a.d), buf(b, a.v), buf(b, a.out), a.dims, k0, k1);
    return 0;
  },
  jacobian(b, a, k0, k1) {
    return jacobianDeterminant(buf(b, a.d), a.out ? buf(b, a.out) : null, a.dims, k0, k1);
  },
  subsample(b, a, k0, k1) {
    subsample(buf(b, a.src), a.srcDims, buf(b, a.out), a.outDims, k0, k1);
    return 0;
  },
  upsampleField(b, a, k0, k1) {
    upsampleField(buf(b, a.src), a.srcDims, buf(b, a.out), a.outDims, k0, k1);
    return 0;
  },
  copy(b, a, k0, k1) {
    const n = a.dims[0] * a.dims[1] * a.dims[2];
    const p = a.dims[0] * a.dims[1];
    const src = buf(b, a.src), dst = buf(b, a.dst);
    for (let c = 0; c < a.comps; c++) dst.set(src.subarray(c * n + k0 * p, c * n + k1 * p), c * n + k0 * p);
    return 0;
  },
  finalize(b, a, k0, k1) {
    finalizeWarp(
      buf(b, a.moving), a.movingDims, a.d ? buf(b, a.d) : null, a.dims, a.Q, a.P, a.I2W,
      a.warped ? buf(b, a.warped) : null, a.worldRas ? buf(b, a.worldRas) : null, k0, k1,
    );
    return 0;
  },
};

/** Runs one op on one slab (used by workers and by the inline executor). */
export function runOp(b: Buffers, op: OpName, args: unknown, k0: number, k1: number): number | number[] {
  const fn = OPS[op] as OpFn<OpName>;
  if (!fn) throw new Error(`registration: unknown op '${op}'`);
  return fn(b, args as never, k0, k1);
}

/**
 * Something that runs ops over slabs of slices. `run` splits [0, nSlices) into slabs and
 * resolves to one result per slab. Buffers are created through the executor so that worker
 * threads see them (SharedArrayBuffer in the pool, plain memory inline).
 */
export interface Executor {
  readonly threads: number;
  alloc(name: string, length: number): Float32Array;
  get(name: string): Float32Array;
  free(name: string): void;
  run<K extends OpName>(op: K, args: OpArgMap[K], nSlices: number): Promise<Array<number | number[]>>;
  close(): Promise<void>;
}

/** Splits [0,n) into at most `parts` contiguous, nearly equal, non-empty ranges. */
export function slabs(n: number, parts: number): Array<[number, number]> {
  const p = Math.max(1, Math.min(parts, n));
  const out: Array<[number, number]> = [];
  for (let t = 0; t < p; t++) {
    const a = Math.floor((t * n) / p), b = Math.floor(((t + 1) * n) / p);
    if (b > a) out.push([a, b]);
  }
  return out;
}

/** Single-threaded executor: runs every op inline. Used for small images and in tests. */
export class InlineExecutor implements Executor {
  readonly threads = 1;
  private readonly bufs: Buffers = new Map();
  alloc(name: string, length: number): Float32Array {
    const a = new Float32Array(length);
    this.bufs.set(name, a);
    return a;
  }
  get(name: string): Float32Array {
    return buf(this.bufs, name);
  }
  free(name: string): void {
    this.bufs.delete(name);
  }
  async run<K extends OpName>(op: K, args: OpArgMap[K], nSlices: number): Promise<Array<number | number[]>> {
    return [runOp(this.bufs, op, args, 0, nSlices)];
  }
  async close(): Promise<void> {
    this.bufs.clear();
  }
}
