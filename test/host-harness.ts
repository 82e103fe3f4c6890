/**
 * The browser host as a separate process, for tests of how it behaves under hostile input,
 * load and faults: it runs the built program (out/node/host.js) like `npm start -- --browser`
 * does, so a crash is an exit code, its memory and threads can be read from /proc, and its
 * stderr is captured. RawClient speaks the WebSocket framing (src-shared/ipc/wire-codec.ts)
 * by hand, so a test can send anything, in any order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { Reply } from '../src-shared/ipc/contract';
import { REPO } from './node-build';

export interface HostProcess {
  child: ChildProcess;
  pid: number;
  origin: string;
  port: number;
  token: string;
  /** Everything the host wrote to stderr so far. */
  stderr(): string;
  alive(): boolean;
  stop(): Promise<void>;
}

/** Starts out/node/host.js on a random port with a tiny renderer folder and its own settings folder. */
export async function startHostProcess(dir: string, env: Record<string, string> = {}): Promise<HostProcess> {
  const renderer = join(dir, 'renderer');
  await mkdir(join(renderer, 'assets'), { recursive: true });
  await writeFile(join(renderer, 'index.html'), '<!doctype html><title>Lattice</title><script type="module" src="./assets/app.js"></script>');
  await writeFile(join(renderer, 'assets/app.js'), 'console.log(1)');
  const child = spawn(process.execPath, [join(REPO, 'out/node/host.js'), '--renderer', renderer, '--json'], {
    cwd: dir,
    env: { ...process.env, LATTICE_SETTINGS_DIR: join(dir, 'settings'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const info = await new Promise<{ origin: string; port: number; token: string }>((ok, fail) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const nl = out.indexOf('\n');
      if (nl >= 0) ok(JSON.parse(out.slice(0, nl)) as { origin: string; port: number; token: string });
    });
    child.once('exit', (code) => fail(new Error(`host exited (${code}) before it listened: ${err}`)));
  });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  return {
    child,
    pid: child.pid!,
    ...info,
    stderr: () => err,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((ok) => setTimeout(ok, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** VmRSS / VmHWM (peak) in bytes and the thread count of a process, from /proc. */
export function procStatus(pid: number): { rss: number; peak: number; threads: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM'), threads: Number(/^Threads:\s+(\d+)/m.exec(s)?.[1] ?? NaN) };
}

/** The names of a process's threads (Node names worker threads after their Worker `name`, cut to 15 characters). */
export function threadNames(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((t) => {
    try {
      return readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim();
    } catch {
      return '';
    }
  });
}

export interface RawEvent {
  ev: string;
  payload: Record<string, unknown>;
}

/**
 * A WebSocket client that sends whatever it is given. Replies are matched by id; binary
 * frames that follow a server message are counted and dropped; bulk downloads are not fetched.
 */
export class RawClient {
  readonly events: RawEvent[] = [];
  closeInfo: { code: number; reason: string } | null = null;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private readonly eventWaiters: { test: (e: RawEvent) => boolean; ok: (e: RawEvent) => void }[] = [];
  private nextId = 1;
  private binLeft = 0;
  /** Every reply, by id, in arrival order (for checks that each id is answered once). */
  readonly answered: number[] = [];

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((ok) =>
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        ok(this.closeInfo);
      }),
    );
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.binLeft--;
        return;
      }
      const m = JSON.parse(String(data)) as { t: string; id: number; reply: Reply; ev: string; payload: Record<string, unknown>; bin: number };
      this.binLeft = m.bin;
      if (m.t === 'res') {
        this.answered.push(m.id);
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        w?.(m.reply);
      } else {
        const e = { ev: m.ev, payload: m.payload };
        this.events.push(e);
        for (const w of [...this.eventWaiters]) {
          if (w.test(e)) {
            this.eventWaiters.splice(this.eventWaiters.indexOf(w), 1);
            w.ok(e);
          }
        }
      }
    });
  }

  static open(h: { origin: string; port: number; token: string }, opts: { origin?: string; token?: string } = {}): Promise<RawClient> {
    return new Promise((ok, fail) => {
      const ws = new WebSocket(`ws://127.0.0.1:${h.port}/ipc?token=${encodeURIComponent(opts.token ?? h.token)}`, { origin: opts.origin ?? h.origin, maxPayload: 2 ** 31 });
      const c = new RawClient(ws);
      ws.once('open', () => ok(c));
      ws.once('unexpected-response', (_q, res) => fail(new Error(`refused: ${res.statusCode}`)));
      ws.once('error', fail);
    });
  }

  /** Sends one request (no binary frames) and resolves with its reply. */
  request(ch: unknown, args: unknown): Promise<Reply> {
    const id = this.nextId++;
    return this.requestWithId(id, ch, args);
  }

  requestWithId(id: number, ch: unknown, args: unknown): Promise<Reply> {
    const p = new Promise<Reply>((ok, fail) => {
      this.waiting.set(id, ok);
      void this.closed.then((c) => fail(new Error(`connection closed (${c.code} ${c.reason}) before reply ${id}`)));
    });
    this.ws.send(JSON.stringify({ t: 'req', id, ch, args, bin: 0 }));
    return p;
  }

  /** volume.put with the voxels as one binary frame; resolves with the new volume id. */
  async putVolume(v: { dims: number[]; spacing: number[]; origin: number[]; direction: number[]; voxelType: string; data: ArrayBufferView; frames?: number; metadata?: Record<string, unknown> }, name: string): Promise<string> {
    const id = this.nextId++;
    const header = { name, dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, voxelType: v.voxelType, frames: v.frames ?? 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: v.metadata ?? {}, byteLength: v.data.byteLength };
    const p = new Promise<Reply>((ok) => this.waiting.set(id, ok));
    this.ws.send(JSON.stringify({ t: 'req', id, ch: 'volume.put', args: { volume: { header, data: { $bin: 0 } } }, bin: 1 }));
    this.ws.send(Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength), { binary: true });
    const r = await p;
    if (!r.ok) throw new Error(r.error.message);
    return (r.result as { id: string }).id;
  }

  /** Sends raw frames as they are. */
  send(data: string | Buffer, binary = typeof data !== 'string'): void {
    this.ws.send(data, { binary });
  }

  /** Resolves with the first event (already received or coming) that passes `test`. */
  event(test: (e: RawEvent) => boolean, timeoutMs = 60_000): Promise<RawEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((ok, fail) => {
      const t = setTimeout(() => fail(new Error('timed out waiting for an event')), timeoutMs);
      this.eventWaiters.push({ test, ok: (e) => (clearTimeout(t), ok(e)) });
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** Texts a client must never see: a stack trace, or where the host's own code lives. */
export function leaks(text: string): string[] {
  const found: string[] = [];
  if (/\n\s+at\s/.test(text) || /^\s*at .+:\d+:\d+\)?$/m.test(text)) found.push('stack trace');
  for (const p of [REPO, '/node_modules/', 'src-main/', 'out/node/', 'node:internal']) if (text.includes(p)) found.push(p);
  return found;
}
