/**
 * Segmentation job kinds (served by src-main/workers/segmentation.ts):
 *   'segmentation.rtstruct'        params { file, rois? }, inputs [image]
 *        → volumes: one uint8 0/1 mask per ROI on the image's grid; values { label, rois: [{ number, name, color?, voxels, contours, skipped }] }
 *        Fails with a clear message when the file is not a structure set or does not reference
 *        the image (series or frame of reference).
 *   'segmentation.active-contour'  params { bubbles, speed, alpha?, beta?, gamma?, iterations, roi?, previewMs? }, inputs [image]
 *        → volumes [uint8 0/1 mask on the image's grid]; values { iterations, voxels, stoppedEarly }
 *        Progress messages carry previews { box: [i0, j0, k0, sx, sy, sz], mask: ArrayBuffer (ROI, uint8), iteration, voxels }.
 *        ctx.finish (job.cancel { keep: true }) stops and keeps the contour so far.
 *   'segmentation.save'            params { path, labels, itkSnapPath? }, inputs [label volume]
 *        → writes the NIfTI, its label sidecar (x.labels.json) and, optionally, an ITK-SNAP label file; values { files }
 *   'segmentation.read-labels'     params { path } → values { labels } from an ITK-SNAP label file or a .labels.json
 *        sidecar (given the .nii(.gz) path, its sidecar is read; none → labels: null)
 * All files are written to a temporary name and renamed (src-main/fs/atomic-write.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import type { Vec3, Volume } from '../../src-shared/image/volume';
import { OperationCancelledError, type AbortFlag } from '../../src-shared/processing/progress';
import { ActiveContour } from '../../src-shared/segmentation/active-contour';
import { labelSidecar, parseItkSnapLabels, parseLabelSidecar, sidecarPathFor, writeItkSnapLabels, type LabelEntry } from '../../src-shared/segmentation/label-table';
import { readRtStruct, rasterizeRoi, rtStructMatches } from '../dicom/rtstruct';
import { writeNiftiFile } from '../nifti/nifti-file';
import { writeFileAtomic } from '../fs/atomic-write';
import { copyGeometry } from '../../src-shared/processing/volume-utils';

export const SEGMENTATION_JOB_KINDS = ['segmentation.rtstruct', 'segmentation.active-contour', 'segmentation.save', 'segmentation.read-labels'] as const;

interface Ctx {
  onProgress(fraction: number, message: string, preview?: unknown): void;
  signal: AbortFlag;
  finish?: { readonly requested: boolean };
}

const vec3 = z.tuple([z.number().finite(), z.number().finite(), z.number().finite()]);
const path = z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'must not contain NUL');

export const rtstructParams = z.object({ file: path, rois: z.array(z.number().int()).max(10_000).optional() }).strict();

export const activeContourParams = z
  .object({
    bubbles: z.array(z.object({ center: vec3, radius: z.number().gt(0).max(1000) }).strict()).min(1).max(1000),
    speed: z.discriminatedUnion('mode', [
      z.object({ mode: z.literal('threshold'), lower: z.number().finite(), upper: z.number().finite(), smoothness: z.number().gt(0).optional() }).strict(),
      z.object({ mode: z.literal('edge'), kappa: z.number().gt(0), exponent: z.number().gt(0).max(20).optional(), sigma: z.number().min(0).max(50).optional() }).strict(),
    ]),
    alpha: z.number().min(-10).max(10).optional(),
    beta: z.number().min(0).max(10).optional(),
    /** Advection weight (geodesic active contour); default 2 for edge speed, 0 for threshold. */
    gamma: z.number().min(0).max(20).optional(),
    iterations: z.number().int().min(1).max(100_000),
    roi: z.object({ start: vec3, end: vec3 }).strict().optional(),
    previewMs: z.number().int().min(20).max(10_000).optional(),
  })
  .strict()
  .refine((p) => p.speed.mode !== 'threshold' || p.speed.lower < p.speed.upper, 'speed.lower must be below speed.upper');

const labelEntry = z
  .object({
    value: z.number().int().min(1).max(65535),
    name: z.string().max(500),
    color: z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)]),
    opacity: z.number().min(0).max(1),
    visible: z.boolean(),
    visible3D: z.boolean().optional(),
  })
  .strict();

export const saveParams = z
  .object({
    path: path.refine((p) => /\.nii(\.gz)?$/i.test(p), 'must end in .nii or .nii.gz'),
    labels: z.array(labelEntry).max(65535),
    itkSnapPath: path.refine((p) => /\.(txt|label|labels)$/i.test(p), 'must end in .txt').optional(),
    overwrite: z.boolean().optional(),
  })
  .strict();

export const readLabelsParams = z.object({ path }).strict();

function checkAbort(signal: AbortFlag) {
  if (signal.aborted) throw new OperationCancelledError();
}

function mask(ref: Volume, data: Uint8Array, name: string, extra: Volume['metadata'] = {}): Volume {
  return { ...copyGeometry(ref), data, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: { SeriesDescription: name, Modality: 'SEG', ...extra } };
}

export function runRtStruct(params: unknown, [image]: Volume[], ctx: Ctx) {
  const p = rtstructParams.parse(params);
  if (!image) throw new Error('segmentation.rtstruct: needs the image the structure set belongs to');
  const s = readRtStruct(p.file);
  if (!rtStructMatches(s, image)) {
    throw new Error(`${p.file}: the structure set references another image (frame of reference ${s.frameOfReferenceUids.join(', ') || 'none'}, series ${s.referencedSeriesUids.join(', ') || 'none'}), not the loaded one`);
  }
  const rois = p.rois ? s.rois.filter((r) => p.rois!.includes(r.number)) : s.rois;
  const volumes: Volume[] = [];
  const info: Record<string, unknown>[] = [];
  rois.forEach((r, n) => {
    checkAbort(ctx.signal);
    ctx.onProgress(n / Math.max(1, rois.length), `Rasterising ${r.name}`);
    const { mask: m, voxels, skipped } = rasterizeRoi(r, image);
    volumes.push(mask(image, m, r.name, { ROIName: r.name, ROINumber: r.number }));
    info.push({ number: r.number, name: r.name, ...(r.color ? { color: r.color } : {}), voxels, contours: r.contours.length, skipped, ignored: r.ignored });
  });
  return { volumes, values: { label: s.label, file: s.file, rois: info } };
}

export async function runActiveContour(params: unknown, [image]: Volume[], ctx: Ctx) {
  const p = activeContourParams.parse(params);
  if (!image) throw new Error('segmentation.active-contour: needs an image');
  const ac = new ActiveContour(image, { speed: p.speed, bubbles: p.bubbles.map((b) => ({ center: b.center as Vec3, radius: b.radius })), alpha: p.alpha, beta: p.beta, gamma: p.gamma, roi: p.roi as { start: Vec3; end: Vec3 } | undefined });
  const every = p.previewMs ?? 250;
  let last = 0;
  let stoppedEarly = false;
  const preview = (final: boolean) => {
    const voxels = ac.insideCount();
    const m = ac.roiMask();
    ctx.onProgress(ac.iteration / p.iterations, `Iteration ${ac.iteration} of ${p.iterations}: ${voxels} voxels inside${final ? '' : '…'}`, {
      box: [...ac.start, ...ac.size],
      mask: m.buffer,
      iteration: ac.iteration,
      voxels,
    });
  };
  preview(false);
  while (ac.iteration < p.iterations) {
    checkAbort(ctx.signal);
    if (ctx.finish?.requested) {
      stoppedEarly = true;
      break;
    }
    ac.step(1);
    if (Date.now() - last >= every) {
      last = Date.now();
      preview(false);
      // Let the worker's message loop run (cancel/finish messages in utility processes).
      await new Promise((r) => setImmediate(r));
    }
  }
  preview(true);
  const voxels = ac.insideCount();
  return { volumes: [mask(image, ac.fullMask(), 'Active contour')], values: { iterations: ac.iteration, voxels, stoppedEarly } };
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

export async function runSave(params: unknown, [label]: Volume[]) {
  const p = saveParams.parse(params);
  if (!label) throw new Error('segmentation.save: needs the label volume');
  const side = sidecarPathFor(p.path);
  if (!p.overwrite) for (const f of [p.path, side, p.itkSnapPath].filter((x): x is string => !!x)) if (await exists(f)) throw new Error(`${f} already exists (tick "replace" to overwrite it)`);
  const table = p.labels as LabelEntry[];
  await writeNiftiFile(p.path, { ...label, metadata: { ...label.metadata, Modality: 'SEG' } });
  const enc = new TextEncoder();
  await writeFileAtomic(side, [enc.encode(JSON.stringify(labelSidecar(table), null, 2) + '\n')]);
  if (p.itkSnapPath) await writeFileAtomic(p.itkSnapPath, [enc.encode(writeItkSnapLabels(table))]);
  return { volumes: [], values: { files: [p.path, side, ...(p.itkSnapPath ? [p.itkSnapPath] : [])] } };
}

export async function runReadLabels(params: unknown) {
  const p = readLabelsParams.parse(params);
  const file = /\.nii(\.gz)?$/i.test(p.path) ? sidecarPathFor(p.path) : p.path;
  if (!(await exists(file))) {
    if (file !== p.path) return { volumes: [], values: { labels: null } };
    throw new Error(`${file}: no such file`);
  }
  const st = await stat(file);
  if (st.size > 16 * 1024 * 1024) throw new Error(`${file}: too large for a label file (${st.size} bytes)`);
  const text = await readFile(file, 'utf8');
  try {
    const labels = /\.json$/i.test(file) ? parseLabelSidecar(JSON.parse(text)) : parseItkSnapLabels(text);
    return { volumes: [], values: { labels, file } };
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
}
