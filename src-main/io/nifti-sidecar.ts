/**
 * The BIDS / dcm2niix JSON sidecar beside a NIfTI file (`name.json` next to `name.nii.gz`).
 * NIfTI itself has no modality or series description, so without it a CT converted by
 * dcm2niix (or by `lattice convert`) re-opens as an anonymous image: no CT window, no HU.
 * The fields that matter for display and processing are copied into the volume's metadata
 * under their DICOM keyword names (the names the DICOM reader uses); the rest stay in
 * metadata.sidecar as JSON for the header view.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { MetadataValue, Volume } from '../../src-shared/image/volume';

/** Sidecars larger than this are not a dcm2niix/BIDS sidecar (they are a few kB). */
const MAX_SIDECAR_BYTES = 4 << 20;

/** Sidecar keys copied into metadata as they are (BIDS names equal DICOM keywords for these). */
const COPIED = [
  'Modality',
  'SeriesDescription',
  'ProtocolName',
  'SeriesNumber',
  'Manufacturer',
  'ManufacturersModelName',
  'BodyPartExamined',
  'PatientPosition',
  'ImageType',
  'MagneticFieldStrength',
  'EchoTime',
  'RepetitionTime',
  'FlipAngle',
  'KVP',
  'ConvolutionKernel',
  'StudyDescription',
  'SeriesInstanceUID',
  'StudyInstanceUID',
  'AcquisitionTime',
] as const;

export function sidecarPathFor(niftiPath: string): string {
  return niftiPath.replace(/\.nii(\.gz)?$/i, '') + '.json';
}

/**
 * Reads the sidecar of `niftiPath` into `volume.metadata` when there is one. Returns a
 * warning (naming the file) when a sidecar exists but cannot be used; never throws.
 */
export async function applyNiftiSidecar(niftiPath: string, volume: Volume): Promise<string[]> {
  const path = sidecarPathFor(niftiPath);
  if (path === niftiPath) return [];
  const st = await stat(path).catch(() => null);
  if (!st || !st.isFile()) return [];
  if (st.size > MAX_SIDECAR_BYTES) return [`${basename(path)}: ignored, ${st.size} bytes is too large for a JSON sidecar`];
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    return [`${basename(path)}: ignored, not valid JSON (${err instanceof Error ? err.message : String(err)})`];
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) return [`${basename(path)}: ignored, not a JSON object`];
  mergeSidecar(volume, json as Record<string, unknown>);
  volume.metadata.sidecarFile = path;
  return [];
}

/** Copies the sidecar's fields into the metadata (pure; exported for tests). */
export function mergeSidecar(volume: Volume, j: Record<string, unknown>): void {
  const md = volume.metadata;
  for (const k of COPIED) {
    const v = asMetadata(j[k]);
    if (v !== undefined) md[k] = v;
  }
  if (typeof md.Modality === 'string') md.Modality = md.Modality.toUpperCase();
  // BIDS "Units" (PET: Bq/mL, …); a CT's Hounsfield units are implied by the modality.
  const units = j.Units ?? j.units;
  if (typeof units === 'string' && units) md.Units = units;
  md.sidecar = JSON.stringify(j).slice(0, 65536);
}

function asMetadata(v: unknown): MetadataValue | undefined {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  return undefined;
}

/**
 * Writes a small BIDS-style sidecar next to a NIfTI Lattice exports, so that the image
 * re-opens with its modality (a CT stays a CT: window, HU) and description. Only when the
 * volume knows its modality; an existing sidecar is replaced only when `overwrite` is set
 * (it may be dcm2niix's, with far more in it). Returns the path written, or null.
 */
export async function writeNiftiSidecar(niftiPath: string, volume: Volume, opts: { overwrite?: boolean } = {}): Promise<string | null> {
  const md = volume.metadata;
  if (typeof md.Modality !== 'string' || !md.Modality) return null;
  const path = sidecarPathFor(niftiPath);
  if (path === niftiPath) return null;
  if (!opts.overwrite && (await stat(path).then(() => true, () => false))) return null;
  const j: Record<string, unknown> = {};
  for (const k of COPIED) if (md[k] !== undefined && md[k] !== null) j[k] = md[k];
  if (typeof md.Units === 'string' && md.Units) j.Units = md.Units;
  j.ConversionSoftware = 'Lattice';
  const { writeFileAtomic } = await import('../fs/atomic-write');
  await writeFileAtomic(path, [new TextEncoder().encode(JSON.stringify(j, null, 2) + '\n')]);
  return path;
}
