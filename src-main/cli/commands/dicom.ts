/**
 * `lattice info` and `lattice convert`: DICOM series listing and DICOM → NIfTI.
 * Exit codes: 0 when something was listed/converted, 1 when nothing could be
 * converted, 2 for impossible requests (bad options, unknown series).
 */
import type { CliIO, CommandTable } from '../command';
import { scanDicom, type DicomScan } from '../../dicom/index';
import { convertDicom, selectSeries } from '../../dicom/convert';
import { seriesTraitNotes } from '../../dicom/series-traits';

function fmtVec(v: number[], d = 3): string {
  return v.map((x) => String(Number(x.toFixed(d)))).join('×');
}

function reportScanIssues(scan: DicomScan, io: CliIO): void {
  for (const p of scan.problems) io.err(`${p.file}: ${p.problem}`);
  for (const n of scan.notes) io.err(`note: ${n}`);
}

function parseArgs(args: string[], withValue: string[]): { positional: string[]; flags: Map<string, string[]>; error?: string } {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('-') && a !== '-') {
      const [name, inline] = a.split('=', 2);
      if (withValue.includes(name)) {
        const v = inline ?? args[++i];
        if (v === undefined) return { positional, flags, error: `option ${name} needs a value` };
        flags.set(name, [...(flags.get(name) ?? []), v]);
      } else flags.set(name, []);
    } else positional.push(a);
  }
  return { positional, flags };
}

export const commands: CommandTable = {
  info: {
    summary: 'List the DICOM series found in files or folders',
    usage: [
      'Usage: lattice info <input…> [--json]',
      '',
      'Scans files and folders (recursively) and lists every series: number, description,',
      'modality, dimensions, volumes, spacing, orientation, file count and warnings.',
      'Files that cannot be used are named with the reason; non-image objects are noted.',
    ].join('\n'),
    async run(args, io) {
      const { positional, flags, error } = parseArgs(args, []);
      if (error) return io.err(`lattice info: ${error}`), 2;
      for (const f of flags.keys()) if (f !== '--json') return io.err(`lattice info: unknown option ${f}`), 2;
      if (!positional.length) return io.err('lattice info: give at least one file or folder'), 2;
      const scan = await scanDicom(positional);
      const traits = await seriesTraitNotes(scan);
      if (flags.has('--json')) {
        const series = scan.series.map((s) => ({ ...s, notes: [...(s.notes ?? []), ...(traits.get(s.id) ?? [])] }));
        io.out(JSON.stringify({ series, problems: scan.problems, notes: scan.notes }, null, 2));
        return scan.series.length ? 0 : 1;
      }
      reportScanIssues(scan, io);
      io.out(`${scan.series.length} series found`);
      for (const s of scan.series) {
        const dims = s.frames > 1 ? `${fmtVec(s.dims, 0)}×${s.frames}` : fmtVec(s.dims, 0);
        io.out(
          `#${s.id}  series ${s.seriesNumber ?? '-'}  ${s.modality || '?'}  "${s.description}"  ${dims}  spacing ${fmtVec(s.spacing)} mm  ${s.orientation}  ${s.fileCount} file${s.fileCount === 1 ? '' : 's'}  uid ${s.seriesInstanceUid}`,
        );
        for (const w of s.warnings) io.out(`    warning: ${w}`);
        for (const n of s.notes ?? []) io.out(`    note: ${n}`);
        for (const n of traits.get(s.id) ?? []) io.out(`    note: ${n}`);
      }
      return scan.series.length ? 0 : 1;
    },
  },
  convert: {
    summary: 'Convert DICOM series to NIfTI (dcm2niix-compatible names and voxel order)',
    usage: [
      'Usage: lattice convert <input…> -o <dir> [--gz] [--series N|UID]… [--no-json] [--tilt-correct]',
      '',
      'Writes one NIfTI per volume, named like dcm2niix (%f_%p_%t_%s plus _e2, _ph, … for',
      'split series), with a JSON sidecar of the key acquisition fields.',
      '  -o, --out <dir>   output folder (created if needed)',
      '  --gz              write .nii.gz (compressed on all cores)',
      '  --series N|UID    only this series (SeriesNumber, SeriesInstanceUID or #id from `lattice info`); repeatable',
      '  --no-json         no sidecar',
      '  --tilt-correct    also write gantry-tilted CT resampled with the slice axis along the normal',
      '                    (_Tilt_1, or _Tilt_Eq_1 with uneven spacing; the exact sheared file is always written)',
      '',
      'Stacks with uneven slice spacing get a second file resampled to equal spacing over the whole',
      'stack (_Eq_1); diffusion series get .bval/.bvec (FSL, NIfTI voxel frame).',
    ].join('\n'),
    async run(args, io) {
      const { positional, flags, error } = parseArgs(args, ['-o', '--out', '--series']);
      if (error) return io.err(`lattice convert: ${error}`), 2;
      for (const f of flags.keys()) if (!['-o', '--out', '--series', '--gz', '-z', '--no-json', '--tilt-correct'].includes(f)) return io.err(`lattice convert: unknown option ${f}`), 2;
      const out = flags.get('-o')?.[0] ?? flags.get('--out')?.[0];
      if (!out) return io.err('lattice convert: give an output folder with -o <dir>'), 2;
      if (!positional.length) return io.err('lattice convert: give at least one file or folder'), 2;
      const t0 = performance.now();
      const res = await convertDicom(positional, out, {
        gzip: flags.has('--gz') || flags.has('-z'),
        series: flags.get('--series'),
        sidecar: !flags.has('--no-json'),
        tiltCorrect: flags.has('--tilt-correct'),
      });
      reportScanIssues(res.scan, io);
      for (const e of res.selectionErrors) io.err(`lattice convert: ${e}`);
      for (const f of res.failures.slice(res.scan.problems.length)) io.err(`${f.file}: ${f.problem}`);
      for (const c of res.converted) {
        io.out(`${c.nifti}  (series ${c.series.seriesNumber ?? '-'}, ${fmtVec(c.series.dims, 0)}${c.series.frames > 1 ? `×${c.series.frames}` : ''})`);
        for (const w of c.warnings) io.out(`    warning: ${w}`);
        for (const n of c.series.notes ?? []) io.out(`    note: ${n}`);
        for (const f of [c.bval, c.bvec, ...(c.resampled ?? [])]) if (f) io.out(`    also: ${f}`);
      }
      io.out(`converted ${res.converted.length} of ${selectSeries(res.scan, flags.get('--series')).chosen.length} series in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      if (res.selectionErrors.length && !res.converted.length) return 2;
      return res.converted.length ? 0 : 1;
    },
  },
};
