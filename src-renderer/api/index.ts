/**
 * The renderer's one door to the main side: `LatticeApi`.
 *
 *   import { getLatticeApi } from '../api';
 *   const api = getLatticeApi();                 // Electron bridge or browser WebSocket
 *   const scan = await api.scanDicom([folder], { onProgress: (f, msg) => … });
 *   const { volume, header } = await api.loadSeries(scan.scanId, scan.series[0].id, { onProgress });
 *   api.on('app.command', ({ command }) => …);  // native menu (Electron)
 *
 * `invoke(channel, args)` is the typed raw call; the convenience methods add progress
 * wiring, cancellation (AbortSignal → task.cancel) and turn WireVolumes into Volumes
 * without copying the voxels. Errors are thrown as IpcError (code, message, issues).
 */
import { IpcError } from '../../src-shared/ipc/errors';
import type {
  AppInfo,
  Args,
  Channel,
  EventName,
  Events,
  FolderListing,
  RecentEntry,
  Result,
  ScanResult,
  VolumeHeader,
  WireVolume,
} from '../../src-shared/ipc/contract';
import { fromWireVolume, toWireVolume } from '../../src-shared/ipc/volume-wire';
import type { Volume } from '../../src-shared/image/volume';
import type { LatticePreloadApi } from '../../src-shared/ipc/preload-api';
import { ElectronTransport, WebSocketTransport, type Transport } from './transport';
import { collectDrop, type DroppedItem } from './drop';

export { IpcError } from '../../src-shared/ipc/errors';
export type * from '../../src-shared/ipc/contract';
export { ElectronTransport, WebSocketTransport, type Transport } from './transport';

export type ProgressHandler = (fraction: number | null, message: string) => void;
export interface CallOptions {
  onProgress?: ProgressHandler;
  /** Aborting cancels the request on the main side too. */
  signal?: AbortSignal;
}

/** A volume the main side holds (header.id) plus the renderer's own copy of its voxels. */
export interface LoadedVolume {
  header: VolumeHeader;
  /** data is a typed array over the received ArrayBuffer (no copy). */
  volume: Volume;
  warnings: string[];
}

export interface JobHandle {
  jobId: string;
  /** Resolves with the new volumes' headers (fetch bytes with getVolume), rejects with IpcError on failure/cancel. */
  done: Promise<{ volumes: VolumeHeader[]; result?: Record<string, unknown> }>;
  /**
   * Cancels the job. `keep`: a job that can stop early (demons) finishes now with what it has
   * and `done` resolves (result.stoppedEarly); other kinds are cancelled as usual.
   */
  cancel(keep?: boolean): Promise<void>;
}

export interface JobOptions extends CallOptions {
  /** The job's live picture, when its kind sends one (job.progress's `preview`). */
  onPreview?: (preview: Record<string, unknown>) => void;
}

let taskCounter = 0;
function newTaskId(): string {
  return `t${++taskCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

export class LatticeApi {
  private readonly listeners = new Map<EventName, Set<(p: never) => void>>();

  constructor(readonly transport: Transport) {
    transport.onEvent((ev, payload) => {
      const set = this.listeners.get(ev);
      if (set) for (const h of [...set]) (h as (p: unknown) => void)(payload);
    });
  }

  get kind(): 'electron' | 'browser' {
    return this.transport.kind;
  }

  /** The typed raw call. Throws IpcError. */
  async invoke<C extends Channel>(channel: C, args: Args<C>): Promise<Result<C>> {
    const reply = await this.transport.invoke(channel, args);
    if (!reply.ok) throw IpcError.from(reply.error);
    return reply.result as Result<C>;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, handler: (payload: Events[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(handler as (p: never) => void);
    return () => set.delete(handler as (p: never) => void);
  }

  // ----- convenience -----

  info(): Promise<AppInfo> {
    return this.invoke('app.info', {});
  }

  /** Finds the DICOM series in folders/files. */
  scanDicom(paths: string[], opts: CallOptions = {}): Promise<ScanResult> {
    return this.withTask(opts, (task) => this.invoke('dicom.scan', { paths, task }));
  }

  /** Loads one series of a scan. */
  async loadSeries(scanId: string, seriesId: string, opts: CallOptions = {}): Promise<LoadedVolume> {
    const r = await this.withTask(opts, (task) => this.invoke('dicom.load', { scanId, seriesId, task }));
    return { header: r.volume.header, volume: fromWireVolume(r.volume), warnings: r.warnings };
  }

  /** Opens a NIfTI file by path. */
  async openImage(path: string, opts: CallOptions = {}): Promise<LoadedVolume> {
    const r = await this.withTask(opts, (task) => this.invoke('image.open', { path, task }));
    return { header: r.volume.header, volume: fromWireVolume(r.volume), warnings: r.warnings };
  }

  async getVolume(volumeId: string): Promise<LoadedVolume> {
    const w: WireVolume = await this.invoke('volume.get', { volumeId });
    return { header: w.header, volume: fromWireVolume(w), warnings: [] };
  }

  /** Gives a volume made in the renderer (a segmentation, say) to the main side; returns its header with id. */
  putVolume(volume: Volume, name: string): Promise<VolumeHeader> {
    const w = toWireVolume('', name, volume, { kind: 'renderer' });
    const { id: _drop, ...header } = w.header;
    return this.invoke('volume.put', { volume: { header, data: w.data } });
  }

  releaseVolumes(volumeIds: string[]): Promise<{ released: number }> {
    return this.invoke('volume.release', { volumeIds });
  }

  /** One user setting (JSON) from the settings folder; null when unset. */
  async getSetting(key: string): Promise<unknown> {
    return (await this.invoke('settings.get', { key })).value;
  }

  /** Stores one user setting (null removes it). */
  async setSetting(key: string, value: unknown): Promise<void> {
    await this.invoke('settings.set', { key, value });
  }

  /** Writes a held volume to .nii / .nii.gz. */
  exportVolume(volumeId: string, path: string, opts: CallOptions & { overwrite?: boolean } = {}): Promise<{ path: string; bytes: number }> {
    return this.withTask(opts, (task) => this.invoke('volume.export', { volumeId, path, overwrite: opts.overwrite, task }));
  }

  /** Reads an ITK transform file (.txt/.tfm/.mat/.h5) on the host as a 4×4 LPS pull-back. */
  loadTransform(path: string): Promise<{ matrixLps: number[]; description: string }> {
    return this.invoke('transform.load', { path });
  }

  /** Writes a 4×4 LPS pull-back as an ITK affine file (.txt/.tfm/.mat/.h5) on the host. */
  writeTransform(path: string, matrixLps: number[], overwrite = false): Promise<{ path: string; bytes: number }> {
    return this.invoke('transform.write', { path, matrixLps, overwrite });
  }

  /** Writes a transform's text (ITK .txt/.tfm or a matrix) to a path on the host, atomically. */
  saveTransform(path: string, text: string, overwrite = false): Promise<{ path: string; bytes: number }> {
    return this.invoke('transform.save', { path, text, overwrite });
  }

  /** Writes a workspace JSON file atomically (see src-shared/workspace). */
  saveWorkspace(path: string, text: string, overwrite = false): Promise<{ path: string; bytes: number }> {
    return this.invoke('workspace.save', { path, text, overwrite });
  }

  readWorkspace(path: string): Promise<{ path: string; text: string }> {
    return this.invoke('workspace.read', { path });
  }

  listFolder(path?: string, showHidden?: boolean): Promise<FolderListing> {
    return this.invoke('fs.list', { path, showHidden });
  }

  recent(): Promise<RecentEntry[]> {
    return this.invoke('recent.list', {});
  }
  addRecent(path: string, kind: RecentEntry['kind']): Promise<RecentEntry[]> {
    return this.invoke('recent.add', { path, kind });
  }
  removeRecent(path: string): Promise<RecentEntry[]> {
    return this.invoke('recent.remove', { path });
  }
  clearRecent(): Promise<RecentEntry[]> {
    return this.invoke('recent.clear', {});
  }

  /** Native dialog (Electron). Check info().nativeDialogs first; the browser host throws 'unsupported'. */
  async openDialog(kind: Args<'dialog.open'>['kind'], defaultPath?: string): Promise<string[]> {
    return (await this.invoke('dialog.open', { kind, defaultPath })).paths;
  }

  /**
   * The paths of what was dropped on the page, ready for scanDicom / openImage.
   * Electron: the real paths. Browser: the files are uploaded to a private staging
   * folder on the host first (with folder structure), and the staged paths returned.
   * MUST be called synchronously inside the drop handler (before any await): the
   * browser empties the DataTransfer when the handler returns.
   */
  pathsFromDrop(dt: DataTransfer, opts: CallOptions = {}): Promise<DroppedItem[]> {
    return collectDrop(dt, this, opts.onProgress);
  }

  /** Starts a job; see JobHandle. */
  async startJob(kind: string, args: Record<string, unknown>, inputs: string[], opts: JobOptions = {}): Promise<JobHandle> {
    // Subscribe first so no event can slip between the reply and the subscription.
    let jobId = '';
    const early: { ev: 'job.progress' | 'job.done' | 'job.failed'; p: unknown }[] = [];
    let settle: ((ev: 'job.progress' | 'job.done' | 'job.failed', p: unknown) => void) | null = null;
    const onAny = (ev: 'job.progress' | 'job.done' | 'job.failed') => (p: { jobId: string }) => {
      if (!jobId) early.push({ ev, p });
      else if (p.jobId === jobId) settle?.(ev, p);
    };
    const offs = [this.on('job.progress', onAny('job.progress')), this.on('job.done', onAny('job.done')), this.on('job.failed', onAny('job.failed'))];
    const unsubscribe = () => offs.forEach((f) => f());
    let started: { jobId: string };
    try {
      started = await this.invoke('job.start', { kind, args, inputs });
    } catch (e) {
      unsubscribe();
      throw e;
    }
    jobId = started.jobId;
    const done = new Promise<{ volumes: VolumeHeader[]; result?: Record<string, unknown> }>((resolve, reject) => {
      settle = (ev, p) => {
        if (ev === 'job.progress') {
          const e = p as Events['job.progress'];
          opts.onProgress?.(e.fraction, e.message);
          if (e.preview) opts.onPreview?.(e.preview);
        } else if (ev === 'job.done') {
          unsubscribe();
          const e = p as Events['job.done'];
          resolve({ volumes: e.volumes, ...(e.result ? { result: e.result } : {}) });
        } else {
          unsubscribe();
          reject(IpcError.from((p as Events['job.failed']).error));
        }
      };
      for (const { ev, p } of early) if ((p as { jobId: string }).jobId === jobId) settle(ev, p);
    });
    const cancel = async (keep?: boolean) => {
      await this.invoke('job.cancel', keep ? { jobId, keep } : { jobId });
    };
    opts.signal?.addEventListener('abort', () => void cancel(), { once: true });
    return { jobId, done, cancel };
  }

  /** Runs a request with a task id, wiring its progress events and cancellation. */
  private async withTask<T>(opts: CallOptions, run: (task: string | undefined) => Promise<T>): Promise<T> {
    if (opts.signal?.aborted) throw new IpcError('cancelled', 'cancelled');
    if (!opts.onProgress && !opts.signal) return run(undefined);
    const task = newTaskId();
    const off = opts.onProgress
      ? this.on('task.progress', (e) => {
          if (e.task === task) opts.onProgress!(e.fraction, e.message);
        })
      : () => undefined;
    const onAbort = () => void this.invoke('task.cancel', { task }).catch(() => undefined);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await run(task);
    } finally {
      off();
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }
}

const TOKEN_KEY = 'lattice.token';

/**
 * The token of the browser host: from the URL fragment (#token=…) the host printed,
 * remembered for this tab in sessionStorage and removed from the address bar, so a
 * reload still works and the token is not left in view or in bookmarks.
 */
export function tokenFromLocation(loc: Location = location, storage: Storage | null = typeof sessionStorage !== 'undefined' ? sessionStorage : null): string | null {
  const fromUrl = new URLSearchParams(loc.hash.replace(/^#/, '')).get('token');
  if (fromUrl) {
    storage?.setItem(TOKEN_KEY, fromUrl);
    try {
      history.replaceState(history.state, '', loc.pathname + loc.search);
    } catch {
      // not a browser page (tests)
    }
    return fromUrl;
  }
  return storage?.getItem(TOKEN_KEY) ?? null;
}

/** Builds the API for this page: Electron's bridge when present, else the host's WebSocket. */
export function createLatticeApi(): LatticeApi {
  const bridge = (globalThis as { lattice?: LatticePreloadApi }).lattice;
  if (bridge && bridge.bridgeVersion === 1) return new LatticeApi(new ElectronTransport(bridge));
  const token = tokenFromLocation();
  if (!token) {
    // Still build the transport: every call then fails with a message saying what to do.
    return new LatticeApi(new WebSocketTransport(WebSocketTransport.urlFor(location.origin, 'missing')));
  }
  return new LatticeApi(new WebSocketTransport(WebSocketTransport.urlFor(location.origin, token)));
}

let singleton: LatticeApi | null = null;
/** The page's one LatticeApi. */
export function getLatticeApi(): LatticeApi {
  return (singleton ??= createLatticeApi());
}
