/**
 * Checks a workspace file (src-shared/workspace/workspace.ts) without opening it in the app:
 * the JSON and its fields, then every layer's file — that it exists, that an image file has a
 * readable NIfTI header (only the first bytes are read, also of .nii.gz), that a DICOM folder
 * holds the series named (by SeriesInstanceUID and size). One problem per line, each naming
 * the layer and the file. Used by `lattice workspace validate`.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { dirname, resolve } from 'node:path';
import { parseWorkspace, resolveFrom, type Workspace } from '../../src-shared/workspace/workspace';
import { parseNifti1Header } from '../../src-shared/nifti/nifti1';

export interface WorkspaceReport {
  path: string;
  workspace: Workspace | null;
  /** One line each: "layer 2 (Threshold > 60): /x/y.nii.gz does not exist". */
  problems: string[];
  /** The layers whose files were found and look right. */
  ok: number;
}

const MAX_BYTES = 4_000_000;

/** The first `n` bytes of a file, gunzipped when it is gzip (by its magic bytes). */
async function firstBytes(path: string, n: number): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  let magic: Uint8Array;
  try {
    const b = Buffer.alloc(2);
    await fh.read(b, 0, 2, 0);
    magic = b;
  } finally {
    await fh.close();
  }
  const gz = magic[0] === 0x1f && magic[1] === 0x8b;
  const stream = gz ? createReadStream(path).pipe(createGunzip()) : createReadStream(path, { start: 0, end: n - 1 });
  const chunks: Buffer[] = [];
  let got = 0;
  try {
    for await (const c of stream as AsyncIterable<Buffer>) {
      chunks.push(c);
      got += c.length;
      if (got >= n) break;
    }
  } finally {
    stream.destroy();
  }
  return new Uint8Array(Buffer.concat(chunks).subarray(0, n));
}

async function checkImageFile(abs: string): Promise<string | null> {
  if (!/\.nii(\.gz)?$/i.test(abs)) return `${abs}: unknown image file type (Lattice opens NIfTI .nii / .nii.gz files)`;
  try {
    parseNifti1Header(await firstBytes(abs, 352));
    return null;
  } catch (e) {
    return `${abs}: not a readable NIfTI file (${e instanceof Error ? e.message : String(e)})`;
  }
}

async function checkDicomFolder(abs: string, series: Workspace['layers'][number]['series']): Promise<string | null> {
  const { scanDicom } = await import('../dicom/index');
  const scan = await scanDicom([abs]);
  if (!scan.series.length) return `${abs}: no DICOM series in this folder`;
  if (!series?.uid) return null;
  const hits = scan.series.filter((s) => s.seriesInstanceUid === series.uid);
  if (!hits.length) return `${abs}: no series with SeriesInstanceUID ${series.uid} (found ${scan.series.map((s) => s.seriesInstanceUid).join(', ')})`;
  if (series.dims && !hits.some((s) => series.dims!.slice(0, 3).every((d, i) => s.dims[i] === d)))
    return `${abs}: series ${series.uid} is ${hits.map((s) => s.dims.join('×')).join(' / ')}, the workspace expects ${series.dims.join('×')}`;
  return null;
}

export async function validateWorkspaceFile(file: string): Promise<WorkspaceReport> {
  const path = resolve(file);
  const report: WorkspaceReport = { path, workspace: null, problems: [], ok: 0 };
  const st = await stat(path).catch(() => null);
  if (!st) return { ...report, problems: [`${path}: does not exist`] };
  if (!st.isFile()) return { ...report, problems: [`${path}: is not a file`] };
  if (st.size > MAX_BYTES) return { ...report, problems: [`${path}: ${st.size} bytes; a workspace is a small JSON file (at most 4 MB)`] };
  let ws: Workspace;
  try {
    ws = parseWorkspace(await readFile(path, 'utf8'), path);
  } catch (e) {
    return { ...report, problems: [e instanceof Error ? e.message : String(e)] };
  }
  report.workspace = ws;
  const dir = dirname(path);
  for (const [i, l] of ws.layers.entries()) {
    const abs = resolveFrom(dir, l.file);
    const who = `layer ${i + 1} (${l.nickname || l.name})`;
    const s = await stat(abs).catch(() => null);
    let problem: string | null;
    if (!s) problem = `${abs} does not exist`;
    else if (l.kind === 'dicom') problem = s.isDirectory() ? await checkDicomFolder(abs, l.series) : `${abs} is not a folder (DICOM layers name their series' folder)`;
    else problem = s.isFile() ? await checkImageFile(abs) : `${abs} is not a file`;
    if (problem) report.problems.push(`${who}: ${problem}`);
    else report.ok++;
  }
  return report;
}
