/**
 * DICOM RT Structure Sets (RTSTRUCT): what one references (frame of reference, series) and its
 * ROIs (number, name, display colour, CLOSED_PLANAR contours in patient LPS mm). Rasterising
 * the contours onto an image grid is src-shared/segmentation/rasterize-contours.ts.
 */
import { readFileSync } from 'node:fs';
import dicomParser from 'dicom-parser';
import type { ImageGeometry, Volume } from '../../src-shared/image/volume';
import { rasterizeContours } from '../../src-shared/segmentation/rasterize-contours';

type DataSet = dicomParser.DataSet;

export interface RtRoi {
  number: number;
  name: string;
  /** ROI Display Color (0…255), when given. */
  color?: [number, number, number];
  /** Each contour a flat x,y,z list (mm, LPS). */
  contours: number[][];
  /** Contour types other than CLOSED_PLANAR (points, open polylines) that were left out. */
  ignored: number;
}

export interface RtStructureSet {
  file: string;
  label: string;
  name: string;
  frameOfReferenceUids: string[];
  referencedSeriesUids: string[];
  rois: RtRoi[];
}

/** Summary listed by the scanner (no contour points). */
export interface RtStructSummary {
  file: string;
  label: string;
  frameOfReferenceUids: string[];
  referencedSeriesUids: string[];
  rois: { number: number; name: string; color?: [number, number, number]; contours: number }[];
}

const items = (ds: DataSet, tag: string) => ds.elements[tag]?.items ?? [];
const str = (ds: DataSet, tag: string) => (ds.elements[tag] ? (ds.string(tag) ?? '').trim() : '');

function parse(bytes: Uint8Array, file: string): DataSet {
  try {
    return dicomParser.parseDicom(bytes);
  } catch (e) {
    throw new Error(`${file}: not a readable DICOM file (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Reads a structure set file (throws a message naming the file when it is not one). */
export function readRtStruct(file: string, bytes?: Uint8Array): RtStructureSet {
  if (!bytes) {
    try {
      bytes = new Uint8Array(readFileSync(file));
    } catch (e) {
      throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  const ds = parse(bytes, file);
  const modality = str(ds, 'x00080060');
  const sop = str(ds, 'x00080016') || str(ds, 'x00020002');
  if (modality !== 'RTSTRUCT' && sop !== '1.2.840.10008.5.1.4.1.1.481.3') throw new Error(`${file}: not an RT structure set (modality ${modality || 'none'})`);
  const fors = new Set<string>();
  const series = new Set<string>();
  for (const f of items(ds, 'x30060010')) {
    const u = str(f.dataSet!, 'x00200052');
    if (u) fors.add(u);
    for (const st of items(f.dataSet!, 'x30060012')) for (const se of items(st.dataSet!, 'x30060014')) {
      const s = str(se.dataSet!, 'x0020000e');
      if (s) series.add(s);
    }
  }
  const names = new Map<number, string>();
  for (const r of items(ds, 'x30060020')) {
    const n = Number(str(r.dataSet!, 'x30060022'));
    names.set(n, str(r.dataSet!, 'x30060026') || `ROI ${n}`);
    const u = str(r.dataSet!, 'x30060024');
    if (u) fors.add(u);
  }
  const rois: RtRoi[] = [];
  const seen = new Set<number>();
  for (const c of items(ds, 'x30060039')) {
    const d = c.dataSet!;
    const number = Number(str(d, 'x30060084'));
    seen.add(number);
    const col = str(d, 'x3006002a').split('\\').map(Number);
    const contours: number[][] = [];
    let ignored = 0;
    for (const ct of items(d, 'x30060040')) {
      const cd = ct.dataSet!;
      const type = str(cd, 'x30060042') || 'CLOSED_PLANAR';
      const pts = str(cd, 'x30060050').split('\\').filter((x) => x !== '').map(Number);
      if (type !== 'CLOSED_PLANAR' || pts.length < 9 || pts.some((x) => !Number.isFinite(x))) {
        ignored++;
        continue;
      }
      contours.push(pts);
    }
    rois.push({
      number,
      name: names.get(number) ?? `ROI ${number}`,
      ...(col.length === 3 && col.every((x) => Number.isFinite(x)) ? { color: col.map((x) => Math.max(0, Math.min(255, Math.round(x)))) as [number, number, number] } : {}),
      contours,
      ignored,
    });
  }
  // ROIs named but without contours (empty structures) are listed too.
  for (const [n, name] of names) if (!seen.has(n)) rois.push({ number: n, name, contours: [], ignored: 0 });
  rois.sort((a, b) => a.number - b.number);
  const label = str(ds, 'x30060002') || str(ds, 'x0008103e') || file.split(/[\\/]/).pop() || file;
  return { file, label, name: str(ds, 'x30060004'), frameOfReferenceUids: [...fors], referencedSeriesUids: [...series], rois };
}

export function summariseRtStruct(s: RtStructureSet): RtStructSummary {
  return {
    file: s.file,
    label: s.label,
    frameOfReferenceUids: s.frameOfReferenceUids,
    referencedSeriesUids: s.referencedSeriesUids,
    rois: s.rois.map((r) => ({ number: r.number, name: r.name, ...(r.color ? { color: r.color } : {}), contours: r.contours.length })),
  };
}

/** Whether a structure set belongs to an image (same series, or same frame of reference). */
export function rtStructMatches(s: Pick<RtStructureSet, 'frameOfReferenceUids' | 'referencedSeriesUids'>, image: Pick<Volume, 'metadata'>): boolean {
  const series = String(image.metadata.SeriesInstanceUID ?? '');
  const fo = String(image.metadata.FrameOfReferenceUID ?? '');
  return (!!series && s.referencedSeriesUids.includes(series)) || (!!fo && s.frameOfReferenceUids.includes(fo));
}

/** One ROI as a uint8 0/1 mask on the image's grid. */
export function rasterizeRoi(roi: RtRoi, grid: ImageGeometry): { mask: Uint8Array; voxels: number; skipped: number } {
  const mask = new Uint8Array(grid.dims[0] * grid.dims[1] * grid.dims[2]);
  const r = rasterizeContours(grid, roi.contours, mask, 1);
  let voxels = 0;
  for (let i = 0; i < mask.length; i++) voxels += mask[i];
  return { mask, voxels, skipped: r.skipped };
}
