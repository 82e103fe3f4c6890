/**
 * Reading and writing NIfTI-1 files (.nii and .nii.gz) on disk.
 *
 * Reading: gzip is detected by its magic bytes (not the file name). The file is read
 * (or inflated) straight into one buffer of exactly the size the header announces, so
 * peak memory is the image plus, for .nii.gz, a stream's worth of compressed input.
 *
 * Writing: the header and a byte view of the voxel array are streamed to a temporary
 * file that replaces the target atomically; the voxel data are never copied. .nii.gz is
 * compressed on all cores the way pigz does it: the byte stream is cut into blocks
 * that are raw-deflated in parallel on the libuv thread pool (each primed with the
 * previous 32 KiB as dictionary, ended with a sync flush so they concatenate into one
 * deflate stream), wrapped in a single gzip member. Any gzip reader, including those
 * that only read the first member of a multi-member file, reads it.
 */
import buffer from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import zlib from 'node:zlib';
import type { Volume } from '../../src-shared/image/volume';
import {
  NIFTI1_HEADER_SIZE,
  encodeNifti1Header,
  nifti1Layout,
  parseNifti1,
  parseNifti1Header,
  voxelBytesLittleEndian,
  type Nifti1Header,
  type NiftiWriteOptions,
} from '../../src-shared/nifti/nifti1';
import { writeFileAtomic } from '../fs/atomic-write';
import { checkVolumeBudget } from '../fs/memory-budget';

export interface NiftiFileWriteOptions extends NiftiWriteOptions {
  /** Force gzip on or off; default: by extension (.gz). */
  gzip?: boolean;
  /** zlib level for .nii.gz (1..9). Default DEFAULT_GZIP_LEVEL. */
  gzipLevel?: number;
  /** Uncompressed bytes per parallel deflate block. Default: enough blocks to keep every thread busy, 256 KiB to 4 MiB. */
  gzipBlockBytes?: number;
  /**
   * Called as the file is written with the voxel bytes handed to the file so far (for
   * .nii.gz: compressed and handed over) and the total, so a caller can show how far a
   * big save is (a 287 MB displacement field takes seconds).
   */
  onProgress?(done: number, total: number): void;
}

/**
 * Default compression level: 3. Measured on a 512×512×300 int16 CT volume (150 MiB) on
 * the 2-core build machine (Node 20's zlib, which has SIMD hashing, against dcm2niix's
 * default `-z y` = pigz level 6): compression CPU time 2.2 s (level 1), 2.65 s (3),
 * 3.5 s (6) against 7.7 s for pigz -6; sizes 85.0 / 84.1 / 82.6 MB against 83.3 MB.
 * On MR references level 3 is within 1 % of pigz -6's size (level 1: +3 to 5 %).
 * So level 3 gives dcm2niix's file size for about a third of its compression work.
 */
export const DEFAULT_GZIP_LEVEL = 3;
/** Upper and lower bounds of the uncompressed bytes per parallel deflate block. */
const MAX_BLOCK_BYTES = 4 << 20;
const MIN_BLOCK_BYTES = 256 << 10;
const DICT_BYTES = 32 << 10;

export class NiftiFileError extends Error {
  override name = 'NiftiFileError';
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${basename(path)}: ${message}`, options);
  }
}

function describe(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') return 'file not found';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    if (code === 'EISDIR') return 'is a folder, not a file';
    if (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR') return `corrupt or truncated gzip data (${(err as unknown as Error).message})`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Reads .nii or .nii.gz (gzip detected by content). Errors name the file. */
export async function readNiftiFile(path: string): Promise<{ header: Nifti1Header; volume: Volume }> {
  let bytes: Uint8Array;
  try {
    bytes = (await isGzipFile(path)) ? await inflateNifti(path) : await readPlainNifti(path);
  } catch (err) {
    if (err instanceof NiftiFileError) throw err;
    throw new NiftiFileError(path, describe(err), { cause: err });
  }
  try {
    const result = parseNifti1(bytes);
    result.volume.metadata.sourceFile = path;
    return result;
  } catch (err) {
    throw new NiftiFileError(path, describe(err), { cause: err });
  }
}

async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const magic = new Uint8Array(2);
    const { bytesRead } = await fh.read(magic, 0, 2, 0);
    return bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Total (uncompressed) file size the header asks for, or the header's own error. */
function expectedSize(headerBytes: Uint8Array): number {
  const header = parseNifti1Header(headerBytes);
  const layout = nifti1Layout(header);
  const need = layout.byteLength;
  // Before anything is allocated: a header may claim 4096³ float32 (256 GiB).
  const what = `a ${layout.dims.join('×')}${layout.frames > 1 ? `×${layout.frames}` : ''} ${layout.info.type} image`;
  if (need > MAX_ARRAY_BYTES) {
    throw new Error(
      `the header announces ${what} (${(need / 2 ** 30).toFixed(1)} GiB of image data), more than one array can hold here (${(MAX_ARRAY_BYTES / 2 ** 30).toFixed(0)} GiB): not loaded`,
    );
  }
  checkVolumeBudget(need - layout.voxOffset, `the header announces ${what}, which`);
  return need;
}

const MAX_ARRAY_BYTES = buffer.constants.MAX_LENGTH;
/** Deflate cannot compress better than about 1032:1; a header asking for more is corrupt. */
const MAX_DEFLATE_RATIO = 1100;

async function readPlainNifti(path: string): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const head = new Uint8Array(Math.min(size, NIFTI1_HEADER_SIZE));
    await readFully(fh, head, 0);
    if (head.byteLength < NIFTI1_HEADER_SIZE) return head; // parseNifti1 reports "too short"
    const need = expectedSize(head);
    // Read exactly what the header announces (or the whole file when it is shorter, so
    // that parseNifti1 reports the truncation with both numbers).
    const bytes = new Uint8Array(Math.min(need, size));
    await readFully(fh, bytes, 0);
    return bytes;
  } finally {
    await fh.close();
  }
}

async function readFully(fh: import('node:fs/promises').FileHandle, into: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < into.byteLength) {
    // fs reads are limited to 2 GiB per call.
    const len = Math.min(into.byteLength - off, 1 << 30);
    const { bytesRead } = await fh.read(into, off, len, position + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
}

/**
 * Inflates a .nii.gz into one exactly-sized buffer (handles multi-member gzip). The
 * whole stream is inflated, so a damaged end (CRC, length) is reported, not ignored.
 */
async function inflateNifti(path: string): Promise<Uint8Array> {
  const { size: compressedSize } = await stat(path);
  const gunzip = zlib.createGunzip({ chunkSize: 1 << 20 });
  const input = createReadStream(path, { highWaterMark: 1 << 20 });
  input.on('error', (err) => gunzip.destroy(err));
  input.pipe(gunzip);

  let out: Uint8Array | null = null;
  let filled = 0;
  let pending: Uint8Array[] = []; // before the header is complete
  let pendingBytes = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      if (!out) {
        pending.push(chunk);
        pendingBytes += chunk.byteLength;
        if (pendingBytes < NIFTI1_HEADER_SIZE) continue;
        const head = concat(pending, pendingBytes);
        const need = expectedSize(head);
        if (need > compressedSize * MAX_DEFLATE_RATIO + (1 << 20)) {
          throw new Error(`the header announces ${need} bytes, more than this ${compressedSize}-byte gzip file can hold: corrupt header`);
        }
        out = new Uint8Array(need);
        const n = Math.min(head.byteLength, out.byteLength);
        out.set(head.subarray(0, n));
        filled = n;
        pending = [];
      } else if (filled < out.byteLength) {
        const n = Math.min(chunk.byteLength, out.byteLength - filled);
        out.set(chunk.subarray(0, n), filled);
        filled += n;
      }
      // Bytes beyond what the header announces are not needed; keep inflating to the end
      // of the stream anyway so that gzip's CRC and length checks run.
    }
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  if (!out) return concat(pending, pendingBytes); // too short: parseNifti1 reports it
  // A short stream without a gzip error still yields a clear "truncated" message.
  return filled < out.byteLength ? out.subarray(0, filled) : out;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/**
 * Writes `volume` as NIfTI-1 (.nii, or .nii.gz when the name ends in .gz), atomically.
 * The voxel array is written from a view of its own bytes (no copy).
 */
export async function writeNiftiFile(path: string, volume: Volume, opts: NiftiFileWriteOptions = {}): Promise<void> {
  let header: Uint8Array;
  try {
    header = encodeNifti1Header(volume, opts);
  } catch (err) {
    throw new NiftiFileError(path, describe(err), { cause: err });
  }
  const data = voxelBytesLittleEndian(volume.data);
  const gzip = opts.gzip ?? path.toLowerCase().endsWith('.gz');
  const parts = [header, data];
  const onProgress = opts.onProgress;
  try {
    await writeFileAtomic(
      path,
      gzip ? gzipParallel(parts, opts.gzipLevel ?? DEFAULT_GZIP_LEVEL, opts.gzipBlockBytes, onProgress) : counted([header, ...views(data, onProgress ? PROGRESS_VIEW_BYTES : 1 << 30)], onProgress),
    );
  } catch (err) {
    throw new NiftiFileError(path, `cannot write: ${describe(err)}`, { cause: err });
  }
}

/** Plain .nii with a progress callback is handed over in pieces of this size (a report each). */
const PROGRESS_VIEW_BYTES = 4 << 20;

/** Yields `chunks`, reporting the bytes yielded so far after each one is taken (written). */
function* counted(chunks: Uint8Array[], onProgress?: (done: number, total: number) => void): Generator<Uint8Array> {
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  let done = 0;
  for (const c of chunks) {
    yield c;
    done += c.byteLength;
    onProgress?.(done, total);
  }
}

/** Views of at most `max` bytes (single fs writes are limited to 2 GiB). */
function views(bytes: Uint8Array, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < bytes.byteLength; off += max) out.push(bytes.subarray(off, Math.min(bytes.byteLength, off + max)));
  return out;
}

function deflateRawBlock(input: Uint8Array, options: zlib.ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => zlib.deflateRaw(input, options, (err, out) => (err ? reject(err) : resolve(out))));
}

/** Number of blocks compressed at once: one per core the thread pool can use, plus one queued. */
function gzipConcurrency(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(2, Math.min(availableParallelism(), pool)) + 1;
}

/**
 * One gzip member whose deflate stream is made of independently compressed blocks
 * (pigz's scheme). Each block but the last ends with Z_SYNC_FLUSH (byte-aligned, not
 * final), and is primed with the preceding 32 KiB, so the concatenation is a valid
 * deflate stream compressing about as well as a single-threaded one. Input parts are
 * sliced as views; nothing is copied. The CRC-32 is accumulated in order.
 */
export async function* gzipParallel(
  parts: Uint8Array[],
  level: number = DEFAULT_GZIP_LEVEL,
  blockBytes?: number,
  /** Uncompressed bytes whose compressed block has been taken by the consumer, of the total. */
  onProgress?: (done: number, total: number) => void,
): AsyncGenerator<Uint8Array> {
  const concurrency = gzipConcurrency();
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  if (!blockBytes) {
    // Small files still get about 4 blocks per thread; large ones 4 MiB blocks.
    blockBytes = Math.min(MAX_BLOCK_BYTES, Math.max(MIN_BLOCK_BYTES, Math.ceil(total / (4 * concurrency))));
  }
  if (!(Number.isInteger(level) && level >= 0 && level <= 9)) throw new Error(`gzip level must be 0..9, not ${level}`);
  // Blocks as views: the (small) header alone, then the data in blockBytes pieces.
  const blocks: { bytes: Uint8Array; dict?: Uint8Array }[] = [];
  let prev: Uint8Array | undefined;
  for (const part of parts) {
    if (part.byteLength === 0) continue;
    for (let off = 0; off < part.byteLength; off += blockBytes) {
      const bytes = part.subarray(off, Math.min(part.byteLength, off + blockBytes));
      let dict: Uint8Array | undefined;
      if (off >= DICT_BYTES) dict = part.subarray(off - DICT_BYTES, off);
      else if (off > 0) dict = part.subarray(0, off);
      else if (prev) dict = prev.subarray(Math.max(0, prev.byteLength - DICT_BYTES));
      blocks.push({ bytes, dict });
    }
    prev = part;
  }
  if (blocks.length === 0) blocks.push({ bytes: new Uint8Array(0) });

  const header = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level >= 9 ? 2 : level <= 1 ? 4 : 0, 3]);
  yield header;

  const inFlight: Promise<Buffer>[] = [];
  let next = 0;
  const launch = () => {
    const i = next++;
    const { bytes, dict } = blocks[i];
    inFlight.push(
      deflateRawBlock(bytes, {
        level,
        dictionary: dict,
        finishFlush: i === blocks.length - 1 ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
        chunkSize: 1 << 20,
      }),
    );
  };
  let crc = 0;
  let size = 0;
  try {
    while (next < blocks.length && inFlight.length < concurrency) launch();
    for (let i = 0; i < blocks.length; i++) {
      // Checksum this block on the main thread while the pool compresses.
      // (zlib.crc32 of an empty buffer returns 0, not the running value: skip those.)
      if (blocks[i].bytes.byteLength > 0) crc = zlib.crc32(blocks[i].bytes, crc);
      size += blocks[i].bytes.byteLength;
      const out = await inFlight.shift()!;
      if (next < blocks.length) launch();
      yield out;
      // Resumed: the consumer has written this block.
      onProgress?.(size, total);
    }
  } finally {
    // If the consumer stops early, let outstanding work finish without unhandled rejections.
    for (const p of inFlight) p.catch(() => undefined);
  }
  const trailer = new Uint8Array(8);
  const dv = new DataView(trailer.buffer);
  dv.setUint32(0, crc >>> 0, true);
  dv.setUint32(4, size % 0x100000000, true);
  yield trailer;
}
