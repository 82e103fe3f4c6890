/**
 * Worker thread of the registration pool (src-main/registration/pool.ts). It holds views on
 * the pool's SharedArrayBuffers and runs ops of src-shared/registration/ops.ts on the slab of
 * slices it is given. Bundled by scripts/build-node.mjs into out/node/workers/registration.js.
 */
import { parentPort } from 'node:worker_threads';
import { runOp, type Buffers, type OpName } from '../../src-shared/registration/ops';

type Msg =
  | { type: 'buffer'; name: string; sab: SharedArrayBuffer }
  | { type: 'free'; name: string }
  | { type: 'op'; id: number; op: OpName; args: unknown; k0: number; k1: number };

const buffers: Buffers = new Map();
const port = parentPort;
if (!port) throw new Error('registration worker: must run as a worker thread');

port.on('message', (m: Msg) => {
  if (m.type === 'buffer') buffers.set(m.name, new Float32Array(m.sab));
  else if (m.type === 'free') buffers.delete(m.name);
  else if (m.type === 'op') {
    try {
      port.postMessage({ id: m.id, result: runOp(buffers, m.op, m.args, m.k0, m.k1) });
    } catch (e) {
      port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
    }
  }
});
