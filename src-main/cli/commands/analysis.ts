/**
 * Image-analysis verbs of `lattice`: filter, equalize, distance, compare-masks, stats,
 * chan-vese (src-shared/analysis). Same conventions as the processing verbs (the helpers are
 * theirs): NIfTI in, NIfTI out written atomically, the work in a worker through the job
 * runner (its kernels on every core), progress on stderr, Ctrl-C cancels.
 * Exit codes: 0 done, 1 failed, 2 bad usage, 130 cancelled.
 */
import type { CliIO, CommandTable } from '../command';
import type { Vec3 } from '../../../src-shared/image/volume';
import type { MaskComparison } from '../../../src-shared/analysis/compare-masks';
import type { LabelStat } from '../../../src-shared/analysis/label-stats';
import { FILTER_KINDS } from '../../../src-shared/analysis/filters';
import { writeNiftiFile } from '../../nifti/nifti-file';
import { COMMON, num, outPath, parse, read, runJob, str, UsageError, verb, withFiles, type Parsed } from './processing';

function vec(p: Parsed, name: string, integer: boolean): number | Vec3 | undefined {
  const v = p.flags.get(name);
  if (v === undefined) return undefined;
  const parts = String(v).split(',').map(Number);
  const ok = (parts.length === 1 || parts.length === 3) && parts.every((x) => Number.isFinite(x) && x >= 0 && (!integer || Number.isInteger(x)));
  if (v === true || !ok) throw new UsageError(`${name} needs ${integer ? 'a non-negative integer' : 'a non-negative number'} or three of them (i,j,k), got '${v}'`);
  return parts.length === 1 ? parts[0] : (parts as Vec3);
}

function positional(p: Parsed, min: number, max: number, names: string[]): string[] {
  if (p.positional.length < min) throw new UsageError(`missing ${names.slice(p.positional.length, min).join(' and ')}`);
  if (p.positional.length > max) throw new UsageError(`unexpected argument '${p.positional[max]}'`);
  return p.positional;
}

const filter = verb(
  'filter',
  'Smoothing and edge filters (mean, median, Gaussian, gradients, Laplacian, kernel) → float32',
  [
    `Usage: lattice filter <${FILTER_KINDS.join('|')}> <image> -o <out> [options]`,
    '',
    'The output is a float32 image of real values on the input grid. Edges replicate the',
    'border voxel (scipy mode="nearest").',
    '  mean, median            box of (2R+1) voxels per axis: --radius R | Ri,Rj,Rk (default 1)',
    '  gaussian                --sigma-mm S | Si,Sj,Sk  σ in mm per axis (default 1), truncated at 3σ',
    '  gradient-magnitude      |∇f| in value/mm (central differences, one-sided at the edges)',
    '  gradient-x|y|z          world (LPS) components of ∇f: x = patient left, y = posterior, z = superior',
    '  laplacian               Σ ∂²f/∂axis² in value/mm²',
    '  kernel                  correlation with --kernel w1,w2,… (i fastest) of --kernel-size Ni,Nj,Nk (odd, ≤ 15)',
    'Example: lattice filter gaussian ct.nii.gz -o smooth.nii.gz --sigma-mm 2',
    ...COMMON,
  ],
  async (args, io) => {
    const p = parse('filter', args, ['--radius', '--sigma-mm', '--kernel', '--kernel-size'], []);
    const [kind, inp] = positional(p, 2, 2, [`<${FILTER_KINDS.join('|')}>`, '<image>']);
    if (!FILTER_KINDS.includes(kind as never)) throw new UsageError(`filter must be one of ${FILTER_KINDS.join(', ')}, got '${kind}'`);
    const out = outPath(p, [inp]);
    const params: Record<string, unknown> = { filter: kind };
    const radius = vec(p, '--radius', true);
    const sigma = vec(p, '--sigma-mm', false);
    if (radius !== undefined) params.radius = radius;
    if (sigma !== undefined) params.sigmaMm = sigma;
    if (kind === 'kernel') {
      const k = p.flags.get('--kernel');
      const size = vec(p, '--kernel-size', true);
      if (typeof k !== 'string' || !Array.isArray(size)) throw new UsageError('kernel: give --kernel w1,w2,… and --kernel-size Ni,Nj,Nk');
      params.kernel = k.split(',').map(Number);
      params.kernelSize = size;
    }
    const vol = await read(inp, io, true);
    const r = await withFiles([inp], () => runJob('analysis.filter', params, [vol], p, io));
    await writeNiftiFile(out, r.volumes[0]);
    io.out(`wrote ${out}`);
    return 0;
  },
);

const equalize = verb(
  'equalize',
  'Histogram equalisation, global or adaptive (CLAHE) → float32 0…1',
  [
    'Usage: lattice equalize <image> -o <out> [--bins N] [--mask <mask>]',
    '       lattice equalize <image> -o <out> --adaptive [--kernel-size K | Ki,Kj,Kk] [--clip-limit C] [--bins N] [--per-slice]',
    '',
    "Global: each voxel becomes the image's cumulative distribution at its value (0…1), as",
    "scikit-image's equalize_hist: integer images use one bin per value, others N bins (256).",
    '  --bins N             bins for non-integer images (default 256)',
    '  --mask <mask>        take the histogram inside this mask only (same grid)',
    '',
    "Adaptive (--adaptive): contrast-limited adaptive equalisation (CLAHE), as scikit-image's",
    'equalize_adapthist of the values rescaled to 0…1: one clipped histogram per tile, mappings',
    'interpolated between neighbouring tiles; 3D tiles unless --per-slice.',
    '  --kernel-size K      tile size in voxels, one number or i,j,k (default ⅛ of each dimension)',
    '  --clip-limit C       normalised clip limit 0…1, higher = more contrast, 0 = no limit (default 0.01)',
    '  --bins N             grey-level bins (default 256)',
    '  --per-slice          equalise every k slice on its own (2D tiles)',
    'Example: lattice equalize ct.nii.gz -o clahe.nii.gz --adaptive --clip-limit 0.02 --per-slice',
    ...COMMON,
  ],
  async (args, io) => {
    const p = parse('equalize', args, ['--bins', '--mask', '--kernel-size', '--clip-limit'], ['--adaptive', '--per-slice']);
    const [inp] = positional(p, 1, 1, ['<image>']);
    const adaptive = p.flags.has('--adaptive');
    const m = str(p, '--mask');
    if (adaptive && m) throw new UsageError('--mask is for global equalisation; --adaptive takes no mask');
    for (const f of ['--kernel-size', '--clip-limit', '--per-slice'])
      if (!adaptive && p.flags.has(f)) throw new UsageError(`${f} needs --adaptive`);
    const out = outPath(p, m ? [inp, m] : [inp]);
    const bins = num(p, '--bins');
    const vols = [await read(inp, io, true)];
    if (m) vols.push(await read(m, io, true));
    let kind = 'analysis.equalize';
    let params: Record<string, unknown> = bins === undefined ? {} : { bins };
    if (adaptive) {
      kind = 'analysis.clahe';
      const ks = vec(p, '--kernel-size', true);
      const clip = num(p, '--clip-limit');
      params = { ...(ks !== undefined ? { kernelSize: ks } : {}), ...(clip !== undefined ? { clipLimit: clip } : {}), ...(bins !== undefined ? { nbins: bins } : {}), ...(p.flags.has('--per-slice') ? { perSlice: true } : {}) };
    }
    const r = await withFiles(m ? [inp, m] : [inp], () => runJob(kind, params, vols, p, io));
    await writeNiftiFile(out, r.volumes[0]);
    io.out(`wrote ${out}`);
    return 0;
  },
);

const distance = verb(
  'distance',
  'Exact Euclidean distance map in mm to a mask (inside, outside or signed)',
  [
    'Usage: lattice distance <mask> -o <out> [--mode outside|inside|signed] [--label L]',
    '',
    'Distances between voxel centres in mm, honouring the spacing of each axis (exact,',
    'Felzenszwalb–Huttenlocher). Non-zero voxels are the mask (or those equal to --label).',
    '  --mode outside       distance of every voxel to the nearest mask voxel, 0 inside (default)',
    '  --mode inside        distance of every mask voxel to the nearest background voxel, 0 outside',
    '  --mode signed        outside − inside: positive outside, negative inside',
    '  --label L            the mask is the voxels of value L (label images)',
    ...COMMON,
  ],
  async (args, io) => {
    const p = parse('distance', args, ['--mode', '--label'], []);
    const [inp] = positional(p, 1, 1, ['<mask>']);
    const out = outPath(p, [inp]);
    const mode = str(p, '--mode', ['outside', 'inside', 'signed']);
    const label = num(p, '--label');
    const vol = await read(inp, io, true);
    const r = await withFiles([inp], () => runJob('analysis.distance', { ...(mode ? { mode } : {}), ...(label !== undefined ? { label } : {}) }, [vol], p, io));
    await writeNiftiFile(out, r.volumes[0]);
    io.out(`wrote ${out}`);
    return 0;
  },
);

const f = (v: number | null | undefined, d = 4) => (v === null || v === undefined ? '–' : Number(v.toFixed(d)).toString());

/** The comparison as aligned text lines (also used by the app's table, same labels). */
export function comparisonLines(c: MaskComparison): string[] {
  return [
    `voxels A / B / both    ${c.voxelsA} / ${c.voxelsB} / ${c.intersection}`,
    `volume A / B (mL)      ${f(c.volumeA_ml, 3)} / ${f(c.volumeB_ml, 3)}`,
    `Dice                   ${f(c.dice, 6)}`,
    `Jaccard                ${f(c.jaccard, 6)}`,
    `precision (TP/A)       ${f(c.precision, 6)}`,
    `recall (TP/B)          ${f(c.recall, 6)}`,
    `centre distance (mm)   ${f(c.centreDistance_mm)}`,
    `Hausdorff (mm)         ${f(c.hausdorff_mm)}`,
    `Hausdorff 95 % (mm)    ${f(c.hausdorff95_mm)}`,
    `mean surface dist (mm) ${f(c.meanSurfaceDistance_mm)}  (ASSD ${f(c.assd_mm)})`,
  ];
}

const compare = verb(
  'compare-masks',
  'Compare two masks: Dice, Jaccard, precision, recall, volumes, Hausdorff, HD95, surface distance',
  [
    'Usage: lattice compare-masks <A> <B> [--json] [--label-a L] [--label-b L]',
    '',
    'A is the segmentation under test, B the reference; both on the same grid.',
    'precision = |A∩B|/|A|, recall = |A∩B|/|B|, Dice = 2|A∩B|/(|A|+|B|), Jaccard = |A∩B|/|A∪B|.',
    'Surface: mask voxels with a face neighbour outside the mask (outside the image counts as',
    'outside). Surface distances are in mm between voxel centres, to the other surface:',
    'Hausdorff = the largest of both directions; HD95 = 95th percentile (linear interpolation)',
    'of the distances of both directions pooled; mean surface distance = their mean (ASSD,',
    'the mean of the two directed means, is given too). Centres of mass in LPS mm.',
    '  --json               print the figures as JSON',
    '  --label-a L, --label-b L   compare only voxels of that value (label images)',
  ],
  async (args, io) => {
    const p = parse('compare-masks', args, ['--label-a', '--label-b'], ['--json']);
    const [a, b] = positional(p, 2, 2, ['<A>', '<B>']);
    const la = num(p, '--label-a'), lb = num(p, '--label-b');
    const vols = [await read(a, io, true), await read(b, io, true)];
    const r = await withFiles([a, b], () => runJob('analysis.compareMasks', { ...(la !== undefined ? { labelA: la } : {}), ...(lb !== undefined ? { labelB: lb } : {}) }, vols, p, io));
    const c = r.values as unknown as MaskComparison;
    if (p.flags.has('--json')) io.out(JSON.stringify(c, null, 2));
    else for (const l of comparisonLines(c)) io.out(l);
    return 0;
  },
);

const stats = verb(
  'stats',
  'Per-label voxel count, volume (mL) and mean / SD / min / max of an image',
  [
    'Usage: lattice stats <labels> [--image <image>] [--json] [--include-background]',
    '',
    'Labels are the distinct non-zero values of <labels> (a mask or a label image). With',
    '--image (same grid), the real values of that image inside each label: mean, SD',
    '(population, ddof 0), min, max.',
    '  --image <image>      the image to measure',
    '  --json               print JSON',
    '  --include-background also report label 0',
  ],
  async (args, io) => {
    const p = parse('stats', args, ['--image'], ['--json', '--include-background']);
    const [l] = positional(p, 1, 1, ['<labels>']);
    const img = str(p, '--image');
    const vols = [await read(l, io, true)];
    if (img) vols.push(await read(img, io, true));
    const r = await withFiles(img ? [l, img] : [l], () => runJob('analysis.labelStats', p.flags.has('--include-background') ? { includeBackground: true } : {}, vols, p, io));
    const rows = (r.values?.labels ?? []) as LabelStat[];
    if (p.flags.has('--json')) {
      io.out(JSON.stringify(rows, null, 2));
      return 0;
    }
    io.out(`label      voxels   volume (mL)${img ? '        mean          SD         min         max' : ''}`);
    for (const s of rows) {
      const base = `${String(s.label).padStart(5)} ${String(s.voxels).padStart(11)} ${s.volume_ml.toFixed(3).padStart(13)}`;
      io.out(img ? `${base} ${[s.mean, s.sd, s.min, s.max].map((v) => (v ?? NaN).toFixed(2).padStart(11)).join(' ')}` : base);
    }
    return 0;
  },
);

function parseSlice(v: string | undefined): { axis: 0 | 1 | 2; index: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^([ijk012]):(\d+)$/.exec(v);
  if (!m) throw new UsageError(`--slice must be AXIS:INDEX with AXIS i, j or k (e.g. k:40), got '${v}'`);
  const axis = ({ i: 0, j: 1, k: 2, '0': 0, '1': 1, '2': 2 } as const)[m[1] as 'i'];
  return { axis, index: Number(m[2]) };
}

const chanVese = verb(
  'chan-vese',
  'Chan–Vese active contour segmentation (2D slice or 3D) → mask',
  [
    'Usage: lattice chan-vese <image> -o <out> [--slice k:N] [--init <mask>] [--mu M] [--lambda1 L]',
    '                         [--lambda2 L] [--tol T] [--iterations N] [--dt D]',
    '',
    "Region-based level set as scikit-image's chan_vese (same defaults): the image is scaled",
    'to 0…1; the mask is where φ > 0. Without --slice the whole volume evolves in 3D (crop',
    'large images first).',
    '  --slice AXIS:N       one slice: AXIS i, j or k (index axes), N its index',
    '  --init <mask>        initial contour from a mask (default: checkerboard)',
    '  --mu M               edge length weight (default 0.25)',
    '  --lambda1/2 L        weights inside / outside (default 1)',
    '  --tol T              stop when the RMS change of φ ≤ T (default 1e-3)',
    '  --iterations N       at most N iterations (default 500)',
    '  --dt D               time step (default 0.5)',
    ...COMMON,
  ],
  async (args, io: CliIO) => {
    const p = parse('chan-vese', args, ['--slice', '--init', '--mu', '--lambda1', '--lambda2', '--tol', '--iterations', '--dt'], []);
    const [inp] = positional(p, 1, 1, ['<image>']);
    const init = str(p, '--init');
    const out = outPath(p, init ? [inp, init] : [inp]);
    const params: Record<string, unknown> = {};
    for (const [flag, key] of [['--mu', 'mu'], ['--lambda1', 'lambda1'], ['--lambda2', 'lambda2'], ['--tol', 'tol'], ['--iterations', 'maxIterations'], ['--dt', 'dt']] as const) {
      const v = num(p, flag);
      if (v !== undefined) params[key] = v;
    }
    const slice = parseSlice(str(p, '--slice'));
    if (slice) params.slice = slice;
    const vols = [await read(inp, io, true)];
    if (init) vols.push(await read(init, io, true));
    const r = await withFiles(init ? [inp, init] : [inp], () => runJob('analysis.chanVese', params, vols, p, io));
    await writeNiftiFile(out, r.volumes[0]);
    io.out(`${r.values?.iterations} iterations (last RMS change ${Number(r.values?.change).toExponential(2)}); wrote ${out}`);
    return 0;
  },
);

export const commands: CommandTable = {
  filter,
  equalize,
  distance,
  'compare-masks': compare,
  stats,
  'chan-vese': chanVese,
};
