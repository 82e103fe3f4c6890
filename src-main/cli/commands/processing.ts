/**
 * Processing verbs of `lattice`: threshold, otsu, mask, morph, fill-holes,
 * largest-component, combine, crop, align, resample. NIfTI in, NIfTI out (written
 * atomically). The work runs in a worker thread through the job runner — the same path
 * the app uses — with progress on stderr and Ctrl-C cancelling it.
 * Exit codes: 0 done, 1 failed (unreadable input, job error), 2 bad usage, 130 cancelled.
 */
import { resolve } from 'node:path';
import type { CliIO, CliCommand, CommandTable } from '../command';
import type { Vec3, Volume } from '../../../src-shared/image/volume';
import { indexToWorld, lpsToRas, worldBounds } from '../../../src-shared/geometry/geometry';
import { readNiftiFile, writeNiftiFile } from '../../nifti/nifti-file';
import { ThreadJobRunner } from '../../jobs/thread-runner';
import { JobCancelledError } from '../../jobs/types';
import { radiusFromMm } from '../../../src-shared/processing/morphology';

export class UsageError extends Error {}

export interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

/** --name value, --name=value, or a bare --flag; `valued` lists the options that take a value. */
export function parse(verb: string, args: string[], valued: string[], bare: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const alias: Record<string, string> = { '-o': '--out' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    // Negative numbers are values, not options.
    if (a.startsWith('-') && a !== '-' && !/^-\d/.test(a)) {
      const eq = a.indexOf('=');
      let name = eq > 0 ? a.slice(0, eq) : a;
      name = alias[name] ?? name;
      if (valued.includes(name) || name === '--out') {
        const v = eq > 0 ? a.slice(eq + 1) : args[++i];
        if (v === undefined) throw new UsageError(`option ${name} needs a value`);
        flags.set(name, v);
      } else if (bare.includes(name) || name === '--quiet') flags.set(name, true);
      else throw new UsageError(`unknown option ${name} (see lattice ${verb} --help)`);
    } else positional.push(a);
  }
  return { positional, flags };
}

export function num(p: Parsed, name: string): number | undefined {
  const v = p.flags.get(name);
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v === true || !Number.isFinite(x)) throw new UsageError(`${name} needs a number, got '${v}'`);
  return x;
}

export function str(p: Parsed, name: string, allowed?: string[]): string | undefined {
  const v = p.flags.get(name);
  if (v === undefined) return undefined;
  if (v === true || (allowed && !allowed.includes(v))) throw new UsageError(`${name} must be one of ${allowed?.join(', ')}, got '${v}'`);
  return v;
}

export function outPath(p: Parsed, inputs: string[]): string {
  const o = p.flags.get('--out');
  if (typeof o !== 'string') throw new UsageError('give the output file with -o <file.nii[.gz]>');
  if (!/\.nii(\.gz)?$/i.test(o)) throw new UsageError(`output ${o}: the name must end in .nii or .nii.gz`);
  for (const i of inputs) if (resolve(i) === resolve(o)) throw new UsageError(`output ${o} is also an input; choose another name (inputs are never overwritten)`);
  return o;
}

export function inputs(p: Parsed, n: number, names: string[]): string[] {
  if (p.positional.length < n) throw new UsageError(`missing ${names.slice(p.positional.length).join(' and ')}`);
  if (p.positional.length > n) throw new UsageError(`unexpected argument '${p.positional[n]}'`);
  return p.positional;
}

export async function read(path: string, io: CliIO, firstFrameOnly = false): Promise<Volume> {
  const { volume } = await readNiftiFile(path);
  if (firstFrameOnly && volume.frames > 1) io.err(`note: ${path} has ${volume.frames} volumes; only the first is used`);
  return volume;
}

/** Runs one job with progress on stderr (when it is a terminal) and Ctrl-C to cancel. */
export async function runJob(kind: string, params: unknown, vols: Volume[], p: Parsed, io: CliIO) {
  const runner = new ThreadJobRunner();
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  const tty = process.stderr.isTTY && !p.flags.has('--quiet');
  let lastLine = '';
  try {
    return await runner.run(kind, params, vols, {
      signal: ac.signal,
      onProgress: (f, msg) => {
        if (!tty) return;
        const line = `  ${msg} ${Math.round(f * 100)}%`;
        if (line !== lastLine) process.stderr.write(`\r${line.padEnd(40)}`);
        lastLine = line;
      },
    });
  } finally {
    if (tty && lastLine) process.stderr.write(`\r${''.padEnd(40)}\r`);
    process.off('SIGINT', onSigint);
    await runner.dispose();
  }
}

function fmt(v: number[], d = 4): string {
  return `(${v.map((x) => Number(x.toFixed(d))).join(', ')})`;
}

/** Wraps a verb: usage errors → 2, cancellation → 130, other errors → 1, all prefixed. */
export function verb(name: string, summary: string, usage: string[], body: (args: string[], io: CliIO) => Promise<number>): CliCommand {
  return {
    summary,
    usage: usage.join('\n'),
    async run(args, io) {
      try {
        return await body(args, io);
      } catch (err) {
        if (err instanceof UsageError) {
          io.err(`lattice ${name}: ${err.message}`);
          return 2;
        }
        if (err instanceof JobCancelledError) {
          io.err(`lattice ${name}: cancelled`);
          return 130;
        }
        io.err(`lattice ${name}: ${err instanceof Error ? err.message : String(err)}`);
        return 1;
      }
    },
  };
}

/** Prefixes job errors (grid mismatches…) with the files involved. */
export async function withFiles<T>(files: string[], f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof JobCancelledError) throw err;
    throw new Error(`${files.join(', ')}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export const COMMON = ['  -o, --out <file>     output NIfTI (.nii or .nii.gz), written atomically', '  --quiet              no progress display'];

// ---------------------------------------------------------------------------------------

function thresholdParams(p: Parsed) {
  const lower = num(p, '--lower');
  const upper = num(p, '--upper');
  const above = num(p, '--above');
  const below = num(p, '--below');
  if (lower !== undefined && above !== undefined) throw new UsageError('give either --lower or --above, not both');
  if (upper !== undefined && below !== undefined) throw new UsageError('give either --upper or --below, not both');
  const wv = (name: string) => {
    const v = p.flags.get(name);
    if (v === undefined) return undefined;
    if (v === 'image') return 'image' as const;
    return num(p, name);
  };
  const params = {
    lower: lower ?? above,
    lowerInclusive: above === undefined,
    upper: upper ?? below,
    upperInclusive: below === undefined,
    relative: p.flags.has('--relative'),
    inside: wv('--inside'),
    outside: wv('--outside'),
  };
  if (params.lower === undefined && params.upper === undefined) throw new UsageError('give a bound: --lower/--above and/or --upper/--below, or --otsu');
  return params;
}

const threshold = verb(
  'threshold',
  'Threshold an image into a mask (bounds absolute or relative, or Otsu)',
  [
    'Usage: lattice threshold <image> -o <out> [--lower V | --above V] [--upper V | --below V]',
    '                         [--relative] [--inside V|image] [--outside V|image]',
    '       lattice threshold <image> -o <out> --otsu [--bins N]',
    '',
    'Voxels satisfying every bound are "inside". Values are real (after rescale slope/intercept).',
    '  --lower V / --above V   inside when value ≥ V / value > V',
    '  --upper V / --below V   inside when value ≤ V / value < V',
    '  --relative              bounds are fractions of the image range (0 = min, 1 = max)',
    '  --inside V|image        value written inside (default 1); "image" keeps the voxel value',
    '  --outside V|image       value written outside (default 0)',
    '  --otsu                  Otsu automatic threshold: inside = value > threshold (printed)',
    'Example (voxels ≤ 60 → 0, others → 1): lattice threshold ct.nii.gz -o body.nii.gz --above 60',
    ...COMMON,
  ],
  async (args, io) => {
    const p = parse('threshold', args, ['--lower', '--upper', '--above', '--below', '--inside', '--outside', '--bins'], ['--relative', '--otsu']);
    const [inp] = inputs(p, 1, ['<image>']);
    const out = outPath(p, [inp]);
    if (p.flags.has('--otsu')) return otsuRun(inp, out, p, io);
    const params = thresholdParams(p);
    const vol = await read(inp, io, true);
    const r = await withFiles([inp], () => runJob('processing.threshold', params, [vol], p, io));
    await writeNiftiFile(out, r.volumes[0]);
    io.out(`wrote ${out}`);
    return 0;
  },
);

async function otsuRun(inp: string, out: string, p: Parsed, io: CliIO): Promise<number> {
  const bins = num(p, '--bins');
  const vol = await read(inp, io, true);
  const r = await withFiles([inp], () => runJob('processing.otsu', bins === undefined ? {} : { bins }, [vol], p, io));
  await writeNiftiFile(out, r.volumes[0]);
  io.out(`Otsu threshold: ${r.values?.threshold} (inside = value > threshold)`);
  io.out(`wrote ${out}`);
  return 0;
}

const otsu = verb(
  'otsu',
  "Mask by Otsu's automatic threshold (prints the threshold)",
  ['Usage: lattice otsu <image> -o <out> [--bins N]', '', 'Same as lattice threshold --otsu. Integer images use one bin per value; others N bins (256).', ...COMMON],
  async (args, io) => {
    const p = parse('otsu', args, ['--bins'], []);
    const [inp] = inputs(p, 1, ['<image>']);
    return otsuRun(inp, outPath(p, [inp]), p, io);
  },
);

const mask = verb(
  'mask',
  'Keep an image only inside a mask',
  [
    'Usage: lattice mask <image> <mask> -o <out> [--background V]',
    '',
    'Voxels where the mask is non-zero keep their value; the others get the background',
    '(default 0, real units). The mask must be on the image grid (see lattice resample).',
    '  --background V       value outside the mask (e.g. -1024 for CT)',
    ...COMMON,
  ],
  async (args, io) => {
    const p = parse('mask', args, ['--background'], []);
    const [img, m] = inputs(p, 2, ['<image>', '<mask>']);
    const out = outPath(p, [img, m]);
    const bg = num(p, '--background');
    const vols = [await read(img, io), await read(m, io, true)];
    const r = await withFiles([img, m], () => runJob('processing.mask', bg === undefined ? {} : { background: bg }, vols, p, io));
    await writeNiftiFile(out, r.volumes[0]);
    io.out(`wrote ${out}`);
    return 0;
  },
);

function parseRadius(p: Parsed, vol: Volume): number | Vec3 {
  const r = p.flags.get('--radius');
  const mm = num(p, '--radius-mm');
  if (r !== undefined && mm !== undefined) throw new UsageError('give either --radius or --radius-mm');
  if (mm !== undefined) {
    if (mm < 0) throw new UsageError('--radius-mm must be ≥ 0');
    return radiusFromMm(mm, vol.spacing);
  }
  if (typeof r !== 'string') throw new UsageError('give --radius R (voxels; R or Ri,Rj,Rk) or --radius-mm MM');
  const parts = r.split(',').map(Number);
  if (!(parts.length === 1 || parts.length === 3) || parts.some((x) => !Number.isInteger(x) || x < 0)) {
    throw new UsageError(`--radius must be a non-negative integer or three of them (Ri,Rj,Rk), got '${r}'`);
  }
  return parts.length === 1 ? parts[0] : (parts as Vec3);
}

const morph = verb(
  'morph',
  'Binary dilation, erosion, opening or closing of a mask',
  [
    'Usage: lattice morph <dilate|erode|open|close> <mask> -o <out> (--radius R | --radius-mm MM)',
    '                     [--shape ball|box] [--iterations N]',
    '',
    'Non-zero voxels are foreground. Ball: (dx/ri)²+(dy/rj)²+(dz/rk)² ≤ 1; box: |d| ≤ r per axis.',
    'Outside the image counts as background for dilation and foreground for erosion (ITK).',
    '  --radius R|Ri,Rj,Rk  radius in voxels',
    '  --radius-mm MM       radius in mm, rounded to voxels on each axis (anisotropic spacing)',
    '  --shape ball|box     structuring element (default ball)',
    '  --iterations N       apply N times (default 1)',
    ...COMMON,
  ],
  async (args, io) => {
    const p = parse('morph', args, ['--radius', '--radius-mm', '--shape', '--iterations'], []);
    const [op, inp] = inputs(p, 2, ['<dilate|erode|open|close>', '<mask>']);
    if (!['dilate', 'erode', 'open', 'close'].includes(op)) throw new UsageError(`operation must be dilate, erode, open or close, got '${op}'`);
    const out = outPath(p, [inp]);
    const vol = await read(inp, io, true);
    const radius = parseRadius(p, vol);
    const iterations = num(p, '--iterations') ?? 1;
    const shape = str(p, '--shape', ['ball', 'box']) ?? 'ball';
    const r = await withFiles([inp], () => runJob('processing.morphology', { operation: op, radius, shape, iterations }, [vol], p, io));
    await writeNiftiFile(out, r.volumes[0]);
    io.out(`wrote ${out}`);
    return 0;
  },
);

function componentParams(p: Parsed) {
  const c = num(p, '--connectivity');
  if (c !== undefined && ![6, 18, 26].includes(c)) throw new UsageError('--connectivity must be 6, 18 or 26');
  return { ...(c !== undefined ? { connectivity: c } : {}), sliceWise: p.flags.has('--slice-wise') };
}

const fillHolesVerb = verb(
  'fill-holes',
  'Fill holes of a mask (background not connected to the border)',
  [
    'Usage: lattice fill-holes <mask> -o <out> [--connectivity 6|18|26] [--slice-wise]',
    '',
    '  --connectivity C     connectivity of the background flood (default 6, faces)',
    '  --slice-wise         fill holes in each slice (k) separately',
    ...COMMON,
  ],
  async (args, io) => {
    const p = parse('fill-holes', args, ['--connectivity'], ['--slice-wise']);
    const [inp] = inputs(p, 1, ['<mask>']);
    const out = outPath(p, [inp]);
    const vol = await read(inp, io, true);
    const r = await withFiles([inp], () => runJob('processing.fillHoles', componentParams(p), [vol], p, io));
    await writeNiftiFile(out, r.volumes[0]);
    io.out(`filled ${r.values?.filled} voxels; wrote ${out}`);
    return 0;
  },
);

const largest = verb(
  'largest-component',
  'Keep the largest connected component of a mask',
  [
    'Usage: lattice largest-component <mask> -o <out> [--connectivity 6|18|26] [--slice-wise]',
    '',
    '  --connectivity C     6 faces (default), 18 + edges, 26 + corners',
    '  --slice-wise         keep the largest component of every slice (k)',
    ...COMMON,
  ],
  async (args, io) => {
    const p = parse('largest-component', args, ['--connectivity'], ['--slice-wise']);
    const [inp] = inputs(p, 1, ['<mask>']);
    const out = outPath(p, [inp]);
    const vol = await read(inp, io, true);
    const r = await withFiles([inp], () => runJob('processing.largestComponent', componentParams(p), [vol], p, io));
    await writeNiftiFile(out, r.volumes[0]);
    io.out(`${r.values?.components} component(s); kept ${r.values?.voxels} voxels; wrote ${out}`);
    return 0;
  },
);

const combine = verb(
  'combine',
  'Union, intersection, difference or xor of masks',
  [
    'Usage: lattice combine <union|intersection|difference|xor> <mask1> <mask2> [mask…] -o <out>',
    '',
    'difference = mask1 minus all the others. The masks must share one grid.',
    ...COMMON,
  ],
  async (args, io) => {
    const p = parse('combine', args, [], []);
    const [op, ...files] = p.positional;
    if (!op || !['union', 'intersection', 'difference', 'xor'].includes(op)) throw new UsageError(`operation must be union, intersection, difference or xor, got '${op ?? ''}'`);
    if (files.length < 2) throw new UsageError('give at least two masks');
    const out = outPath(p, files);
    const vols: Volume[] = [];
    for (const f of files) vols.push(await read(f, io, true));
    const r = await withFiles(files, () => runJob('processing.combine', { operation: op }, vols, p, io));
    await writeNiftiFile(out, r.volumes[0]);
    io.out(`wrote ${out}`);
    return 0;
  },
);

/** "a:b,c:d,:" (Python slices, end exclusive, negatives from the end; brackets and spaces allowed). */
export function parseVoxelBox(spec: string, dims: Vec3): { start: Vec3; end: Vec3 } {
  const axes = spec.replace(/[[\]\s]/g, '').split(',');
  if (axes.length !== 3) throw new UsageError(`--box needs three ranges i0:i1,j0:j1,k0:k1, got '${spec}'`);
  const start: Vec3 = [0, 0, 0];
  const end: Vec3 = [0, 0, 0];
  axes.forEach((a, k) => {
    const n = dims[k];
    const m = /^(-?\d+)?(?::(-?\d+)?)?$/.exec(a);
    if (!m || a === '') throw new UsageError(`--box: cannot read range '${a}' (use start:end)`);
    const norm = (v: string | undefined, dflt: number) => {
      if (v === undefined) return dflt;
      const x = Number(v);
      return Math.min(n, Math.max(0, x < 0 ? n + x : x)); // Python slice clamping
    };
    if (!a.includes(':')) {
      const i = norm(m[1], 0);
      start[k] = i;
      end[k] = i + 1;
    } else {
      start[k] = norm(m[1], 0);
      end[k] = norm(m[2], n);
    }
    if (end[k] <= start[k]) throw new UsageError(`--box: range '${a}' on axis ${'ijk'[k]} is empty for an image of ${n} voxels`);
  });
  return { start, end };
}

/** "x0:x1,y0:y1,z0:z1" in mm → two opposite LPS corners (':' = the image's whole extent). */
function parseWorldBox(spec: string, vol: Volume, lps: boolean): { a: Vec3; b: Vec3 } {
  const axes = spec.replace(/[[\]\s]/g, '').split(',');
  if (axes.length !== 3) throw new UsageError(`--mm needs three ranges x0:x1,y0:y1,z0:z1, got '${spec}'`);
  const bounds = worldBounds(vol, { edges: true });
  // Work in the coordinates the user gave (RAS unless --lps), then convert the corners.
  const conv = (p: Vec3): Vec3 => (lps ? p : lpsToRas(p));
  const bmin = conv(bounds.min);
  const bmax = conv(bounds.max);
  const a: Vec3 = [0, 0, 0];
  const b: Vec3 = [0, 0, 0];
  axes.forEach((s, k) => {
    const m = /^(-?[\d.]+(?:e-?\d+)?)?:(-?[\d.]+(?:e-?\d+)?)?$/i.exec(s);
    if (!m) throw new UsageError(`--mm: cannot read range '${s}' (use from:to in mm)`);
    const lo = Math.min(bmin[k], bmax[k]);
    const hi = Math.max(bmin[k], bmax[k]);
    a[k] = m[1] !== undefined ? Number(m[1]) : lo;
    b[k] = m[2] !== undefined ? Number(m[2]) : hi;
    if (!Number.isFinite(a[k]) || !Number.isFinite(b[k])) throw new UsageError(`--mm: bad number in '${s}'`);
  });
  return { a: conv(a), b: conv(b) };
}

const crop = verb(
  'crop',
  'Crop to a box in voxels or mm, keeping the image in place in the world',
  [
    'Usage: lattice crop <image> -o <out> --box i0:i1,j0:j1,k0:k1',
    '       lattice crop <image> -o <out> --mm x0:x1,y0:y1,z0:z1 [--lps]',
    '',
    'The new origin is the world position of the box\'s first voxel; spacing and orientation',
    'are kept, so the crop overlays the original exactly. Every volume of a 4D image is cropped.',
    '  --box   voxel ranges in the NIfTI voxel order, end exclusive, like nibabel/numpy slices',
    '          (":" = whole axis, negative = from the end), e.g. --box 103:381,160:340,:',
    '  --mm    world ranges in mm, RAS like the NIfTI header (":" = whole extent); the box keeps',
    '          every voxel whose centre lies inside (for oblique images: the bounding voxel box)',
    '  --lps   read --mm as LPS (DICOM) coordinates instead of RAS',
    ...COMMON,
  ],
  async (args, io) => {
    const p = parse('crop', args, ['--box', '--mm'], ['--lps']);
    const [inp] = inputs(p, 1, ['<image>']);
    const out = outPath(p, [inp]);
    const box = str(p, '--box');
    const mm = str(p, '--mm');
    if ((box === undefined) === (mm === undefined)) throw new UsageError('give exactly one of --box (voxels) or --mm (millimetres)');
    const vol = await read(inp, io);
    const params = box !== undefined ? { box: parseVoxelBox(box, vol.dims) } : { worldBox: parseWorldBox(mm as string, vol, p.flags.has('--lps')) };
    const r = await withFiles([inp], () => runJob('processing.crop', params, [vol], p, io));
    const res = r.volumes[0];
    const vb = r.values?.box as { start: Vec3; end: Vec3 };
    await writeNiftiFile(out, res);
    io.out(`box [${vb.start.map((s, k) => `${s}:${vb.end[k]}`).join(', ')}] → ${res.dims.join('×')}; origin RAS ${fmt(lpsToRas(indexToWorld(res, [0, 0, 0])), 6)} mm`);
    io.out(`wrote ${out}`);
    return 0;
  },
);

const align = verb(
  'align',
  "Translate a moving image so its centre matches a fixed image's centre",
  [
    'Usage: lattice align <moving> <fixed> -o <out> [--mode geometry|mass]',
    '',
    'Only the origin of the moving image changes (no resampling). The translation is printed.',
    '  --mode geometry      centres of the voxel grids (default)',
    '  --mode mass          intensity centres of mass (weights = value − minimum)',
    ...COMMON,
  ],
  async (args, io) => {
    const p = parse('align', args, ['--mode'], []);
    const [mov, fix] = inputs(p, 2, ['<moving>', '<fixed>']);
    const out = outPath(p, [mov, fix]);
    const mode = str(p, '--mode', ['geometry', 'mass']) ?? 'geometry';
    const vols = [await read(mov, io), await read(fix, io, mode === 'mass')];
    const r = await withFiles([mov, fix], () => runJob('processing.align', { mode }, vols, p, io));
    await writeNiftiFile(out, r.volumes[0]);
    const t = r.values?.translation as Vec3;
    io.out(`translation RAS ${fmt(lpsToRas(t))} mm (LPS ${fmt(t)})`);
    io.out(`wrote ${out}`);
    return 0;
  },
);

const resample = verb(
  'resample',
  "Resample an image onto another image's grid",
  [
    'Usage: lattice resample <image> <reference> -o <out> [--interpolation linear|nearest] [--fill V]',
    '',
    'World-space resampling onto the reference grid (size, spacing, orientation, position).',
    'Use nearest for masks and labels (keeps the voxel type); linear writes float32.',
    '  --interpolation I    linear (default) or nearest',
    '  --fill V             value outside the image (default 0)',
    ...COMMON,
  ],
  async (args, io) => {
    const p = parse('resample', args, ['--interpolation', '--fill'], []);
    const [img, ref] = inputs(p, 2, ['<image>', '<reference>']);
    const out = outPath(p, [img, ref]);
    const interpolation = str(p, '--interpolation', ['linear', 'nearest']) ?? 'linear';
    const fill = num(p, '--fill') ?? 0;
    const vols = [await read(img, io, true), await read(ref, io)];
    const r = await withFiles([img, ref], () => runJob('processing.resample', { interpolation, fill }, vols, p, io));
    await writeNiftiFile(out, r.volumes[0]);
    io.out(`wrote ${out}`);
    return 0;
  },
);

export const commands: CommandTable = {
  threshold,
  otsu,
  mask,
  morph,
  'fill-holes': fillHolesVerb,
  'largest-component': largest,
  combine,
  crop,
  align,
  resample,
};
