/**
 * The preload script: exposes exactly one object, `window.lattice` (LatticePreloadApi),
 * through contextBridge. It runs sandboxed with context isolation, so the page never
 * touches ipcRenderer itself; it can only send (channel, args) pairs that the main
 * process validates, and receive events.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { EventName, Reply } from '../../src-shared/ipc/contract';
import type { LatticePreloadApi } from '../../src-shared/ipc/preload-api';

// Literal copies of PRELOAD_GLOBAL / IPC_INVOKE / IPC_EVENT (src-shared/ipc/preload-api.ts):
// a sandboxed preload must stay one small self-contained file.
const IPC_INVOKE = 'lattice:invoke';
const IPC_EVENT = 'lattice:event';

const api: LatticePreloadApi = {
  bridgeVersion: 1,
  invoke(channel: string, args: unknown): Promise<Reply> {
    return ipcRenderer.invoke(IPC_INVOKE, channel, args) as Promise<Reply>;
  },
  onEvent(listener: (event: EventName, payload: unknown) => void): () => void {
    const wrapped = (_e: IpcRendererEvent, event: EventName, payload: unknown) => listener(event, payload);
    ipcRenderer.on(IPC_EVENT, wrapped);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, wrapped);
    };
  },
  pathForFile(file: File): string {
    return webUtils.getPathForFile(file);
  },
};

contextBridge.exposeInMainWorld('lattice', api);
