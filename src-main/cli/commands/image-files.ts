/**
 * `lattice info` and `lattice convert` for image files of every format (NIfTI, NRRD,
 * MetaImage, Analyze, VTK, MINC, MGH, GIPL, TIFF, PNG, JPEG, BMP: src-main/io). Inputs that
 * are not image files (DICOM files and folders) go on to the DICOM verbs
 * (commands/dicom.ts), unchanged, except that `convert --format nrrd|mha|png|…` also
 * writes DICOM series in that format.
 * Exit codes as the DICOM verbs: 0 done, 1 nothing could be done, 2 impossible request.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { CliIO, CommandTable } from '../command';
import type { Volume } from '../../../src-shared/image/volume';
import { formatForName, imageFormatOf, isImageFilePath, stripImageExtension, WRITABLE_EXTENSIONS } from '../../../src-shared/image/file-formats';
import { isOblique, orientationCode } from '../../../src-shared/geometry/geometry';
import { readImageFile, writeImageFile } from '../../io/image-file';

interface Args {
  positional: string[];
  /** Options other than ours, with their values, to hand on to the DICOM verb. */
  rest: string[];
  out?: string;
  format?: string;
  gz: boolean;
  json: boolean;
  error?: string;
}

/** Our options (-o/--out, --format, --gz/-z, --json); anything else is passed on. */
function parse(args: string[], passValued: string[]): Args {
  const a: Args = { positional: [], rest: [], gz: false, json: false };
  for (let i = 0; i < args.length; i++) {
    const x = args[i]!;
    const eq = x.indexOf('=');
    const name = x.startsWith('-') && eq > 0 ? x.slice(0, eq) : x;
    const value = () => (eq > 0 && x.startsWith('-') ? x.slice(eq + 1) : args[++i]);
    if (name === '-o' || name === '--out' || name === '--format') {
      const v = value();
      if (v === undefined) return { ...a, error: `option ${name} needs a value` };
      if (name === '--format') a.format = v;
      else a.out = v;
    } else if (name === '--gz' || name === '-z') a.gz = true;
    else if (name === '--json') a.json = true;
    else if (x.startsWith('-') && x !== '-') {
      a.rest.push(x);
      if (passValued.includes(name) && eq < 0 && i + 1 < args.length) a.rest.push(args[++i]!);
    } else a.positional.push(x);
  }
  return a;
}

/** Image files are recognised by name; a folder of that name (rare) is DICOM's business. */
function isImageFile(p: string): boolean {
  if (!isImageFilePath(p)) return false;
  try {
    return !statSync(p).isDirectory();
  } catch {
    return true; // missing: reported by the reader, naming the file
  }
}

const fmt = (v: number[], d = 4) => v.map((x) => String(Number(x.toFixed(d)))).join('×');

function range(v: Volume): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  const d = v.data;
  for (let i = 0; i < d.length; i++) {
    const x = d[i]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const a = lo * v.rescaleSlope + v.rescaleIntercept;
  const b = hi * v.rescaleSlope + v.rescaleIntercept;
  return [Math.min(a, b), Math.max(a, b)];
}

function describe(path: string, v: Volume, format: string, warnings: string[]) {
  const [lo, hi] = range(v);
  return {
    file: path,
    format,
    dims: [...v.dims],
    frames: v.frames,
    voxelType: v.voxelType,
    spacing: [...v.spacing],
    origin: [...v.origin],
    direction: [...v.direction],
    orientation: orientationCode(v),
    oblique: isOblique(v),
    rescale: { slope: v.rescaleSlope, intercept: v.rescaleIntercept },
    range: [lo, hi],
    modality: typeof v.metadata.Modality === 'string' ? v.metadata.Modality : null,
    description: typeof v.metadata.SeriesDescription === 'string' ? v.metadata.SeriesDescription : null,
    vectorComponents: typeof v.metadata.vectorComponents === 'number' ? v.metadata.vectorComponents : null,
    warnings,
  };
}

async function dicomVerb(verb: 'info' | 'convert') {
  return (await import('./dicom')).commands[verb]!;
}

/** The output file of one input: `-o file.ext` for a single input, else `<dir>/<name>.<ext>`. */
function outputFor(input: string, a: Args, single: boolean): { path: string } | { error: string } {
  const chosen = a.format ? formatForName(a.format) : null;
  if (a.format && (!chosen || !chosen.format.writable)) return { error: `--format ${a.format}: not a format Lattice writes (${WRITABLE_EXTENSIONS.join(', ')})` };
  if (a.out && isImageFilePath(a.out) && !(existsSync(a.out) && statSync(a.out).isDirectory())) {
    if (!single) return { error: `-o ${a.out} names one file but there are several inputs; give a folder` };
    if (chosen && imageFormatOf(a.out)!.format !== chosen.format.format) return { error: `-o ${a.out} and --format ${a.format} disagree` };
    return { path: a.out };
  }
  const ext = chosen?.extension ?? (a.gz ? 'nii.gz' : 'nii');
  return { path: join(a.out!, `${stripImageExtension(basename(input))}.${ext}`) };
}

export const commands: CommandTable = {
  info: {
    summary: 'Describe image files (any format) and list the DICOM series in files or folders',
    usage: [
      'Usage: lattice info <input…> [--json]',
      '',
      'Image files (NIfTI, NRRD, MetaImage, Analyze, VTK, MINC, MGH, GIPL, TIFF, PNG, JPEG, BMP)',
      'are described: format, dimensions, voxel type, spacing, origin, orientation, value range,',
      'modality (NIfTI: from the JSON sidecar). Everything else is scanned for DICOM: every series',
      'with number, description, modality, dimensions, volumes, spacing, orientation, file count',
      'and warnings. Files that cannot be used are named with the reason.',
    ].join('\n'),
    async run(args, io) {
      const a = parse(args, []);
      if (a.error) return io.err(`lattice info: ${a.error}`), 2;
      const files = a.positional.filter(isImageFile);
      if (!files.length) return (await dicomVerb('info')).run(args, io);
      if (a.out || a.format || a.gz) return io.err('lattice info: unknown option (info takes only --json)'), 2;
      const described: ReturnType<typeof describe>[] = [];
      let failed = 0;
      for (const f of files) {
        try {
          const r = await readImageFile(f);
          described.push(describe(f, r.volume, r.format, r.warnings));
        } catch (err) {
          failed++;
          io.err(err instanceof Error ? err.message : String(err));
        }
      }
      if (a.json) io.out(JSON.stringify({ images: described }, null, 2));
      else
        for (const d of described) {
          const dims = d.frames > 1 ? `${fmt(d.dims, 0)}×${d.frames}` : fmt(d.dims, 0);
          io.out(
            `${d.file}  ${d.format}  ${dims} ${d.voxelType}  spacing ${fmt(d.spacing)} mm  origin (${d.origin.map((x) => +x.toFixed(3)).join(', ')})  ${d.orientation}${d.oblique ? ' (oblique)' : ''}  range ${+d.range[0].toPrecision(6)}…${+d.range[1].toPrecision(6)}${d.modality ? `  ${d.modality}` : ''}${d.description ? `  "${d.description}"` : ''}`,
          );
          if (d.oblique) io.out(`    direction (columns i, j, k; LPS): ${d.direction.map((x) => +x.toFixed(5)).join(' ')}`);
          for (const w of d.warnings) io.out(`    note: ${w}`);
        }
      let code = described.length ? 0 : 1;
      const others = a.positional.filter((p) => !files.includes(p));
      if (others.length) {
        const c = await (await dicomVerb('info')).run([...others, ...(a.json ? ['--json'] : [])], io);
        code = Math.min(code, c);
      }
      return failed && !described.length ? 1 : code;
    },
  },
  convert: {
    summary: 'Convert between image formats, and DICOM series to NIfTI (dcm2niix-compatible) or any other format',
    usage: [
      'Usage: lattice convert <input…> -o <file|dir> [--format F] [--gz] [--series N|UID]… [--no-json]',
      '',
      'Image files (NIfTI, NRRD, MetaImage, Analyze, VTK, MINC, MGH, GIPL, TIFF, PNG, JPEG, BMP) are',
      'converted to the format of -o file.ext, or written as <dir>/<name>.<ext> for --format:',
      '  --format F        nii | nii.gz | nrrd | nhdr | mha | mhd | vtk | mnc | mgz | tif | png | jpg | bmp',
      '                    (png, jpg, bmp, tif hold one slice; other values are scaled to 8 bits)',
      'DICOM inputs (files, folders) are converted like dcm2niix: one NIfTI per volume with dcm2niix',
      'names and a JSON sidecar; with --format other than nii/nii.gz, one file per series instead.',
      '  -o, --out <dir>   output folder (created if needed), or one output file for one image input',
      '  --gz              write .nii.gz (compressed on all cores)',
      '  --series N|UID    DICOM: only this series (SeriesNumber, SeriesInstanceUID or #id); repeatable',
      '  --no-json         DICOM: no sidecar',
    ].join('\n'),
    async run(args, io) {
      const a = parse(args, ['--series']);
      if (a.error) return io.err(`lattice convert: ${a.error}`), 2;
      const files = a.positional.filter(isImageFile);
      const others = a.positional.filter((p) => !files.includes(p));
      const chosen = a.format ? formatForName(a.format) : null;
      if (a.format && (!chosen || !chosen.format.writable)) return io.err(`lattice convert: --format ${a.format}: not a format Lattice writes (${WRITABLE_EXTENSIONS.join(', ')})`), 2;
      if (!files.length && (!chosen || chosen.format.format === 'nifti')) {
        // Plain DICOM → NIfTI: the dcm2niix-compatible converter, as before.
        const pass = args.filter((x, i) => !(x === '--format' || x.startsWith('--format=') || args[i - 1] === '--format'));
        if (chosen?.extension === 'nii.gz' && !pass.includes('--gz')) pass.push('--gz');
        return (await dicomVerb('convert')).run(pass, io);
      }
      if (!a.out) return io.err('lattice convert: give the output with -o <file or dir>'), 2;
      if (!a.positional.length) return io.err('lattice convert: give at least one input'), 2;
      const outIsFile = isImageFilePath(a.out) && !(existsSync(a.out) && statSync(a.out).isDirectory());
      if (outIsFile && others.length) return io.err(`lattice convert: -o ${a.out} names one file; DICOM inputs need an output folder`), 2;
      if (!outIsFile) await mkdir(a.out, { recursive: true });
      let done = 0;
      let failed = 0;
      const t0 = performance.now();
      const write = async (input: string, label: string, volume: Volume, outPath: string, warnings: string[]) => {
        if (resolve(outPath) === resolve(input)) {
          io.err(`${input}: the output ${outPath} is the input; choose another name or format (inputs are never overwritten)`);
          failed++;
          return;
        }
        const w = await writeImageFile(outPath, volume);
        io.out(`${outPath}  (${label}, ${fmt(volume.dims, 0)}${volume.frames > 1 ? `×${volume.frames}` : ''} ${volume.voxelType})`);
        for (const x of [...warnings, ...w.warnings]) io.out(`    note: ${x}`);
        done++;
      };
      for (const f of files) {
        const o = outputFor(f, a, a.positional.length === 1);
        if ('error' in o) return io.err(`lattice convert: ${o.error}`), 2;
        try {
          const r = await readImageFile(f);
          await write(f, r.format, r.volume, o.path, r.warnings);
        } catch (err) {
          failed++;
          io.err(err instanceof Error ? err.message : String(err));
        }
      }
      if (others.length) {
        const seriesArgs: string[] = [];
        for (let i = 0; i < a.rest.length; i++) if (a.rest[i] === '--series') seriesArgs.push(a.rest[++i]!);
        const r = await convertDicomTo(others, a.out, chosen?.extension ?? (a.gz ? 'nii.gz' : 'nii'), seriesArgs, io, write);
        failed += r.failed;
      }
      io.out(`converted ${done} of ${done + failed} image${done + failed === 1 ? '' : 's'} in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      return done ? 0 : 1;
    },
  },
};

/** DICOM series → one file each in another format (named "<series number>_<description>.<ext>"). */
async function convertDicomTo(
  inputs: string[],
  dir: string,
  ext: string,
  series: string[],
  io: CliIO,
  write: (input: string, label: string, v: Volume, out: string, warnings: string[]) => Promise<void>,
): Promise<{ failed: number }> {
  const { scanDicom, loadDicomSeries } = await import('../../dicom/index');
  const { selectSeries } = await import('../../dicom/convert');
  const scan = await scanDicom(inputs);
  for (const p of scan.problems) io.err(`${p.file}: ${p.problem}`);
  const sel = selectSeries(scan, series.length ? series : undefined);
  let failed = 0;
  for (const s of sel.chosen) {
    const name = `${s.seriesNumber ?? s.id}_${(s.description || 'series').replace(/[^A-Za-z0-9._-]+/g, '_')}`.slice(0, 120);
    try {
      const { volume, warnings } = await loadDicomSeries(scan, s.id);
      await write(s.seriesInstanceUid, `DICOM series ${s.seriesNumber ?? s.id}`, volume, join(dir, `${name}.${ext}`), warnings);
    } catch (err) {
      failed++;
      io.err(`series ${s.seriesNumber ?? s.id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (!scan.series.length) failed++;
  return { failed };
}
