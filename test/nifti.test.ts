import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import type { Mat3, Volume, VoxelType } from '../src-shared/image/volume';
import { VOXEL_ARRAY } from '../src-shared/image/volume';
import { geometryToNiftiAffine } from '../src-shared/geometry/nifti-transform';
import { mat3Multiply } from '../src-shared/geometry/mat';
import { indexToWorld } from '../src-shared/geometry/geometry';
import { encodeNifti1Header, parseNifti1, parseNifti1Header, headerQform } from '../src-shared/nifti/nifti1';
import { gzipParallel, readNiftiFile, writeNiftiFile } from '../src-main/nifti/nifti-file';

const deg = Math.PI / 180;
const rotX = (a: number): Mat3 => [1, 0, 0, 0, Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a)];
const rotZ = (a: number): Mat3 => [Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a), 0, 0, 0, 1];
const OBLIQUE_DIR = mat3Multiply(rotX(20 * deg), rotZ(-35 * deg));

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`element ${i}: ${actual[i]} vs ${expected[i]} (tol ${tol})\n${Array.from(actual)}\n${Array.from(expected)}`);
    }
  }
}

function makeVolume(type: VoxelType, dims: [number, number, number], frames = 1, extra: Partial<Volume> = {}): Volume {
  const n = dims[0] * dims[1] * dims[2] * frames;
  const data = new VOXEL_ARRAY[type](n);
  const signed = type.startsWith('int') || type.startsWith('float');
  for (let i = 0; i < n; i++) {
    const v = ((i * 2654435761) >>> 0) % 251;
    data[i] = type.startsWith('float') ? (v - 125) * 0.37 + 1e-3 * i : signed ? v - 125 : v;
  }
  // Extremes of the type must survive too.
  const extremes: Record<VoxelType, [number, number]> = {
    uint8: [0, 255], int8: [-128, 127], uint16: [0, 65535], int16: [-32768, 32767],
    uint32: [0, 4294967295], int32: [-2147483648, 2147483647], float32: [-3.4e38, 3.4e38], float64: [-1.7e308, 1.7e308],
  };
  data[0] = extremes[type][0];
  data[n - 1] = extremes[type][1];
  return {
    dims,
    spacing: [0.7, 1.3, 3.1],
    origin: [12.5, -30.25, 41],
    direction: OBLIQUE_DIR,
    data,
    voxelType: type,
    frames,
    rescaleSlope: 1,
    rescaleIntercept: 0,
    metadata: {},
    ...extra,
  };
}

function encode(volume: Volume, opts = {}): Uint8Array {
  const header = encodeNifti1Header(volume, opts);
  const data = new Uint8Array(volume.data.buffer, volume.data.byteOffset, volume.data.byteLength);
  const out = new Uint8Array(header.byteLength + data.byteLength);
  out.set(header);
  out.set(data, header.byteLength);
  return out;
}

const TYPES: VoxelType[] = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64'];
const CODES: Record<VoxelType, [number, number]> = {
  uint8: [2, 8], int8: [256, 8], uint16: [512, 16], int16: [4, 16], uint32: [768, 32], int32: [8, 32], float32: [16, 32], float64: [64, 64],
};

function expectSameGeometry(a: Volume, b: Volume): void {
  expect(a.dims).toEqual(b.dims);
  expectClose(a.spacing, b.spacing, 1e-6);
  expectClose(a.origin, b.origin, 1e-4);
  expectClose(a.direction, b.direction, 1e-6);
}

describe('encodeNifti1Header', () => {
  it('writes the standard fields the way dcm2niix does', () => {
    const vol = makeVolume('int16', [6, 5, 4], 1, { rescaleIntercept: -1024 });
    const h = parseNifti1Header(encodeNifti1Header(vol));
    expect(h.littleEndian).toBe(true);
    expect(h.magic).toBe('n+1');
    expect(h.dim).toEqual([3, 6, 5, 4, 1, 1, 1, 1]);
    expect(h.datatype).toBe(4);
    expect(h.bitpix).toBe(16);
    expect(h.vox_offset).toBe(352);
    expect(h.qform_code).toBe(1);
    expect(h.sform_code).toBe(1);
    expect(h.xyzt_units).toBe(10);
    expect(h.scl_slope).toBe(1);
    expect(h.scl_inter).toBe(-1024);
    expect(h.cal_min).toBe(0);
    expect(h.cal_max).toBe(0);
    expect(h.pixdim[0]).toBe(1);
    expectClose(h.pixdim.slice(1, 4), [0.7, 1.3, 3.1], 1e-6);
    const affine = geometryToNiftiAffine(vol);
    expectClose([...h.srow_x, ...h.srow_y, ...h.srow_z], affine.slice(0, 12), 1e-5);
    expectClose(headerQform(h), affine, 1e-5);
    expect(h.descrip).toBe('Lattice');
  });

  it('writes slope 1 / intercept 0 for trivial rescale, and the options it is given', () => {
    const vol = makeVolume('float32', [3, 3, 1]);
    const h = parseNifti1Header(
      encodeNifti1Header(vol, { sformCode: 2, qformCode: 0, description: 'x'.repeat(200), intentCode: 5, intentName: 'a-very-long-intent-name', xyztUnits: 2, twoD: true }),
    );
    expect([h.scl_slope, h.scl_inter]).toEqual([1, 0]);
    expect([h.sform_code, h.qform_code, h.intent_code, h.xyzt_units]).toEqual([2, 0, 5, 2]);
    expect(h.descrip).toBe('x'.repeat(79));
    expect(h.intent_name).toBe('a-very-long-int');
    expect(h.dim.slice(0, 4)).toEqual([2, 3, 3, 1]);
  });

  it('writes a left-handed geometry with qfac -1', () => {
    const vol = makeVolume('uint8', [2, 2, 2], 1, { direction: [1, 0, 0, 0, 1, 0, 0, 0, -1] });
    const h = parseNifti1Header(encodeNifti1Header(vol));
    expect(h.pixdim[0]).toBe(-1);
    expectClose(headerQform(h), geometryToNiftiAffine(vol), 1e-6);
  });

  it('writes an accurate qform for (near-)180° rotations (feet-first / flipped axial stacks)', () => {
    const c = Math.cos(0.3), sn = Math.sin(0.3);
    const dirs: Mat3[] = [
      [-1, 0, 0, 0, -1, 0, 0, 0, 1], // LPS → RAS identity: 180° about z in the quaternion
      [1, 0, 0, 0, 1, 0, 0, 0, 1], // LPS identity = RAS diag(-1,-1,1)
      [-1, 0, 0, 0, 1, 0, 0, 0, -1], // feet-first supine
      [c, sn, 0, sn, -c, 0, 0, 0, -1], // exact 180° about an in-plane axis (a = 0, b² + c² = 1)
      mat3Multiply([-1, 0, 0, 0, 1, 0, 0, 0, -1], rotX(0.02 * deg)),
    ];
    for (const [i, direction] of dirs.entries()) {
      const vol = makeVolume('int16', [4, 3, 2], 1, { direction });
      const h = parseNifti1Header(encodeNifti1Header(vol));
      expect(h.qform_code).toBe(1);
      // The last one is 0.02° from a 180° rotation: a² < 1e-7, below what float32 b, c, d
      // resolve, so every nifti1_io reader takes a = 0 (a format limit; the sform is exact).
      expectClose(headerQform(h), geometryToNiftiAffine(vol), i === dirs.length - 1 ? 2 * Math.sqrt(1e-7) * 3.1 : 1e-5);
    }
  });

  it('sets qform_code 0 for a sheared (gantry-tilt) geometry, keeps the exact sform', () => {
    // k axis tilted 14° towards y relative to the slice plane: non-orthogonal direction.
    const t = 14 * deg;
    const dir: Mat3 = [1, 0, 0, 0, 1, Math.sin(t), 0, 0, Math.cos(t)];
    const vol = makeVolume('int16', [4, 4, 3], 1, { direction: dir, spacing: [0.5, 0.5, 2] });
    const { header, volume } = parseNifti1(encode(vol));
    expect(header.qform_code).toBe(0);
    expect(header.sform_code).toBe(1);
    for (const ijk of [[3, 3, 2], [0, 1, 2]] as [number, number, number][]) {
      expectClose(indexToWorld(volume, ijk), indexToWorld(vol, ijk), 1e-4);
    }
  });

  it('writes 4D series and 5D vector fields', () => {
    const v4 = makeVolume('float32', [3, 2, 2], 5, { frameSpacing: 2.5 });
    const h4 = parseNifti1Header(encodeNifti1Header(v4));
    expect(h4.dim).toEqual([4, 3, 2, 2, 5, 1, 1, 1]);
    expect(h4.pixdim[4]).toBe(2.5);
    const v5 = makeVolume('float32', [3, 2, 2], 3);
    const h5 = parseNifti1Header(encodeNifti1Header(v5, { vectorComponents: 3 }));
    expect(h5.dim).toEqual([5, 3, 2, 2, 1, 3, 1, 1]);
    expect(h5.intent_code).toBe(1007);
    expect(() => encodeNifti1Header(v5, { vectorComponents: 2 })).toThrow(/vectorComponents/);
  });

  it('rejects inconsistent volumes and dimensions NIfTI-1 cannot store', () => {
    const v = makeVolume('int16', [3, 2, 2]);
    expect(() => encodeNifti1Header({ ...v, dims: [3, 2, 3] })).toThrow(/does not match/);
    expect(() => encodeNifti1Header({ ...v, dims: [40000, 1, 1], data: new Int16Array(40000) })).toThrow(/32767/);
  });
});

describe('parseNifti1 round trip', () => {
  for (const type of TYPES) {
    it(`keeps ${type} values, type, geometry and rescale`, () => {
      const vol = makeVolume(type, [5, 4, 3], 1, { rescaleSlope: 0.25, rescaleIntercept: -7.5 });
      const bytes = encode(vol);
      expect(bytes.byteLength).toBe(352 + vol.data.byteLength);
      const { header, volume } = parseNifti1(bytes);
      expect([header.datatype, header.bitpix]).toEqual(CODES[type]);
      expect(volume.voxelType).toBe(type);
      expect(volume.data).toBeInstanceOf(VOXEL_ARRAY[type]);
      expect(Array.from(volume.data)).toEqual(Array.from(vol.data));
      // A view on the input, not a copy.
      expect(volume.data.buffer).toBe(bytes.buffer);
      expect(volume.frames).toBe(1);
      expect([volume.rescaleSlope, volume.rescaleIntercept]).toEqual([0.25, -7.5]);
      expectSameGeometry(volume, vol);
      expect(volume.metadata.niftiGeometrySource).toBe('sform');
    });
  }

  it('reads 4D frames with their time step and 5D vector components', () => {
    const v4 = makeVolume('int16', [4, 3, 2], 6, { frameSpacing: 1.5 });
    const r4 = parseNifti1(encode(v4)).volume;
    expect(r4.frames).toBe(6);
    expect(r4.frameSpacing).toBe(1.5);
    expect(Array.from(r4.data)).toEqual(Array.from(v4.data));
    const v5 = makeVolume('float64', [4, 3, 2], 3);
    const r5 = parseNifti1(encode(v5, { vectorComponents: 3 })).volume;
    expect(r5.frames).toBe(3);
    expect(r5.metadata.vectorComponents).toBe(3);
    expect(r5.metadata.niftiIntentCode).toBe(1007);
    // Written back, it stays a 5D vector image (metadata carried over).
    expect(parseNifti1Header(encodeNifti1Header(r5)).dim).toEqual([5, 4, 3, 2, 1, 3, 1, 1]);
  });

  it('writes volumes whose data live in a SharedArrayBuffer or a larger buffer', async () => {
    const sab = new Int16Array(new SharedArrayBuffer(2 * 4 * 3 * 2));
    sab.set(makeVolume('int16', [4, 3, 2]).data);
    const big = new Float32Array(100);
    const sub = big.subarray(10, 10 + 24);
    sub.set(makeVolume('float32', [4, 3, 2]).data);
    for (const data of [sab, sub]) {
      const vol = makeVolume(data instanceof Int16Array ? 'int16' : 'float32', [4, 3, 2], 1, { data });
      expect(Array.from(parseNifti1(encode(vol)).volume.data)).toEqual(Array.from(data));
    }
  });

  it('copies the data when the input is not aligned for the type', () => {
    const vol = makeVolume('float32', [3, 3, 3]);
    const bytes = encode(vol);
    const shifted = new Uint8Array(bytes.byteLength + 1).subarray(1);
    shifted.set(bytes);
    const { volume } = parseNifti1(shifted);
    expect(volume.data.buffer).not.toBe(shifted.buffer);
    expect(Array.from(volume.data)).toEqual(Array.from(vol.data));
  });
});

/** A hand-made header (independent of the encoder), either byte order. */
function handMade(opts: {
  le: boolean;
  dims: number[];
  datatype: number;
  bitpix: number;
  pixdim?: number[];
  qform?: { code: number; b: number; c: number; d: number; x: number; y: number; z: number };
  sform?: { code: number; rows: number[][] };
  slope?: number;
  inter?: number;
  voxOffset?: number;
  xyztUnits?: number;
  data: Uint8Array; // already in the file's byte order
  extension?: Uint8Array;
}): Uint8Array {
  const voxOffset = opts.voxOffset ?? 352;
  const out = new Uint8Array(voxOffset + opts.data.byteLength);
  const dv = new DataView(out.buffer);
  const le = opts.le;
  dv.setInt32(0, 348, le);
  opts.dims.forEach((d, i) => dv.setInt16(40 + 2 * i, d, le));
  dv.setInt16(70, opts.datatype, le);
  dv.setInt16(72, opts.bitpix, le);
  (opts.pixdim ?? [1, 1, 1, 1, 0, 0, 0, 0]).forEach((p, i) => dv.setFloat32(76 + 4 * i, p, le));
  dv.setFloat32(108, voxOffset, le);
  dv.setFloat32(112, opts.slope ?? 0, le);
  dv.setFloat32(116, opts.inter ?? 0, le);
  out[123] = opts.xyztUnits ?? 2;
  if (opts.qform) {
    dv.setInt16(252, opts.qform.code, le);
    [opts.qform.b, opts.qform.c, opts.qform.d, opts.qform.x, opts.qform.y, opts.qform.z].forEach((v, i) => dv.setFloat32(256 + 4 * i, v, le));
  }
  if (opts.sform) {
    dv.setInt16(254, opts.sform.code, le);
    opts.sform.rows.flat().forEach((v, i) => dv.setFloat32(280 + 4 * i, v, le));
  }
  out.set([0x6e, 0x2b, 0x31, 0], 344);
  if (opts.extension) {
    out[348] = 1;
    out.set(opts.extension, 352);
  }
  out.set(opts.data, voxOffset);
  return out;
}

function int16Bytes(values: number[], le: boolean): Uint8Array {
  const b = new Uint8Array(values.length * 2);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setInt16(2 * i, v, le));
  return b;
}

describe('parseNifti1 of hand-made headers', () => {
  const values = [-1000, -1, 0, 1, 258, 32767, -32768, 12345, 7, 8, 9, 10];

  it('reads a big-endian file and byte-swaps its data into native order', () => {
    const bytes = handMade({
      le: false, dims: [3, 3, 2, 2, 1, 1, 1, 1], datatype: 4, bitpix: 16, pixdim: [1, 0.5, 0.75, 2, 0, 0, 0, 0],
      sform: { code: 1, rows: [[-0.5, 0, 0, 10], [0, -0.75, 0, 20], [0, 0, 2, -30]] }, slope: 2, inter: -3, data: int16Bytes(values, false),
    });
    const { header, volume } = parseNifti1(bytes);
    expect(header.littleEndian).toBe(false);
    expect(header.dim.slice(0, 4)).toEqual([3, 3, 2, 2]);
    expect(volume.voxelType).toBe('int16');
    expect(Array.from(volume.data)).toEqual(values);
    expect([volume.rescaleSlope, volume.rescaleIntercept]).toEqual([2, -3]);
    expect(volume.spacing).toEqual([0.5, 0.75, 2]);
    expectClose(volume.origin, [-10, -20, -30], 0);
    expectClose(volume.direction, [1, 0, 0, 0, 1, 0, 0, 0, 1], 0);
  });

  it('big-endian float64', () => {
    const vals = [1.5, -2.25, 1e300, -0.0, Math.PI, 42];
    const data = new Uint8Array(48);
    vals.forEach((v, i) => new DataView(data.buffer).setFloat64(8 * i, v, false));
    const { volume } = parseNifti1(handMade({ le: false, dims: [3, 3, 2, 1, 1, 1, 1, 1], datatype: 64, bitpix: 64, data }));
    expect(Array.from(volume.data)).toEqual(vals);
  });

  it('uses the qform when sform_code is 0 (qform only)', () => {
    // 90° about z: b = c = 0, d = sin 45°.
    const bytes = handMade({
      le: true, dims: [3, 3, 2, 2, 1, 1, 1, 1], datatype: 4, bitpix: 16, pixdim: [1, 2, 3, 4, 0, 0, 0, 0],
      qform: { code: 1, b: 0, c: 0, d: Math.SQRT1_2, x: 5, y: 6, z: 7 }, data: int16Bytes(values, true),
    });
    const { volume } = parseNifti1(bytes);
    expect(volume.metadata.niftiGeometrySource).toBe('qform');
    // RAS columns: i → (0,1,0)·2, j → (-1,0,0)·3, k → (0,0,1)·4; in LPS negate x, y.
    expectClose(volume.spacing, [2, 3, 4], 1e-6);
    expectClose(volume.direction, [0, 1, 0, -1, 0, 0, 0, 0, 1], 1e-7);
    expectClose(volume.origin, [-5, -6, 7], 1e-6);
  });

  it('uses the qform with qfac -1 (pixdim[0] < 0) as a flipped third axis', () => {
    const bytes = handMade({
      le: true, dims: [3, 3, 2, 2, 1, 1, 1, 1], datatype: 4, bitpix: 16, pixdim: [-1, 1, 1, 2.5, 0, 0, 0, 0],
      qform: { code: 2, b: 0, c: 0, d: 0, x: 0, y: 0, z: 0 }, data: int16Bytes(values, true),
    });
    const { volume } = parseNifti1(bytes);
    expectClose(volume.direction, [-1, 0, 0, 0, -1, 0, 0, 0, -1], 0);
    expect(volume.spacing[2]).toBeCloseTo(2.5, 6);
  });

  it('uses the sform when sform and qform disagree (sform wins)', () => {
    const bytes = handMade({
      le: true, dims: [3, 3, 2, 2, 1, 1, 1, 1], datatype: 4, bitpix: 16, pixdim: [1, 1, 1, 1, 0, 0, 0, 0],
      qform: { code: 1, b: 0, c: 0, d: 0, x: 100, y: 100, z: 100 },
      sform: { code: 2, rows: [[0, 0, 3, -1], [2, 0, 0, -2], [0, 1, 0, -3]] }, data: int16Bytes(values, true),
    });
    const { volume } = parseNifti1(bytes);
    expect(volume.metadata.niftiGeometrySource).toBe('sform');
    expect(volume.spacing).toEqual([2, 1, 3]);
    expectClose(volume.direction, [0, 0, -1, -1, 0, 0, 0, 1, 0], 0);
    expectClose(volume.origin, [1, 2, -3], 0);
  });

  it('falls back to pixdim only (ANALYZE method 1) when both codes are 0, and says so', () => {
    const bytes = handMade({
      le: true, dims: [3, 3, 2, 2, 1, 1, 1, 1], datatype: 4, bitpix: 16, pixdim: [0, 2, 3, 4, 0, 0, 0, 0], data: int16Bytes(values, true),
    });
    const { volume } = parseNifti1(bytes);
    expect(volume.metadata.niftiGeometrySource).toBe('pixdim');
    expect(String(volume.metadata.niftiGeometryNote)).toMatch(/ANALYZE/);
    expect(volume.spacing).toEqual([2, 3, 4]);
    // index axes along RAS +x, +y, +z: LPS (-1, -1, +1).
    expectClose(volume.direction, [-1, 0, 0, 0, -1, 0, 0, 0, 1], 0);
    expectClose(volume.origin, [0, 0, 0], 0);
  });

  it('treats scl_slope 0 or NaN as no scaling', () => {
    for (const slope of [0, NaN]) {
      const { volume } = parseNifti1(handMade({ le: true, dims: [3, 3, 2, 2, 1, 1, 1, 1], datatype: 4, bitpix: 16, slope, inter: 5, data: int16Bytes(values, true) }));
      expect([volume.rescaleSlope, volume.rescaleIntercept]).toEqual([1, 0]);
    }
  });

  it('skips extensions to vox_offset', () => {
    const ext = new Uint8Array(32);
    new DataView(ext.buffer).setInt32(0, 32, true); // esize
    new DataView(ext.buffer).setInt32(4, 6, true); // ecode: comment
    ext.set(new TextEncoder().encode('hello extension'), 8);
    const bytes = handMade({ le: true, dims: [3, 3, 2, 2, 1, 1, 1, 1], datatype: 4, bitpix: 16, voxOffset: 384, extension: ext, data: int16Bytes(values, true) });
    expect(Array.from(parseNifti1(bytes).volume.data)).toEqual(values);
  });

  it('converts the time step to seconds (ms, µs) and space units to mm (µm)', () => {
    const base = { le: true, dims: [4, 3, 2, 1, 2, 1, 1, 1], datatype: 4, bitpix: 16, pixdim: [1, 1, 1, 1, 2000, 0, 0, 0], data: int16Bytes(values, true) };
    expect(parseNifti1(handMade({ ...base, xyztUnits: 2 | 16 })).volume.frameSpacing).toBeCloseTo(2, 12);
    expect(parseNifti1(handMade({ ...base, xyztUnits: 2 | 24 })).volume.frameSpacing).toBeCloseTo(0.002, 12);
    const um = parseNifti1(handMade({ ...base, xyztUnits: 3, sform: { code: 1, rows: [[500, 0, 0, 0], [0, 500, 0, 0], [0, 0, 500, 1000]] } })).volume;
    expectClose(um.spacing, [0.5, 0.5, 0.5], 1e-12);
    expectClose(um.origin, [0, 0, 1], 1e-12);
  });

  it('reads 2D images (dim[0] = 2) and ignores sizes beyond dim[0]', () => {
    const { volume } = parseNifti1(handMade({ le: true, dims: [2, 4, 3, 7, 9, 1, 1, 1], datatype: 4, bitpix: 16, data: int16Bytes(values, true) }));
    expect(volume.dims).toEqual([4, 3, 1]);
    expect(volume.frames).toBe(1);
  });
});

describe('parseNifti1 errors', () => {
  const good = () => encode(makeVolume('int16', [4, 3, 2]));
  it('too short', () => {
    expect(() => parseNifti1(new Uint8Array(100))).toThrow(/too short.*100 bytes/);
  });
  it('bad sizeof_hdr', () => {
    const b = good();
    new DataView(b.buffer).setInt32(0, 123, true);
    expect(() => parseNifti1(b)).toThrow(/sizeof_hdr is 123/);
  });
  it('NIfTI-2', () => {
    const b = new Uint8Array(600);
    new DataView(b.buffer).setInt32(0, 540, true);
    b.set([0x6e, 0x2b, 0x32, 0], 4);
    expect(() => parseNifti1(b)).toThrow(/NIfTI-2/);
  });
  it('bad magic and .hdr/.img pairs', () => {
    const b = good();
    b.set([0x78, 0x78, 0x78, 0], 344);
    expect(() => parseNifti1(b)).toThrow(/magic "xxx"/);
    b.set([0x6e, 0x69, 0x31, 0], 344);
    expect(() => parseNifti1(b)).toThrow(/\.hdr\/\.img/);
  });
  it('data shorter than the header says', () => {
    const b = good();
    expect(() => parseNifti1(b.subarray(0, b.byteLength - 1))).toThrow(/truncated.*4×3×2×1 int16.*399 bytes/);
  });
  it('RGB24 is read as 3 samples per voxel (and says so when truncated); complex is not supported', () => {
    const b = good();
    new DataView(b.buffer).setInt16(70, 128, true);
    // good() holds 4×3×2 int16 = 48 bytes: too short for 4×3×2 RGB24 (72 bytes).
    expect(() => parseNifti1(b)).toThrow(/truncated.*424 bytes/);
    const rgb = new Uint8Array(352 + 72);
    rgb.set(b.subarray(0, 352));
    for (let i = 0; i < 72; i++) rgb[352 + i] = i;
    const v = parseNifti1(rgb).volume;
    expect([v.voxelType, v.components, v.data.length, v.data[5]]).toEqual(['uint8', 3, 72, 5]);
    new DataView(b.buffer).setInt16(70, 32, true);
    expect(() => parseNifti1(b)).toThrow(/complex64.*not supported/);
    new DataView(b.buffer).setInt16(70, 99, true);
    expect(() => parseNifti1(b)).toThrow(/unknown NIfTI datatype code 99/);
  });
  it('invalid dim[0]', () => {
    const b = good();
    new DataView(b.buffer).setInt16(40, 9, true);
    expect(() => parseNifti1(b)).toThrow(/dim\[0\] = 9/);
  });
});

describe('NIfTI files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lattice-nifti-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const ext of ['.nii', '.nii.gz']) {
    it(`writes and reads ${ext} (3D, 4D, 5D, scaled)`, async () => {
      const cases: [Volume, object][] = [
        [makeVolume('int16', [17, 13, 5], 1, { rescaleSlope: 0.5, rescaleIntercept: -1024 }), {}],
        [makeVolume('uint16', [8, 7, 3], 4, { frameSpacing: 2 }), {}],
        [makeVolume('float32', [5, 4, 3], 3), { vectorComponents: 3 }],
        [makeVolume('float64', [5, 4, 3]), {}],
      ];
      for (const [i, [vol, opts]] of cases.entries()) {
        const p = join(dir, `rt${i}${ext}`);
        await writeNiftiFile(p, vol, opts);
        const raw = readFileSync(p);
        expect(raw[0] === 0x1f && raw[1] === 0x8b).toBe(ext === '.nii.gz');
        const { volume } = await readNiftiFile(p);
        expect(volume.voxelType).toBe(vol.voxelType);
        expect(volume.frames).toBe(vol.frames);
        expect(Array.from(volume.data)).toEqual(Array.from(vol.data));
        expect([volume.rescaleSlope, volume.rescaleIntercept]).toEqual([vol.rescaleSlope, vol.rescaleIntercept]);
        expectSameGeometry(volume, vol);
        expect(volume.metadata.sourceFile).toBe(p);
      }
      // No temporary files left behind.
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }

  it('writes one valid gzip member made of many parallel blocks', async () => {
    const vol = makeVolume('int16', [64, 64, 20]);
    const p = join(dir, 'blocks.nii.gz');
    await writeNiftiFile(p, vol, { gzipBlockBytes: 10_000, gzipLevel: 6 });
    const gz = readFileSync(p);
    const plain = zlib.gunzipSync(gz);
    expect(plain.byteLength).toBe(352 + vol.data.byteLength);
    expect(Buffer.from(plain.subarray(352)).equals(Buffer.from(vol.data.buffer))).toBe(true);
    // Trailer: CRC-32 and size of the whole stream.
    expect(gz.readUInt32LE(gz.byteLength - 8)).toBe(zlib.crc32(plain));
    expect(gz.readUInt32LE(gz.byteLength - 4)).toBe(plain.byteLength);
    // A single member: a raw inflate of the body consumes all of it.
    const body = gz.subarray(10, gz.byteLength - 8);
    expect(zlib.inflateRawSync(body).byteLength).toBe(plain.byteLength);
  });

  it('gzipParallel of several parts equals the concatenation', async () => {
    const a = new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff);
    const b = new Uint8Array(0);
    const c = new Uint8Array(50_001).map((_, i) => (i % 13) * 3);
    const chunks: Uint8Array[] = [];
    for await (const x of gzipParallel([a, b, c], 3, 16_384)) chunks.push(x);
    const out = zlib.gunzipSync(Buffer.concat(chunks));
    expect(Buffer.compare(out, Buffer.concat([a, c]))).toBe(0);
  });

  it('writing a big .nii.gz reports its progress in order and leaves the event loop free', async () => {
    // A 3-frame float32 field, 48 MB: about a second of compression on the thread pool.
    const dims: [number, number, number] = [160, 160, 156];
    const vol = makeVolume('float32', dims, 3);
    const total = 352 + vol.data.byteLength;
    for (const name of ['field.nii.gz', 'field.nii']) {
      const seen: [number, number][] = [];
      let last = performance.now();
      let maxLag = 0;
      const tick = setInterval(() => {
        const now = performance.now();
        maxLag = Math.max(maxLag, now - last - 10);
        last = now;
      }, 10);
      try {
        await writeNiftiFile(join(dir, name), vol, { onProgress: (done, of) => seen.push([done, of]) });
      } finally {
        clearInterval(tick);
      }
      expect(seen.length).toBeGreaterThan(4);
      expect(seen.every(([, of]) => of === total)).toBe(true);
      for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBeGreaterThan(seen[i - 1][0]);
      expect(seen[seen.length - 1][0]).toBe(total);
      // The main thread only checksums and writes: never a long stall (measured 19 ms for
      // a 287 MB field; the bound leaves room for a loaded 2-core machine).
      expect(maxLag).toBeLessThan(300);
      expect((await readNiftiFile(join(dir, name))).volume.data[1234567]).toBe(vol.data[1234567]);
    }
  }, 60_000);

  it('detects gzip by content, not by name', async () => {
    const vol = makeVolume('int16', [4, 3, 2]);
    const gz = join(dir, 'named-wrong.nii');
    await writeNiftiFile(gz, vol, { gzip: true });
    expect(Array.from((await readNiftiFile(gz)).volume.data)).toEqual(Array.from(vol.data));
    const plain = join(dir, 'plain-named.nii.gz');
    await writeNiftiFile(plain, vol, { gzip: false });
    expect(Array.from((await readNiftiFile(plain)).volume.data)).toEqual(Array.from(vol.data));
  });

  it('reads multi-member gzip files (as some tools write)', async () => {
    const bytes = encode(makeVolume('int16', [8, 8, 4]));
    const p = join(dir, 'multi.nii.gz');
    writeFileSync(p, Buffer.concat([zlib.gzipSync(bytes.subarray(0, 100)), zlib.gzipSync(bytes.subarray(100, 1000)), zlib.gzipSync(bytes.subarray(1000))]));
    const { volume } = await readNiftiFile(p);
    expect(Buffer.from(volume.data.buffer, volume.data.byteOffset, volume.data.byteLength).equals(Buffer.from(bytes.subarray(352)))).toBe(true);
  });

  it('gives clear errors that name the file', async () => {
    const bytes = encode(makeVolume('int16', [32, 32, 8]));
    const cases: [string, Uint8Array | Buffer, RegExp][] = [
      ['truncated.nii', bytes.subarray(0, 5000), /truncated\.nii: file is truncated/],
      ['random.nii', Uint8Array.from({ length: 2000 }, (_, i) => (i * 97 + 13) & 0xff), /random\.nii: not a NIfTI-1 file/],
      ['empty.nii', new Uint8Array(0), /empty\.nii: file too short/],
      ['nifti2.nii', (() => { const b = new Uint8Array(1000); new DataView(b.buffer).setInt32(0, 540, true); return b; })(), /nifti2\.nii: .*NIfTI-2/],
      ['truncated.nii.gz', (() => { const z = zlib.gzipSync(bytes); return z.subarray(0, z.byteLength >> 1); })(), /truncated\.nii\.gz: .*(truncated|unexpected end)/i],
      ['tiny.nii.gz', zlib.gzipSync(new Uint8Array(10)), /tiny\.nii\.gz: file too short/],
      ['badcrc.nii.gz', (() => { const z = Buffer.from(zlib.gzipSync(bytes)); z[z.byteLength - 6] ^= 0xff; return z; })(), /badcrc\.nii\.gz: .*(check|crc)/i],
      ['huge.nii.gz', (() => { const b = Buffer.from(bytes); new DataView(b.buffer, b.byteOffset).setInt16(46, 30000, true); new DataView(b.buffer, b.byteOffset).setInt16(42, 30000, true); return zlib.gzipSync(b); })(), /huge\.nii\.gz: the header announces .*(corrupt header|more than one array)/],
      ['huge.nii', (() => { const b = Buffer.from(bytes); for (const o of [42, 44, 46]) new DataView(b.buffer, b.byteOffset).setInt16(o, 30000, true); return b; })(), /huge\.nii: the header announces .* GiB/],
      ['corrupt.nii.gz', (() => { const z = Buffer.from(zlib.gzipSync(bytes)); for (let i = 20; i < 60; i++) z[i] ^= 0x5a; return z; })(), /corrupt\.nii\.gz: /],
    ];
    for (const [name, content, re] of cases) {
      const p = join(dir, name);
      writeFileSync(p, content);
      await expect(readNiftiFile(p)).rejects.toThrow(re);
    }
    await expect(readNiftiFile(join(dir, 'missing.nii'))).rejects.toThrow(/missing\.nii: file not found/);
    await expect(readNiftiFile(dir)).rejects.toThrow(/is a folder/);
  });

  it('does not replace an existing file when writing fails', async () => {
    const p = join(dir, 'keep.nii');
    writeFileSync(p, 'precious');
    const bad = { ...makeVolume('int16', [4, 3, 2]), dims: [5, 3, 2] } as Volume;
    await expect(writeNiftiFile(p, bad)).rejects.toThrow(/keep\.nii: .*does not match/);
    expect(readFileSync(p, 'utf8')).toBe('precious');
  });
});
