/**
 * Turns the image records of a scan into volumes, the way dcm2niix does:
 * first by SeriesInstanceUID, then by anything that cannot share one voxel grid
 * (matrix size, orientation, echo, magnitude/phase, mosaic layout), then slices are
 * sorted along the slice normal by ImagePositionPatient; images that share a position
 * become the volumes of a 4D series. Geometry comes from the positions, not from
 * SliceThickness, and every irregularity (missing slices, uneven spacing, gantry tilt)
 * becomes a warning.
 */
import type { Mat3, Vec3 } from '../../src-shared/image/volume';
import type { ImageRecord } from './types';
import { describeScaling } from './philips-scaling';
import { complexKind, describeImageTypes, sharedNumberEchoSuffixes } from './image-types';
import { tileSize } from './mosaic';

export interface SliceRef {
  record: ImageRecord;
  /** Mosaic tile index within the record (-1 when the record is one plain slice). */
  tile: number;
}

export interface VolumeGroup {
  key: string;
  records: ImageRecord[];
  /** slices[t][k]: the image for volume t, slice k (sorted along the slice direction). */
  slices: SliceRef[][];
  /** Columns, rows, slices. */
  dims: Vec3;
  frames: number;
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
  /** In-plane size of one stored image (the whole mosaic for mosaics). */
  storedRows: number;
  storedColumns: number;
  mosaic: boolean;
  warnings: string[];
  /** dcm2niix-style file-name suffix for series split into several volumes ("_e2", "_ph", …). */
  suffix: string;
  /** Slice positions along the normal (mm), first volume. */
  slicePositions: number[];
  /** Angle between the slice stacking direction and the plane normal, degrees. */
  shearDeg: number;
  /** Things a user should know that are not problems (scaling chosen, colour, split); listed by lattice info. */
  notes: string[];
  /** False when the images carry no orientation/position at all (written with sform/qform code 0). */
  geometryKnown: boolean;
}

const cross = (a: number[], b: number[]): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const dot = (a: number[], b: number[]): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const norm = (a: number[]): number => Math.hypot(a[0], a[1], a[2]);
/** Above this angle between slice step and plane normal, the stack is sheared (gantry tilt). */
const SHEAR_TOLERANCE_DEG = 0.05;
const fmt = (x: number, d = 2): string => String(Number(x.toFixed(d)));

function isPhase(r: ImageRecord): boolean {
  const t = [...r.imageType, ...r.frameType];
  return t.includes('P') || t.includes('PHASE');
}

/** dcm2niix's _real / _imaginary (not for a Philips B0 map stored as REAL: that is _fieldmaphz). */
function complexSuffix(r: ImageRecord): string {
  if (isFieldMapHz(r)) return '';
  const kind = complexKind(r);
  return kind === 'real' ? '_real' : kind === 'imaginary' ? '_imaginary' : '';
}

function echoKey(r: ImageRecord): string {
  return `n${r.echoNumber ?? ''}t${r.echoTime ?? ''}`;
}

function isFieldMapHz(r: ImageRecord): boolean {
  return [...r.imageType, ...r.frameType].includes('FIELD_MAP');
}

/**
 * The part of ImageType/FrameType that separates volumes, as dcm2niix uses it: original vs
 * derived, magnitude / phase / real / imaginary, field map, localizer. Other values (GE's
 * "ADD" on some slices of one CT stack, reconstruction labels) do not split a stack.
 */
function imageTypeKey(t: string[]): string {
  const has = (...v: string[]) => v.some((x) => t.includes(x));
  const flags = [
    t[0] ?? '',
    has('M', 'MAGNITUDE') ? 'M' : '',
    has('P', 'PHASE') ? 'P' : '',
    has('R', 'REAL') ? 'R' : '',
    has('I', 'IMAGINARY') ? 'I' : '',
    has('FIELD_MAP') ? 'F' : '',
    has('LOCALIZER') ? 'L' : '',
  ];
  return flags.join('');
}

/** Split key: images with different keys can never be slices of one volume. */
function splitKey(r: ImageRecord): string {
  const iop = r.iop ? r.iop.map((v) => v.toFixed(4)).join(',') : 'none';
  const ps = r.pixelSpacing ? r.pixelSpacing.map((v) => v.toFixed(4)).join(',') : '';
  const bits = `${r.bitsAllocated}/${r.bitsStored}/${r.highBit}/${r.pixelRepresentation}`;
  return [r.rows, r.columns, bits, r.samplesPerPixel, iop, ps, echoKey(r), imageTypeKey(r.imageType), imageTypeKey(r.frameType), r.mosaicCount].join('|');
}

function compareTime(a: ImageRecord, b: ImageRecord): number {
  const keys: Array<(r: ImageRecord) => number | string | null> = [
    (r) => (r.numberOfFrames > 1 ? r.temporalPosition : null),
    (r) => r.instanceNumber,
    (r) => r.acquisitionNumber,
    (r) => r.temporalPosition,
    (r) => r.triggerTime,
    (r) => r.acquisitionTime,
    (r) => r.file,
    (r) => r.frame,
  ];
  for (const k of keys) {
    const x = k(a);
    const y = k(b);
    if (x == null || y == null || x === y) continue;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Groups all records of a scan into volumes. */
export function splitIntoVolumes(records: ImageRecord[]): VolumeGroup[] {
  const bySeries = new Map<string, ImageRecord[]>();
  for (const r of records) {
    // dcm2niix also separates by SeriesNumber (some exports reuse one UID for several series).
    const uid = `${r.seriesUid || `(no SeriesInstanceUID) ${r.seriesDescription}`}|${r.seriesNumber ?? ''}`;
    let list = bySeries.get(uid);
    if (!list) bySeries.set(uid, (list = []));
    list.push(r);
  }
  const out: VolumeGroup[] = [];
  for (const [uid, list] of bySeries) {
    const sub = new Map<string, ImageRecord[]>();
    for (const r of list) {
      const k = splitKey(r);
      let l = sub.get(k);
      if (!l) sub.set(k, (l = []));
      l.push(r);
    }
    const groups = [...sub.values()];
    const suffixes = splitSuffixes(groups);
    groups.forEach((g, i) => out.push(buildGroup(`${uid}#${i}`, g, suffixes[i], groups.length)));
  }
  sharedNumberEchoSuffixes(out);
  for (const g of out) {
    const sc = describeScaling(g.records);
    g.notes.push(...sc.notes);
    g.warnings.push(...sc.warnings);
    g.notes.push(...describeImageTypes(g));
  }
  // Order like a PACS list: by series number, then UID.
  out.sort((a, b) => (a.records[0].seriesNumber ?? 1e12) - (b.records[0].seriesNumber ?? 1e12) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out;
}

/**
 * dcm2niix-like suffixes for the parts of one series: _e<echo> (echo number, or order of
 * appearance when the echo numbers are equal), _ph, _fieldmaphz, else _i<first instance>.
 */
function splitSuffixes(groups: ImageRecord[][]): string[] {
  if (groups.length === 1) return [(isPhase(groups[0][0]) ? '_ph' : '') + complexSuffix(groups[0][0]) + (isFieldMapHz(groups[0][0]) ? '_fieldmaphz' : '')];
  const echoes = [...new Set(groups.map((g) => echoKey(g[0])))];
  const echoNumbers = new Set(groups.map((g) => g[0].echoNumber));
  return groups.map((g) => {
    const r = g[0];
    let s = '';
    if (echoes.length > 1) s += `_e${echoNumbers.size === echoes.length && r.echoNumber != null ? r.echoNumber : echoes.indexOf(echoKey(r)) + 1}`;
    if (isPhase(r)) s += '_ph';
    s += complexSuffix(r);
    if (isFieldMapHz(r)) s += '_fieldmaphz';
    return s;
  }).map((s, i, all) =>
    // Parts not told apart by echo/phase (orientation, matrix, image type) get _i<first instance>.
    !s || all.indexOf(s) !== all.lastIndexOf(s) ? `${s}_i${String(Math.min(...groups[i].map((x) => x.instanceNumber ?? 0))).padStart(5, '0')}` : s,
  );
}

function buildGroup(key: string, records: ImageRecord[], suffix: string, nParts: number): VolumeGroup {
  const r0 = records[0];
  const warnings: string[] = [];
  // Localizers are converted (as dcm2niix does) but flagged: they are not a diagnostic volume.
  if (r0.imageType.includes('LOCALIZER')) warnings.push('localizer (scout) image');
  if (nParts > 1) warnings.push(`series split into ${nParts} volumes (different ${describeSplit(records)}); this one is '${suffix.replace(/^_/, '')}'`);
  const geometryKnown = records.some((r) => r.iop) || records.some((r) => r.ipp);
  let iop = r0.iop;
  if (!iop) {
    iop = [1, 0, 0, 0, 1, 0];
    warnings.push('no ImageOrientationPatient: identity orientation assumed');
  }
  const row = iop.slice(0, 3);
  const col = iop.slice(3, 6);
  const nrm = cross(row, col);
  const nlen = norm(nrm) || 1;
  const normal: Vec3 = [nrm[0] / nlen, nrm[1] / nlen, nrm[2] / nlen];
  const ps = r0.pixelSpacing ?? [1, 1];
  if (!r0.pixelSpacing) warnings.push('no PixelSpacing: 1 mm assumed');

  // UIH grids give every tile its own position: their tiles are stacked like plain slices.
  const grid = r0.mosaicCount > 1 && !!r0.tilePositions;
  if (grid) records = expandGridTiles(records);
  else if (r0.mosaicCount > 1) return buildMosaic(key, records, suffix, warnings, row, col, normal, ps);

  const noPos = records.some((r) => !r.ipp);
  if (noPos) warnings.push('no ImagePositionPatient: slices stacked in instance order at 1 mm');
  const d = (r: ImageRecord, i: number) => (r.ipp ? dot(r.ipp, normal) : i);
  const withD = records.map((r, i) => ({ r, d: d(r, i) }));
  withD.sort((a, b) => a.d - b.d || compareTime(a.r, b.r));
  // Cluster equal positions (tolerance well below any real slice gap).
  const positions: { d: number; recs: ImageRecord[] }[] = [];
  for (const x of withD) {
    const last = positions[positions.length - 1];
    if (last && Math.abs(x.d - last.d) < 0.01) last.recs.push(x.r);
    else positions.push({ d: x.d, recs: [x.r] });
  }
  for (const p of positions) p.recs.sort(compareTime);
  const counts = positions.map((p) => p.recs.length);
  let frames = counts[0];
  if (counts.some((c) => c !== frames)) {
    const minC = Math.min(...counts);
    const maxC = Math.max(...counts);
    warnings.push(`positions hold different numbers of images (${minC} to ${maxC}): missing images in a 4D series? Only the first image at each position is used`);
    frames = 1;
  }
  const slices: SliceRef[][] = [];
  for (let t = 0; t < frames; t++) slices.push(positions.map((p) => ({ record: p.recs[t], tile: p.recs[t].mosaicTile ?? -1 })));

  const n = positions.length;
  const first = slices[0][0].record;
  const last = slices[0][n - 1].record;
  const origin: Vec3 = first.ipp ? [...first.ipp] : [0, 0, 0];
  let kdir: Vec3 = normal;
  let kspacing: number;
  let shearDeg = 0;
  const pos = positions.map((p) => p.d);
  if (n === 1) {
    kspacing = r0.spacingBetweenSlices && r0.numberOfFrames > 1 ? r0.spacingBetweenSlices : r0.sliceThickness || r0.spacingBetweenSlices || 1;
  } else if (first.ipp && last.ipp) {
    // Like dcm2niix: the slice axis is the step between first and last positions, which
    // keeps shears (gantry tilt) exact instead of forcing the axis onto the normal.
    const v: Vec3 = [(last.ipp[0] - first.ipp[0]) / (n - 1), (last.ipp[1] - first.ipp[1]) / (n - 1), (last.ipp[2] - first.ipp[2]) / (n - 1)];
    const vlen = norm(v);
    shearDeg = (Math.acos(Math.min(1, Math.abs(dot(v, normal)) / vlen)) * 180) / Math.PI;
    if (shearDeg > SHEAR_TOLERANCE_DEG) {
      // Gantry tilt: the slice axis is the actual step between positions (exact shear).
      kspacing = vlen;
      kdir = [v[0] / vlen, v[1] / vlen, v[2] / vlen];
    } else if (first.numberOfFrames > 1 && slices[0].every((s) => s.record.file === first.file)) {
      // One multi-frame (enhanced) file: frame positions are often rounded (e.g. to
      // 0.1 µm–0.1 mm), so the distance between the first two frames can be 5e-5 mm off
      // per slice (1.6 µm at the 33rd slice of siemens_xa30_enh_fmap_2echo). The mean
      // step along the normal keeps every frame within its rounding of its position;
      // dcm2niix's enhanced sform agrees (it uses the declared spacing, 3.4 mm there).
      kspacing = (pos[n - 1] - pos[0]) / (n - 1);
    } else {
      // Like dcm2niix: slice axis along the plane normal, spacing = distance between the
      // first two slices (keeps us within 1e-6 mm of its sform; mean spacing would drift
      // by ~2e-3 mm over 20 slices on positions rounded to 6 digits).
      const p1 = slices[0][1].record.ipp ?? last.ipp;
      kspacing = Math.hypot(p1[0] - first.ipp[0], p1[1] - first.ipp[1], p1[2] - first.ipp[2]);
    }
    checkSpacing(pos, warnings);
    const isCt = r0.modality === 'CT' || r0.modality === 'PT' || r0.modality === 'NM';
    if ((isCt && shearDeg > SHEAR_TOLERANCE_DEG) || shearDeg > 1 || Math.abs(r0.gantryTilt) > 0.01) {
      warnings.push(
        `gantry tilt ${fmt(shearDeg)}° (GantryDetectorTilt tag ${fmt(r0.gantryTilt)}°): slices are sheared; the geometry keeps the shear exactly (convert --tilt-correct also writes a tilt-corrected volume)`,
      );
    }
  } else {
    kspacing = 1;
  }
  return {
    key,
    records,
    slices,
    dims: [...tileSize(r0), n],
    frames,
    spacing: [ps[1], ps[0], kspacing],
    origin,
    direction: [row[0], col[0], kdir[0], row[1], col[1], kdir[1], row[2], col[2], kdir[2]],
    storedRows: r0.rows,
    storedColumns: r0.columns,
    mosaic: grid,
    warnings,
    suffix,
    slicePositions: pos,
    shearDeg,
    notes: [],
    geometryKnown,
  };
}

/** One record per tile of each UIH grid image, at that tile's own position. */
function expandGridTiles(records: ImageRecord[]): ImageRecord[] {
  return records.flatMap((r) => (r.tilePositions ?? []).map((ipp, k) => ({ ...r, ipp, mosaicTile: k })));
}

function describeSplit(records: ImageRecord[]): string {
  const r = records[0];
  const parts: string[] = [];
  if (r.echoNumber != null || r.echoTime != null) parts.push('echo');
  parts.push('image type/orientation/matrix');
  return parts.join(' or ');
}

/** Missing slices and uneven spacing, named by position. */
export function checkSpacing(pos: number[], warnings: string[]): void {
  if (pos.length < 2) return;
  const gaps = pos.slice(1).map((p, i) => p - pos[i]);
  const sorted = [...gaps].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const missing: string[] = [];
  for (let i = 0; i < gaps.length; i++) {
    if (gaps[i] > 1.5 * median) {
      const nMissing = Math.round(gaps[i] / median) - 1;
      missing.push(
        `${nMissing >= 1 ? `${nMissing} missing slice${nMissing > 1 ? 's' : ''}` : 'gap'} between slice ${i + 1} and ${i + 2} (positions ${fmt(pos[i])} and ${fmt(pos[i + 1])} mm along the normal: gap ${fmt(gaps[i])} mm, expected ${fmt(median)} mm)`,
      );
    }
  }
  if (missing.length) {
    warnings.push(`missing slice: ${missing.join('; ')}`);
    return;
  }
  const min = sorted[0];
  const max = sorted[sorted.length - 1];
  if (max - min > Math.max(0.01 * median, 1e-3)) {
    warnings.push(`uneven slice spacing: gaps from ${fmt(min, 3)} to ${fmt(max, 3)} mm (NIfTI holds one step: the exact file uses the first; an equal-spacing _Eq_1 volume is written too)`);
  }
}

function buildMosaic(
  key: string,
  records: ImageRecord[],
  suffix: string,
  warnings: string[],
  row: number[],
  col: number[],
  normal: Vec3,
  ps: [number, number],
): VolumeGroup {
  const r0 = records[0];
  const n = r0.mosaicCount;
  const tilesPerRow = Math.ceil(Math.sqrt(n));
  const cols = Math.floor(r0.columns / tilesPerRow);
  const rows = Math.floor(r0.rows / tilesPerRow);
  const vols = [...records].sort(compareTime);
  // DICOM positions the mosaic as one big image; the first tile's centre is offset.
  const ipp = r0.ipp ?? [0, 0, 0];
  const dc = (ps[1] * (r0.columns - cols)) / 2;
  const dr = (ps[0] * (r0.rows - rows)) / 2;
  const tile0: Vec3 = [ipp[0] + row[0] * dc + col[0] * dr, ipp[1] + row[1] * dc + col[1] * dr, ipp[2] + row[2] * dc + col[2] * dr];
  const step = r0.spacingBetweenSlices || r0.sliceThickness || 1;
  // Tiles are stored in acquisition order along the CSA slice normal; we store slices
  // ascending along the plane normal (like every other series), so reverse if needed.
  const descending = r0.sliceNormal ? dot(r0.sliceNormal, normal) < 0 : false;
  const sn = r0.sliceNormal ?? normal;
  const origin: Vec3 = descending ? [tile0[0] + sn[0] * step * (n - 1), tile0[1] + sn[1] * step * (n - 1), tile0[2] + sn[2] * step * (n - 1)] : tile0;
  const slices = vols.map((rec) => Array.from({ length: n }, (_, k) => ({ record: rec, tile: descending ? n - 1 - k : k })));
  const pos = Array.from({ length: n }, (_, k) => dot(origin, normal) + k * step);
  return {
    key,
    records,
    slices,
    dims: [cols, rows, n],
    frames: vols.length,
    spacing: [ps[1], ps[0], step],
    origin,
    direction: [row[0], col[0], normal[0], row[1], col[1], normal[1], row[2], col[2], normal[2]],
    storedRows: r0.rows,
    storedColumns: r0.columns,
    mosaic: true,
    warnings,
    suffix,
    slicePositions: pos,
    shearDeg: 0,
    notes: [],
    geometryKnown: true,
  };
}

/** 'axial' | 'coronal' | 'sagittal' from the slice normal, or 'oblique' (> 0.5° off). */
export function orientationName(direction: Mat3): string {
  const row = [direction[0], direction[3], direction[6]];
  const col = [direction[1], direction[4], direction[7]];
  const n = cross(row, col);
  const l = norm(n) || 1;
  const a = [Math.abs(n[0] / l), Math.abs(n[1] / l), Math.abs(n[2] / l)];
  const m = Math.max(...a);
  if (m < Math.cos((0.5 * Math.PI) / 180)) return 'oblique';
  return m === a[2] ? 'axial' : m === a[1] ? 'coronal' : 'sagittal';
}
