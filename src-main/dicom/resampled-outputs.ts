/**
 * The extra, resampled volumes of stacks that NIfTI's one slice step cannot describe
 * (dcm2niix's `_Eq_1`, `_Tilt_1`, `_Tilt_Eq_1` files), and the volume the viewer shows
 * for them. The exact file (voxels as stored, dcm2niix's affine; exact sheared affine for
 * gantry tilt) is always written too; these are additional.
 *
 * - uneven spacing (or a missing slice): `_Eq_1`, equal steps along the normal over the
 *   whole stack; a tilted stack keeps its shear here unless tilt correction is asked for;
 * - gantry tilt, with `tiltCorrect`: `_Tilt_1` (or `_Tilt_Eq_1` when also uneven), slice
 *   axis along the normal and rows widened to hold every slice.
 * The geometry and interpolation are in src-shared/image/stack-resample.ts.
 */
import type { ImageGeometry, Mat3, Vec3, Volume } from '../../src-shared/image/volume';
import { equalSpacingTarget, isUnevenSpacing, planeNormal, resampleStack, slicePositions, stackTiltDegrees, type SliceStack } from '../../src-shared/image/stack-resample';
import type { VolumeGroup } from './split';

/** Above this angle between stack direction and normal the stack is tilted (split.ts uses the same). */
const TILT_TOLERANCE_DEG = 0.05;
const fmt = (x: number, d = 3): string => String(Number(x.toFixed(d)));

/**
 * The slices of an assembled volume (any row order: a row flip moves every slice's voxel
 * (0,0) by the same in-plane offset) with their true positions from ImagePositionPatient.
 */
export function sliceStackOf(group: VolumeGroup, volume: Volume): SliceStack | null {
  const refs = group.slices[0];
  if (refs.length !== volume.dims[2] || refs.some((s) => !s.record.ipp)) return null;
  const p0 = refs[0].record.ipp!;
  return { volume, sliceOrigins: refs.map((s) => [0, 1, 2].map((n) => volume.origin[n] + s.record.ipp![n] - p0[n]) as Vec3) };
}

/** What a group needs: uneven spacing and/or tilt, from the true slice positions. */
export function stackTraits(group: VolumeGroup): { uneven: boolean; tilted: boolean } {
  return { uneven: isUnevenSpacing(group.slicePositions), tilted: group.dims[2] > 1 && group.shearDeg > TILT_TOLERANCE_DEG };
}

/** True when convert must write something besides the exact file. */
export function needsResampledOutput(group: VolumeGroup, tiltCorrect: boolean): boolean {
  const t = stackTraits(group);
  return t.uneven || (tiltCorrect && t.tilted);
}

/** Smallest real value: the fill for points outside the acquired slices (air on CT). */
function minimumReal(v: Volume): number {
  let lo = Infinity;
  let hi = -Infinity;
  const d = v.data;
  for (let i = 0; i < d.length; i++) {
    const x = d[i];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (!Number.isFinite(lo)) return 0;
  return Math.min(lo * v.rescaleSlope, hi * v.rescaleSlope) + v.rescaleIntercept;
}

/** Step between target slices measured along the slice normal (mm). */
function normalStep(t: ImageGeometry): number {
  return t.spacing[2] * Math.abs(dot3(col3(t.direction, 2), planeNormal(t)));
}
const col3 = (d: Mat3, c: number): Vec3 => [d[c], d[3 + c], d[6 + c]];
const dot3 = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/**
 * resampleStack in slabs of slices, yielding to the event loop between them (the viewer's
 * load runs in the main process: IPC and progress keep flowing) and honouring `signal`.
 */
async function resampleInSlabs(stack: SliceStack, target: ImageGeometry, fill: number, signal?: AbortSignal): Promise<Volume> {
  const out = new Float32Array(target.dims[0] * target.dims[1] * target.dims[2] * stack.volume.frames);
  const slab = Math.max(1, Math.floor(4e6 / (target.dims[0] * target.dims[1] * stack.volume.frames)));
  let v: Volume | undefined;
  for (let k0 = 0; k0 < target.dims[2]; k0 += slab) {
    if (signal?.aborted) throw new DOMException('loading cancelled', 'AbortError');
    v = resampleStack(stack, target, { fill, out, k0, k1: Math.min(target.dims[2], k0 + slab) });
    await new Promise((r) => setImmediate(r));
  }
  return v!;
}

export interface ResampledOutput {
  suffix: '_Eq_1' | '_Tilt_1' | '_Tilt_Eq_1';
  volume: Volume;
  /** One line for the warnings: what was resampled and how. */
  note: string;
}

/** The resampled volumes convert writes next to the exact file. */
export async function resampledOutputs(group: VolumeGroup, volume: Volume, opts: { tiltCorrect: boolean; signal?: AbortSignal }): Promise<ResampledOutput[]> {
  if (!needsResampledOutput(group, opts.tiltCorrect)) return [];
  const stack = sliceStackOf(group, volume);
  if (!stack) return [];
  const { uneven, tilted } = stackTraits(group);
  const fill = minimumReal(volume);
  const correct = opts.tiltCorrect && tilted;
  const target = equalSpacingTarget(stack, { tiltCorrect: correct });
  const out = await resampleInSlabs(stack, target, fill, opts.signal);
  const suffix = correct ? (uneven ? '_Tilt_Eq_1' : '_Tilt_1') : '_Eq_1';
  const what = [
    correct ? `tilt-corrected (${fmt(stackTiltDegrees(stack), 2)}°: slice axis along the normal, ${target.dims[0]}×${target.dims[1]} in-plane)` : '',
    uneven ? `equal spacing of ${fmt(normalStep(target))} mm` : '',
  ].filter(Boolean).join(', ');
  const span = slicePositions(stack);
  return [
    {
      suffix,
      volume: out,
      note: `also written resampled (${suffix}): ${what}, ${target.dims[2]} slices from ${fmt(span[0], 2)} to ${fmt(span[span.length - 1], 2)} mm along the normal (linear interpolation between the two nearest slices)`,
    },
  ];
}

/**
 * The viewer's volume for a stack with uneven spacing: resampled to equal spacing (shear
 * kept), so that every slice shown is where the scanner put it. Null when not needed.
 */
export async function viewerResampled(group: VolumeGroup, volume: Volume, signal?: AbortSignal): Promise<{ volume: Volume; warning: string } | null> {
  if (group.dims[2] < 3 || !stackTraits(group).uneven) return null;
  const stack = sliceStackOf(group, volume);
  if (!stack) return null;
  const target = equalSpacingTarget(stack, { tiltCorrect: false });
  const out = await resampleInSlabs(stack, target, minimumReal(volume), signal);
  const step = normalStep(target);
  return {
    volume: out,
    warning: `uneven slice spacing: shown resampled to ${target.dims[2]} slices at an equal ${fmt(step)} mm (linear interpolation between the acquired slices, ${volume.dims[2]} of them); convert writes the exact slices too`,
  };
}
