/**
 * `lattice rtstruct`: an RT structure set rasterised on the grid of the image it references,
 * as NIfTI masks (one per ROI) or one label image with a label sidecar and an ITK-SNAP label
 * file. Exit codes: 0 written, 1 nothing written (no ROI), 2 impossible request.
 */
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { CommandTable } from '../command';
import type { Volume } from '../../../src-shared/image/volume';
import { loadDicomSeries, scanDicom } from '../../dicom/index';
import { readRtStruct, rasterizeRoi, rtStructMatches } from '../../dicom/rtstruct';
import { readNiftiFile, writeNiftiFile } from '../../nifti/nifti-file';
import { writeFileAtomic } from '../../fs/atomic-write';
import { copyGeometry } from '../../../src-shared/processing/volume-utils';
import { defaultLabel, labelSidecar, sidecarPathFor, writeItkSnapLabels, type LabelEntry } from '../../../src-shared/segmentation/label-table';

const USAGE = [
  'Usage: lattice rtstruct <RTSTRUCT.dcm> --image <CT folder | image.nii(.gz)> -o <dir> [--merge] [--gz] [--roi NAME]…',
  '',
  'Rasterises the structure set exactly on the image grid: a voxel is inside when its centre',
  'is inside the contours of its slice (even-odd rule, so holes stay empty).',
  '  --image <path>  the CT the structure set references (a DICOM folder: the series with the',
  '                  referenced SeriesInstanceUID or FrameOfReferenceUID is used), or a NIfTI',
  '                  on the same grid (not checked: NIfTI keeps no UIDs)',
  '  -o, --out <dir> output folder (created if needed)',
  '  --merge         one label image (ROI k → label k, later ROIs drawn over earlier ones) with',
  '                  <name>.labels.json and an ITK-SNAP label file, instead of one mask per ROI',
  '  --roi NAME      only this ROI (repeatable)',
  '  --gz            write .nii.gz',
].join('\n');

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'roi';

async function referenceImage(path: string, rt: ReturnType<typeof readRtStruct>): Promise<Volume> {
  if (/\.nii(\.gz)?$/i.test(path)) return (await readNiftiFile(path)).volume;
  const scan = await scanDicom([path]);
  for (const s of scan.series) {
    const v = (await loadDicomSeries(scan, s.id)).volume;
    if (rtStructMatches(rt, v)) return v;
  }
  throw new Error(`${path}: no series that ${rt.file} references (series ${rt.referencedSeriesUids.join(', ') || 'none'}, frame of reference ${rt.frameOfReferenceUids.join(', ') || 'none'})`);
}

export const commands: CommandTable = {
  rtstruct: {
    summary: 'Rasterise an RT structure set onto its CT as NIfTI masks or one label image',
    usage: USAGE,
    async run(args, io) {
      const pos: string[] = [];
      const flags = new Map<string, string[]>();
      const withValue = ['--image', '-o', '--out', '--roi'];
      for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (!a.startsWith('-')) pos.push(a);
        else if (withValue.includes(a)) {
          if (args[i + 1] === undefined) return io.err(`lattice rtstruct: option ${a} needs a value`), 2;
          flags.set(a, [...(flags.get(a) ?? []), args[++i]]);
        } else if (['--merge', '--gz'].includes(a)) flags.set(a, []);
        else return io.err(`lattice rtstruct: unknown option ${a}`), 2;
      }
      const out = flags.get('-o')?.[0] ?? flags.get('--out')?.[0];
      const image = flags.get('--image')?.[0];
      if (pos.length !== 1 || !out || !image) return io.err('lattice rtstruct: give one RTSTRUCT file, --image and -o (see --help)'), 2;
      let rt;
      try {
        rt = readRtStruct(pos[0]);
      } catch (e) {
        return io.err(`lattice rtstruct: ${(e as Error).message}`), 2;
      }
      let ref: Volume;
      try {
        ref = await referenceImage(image, rt);
      } catch (e) {
        return io.err(`lattice rtstruct: ${(e as Error).message}`), 2;
      }
      const wanted = flags.get('--roi');
      const rois = wanted ? rt.rois.filter((r) => wanted.includes(r.name)) : rt.rois;
      for (const w of wanted ?? []) if (!rt.rois.some((r) => r.name === w)) io.err(`lattice rtstruct: no ROI named "${w}" (has: ${rt.rois.map((r) => r.name).join(', ')})`);
      if (!rois.length) return io.err('lattice rtstruct: no ROI to write'), 1;
      await mkdir(out, { recursive: true });
      const ext = flags.has('--gz') ? '.nii.gz' : '.nii';
      const base = safe(basename(pos[0]).replace(/\.dcm$/i, ''));
      const geom = copyGeometry(ref);
      const n = geom.dims[0] * geom.dims[1] * geom.dims[2];
      if (flags.has('--merge')) {
        const data = new Uint16Array(n);
        const table: LabelEntry[] = [];
        rois.forEach((r, k) => {
          const { mask, voxels, skipped } = rasterizeRoi(r, ref);
          for (let i = 0; i < n; i++) if (mask[i]) data[i] = k + 1;
          table.push({ ...defaultLabel(k + 1), name: r.name, ...(r.color ? { color: r.color } : {}) });
          io.out(`label ${k + 1}  ${r.name}  ${voxels} voxels${skipped ? `  (${skipped} contours off the grid)` : ''}`);
        });
        const file = join(out, base + ext);
        await writeNiftiFile(file, { ...geom, data, voxelType: 'uint16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: { Modality: 'SEG' } });
        const enc = new TextEncoder();
        await writeFileAtomic(sidecarPathFor(file), [enc.encode(JSON.stringify(labelSidecar(table), null, 2) + '\n')]);
        await writeFileAtomic(join(out, `${base}-labels.txt`), [enc.encode(writeItkSnapLabels(table))]);
        io.out(file);
        return 0;
      }
      for (const r of rois) {
        const { mask, voxels, skipped } = rasterizeRoi(r, ref);
        const file = join(out, `${base}_${String(r.number).padStart(2, '0')}_${safe(r.name)}${ext}`);
        await writeNiftiFile(file, { ...geom, data: mask, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: { Modality: 'SEG', ROIName: r.name } });
        io.out(`${file}  (${voxels} voxels${skipped ? `, ${skipped} contours off the grid` : ''})`);
      }
      return 0;
    },
  },
};
