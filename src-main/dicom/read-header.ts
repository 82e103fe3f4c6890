/**
 * Reads the header of one DICOM file (no pixel decoding) and describes its 2D images.
 *
 * Only the start of the file is read first (most headers are a few kB); the rest is read
 * only when the header is longer than that. Parsing stops at PixelData (dicom-parser's
 * `untilTag`), so a 500 kB CT slice costs one small read. Enhanced multi-frame files
 * give one ImageRecord per frame (per-frame functional groups override shared ones).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import dicomParser from 'dicom-parser';
import type { Vec3 } from '../../src-shared/image/volume';
import type { ImageRecord } from './types';
import { parseCsaHeader } from './csa';
import { nonImageKind } from './sop-classes';
import { readUihGrid } from './mosaic';
import { readDiffusion, readStandardDiffusion } from './diffusion';

type DataSet = dicomParser.DataSet;

/** First read per file; CT/MR headers are usually 2-10 kB (longer ones are re-read whole). */
const HEAD_BYTES = 16 * 1024;

export type HeaderResult =
  | { kind: 'images'; records: ImageRecord[] }
  | { kind: 'skip'; note: string }
  | { kind: 'problem'; problem: string };

/** Reads [0, n) of a file (or all of it when n >= size) with one read call. */
export async function readFileStart(file: string, n = Infinity): Promise<{ bytes: Uint8Array; size: number }> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const len = Math.min(size, n);
    const bytes = new Uint8Array(len);
    let off = 0;
    while (off < len) {
      const { bytesRead } = await fh.read(bytes, off, len - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return { bytes: off === len ? bytes : bytes.subarray(0, off), size };
  } finally {
    await fh.close();
  }
}

/** Transfer syntax to assume for files without the 128-byte preamble and "DICM". */
function guessRawTransferSyntax(b: Uint8Array): string | null {
  if (b.length < 8) return null;
  const group = b[0] | (b[1] << 8);
  if (group !== 0x0008 && group !== 0x0002 && group !== 0x0010 && group !== 0x0018 && group !== 0x0020 && group !== 0x0028) return null;
  const isUpper = (c: number) => c >= 0x41 && c <= 0x5a;
  return isUpper(b[4]) && isUpper(b[5]) ? '1.2.840.10008.1.2.1' : '1.2.840.10008.1.2';
}

export function hasPart10Preamble(b: Uint8Array): boolean {
  return b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;
}

/** Parses a DICOM byte array (whole file or its start). Throws a readable message. */
export function parseDataSet(bytes: Uint8Array, untilPixels: boolean): DataSet {
  const part10 = hasPart10Preamble(bytes);
  const raw = part10 ? null : guessRawTransferSyntax(bytes);
  if (!part10 && !raw) throw new Error('not a DICOM file (no "DICM" marker and no recognisable data set)');
  const opts: dicomParser.ParseDicomOptions = raw ? { TransferSyntaxUID: raw } : {};
  if (untilPixels) (opts as { untilTag?: string }).untilTag = 'x7fe00010';
  try {
    return dicomParser.parseDicom(bytes, opts);
  } catch (e) {
    const msg = typeof e === 'string' ? e : e instanceof Error ? e.message : String(e);
    throw new Error(msg.replace(/^dicomParser\.?[\w:]*:?\s*/, ''));
  }
}

// ----- value helpers -----

export function str(ds: DataSet | undefined, tag: string): string {
  if (!ds) return '';
  try {
    return (ds.string(tag) ?? '').trim();
  } catch {
    return '';
  }
}

function nums(ds: DataSet | undefined, tag: string): number[] | null {
  const s = str(ds, tag);
  if (!s) return null;
  const v = s.split('\\').map((x) => Number(x.trim()));
  return v.every((x) => Number.isFinite(x)) ? v : null;
}

function num(ds: DataSet | undefined, tag: string): number | null {
  const v = nums(ds, tag);
  return v && v.length ? v[0] : null;
}

function us(ds: DataSet | undefined, tag: string): number | null {
  if (!ds || !ds.elements[tag] || ds.elements[tag].length < 2) return null;
  return ds.uint16(tag) ?? null;
}

function fl(ds: DataSet | undefined, tag: string): number | null {
  if (!ds) return null;
  const el = ds.elements[tag];
  if (!el) return null;
  if (el.length === 4) return ds.float(tag) ?? null;
  if (el.length === 8) return ds.double(tag) ?? null;
  return num(ds, tag); // DS written where FL is expected (seen in the wild)
}

function ul(ds: DataSet | undefined, tag: string): number[] | null {
  if (!ds) return null;
  const el = ds.elements[tag];
  if (!el || el.length < 4) return null;
  const out: number[] = [];
  for (let i = 0; i < el.length / 4; i++) out.push(ds.uint32(tag, i) ?? 0);
  return out;
}

/** First item's data set of a sequence element. */
function item(ds: DataSet | undefined, tag: string): DataSet | undefined {
  const el = ds?.elements[tag];
  return el?.items && el.items.length ? el.items[0].dataSet : undefined;
}

/** Tags kept as metadata (name → tag). Values from the first image of a series. */
export const META_TAGS: Record<string, string> = {
  PatientName: 'x00100010',
  PatientID: 'x00100020',
  PatientBirthDate: 'x00100030',
  PatientSex: 'x00100040',
  PatientAge: 'x00101010',
  PatientWeight: 'x00101030',
  StudyInstanceUID: 'x0020000d',
  StudyDate: 'x00080020',
  StudyTime: 'x00080030',
  StudyDescription: 'x00081030',
  StudyID: 'x00200010',
  AccessionNumber: 'x00080050',
  SeriesDate: 'x00080021',
  SeriesTime: 'x00080031',
  AcquisitionDate: 'x00080022',
  AcquisitionTime: 'x00080032',
  AcquisitionDateTime: 'x0008002a',
  Manufacturer: 'x00080070',
  ManufacturersModelName: 'x00081090',
  InstitutionName: 'x00080080',
  StationName: 'x00081010',
  DeviceSerialNumber: 'x00181000',
  SoftwareVersions: 'x00181020',
  BodyPartExamined: 'x00180015',
  PatientPosition: 'x00185100',
  MagneticFieldStrength: 'x00180087',
  ScanningSequence: 'x00180020',
  SequenceVariant: 'x00180021',
  ScanOptions: 'x00180022',
  MRAcquisitionType: 'x00180023',
  SequenceName: 'x00180024',
  PulseSequenceName: 'x00189005',
  RepetitionTime: 'x00180080',
  EchoTime: 'x00180081',
  InversionTime: 'x00180082',
  FlipAngle: 'x00181314',
  ImagingFrequency: 'x00180084',
  PixelBandwidth: 'x00180095',
  ReceiveCoilName: 'x00181250',
  SliceThickness: 'x00180050',
  SpacingBetweenSlices: 'x00180088',
  KVP: 'x00180060',
  XRayTubeCurrent: 'x00181151',
  ExposureTime: 'x00181150',
  Exposure: 'x00181152',
  ConvolutionKernel: 'x00181210',
  ReconstructionDiameter: 'x00181100',
  GantryDetectorTilt: 'x00181120',
  Units: 'x00541001',
  DecayCorrection: 'x00541102',
  ProtocolName: 'x00181030',
  SeriesDescription: 'x0008103e',
  FrameOfReferenceUID: 'x00200052',
};

export function isEncapsulated(ts: string): boolean {
  return !['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99'].includes(ts);
}

/**
 * Synchronous start-of-file read into a reused scratch buffer. Header scanning is
 * thousands of tiny reads of cached files: synchronous calls cost microseconds where
 * promise-based ones pay a thread-pool round trip each (measured 3× faster on 300 CT
 * files). Callers yield to the event loop between batches.
 */
let scratch = new Uint8Array(HEAD_BYTES);
function readStartSync(file: string, n: number): { bytes: Uint8Array; size: number } {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, n);
    if (scratch.length < len) scratch = new Uint8Array(len);
    let off = 0;
    while (off < len) {
      const got = readSync(fd, scratch, off, len - off, off);
      if (got === 0) break;
      off += got;
    }
    return { bytes: scratch.subarray(0, off), size };
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and describes one file. Never throws: problems come back as `problem`,
 * objects we skip on purpose (RTSTRUCT, SR, …) as `skip` with a note.
 * (Synchronous I/O inside; see readStartSync.)
 */
export async function readHeader(file: string): Promise<HeaderResult> {
  return readHeaderSync(file);
}

export function readHeaderSync(file: string): HeaderResult {
  let bytes: Uint8Array;
  let size: number;
  try {
    ({ bytes, size } = readStartSync(file, HEAD_BYTES));
  } catch (e) {
    return { kind: 'problem', problem: `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  if (size === 0) return { kind: 'problem', problem: 'empty file' };
  let ds: DataSet | undefined;
  let err = '';
  try {
    ds = parseDataSet(bytes, true);
    if (!ds.elements.x7fe00010 && bytes.length < size) ds = undefined; // header longer than our first read
  } catch (e) {
    err = (e as Error).message;
    if (bytes.length < size && !err.startsWith('not a DICOM')) ds = undefined;
    else return { kind: 'problem', problem: err };
  }
  if (!ds) {
    try {
      ({ bytes, size } = readStartSync(file, Infinity));
      ds = parseDataSet(bytes, true);
    } catch (e) {
      return { kind: 'problem', problem: `unreadable DICOM header: ${(e as Error).message}` };
    }
  }
  try {
    return describe(file, ds, size);
  } catch (e) {
    return { kind: 'problem', problem: `unreadable DICOM header: ${(e as Error).message}` };
  }
}

/**
 * Colour images we convert: 8-bit, 3 samples, RGB (or YBR as JPEG / JPEG 2000 store RGB,
 * which their decoders return as RGB; uncompressed YBR_FULL is converted). Anything else
 * gets a note naming what it is.
 */
export function unsupportedColour(samples: number, bitsAllocated: number, photometric: string): string | null {
  if (samples === 1) return photometric === 'PALETTE COLOR' ? 'palette-colour image (PALETTE COLOR) skipped: not supported' : null;
  const what = `colour image (${samples} samples per pixel, ${photometric || 'no PhotometricInterpretation'}, ${bitsAllocated}-bit)`;
  if (samples !== 3) return `${what} skipped: only greyscale and 3-sample RGB images are converted`;
  if (bitsAllocated !== 8) return `${what} skipped: only 8-bit RGB is converted (NIfTI RGB24)`;
  if (!['RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_RCT', 'YBR_ICT', ''].includes(photometric)) return `${what} skipped: photometric interpretation not supported`;
  return null;
}

function describe(file: string, ds: DataSet, size: number): HeaderResult {
  const sopClassUid = str(ds, 'x00080016') || str(ds, 'x00020002');
  const modality = str(ds, 'x00080060');
  const pix = ds.elements.x7fe00010;
  const skipKind = nonImageKind(sopClassUid, modality);
  if (skipKind) return { kind: 'skip', note: `${skipKind} skipped (not an image)` };
  if (!pix) {
    // An image storage class (non-image ones were skipped above) without pixels is a
    // broken file (cut off inside its header), not an object to skip quietly.
    const imageClass = sopClassUid.startsWith('1.2.840.10008.5.1.4.1.1.');
    if (!str(ds, 'x00280010') && !imageClass) return { kind: 'skip', note: `non-image DICOM object${modality ? ` (modality ${modality})` : ''} skipped` };
    return { kind: 'problem', problem: 'no pixel data (file truncated before the image?)' };
  }
  const ts = str(ds, 'x00020010') || '1.2.840.10008.1.2';
  const rows = us(ds, 'x00280010') ?? 0;
  const columns = us(ds, 'x00280011') ?? 0;
  const bitsAllocated = us(ds, 'x00280100') ?? 0;
  const samplesPerPixel = us(ds, 'x00280002') ?? 1;
  const numberOfFrames = Math.max(1, num(ds, 'x00280008') ?? 1);
  if (!rows || !columns) return { kind: 'problem', problem: 'image without Rows/Columns' };
  if (![8, 16, 32].includes(bitsAllocated)) return { kind: 'problem', problem: `unsupported BitsAllocated ${bitsAllocated}` };
  const imageType = str(ds, 'x00080008').toUpperCase().split('\\').map((s) => s.trim()).filter(Boolean);
  const colourProblem = unsupportedColour(samplesPerPixel, bitsAllocated, str(ds, 'x00280004').toUpperCase());
  if (colourProblem) return { kind: 'skip', note: colourProblem };
  const encapsulated = pix.hadUndefinedLength === true || isEncapsulated(ts);
  const frameBytes = (rows * columns * samplesPerPixel * bitsAllocated) / 8;
  if (!encapsulated) {
    if (pix.dataOffset + pix.length > size || pix.dataOffset + frameBytes * numberOfFrames > size) {
      const need = pix.dataOffset + frameBytes * numberOfFrames;
      return { kind: 'problem', problem: `truncated file: pixel data needs ${need} bytes, file has ${size}` };
    }
    if (pix.length < frameBytes * numberOfFrames) {
      return { kind: 'problem', problem: `pixel data too short: ${pix.length} bytes for ${numberOfFrames} frame(s) of ${rows}×${columns}×${bitsAllocated / 8} bytes` };
    }
  } else if (pix.dataOffset >= size) {
    return { kind: 'problem', problem: 'truncated file: no pixel data after the header' };
  }

  const meta: Record<string, string> = {};
  for (const [name, tag] of Object.entries(META_TAGS)) {
    const v = str(ds, tag);
    if (v) meta[name] = v;
  }
  const manufacturer = str(ds, 'x00080070');
  const base: ImageRecord = {
    file,
    transferSyntax: ts,
    frame: 0,
    numberOfFrames,
    pixelOffset: pix.dataOffset,
    pixelLength: pix.length,
    encapsulated,
    sopClassUid,
    sopInstanceUid: str(ds, 'x00080018'),
    seriesUid: str(ds, 'x0020000e'),
    seriesNumber: num(ds, 'x00200011'),
    seriesDescription: str(ds, 'x0008103e'),
    protocolName: str(ds, 'x00181030'),
    sequenceName: str(ds, 'x00180024') || str(ds, 'x00189005'),
    modality,
    manufacturer,
    imageType,
    frameType: [],
    rows,
    columns,
    bitsAllocated,
    bitsStored: us(ds, 'x00280101') ?? bitsAllocated,
    highBit: us(ds, 'x00280102') ?? bitsAllocated - 1,
    pixelRepresentation: us(ds, 'x00280103') ?? 0,
    samplesPerPixel,
    photometric: str(ds, 'x00280004').toUpperCase() || (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2'),
    planarConfiguration: us(ds, 'x00280006') ?? 0,
    iop: nums(ds, 'x00200037'),
    ipp: (nums(ds, 'x00200032') as Vec3 | null) ?? null,
    pixelSpacing: (nums(ds, 'x00280030') as [number, number] | null) ?? (nums(ds, 'x00181164') as [number, number] | null),
    sliceThickness: num(ds, 'x00180050'),
    spacingBetweenSlices: num(ds, 'x00180088'),
    rescaleSlope: num(ds, 'x00281053') ?? 1,
    rescaleIntercept: num(ds, 'x00281052') ?? 0,
    philipsScaleSlope: fl(ds, 'x2005100e'),
    rwvSlope: fl(item(ds, 'x00409096'), 'x00409225'),
    rwvIntercept: fl(item(ds, 'x00409096'), 'x00409224'),
    echoTime: num(ds, 'x00180081'),
    echoNumber: num(ds, 'x00180086'),
    acquisitionNumber: num(ds, 'x00200012'),
    instanceNumber: num(ds, 'x00200013'),
    temporalPosition: num(ds, 'x00200100'),
    triggerTime: num(ds, 'x00181060'),
    acquisitionTime: str(ds, 'x00080032'),
    dimensionIndex: null,
    stackPosition: null,
    mosaicCount: 0,
    sliceNormal: null,
    mrAcquisitionType: str(ds, 'x00180023').toUpperCase(),
    gantryTilt: num(ds, 'x00181120') ?? 0,
    repetitionTime: num(ds, 'x00180080'),
    meta,
  };
  if (base.ipp && base.ipp.length !== 3) base.ipp = null;
  if (base.iop && base.iop.length !== 6) base.iop = null;
  if (base.pixelSpacing && base.pixelSpacing.length < 2) base.pixelSpacing = null;
  if (base.rescaleSlope === 0) base.rescaleSlope = 1;

  // Siemens mosaic: several slices tiled in one image.
  if (imageType.includes('MOSAIC')) {
    let n = 0;
    let normal: Vec3 | null = null;
    const csaEl = ds.elements.x00291010;
    if (csaEl && csaEl.length > 0 && csaEl.dataOffset + csaEl.length <= ds.byteArray.length) {
      const csa = parseCsaHeader(ds.byteArray.subarray(csaEl.dataOffset, csaEl.dataOffset + csaEl.length));
      n = Number(csa.NumberOfImagesInMosaic?.[0] ?? 0);
      const sn = csa.SliceNormalVector?.map(Number);
      if (sn && sn.length === 3 && sn.every(Number.isFinite)) normal = sn as Vec3;
    }
    if (!n) n = us(ds, 'x0019100a') ?? 0;
    if (n > 1) {
      base.mosaicCount = n;
      base.sliceNormal = normal;
    }
  }

  // United Imaging grid: tiles with one position each (and no top-level position).
  if (/UIH|UNITED IMAGING/i.test(manufacturer)) {
    const grid = readUihGrid(ds, rows, columns);
    if (grid) {
      base.mosaicCount = grid.count;
      base.mosaicGrid = grid.grid;
      base.tilePositions = grid.positions;
      base.ipp ??= grid.positions[0];
    }
  }
  base.diffusion = readDiffusion(ds, manufacturer, imageType);

  if (numberOfFrames === 1) return { kind: 'images', records: [base] };

  // Multi-frame: one record per frame, per-frame functional groups over shared ones.
  const shared = item(ds, 'x52009229');
  const perFrame = ds.elements.x52009230?.items ?? [];
  const records: ImageRecord[] = [];
  for (let f = 0; f < numberOfFrames; f++) {
    const pf = perFrame[f]?.dataSet;
    const group = (seq: string): DataSet | undefined => item(pf, seq) ?? item(shared, seq);
    const r: ImageRecord = { ...base, frame: f, imageType: base.imageType };
    r.diffusion = readStandardDiffusion(pf) ?? base.diffusion;
    const pos = nums(group('x00209113'), 'x00200032');
    if (pos && pos.length === 3) r.ipp = pos as Vec3;
    else if (!perFrame.length && base.ipp && base.iop && f > 0) {
      // Classic multi-frame (no functional groups): frames are consecutive slices along
      // the normal, SpacingBetweenSlices apart (or SliceThickness), as dcm2niix assumes.
      const [a, b, c, d, e, g] = base.iop;
      const n = [b * g - c * e, c * d - a * g, a * e - b * d];
      const step = base.spacingBetweenSlices || base.sliceThickness || 1;
      r.ipp = [base.ipp[0] + n[0] * step * f, base.ipp[1] + n[1] * step * f, base.ipp[2] + n[2] * step * f];
    }
    const ori = nums(group('x00209116'), 'x00200037');
    if (ori && ori.length === 6) r.iop = ori;
    const meas = group('x00289110');
    const ps = nums(meas, 'x00280030');
    if (ps && ps.length >= 2) r.pixelSpacing = [ps[0], ps[1]];
    r.sliceThickness = num(meas, 'x00180050') ?? r.sliceThickness;
    r.spacingBetweenSlices = num(meas, 'x00180088') ?? r.spacingBetweenSlices;
    const pvt = group('x00289145');
    if (pvt) {
      r.rescaleSlope = num(pvt, 'x00281053') ?? r.rescaleSlope;
      r.rescaleIntercept = num(pvt, 'x00281052') ?? r.rescaleIntercept;
      if (r.rescaleSlope === 0) r.rescaleSlope = 1;
    }
    const rwv = group('x00409096');
    if (rwv) {
      r.rwvSlope = fl(rwv, 'x00409225') ?? r.rwvSlope;
      r.rwvIntercept = fl(rwv, 'x00409224') ?? r.rwvIntercept;
    }
    const echo = group('x00189114');
    r.echoTime = fl(echo, 'x00189082') ?? r.echoTime;
    const fc = item(pf, 'x00209111');
    if (fc) {
      r.dimensionIndex = ul(fc, 'x00209157');
      r.stackPosition = ul(fc, 'x00209057')?.[0] ?? null;
      r.temporalPosition = ul(fc, 'x00209128')?.[0] ?? r.temporalPosition;
    }
    const ft = group('x00189226') ?? group('x00189329') ?? group('x00189227');
    const ftv = str(ft, 'x00089007');
    if (ftv) r.frameType = ftv.toUpperCase().split('\\').map((s) => s.trim());
    // Philips keeps per-frame private scaling in (2005,140F).
    const ph = item(pf, 'x2005140f');
    if (ph) {
      r.philipsScaleSlope = fl(ph, 'x2005100e') ?? r.philipsScaleSlope;
      r.echoNumber = num(ph, 'x00180086') ?? r.echoNumber;
      const it = str(ph, 'x00080008');
      if (it) r.imageType = it.toUpperCase().split('\\').map((s) => s.trim());
    }
    r.triggerTime = fl(item(pf, 'x00189118'), 'x00209153') ?? r.triggerTime;
    records.push(r);
  }
  return { kind: 'images', records };
}
