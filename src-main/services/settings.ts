/**
 * Small user settings (custom colour maps, viewer preferences) as one JSON object in the
 * user's settings folder (settings.json next to recent.json). Keys are short names chosen
 * by the renderer; values are JSON (validated for size and shape by the IPC contract). A
 * damaged file reads as empty settings, never as an error that stops the app.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write';

export class UserSettings {
  private readonly file: string;
  /** Serialises writes so two quick changes cannot lose one. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly settingsDir: string) {
    this.file = join(settingsDir, 'settings.json');
  }

  private async all(): Promise<Record<string, unknown>> {
    try {
      const raw = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      return raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }

  async get(key: string): Promise<unknown> {
    const all = await this.all();
    return Object.prototype.hasOwnProperty.call(all, key) ? all[key] : null;
  }

  set(key: string, value: unknown): Promise<void> {
    const run = this.queue.then(async () => {
      const all = await this.all();
      if (value === null) delete all[key];
      else all[key] = value;
      await mkdir(this.settingsDir, { recursive: true });
      await writeFileAtomic(this.file, [Buffer.from(JSON.stringify(all, null, 1))]);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
