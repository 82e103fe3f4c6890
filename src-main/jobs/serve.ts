/**
 * Worker side of the job protocol: a worker program calls serveJobs(handlers) once. Works
 * in a Node worker thread (messages on worker_threads.parentPort, inputs transferred,
 * cancellation through a shared flag that the synchronous loops poll) and in an Electron
 * utility process (the parent sends a MessagePort first; everything else goes over it).
 */
import { parentPort } from 'node:worker_threads';
import type { Volume } from '../../src-shared/image/volume';
import type { AbortFlag } from '../../src-shared/processing/progress';
import { packVolumes, previewBuffers, type FromWorker, type ToWorker } from './protocol';

export interface JobContext {
  /** `preview`: a live picture of the job's state (plain object; its ArrayBuffers are transferred). */
  onProgress(fraction: number, message: string, preview?: unknown): void;
  /** Poll `signal.aborted` between slabs; throw (e.g. OperationCancelledError) to stop. */
  signal: AbortFlag;
  /**
   * The caller asked to stop early and keep the result: a kind that supports it ends its
   * iterations and returns normally; others ignore it.
   */
  finish: { readonly requested: boolean };
}

export interface JobHandlerOutput {
  volumes: Volume[];
  values?: Record<string, unknown>;
}

export type JobHandler = (params: unknown, inputs: Volume[], ctx: JobContext) => JobHandlerOutput | Promise<JobHandlerOutput>;

interface Port {
  post(msg: FromWorker, transfer: ArrayBuffer[]): void;
  onMessage(cb: (msg: ToWorker) => void): void;
}

/** Electron's utility-process globals, typed locally so this file needs no Electron types. */
interface ElectronParentPort {
  on(ev: 'message', cb: (e: { data: unknown; ports: ElectronMessagePort[] }) => void): void;
  postMessage(msg: unknown): void;
}
interface ElectronMessagePort {
  on(ev: 'message', cb: (e: { data: unknown }) => void): void;
  postMessage(msg: unknown): void;
  start(): void;
}

function connect(ready: (port: Port) => void): void {
  if (parentPort) {
    const p = parentPort;
    ready({
      post: (msg, transfer) => p.postMessage(msg, transfer),
      onMessage: (cb) => p.on('message', cb),
    });
    return;
  }
  const electronPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (!electronPort) throw new Error('job worker: not started as a worker thread or Electron utility process');
  // The parent waits for 'ready' (so nothing is sent before this listener exists), then
  // sends the MessagePort of the job channel; everything else goes over that port.
  electronPort.on('message', (e) => {
    const mp = e.ports?.[0];
    if (!mp) return;
    mp.start();
    ready({
      post: (msg) => mp.postMessage(msg), // cross-process: structured clone
      onMessage: (cb) => mp.on('message', (ev) => cb(ev.data as ToWorker)),
    });
  });
  electronPort.postMessage({ type: 'ready' });
}

export function serveJobs(handlers: Record<string, JobHandler>): void {
  connect((port) => {
    const flags = new Map<number, { aborted: boolean; finish: boolean }>();
    port.onMessage(async (msg) => {
      if (msg.type === 'cancel' || msg.type === 'finish') {
        const f = flags.get(msg.id);
        if (f && msg.type === 'cancel') f.aborted = true;
        if (f && msg.type === 'finish') f.finish = true;
        return;
      }
      const { id, kind, inputs } = msg;
      const shared = msg.abort ? new Int32Array(msg.abort) : null;
      const local = { aborted: false, finish: false };
      flags.set(id, local);
      const signal: AbortFlag = {
        get aborted() {
          return local.aborted || (shared !== null && Atomics.load(shared, 0) !== 0);
        },
      };
      const finish = {
        get requested() {
          return local.finish || (shared !== null && shared.length > 1 && Atomics.load(shared, 1) !== 0);
        },
      };
      const returned = msg.returnInputs ? inputs : undefined;
      try {
        const handler = handlers[kind];
        if (!handler) throw new Error(`this worker does not serve job kind '${kind}'`);
        const out = await handler(msg.params, inputs, {
          signal,
          finish,
          onProgress: (fraction, message, preview) =>
            port.post(preview === undefined ? { type: 'progress', id, fraction, message } : { type: 'progress', id, fraction, message, preview }, previewBuffers(preview)),
        });
        const packed = packVolumes([...out.volumes, ...(returned ?? [])], true);
        const nOut = out.volumes.length;
        port.post(
          { type: 'done', id, volumes: packed.volumes.slice(0, nOut), values: out.values, inputs: returned ? packed.volumes.slice(nOut) : undefined },
          packed.transfer,
        );
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        const packed = packVolumes(returned ?? [], true);
        port.post({ type: 'error', id, name: e.name, message: e.message, inputs: returned ? packed.volumes : undefined }, packed.transfer);
      } finally {
        flags.delete(id);
      }
    });
  });
}
