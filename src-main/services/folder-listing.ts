/**
 * Lists one folder for the browser host's server-side folder browser (the page cannot
 * see the local file system). Folders first, then files, in natural order
 * ("IM2" before "IM10"). Entries that cannot be stat'ed (dangling links, permissions)
 * are still listed, as 'other'.
 */
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, parse, resolve } from 'node:path';
import { IpcError, type FolderEntry, type FolderListing } from '../../src-shared/ipc/contract';
import { imageFormatOf } from '../../src-shared/image/file-formats';

/** Beyond this many entries the listing is cut (a DICOM folder can hold 100 000 files). */
const MAX_ENTRIES = 5000;
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function hintFor(name: string): FolderEntry['hint'] {
  const n = name.toLowerCase();
  if (n.endsWith('.nii') || n.endsWith('.nii.gz')) return 'nifti';
  if (imageFormatOf(n)) return 'image';
  if (n === 'dicomdir') return 'dicomdir';
  if (n.endsWith('.dcm') || n.endsWith('.ima') || /^[^.]+$/.test(n)) return 'dicom';
  return undefined;
}

export async function listFolder(
  path: string | undefined,
  opts: { showHidden?: boolean; places?: { name: string; path: string }[] } = {},
): Promise<FolderListing> {
  const abs = resolve(path ?? homedir());
  const st = await stat(abs).catch((e: NodeJS.ErrnoException) => {
    throw new IpcError(e.code === 'ENOENT' ? 'not-found' : 'io', `cannot open folder ${abs}: ${e.code === 'ENOENT' ? 'it does not exist' : e.message}`);
  });
  if (!st.isDirectory()) throw new IpcError('bad-input', `${abs} is a file, not a folder`);
  const dirents = await readdir(abs, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    throw new IpcError('io', `cannot list folder ${abs}: ${e.message}`);
  });
  const visible = dirents.filter((d) => opts.showHidden || !d.name.startsWith('.'));
  const truncated = visible.length > MAX_ENTRIES;
  const entries: FolderEntry[] = await Promise.all(
    visible.slice(0, MAX_ENTRIES).map(async (d) => {
      const p = join(abs, d.name);
      try {
        const s = await stat(p); // follows links: a link to a folder is browsable
        const kind: FolderEntry['kind'] = s.isDirectory() ? 'folder' : s.isFile() ? 'file' : 'other';
        const hint = kind === 'file' ? hintFor(d.name) : undefined;
        return { name: d.name, path: p, kind, size: kind === 'file' ? s.size : 0, mtimeMs: s.mtimeMs, ...(hint ? { hint } : {}) };
      } catch {
        return { name: d.name, path: p, kind: 'other' as const, size: 0, mtimeMs: 0 };
      }
    }),
  );
  const rank = (e: FolderEntry) => (e.kind === 'folder' ? 0 : 1);
  entries.sort((a, b) => rank(a) - rank(b) || collator.compare(a.name, b.name));
  const root = parse(abs).root;
  const places = [{ name: 'Home', path: homedir() }, { name: 'File system', path: root }, ...(opts.places ?? [])];
  return { path: abs, parent: abs === root ? null : dirname(abs), entries, places, truncated };
}
