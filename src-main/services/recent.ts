/**
 * The "Open recent" list, kept as JSON in the user's settings folder
 * (Electron: app.getPath('userData'); browser host: $XDG_CONFIG_HOME/lattice).
 * A damaged file is treated as an empty list (and overwritten on the next change),
 * never as an error that stops the app from starting.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecentEntry } from '../../src-shared/ipc/contract';
import { writeFileAtomic } from '../fs/atomic-write';

const MAX_ENTRIES = 20;

export class RecentList {
  private readonly file: string;
  /** Serialises writes so two quick opens cannot lose an entry. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly settingsDir: string,
    private readonly onChange?: (list: RecentEntry[]) => void,
  ) {
    this.file = join(settingsDir, 'recent.json');
  }

  async list(): Promise<RecentEntry[]> {
    try {
      const raw = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      if (!Array.isArray(raw)) return [];
      return raw.filter(
        (e): e is RecentEntry =>
          !!e && typeof e.path === 'string' && (e.kind === 'dicom-folder' || e.kind === 'image') && typeof e.openedAt === 'string',
      );
    } catch {
      return [];
    }
  }

  add(path: string, kind: RecentEntry['kind']): Promise<RecentEntry[]> {
    return this.update((l) => [{ path, kind, openedAt: new Date().toISOString() }, ...l.filter((e) => e.path !== path)]);
  }

  remove(path: string): Promise<RecentEntry[]> {
    return this.update((l) => l.filter((e) => e.path !== path));
  }

  clear(): Promise<RecentEntry[]> {
    return this.update(() => []);
  }

  private update(f: (l: RecentEntry[]) => RecentEntry[]): Promise<RecentEntry[]> {
    const run = this.queue.then(async () => {
      const next = f(await this.list()).slice(0, MAX_ENTRIES);
      await mkdir(this.settingsDir, { recursive: true });
      await writeFileAtomic(this.file, [Buffer.from(JSON.stringify(next, null, 1))]);
      this.onChange?.(next);
      return next;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
