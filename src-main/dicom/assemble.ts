/**
 * Volume assembly: reads the pixels of every slice of a volume group straight into the
 * volume's buffer (uncompressed little endian: one positional read per slice, no
 * intermediate copies), decodes compressed frames, tiles mosaics, fixes bits, and
 * applies per-slice rescale (float32 only when slopes/intercepts differ).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import dicomParser from 'dicom-parser';
import { VOXEL_ARRAY, bytesPerVoxel, type Mat3, type Vec3, type Volume, type VoxelArray, type VoxelType } from '../../src-shared/image/volume';
import { flipAxisGeometry } from '../../src-shared/geometry/geometry';
import type { ImageRecord } from './types';
import type { SliceRef, VolumeGroup } from './split';
import { fixStoredBits, storedVoxelType, swapBytesInPlace } from './pixels';
import { decodeCompressedFrame, isSupportedCompressed, TS, TS_NAMES } from './codecs/index';
import { parseDataSet, readFileStart } from './read-header';
import { dicomTagLines } from './tag-dictionary';
import { checkVolumeBudget } from '../fs/memory-budget';
import { displayScaling } from './philips-scaling';
import { tileRowOffset } from './mosaic';
import { diffusionBValues } from './diffusion';

export interface LoadOptions {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Fill metadata.dicomTags (a header listing for a Metadata tab). Default true. */
  tags?: boolean;
  /**
   * Store rows bottom-up (dcm2niix's NIfTI order), flipping each slice while it is hot
   * in cache; the returned geometry is flipped to match. Default false (DICOM order).
   */
  flipRows?: boolean;
  /**
   * Slope/intercept of each record's real values. Default: its RescaleSlope/Intercept
   * (the DICOM display values; the real-world value mapping where the file has no
   * rescale). Conversion passes philips-scaling's recordScaling.
   */
  scaling?: (r: ImageRecord) => { slope: number; intercept: number };
}

type IntArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** Synchronous positional read (cached files: microseconds, no thread-pool round trip). */
function readExactly(fd: number, dst: Uint8Array, pos: number): void {
  let off = 0;
  while (off < dst.length) {
    const got = readSync(fd, dst, off, dst.length - off, pos + off);
    if (got === 0) throw new Error(`file ends before the pixel data does (needed ${dst.length} bytes at offset ${pos})`);
    off += got;
  }
}

/** Reverses the row order of one slice in place. */
function flipSliceRows(bytes: Uint8Array, start: number, rowBytes: number, rows: number, tmp: Uint8Array): void {
  for (let y = 0; y < rows >> 1; y++) {
    const a = start + y * rowBytes;
    const b = start + (rows - 1 - y) * rowBytes;
    tmp.set(bytes.subarray(a, a + rowBytes));
    bytes.copyWithin(a, b, b + rowBytes);
    bytes.set(tmp, b);
  }
}

/** Whole-file parse cache for compressed/deflated files (one entry per file, dropped after use). */
async function parseWhole(file: string): Promise<dicomParser.DataSet> {
  const { bytes } = await readFileStart(file);
  return parseDataSet(bytes, false);
}

function frameFragments(ds: dicomParser.DataSet, frame: number, nFrames: number): Uint8Array {
  const el = ds.elements.x7fe00010;
  if (!el || !el.encapsulatedPixelData) throw new Error('compressed transfer syntax but pixel data is not encapsulated');
  const frags = el.fragments ?? [];
  if (!frags.length) throw new Error('encapsulated pixel data has no fragments');
  if (nFrames === 1) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, frags.length);
  const bot = el.basicOffsetTable ?? [];
  if (bot.length) return dicomParser.readEncapsulatedImageFrame(ds, el, frame);
  if (frags.length === nFrames) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, frame, 1);
  const table = dicomParser.createJPEGBasicOffsetTable(ds, el);
  return dicomParser.readEncapsulatedImageFrame(ds, el, frame, table);
}

/** Assembles one volume group into a Volume (natural DICOM order, LPS). */
export async function assembleVolume(group: VolumeGroup, opts: LoadOptions = {}): Promise<{ volume: Volume; warnings: string[] }> {
  const warnings = [...group.warnings];
  const r0 = group.records[0];
  const [nx, ny, nz] = group.dims;
  const frames = group.frames;
  const sliceVox = nx * ny;
  const storedType = storedVoxelType(r0);
  // Colour: three interleaved samples per voxel; `bpv` counts the bytes of a whole voxel.
  const spp = r0.samplesPerPixel === 3 ? 3 : 1;
  const bpv = bytesPerVoxel(storedType) * spp;
  const total = sliceVox * nz * frames;
  const need = total * bpv;
  checkVolumeBudget(need, `volume of ${nx}×${ny}×${nz}${frames > 1 ? `×${frames}` : ''} ${storedType}`);
  if (need > bufferConstants.MAX_LENGTH) {
    throw new Error(
      `volume of ${nx}×${ny}×${nz}${frames > 1 ? `×${frames}` : ''} (${(need / 2 ** 30).toFixed(1)} GiB) is larger than the largest buffer this runtime can hold (${(bufferConstants.MAX_LENGTH / 2 ** 30).toFixed(1)} GiB)`,
    );
  }
  // Every voxel is written below, so skip zero-filling (150 MB of memset for a big CT).
  let backing: Buffer;
  try {
    backing = Buffer.allocUnsafeSlow(need);
  } catch {
    throw new Error(`not enough memory for a ${(need / 2 ** 30).toFixed(2)} GiB volume (${nx}×${ny}×${nz}${frames > 1 ? `×${frames}` : ''})`);
  }
  const stored = new VOXEL_ARRAY[storedType](backing.buffer, backing.byteOffset, total * spp) as IntArray;
  const flip = opts.flipRows === true;
  const rowTmp = new Uint8Array(nx * bpv);
  const sliceScratch = new Uint8Array(sliceVox * bpv);
  const bytes = new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength);

  const ts = r0.transferSyntax;
  if (r0.encapsulated && !isSupportedCompressed(ts) && ts !== TS.deflatedLE) {
    throw new Error(`${r0.file}: unsupported transfer syntax ${ts}${TS_NAMES[ts] ? ` (${TS_NAMES[ts]})` : ''}`);
  }

  // Work items grouped by file so each file is opened (or parsed) once.
  const byFile = new Map<string, { t: number; k: number; ref: SliceRef }[]>();
  group.slices.forEach((vol, t) =>
    vol.forEach((ref, k) => {
      let l = byFile.get(ref.record.file);
      if (!l) byFile.set(ref.record.file, (l = []));
      l.push({ t, k, ref });
    }),
  );
  const fileList = [...byFile.entries()];
  let done = 0;
  opts.onProgress?.(0, fileList.length);

  const storedFrameBytes = (r: ImageRecord) => (r.rows * r.columns * r.bitsAllocated * spp) / 8;
  const placeSlice = (src: Uint8Array, r: ImageRecord, tile: number, t: number, k: number) => {
    if (spp === 3) src = toInterleavedRgb(src, r, sliceVox);
    const dst = (t * nz + k) * sliceVox * bpv;
    if (tile < 0) {
      bytes.set(src.subarray(0, sliceVox * bpv), dst);
      if (flip) flipSliceRows(bytes, dst, nx * bpv, ny, rowTmp);
      return;
    }
    const rowBytes = nx * bpv;
    for (let y = 0; y < ny; y++) {
      const s = tileRowOffset(r, tile, y, bpv);
      bytes.set(src.subarray(s, s + rowBytes), dst + (flip ? ny - 1 - y : y) * rowBytes);
    }
  };

  const doFile = async (file: string, items: { t: number; k: number; ref: SliceRef }[]) => {
    const r = items[0].ref.record;
    if (!r.encapsulated && r.transferSyntax !== TS.deflatedLE) {
      const fd = openSync(file, 'r');
      try {
        const fb = storedFrameBytes(r);
        // Plain slices go straight into the volume; mosaics through one temporary frame.
        const cache = new Map<number, Uint8Array>();
        for (const { t, k, ref } of items) {
          const pos = r.pixelOffset + ref.record.frame * fb;
          if (ref.tile < 0 && fb === sliceVox * bpv && !needsRgbConversion(ref.record, spp)) {
            const start = (t * nz + k) * sliceVox * bpv;
            if (flip) {
              // Through a cache-resident scratch slice: one pass writing rows reversed.
              readExactly(fd, sliceScratch, pos);
              if (r.transferSyntax === TS.explicitBE) swapBytesInPlace(sliceScratch, bpv);
              const rowBytes = nx * bpv;
              for (let y = 0, d = start + (ny - 1) * rowBytes; y < ny; y++, d -= rowBytes) bytes.set(sliceScratch.subarray(y * rowBytes, (y + 1) * rowBytes), d);
            } else {
              const dst = bytes.subarray(start, start + sliceVox * bpv);
              readExactly(fd, dst, pos);
              if (r.transferSyntax === TS.explicitBE) swapBytesInPlace(dst, bpv);
            }
          } else {
            let buf = cache.get(ref.record.frame);
            if (!buf) {
              buf = new Uint8Array(fb);
              readExactly(fd, buf, pos);
              if (r.transferSyntax === TS.explicitBE) swapBytesInPlace(buf, bpv);
              cache.set(ref.record.frame, buf);
            }
            placeSlice(buf, ref.record, ref.tile, t, k);
          }
        }
      } finally {
        closeSync(fd);
      }
      return;
    }
    const ds = await parseWhole(file);
    const cache = new Map<number, Uint8Array>();
    for (const { t, k, ref } of items) {
      const rec = ref.record;
      let buf = cache.get(rec.frame);
      if (!buf) {
        if (rec.transferSyntax === TS.deflatedLE) {
          const el = ds.elements.x7fe00010;
          const fb = storedFrameBytes(rec);
          buf = ds.byteArray.slice(el.dataOffset + rec.frame * fb, el.dataOffset + (rec.frame + 1) * fb);
        } else {
          const src = frameFragments(ds, rec.frame, rec.numberOfFrames);
          buf = await decodeCompressedFrame(rec.transferSyntax, src, {
            rows: rec.rows,
            columns: rec.columns,
            bitsAllocated: rec.bitsAllocated,
            signed: rec.pixelRepresentation === 1,
            samplesPerPixel: rec.samplesPerPixel,
          });
          const want = storedFrameBytes(rec);
          if (buf.length < want) throw new Error(`decoded frame has ${buf.length} bytes, expected ${want}`);
        }
        cache.set(rec.frame, buf);
      }
      placeSlice(buf, rec, ref.tile, t, k);
    }
  };

  // Files one after another with synchronous reads (fastest on cached files), yielding
  // to the event loop every few files for progress, IPC and cancellation.
  for (const [file, items] of fileList) {
    if (done % 8 === 7) await new Promise((r) => setImmediate(r));
    if (opts.signal?.aborted) throw new DOMException('loading cancelled', 'AbortError');
    try {
      await doFile(file, items);
    } catch (e) {
      throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
    }
    opts.onProgress?.(++done, fileList.length);
  }

  // Bits and photometric, per slice (records can differ in HighBit etc. only rarely, but cheaply handled).
  const needFix = (r: ImageRecord) => r.bitsStored < r.bitsAllocated || r.highBit + 1 !== r.bitsStored || r.photometric === 'MONOCHROME1';
  for (let t = 0; t < frames && spp === 1; t++)
    for (let k = 0; k < nz; k++) {
      const rec = group.slices[t][k].record;
      if (needFix(rec)) fixStoredBits(stored.subarray((t * nz + k) * sliceVox, (t * nz + k + 1) * sliceVox) as IntArray, rec);
    }
  if (r0.photometric === 'MONOCHROME1') warnings.push('MONOCHROME1 image: stored values inverted so that higher values are brighter');

  // Rescale: one slope/intercept for the volume, or real values in float32.
  let data: VoxelArray = stored;
  let voxelType: VoxelType = storedType;
  const scaleOf = opts.scaling ?? displayScaling;
  let { slope, intercept: inter } = scaleOf(r0);
  const differ =
    spp === 1 &&
    group.slices.some((vol) =>
      vol.some((s) => {
        const x = scaleOf(s.record);
        return x.slope !== slope || x.intercept !== inter;
      }),
    );
  if (differ) {
    const f = new Float32Array(total);
    for (let t = 0; t < frames; t++)
      for (let k = 0; k < nz; k++) {
        const { slope: rs, intercept: ri } = scaleOf(group.slices[t][k].record);
        const o = (t * nz + k) * sliceVox;
        for (let i = 0; i < sliceVox; i++) f[o + i] = stored[o + i] * rs + ri;
      }
    data = f;
    voxelType = 'float32';
    slope = 1;
    inter = 0;
    if (!opts.scaling) warnings.push('rescale slope/intercept differ between slices: the volume holds real values as float32');
  }

  const metadata = await seriesMetadata(group, opts.tags !== false);
  let origin: Vec3 = [...group.origin];
  let direction: Mat3 = [...group.direction];
  if (flip) {
    const g = flipAxisGeometry({ dims: group.dims, spacing: group.spacing, origin, direction }, 1);
    origin = g.origin;
    direction = g.direction;
  }
  const volume: Volume = {
    dims: [...group.dims],
    spacing: [...group.spacing],
    origin,
    direction,
    data,
    voxelType,
    frames,
    frameSpacing: frames > 1 ? frameSpacingSeconds(group) : 0,
    rescaleSlope: spp === 1 ? slope : 1,
    rescaleIntercept: spp === 1 ? inter : 0,
    metadata,
  };
  if (spp === 3) volume.components = 3;
  return { volume, warnings };
}

/** Planar colour (PlanarConfiguration 1) or uncompressed YBR_FULL needs converting to interleaved RGB. */
function needsRgbConversion(r: ImageRecord, spp: number): boolean {
  return spp === 3 && ((r.planarConfiguration === 1 && !r.encapsulated) || (r.photometric === 'YBR_FULL' && !r.encapsulated));
}

/**
 * One frame's colour samples as interleaved RGB (R,G,B per pixel, NIfTI RGB24's order).
 * Decoders of compressed frames already return interleaved RGB; uncompressed frames may
 * be planar (RRR…GGG…BBB) or YBR_FULL (converted with the JPEG/ITU-R BT.601 full-range
 * equations of DICOM PS3.3 C.7.6.3.1.2).
 */
export function toInterleavedRgb(src: Uint8Array, r: ImageRecord, n: number): Uint8Array {
  if (!needsRgbConversion(r, 3)) return src;
  const out = new Uint8Array(n * 3);
  const planar = r.planarConfiguration === 1;
  for (let i = 0; i < n; i++) {
    const a = planar ? src[i] : src[3 * i];
    const b = planar ? src[n + i] : src[3 * i + 1];
    const c = planar ? src[2 * n + i] : src[3 * i + 2];
    if (r.photometric === 'YBR_FULL') {
      const clamp = (x: number) => (x < 0 ? 0 : x > 255 ? 255 : Math.round(x));
      out[3 * i] = clamp(a + 1.402 * (c - 128));
      out[3 * i + 1] = clamp(a - 0.344136 * (b - 128) - 0.714136 * (c - 128));
      out[3 * i + 2] = clamp(a + 1.772 * (b - 128));
    } else {
      out[3 * i] = a;
      out[3 * i + 1] = b;
      out[3 * i + 2] = c;
    }
  }
  return out;
}

function frameSpacingSeconds(g: VolumeGroup): number {
  const tr = g.records[0].repetitionTime;
  return tr && tr > 0 ? tr / 1000 : 0;
}

async function seriesMetadata(g: VolumeGroup, tags: boolean): Promise<Volume['metadata']> {
  const r = g.records[0];
  const md: Volume['metadata'] = { ...r.meta };
  md.SeriesInstanceUID = r.seriesUid;
  if (r.seriesNumber != null) md.SeriesNumber = r.seriesNumber;
  md.Modality = r.modality;
  md.ImageType = r.imageType;
  md.SOPClassUID = r.sopClassUid;
  md.TransferSyntaxUID = r.transferSyntax;
  md.BitsAllocated = r.bitsAllocated;
  md.BitsStored = r.bitsStored;
  md.PixelRepresentation = r.pixelRepresentation;
  md.PhotometricInterpretation = r.photometric;
  md.SourceFiles = new Set(g.records.map((x) => x.file)).size;
  if (r.echoTime != null) md.EchoTime = r.echoTime;
  if (r.philipsScaleSlope != null) md.PhilipsScaleSlope = r.philipsScaleSlope;
  const bvals = diffusionBValues(g.slices.map((v) => v[0].record));
  if (bvals) md.DiffusionBValues = bvals; // one per volume, for the viewer's status bar
  if (tags) {
    try {
      md.dicomTags = dicomTagLines(r.file, (await readFileStart(r.file, 1 << 20)).bytes);
    } catch {
      md.dicomTags = [];
    }
  }
  return md;
}
