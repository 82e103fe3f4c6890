/**
 * Diffusion weighting: reading each vendor's b-value and gradient direction from a DICOM
 * header, and writing them as FSL .bval/.bvec in the NIfTI voxel frame, as dcm2niix does.
 *
 * Where vendors keep it (and in which frame):
 * - Siemens: CSA image header B_value / DiffusionGradientDirection (patient LPS), or the
 *   older private 0019,100C / 0019,100E;
 * - standard and enhanced DICOM (Siemens XA, Philips enhanced, Toshiba): DiffusionBValue
 *   0018,9087 and DiffusionGradientOrientation 0018,9089, in the MR Diffusion Sequence
 *   0018,9117 (per frame) or at the top level (patient LPS);
 * - Philips classic: 2001,1003 b-value, 2005,10B0/B1/B2 direction (RL, AP, FH = LPS);
 * - GE: 0043,1039 (first value; above 1e9 the higher digits are flags), direction
 *   0019,10BB/BC/BD in GE's image frame (−row, −column, +normal);
 * - UIH: 0065,1009 b-value, 0065,1037 direction in the image frame (row, column, normal);
 * - Canon classic files: "b=1500(x,y,z)" in ImageComments, in the image frame
 *   (−column, −row, +normal); DiffusionBValue holds the b-value.
 *
 * Output frame (FSL's convention, what dcm2niix writes): the components along the written
 * volume's i, j, k axes, with x negated when the voxel-to-world matrix has a positive
 * determinant. Computing it from the final direction matrix covers the row flip, slice
 * order and 3D reorientation in one rule.
 */
import type dicomParser from 'dicom-parser';
import type { Mat3, Vec3, Volume } from '../../src-shared/image/volume';
import type { ImageRecord } from './types';
import { parseCsaHeader } from './csa';
import { mat3Determinant } from '../../src-shared/geometry/mat';

type DataSet = dicomParser.DataSet;
export type DiffusionFrame = 'lps' | 'ge-image' | 'uih-image' | 'canon-image';

export interface DiffusionInfo {
  bValue: number;
  /** Gradient direction as stored (null: none given, e.g. b = 0). */
  direction: Vec3 | null;
  frame: DiffusionFrame;
  /** Where it was read, for notes and the sidecar ("Siemens CSA", "GE private", …). */
  source: string;
  /** The tag's b-value when bValue was set otherwise (GE derived maps report 0). */
  sourceBValue?: number;
}

/**
 * Whether an image is diffusion-weighted at all: many non-DWI files carry the tags with
 * b = 0 and no direction (GE fMRI, Philips field maps), and get no .bval — as dcm2niix.
 */
export function isDiffusionWeighted(d: DiffusionInfo | null | undefined): boolean {
  return !!d && ((d.sourceBValue ?? d.bValue) > 0 || (d.direction?.some((x) => x !== 0) ?? false));
}

function text(ds: DataSet | undefined, tag: string): string {
  if (!ds?.elements[tag]) return '';
  try {
    return (ds.string(tag) ?? '').trim();
  } catch {
    return '';
  }
}

function decimals(ds: DataSet | undefined, tag: string): number[] | null {
  const s = text(ds, tag);
  if (!s) return null;
  const v = s.split('\\').map((x) => Number(x.trim()));
  return v.length && v.every(Number.isFinite) ? v : null;
}

/** FL/FD values (binary), whatever the element length says; DS text as a fallback. */
function floats(ds: DataSet | undefined, tag: string): number[] | null {
  const el = ds?.elements[tag];
  if (!ds || !el || !el.length) return null;
  const out: number[] = [];
  const isText = (b: number) => (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2b || b === 0x2e || b === 0x20 || b === 0x5c || b === 0x65 || b === 0x45;
  const bytes = ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length);
  if (bytes.every(isText)) return decimals(ds, tag);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = el.vr === 'FL' || (el.vr !== 'FD' && el.length % 8 !== 0) ? 4 : 8;
  for (let p = 0; p + size <= bytes.length; p += size) out.push(size === 4 ? dv.getFloat32(p, true) : dv.getFloat64(p, true));
  return out.length && out.every(Number.isFinite) ? out : null;
}

function item(ds: DataSet | undefined, tag: string): DataSet | undefined {
  const el = ds?.elements[tag];
  return el?.items && el.items.length ? el.items[0].dataSet : undefined;
}

const vec3 = (v: number[] | null): Vec3 | null => (v && v.length >= 3 ? [v[0], v[1], v[2]] : null);

/** Standard tags (0018,9087 / 0018,9089), from a data set or an MR Diffusion Sequence item. */
export function readStandardDiffusion(ds: DataSet | undefined): DiffusionInfo | null {
  if (!ds) return null;
  const seq = item(ds, 'x00189117');
  const src = seq ?? ds;
  const b = floats(src, 'x00189087')?.[0];
  if (b === undefined) return null;
  const dir = vec3(floats(item(src, 'x00189076'), 'x00189089') ?? floats(src, 'x00189089'));
  return { bValue: b, direction: dir, frame: 'lps', source: 'DiffusionBValue/DiffusionGradientOrientation' };
}

/** The diffusion weighting of a (single-frame or top-level) header, or null when it has none. */
export function readDiffusion(ds: DataSet, manufacturer: string, imageType: string[]): DiffusionInfo | null {
  const m = manufacturer.toUpperCase();
  if (m.includes('SIEMENS')) {
    const csaEl = ds.elements.x00291010;
    if (csaEl && csaEl.length > 0 && csaEl.dataOffset + csaEl.length <= ds.byteArray.length) {
      const csa = parseCsaHeader(ds.byteArray.subarray(csaEl.dataOffset, csaEl.dataOffset + csaEl.length));
      const b = csa.B_value?.length ? Number(csa.B_value[0]) : NaN;
      if (Number.isFinite(b)) {
        const d = csa.DiffusionGradientDirection?.map(Number);
        return { bValue: b, direction: d && d.length === 3 && d.every(Number.isFinite) ? (d as Vec3) : null, frame: 'lps', source: 'Siemens CSA' };
      }
    }
    const b = decimals(ds, 'x0019100c')?.[0] ?? floats(ds, 'x0019100c')?.[0];
    if (b !== undefined) return { bValue: b, direction: vec3(floats(ds, 'x0019100e')), frame: 'lps', source: 'Siemens private 0019,100C' };
    return readStandardDiffusion(ds);
  }
  if (m.includes('GE')) {
    const raw = decimals(ds, 'x00431039')?.[0];
    if (raw === undefined) return readStandardDiffusion(ds);
    // Values from 1e9 up carry flags in the higher digits; the b-value is the rest.
    const tagB = raw >= 1e9 ? raw % 1e9 : raw;
    let b = tagB;
    // Scanner-made maps (ADC, trace) keep the source b-value in this tag; they are not
    // diffusion-weighted volumes themselves (dcm2niix reports b = 0 for them).
    if (imageType[0] === 'DERIVED') b = 0;
    const x = decimals(ds, 'x001910bb')?.[0];
    const y = decimals(ds, 'x001910bc')?.[0];
    const z = decimals(ds, 'x001910bd')?.[0];
    const dir: Vec3 | null = x !== undefined && y !== undefined && z !== undefined ? [x, y, z] : null;
    return { bValue: b, direction: dir, frame: 'ge-image', source: 'GE private 0043,1039 / 0019,10BB-BD', ...(b !== tagB ? { sourceBValue: tagB } : {}) };
  }
  if (m.includes('UIH') || m.includes('UNITED IMAGING')) {
    const b = floats(ds, 'x00651009')?.[0];
    if (b === undefined) return readStandardDiffusion(ds);
    return { bValue: b, direction: vec3(floats(ds, 'x00651037')), frame: 'uih-image', source: 'UIH private 0065,1009 / 0065,1037' };
  }
  if (m.includes('PHILIPS')) {
    const std = readStandardDiffusion(ds);
    if (std) return std;
    const b = floats(ds, 'x20011003')?.[0];
    if (b === undefined) return null;
    const rl = floats(ds, 'x200510b0')?.[0];
    const ap = floats(ds, 'x200510b1')?.[0];
    const fh = floats(ds, 'x200510b2')?.[0];
    return { bValue: b, direction: rl !== undefined && ap !== undefined && fh !== undefined ? [rl, ap, fh] : null, frame: 'lps', source: 'Philips private 2001,1003 / 2005,10B0-B2' };
  }
  const std = readStandardDiffusion(ds);
  if (m.includes('CANON') || m.includes('TOSHIBA')) {
    const c = /b=\s*([-+\d.eE]+)\s*\(\s*([-+\d.eE]+)\s*,\s*([-+\d.eE]+)\s*,\s*([-+\d.eE]+)\s*\)/.exec(text(ds, 'x00204000'));
    if (c) {
      const v = c.slice(1).map(Number);
      if (v.every(Number.isFinite)) return { bValue: std?.bValue ?? v[0], direction: [v[1], v[2], v[3]], frame: 'canon-image', source: 'Canon ImageComments' };
    }
    if (std && !std.direction) return { ...std, source: 'Canon DiffusionBValue' };
  }
  return std;
}

const dot = (a: number[], b: number[]): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** The stored direction as a patient-LPS vector, given the image's row/column directions. */
export function directionToLps(info: DiffusionInfo, iop: number[]): Vec3 | null {
  const v = info.direction;
  if (!v) return null;
  if (info.frame === 'lps') return [...v];
  const r = iop.slice(0, 3);
  const c = iop.slice(3, 6);
  const n: Vec3 = [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]];
  // Coefficients of (row, column, normal) for each vendor's image frame.
  const [a, b, z] = info.frame === 'ge-image' ? [-v[0], -v[1], v[2]] : info.frame === 'canon-image' ? [-v[1], -v[0], v[2]] : [v[0], v[1], v[2]];
  return [0, 1, 2].map((i) => a * r[i] + b * c[i] + z * n[i]) as Vec3;
}

/** An LPS direction in the FSL voxel frame of a volume with these LPS direction columns. */
export function lpsToBvec(w: Vec3, direction: Mat3): Vec3 {
  const col = (a: number): Vec3 => [direction[a], direction[3 + a], direction[6 + a]];
  const out: Vec3 = [dot(w, col(0)), dot(w, col(1)), dot(w, col(2))];
  if (mat3Determinant(direction) > 0) out[0] = -out[0];
  // Not renormalised (dcm2niix keeps the scanner's lengths, e.g. GE's 1.0004); round-off
  // of the frame change below printed precision is zeroed (+ 0: no -0).
  return out.map((x) => (Math.abs(x) < 5e-7 ? 0 : x) + 0) as Vec3;
}

export interface DiffusionTable {
  bvals: number[];
  /** One FSL vector per volume, or null when no volume has a direction (write no .bvec). */
  bvecs: Vec3[] | null;
  source: string;
}

/** b-values and FSL vectors per volume of a written volume, or null for a series without diffusion. */
export function diffusionTable(volumes: ImageRecord[], out: Pick<Volume, 'direction'>): DiffusionTable | null {
  const infos = volumes.map((r) => r.diffusion ?? null);
  const bvals = diffusionBValues(volumes);
  if (!bvals) return null;
  const bvecs = volumes.map((r, t) => {
    const d = infos[t];
    const w = d && r.iop ? directionToLps(d, r.iop) : null;
    return w && d!.bValue > 0 ? lpsToBvec(w, out.direction) : ([0, 0, 0] as Vec3);
  });
  const any = bvecs.some((v) => v[0] || v[1] || v[2]);
  return { bvals, bvecs: any ? bvecs : null, source: infos.find(Boolean)!.source };
}

/** b-value of each volume (records: the first image of each), or null when none is diffusion-weighted. */
export function diffusionBValues(volumes: ImageRecord[]): number[] | null {
  return volumes.some((r) => isDiffusionWeighted(r.diffusion)) ? volumes.map((r) => r.diffusion?.bValue ?? 0) : null;
}

/** dcm2niix's text: values with 6 significant digits, space separated, one line per row. */
const g6 = (x: number): string => String(Number(x.toPrecision(6)) + 0);
export function formatBval(t: DiffusionTable): string {
  return t.bvals.map(g6).join(' ') + '\n';
}
export function formatBvec(t: DiffusionTable): string {
  const v = t.bvecs!;
  return [0, 1, 2].map((c) => v.map((x) => g6(x[c])).join(' ')).join('\n') + '\n';
}

/** "17 volumes, b = 0…1000 s/mm², 16 directions" for notes and the viewer. */
export function describeDiffusion(t: DiffusionTable): string {
  const bs = [...new Set(t.bvals.map(g6))];
  const dirs = t.bvecs ? new Set(t.bvecs.filter((v) => v[0] || v[1] || v[2]).map((v) => v.map(g6).join(','))).size : 0;
  return `diffusion-weighted: ${t.bvals.length} volume${t.bvals.length > 1 ? 's' : ''}, b = ${bs.join(', ')} s/mm², ${dirs} gradient direction${dirs === 1 ? '' : 's'} (${t.source})`;
}

/** Sidecar fields of a diffusion series (BIDS-style names; the table itself is in .bval/.bvec). */
export function diffusionSidecarFields(t: DiffusionTable): Record<string, unknown> {
  return {
    DiffusionBValues: [...new Set(t.bvals.map((b) => Number(b.toPrecision(6))))],
    DiffusionGradientDirections: t.bvecs ? new Set(t.bvecs.filter((v) => v[0] || v[1] || v[2]).map((v) => v.map((x) => x.toPrecision(6)).join(','))).size : 0,
    DiffusionTableSource: t.source,
  };
}
