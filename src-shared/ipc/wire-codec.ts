/**
 * The message framing of the browser host's WebSocket (Electron needs none of this:
 * its IPC uses structured clone).
 *
 * Every message is one JSON text frame, immediately followed by `bin` binary frames.
 * Each ArrayBuffer inside the payload is replaced in the JSON by a placeholder
 * `{"$bin": n}` and sent as binary frame n, so voxel data never goes through JSON and
 * each volume arrives as exactly one ArrayBuffer (the receiver's WebSocket allocates
 * one per binary message; binaryType 'arraybuffer').
 *
 * Frames of one message are sent back to back without yielding, and a WebSocket keeps
 * order, so binary frames always belong to the last text frame.
 */
import type { Channel, EventName, Reply } from './contract';

export type ClientMessage = { t: 'req'; id: number; ch: Channel; args: unknown; bin: number };
export type ServerMessage =
  | { t: 'res'; id: number; reply: Reply; bin: number }
  | { t: 'evt'; ev: EventName; payload: unknown; bin: number };

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
