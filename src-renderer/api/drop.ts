/**
 * Files and folders dropped from the desktop onto the page → paths the main side can open.
 * Electron knows every dropped item's real path. A browser does not, so the items are
 * read (folders recursively, keeping their structure) and uploaded in batches to the
 * host's private staging folder (upload.files); their staged paths are returned.
 */
import type { LatticeApi, ProgressHandler } from './index';

export interface DroppedItem {
  /** Path on the main side's file system (staged copy in the browser). */
  path: string;
  name: string;
  kind: 'folder' | 'file';
}

/** Upload batches: few enough bytes to keep memory flat, enough files to keep calls few. */
const BATCH_BYTES = 64 * 1024 * 1024;
const BATCH_FILES = 500;

interface Top {
  name: string;
  entry: FileSystemEntry | null;
  file: File | null;
}

/** Reads what the DataTransfer holds; must run synchronously inside the drop handler. */
function snapshot(dt: DataTransfer): Top[] {
  const tops: Top[] = [];
  const items = dt.items ? [...dt.items].filter((i) => i.kind === 'file') : [];
  if (items.length) {
    for (const it of items) {
      const entry = typeof it.webkitGetAsEntry === 'function' ? it.webkitGetAsEntry() : null;
      const file = it.getAsFile();
      tops.push({ name: entry?.name ?? file?.name ?? 'dropped', entry, file });
    }
  } else {
    for (const f of [...dt.files]) tops.push({ name: f.name, entry: null, file: f });
  }
  return tops;
}

function readAllEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const out: FileSystemEntry[] = [];
  return new Promise((resolve, reject) => {
    // readEntries returns at most ~100 entries per call; call until it returns none.
    const next = () =>
      reader.readEntries((batch) => {
        if (!batch.length) return resolve(out);
        out.push(...batch);
        next();
      }, reject);
    next();
  });
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, prefix: string, out: { relativePath: string; file: File }[]): Promise<void> {
  const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) out.push({ relativePath: rel, file: await fileOf(entry as FileSystemFileEntry) });
  else if (entry.isDirectory) for (const child of await readAllEntries(entry as FileSystemDirectoryEntry)) await walk(child, rel, out);
}

export function collectDrop(dt: DataTransfer, api: LatticeApi, onProgress?: ProgressHandler): Promise<DroppedItem[]> {
  const tops = snapshot(dt); // synchronous part
  const pathForFile = api.transport.pathForFile?.bind(api.transport);
  if (api.kind === 'electron' && pathForFile) {
    return Promise.resolve(
      tops
        .map((t) => ({ path: t.file ? pathForFile(t.file) : '', name: t.name, kind: (t.entry?.isDirectory ? 'folder' : 'file') as DroppedItem['kind'] }))
        .filter((d) => d.path),
    );
  }
  return upload(tops, api, onProgress);
}

async function upload(tops: Top[], api: LatticeApi, onProgress?: ProgressHandler): Promise<DroppedItem[]> {
  const files: { relativePath: string; file: File }[] = [];
  for (const t of tops) {
    if (t.entry) await walk(t.entry, '', files);
    else if (t.file) files.push({ relativePath: t.file.name, file: t.file });
  }
  if (!files.length) return [];
  const total = files.reduce((n, f) => n + f.file.size, 0);
  let sent = 0;
  let uploadId: string | undefined;
  let dir = '';
  let batch: { relativePath: string; data: ArrayBuffer }[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (!batch.length) return;
    const r = await api.invoke('upload.files', { uploadId, files: batch });
    uploadId = r.uploadId;
    dir = r.dir;
    sent += batchBytes;
    onProgress?.(total ? sent / total : 1, `Copying dropped files to the host: ${Math.round(sent / 1048576)} of ${Math.round(total / 1048576)} MB`);
    batch = [];
    batchBytes = 0;
  };
  for (const f of files) {
    if (batch.length && (batchBytes + f.file.size > BATCH_BYTES || batch.length >= BATCH_FILES)) await flush();
    batch.push({ relativePath: f.relativePath, data: await f.file.arrayBuffer() });
    batchBytes += f.file.size;
  }
  await flush();
  return tops.map((t) => ({ path: `${dir}/${t.name}`, name: t.name, kind: t.entry?.isDirectory ? 'folder' : 'file' }));
}
