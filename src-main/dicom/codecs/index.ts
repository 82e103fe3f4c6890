/**
 * Decoders for compressed transfer syntaxes. The WebAssembly codecs are loaded lazily
 * from node_modules (local files, never a CDN) the first time a series needs them.
 * Every decoder returns the frame's samples as little-endian bytes (Uint8Array view on
 * 8- or 16-bit samples), before any BitsStored masking or sign extension.
 */
import { createRequire } from 'node:module';
import { decodeRle } from './rle';

const req = createRequire(import.meta.url);

export interface FrameInfo {
  rows: number;
  columns: number;
  bitsAllocated: number;
  signed: boolean;
  samplesPerPixel: number;
}

export const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflatedLE: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpegLossless: '1.2.840.10008.1.2.4.57',
  jpegLosslessSV1: '1.2.840.10008.1.2.4.70',
  jpegLsLossless: '1.2.840.10008.1.2.4.80',
  jpegLsNear: '1.2.840.10008.1.2.4.81',
  j2kLossless: '1.2.840.10008.1.2.4.90',
  j2k: '1.2.840.10008.1.2.4.91',
  htj2kLossless: '1.2.840.10008.1.2.4.201',
  htj2kRpcl: '1.2.840.10008.1.2.4.202',
  htj2k: '1.2.840.10008.1.2.4.203',
  rle: '1.2.840.10008.1.2.5',
} as const;

export const TS_NAMES: Record<string, string> = {
  [TS.implicitLE]: 'Implicit VR Little Endian',
  [TS.explicitLE]: 'Explicit VR Little Endian',
  [TS.deflatedLE]: 'Deflated Explicit VR Little Endian',
  [TS.explicitBE]: 'Explicit VR Big Endian',
  [TS.jpegBaseline]: 'JPEG Baseline',
  [TS.jpegExtended]: 'JPEG Extended',
  [TS.jpegLossless]: 'JPEG Lossless (process 14)',
  [TS.jpegLosslessSV1]: 'JPEG Lossless SV1',
  [TS.jpegLsLossless]: 'JPEG-LS Lossless',
  [TS.jpegLsNear]: 'JPEG-LS Near-lossless',
  [TS.j2kLossless]: 'JPEG 2000 Lossless',
  [TS.j2k]: 'JPEG 2000',
  [TS.htj2kLossless]: 'HTJ2K Lossless',
  [TS.htj2kRpcl]: 'HTJ2K Lossless RPCL',
  [TS.htj2k]: 'HTJ2K',
  [TS.rle]: 'RLE Lossless',
};

export function isSupportedCompressed(ts: string): boolean {
  return (
    [TS.jpegBaseline, TS.jpegExtended, TS.jpegLossless, TS.jpegLosslessSV1, TS.jpegLsLossless, TS.jpegLsNear, TS.j2kLossless, TS.j2k, TS.htj2kLossless, TS.htj2kRpcl, TS.htj2k, TS.rle] as string[]
  ).includes(ts);
}

interface WasmDecoder {
  getEncodedBuffer(n: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned?: boolean };
  decode(): void;
  delete(): void;
}
type WasmModule = Record<string, new () => WasmDecoder>;

const modules = new Map<string, Promise<WasmModule>>();
function loadWasm(pkg: string): Promise<WasmModule> {
  let p = modules.get(pkg);
  if (!p) {
    p = (async () => {
      // Package "exports" subpaths: './decodewasmjs' (factory) and './decodewasm' (binary).
      const jsPath = req.resolve(`${pkg}/decodewasmjs`);
      const wasmPath = req.resolve(`${pkg}/decodewasm`);
      const factory = req(jsPath) as (o: object) => Promise<WasmModule>;
      // print/printErr: OpenJPEG logs [INFO] lines to stdout otherwise.
      return factory({ locateFile: () => wasmPath, print: () => undefined, printErr: () => undefined });
    })();
    modules.set(pkg, p);
  }
  return p;
}

async function decodeWasm(pkg: string, cls: string, src: Uint8Array): Promise<Uint8Array> {
  const mod = await loadWasm(pkg);
  const dec = new mod[cls]();
  try {
    dec.getEncodedBuffer(src.length).set(src);
    dec.decode();
    return dec.getDecodedBuffer().slice();
  } finally {
    dec.delete();
  }
}

let losslessDecoder: Promise<new () => { decode(b: ArrayBuffer, off: number, len: number, numBytes?: number): ArrayBufferView }> | undefined;

/** Decodes one compressed frame. */
export async function decodeCompressedFrame(ts: string, src: Uint8Array, info: FrameInfo): Promise<Uint8Array> {
  const bytesPerSample = info.bitsAllocated / 8;
  switch (ts) {
    case TS.rle:
      return decodeRle(src, info.rows, info.columns, info.bitsAllocated, info.samplesPerPixel);
    case TS.jpegLossless:
    case TS.jpegLosslessSV1: {
      losslessDecoder ??= Promise.resolve((req('jpeg-lossless-decoder-js') as { Decoder: never }).Decoder);
      const D = await losslessDecoder;
      const copy = src.slice();
      const out = new D().decode(copy.buffer, 0, copy.byteLength, bytesPerSample);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
    case TS.jpegLsLossless:
    case TS.jpegLsNear:
      return decodeWasm('@cornerstonejs/codec-charls', 'JpegLSDecoder', src);
    case TS.j2kLossless:
    case TS.j2k:
    case TS.htj2kLossless:
    case TS.htj2kRpcl:
    case TS.htj2k:
      return decodeWasm('@cornerstonejs/codec-openjpeg', 'J2KDecoder', src);
    case TS.jpegBaseline:
    case TS.jpegExtended:
      if (info.bitsAllocated !== 8) throw new Error('12-bit JPEG Extended is not supported by the bundled JPEG decoder');
      return decodeWasm('@cornerstonejs/codec-libjpeg-turbo-8bit', 'JPEGDecoder', src);
    default:
      throw new Error(`unsupported transfer syntax ${ts}${TS_NAMES[ts] ? ` (${TS_NAMES[ts]})` : ''}`);
  }
}
