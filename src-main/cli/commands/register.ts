/**
 * `lattice register`: rigid/affine and demons registration of two NIfTI images.
 * Outputs: the moving image on the fixed grid, the displacement field (NIfTI vector,
 * intent 1007, RAS mm, fixed → moving), the Jacobian determinant, the affine as an ITK
 * transform file. One progress line per level on stdout.
 */
import type { CliCommand, CliIO, CommandTable } from '../command';
import { readNiftiFile, writeNiftiFile } from '../../nifti/nifti-file';
import type { Volume } from '../../../src-shared/image/volume';
import { formatItkAffine } from '../../../src-shared/registration/itk-transform';
import { writeFileAtomic } from '../../fs/atomic-write';
import {
  DEMONS_DEFAULTS,
  registerAffine,
  registerDemons,
  warpVolume,
  type AffineResult,
  type DemonsOptions,
  type DemonsProgress,
} from '../../registration/register';
import { defaultThreadCount } from '../../registration/pool';

const usage = `Usage: lattice register --fixed F.nii[.gz] --moving M.nii[.gz] --out-warped W.nii[.gz] [options]

Registers the moving image to the fixed one: an optional rigid/affine stage, then demons.
Without --affine, demons runs alone; with --affine and without --demons, only the affine.
Inputs and outputs may be any image format (by extension): NIfTI, NRRD, MHA, … and, for
2D frames, PNG/TIFF (e.g. --fixed frame01.png --moving frame05.png --out-warped w.png
--out-field d.mha; NRRD/MHA fields hold LPS vectors, NIfTI fields RAS).

Outputs:
  --out-warped W       moving image resampled onto the fixed grid (float32)
  --out-field D        displacement field: NIfTI vector (5th dimension, intent 1007),
                       RAS mm, maps each fixed-space point x to its moving-space point x + D(x)
  --out-jacobian J     Jacobian determinant of x ↦ x + D(x)
  --out-affine A.txt   affine result as an ITK transform file (LPS, fixed → moving; ITK-SNAP, 3D Slicer)

Affine:
  --affine rigid|affine|none   (default none)
  --metric msd|ncc|mi          (default mi: works across modalities, e.g. CT↔PET, CT↔MR)
  --init centers|moments       initial translation: image centres (default) or centres of mass

Demons:
  --demons                     run demons (after the affine stage, if any)
  --levels N                   resolution levels, each halving the grid (default ${DEMONS_DEFAULTS.levels})
  --iterations n[,n,...]       max iterations per level, coarsest first (default ${(DEMONS_DEFAULTS.iterations as number[]).join(',')})
  --sigma-fluid s              Gaussian σ of the update, voxels (default ${DEMONS_DEFAULTS.sigmaFluid}; 0 = off)
  --sigma-elastic s            Gaussian σ of the displacement, voxels (default ${DEMONS_DEFAULTS.sigmaElastic}; 0 = off)
  --force moving|fixed|symmetric  gradient of the demons force (default ${DEMONS_DEFAULTS.force})
  --max-step v                 largest update per iteration, voxels (default ${DEMONS_DEFAULTS.maxStep})
  --sigma-image s              Gaussian σ of both images at the finest level, voxels (default ${DEMONS_DEFAULTS.imageSigma}; 0 = off)
  --diffeomorphic              compose updates (d ← d ∘ exp(u)) instead of adding them
  --no-stop                    always run the max iterations (no MSD plateau test)
  --replicate-edges            elastic smoothing with replicated border vectors (default: point-
                               reflected, which keeps motion through the image border unbiased)
  --edge-margin v              no force within v voxels of the moving image border (default ${DEMONS_DEFAULTS.edgeMargin})

  --threads N                  worker threads (default: all cores, or BENCH_THREADS)
  --quiet                      no progress lines`;

interface Parsed {
  flags: Set<string>;
  values: Map<string, string>;
}

const VALUE_OPTS = new Set([
  'fixed', 'moving', 'out-warped', 'out-field', 'out-jacobian', 'out-affine', 'affine', 'metric', 'init', 'levels',
  'iterations', 'sigma-fluid', 'sigma-elastic', 'sigma-image', 'force', 'max-step', 'edge-margin', 'threads',
]);
const FLAG_OPTS = new Set(['demons', 'diffeomorphic', 'no-stop', 'replicate-edges', 'quiet']);

function parseArgs(args: string[]): Parsed {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`);
    let name = a.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (FLAG_OPTS.has(name)) {
      if (value !== undefined) throw new Error(`--${name} takes no value`);
      flags.add(name);
    } else if (VALUE_OPTS.has(name)) {
      if (value === undefined) {
        value = args[++i];
        if (value === undefined) throw new Error(`--${name} needs a value`);
      }
      values.set(name, value);
    } else throw new Error(`unknown option --${name}`);
  }
  return { flags, values };
}

function num(p: Parsed, name: string, check: (v: number) => boolean, what: string): number | undefined {
  const s = p.values.get(name);
  if (s === undefined) return undefined;
  const v = Number(s);
  if (!Number.isFinite(v) || !check(v)) throw new Error(`--${name} must be ${what} (got '${s}')`);
  return v;
}

function choice<T extends string>(p: Parsed, name: string, allowed: readonly T[]): T | undefined {
  const s = p.values.get(name);
  if (s === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(s)) throw new Error(`--${name} must be one of ${allowed.join(', ')} (got '${s}')`);
  return s as T;
}

/** Reads NIfTI with our reader (keeps its header), any other image format through src-main/io. */
async function readAny(path: string): Promise<{ volume: Volume; header?: { dim: number[] } }> {
  if (/\.nii(\.gz)?$/i.test(path)) return readNiftiFile(path);
  const { readImageFile } = await import('../../io/image-file');
  return readImageFile(path);
}

/** Writes NIfTI with our writer (and its options), any other format by extension (e.g. the warped frame as PNG, the field as MHA). */
async function writeAny(path: string, v: Volume, opts: Parameters<typeof writeNiftiFile>[2]): Promise<void> {
  if (/\.nii(\.gz)?$/i.test(path)) return writeNiftiFile(path, v, opts);
  const { writeImageFile } = await import('../../io/image-file');
  await writeImageFile(path, v);
}

const dimsText = (d: readonly number[]) => (d[2] === 1 ? `${d[0]}×${d[1]}` : d.join('×'));

async function run(args: string[], io: CliIO): Promise<number> {
  let p: Parsed;
  try {
    p = parseArgs(args);
  } catch (e) {
    io.err(`lattice register: ${(e as Error).message}\n\n${usage}`);
    return 2;
  }
  const fixedPath = p.values.get('fixed'), movingPath = p.values.get('moving'), warpedPath = p.values.get('out-warped');
  if (!fixedPath || !movingPath || !warpedPath) {
    io.err(`lattice register: --fixed, --moving and --out-warped are required\n\n${usage}`);
    return 2;
  }
  let affineKind: 'rigid' | 'affine' | 'none';
  let demonsOpts: DemonsOptions;
  let metric: 'msd' | 'ncc' | 'mi';
  let init: 'centers' | 'moments';
  let threads: number;
  try {
    affineKind = choice(p, 'affine', ['rigid', 'affine', 'none'] as const) ?? 'none';
    metric = choice(p, 'metric', ['msd', 'ncc', 'mi'] as const) ?? 'mi';
    init = choice(p, 'init', ['centers', 'moments'] as const) ?? 'centers';
    threads = num(p, 'threads', (v) => Number.isInteger(v) && v >= 1, 'a positive integer') ?? defaultThreadCount();
    let iterations: number | number[] | undefined;
    const itText = p.values.get('iterations');
    if (itText !== undefined) {
      const list = itText.split(',').map(Number);
      if (list.some((v) => !Number.isInteger(v) || v < 0)) throw new Error(`--iterations must be integers ≥ 0 (got '${itText}')`);
      iterations = list.length === 1 ? list[0] : list;
    }
    demonsOpts = {
      levels: num(p, 'levels', (v) => Number.isInteger(v) && v >= 1 && v <= 8, 'an integer 1..8'),
      iterations,
      sigmaFluid: num(p, 'sigma-fluid', (v) => v >= 0 && v <= 20, 'a number 0..20'),
      sigmaElastic: num(p, 'sigma-elastic', (v) => v >= 0 && v <= 20, 'a number 0..20'),
      force: choice(p, 'force', ['moving', 'fixed', 'symmetric'] as const),
      maxStep: num(p, 'max-step', (v) => v > 0 && v <= 10, 'a number in (0, 10]'),
      imageSigma: num(p, 'sigma-image', (v) => v >= 0 && v <= 10, 'a number 0..10'),
      diffeomorphic: p.flags.has('diffeomorphic') || undefined,
      stopOnPlateau: p.flags.has('no-stop') ? false : undefined,
      linearEdges: p.flags.has('replicate-edges') ? false : undefined,
      edgeMargin: num(p, 'edge-margin', (v) => v >= 0 && v <= 10, 'a number 0..10'),
    };
  } catch (e) {
    io.err(`lattice register: ${(e as Error).message}`);
    return 2;
  }
  const runDemonsStage = p.flags.has('demons') || affineKind === 'none';
  const quiet = p.flags.has('quiet');
  const say = (l: string) => {
    if (!quiet) io.out(l);
  };

  const t0 = performance.now();
  // NIfTI through our reader; NRRD, MHA, PNG, … through itk-wasm (src-main/io).
  const [fx, mv] = await Promise.all([readAny(fixedPath), readAny(movingPath)]);
  const fixed = fx.volume, moving = mv.volume;
  const twoD = fx.header?.dim[0] === 2 || fixed.dims[2] === 1;
  for (const [name, v] of [[fixedPath, fixed], [movingPath, moving]] as const)
    if (v.frames > 1) io.err(`lattice register: warning: ${name} has ${v.frames} volumes (4D or vector); registering the first`);
  say(`fixed ${dimsText(fixed.dims)} (${fixed.spacing.map((s) => +s.toFixed(3)).join('×')} mm), moving ${dimsText(moving.dims)}; ${threads} thread(s)`);

  let affine: AffineResult | null = null;
  if (affineKind !== 'none') {
    let lastLevel = 0;
    affine = await registerAffine(fixed, moving, { transform: affineKind, metric, init }, {
      onProgress: (pr) => {
        if (pr.level !== lastLevel) {
          lastLevel = pr.level;
          say(`affine (${affineKind}, ${metric}) level ${pr.level}/${pr.levels}`);
        }
      },
    });
    const [rx, ry, rz, tx, ty, tz] = affine.parameters;
    const deg = (r: number) => ((r * 180) / Math.PI).toFixed(2);
    say(`affine: ${metric} ${affine.metrics.before.toPrecision(5)} → ${affine.metrics.after.toPrecision(5)}; rotation ${deg(rx)}°, ${deg(ry)}°, ${deg(rz)}°; offset (LPS) ${tx.toFixed(2)}, ${ty.toFixed(2)}, ${tz.toFixed(2)} mm (${affine.metrics.seconds.toFixed(1)} s)`);
    const ap = p.values.get('out-affine');
    if (ap) await writeFileAtomic(ap, [new TextEncoder().encode(formatItkAffine(affine.matrixLps))]);
  } else if (p.values.get('out-affine')) {
    io.err('lattice register: --out-affine needs --affine rigid or --affine affine');
    return 2;
  }

  const outputs: Array<Promise<void>> = [];
  const fieldPath = p.values.get('out-field'), jacPath = p.values.get('out-jacobian');
  if (runDemonsStage) {
    let cur: DemonsProgress | null = null;
    let levelStart = performance.now(), firstMsd = NaN;
    const flush = () => {
      if (!cur) return;
      say(`demons level ${cur.level}/${cur.levels} ${dimsText(cur.dims)}: ${cur.iteration} iterations, MSD ${firstMsd.toPrecision(5)} → ${cur.msd.toPrecision(5)} (${((performance.now() - levelStart) / 1000).toFixed(1)} s)`);
    };
    const res = await registerDemons(fixed, moving, { ...demonsOpts, threads, initialTransform: affine?.matrixLps, jacobian: !!jacPath, worldField: !!fieldPath }, {
      onProgress: (pr) => {
        if (!cur || pr.level !== cur.level) {
          flush();
          levelStart = performance.now();
          firstMsd = pr.msd;
        }
        cur = pr;
      },
    });
    flush();
    const m = res.metrics;
    say(`demons: MSD ${m.msdBefore.toPrecision(5)} → ${m.msdAfter.toPrecision(5)}, NCC ${m.nccBefore.toFixed(4)} → ${m.nccAfter.toFixed(4)}, det(J) ≤ 0 in ${m.negativeJacobianVoxels} voxels (${(100 * m.negativeJacobianFraction).toFixed(3)} %), det(J) ${m.minJacobian.toFixed(3)}…${m.maxJacobian.toFixed(3)}`);
    outputs.push(writeAny(warpedPath, res.warped, { twoD, description: 'lattice register: warped moving' }));
    if (fieldPath && res.field) outputs.push(writeAny(fieldPath, res.field, { vectorComponents: 3, intentCode: 1007, description: 'lattice register: displacement RAS mm' }));
    if (jacPath && res.jacobian) outputs.push(writeAny(jacPath, res.jacobian, { twoD, description: 'lattice register: det(Jacobian)' }));
  } else {
    // Affine only: the field and Jacobian of the affine map.
    const warped = await warpVolume(fixed, moving, { matrixLps: affine?.matrixLps, threads });
    outputs.push(writeAny(warpedPath, warped, { twoD, description: 'lattice register: warped moving' }));
    if (fieldPath || jacPath) {
      const res = await registerDemons(fixed, moving, { threads, initialTransform: affine?.matrixLps, levels: 1, iterations: 0, jacobian: !!jacPath, worldField: !!fieldPath });
      if (fieldPath && res.field) outputs.push(writeAny(fieldPath, res.field, { vectorComponents: 3, intentCode: 1007, description: 'lattice register: displacement RAS mm' }));
      if (jacPath && res.jacobian) outputs.push(writeAny(jacPath, res.jacobian, { twoD, description: 'lattice register: det(Jacobian)' }));
    }
  }
  await Promise.all(outputs);
  say(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}

const register: CliCommand = {
  summary: 'register two images (rigid/affine, demons); write warped image, displacement field, Jacobian, ITK transform',
  usage,
  run,
};

export const commands: CommandTable = { register };
