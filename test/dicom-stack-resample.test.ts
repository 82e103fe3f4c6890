/**
 * Uneven slice spacing and gantry tilt, tested against the DICOM itself (dcm2niix is wrong
 * there, data README "Known problems"): every resampled voxel (_Eq_1, _Tilt_1,
 * _Tilt_Eq_1, and the viewer's volume) must equal linear interpolation along the slice
 * normal between the two nearest acquired slices, each read at the foot of the voxel on
 * its plane from that file's ImagePositionPatient / ImageOrientationPatient /
 * PixelSpacing and stored × slope + intercept; the exact file holds every slice's values
 * unchanged. Plus the pure geometry on synthetic oblique, anisotropic stacks, where a
 * field linear in world position must be reproduced exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, openSync, readSync, closeSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { convertDicom, type ConvertResult } from '../src-main/dicom/convert';
import { loadDicomSeries, seriesGroup } from '../src-main/dicom/index';
import { assembleVolume } from '../src-main/dicom/assemble';
import { resampledOutputs } from '../src-main/dicom/resampled-outputs';
import { readHeader } from '../src-main/dicom/read-header';
import type { ImageRecord } from '../src-main/dicom/types';
import { readNiftiFile } from '../src-main/nifti/nifti-file';
import { indexToWorld } from '../src-shared/geometry/geometry';
import type { Mat3, Vec3, Volume } from '../src-shared/image/volume';
import { equalSpacingStep, equalSpacingTarget, isUnevenSpacing, resampleStack, slicePositions, type SliceStack } from '../src-shared/image/stack-resample';

const DATA = resolve(__dirname, '../../shared/data');
const FILE_TOL = 5e-3; // px: float32 sform positions (~1e-3 mm) over ~0.4 mm pixels
const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: number[], b: number[]): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

/** One acquired slice as the DICOM file says: geometry and real values, rows top-down. */
interface DicomSlice {
  ipp: Vec3;
  row: Vec3; // direction of increasing column index
  col: Vec3; // direction of increasing row index
  ps: [number, number]; // [between rows, between columns]
  rows: number;
  columns: number;
  real: Float64Array;
}

async function readSlices(dir: string): Promise<DicomSlice[]> {
  const out: DicomSlice[] = [];
  for (const f of readdirSync(dir).sort()) {
    const h = await readHeader(join(dir, f));
    if (h.kind !== 'images') continue;
    const r: ImageRecord = h.records[0];
    expect(r.encapsulated).toBe(false);
    const n = r.rows * r.columns;
    const buf = Buffer.alloc(n * 2);
    const fd = openSync(r.file, 'r');
    readSync(fd, buf, 0, buf.length, r.pixelOffset);
    closeSync(fd);
    const real = new Float64Array(n);
    for (let i = 0; i < n; i++) real[i] = (r.pixelRepresentation ? buf.readInt16LE(i * 2) : buf.readUInt16LE(i * 2)) * r.rescaleSlope + r.rescaleIntercept;
    out.push({ ipp: r.ipp!, row: r.iop!.slice(0, 3) as Vec3, col: r.iop!.slice(3, 6) as Vec3, ps: r.pixelSpacing!, rows: r.rows, columns: r.columns, real });
  }
  const n = cross(out[0].row, out[0].col);
  return out.sort((a, b) => dot(a.ipp, n) - dot(b.ipp, n));
}

/**
 * The DICOM truth at world point x: linear interpolation along the normal between the two
 * slices whose planes bracket x, each read bilinearly at the foot of x on its plane.
 * Undefined outside the stack or where a bracketing slice does not cover the foot.
 */
function truthAt(slices: DicomSlice[], x: Vec3): { value: number; range: number } | undefined {
  const n = cross(slices[0].row, slices[0].col);
  const d = dot(x, n);
  const pos = slices.map((s) => dot(s.ipp, n));
  if (d < pos[0] - 1e-4 || d > pos[pos.length - 1] + 1e-4) return undefined;
  let k = 0;
  while (k < slices.length - 2 && pos[k + 1] < d) k++;
  const t = slices.length === 1 ? 0 : Math.min(1, Math.max(0, (d - pos[k]) / (pos[k + 1] - pos[k])));
  let range = 0;
  const read = (s: DicomSlice): number | undefined => {
    const rel = [x[0] - s.ipp[0], x[1] - s.ipp[1], x[2] - s.ipp[2]];
    const c = dot(rel, s.row) / s.ps[1];
    const r = dot(rel, s.col) / s.ps[0];
    if (c < 0 || r < 0 || c > s.columns - 1 || r > s.rows - 1) return undefined; // keep off the edge rule
    const c0 = Math.floor(c), r0 = Math.floor(r);
    const c1 = Math.min(c0 + 1, s.columns - 1), r1 = Math.min(r0 + 1, s.rows - 1);
    const tc = c - c0, tr = r - r0;
    const v = (cc: number, rr: number) => s.real[rr * s.columns + cc];
    // Local range over the 4×4 neighbourhood (a position error can move to the next pixel).
    const q: number[] = [];
    for (let rr = Math.max(0, r0 - 1); rr <= Math.min(s.rows - 1, r0 + 2); rr++) for (let cc = Math.max(0, c0 - 1); cc <= Math.min(s.columns - 1, c0 + 2); cc++) q.push(v(cc, rr));
    range = Math.max(range, Math.max(...q) - Math.min(...q));
    const top = v(c0, r0) + tc * (v(c1, r0) - v(c0, r0));
    const bot = v(c0, r1) + tc * (v(c1, r1) - v(c0, r1));
    return top + tr * (bot - top);
  };
  const a = t > 1 - 1e-9 ? 0 : read(slices[k]);
  const b = t < 1e-9 ? 0 : read(slices[k + 1]);
  if (a === undefined || b === undefined) return undefined;
  return { value: t < 1e-9 ? a : t > 1 - 1e-9 ? b : a + t * (b - a), range };
}

/** Compares a volume with the DICOM truth at a lattice of its voxels (and all corners). */
/**
 * Tolerance: 2e-3 (float32 values) plus the local pixel-to-pixel range times the position
 * uncertainty in pixels: direction cosines written with 7 digits are not exactly unit
 * (|c|² = 1.0000001 → 5e-5 px across 512 rows), `posPx` covers that; read back from a file,
 * the float32 sform adds ~1e-3 mm.
 */
function expectMatchesTruth(v: Volume, slices: DicomSlice[], minChecked: number, posPx = 2e-4): void {
  const [nx, ny, nz] = v.dims;
  let checked = 0;
  let worst = 0;
  let where = '';
  const real = (i: number, j: number, k: number) => v.data[i + nx * (j + ny * k)] * v.rescaleSlope + v.rescaleIntercept;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j += 13)
      for (let i = 0; i < nx; i += 11) {
        const want = truthAt(slices, indexToWorld(v, [i, j, k]));
        if (want === undefined) continue;
        checked++;
        const err = Math.abs(real(i, j, k) - want.value) / (2e-3 + posPx * want.range);
        if (err > worst) (worst = err), (where = `(${i},${j},${k}): ours ${real(i, j, k)}, DICOM ${want.value} (local range ${want.range})`);
      }
  expect(checked).toBeGreaterThan(minChecked);
  expect(worst, where).toBeLessThan(1);
}

/** The stack direction of a volume spans the first to the last acquired slice. */
function expectSpansStack(v: Volume, slices: DicomSlice[]): void {
  const n = cross(slices[0].row, slices[0].col);
  const first = dot(indexToWorld(v, [0, 0, 0]), n);
  const last = dot(indexToWorld(v, [0, 0, v.dims[2] - 1]), n);
  const [lo, hi] = [Math.min(first, last), Math.max(first, last)];
  expect(lo).toBeCloseTo(dot(slices[0].ipp, n), 3);
  expect(hi).toBeCloseTo(dot(slices[slices.length - 1].ipp, n), 3);
}

const cases = [
  { name: 'ct_ge_uneven_spacing', resampled: ['_Eq_1'], uneven: true, tilted: false },
  { name: 'ct_ge_tilt_uneven_spacing', resampled: ['_Tilt_Eq_1'], uneven: true, tilted: true },
  { name: 'ct_siemens_gantry_tilt', resampled: ['_Tilt_1'], uneven: false, tilted: true },
];

describe.each(cases)('$name against its DICOM files', ({ name, resampled, uneven, tilted }) => {
  const dir = join(DATA, 'dicom', name);
  let out: string;
  let res: ConvertResult;
  let slices: DicomSlice[];
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'lattice-stack-'));
    res = await convertDicom([dir], out, { tiltCorrect: true });
    slices = await readSlices(dir);
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes one exact file holding every slice unchanged (rows bottom-up), and warns', async () => {
    expect(res.converted).toHaveLength(1);
    const c = res.converted[0];
    const v = (await readNiftiFile(c.nifti)).volume;
    const [nx, ny, nz] = v.dims;
    expect(nz).toBe(slices.length);
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j += 7)
        for (let i = 0; i < nx; i += 5) expect(v.data[i + nx * (j + ny * k)] * v.rescaleSlope + v.rescaleIntercept).toBe(slices[k].real[(ny - 1 - j) * nx + i]);
    const w = c.warnings.join('\n');
    if (uneven) expect(w).toMatch(/uneven slice spacing|missing slice/);
    if (tilted) expect(w).toMatch(/gantry tilt/);
  });

  it(`the resampled ${resampled.join(', ')} equals linear interpolation along the normal between the nearest slices, over the whole stack`, async () => {
    const c = res.converted[0];
    expect(c.resampled?.map((p) => p.replace(/\.nii$/, '').endsWith(resampled[0]))).toEqual([true]);
    const v = (await readNiftiFile(c.resampled![0])).volume;
    expectMatchesTruth(v, slices, 5000, FILE_TOL);
    expectSpansStack(v, slices);
    // The same volume in memory (before the float32 sform), to 2e-3.
    const group = await seriesGroup(res.scan, res.scan.series[0].id);
    const assembled = (await assembleVolume(group, { flipRows: true, tags: false })).volume;
    const mem = await resampledOutputs(group, assembled, { tiltCorrect: true });
    expect(mem.map((m) => m.suffix)).toEqual(resampled);
    expectMatchesTruth(mem[0].volume, slices, 5000);
    if (tilted) {
      // Tilt-corrected: slice axis along the normal.
      const n = cross(slices[0].row, slices[0].col);
      const k = [v.direction[2], v.direction[5], v.direction[8]];
      expect(Math.abs(dot(k, n)) / Math.hypot(...n)).toBeCloseTo(1, 9);
    }
  });

  it(uneven ? 'the viewer loads it resampled to equal spacing, with a warning' : 'the viewer loads the exact sheared slices', async () => {
    const { volume, warnings } = await loadDicomSeries(res.scan, res.scan.series[0].id);
    if (uneven) {
      expect(warnings.join('\n')).toMatch(/shown resampled/);
      expectSpansStack(volume, slices);
      expectMatchesTruth(volume, slices, 5000);
    } else {
      expect(volume.dims[2]).toBe(slices.length);
      expectMatchesTruth(volume, slices, 5000);
    }
  });

  it('without --tilt-correct no tilt-corrected file is written (the exact file always is)', async () => {
    const o = mkdtempSync(join(tmpdir(), 'lattice-stack-nt-'));
    try {
      const r = await convertDicom([dir], o);
      const names = (r.converted[0].resampled ?? []).map((p) => p.slice(o.length + 1));
      expect(names.some((f) => f.includes('_Tilt_'))).toBe(false);
      expect(names.length).toBe(uneven ? 1 : 0);
      if (uneven) expectMatchesTruth((await readNiftiFile(r.converted[0].resampled![0])).volume, slices, 5000, FILE_TOL);
    } finally {
      rmSync(o, { recursive: true, force: true });
    }
  });
});

describe('stack resampling geometry (synthetic oblique, anisotropic stacks)', () => {
  // Oblique in-plane axes (rotated about two axes), anisotropic pixels 0.7 × 1.3 mm.
  const ax = (25 * Math.PI) / 180;
  const ay = (-15 * Math.PI) / 180;
  const u: Vec3 = [Math.cos(ay), 0, -Math.sin(ay)];
  const w0: Vec3 = [0, Math.cos(ax), Math.sin(ax)];
  const wv = cross(cross(u, w0), u); // in the plane of u and w0, orthogonal to u
  const wl = Math.hypot(...wv);
  const w: Vec3 = [wv[0] / wl, wv[1] / wl, wv[2] / wl];
  const n = cross(u, w);
  const [nx, ny] = [9, 7];
  const spacing: [number, number] = [0.7, 1.3];
  const field = (x: number[]) => 3 + 0.5 * x[0] - 0.25 * x[1] + 2 * x[2];

  function stack(positions: number[], shiftPerMm: number): SliceStack {
    const base: Vec3 = [10, -20, 5];
    const origins = positions.map((d) => [0, 1, 2].map((r) => base[r] + d * n[r] + d * shiftPerMm * w[r]) as Vec3);
    const data = new Float32Array(nx * ny * positions.length);
    origins.forEach((o, k) => {
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) data[i + nx * (j + ny * k)] = field([0, 1, 2].map((r) => o[r] + i * spacing[0] * u[r] + j * spacing[1] * w[r]));
    });
    const along = [origins[1][0] - origins[0][0], origins[1][1] - origins[0][1], origins[1][2] - origins[0][2]];
    const al = Math.hypot(...along);
    const k: Vec3 = [along[0] / al, along[1] / al, along[2] / al];
    const direction: Mat3 = [u[0], w[0], k[0], u[1], w[1], k[1], u[2], w[2], k[2]];
    const volume: Volume = { dims: [nx, ny, positions.length], spacing: [spacing[0], spacing[1], al], origin: origins[0], direction, data, voxelType: 'float32', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
    return { volume, sliceOrigins: origins };
  }

  it('equal steps span the whole stack: uneven 2, 2, 4 mm → 5 slices of 2 mm', () => {
    expect(equalSpacingStep([0, 2, 4, 8])).toEqual({ step: 2, count: 5 });
    expect(isUnevenSpacing([0, 2, 4, 8])).toBe(true);
    expect(isUnevenSpacing([0, 2, 4, 6.0001])).toBe(false);
    // A stray near-duplicate position does not force a 0.01 mm grid.
    expect(equalSpacingStep([0, 3, 3.01, 6, 9]).count).toBe(4);
  });

  for (const [label, shift, tiltCorrect] of [
    ['uneven, untilted', 0, false],
    ['uneven, tilted 20°, shear kept', Math.tan((20 * Math.PI) / 180), false],
    ['uneven, tilted 20°, tilt-corrected', Math.tan((20 * Math.PI) / 180), true],
  ] as const) {
    it(`${label}: a field linear in world position is reproduced exactly inside the stack`, () => {
      const s = stack([0, 1.5, 3, 6.5, 7], shift);
      const target = equalSpacingTarget(s, { tiltCorrect });
      const v = resampleStack(s, target, { fill: -999 });
      const pos = slicePositions(s);
      let inside = 0;
      for (let k = 0; k < v.dims[2]; k++)
        for (let j = 0; j < v.dims[1]; j++)
          for (let i = 0; i < v.dims[0]; i++) {
            const x = indexToWorld(v, [i, j, k]);
            const val = v.data[i + v.dims[0] * (j + v.dims[1] * k)];
            if (val === -999) continue;
            // Only where both bracketing slices cover the foot (linear blend of two exact samples).
            const d = dot(x, n);
            expect(d).toBeGreaterThanOrEqual(pos[0] - 1e-6);
            expect(d).toBeLessThanOrEqual(pos[pos.length - 1] + 1e-6);
            const inFoot = s.sliceOrigins.every((o) => {
              const rel = [x[0] - o[0], x[1] - o[1], x[2] - o[2]];
              const a = dot(rel, u) / spacing[0], b = dot(rel, w) / spacing[1];
              return a >= 0 && b >= 0 && a <= nx - 1 && b <= ny - 1;
            });
            if (!inFoot) continue;
            inside++;
            expect(val).toBeCloseTo(field(x), 3);
          }
      expect(inside).toBeGreaterThan(30);
      // First and last target slices lie on the first and last acquired slices.
      expect(dot(indexToWorld(v, [0, 0, 0]), n)).toBeCloseTo(pos[0], 9);
      expect(dot(indexToWorld(v, [0, 0, v.dims[2] - 1]), n)).toBeCloseTo(pos[pos.length - 1], 9);
      if (tiltCorrect) {
        expect(Math.abs(dot([v.direction[2], v.direction[5], v.direction[8]], n))).toBeCloseTo(1, 12);
        expect(v.dims[1]).toBeGreaterThan(ny); // rows widened to hold the shifted slices
      }
    });
  }

  it('at acquired slice positions the values are the slice voxels themselves (no in-plane blur, untilted)', () => {
    const s = stack([0, 2, 4, 8], 0);
    const v = resampleStack(s, equalSpacingTarget(s, { tiltCorrect: false }));
    // Target slices 0, 1, 2, 4 are at acquired positions 0, 2, 4, 8; slice 3 is half-way.
    const src = s.volume.data;
    const per = nx * ny;
    for (const [tk, sk] of [[0, 0], [1, 1], [2, 2], [4, 3]]) for (let q = 0; q < per; q++) expect(v.data[tk * per + q]).toBe(src[sk * per + q]);
    for (let q = 0; q < per; q++) expect(v.data[3 * per + q]).toBeCloseTo((src[2 * per + q] + src[3 * per + q]) / 2, 4);
  });
});
