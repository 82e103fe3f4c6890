/**
 * Scanning: expand files/folders (recursively), read every header (in parallel, no
 * pixel decoding), report unusable files and skipped objects, and split the images
 * into volumes. The result keeps the internal volume groups for loadDicomSeries.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DicomScan, DicomSeriesSummary, FileProblem, ImageRecord } from './types';
import { readHeaderSync, type HeaderResult } from './read-header';
import { orientationName, splitIntoVolumes, type VolumeGroup } from './split';
import { readRtStruct, summariseRtStruct, type RtStructSummary } from './rtstruct';

export interface ScanOptions {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Internal state kept per scan (the public object stays plain data for IPC). */
export interface ScanState {
  groups: Map<string, VolumeGroup>;
}
const states = new WeakMap<DicomScan, ScanState>();

export function scanState(scan: DicomScan): ScanState | undefined {
  return states.get(scan);
}

/** Files under the inputs, sorted; folders that hold no file become problems. */
async function listFiles(inputs: string[], problems: FileProblem[], dicomdirs: string[]): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<number> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      problems.push({ file: dir, problem: `cannot read folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
      return 0;
    }
    let count = 0;
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) count += await walk(p);
      else if (e.isFile() || e.isSymbolicLink()) {
        if (e.name.startsWith('.')) continue; // hidden files (.DS_Store, editor backups)
        if (e.name === 'DICOMDIR') {
          dicomdirs.push(p); // an index of the files, which we find by walking anyway
          continue;
        }
        files.push(p);
        count++;
      }
    }
    return count;
  };
  for (const input of inputs) {
    const abs = resolve(input);
    let st;
    try {
      st = await stat(abs);
    } catch (e) {
      problems.push({ file: input, problem: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : `cannot access (${(e as Error).message})` });
      continue;
    }
    if (st.isDirectory()) {
      if ((await walk(abs)) === 0) problems.push({ file: input, problem: 'folder holds no files' });
    } else files.push(abs);
  }
  return [...new Set(files)];
}

export async function scanDicom(inputs: string[], opts: ScanOptions = {}): Promise<DicomScan> {
  const problems: FileProblem[] = [];
  const notes: string[] = [];
  const dicomdirs: string[] = [];
  const files = await listFiles(inputs, problems, dicomdirs);
  for (const d of dicomdirs) notes.push(`DICOMDIR index skipped (the folder is scanned directly): ${d}`);
  let done = 0;
  opts.onProgress?.(0, files.length);
  // Synchronous header reads (fast on cached files), yielding to the event loop every
  // batch so progress events, IPC and cancellation keep flowing.
  const results: HeaderResult[] = [];
  for (let i = 0; i < files.length; i++) {
    if (i % 64 === 63) {
      await new Promise((r) => setImmediate(r));
      if (opts.signal?.aborted) throw new DOMException('scan cancelled', 'AbortError');
      opts.onProgress?.(done, files.length);
    }
    results.push(readHeaderSync(files[i]));
    done++;
  }
  opts.onProgress?.(done, files.length);
  const records: ImageRecord[] = [];
  const skipped = new Map<string, string[]>();
  const seen = new Map<string, string>();
  const structureSets: RtStructSummary[] = [];
  results.forEach((r, i) => {
    if (r.kind === 'images') {
      // The same image twice (a copied file) would pose as a second volume: keep the first.
      // (Edited test copies reuse the UID with another SeriesNumber/encoding: those are kept.)
      const r0 = r.records[0];
      const key = r0.sopInstanceUid ? [r0.sopInstanceUid, r0.seriesUid, r0.seriesNumber, r0.transferSyntax, r0.pixelRepresentation].join('|') : '';
      const prev = key ? seen.get(key) : undefined;
      if (prev) {
        problems.push({ file: files[i], problem: `duplicate of ${prev} (same SOPInstanceUID): ignored` });
        return;
      }
      if (key) seen.set(key, files[i]);
      records.push(...r.records);
    }
    else if (r.kind === 'problem') problems.push({ file: files[i], problem: r.problem });
    else {
      // RT structure sets are listed (they open as label layers onto a matching image).
      if (r.note.startsWith('RT Structure Set')) {
        try {
          structureSets.push(summariseRtStruct(readRtStruct(files[i])));
        } catch (e) {
          problems.push({ file: files[i], problem: (e as Error).message });
        }
      }
      let l = skipped.get(r.note);
      if (!l) skipped.set(r.note, (l = []));
      l.push(files[i]);
    }
  });
  for (const [note, fl] of skipped) notes.push(`${note}: ${fl.length === 1 ? fl[0] : `${fl.length} files (${fl.slice(0, 3).join(', ')}${fl.length > 3 ? ', …' : ''})`}`);

  const groups = splitIntoVolumes(records);
  const map = new Map<string, VolumeGroup>();
  const series: DicomSeriesSummary[] = groups.map((g, i) => {
    const id = String(i + 1);
    map.set(id, g);
    return summarise(id, g);
  });
  const scan: DicomScan & { inputs: string[] } = { series, problems, notes, inputs: [...inputs], ...(structureSets.length ? { structureSets } : {}) };
  states.set(scan, { groups: map });
  return scan;
}

function summarise(id: string, g: VolumeGroup): DicomSeriesSummary {
  const r = g.records[0];
  const m = r.meta;
  const files = new Set(g.records.map((x) => x.file));
  return {
    id,
    seriesInstanceUid: r.seriesUid,
    seriesNumber: r.seriesNumber,
    description: r.seriesDescription || r.protocolName || r.sequenceName,
    modality: r.modality,
    dims: [...g.dims],
    frames: g.frames,
    spacing: [...g.spacing],
    orientation: orientationName(g.direction),
    fileCount: files.size,
    warnings: [...g.warnings],
    ...(g.notes.length ? { notes: [...g.notes] } : {}),
    patientName: (m.PatientName ?? '').replace(/\^+/g, ' ').trim(),
    patientId: m.PatientID ?? '',
    studyDate: m.StudyDate ?? '',
    studyDescription: m.StudyDescription ?? '',
    ...(m.BodyPartExamined ? { bodyPart: m.BodyPartExamined } : {}),
  };
}
