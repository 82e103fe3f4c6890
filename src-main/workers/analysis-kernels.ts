/**
 * Kernel thread of the analysis executor (src-main/analysis/pool.ts): holds views on the
 * pool's SharedArrayBuffers and runs kernels of src-shared/analysis/kernels.ts on the slab it
 * is given (the message protocol of the registration pool, src-main/registration/pool.ts).
 */
import { parentPort } from 'node:worker_threads';
import { runKernel, type Buffers, type KernelName } from '../../src-shared/analysis/kernels';

type Msg =
  | { type: 'buffer'; name: string; sab: SharedArrayBuffer }
  | { type: 'free'; name: string }
  | { type: 'op'; id: number; op: KernelName; args: unknown; k0: number; k1: number };

const buffers: Buffers = new Map();
const port = parentPort;
if (!port) throw new Error('analysis kernel worker: must run as a worker thread');

port.on('message', (m: Msg) => {
  if (m.type === 'buffer') buffers.set(m.name, new Float32Array(m.sab));
  else if (m.type === 'free') buffers.delete(m.name);
  else if (m.type === 'op') {
    try {
      port.postMessage({ id: m.id, result: runKernel(buffers, m.op, m.args, m.k0, m.k1) });
    } catch (e) {
      port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
    }
  }
});
