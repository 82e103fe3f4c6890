/**
 * The message framing of the browser host's WebSocket (Electron needs none of this:
 * its IPC uses structured clone).
 *
 * Every message is one JSON text frame. Each ArrayBuffer inside the payload is replaced
 * in the JSON by a placeholder `{"$bin": n}` (n = its index in the message's buffer
 * list), so voxel data never goes through JSON, and the receiver ends up with exactly
 * one ArrayBuffer per buffer (one per volume) that it wraps without copying.
 *
 * A buffer travels one of two ways:
 * - small ones as binary frames right after the text frame (`bin` of them, in index
 *   order, skipping the bulk ones); a WebSocket keeps order and the frames of one
 *   message are sent back to back, so they always belong to the last text frame;
 * - large ones (≥ BULK_MIN_BYTES: volumes) over plain HTTP with the token in the
 *   X-Lattice-Token header: host → page as a one-time download listed in `bulk`
 *   ({i, url}); page → host uploaded first (POST /bulk → {id}) and listed in the
 *   request's `bulk` ({i, id}).
 *   Why: a DevTools-protocol client (Playwright, which drives our e2e tests and
 *   `npm run bench`) receives a copy of every WebSocket frame's payload, so one 150 MB
 *   message cost 2–3 s in the page plus a ~10 s stall, and 7–8.5 s the other way; an HTTP
 *   response body is not copied (download 0.35–0.5 s), nor is a Blob request body
 *   (upload 1.2–1.4 s). Without DevTools attached the two are comparable (150 MB down:
 *   WebSocket 1.2–1.6 s, fetch 0.9–2.4 s on the loaded 2-core box), and fetch's
 *   arrayBuffer() allocates the result once, at its final size.
 */
import type { Channel, EventName, Reply } from './contract';

export type ClientMessage = { t: 'req'; id: number; ch: Channel; args: unknown; bin: number; bulk?: BulkUpload[] };

/** A buffer of a request that the page uploaded first (POST /bulk → id). */
export interface BulkUpload {
  i: number;
  id: string;
}
export type ServerMessage =
  | { t: 'res'; id: number; reply: Reply; bin: number; bulk?: BulkRef[] }
  | { t: 'evt'; ev: EventName; payload: unknown; bin: number; bulk?: BulkRef[] };

/** A buffer of a message that is fetched over HTTP instead of sent as a frame. */
export interface BulkRef {
  /** Its index in the message's buffer list ($bin placeholders). */
  i: number;
  /** Same-origin path, e.g. /bulk/3f2a…; valid once, for a short time. */
  url: string;
}

/** Buffers at least this big go by HTTP (host → page only). */
export const BULK_MIN_BYTES = 1 << 20;
/** Header that carries the per-run token on bulk downloads. */
export const TOKEN_HEADER = 'x-lattice-token';
export const BULK_PATH = '/bulk/';
export const BULK_UPLOAD_PATH = '/bulk';

const BIN = '$bin';

/** Replaces every ArrayBuffer in `value` by a placeholder; returns the JSON-able value and the buffers in order. */
export function extractBinaries(value: unknown): { json: unknown; buffers: ArrayBuffer[] } {
  const buffers: ArrayBuffer[] = [];
  const walk = (v: unknown): unknown => {
    if (v instanceof ArrayBuffer) {
      buffers.push(v);
      return { [BIN]: buffers.length - 1 };
    }
    if (ArrayBuffer.isView(v)) throw new Error('wire-codec: send ArrayBuffers, not typed-array views (the contract never uses views)');
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = walk(x);
      return out;
    }
    return v;
  };
  return { json: walk(value), buffers };
}

/** Puts received buffers back where their placeholders are. */
export function insertBinaries(value: unknown, buffers: ArrayBuffer[]): unknown {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === BIN && typeof o[BIN] === 'number') {
        const b = buffers[o[BIN] as number];
        if (!b) throw new Error(`wire-codec: missing binary frame ${String(o[BIN])}`);
        return b;
      }
      for (const k of keys) o[k] = walk(o[k]);
      return o;
    }
    return v;
  };
  return walk(value);
}

/** Name of the query parameter carrying the per-run token on the WebSocket upgrade. */
export const TOKEN_PARAM = 'token';
/** Path of the WebSocket endpoint on the host. */
export const WS_PATH = '/ipc';
