/**
 * The two ways the renderer reaches the main side. Both return the contract's Reply
 * envelope and deliver events; LatticeApi (./index.ts) adds the types on top.
 */
import type { Channel, EventName, Reply } from '../../src-shared/ipc/contract';
import type { LatticePreloadApi } from '../../src-shared/ipc/preload-api';
import { BULK_MIN_BYTES, BULK_UPLOAD_PATH, extractBinaries, insertBinaries, TOKEN_HEADER, TOKEN_PARAM, WS_PATH, type BulkUpload, type ClientMessage, type ServerMessage } from '../../src-shared/ipc/wire-codec';

export type EventListener = (event: EventName, payload: unknown) => void;

export interface Transport {
  readonly kind: 'electron' | 'browser';
  invoke(channel: Channel, args: unknown): Promise<Reply>;
  onEvent(listener: EventListener): () => void;
  /** Electron only: the path of a dropped file. */
  pathForFile?(file: File): string;
  close?(): void;
}

/** Electron: everything goes through the preload bridge (structured clone, ArrayBuffers intact). */
export class ElectronTransport implements Transport {
  readonly kind = 'electron' as const;
  constructor(private readonly bridge: LatticePreloadApi) {}
  invoke(channel: Channel, args: unknown): Promise<Reply> {
    return this.bridge.invoke(channel, args);
  }
  onEvent(listener: EventListener): () => void {
    return this.bridge.onEvent(listener);
  }
  pathForFile(file: File): string {
    return this.bridge.pathForFile(file);
  }
}

/** Minimal WebSocket surface we use (the browser's, or the `ws` package's in Node tests). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

/**
 * Browser host: the contract over one WebSocket (framing in src-shared/ipc/wire-codec.ts).
 * Connects lazily, and again after a lost connection on the next call.
 */
export class WebSocketTransport implements Transport {
  readonly kind = 'browser' as const;
  private socket: Promise<WebSocketLike> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(r: Reply): void; channel: Channel }>();
  private readonly listeners = new Set<EventListener>();
  /** A text frame whose binary frames are still arriving. */
  private partial: { msg: ServerMessage; buffers: ArrayBuffer[] } | null = null;

  /**
   * @param url ws://host:port/ipc?token=… (see `WebSocketTransport.urlFor`)
   */
  /** http(s) origin of the host and the token, for bulk downloads. */
  private readonly httpOrigin: string;
  private readonly token: string;

  constructor(
    private readonly url: string,
    private readonly factory: WebSocketFactory = (u) => new WebSocket(u) as unknown as WebSocketLike,
    private readonly fetchImpl: typeof fetch = (...a) => fetch(...a),
  ) {
    const u = new URL(url);
    this.token = u.searchParams.get(TOKEN_PARAM) ?? '';
    u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
    this.httpOrigin = u.origin;
  }

  static urlFor(origin: string, token: string): string {
    const u = new URL(WS_PATH, origin);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set(TOKEN_PARAM, token);
    return u.toString();
  }

  async invoke(channel: Channel, args: unknown): Promise<Reply> {
    const ws = await this.connect();
    const id = this.nextId++;
    const { json, buffers } = extractBinaries(args ?? {});
    const inline: ArrayBuffer[] = [];
    const bulk: BulkUpload[] = [];
    try {
      await Promise.all(
        buffers.map(async (b, i) => {
          if (b.byteLength < BULK_MIN_BYTES) return;
          const r = await this.fetchImpl(new URL(BULK_UPLOAD_PATH, this.httpOrigin), {
            method: 'POST',
            headers: { [TOKEN_HEADER]: this.token, 'Content-Type': 'application/octet-stream' },
            // A Blob body, not the ArrayBuffer itself: DevTools-protocol clients (Playwright in
            // our tests and bench) copy inline request bodies into their events (150 MB → ~20 s
            // and a crash); blob-backed bodies are left alone.
            body: new Blob([b]),
          });
          if (!r.ok) throw new Error(`upload failed: HTTP ${r.status}`);
          bulk.push({ i, id: ((await r.json()) as { id: string }).id });
        }),
      );
    } catch (err) {
      return { ok: false, error: { code: 'io', message: `${channel}: ${err instanceof Error ? err.message : String(err)}` } };
    }
    for (const b of buffers) if (b.byteLength < BULK_MIN_BYTES) inline.push(b);
    if (ws.readyState !== 1) return { ok: false, error: { code: 'io', message: `${channel}: the connection to the Lattice host was lost` } };
    const msg: ClientMessage = { t: 'req', id, ch: channel, args: json, bin: inline.length, ...(bulk.length ? { bulk } : {}) };
    return new Promise<Reply>((resolve) => {
      this.pending.set(id, { resolve, channel });
      ws.send(JSON.stringify(msg));
      for (const b of inline) ws.send(b);
    });
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    void this.socket?.then((ws) => ws.close(1000, 'closed by the page'));
    this.socket = null;
  }

  private connect(): Promise<WebSocketLike> {
    if (this.socket) return this.socket;
    const p = new Promise<WebSocketLike>((resolve, reject) => {
      const ws = this.factory(this.url);
      ws.binaryType = 'arraybuffer';
      let opened = false;
      ws.onopen = () => {
        opened = true;
        resolve(ws);
      };
      ws.onerror = () => undefined; // onclose follows and says what happened
      ws.onclose = (ev) => {
        if (this.socket === p) this.socket = null;
        this.partial = null;
        const why = opened
          ? `the connection to the Lattice host was lost (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''}); is it still running?`
          : 'cannot connect to the Lattice host: it is not running, or this page was opened without its #token (open the URL that npm start printed)';
        if (!opened) reject(new Error(why));
        for (const [, w] of this.pending) w.resolve({ ok: false, error: { code: 'io', message: `${w.channel}: ${why}` } });
        this.pending.clear();
      };
      ws.onmessage = (ev) => this.receive(ev.data);
    });
    this.socket = p;
    p.catch(() => undefined);
    return p;
  }

  private receive(data: unknown): void {
    if (typeof data === 'string') {
      const msg = JSON.parse(data) as ServerMessage;
      if (msg.bin > 0) this.partial = { msg, buffers: [] };
      else this.deliver(msg, []);
      return;
    }
    if (!(data instanceof ArrayBuffer) || !this.partial) return;
    this.partial.buffers.push(data);
    if (this.partial.buffers.length === this.partial.msg.bin) {
      const { msg, buffers } = this.partial;
      this.partial = null;
      this.deliver(msg, buffers);
    }
  }

  /** Merges the inline frames with the bulk downloads, in placeholder order. */
  private async withBulk(msg: ServerMessage, inline: ArrayBuffer[]): Promise<ArrayBuffer[]> {
    if (!msg.bulk?.length) return inline;
    const fetched = await Promise.all(
      msg.bulk.map(async (b) => {
        const r = await this.fetchImpl(new URL(b.url, this.httpOrigin), { headers: { [TOKEN_HEADER]: this.token }, cache: 'no-store' });
        if (!r.ok) throw new Error(`download of ${b.url} failed: HTTP ${r.status}`);
        return [b.i, await r.arrayBuffer()] as const;
      }),
    );
    const byIndex = new Map(fetched);
    const out: ArrayBuffer[] = [];
    let next = 0;
    for (let i = 0; i < inline.length + fetched.length; i++) out.push(byIndex.get(i) ?? inline[next++]!);
    return out;
  }

  private deliver(msg: ServerMessage, inline: ArrayBuffer[]): void {
    if (!msg.bulk?.length) return this.deliverNow(msg, inline);
    this.withBulk(msg, inline).then(
      (buffers) => this.deliverNow(msg, buffers),
      (err: unknown) => {
        if (msg.t !== 'res') return;
        const w = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        w?.resolve({ ok: false, error: { code: 'io', message: `${w.channel}: ${err instanceof Error ? err.message : String(err)}` } });
      },
    );
  }

  private deliverNow(msg: ServerMessage, buffers: ArrayBuffer[]): void {
    if (msg.t === 'res') {
      const w = this.pending.get(msg.id);
      if (!w) return;
      this.pending.delete(msg.id);
      w.resolve(insertBinaries(msg.reply, buffers) as Reply);
    } else {
      const payload = insertBinaries(msg.payload, buffers);
      for (const l of [...this.listeners]) l(msg.ev, payload);
    }
  }
}
