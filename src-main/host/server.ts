/**
 * The browser host: the same renderer as the Electron app, served to a normal browser by
 * a small Node server on 127.0.0.1, with the IPC contract carried over a WebSocket.
 *
 * Security (any local web page or process could otherwise drive it and read files):
 * - listens on 127.0.0.1 only, on a random port unless --port is given;
 * - a random per-run token (printed in the URL's #fragment, so it never reaches logs or
 *   Referer headers) must accompany the WebSocket upgrade, compared in constant time;
 * - the upgrade's Origin must be this server's own origin, and every request's Host
 *   header must name it (stops DNS-rebinding pages);
 * - only files inside the built renderer folder are served (no traversal, no symlinks
 *   out), GET/HEAD only, with a strict CSP; no CORS headers at all;
 * - large buffers (volumes) go as one-time downloads under /bulk/<random id> (and the
 *   page's as uploads to POST /bulk), which also require the token (X-Lattice-Token
 *   header, which no other origin can send without a CORS preflight we never answer);
 *   see wire-codec.ts for why.
 *
 * Run: `node out/node/host.js [--port N] [--renderer DIR] [--json]`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream, existsSync, readFileSync, realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { homedir, totalmem } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { rendererCsp } from '../../src-shared/ipc/csp';
import { BULK_MIN_BYTES, BULK_PATH, BULK_UPLOAD_PATH, extractBinaries, insertBinaries, TOKEN_HEADER, TOKEN_PARAM, WS_PATH, type BulkRef, type ClientMessage } from '../../src-shared/ipc/wire-codec';
import type { EventName, Events, Reply } from '../../src-shared/ipc/contract';
import { Services, type ClientLink, type ServiceOptions } from '../services/index';
import { contentTypeOf } from '../fs/content-type';

export interface HostOptions {
  /** 0 or undefined: a random free port. */
  port?: number;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  /** Fixed token (tests); default 32 random bytes. */
  token?: string;
  settingsDir?: string;
  sampleDataDir?: string | null;
  /** Extra service options (job kinds, readers for tests). */
  services?: Partial<ServiceOptions>;
}

export interface RunningHost {
  /** Open this in a browser: origin + /#token=… */
  url: string;
  origin: string;
  port: number;
  token: string;
  services: Services;
  close(): Promise<void>;
}


/** How long a bulk download (a volume on its way to the page) waits to be fetched. */
const BULK_TTL_MS = 120_000;

/** Largest WebSocket message or bulk upload: a big volume.put or upload batch; only token holders get here. */
const MAX_MESSAGE_BYTES = 2 ** 31;

/**
 * All uploads in progress or received and not yet used, together: a declared Content-Length
 * is reserved before a byte arrives, so a few "2 GiB" uploads that never send their bodies
 * cannot make the host allocate more than this (one full-size upload always fits).
 */
const UPLOAD_BUDGET_BYTES = Math.max(MAX_MESSAGE_BYTES, Math.min(2 * MAX_MESSAGE_BYTES, Math.floor(totalmem() / 2)));

/** An upload whose body stalls this long is dropped (and its reservation freed). */
const UPLOAD_IDLE_MS = 30_000;

/**
 * Requests one WebSocket client may have running at once; beyond this the host stops
 * reading its socket until half of them have answered (a burst of 10⁵ requests queues in
 * the client's TCP buffers instead of as 10⁵ running handlers here).
 */
const MAX_IN_FLIGHT = 256;

export function defaultSettingsDir(): string {
  if (process.env.LATTICE_SETTINGS_DIR) return process.env.LATTICE_SETTINGS_DIR;
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'lattice');
}

/** The repository/package root: the nearest folder above this module with package.json. */
function packageRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}

function packageVersion(root: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function tokenMatches(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startHost(opts: HostOptions): Promise<RunningHost> {
  const root = packageRoot();
  const token = opts.token ?? randomBytes(32).toString('base64url');
  const rendererDir = realpathSync(resolve(opts.rendererDir));
  const services = new Services({
    transport: 'browser',
    settingsDir: opts.settingsDir ?? defaultSettingsDir(),
    version: packageVersion(root),
    sampleDataDir: opts.sampleDataDir === undefined ? resolve(root, '../shared/data') : opts.sampleDataDir,
    ...opts.services,
  });

  let port = 0;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  let csp = '';

  /** Buffers waiting to be fetched once by the page, by random id (see wire-codec.ts). */
  const bulk = new Map<string, { buf: ArrayBuffer; timer: NodeJS.Timeout }>();
  function offerBulk(buf: ArrayBuffer): string {
    const id = randomBytes(16).toString('hex');
    bulk.set(id, { buf, timer: setTimeout(() => bulk.delete(id), BULK_TTL_MS).unref() });
    return `${BULK_PATH}${id}`;
  }

  function serveBulk(req: IncomingMessage, res: ServerResponse, pathname: string) {
    // A custom header cannot be sent cross-origin without a CORS preflight, which we never
    // answer; and the token is required anyway.
    const given = req.headers[TOKEN_HEADER];
    if (!tokenMatches(typeof given === 'string' ? given : null, token)) return send(res, 401, 'token required');
    const id = pathname.slice(BULK_PATH.length);
    const entry = bulk.get(id);
    if (!entry) return send(res, 404, 'no such download (already fetched or expired)');
    bulk.delete(id);
    clearTimeout(entry.timer);
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': entry.buf.byteLength,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    res.end(Buffer.from(entry.buf)); // a view, not a copy
  }

  /** Buffers the page uploaded for its next request, by random id (see wire-codec.ts). */
  const uploaded = new Map<string, { buf: ArrayBuffer; timer: NodeJS.Timeout }>();
  /** Bytes reserved by uploads in progress plus those in `uploaded` (see UPLOAD_BUDGET_BYTES). */
  let uploadBytes = 0;
  const forgetUpload = (id: string) => {
    const e = uploaded.get(id);
    if (!e) return undefined;
    uploaded.delete(id);
    clearTimeout(e.timer);
    uploadBytes -= e.buf.byteLength;
    return e;
  };

  function receiveBulk(req: IncomingMessage, res: ServerResponse) {
    const given = req.headers[TOKEN_HEADER];
    // Refusals close the connection: the unread body must not be taken for the next request.
    if (!tokenMatches(typeof given === 'string' ? given : null, token)) return refuseBody(res, 401, 'token required');
    if (req.headers.origin !== undefined && !allowedOrigins().has(req.headers.origin)) return refuseBody(res, 403, 'wrong origin');
    const length = Number(req.headers['content-length']);
    if (!Number.isSafeInteger(length) || length < 0) return refuseBody(res, 411, 'Content-Length required');
    if (length > MAX_MESSAGE_BYTES) return refuseBody(res, 413, `upload too large: ${length} bytes declared, the limit is ${MAX_MESSAGE_BYTES}`);
    if (uploadBytes + length > UPLOAD_BUDGET_BYTES) {
      return refuseBody(res, 413, `upload of ${length} bytes refused: ${uploadBytes} bytes of other uploads are pending (at most ${UPLOAD_BUDGET_BYTES} at once); retry when they are used`);
    }
    // One allocation at the final size; the request's chunks are copied into it.
    let buf: ArrayBuffer;
    try {
      buf = new ArrayBuffer(length);
    } catch {
      return refuseBody(res, 507, `not enough memory to receive ${length} bytes`);
    }
    uploadBytes += length;
    let reserved = true;
    const unreserve = () => {
      if (reserved) uploadBytes -= length;
      reserved = false;
    };
    const bytes = new Uint8Array(buf);
    let off = 0;
    req.setTimeout(UPLOAD_IDLE_MS, () => req.destroy());
    req.on('close', () => {
      if (off !== length || !res.writableEnded) unreserve(); // aborted or cut short: nothing is kept
    });
    req.on('data', (chunk: Buffer) => {
      if (off + chunk.length > length) {
        unreserve();
        refuseBody(res, 400, `more than the ${length} bytes declared`);
        return;
      }
      bytes.set(chunk, off);
      off += chunk.length;
    });
    req.on('end', () => {
      if (!reserved) return;
      if (off !== length) {
        unreserve();
        return send(res, 400, `expected ${length} bytes, got ${off}`);
      }
      const id = randomBytes(16).toString('hex');
      reserved = false; // now held by `uploaded`
      uploaded.set(id, { buf, timer: setTimeout(() => forgetUpload(id), BULK_TTL_MS).unref() });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
      res.end(JSON.stringify({ id }));
    });
  }

  /** The buffers a request refers to: its inline frames and its uploads, in placeholder order. */
  function requestBuffers(msg: ClientMessage, inline: ArrayBuffer[]): ArrayBuffer[] {
    const ups = msg.bulk ?? [];
    const byIndex = new Map<number, ArrayBuffer>();
    for (const u of ups) {
      const e = forgetUpload(u.id);
      if (!e) throw new Error(`upload ${JSON.stringify(u.id).slice(0, 80)} is unknown or expired`);
      byIndex.set(u.i, e.buf);
    }
    const out: ArrayBuffer[] = [];
    let next = 0;
    for (let i = 0; i < inline.length + ups.length; i++) out.push(byIndex.get(i) ?? inline[next++]!);
    return out;
  }

  const server = createServer((req, res) => {
    void serveStatic(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
    });
  });

  function send(res: ServerResponse, status: number, text: string) {
    if (res.headersSent) return;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Security-Policy': "default-src 'none'" });
    res.end(text);
  }

  /** Answers before reading a request body we will not take, and closes the connection (the client may still be sending it). */
  function refuseBody(res: ServerResponse, status: number, text: string) {
    res.setHeader('Connection', 'close');
    send(res, status, text);
  }

  async function serveStatic(req: IncomingMessage, res: ServerResponse) {
    if (!allowedHosts().has(req.headers.host ?? '')) return send(res, 421, 'wrong Host header');
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(res, 400, 'bad path');
    }
    if (pathname.includes('\0') || pathname.includes('\\')) return send(res, 400, 'bad path');
    if (pathname === BULK_UPLOAD_PATH && req.method === 'POST') return receiveBulk(req, res);
    if (pathname.startsWith(BULK_PATH) && req.method === 'GET') return serveBulk(req, res, pathname);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'method not allowed');
    }
    if (pathname.endsWith('/')) pathname += 'index.html';
    // Browsers ask for it unprompted; answer "nothing" rather than log a 404 in the console.
    if (pathname === '/favicon.ico' && !existsSync(join(rendererDir, 'favicon.ico'))) {
      res.writeHead(204, { 'Cache-Control': 'max-age=86400' });
      return res.end();
    }
    const candidate = resolve(rendererDir, '.' + pathname);
    if (candidate !== rendererDir && !candidate.startsWith(rendererDir + sep)) return send(res, 404, 'not found');
    let file: string;
    try {
      file = await realpath(candidate); // a symlink must not lead out of the folder either
    } catch {
      return send(res, 404, 'not found');
    }
    if (!file.startsWith(rendererDir + sep)) return send(res, 404, 'not found');
    const st = await stat(file);
    if (!st.isFile()) return send(res, 404, 'not found');
    const type = contentTypeOf(file);
    const headers: Record<string, string | number> = {
      'Content-Type': type,
      'Content-Length': st.size,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'X-Frame-Options': 'DENY',
      'Cache-Control': type.startsWith('text/html') ? 'no-store' : 'no-cache',
      'Content-Security-Policy': csp,
    };
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://x');
    } catch {
      return refuse('400 Bad Request');
    }
    if (url.pathname !== WS_PATH) return refuse('404 Not Found');
    if (!allowedHosts().has(req.headers.host ?? '')) return refuse('421 Misdirected Request');
    if (!allowedOrigins().has(req.headers.origin ?? '')) return refuse('403 Forbidden');
    if (!tokenMatches(url.searchParams.get(TOKEN_PARAM), token)) return refuse('401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  let nextClient = 1;
  function attach(ws: WebSocket) {
    ws.binaryType = 'arraybuffer';
    /** One JSON text frame, then each ArrayBuffer of the body as its own binary frame. */
    const sendFrames = (head: { t: 'res'; id: number } | { t: 'evt'; ev: EventName }, bodyKey: 'reply' | 'payload', body: unknown) => {
      if (ws.readyState !== ws.OPEN) return;
      const { json, buffers } = extractBinaries(body);
      const inline: ArrayBuffer[] = [];
      const bulkRefs: BulkRef[] = [];
      buffers.forEach((b, i) => (b.byteLength >= BULK_MIN_BYTES ? bulkRefs.push({ i, url: offerBulk(b) }) : inline.push(b)));
      ws.send(JSON.stringify({ ...head, [bodyKey]: json, bin: inline.length, ...(bulkRefs.length ? { bulk: bulkRefs } : {}) }));
      // Zero-copy: a Buffer view of the ArrayBuffer; ws writes it straight to the socket.
      for (const b of inline) ws.send(Buffer.from(b), { binary: true });
    };
    const reply = (id: number, r: Reply) => sendFrames({ t: 'res', id }, 'reply', r);
    const client: ClientLink = {
      id: `ws-${nextClient++}`,
      emit<E extends EventName>(ev: E, payload: Events[E]) {
        sendFrames({ t: 'evt', ev }, 'payload', payload);
      },
    };
    let pending: { msg: ClientMessage; buffers: ArrayBuffer[] } | null = null;
    let inFlight = 0;
    let paused = false;
    const dispatch = (msg: ClientMessage, buffers: ArrayBuffer[]) => {
      let args: unknown;
      try {
        args = insertBinaries(msg.args, requestBuffers(msg, buffers));
      } catch (e) {
        const why = e instanceof RangeError ? 'arguments nested too deeply' : e instanceof Error ? e.message : String(e);
        return reply(msg.id, { ok: false, error: { code: 'invalid-args', message: `${String(msg.ch).slice(0, 100)}: ${why}` } });
      }
      if (++inFlight >= MAX_IN_FLIGHT && !paused) {
        paused = true;
        ws.pause();
      }
      void services.dispatcher.handle(msg.ch, args, client).then((r) => {
        reply(msg.id, r);
        if (--inFlight <= MAX_IN_FLIGHT / 2 && paused) {
          paused = false;
          ws.resume();
        }
      });
    };
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        if (!pending) return ws.close(1002, 'binary frame without a header');
        pending.buffers.push(data as ArrayBuffer);
        if (pending.buffers.length === pending.msg.bin) {
          const p = pending;
          pending = null;
          dispatch(p.msg, p.buffers);
        }
        return;
      }
      if (pending) return ws.close(1002, 'expected a binary frame');
      let msg: ClientMessage;
      try {
        msg = JSON.parse(Buffer.from(data as ArrayBuffer).toString('utf8')) as ClientMessage;
      } catch {
        return ws.close(1007, 'not JSON (or nested too deeply)');
      }
      if (!msg || msg.t !== 'req' || typeof msg.id !== 'number' || !Number.isInteger(msg.bin) || msg.bin < 0 || msg.bin > 10000) return ws.close(1002, 'bad message');
      if (msg.bulk !== undefined && (!Array.isArray(msg.bulk) || !msg.bulk.every((b) => b && Number.isInteger(b.i) && typeof b.id === 'string'))) return ws.close(1002, 'bad message');
      if (msg.bin > 0) pending = { msg, buffers: [] };
      else dispatch(msg, []);
    });
    ws.on('close', () => services.disconnect(client));
    ws.on('error', () => ws.terminate());
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
  const origin = `http://127.0.0.1:${port}`;
  csp = rendererCsp({ connect: [`ws://127.0.0.1:${port}`, `ws://localhost:${port}`] });

  return {
    url: `${origin}/#${TOKEN_PARAM}=${token}`,
    origin,
    port,
    token,
    services,
    async close() {
      for (const e of [...bulk.values(), ...uploaded.values()]) clearTimeout(e.timer);
      bulk.clear();
      uploaded.clear();
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await services.dispose();
    },
  };
}

// ---------- command line ----------

async function main(argv: string[]) {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (argv.includes('--help')) {
    console.log('usage: node out/node/host.js [--port N] [--renderer DIR] [--json]\nServes the Lattice UI on 127.0.0.1 and prints its URL (with the per-run token).');
    return;
  }
  const portArg = arg('--port');
  const port = portArg === undefined ? 0 : Number(portArg);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected a port number, got ${portArg}`);
  const here = dirname(fileURLToPath(import.meta.url));
  const rendererDir = resolve(arg('--renderer') ?? join(here, '../renderer'));
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new Error(`no built renderer in ${rendererDir} (run npm run build first)`);
  }
  const host = await startHost({ port, rendererDir });
  if (argv.includes('--json')) console.log(JSON.stringify({ url: host.url, origin: host.origin, port: host.port, token: host.token }));
  else console.log(`Lattice is running at ${host.url}\n(open it in Chromium/Chrome/Firefox; the #token part is required; Ctrl+C stops)`);
  const stop = () => {
    void host.close().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

const invokedDirectly = (() => {
  try {
    return !!process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
})();
if (invokedDirectly) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`lattice host: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
