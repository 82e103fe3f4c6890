/**
 * Processing operations against independently computed answers: small hand-made volumes
 * with known results, and brute-force references written here (voxel by voxel, straight
 * from the definitions) for morphology, components and Otsu.
 */
import { describe, expect, it } from 'vitest';
import type { Mat3, Vec3, Volume, VoxelArray, VoxelType } from '../src-shared/image/volume';
import { indexToWorld, lpsToRas } from '../src-shared/geometry/geometry';
import { geometryToNiftiAffine, niftiAffineToGeometry } from '../src-shared/geometry/nifti-transform';
import {
  alignCentres,
  applyMask,
  combineMasks,
  cropVolume,
  fillHoles,
  gridCentre,
  largestComponent,
  morphology,
  otsuThreshold,
  runProcessingJob,
  processingJobKinds,
  processingJobParams,
  threshold,
  worldBoxToVoxelBox,
  OperationCancelledError,
} from '../src-shared/processing';

function vol(dims: Vec3, data: VoxelArray, type: VoxelType, extra: Partial<Volume> = {}): Volume {
  return {
    dims,
    spacing: [1, 1, 1],
    origin: [0, 0, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    data,
    voxelType: type,
    frames: 1,
    rescaleSlope: 1,
    rescaleIntercept: 0,
    metadata: {},
    ...extra,
  };
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** Deterministic pseudo-random numbers (tests must not flake). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomMask(dims: Vec3, p: number, seed: number): Volume {
  const r = rng(seed);
  const d = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let i = 0; i < d.length; i++) d[i] = r() < p ? 1 : 0;
  return vol(dims, d, 'uint8');
}

/** Blobby random mask: random seeds grown into small balls (closer to real masks). */
function blobMask(dims: Vec3, blobs: number, seed: number): Volume {
  const r = rng(seed);
  const [nx, ny, nz] = dims;
  const d = new Uint8Array(nx * ny * nz);
  for (let b = 0; b < blobs; b++) {
    const c = [r() * nx, r() * ny, r() * nz];
    const rad = 1 + r() * 3;
    for (let z = 0; z < nz; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++) if ((x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2 <= rad * rad) d[(z * ny + y) * nx + x] = 1;
  }
  return vol(dims, d, 'uint8');
}

// ------------------------------------------------------------------------------------
// Brute-force references.

function bruteMorph(m: Volume, op: 'dilate' | 'erode', shape: 'ball' | 'box', rad: Vec3): Uint8Array {
  const [nx, ny, nz] = m.dims;
  const [rx, ry, rz] = rad;
  const offs: Vec3[] = [];
  for (let dz = -rz; dz <= rz; dz++)
    for (let dy = -ry; dy <= ry; dy++)
      for (let dx = -rx; dx <= rx; dx++) {
        if (shape === 'ball') {
          const q = (rx ? (dx / rx) ** 2 : dx === 0 ? 0 : Infinity) + (ry ? (dy / ry) ** 2 : dy === 0 ? 0 : Infinity) + (rz ? (dz / rz) ** 2 : dz === 0 ? 0 : Infinity);
          if (q > 1 + 1e-12) continue;
        }
        offs.push([dx, dy, dz]);
      }
  const out = new Uint8Array(m.data.length);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        let v = op === 'dilate' ? 0 : 1;
        for (const [dx, dy, dz] of offs) {
          const X = x + dx;
          const Y = y + dy;
          const Z = z + dz;
          const inside = X >= 0 && X < nx && Y >= 0 && Y < ny && Z >= 0 && Z < nz;
          // Outside: background for dilation, foreground for erosion (ITK's convention).
          const s = inside ? (m.data[(Z * ny + Y) * nx + X] !== 0 ? 1 : 0) : op === 'dilate' ? 0 : 1;
          if (op === 'dilate' && s) v = 1;
          if (op === 'erode' && !s) v = 0;
        }
        out[(z * ny + y) * nx + x] = v;
      }
  return out;
}

function neighbourOffsets(conn: 6 | 18 | 26, sliceWise = false): Vec3[] {
  const o: Vec3[] = [];
  for (let dz = -1; dz <= 1; dz++)
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        const k = Math.abs(dx) + Math.abs(dy) + Math.abs(dz);
        if (k === 0 || (sliceWise && dz !== 0)) continue;
        if (conn === 6 && k > 1) continue;
        if (conn === 18 && k > 2) continue;
        o.push([dx, dy, dz]);
      }
  return o;
}

/** Breadth-first labelling of voxels equal to `value` (1-based labels, 0 = other). */
function bruteLabels(data: ArrayLike<number>, dims: Vec3, value: 0 | 1, conn: 6 | 18 | 26, sliceWise = false): { labels: Int32Array; sizes: number[] } {
  const [nx, ny, nz] = dims;
  const labels = new Int32Array(nx * ny * nz);
  const sizes = [0];
  const offs = neighbourOffsets(conn, sliceWise);
  const is = (i: number) => (data[i] !== 0 ? 1 : 0) === value;
  for (let start = 0; start < labels.length; start++) {
    if (!is(start) || labels[start]) continue;
    const lab = sizes.length;
    sizes.push(0);
    const queue = [start];
    labels[start] = lab;
    while (queue.length) {
      const i = queue.pop()!;
      sizes[lab]++;
      const x = i % nx;
      const y = Math.floor(i / nx) % ny;
      const z = Math.floor(i / (nx * ny));
      for (const [dx, dy, dz] of offs) {
        const X = x + dx;
        const Y = y + dy;
        const Z = z + dz;
        if (X < 0 || X >= nx || Y < 0 || Y >= ny || Z < 0 || Z >= nz) continue;
        const j = (Z * ny + Y) * nx + X;
        if (is(j) && !labels[j]) {
          labels[j] = lab;
          queue.push(j);
        }
      }
    }
  }
  return { labels, sizes };
}

// ------------------------------------------------------------------------------------

describe('threshold', () => {
  const data = new Int16Array([-1000, 0, 59, 60, 61, 100, 200, 3000]);
  const v = vol([8, 1, 1], data, 'int16');

  it('makes the issue example mask: ≤ 60 → 0, others → 1', () => {
    const m = threshold(v, { lower: 60, lowerInclusive: false });
    expect(m.voxelType).toBe('uint8');
    expect(Array.from(m.data)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(m.dims).toEqual(v.dims);
  });

  it('applies inclusive/exclusive bounds and writes chosen inside/outside values', () => {
    expect(Array.from(threshold(v, { lower: 59, upper: 100 }).data)).toEqual([0, 0, 1, 1, 1, 1, 0, 0]);
    expect(Array.from(threshold(v, { lower: 59, upper: 100, upperInclusive: false }).data)).toEqual([0, 0, 1, 1, 1, 0, 0, 0]);
    const w = threshold(v, { upper: 60, inside: 7, outside: 300 });
    expect(w.voxelType).toBe('int16');
    expect(Array.from(w.data)).toEqual([7, 7, 7, 7, 300, 300, 300, 300]);
  });

  it('keeps the image value inside (MeVisLab "image" write mode)', () => {
    const w = threshold(v, { lower: 0, upper: 200, inside: 'image', outside: -5 });
    expect(w.voxelType).toBe('int16');
    expect(Array.from(w.data)).toEqual([-5, 0, 59, 60, 61, 100, 200, -5]);
    // A non-representable outside value forces real-valued float output.
    const f = threshold(v, { lower: 0, inside: 'image', outside: 0.5 });
    expect(f.voxelType).toBe('float32');
    expect(Array.from(f.data)).toEqual([0.5, 0, 59, 60, 61, 100, 200, 3000]);
  });

  it('uses relative bounds on the real range and honours rescale slope/intercept', () => {
    // range -1000..3000: 0.25 → 0
    expect(Array.from(threshold(v, { lower: 0.25, relative: true }).data)).toEqual([0, 1, 1, 1, 1, 1, 1, 1]);
    // Stored 0..7 with slope -2, intercept 10 → real 10, 8, …, -4.
    const s = vol([8, 1, 1], new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]), 'uint8', { rescaleSlope: -2, rescaleIntercept: 10 });
    expect(Array.from(threshold(s, { lower: 0, upper: 6 }).data)).toEqual([0, 0, 1, 1, 1, 1, 0, 0]);
    expect(Array.from(threshold(s, { lower: 0, lowerInclusive: false, upper: 6 }).data)).toEqual([0, 0, 1, 1, 1, 0, 0, 0]);
    const f = vol([4, 1, 1], new Float32Array([0.1, 0.5, 0.50001, 2]), 'float32');
    expect(Array.from(threshold(f, { lower: 0.5, lowerInclusive: false }).data)).toEqual([0, 0, 1, 1]);
  });

  it('matches a direct evaluation for every integer type, inverted masks and bounds beyond the type', () => {
    const r = rng(11);
    const types: [VoxelType, new (n: number) => VoxelArray, number, number][] = [
      ['uint8', Uint8Array, 0, 255], ['int8', Int8Array, -128, 127], ['uint16', Uint16Array, 0, 65535],
      ['int16', Int16Array, -32768, 32767], ['int32', Int32Array, -1e6, 1e6], ['uint32', Uint32Array, 0, 4e9],
    ];
    for (const [type, C, lo, hi] of types) {
      const d = new C(1001);
      for (let i = 0; i < d.length; i++) d[i] = Math.round(lo + r() * (hi - lo));
      d[0] = lo;
      d[1] = hi;
      const v = vol([1001, 1, 1], d, type);
      const bounds: [number | undefined, number | undefined][] = [[lo + (hi - lo) / 3, hi - (hi - lo) / 4], [lo - 1e7, undefined], [undefined, hi + 1e7], [lo, lo], [hi, lo]];
      for (const [a, b] of bounds) {
        const inside = (x: number) => (a === undefined || x >= a) && (b === undefined || x <= b);
        expect(Array.from(threshold(v, { lower: a, upper: b }).data)).toEqual(Array.from(d, (x) => (inside(x) ? 1 : 0)));
        expect(Array.from(threshold(v, { lower: a, upper: b, inside: 0, outside: 1 }).data)).toEqual(Array.from(d, (x) => (inside(x) ? 0 : 1)));
        expect(Array.from(threshold(v, { lower: a, upper: b, inside: 3, outside: 200 }).data)).toEqual(Array.from(d, (x) => (inside(x) ? 3 : 200)));
      }
    }
  });

  it('handles lengths that are not multiples of 4 and unaligned views', () => {
    const buf = new Int16Array(1 + 103);
    for (let i = 0; i < buf.length; i++) buf[i] = i % 7;
    const view = buf.subarray(1);
    const m = threshold(vol([103, 1, 1], view, 'int16'), { lower: 3 });
    for (let i = 0; i < 103; i++) expect(m.data[i]).toBe(view[i] >= 3 ? 1 : 0);
  });
});

describe('Otsu', () => {
  function bruteOtsu(values: number[]): number {
    // Every split between consecutive distinct values; classes ≤ t and > t.
    const distinct = [...new Set(values)].sort((a, b) => a - b);
    let best = -1;
    let bestT = NaN;
    for (const t of distinct.slice(0, -1)) {
      const c0 = values.filter((v) => v <= t);
      const c1 = values.filter((v) => v > t);
      const m0 = c0.reduce((a, b) => a + b, 0) / c0.length;
      const m1 = c1.reduce((a, b) => a + b, 0) / c1.length;
      const between = (c0.length / values.length) * (c1.length / values.length) * (m0 - m1) ** 2;
      if (between > best + 1e-12) {
        best = between;
        bestT = t;
      }
    }
    return bestT;
  }

  it('matches a brute-force search on a bimodal integer image', () => {
    const r = rng(7);
    const d = new Int16Array(2000);
    for (let i = 0; i < d.length; i++) d[i] = i % 3 === 0 ? Math.round(40 + 15 * r()) : Math.round(100 + 30 * r());
    const v = vol([20, 10, 10], d, 'int16', { rescaleSlope: 2, rescaleIntercept: -10 });
    const real = Array.from(d, (x) => x * 2 - 10);
    expect(otsuThreshold(v).threshold).toBe(bruteOtsu(real));
    // The CLI's default mask from it: value > threshold.
    const res = runProcessingJob('processing.otsu', {}, [v]);
    const t = res.values!.threshold as number;
    for (let i = 0; i < d.length; i++) expect(res.volumes[0].data[i]).toBe(real[i] > t ? 1 : 0);
  });

  it('refuses a constant image', () => {
    expect(() => otsuThreshold(vol([2, 2, 1], new Int16Array(4), 'int16'))).toThrow(/constant/);
  });
});

describe('mask', () => {
  it('keeps the original inside and writes the background outside', () => {
    const img = vol([3, 2, 1], new Int16Array([-1000, 5, 60, 61, 2000, -3]), 'int16', { rescaleSlope: 1, rescaleIntercept: 0 });
    const m = vol([3, 2, 1], new Uint8Array([0, 1, 0, 1, 1, 0]), 'uint8');
    expect(Array.from(applyMask(img, m).data)).toEqual([0, 5, 0, 61, 2000, 0]);
    const b = applyMask(img, m, { background: -1024 });
    expect(b.voxelType).toBe('int16');
    expect(Array.from(b.data)).toEqual([-1024, 5, -1024, 61, 2000, -1024]);
  });

  it('masks every frame of a 4D image and long runs across word boundaries', () => {
    const n = 37 * 5;
    const img = vol([37, 5, 1], new Uint16Array(n * 2).map((_, i) => i + 1), 'uint16', { frames: 2 });
    const md = new Uint8Array(n).map((_, i) => (i % 37 > 9 && i % 37 < 30 ? 1 : 0));
    const out = applyMask(img, vol([37, 5, 1], md, 'uint8'), { background: 9 });
    for (let i = 0; i < 2 * n; i++) expect(out.data[i]).toBe(md[i % n] ? i + 1 : 9);
  });

  it('writes real values when the background cannot be stored', () => {
    const img = vol([2, 1, 1], new Uint8Array([10, 20]), 'uint8', { rescaleSlope: 0.5, rescaleIntercept: 1 });
    const out = applyMask(img, vol([2, 1, 1], new Uint8Array([1, 0]), 'uint8'), { background: -7.25 });
    expect(out.voxelType).toBe('float32');
    expect(Array.from(out.data)).toEqual([6, -7.25]);
  });

  it('refuses a mask on another grid, naming the sizes', () => {
    const img = vol([2, 2, 1], new Int16Array(4), 'int16');
    expect(() => applyMask(img, vol([2, 1, 1], new Uint8Array(2), 'uint8'))).toThrow(/2×2×1 and 2×1×1/);
    expect(() => applyMask(img, vol([2, 2, 1], new Uint8Array(4), 'uint8', { origin: [5, 0, 0] }))).toThrow(/different positions/);
  });
});

describe('morphology (against a brute-force reference)', () => {
  const cases: { shape: 'ball' | 'box'; r: Vec3 }[] = [
    { shape: 'ball', r: [1, 1, 1] },
    { shape: 'ball', r: [2, 2, 2] },
    { shape: 'ball', r: [3, 3, 3] },
    { shape: 'ball', r: [3, 2, 1] },
    { shape: 'ball', r: [2, 0, 1] },
    { shape: 'box', r: [1, 1, 1] },
    { shape: 'box', r: [2, 1, 0] },
  ];
  const m = blobMask([19, 15, 11], 10, 3);
  const noisy = randomMask([13, 12, 9], 0.3, 5);

  for (const { shape, r } of cases) {
    it(`dilates and erodes with a ${shape} of radii ${r.join(',')}`, () => {
      for (const src of [m, noisy]) {
        expect(Array.from(morphology(src, 'dilate', { shape, radius: r }).data)).toEqual(Array.from(bruteMorph(src, 'dilate', shape, r)));
        expect(Array.from(morphology(src, 'erode', { shape, radius: r }).data)).toEqual(Array.from(bruteMorph(src, 'erode', shape, r)));
      }
    });
  }

  it('has the textbook ball of radius 3 (123 voxels) and erodes it back to one voxel', () => {
    const d = new Uint8Array(9 * 9 * 9);
    d[(4 * 9 + 4) * 9 + 4] = 1;
    const dil = morphology(vol([9, 9, 9], d, 'uint8'), 'dilate', { shape: 'ball', radius: 3 });
    expect(sum(dil.data)).toBe(123);
    const back = morphology(dil, 'erode', { shape: 'ball', radius: 3 });
    expect(Array.from(back.data)).toEqual(Array.from(d));
  });

  it('composes iterations, opening and closing from the brute-force steps', () => {
    const el = { shape: 'ball' as const, radius: [1, 1, 1] as Vec3 };
    const dd = bruteMorph(vol(m.dims, bruteMorph(m, 'dilate', 'ball', [1, 1, 1]), 'uint8'), 'dilate', 'ball', [1, 1, 1]);
    expect(Array.from(morphology(m, 'dilate', { ...el, iterations: 2 }).data)).toEqual(Array.from(dd));
    const opened = bruteMorph(vol(m.dims, bruteMorph(m, 'erode', 'ball', [2, 2, 2]), 'uint8'), 'dilate', 'ball', [2, 2, 2]);
    expect(Array.from(morphology(m, 'open', { shape: 'ball', radius: 2 }).data)).toEqual(Array.from(opened));
    const closed = bruteMorph(vol(noisy.dims, bruteMorph(noisy, 'dilate', 'box', [1, 1, 1]), 'uint8'), 'erode', 'box', [1, 1, 1]);
    expect(Array.from(morphology(noisy, 'close', { shape: 'box', radius: 1 }).data)).toEqual(Array.from(closed));
  });

  it('treats non-0/1 values as foreground and keeps the geometry', () => {
    const g = { spacing: [0.5, 2, 3] as Vec3, origin: [1, 2, 3] as Vec3, direction: [0, 1, 0, -1, 0, 0, 0, 0, 1] as Mat3 };
    const src = vol([4, 1, 1], new Uint8Array([0, 255, 0, 0]), 'uint8', g);
    const out = morphology(src, 'dilate', { shape: 'box', radius: 1 });
    expect(Array.from(out.data)).toEqual([1, 1, 1, 0]);
    expect(out.spacing).toEqual(g.spacing);
    expect(out.origin).toEqual(g.origin);
    expect(out.direction).toEqual(g.direction);
  });
});

describe('connected components (against breadth-first labelling)', () => {
  for (const conn of [6, 18, 26] as const) {
    it(`keeps the largest ${conn}-connected component`, () => {
      for (const seed of [1, 2, 3]) {
        const m = randomMask([14, 12, 8], 0.35, seed);
        const { labels, sizes } = bruteLabels(m.data, m.dims, 1, conn);
        let best = 1;
        for (let l = 2; l < sizes.length; l++) if (sizes[l] > sizes[best]) best = l;
        const r = largestComponent(m, { connectivity: conn });
        expect(r.components).toBe(sizes.length - 1);
        expect(r.voxels).toBe(sizes[best]);
        expect(Array.from(r.mask.data)).toEqual(Array.from(labels, (l) => (l === best ? 1 : 0)));
      }
    });
  }

  it('fills holes that do not reach the border (reference: flood from the border)', () => {
    for (const conn of [6, 26] as const) {
      for (const seed of [4, 5]) {
        const m = randomMask([12, 11, 10], 0.55, seed);
        const { labels } = bruteLabels(m.data, m.dims, 0, conn);
        const [nx, ny, nz] = m.dims;
        const touching = new Set<number>();
        for (let z = 0; z < nz; z++)
          for (let y = 0; y < ny; y++)
            for (let x = 0; x < nx; x++) {
              const l = labels[(z * ny + y) * nx + x];
              if (l && (x === 0 || y === 0 || z === 0 || x === nx - 1 || y === ny - 1 || z === nz - 1)) touching.add(l);
            }
        const expected = Array.from(m.data, (v, i) => (v || !touching.has(labels[i]) ? 1 : 0));
        const r = fillHoles(m, { connectivity: conn });
        expect(Array.from(r.mask.data)).toEqual(expected);
        expect(r.filled).toBe(sum(expected) - sum(m.data));
      }
    }
  });

  it('fills a hollow cube, but not a cavity with a tunnel to the outside; slice-wise fills per slice', () => {
    const n = 7;
    const d = new Uint8Array(n * n * n);
    const at = (x: number, y: number, z: number) => (z * n + y) * n + x;
    for (let z = 1; z < 6; z++) for (let y = 1; y < 6; y++) for (let x = 1; x < 6; x++) d[at(x, y, z)] = x === 1 || x === 5 || y === 1 || y === 5 || z === 1 || z === 5 ? 1 : 0;
    const filled = fillHoles(vol([n, n, n], d, 'uint8'));
    expect(filled.filled).toBe(27);
    const tunnel = d.slice();
    tunnel[at(3, 3, 5)] = 0; // opening in the top face
    tunnel[at(3, 3, 6)] = 0;
    expect(fillHoles(vol([n, n, n], tunnel, 'uint8')).filled).toBe(0);
    // Slice by slice the tunnel does not matter: slices 2..4 are rings with 9 inside each,
    // and the tunnel's voxel in the top face (slice 5) is itself a 2D hole.
    expect(fillHoles(vol([n, n, n], tunnel, 'uint8'), { sliceWise: true }).filled).toBe(28);
    // A single 2D slice: the ring's inside is a hole.
    const ring = new Uint8Array(25);
    for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) ring[y * 5 + x] = x === 0 || x === 4 || y === 0 || y === 4 ? 1 : 0;
    expect(fillHoles(vol([5, 5, 1], ring, 'uint8')).filled).toBe(9);
  });
});

describe('combine', () => {
  it('computes union, intersection, difference and xor', () => {
    const a = vol([4, 1, 1], new Uint8Array([0, 1, 0, 1]), 'uint8');
    const b = vol([4, 1, 1], new Uint8Array([0, 0, 1, 1]), 'uint8');
    const c = vol([4, 1, 1], new Uint8Array([1, 0, 0, 5]), 'uint8');
    expect(Array.from(combineMasks('union', [a, b]).data)).toEqual([0, 1, 1, 1]);
    expect(Array.from(combineMasks('intersection', [a, b]).data)).toEqual([0, 0, 0, 1]);
    expect(Array.from(combineMasks('difference', [a, b]).data)).toEqual([0, 1, 0, 0]);
    expect(Array.from(combineMasks('xor', [a, b]).data)).toEqual([0, 1, 1, 0]);
    expect(Array.from(combineMasks('union', [a, b, c]).data)).toEqual([1, 1, 1, 1]);
    expect(Array.from(combineMasks('difference', [b, a, c]).data)).toEqual([0, 0, 1, 0]);
    expect(() => combineMasks('union', [a])).toThrow(/two masks/);
  });
});

describe('crop keeps world alignment', () => {
  it('reproduces the worked example (512×512×175, nibabel [103:381, 160:340, :])', () => {
    // srow_x/y/z are float32 in the file: 249.51172 is stored as 249.51171875 (the issue
    // prints it rounded), which is what gives the exact expected origin.
    const sform = [-0.9765625, 0, 0, 249.51172, 0, 0.9765625, 0, -33.01172, 0, 0, 2, -553.5, 0, 0, 0, 1].map(Math.fround);
    const g = niftiAffineToGeometry(sform, [512, 512, 175]);
    // A small stand-in for the voxels: only the geometry matters here, but the copy is checked too.
    const img: Volume = { ...g, data: new Int16Array(512 * 512 * 175), voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
    img.data[(170 * 512 + 200) * 512 + 150] = 1234;
    const out = cropVolume(img, { start: [103, 160, 0], end: [381, 340, 175] });
    expect(out.dims).toEqual([278, 180, 175]);
    const affine = geometryToNiftiAffine(out);
    const ras = [affine[3], affine[7], affine[11]];
    expect(ras[0]).toBeCloseTo(148.92578125, 9);
    expect(ras[1]).toBeCloseTo(123.23828125, 9);
    expect(ras[2]).toBeCloseTo(-553.5, 9);
    expect(lpsToRas(out.origin)[0]).toBeCloseTo(148.92578125, 9);
    // Linear part unchanged.
    for (const k of [0, 1, 2, 4, 5, 6, 8, 9, 10]) expect(affine[k]).toBeCloseTo(sform[k], 12);
    expect(out.data[(170 * 180 + 40) * 278 + 47]).toBe(1234);
  });

  it('keeps every voxel at its world position on an oblique, anisotropic 4D volume', () => {
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const dir: Mat3 = [c, 0, s, s * Math.sin(0.2), Math.cos(0.2), -c * Math.sin(0.2), -s * Math.cos(0.2), Math.sin(0.2), c * Math.cos(0.2)];
    const dims: Vec3 = [9, 8, 7];
    const n = 9 * 8 * 7;
    const data = new Float32Array(n * 2).map((_, i) => i * 0.5);
    const img = vol(dims, data, 'float32', { spacing: [0.7, 1.3, 2.9], origin: [-12, 30, 7.5], direction: dir, frames: 2 });
    const box = { start: [2, 1, 3] as Vec3, end: [7, 8, 5] as Vec3 };
    const out = cropVolume(img, box);
    expect(out.dims).toEqual([5, 7, 2]);
    expect(out.frames).toBe(2);
    for (let f = 0; f < 2; f++)
      for (let k = 0; k < 2; k++)
        for (let j = 0; j < 7; j++)
          for (let i = 0; i < 5; i++) {
            const src: Vec3 = [i + 2, j + 1, k + 3];
            const w0 = indexToWorld(img, src);
            const w1 = indexToWorld(out, [i, j, k]);
            for (let a = 0; a < 3; a++) expect(w1[a]).toBeCloseTo(w0[a], 10);
            expect(out.data[((f * 2 + k) * 7 + j) * 5 + i]).toBe(img.data[((f * 7 + src[2]) * 8 + src[1]) * 9 + src[0]]);
          }
    // A world box around voxel centres gives back the voxel box (for an axis-aligned image exactly).
    const axis = vol(dims, new Uint8Array(n), 'uint8', { spacing: [0.7, 1.3, 2.9], origin: [-12, 30, 7.5] });
    const a = indexToWorld(axis, [2, 1, 3]);
    const b = indexToWorld(axis, [6, 7, 4]);
    expect(worldBoxToVoxelBox(axis, [a[0] - 0.2, a[1] - 0.5, a[2] - 1], [b[0] + 0.2, b[1] + 0.5, b[2] + 1])).toEqual(box);
    // Oblique: the box contains every voxel whose centre is inside the world box.
    const wa = indexToWorld(img, [2, 1, 3]);
    const wb = indexToWorld(img, [6, 7, 4]);
    const lo = wa.map((v, i) => Math.min(v, wb[i])) as Vec3;
    const hi = wa.map((v, i) => Math.max(v, wb[i])) as Vec3;
    const vb = worldBoxToVoxelBox(img, lo, hi);
    for (let k = 0; k < 7; k++)
      for (let j = 0; j < 8; j++)
        for (let i = 0; i < 9; i++) {
          const w = indexToWorld(img, [i, j, k]);
          if (w.every((v, a2) => v >= lo[a2] - 1e-9 && v <= hi[a2] + 1e-9)) {
            expect(i >= vb.start[0] && i < vb.end[0] && j >= vb.start[1] && j < vb.end[1] && k >= vb.start[2] && k < vb.end[2]).toBe(true);
          }
        }
  });

  it('rejects empty and out-of-range boxes', () => {
    const img = vol([4, 4, 4], new Uint8Array(64), 'uint8');
    expect(() => cropVolume(img, { start: [0, 0, 0], end: [5, 4, 4] })).toThrow(/outside the image/);
    expect(() => cropVolume(img, { start: [2, 0, 0], end: [2, 4, 4] })).toThrow(/empty/);
    expect(() => worldBoxToVoxelBox(img, [10, 10, 10], [20, 20, 20])).toThrow(/does not contain/);
  });
});

describe('align centres and resample', () => {
  const dirA: Mat3 = [0, -1, 0, 1, 0, 0, 0, 0, 1];
  const fixed = vol([10, 20, 5], new Uint8Array(1000), 'uint8', { spacing: [1, 0.5, 3], origin: [100, -40, 12], direction: dirA });

  it('translates the moving image so both grid centres coincide', () => {
    const moving = vol([7, 9, 11], new Int16Array(693).fill(3), 'int16', { spacing: [2, 1.5, 0.8], origin: [-3, 4, 5] });
    const r = alignCentres(moving, fixed);
    const cf = gridCentre(fixed);
    const cm = gridCentre(r.volume);
    for (let a = 0; a < 3; a++) expect(cm[a]).toBeCloseTo(cf[a], 10);
    // Independent centre of the fixed grid: mean of the 8 corner voxel centres.
    let sum: Vec3 = [0, 0, 0];
    for (let c = 0; c < 8; c++) {
      const w = indexToWorld(fixed, [c & 1 ? 9 : 0, c & 2 ? 19 : 0, c & 4 ? 4 : 0]);
      sum = sum.map((v, i) => v + w[i] / 8) as Vec3;
    }
    for (let a = 0; a < 3; a++) expect(cf[a]).toBeCloseTo(sum[a], 10);
    expect(r.volume.data).toBe(moving.data);
    expect(r.volume.spacing).toEqual(moving.spacing);
    expect(moving.origin).toEqual([-3, 4, 5]);
    expect(r.translation.map((t, i) => t + moving.origin[i])).toEqual(r.volume.origin);
  });

  it('aligns intensity centres of mass in mass mode', () => {
    const d = new Uint8Array(5 * 5 * 5);
    d[(1 * 5 + 1) * 5 + 4] = 10; // single bright voxel at (4,1,1)
    const m = vol([5, 5, 5], d, 'uint8', { spacing: [2, 2, 2] });
    const f = vol([5, 5, 5], d.slice().fill(0).map((_, i) => (i === (3 * 5 + 2) * 5 + 0 ? 4 : 0)), 'uint8', { origin: [50, 0, 0] });
    const r = alignCentres(m, f, 'mass');
    expect(indexToWorld(r.volume, [4, 1, 1])).toEqual(indexToWorld(f, [0, 2, 3]));
  });

  it('resamples onto another grid (nearest keeps the integer type)', () => {
    const src = vol([4, 4, 1], new Int16Array(16).map((_, i) => i * 10), 'int16');
    const ref = vol([2, 2, 1], new Uint8Array(4), 'uint8', { origin: [1, 2, 0], spacing: [2, 1, 1] });
    const r = runProcessingJob('processing.resample', { interpolation: 'nearest', fill: -1 }, [src, ref]);
    expect(r.volumes[0].voxelType).toBe('int16');
    expect(r.volumes[0].dims).toEqual([2, 2, 1]);
    // ref voxel (i,j) sits at world (1+2i, 2+j) = src index (1+2i, 2+j).
    expect(Array.from(r.volumes[0].data)).toEqual([90, 110, 130, 150]);
    const lin = runProcessingJob('processing.resample', {}, [src, { ...ref, origin: [0.5, 2, 0] } as Volume]);
    expect(lin.volumes[0].voxelType).toBe('float32');
    expect(lin.volumes[0].data[0]).toBeCloseTo(85, 5);
  });
});

describe('job kinds', () => {
  it('publishes one parameter schema per job kind', () => {
    expect(Object.keys(processingJobParams).sort()).toEqual(Object.keys(processingJobKinds).sort());
    for (const [k, def] of Object.entries(processingJobKinds)) expect(def.params).toBe(processingJobParams[k as keyof typeof processingJobParams]);
  });

  it('validates parameters and input counts with clear messages', () => {
    const m = vol([2, 2, 2], new Uint8Array(8), 'uint8');
    expect(() => runProcessingJob('processing.morphology', { operation: 'dilate', radius: -1 }, [m])).toThrow(/processing.morphology: invalid parameters: radius/);
    expect(() => runProcessingJob('processing.mask', {}, [m])).toThrow(/expects 2 input/);
    expect(() => runProcessingJob('processing.nope', {}, [m])).toThrow(/unknown processing job/);
  });

  it('reports monotone progress and stops when aborted', () => {
    const m = blobMask([40, 40, 40], 30, 9);
    const seen: number[] = [];
    morphology(m, 'close', { shape: 'ball', radius: 2, iterations: 2 }, { onProgress: (f) => seen.push(f) });
    expect(seen.length).toBeGreaterThan(5);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
    expect(seen[seen.length - 1]).toBe(1);
    let calls = 0;
    const flag = { aborted: false };
    expect(() =>
      morphology(m, 'dilate', { shape: 'ball', radius: 2, iterations: 5 }, { signal: flag, onProgress: () => { if (++calls === 3) flag.aborted = true; } }),
    ).toThrow(OperationCancelledError);
  });
});
