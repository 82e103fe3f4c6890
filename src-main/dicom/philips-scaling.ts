/**
 * Which real values a converted volume holds, decided the way dcm2niix (v1.0.2022x,
 * default `-p y`) decides them:
 *
 * - Display values D = stored · RS + RI, with RS/RI the RescaleSlope/Intercept
 *   (0028,1053/1052), in enhanced files the frame's Pixel Value Transformation
 *   (0028,9145). Where a file has no rescale of its own (slope 1, intercept 0) but a
 *   Real World Value Mapping (0040,9096: slope 0040,9225, intercept 0040,9224), that
 *   mapping is used instead (dcm2niix gives the standard rescale precedence).
 * - Philips MR with the private scale slope SS (2005,100E, per frame in 2005,140F for
 *   enhanced files): Philips "floating-point" values P = D / (RS · SS)
 *   (Chenevert et al., PMC3998685), as dcm2niix writes them. For phase images
 *   (RS 1.5346, RI -3142, SS 651.74) that is radians; for magnitude it is the
 *   scanner's quantitative FP scale.
 *
 * dcm2niix computes P's slope and intercept in float32 as P(1) − P(0) and P(0); we use
 * the exact 1/SS and RI/(RS·SS) (float32 cancellation makes dcm2niix's phase slope
 * 6.9e-5 relative off; see test/philips-scaling.test.ts).
 *
 * Every record (slice or frame) gets its own scaling; a volume whose records disagree
 * is written as float32 real values, with a warning.
 */
import type { ImageRecord } from './types';

export type ScalingMode = 'philips-precise' | 'display' | 'real-world';

export interface RecordScaling {
  slope: number;
  intercept: number;
  mode: ScalingMode;
}

export function isPhilips(r: ImageRecord): boolean {
  return /philips/i.test(r.manufacturer);
}

/** RS/RI of a record, falling back to the real-world value mapping where the file has no rescale. */
export function displayScaling(r: ImageRecord): RecordScaling {
  const hasRescale = r.rescaleSlope !== 1 || r.rescaleIntercept !== 0;
  if (!hasRescale && r.rwvSlope != null && r.rwvSlope !== 0 && Number.isFinite(r.rwvSlope)) {
    return { slope: r.rwvSlope, intercept: r.rwvIntercept ?? 0, mode: 'real-world' };
  }
  return { slope: r.rescaleSlope, intercept: r.rescaleIntercept, mode: 'display' };
}

/** The scaling dcm2niix applies to one record (precise for Philips with a scale slope). */
export function recordScaling(r: ImageRecord): RecordScaling {
  const d = displayScaling(r);
  const ss = r.philipsScaleSlope;
  if (isPhilips(r) && ss != null && Number.isFinite(ss) && ss !== 0 && d.slope * ss !== 0) {
    return { slope: 1 / ss, intercept: d.intercept / (d.slope * ss), mode: 'philips-precise' };
  }
  return d;
}

const g = (x: number) => Number(x.toPrecision(6));

/** The dcm2niix sidecar fields about scaling (PhilipsRWVSlope … UsePhilipsFloatNotDisplayScaling). */
export function scalingSidecarFields(r: ImageRecord): Record<string, number> {
  const out: Record<string, number> = {};
  if (r.rwvSlope != null && r.rwvSlope !== 0) {
    out.PhilipsRWVSlope = g(r.rwvSlope);
    out.PhilipsRWVIntercept = g(r.rwvIntercept ?? 0);
  }
  const ss = r.philipsScaleSlope;
  if (isPhilips(r) && ss != null && ss !== 0 && Number.isFinite(ss)) {
    const d = displayScaling(r);
    out.PhilipsRescaleSlope = g(d.slope);
    out.PhilipsRescaleIntercept = g(d.intercept);
    out.PhilipsScaleSlope = g(ss);
    out.UsePhilipsFloatNotDisplayScaling = 1;
  }
  return out;
}

/** True when two scalings give the same real values (to float32 precision of the header). */
function sameScaling(a: RecordScaling, b: RecordScaling): boolean {
  const close = (x: number, y: number) => Math.abs(x - y) <= 1e-7 * Math.max(Math.abs(x), Math.abs(y));
  return close(a.slope, b.slope) && close(a.intercept, b.intercept);
}

/** Whether every record of a volume shares one scaling (else the volume must be float32). */
export function scalingVaries(records: ImageRecord[], scale: (r: ImageRecord) => RecordScaling = recordScaling): boolean {
  const s0 = scale(records[0]);
  return records.some((r) => !sameScaling(scale(r), s0));
}

/**
 * Notes and warnings that say which scaling a volume's values have and where that is
 * ambiguous. Notes: the choice made (lattice info lists them). Warnings: a choice a
 * user should check.
 */
export function describeScaling(records: ImageRecord[]): { notes: string[]; warnings: string[] } {
  const notes: string[] = [];
  const warnings: string[] = [];
  const r = records[0];
  const s = recordScaling(r);
  const d = displayScaling(r);
  const fmt = (x: number) => String(g(x));
  if (s.mode === 'philips-precise') {
    notes.push(
      `Philips scaling: values are Philips floating-point values FP = (stored·RS + RI)/(RS·SS) with RS ${fmt(d.slope)}, RI ${fmt(d.intercept)}, SS ${fmt(r.philipsScaleSlope!)} (private 2005,100E), as dcm2niix -p y (sidecar UsePhilipsFloatNotDisplayScaling = 1)`,
    );
    if (r.rwvSlope != null && r.rwvSlope !== 0 && !sameScaling({ slope: r.rwvSlope, intercept: r.rwvIntercept ?? 0, mode: 'real-world' }, d)) {
      warnings.push(
        `ambiguous scaling: the real-world value mapping (0040,9225/9224: slope ${fmt(r.rwvSlope)}, intercept ${fmt(r.rwvIntercept ?? 0)}) differs from RescaleSlope/Intercept (${fmt(d.slope)}, ${fmt(d.intercept)}); Philips floating-point values were written (both are in the sidecar)`,
      );
    }
  } else if (isPhilips(r) && r.modality === 'MR' && (d.slope !== 1 || d.intercept !== 0)) {
    warnings.push(
      `ambiguous scaling: Philips image without the private scale slope (2005,100E): values are display values (stored·${fmt(d.slope)} + ${fmt(d.intercept)}), not Philips floating-point values, and may not compare between scans`,
    );
  } else if (s.mode === 'real-world') {
    notes.push(`real-world value mapping used (no rescale in the file): slope ${fmt(s.slope)}, intercept ${fmt(s.intercept)}`);
  }
  if (records.length > 1 && scalingVaries(records)) {
    warnings.push(
      `scaling differs between the slices/frames of this volume (${isPhilips(r) ? 'rescale or Philips scale slope' : 'rescale slope/intercept'}): the volume holds real values as float32`,
    );
  }
  return { notes, warnings };
}
