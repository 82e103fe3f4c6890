/**
 * The one object Electron's preload script exposes to the page, as `window.lattice`
 * (contextBridge). It is deliberately tiny and generic: the typed surface is the
 * renderer's LatticeApi (src-renderer/api), which wraps this; the main process
 * validates every argument, so nothing here needs to be trusted.
 */
import type { EventName, Reply } from './contract';

export interface LatticePreloadApi {
  /** Protocol version of this bridge. */
  readonly bridgeVersion: 1;
  invoke(channel: string, args: unknown): Promise<Reply>;
  /** Subscribes to every main → renderer event; returns the unsubscribe function. */
  onEvent(listener: (event: EventName, payload: unknown) => void): () => void;
  /** The file-system path of a dropped File (Electron's webUtils.getPathForFile); '' if none. */
  pathForFile(file: File): string;
}

/** The global name the preload uses. */
export const PRELOAD_GLOBAL = 'lattice';
/** The two ipcMain channels the bridge uses. */
export const IPC_INVOKE = 'lattice:invoke';
export const IPC_EVENT = 'lattice:event';
