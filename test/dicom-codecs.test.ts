/**
 * Compressed transfer syntaxes end to end: synthetic DICOM files are written with the
 * encoders of the same codec packages (JPEG-LS, JPEG 2000, JPEG baseline) and a simple
 * RLE encoder, then scanned and loaded through loadDicomSeries and compared with the
 * original pixels. Covers signed 16-bit, signed 12-bit (sign extension after decoding),
 * multi-frame encapsulated data with a basic offset table, and lossy 8-bit JPEG.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDicomSeries, scanDicom } from '../src-main/dicom/index';

const req = createRequire(import.meta.url);

interface Encoder {
  getDecodedBuffer(info: object): Uint8Array;
  getEncodedBuffer(): Uint8Array;
  encode(): void;
  delete(): void;
  setNearLossless?(n: number): void;
  setQuality?(q: number): void;
  setDecompositions?(n: number): void;
}

async function encoderModule(pkg: string, _js: string): Promise<Record<string, new () => Encoder>> {
  // The packages' "exports": './wasmjs' is the full (encode + decode) build, './wasm' its binary.
  const factory = req(`${pkg}/wasmjs`) as (o: object) => Promise<Record<string, new () => Encoder>>;
  const wasm = req.resolve(`${pkg}/wasm`);
  return factory({ locateFile: () => wasm, print: () => undefined, printErr: () => undefined });
}

async function encode(kind: 'jls' | 'j2k' | 'jpeg', pixels: Uint8Array, w: number, h: number, bits: number, signed: boolean): Promise<Uint8Array> {
  const mod =
    kind === 'jls'
      ? await encoderModule('@cornerstonejs/codec-charls', 'charlswasm')
      : kind === 'j2k'
        ? await encoderModule('@cornerstonejs/codec-openjpeg', 'openjpegwasm')
        : await encoderModule('@cornerstonejs/codec-libjpeg-turbo-8bit', 'libjpegturbowasm');
  const enc = new mod[kind === 'jls' ? 'JpegLSEncoder' : kind === 'j2k' ? 'J2KEncoder' : 'JPEGEncoder']();
  try {
    enc.getDecodedBuffer({ width: w, height: h, bitsPerSample: bits, componentCount: 1, isSigned: signed, isUsingColorTransform: false }).set(pixels);
    if (kind === 'jls') enc.setNearLossless!(0);
    if (kind === 'jpeg') enc.setQuality!(95);
    if (kind === 'j2k') enc.setDecompositions!(2); // the default 5 levels do not fit a 40×24 image
    enc.encode();
    return enc.getEncodedBuffer().slice();
  } finally {
    enc.delete();
  }
}

/** PackBits with literal runs only (valid DICOM RLE, not compact). */
function rleEncode(pixels: Uint16Array): Uint8Array {
  const n = pixels.length;
  const seg = (byteOf: (v: number) => number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i += 128) {
      const len = Math.min(128, n - i);
      out.push(len - 1);
      for (let j = 0; j < len; j++) out.push(byteOf(pixels[i + j]));
    }
    if (out.length % 2) out.push(0);
    return out;
  };
  const hi = seg((v) => v >> 8);
  const lo = seg((v) => v & 0xff);
  const header = new Uint8Array(64);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, 2, true);
  dv.setUint32(4, 64, true);
  dv.setUint32(8, 64 + hi.length, true);
  return new Uint8Array([...header, ...hi, ...lo]);
}

function el(group: number, element: number, vr: string, value: string | number | Uint8Array): Uint8Array {
  let body: Uint8Array;
  if (value instanceof Uint8Array) body = value;
  else if (typeof value === 'number') {
    body = new Uint8Array(2);
    new DataView(body.buffer).setUint16(0, value, true);
  } else {
    let s = value;
    if (s.length % 2) s += vr === 'UI' ? '\0' : ' ';
    body = new TextEncoder().encode(s);
  }
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
  const head = new Uint8Array(long ? 12 : 8);
  const dv = new DataView(head.buffer);
  dv.setUint16(0, group, true);
  dv.setUint16(2, element, true);
  head[4] = vr.charCodeAt(0);
  head[5] = vr.charCodeAt(1);
  if (long) dv.setUint32(8, body.length, true);
  else dv.setUint16(6, body.length, true);
  return new Uint8Array([...head, ...body]);
}

function item(tagEl: number, bytes: Uint8Array): Uint8Array {
  const h = new Uint8Array(8);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, 0xfffe, true);
  dv.setUint16(2, tagEl, true);
  dv.setUint32(4, bytes.length, true);
  return new Uint8Array([...h, ...bytes]);
}

/** One DICOM file with encapsulated frames (basic offset table filled). */
function dicomFile(ts: string, frames: Uint8Array[], o: { rows: number; cols: number; bits: number; stored: number; signed: boolean; series: string; z: number; inst: number }): Uint8Array {
  const padded = frames.map((f) => (f.length % 2 ? new Uint8Array([...f, 0]) : f));
  const bot = new Uint8Array(4 * padded.length);
  let off = 0;
  padded.forEach((f, i) => {
    new DataView(bot.buffer).setUint32(4 * i, off, true);
    off += f.length + 8;
  });
  const pixHead = new Uint8Array(12);
  const pdv = new DataView(pixHead.buffer);
  pdv.setUint16(0, 0x7fe0, true);
  pdv.setUint16(2, 0x0010, true);
  pixHead[4] = 0x4f; // 'O'
  pixHead[5] = 0x42; // 'B'
  pdv.setUint32(8, 0xffffffff, true);
  const delim = new Uint8Array([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  const sop = `1.2.3.4.${o.series}.${o.inst}`;
  const ds = [
    el(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
    el(0x0008, 0x0018, 'UI', sop),
    el(0x0008, 0x0060, 'CS', 'CT'),
    el(0x0020, 0x000e, 'UI', `1.2.3.4.${o.series}`),
    el(0x0020, 0x0011, 'IS', o.series),
    el(0x0020, 0x0013, 'IS', String(o.inst)),
    el(0x0020, 0x0032, 'DS', `0\\0\\${o.z}`),
    el(0x0020, 0x0037, 'DS', '1\\0\\0\\0\\1\\0'),
    el(0x0028, 0x0002, 'US', 1),
    el(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    ...(frames.length > 1 ? [el(0x0028, 0x0008, 'IS', String(frames.length))] : []),
    el(0x0028, 0x0010, 'US', o.rows),
    el(0x0028, 0x0011, 'US', o.cols),
    el(0x0028, 0x0030, 'DS', '1\\1'),
    ...(frames.length > 1 ? [el(0x0018, 0x0088, 'DS', '2')] : []),
    el(0x0028, 0x0100, 'US', o.bits),
    el(0x0028, 0x0101, 'US', o.stored),
    el(0x0028, 0x0102, 'US', o.stored - 1),
    el(0x0028, 0x0103, 'US', o.signed ? 1 : 0),
    pixHead,
    item(0xe000, bot),
    ...padded.map((f) => item(0xe000, f)),
    delim,
  ];
  const meta = [el(0x0002, 0x0002, 'UI', '1.2.840.10008.5.1.4.1.1.2'), el(0x0002, 0x0003, 'UI', sop), el(0x0002, 0x0010, 'UI', ts)];
  const metaLen = meta.reduce((a, m) => a + m.length, 0);
  const glen = new Uint8Array(12);
  const gdv = new DataView(glen.buffer);
  gdv.setUint16(0, 2, true);
  glen[4] = 0x55; // 'U'
  glen[5] = 0x4c; // 'L'
  gdv.setUint16(6, 4, true);
  gdv.setUint32(8, metaLen, true);
  const pre = new Uint8Array(132);
  pre.set([0x44, 0x49, 0x43, 0x4d], 128);
  const parts = [pre, glen, ...meta, ...ds];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let p = 0;
  for (const x of parts) out.set(x, p), (p += x.length);
  return out;
}

const W = 40;
const H = 24;
function image(seed: number, min: number, max: number): number[] {
  return Array.from({ length: W * H }, (_, i) => {
    const x = i % W;
    const y = Math.floor(i / W);
    const v = Math.round(min + ((max - min) * (Math.sin(x * 0.3 + seed) * Math.cos(y * 0.2 - seed) + 1)) / 2);
    return Math.max(min, Math.min(max, v + ((i * 7919 + seed) % 5) - 2));
  });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lattice-codecs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function roundTrip(name: string, ts: string, kind: 'jls' | 'j2k' | 'jpeg' | 'rle', bits: number, stored: number, signed: boolean, min: number, max: number, multiFrame = false) {
  const d = join(dir, name);
  mkdirSync(d);
  const slices = [0, 1].map((k) => image(k + 1, min, max));
  const toBytes = (vals: number[]) => (bits === 8 ? Uint8Array.from(vals) : new Uint8Array((signed ? Int16Array.from(vals) : Uint16Array.from(vals)).buffer));
  const frames: Uint8Array[] = [];
  for (const s of slices) {
    // Codecs take the bit pattern of the stored bits (12-bit signed: two's complement in 12 bits).
    const pattern = stored < bits && signed ? s.map((v) => v & ((1 << stored) - 1)) : s;
    frames.push(kind === 'rle' ? rleEncode(Uint16Array.from(pattern.map((v) => v & 0xffff))) : await encode(kind, toBytes(kind === 'jls' && stored < bits ? pattern : s), W, H, stored, signed && !(kind === 'jls' && stored < bits)));
  }
  const o = { rows: H, cols: W, bits, stored, signed, series: String(100 + name.length) };
  if (multiFrame) writeFileSync(join(d, 'mf.dcm'), dicomFile(ts, frames, { ...o, z: 0, inst: 1 }));
  else frames.forEach((f, k) => writeFileSync(join(d, `${k}.dcm`), dicomFile(ts, [f], { ...o, z: 2 * k, inst: k + 1 })));
  const scan = await scanDicom([d]);
  expect(scan.problems).toEqual([]);
  expect(scan.series.length).toBe(1);
  expect(scan.series[0].dims).toEqual([W, H, 2]);
  expect(scan.series[0].spacing[2]).toBeCloseTo(2, 9);
  const { volume } = await loadDicomSeries(scan, scan.series[0].id);
  return { volume, expected: slices.flat() };
}

describe('compressed transfer syntaxes through loadDicomSeries', () => {
  it('JPEG-LS lossless, signed 16-bit', async () => {
    const { volume, expected } = await roundTrip('jls16s', '1.2.840.10008.1.2.4.80', 'jls', 16, 16, true, -2000, 3000);
    expect(volume.voxelType).toBe('int16');
    expect([...volume.data]).toEqual(expected);
  });

  it('JPEG-LS lossless, signed 12-bit in 16 (sign-extended after decoding)', async () => {
    const { volume, expected } = await roundTrip('jls12s', '1.2.840.10008.1.2.4.80', 'jls', 16, 12, true, -2048, 2047);
    expect([...volume.data]).toEqual(expected);
  });

  it('JPEG 2000 lossless, unsigned 16-bit, multi-frame with a basic offset table', async () => {
    const { volume, expected } = await roundTrip('j2k16u', '1.2.840.10008.1.2.4.90', 'j2k', 16, 16, false, 0, 60000, true);
    expect(volume.voxelType).toBe('uint16');
    expect([...volume.data]).toEqual(expected);
  });

  it('RLE lossless, signed 16-bit', async () => {
    const { volume, expected } = await roundTrip('rle16s', '1.2.840.10008.1.2.5', 'rle', 16, 16, true, -1024, 2000);
    expect([...volume.data]).toEqual(expected);
  });

  it('JPEG baseline 8-bit (lossy: close to the original)', async () => {
    const { volume, expected } = await roundTrip('jpeg8', '1.2.840.10008.1.2.4.50', 'jpeg', 8, 8, false, 0, 255);
    expect(volume.voxelType).toBe('uint8');
    let sumErr = 0;
    expected.forEach((v, i) => (sumErr += Math.abs(volume.data[i] - v)));
    expect(sumErr / expected.length).toBeLessThan(4); // lossy, but in place (a shifted or garbled decode errs by ~100)
  });
});
