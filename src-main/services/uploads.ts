/**
 * Staging for files dropped into the browser host's page. A browser never reveals a
 * dropped file's path, so the page sends the bytes and we write them to a private
 * folder (mode 0700) under the system temp folder; from then on they are opened by
 * path like anything else. The folder is removed when the host exits.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { randomUUID } from 'node:crypto';
import { IpcError } from '../../src-shared/ipc/contract';

export class UploadStaging {
  private root: string | null = null;
  private readonly known = new Set<string>();

  constructor(readonly maxBytesPerCall = 1024 * 1024 * 1024) {}

  async put(uploadId: string | undefined, files: { relativePath: string; data: ArrayBuffer }[]): Promise<{ uploadId: string; dir: string; paths: string[] }> {
    const total = files.reduce((n, f) => n + f.data.byteLength, 0);
    if (total > this.maxBytesPerCall) throw new IpcError('bad-input', `upload.files: ${total} bytes in one call is more than the limit of ${this.maxBytesPerCall}; send the files in several calls`);
    if (uploadId !== undefined && !this.known.has(uploadId)) throw new IpcError('not-found', `upload.files: unknown uploadId ${uploadId}`);
    const id = uploadId ?? `up-${randomUUID()}`;
    if (!this.root) this.root = await mkdtemp(join(tmpdir(), 'lattice-uploads-'));
    const dir = join(this.root, id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    this.known.add(id);
    const paths: string[] = [];
    for (const f of files) {
      // The schema already refuses "..", absolute paths and NUL; check containment anyway.
      const target = resolve(dir, f.relativePath);
      if (!target.startsWith(dir + sep)) throw new IpcError('invalid-args', `upload.files: invalid arguments: relativePath ${JSON.stringify(f.relativePath)} leaves the upload folder`);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, new Uint8Array(f.data), { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
        throw new IpcError(e.code === 'EEXIST' ? 'exists' : 'io', `upload.files: cannot write ${f.relativePath}: ${e.message}`);
      });
      paths.push(target);
    }
    return { uploadId: id, dir, paths };
  }

  async dispose(): Promise<void> {
    if (this.root) await rm(this.root, { recursive: true, force: true });
    this.root = null;
    this.known.clear();
  }
}
