/**
 * DICOM → NIfTI conversion (the `lattice convert` verb and any caller that wants files):
 * scan, pick series, assemble each volume, write it in dcm2niix's voxel order with a
 * JSON sidecar. One series at a time so that peak memory stays about one volume.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeNiftiFile } from '../nifti/nifti-file';
import { writeFileAtomic } from '../fs/atomic-write';
import type { Volume } from '../../src-shared/image/volume';
import type { DicomScan, DicomSeriesSummary, FileProblem } from './types';
import { scanDicom, scanState } from './scan';
import { assembleVolume } from './assemble';
import { recordScaling } from './philips-scaling';
import { canStream, streamGroupToNifti } from './stream-nifti';
import { dcm2niixBaseName, dcm2niixDescription, sidecar, toDcm2niixLayout } from './dcm2niix-compat';
import { needsResampledOutput, resampledOutputs } from './resampled-outputs';
import { diffusionSidecarFields, diffusionTable, formatBval, formatBvec } from './diffusion';

export const LATTICE_VERSION = '0.1.0';

export interface ConvertOptions {
  gzip?: boolean;
  /** Series to convert: SeriesNumber, SeriesInstanceUID or scan id; all when empty. */
  series?: string[];
  sidecar?: boolean;
  /** Also write gantry-tilted stacks tilt-corrected (dcm2niix's _Tilt_1 / _Tilt_Eq_1). */
  tiltCorrect?: boolean;
  onSeries?: (s: DicomSeriesSummary, index: number, total: number) => void;
  signal?: AbortSignal;
}

export interface ConvertedFile {
  series: DicomSeriesSummary;
  nifti: string;
  json?: string;
  /** FSL b-values / vectors (NIfTI voxel frame), for diffusion-weighted series. */
  bval?: string;
  bvec?: string;
  /** Resampled companions (_Eq_1, _Tilt_1, _Tilt_Eq_1) of stacks NIfTI cannot hold exactly. */
  resampled?: string[];
  warnings: string[];
}

export interface ConvertResult {
  scan: DicomScan;
  converted: ConvertedFile[];
  /** Series that failed, and files that could not be used. */
  failures: FileProblem[];
  /** Selection problems (asked for a series that is not there). */
  selectionErrors: string[];
}

/** Resolves --series values against a scan: SeriesNumber first, then UID, then listing id. */
export function selectSeries(scan: DicomScan, wanted: string[] | undefined): { chosen: DicomSeriesSummary[]; errors: string[] } {
  if (!wanted || wanted.length === 0) return { chosen: scan.series, errors: [] };
  const chosen = new Set<DicomSeriesSummary>();
  const errors: string[] = [];
  for (const w of wanted) {
    let hits = scan.series.filter((s) => s.seriesNumber != null && String(s.seriesNumber) === w);
    if (!hits.length) hits = scan.series.filter((s) => s.seriesInstanceUid === w);
    if (!hits.length) hits = scan.series.filter((s) => `#${s.id}` === w || s.id === w);
    if (!hits.length) {
      const avail = scan.series.map((s) => `${s.seriesNumber ?? '?'} (${s.seriesInstanceUid})`).join(', ');
      errors.push(`no series '${w}' in the input${avail ? `; available: ${avail}` : ''}`);
    }
    hits.forEach((h) => chosen.add(h));
  }
  return { chosen: scan.series.filter((s) => chosen.has(s)), errors };
}

export async function convertDicom(inputs: string[], outDir: string, opts: ConvertOptions = {}): Promise<ConvertResult> {
  const scan = await scanDicom(inputs, { signal: opts.signal });
  const state = scanState(scan)!;
  const { chosen, errors } = selectSeries(scan, opts.series);
  const result: ConvertResult = { scan, converted: [], failures: [...scan.problems], selectionErrors: errors };
  if (!chosen.length) return result;
  await mkdir(outDir, { recursive: true });
  const used = new Set<string>();
  const ext = opts.gzip ? '.nii.gz' : '.nii';
  for (let i = 0; i < chosen.length; i++) {
    const s = chosen[i];
    opts.onSeries?.(s, i, chosen.length);
    const group = state.groups.get(s.id)!;
    try {
      // Name clashes get a letter, like dcm2niix -w 2 (never overwrite another output of this run).
      const base0 = dcm2niixBaseName(group);
      let base = base0;
      for (let c = 0; used.has(base); c++) base = `${base0}${String.fromCharCode(97 + c)}`;
      used.add(base);
      const nifti = join(outDir, base + ext);
      let out: Volume;
      let warnings: string[];
      // Images without any orientation/position: say "unknown" (code 0) like dcm2niix.
      const codes = group.geometryKnown ? { sformCode: 1, qformCode: 1 } : { sformCode: 0, qformCode: 0 };
      let assembled: Volume | undefined;
      if (!opts.gzip && canStream(group)) {
        // Uncompressed output of plain slices: streamed, the volume is never in memory.
        ({ volume: out, warnings } = await streamGroupToNifti(group, nifti, dcm2niixDescription(group), codes));
      } else {
        const loaded = await assembleVolume(group, { signal: opts.signal, flipRows: true, tags: false, scaling: recordScaling });
        warnings = loaded.warnings;
        assembled = loaded.volume;
        out = toDcm2niixLayout(loaded.volume, group, true);
        await writeNiftiFile(nifti, out, { description: dcm2niixDescription(group), gzip: !!opts.gzip, ...codes });
      }
      const written: ConvertedFile = { series: s, nifti, warnings };
      if (needsResampledOutput(group, !!opts.tiltCorrect)) {
        // Rare (uneven or tilted stacks): the streamed path loads the volume for this.
        assembled ??= (await assembleVolume(group, { signal: opts.signal, flipRows: true, tags: false, scaling: recordScaling })).volume;
        for (const r of await resampledOutputs(group, assembled, { tiltCorrect: !!opts.tiltCorrect, signal: opts.signal })) {
          const path = join(outDir, base + r.suffix + ext);
          await writeNiftiFile(path, r.volume, { description: dcm2niixDescription(group), gzip: !!opts.gzip, sformCode: 1, qformCode: 1 });
          (written.resampled ??= []).push(path);
          warnings.push(r.note);
        }
      }
      const dwi = diffusionTable(group.slices.map((v) => v[0].record), out);
      if (dwi) {
        written.bval = join(outDir, base + '.bval');
        await writeFileAtomic(written.bval, [new TextEncoder().encode(formatBval(dwi))]);
        if (dwi.bvecs) {
          written.bvec = join(outDir, base + '.bvec');
          await writeFileAtomic(written.bvec, [new TextEncoder().encode(formatBvec(dwi))]);
        }
      }
      if (opts.sidecar !== false) {
        written.json = join(outDir, base + '.json');
        const j = sidecar(group, out, warnings, LATTICE_VERSION);
        if (dwi) Object.assign(j, diffusionSidecarFields(dwi));
        const text = JSON.stringify(j, null, 2) + '\n';
        await writeFileAtomic(written.json, [new TextEncoder().encode(text)]);
      }
      result.converted.push(written);
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      result.failures.push({ file: group.records[0].file, problem: `series ${s.seriesNumber ?? s.id} not converted: ${(e as Error).message}` });
    }
  }
  return result;
}
