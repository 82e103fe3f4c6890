/**
 * Every request of the IPC contract, implemented once for both shells. The Electron
 * main process and the browser host each create one `Services` and plug its
 * dispatcher into their transport; only `dialogs` differs (native in Electron, absent
 * in the browser, where the page uses fs.list instead).
 */
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { IpcError, type AppInfo, type ParsedArgs, type RecentEntry, type ScanResult, type SeriesSummary } from '../../src-shared/ipc/contract';
import { expectedByteLength } from '../../src-shared/ipc/volume-wire';
import { VOXEL_ARRAY } from '../../src-shared/image/volume';
import type { DicomScan } from '../dicom/types';
import { Dispatcher, type ClientLink, type Handlers } from './dispatcher';
import { listFolder } from './folder-listing';
import { JobService, type JobCatalog } from './jobs';
import type { JobRunner } from '../jobs/types';
import { defaultReaders, type Readers } from './readers';
import { RecentList } from './recent';
import { UserSettings } from './settings';
import { UploadStaging } from './uploads';
import { VolumeStore } from './volume-store';
import { writeFileAtomic } from '../fs/atomic-write';
import { imageFormatOf, stripImageExtension } from '../../src-shared/image/file-formats';
import { applyNiftiSidecar, writeNiftiSidecar } from '../io/nifti-sidecar';

export { Dispatcher, type ClientLink } from './dispatcher';
export { JobService, defaultJobCatalog, type JobCatalog, type JobKindInfo } from './jobs';

export interface NativeDialogs {
  open(args: ParsedArgs<'dialog.open'>): Promise<string[]>;
}

export interface ServiceOptions {
  transport: 'electron' | 'browser';
  /** Where recent.json lives. */
  settingsDir: string;
  version: string;
  dialogs?: NativeDialogs;
  /**
   * Creates the job runner on first use: worker threads by default (browser host); the
   * Electron main process passes its utility-process runner.
   */
  jobRunner?: () => JobRunner | Promise<JobRunner>;
  /** The job kinds and their parameter schemas (default: the runner's registered kinds). */
  jobCatalog?: () => JobCatalog | Promise<JobCatalog>;
  readers?: Readers;
  /** Shown as a place in the folder browser and reported by app.info. */
  sampleDataDir?: string | null;
  onRecentChanged?(list: RecentEntry[]): void;
}

/** Scans kept for dicom.load; older ones are forgotten (a scan of 10 000 files is big). */
const MAX_SCANS = 8;

export class Services {
  readonly volumes = new VolumeStore();
  readonly recent: RecentList;
  /** settings.json: custom colour maps and other small preferences. */
  readonly settings: UserSettings;
  readonly uploads = new UploadStaging();
  readonly jobs: JobService;
  readonly dispatcher: Dispatcher;
  private readonly scans = new Map<string, DicomScan>();
  private readonly readers: Readers;

  constructor(private readonly opts: ServiceOptions) {
    this.readers = opts.readers ?? defaultReaders;
    this.recent = new RecentList(opts.settingsDir, opts.onRecentChanged);
    this.settings = new UserSettings(opts.settingsDir);
    this.jobs = new JobService(
      this.volumes,
      opts.jobRunner ?? (async () => new (await import('../jobs/thread-runner')).ThreadJobRunner()),
      opts.jobCatalog,
    );
    this.dispatcher = new Dispatcher(this.handlers());
  }

  /** A client went away: cancel its requests and jobs. */
  disconnect(client: ClientLink): void {
    this.dispatcher.disconnect(client);
    this.jobs.disconnect(client);
    this.volumes.releaseOwner(client.id);
  }

  async dispose(): Promise<void> {
    await this.jobs.dispose();
    await this.uploads.dispose();
  }

  private handlers(): Handlers {
    const { opts, readers, volumes } = this;
    const sampleDataDir = opts.sampleDataDir && existsSync(opts.sampleDataDir) ? resolve(opts.sampleDataDir) : null;
    return {
      'app.info': (): AppInfo => ({
        name: 'Lattice',
        version: opts.version,
        transport: opts.transport,
        platform: process.platform,
        homeDir: homedir(),
        nativeDialogs: !!opts.dialogs,
        uploadDrops: opts.transport === 'browser',
        maxUploadBytes: this.uploads.maxBytesPerCall,
        sampleDataDir,
      }),

      'dialog.open': async (a) => {
        if (!opts.dialogs) throw new IpcError('unsupported', 'dialog.open: native dialogs are not available in the browser; use the folder browser (fs.list) or type a path');
        return { paths: await opts.dialogs.open(a) };
      },

      'fs.list': (a) => listFolder(a.path, { showHidden: a.showHidden, places: sampleDataDir ? [{ name: 'Sample data', path: sampleDataDir }] : [] }),

      'recent.list': () => this.recent.list(),
      'recent.add': (a) => this.recent.add(resolve(a.path), a.kind),
      'recent.remove': (a) => this.recent.remove(a.path),
      'recent.clear': () => this.recent.clear(),

      'settings.get': async (a) => ({ value: await this.settings.get(a.key) }),
      'settings.set': async (a) => {
        await this.settings.set(a.key, a.value);
        return { ok: true as const };
      },

      'dicom.scan': async (a, ctx): Promise<ScanResult> => {
        const paths = a.paths.map((p) => resolve(p));
        for (const p of paths) {
          await stat(p).catch(() => {
            throw new IpcError('not-found', `dicom.scan: ${p} does not exist`);
          });
        }
        ctx.progress(0, 'Looking for DICOM files…');
        const scan = await readers.scanDicom(paths, {
          signal: ctx.signal,
          onProgress: (done, total) => ctx.progress(total ? done / total : null, `Reading headers: ${done} of ${total} files`, done, total),
        });
        const scanId = `scan-${randomUUID()}`;
        this.scans.set(scanId, scan);
        while (this.scans.size > MAX_SCANS) this.scans.delete(this.scans.keys().next().value as string);
        if (scan.series.length > 0 && paths.length === 1) {
          const s = await stat(paths[0]!);
          // A dropped upload's staging folder is not worth remembering.
          if (!paths[0]!.includes('lattice-uploads-')) await this.recent.add(s.isDirectory() ? paths[0]! : dirname(paths[0]!), 'dicom-folder').catch(() => undefined);
        }
        const series: SeriesSummary[] = scan.series.map((s) => ({ ...s, dims: [...s.dims], spacing: [...s.spacing] }));
        return { scanId, series, problems: scan.problems, notes: scan.notes, ...(scan.structureSets ? { structureSets: scan.structureSets } : {}) };
      },

      'dicom.load': async (a, ctx) => {
        const scan = this.scans.get(a.scanId);
        if (!scan) throw new IpcError('not-found', `dicom.load: unknown scanId ${a.scanId} (scan the folder again)`);
        const s = scan.series.find((x) => x.id === a.seriesId);
        if (!s) throw new IpcError('not-found', `dicom.load: the scan has no series ${a.seriesId} (it has ${scan.series.map((x) => x.id).join(', ') || 'none'})`);
        ctx.progress(0, `Loading ${s.description || `series ${s.seriesNumber ?? s.id}`}…`);
        const { volume, warnings } = await readers.loadDicomSeries(scan, a.seriesId, {
          signal: ctx.signal,
          onProgress: (done, total) => ctx.progress(total ? done / total : null, `Reading slices: ${done} of ${total}`, done, total),
        });
        const name = s.description || (s.seriesNumber !== null ? `Series ${s.seriesNumber}` : `Series ${s.id}`);
        const id = volumes.add(volume, name, { kind: 'dicom', seriesInstanceUid: s.seriesInstanceUid }, ctx.client.id);
        ctx.progress(1, 'Loaded');
        return { volume: volumes.wire(id), warnings };
      },

      'image.open': async (a, ctx) => {
        const path = resolve(a.path);
        const st = await stat(path).catch(() => {
          throw new IpcError('not-found', `image.open: ${path} does not exist`);
        });
        if (st.isDirectory()) throw new IpcError('bad-input', `image.open: ${path} is a folder; open DICOM folders with dicom.scan`);
        const format = imageFormatOf(path);
        if (!format) throw new IpcError('unsupported', `image.open: ${basename(path)}: not an image file Lattice can open (NIfTI, NRRD, MetaImage, Analyze, VTK, MINC, MGH, GIPL, TIFF, PNG, JPEG, BMP); open DICOM through its folder`);
        ctx.progress(null, `Reading ${basename(path)}…`);
        // Readers' errors name the file and the problem; the dispatcher reports them as bad-input.
        let volume;
        let warnings: string[] = [];
        if (format.format === 'nifti') {
          ({ volume } = await readers.readNiftiFile(path));
          warnings = await applyNiftiSidecar(path, volume);
        } else ({ volume, warnings } = await (readers.readImageFile ?? defaultReaders.readImageFile!)(path));
        const id = volumes.add(volume, stripImageExtension(basename(path)), { kind: format.format === 'nifti' ? 'nifti' : 'image', path }, ctx.client.id);
        if (!path.includes('lattice-uploads-')) await this.recent.add(path, 'image').catch(() => undefined);
        ctx.progress(1, 'Loaded');
        return { volume: volumes.wire(id), warnings };
      },

      'volume.get': (a) => volumes.wire(a.volumeId),

      'volume.put': (a, ctx) => {
        const { header, data } = a.volume;
        const want = expectedByteLength(header);
        if (data.byteLength !== want || header.byteLength !== want) {
          throw new IpcError('invalid-args', `volume.put: invalid arguments: volume.data: ${data.byteLength} bytes, expected ${want} for ${header.dims.join('×')}×${header.frames} ${header.voxelType}`, ['volume.data: wrong length']);
        }
        const id = volumes.add(
          {
            dims: header.dims,
            spacing: header.spacing,
            origin: header.origin,
            direction: header.direction,
            data: new VOXEL_ARRAY[header.voxelType](data),
            voxelType: header.voxelType,
            frames: header.frames,
            ...(header.frameSpacing !== undefined ? { frameSpacing: header.frameSpacing } : {}),
            rescaleSlope: header.rescaleSlope,
            rescaleIntercept: header.rescaleIntercept,
            metadata: header.metadata,
          },
          header.name,
          { kind: 'renderer' },
          ctx.client.id,
        );
        return volumes.header(id);
      },

      'volume.release': (a) => ({ released: volumes.release(a.volumeIds) }),

      'volume.export': async (a, ctx) => {
        const volume = volumes.get(a.volumeId);
        const path = resolve(a.path);
        const dirOk = await stat(dirname(path)).then((s) => s.isDirectory(), () => false);
        if (!dirOk) throw new IpcError('not-found', `volume.export: folder ${dirname(path)} does not exist`);
        if (!a.overwrite && (await stat(path).then(() => true, () => false))) {
          throw new IpcError('exists', `volume.export: ${path} already exists (pass overwrite: true to replace it)`);
        }
        const name = basename(path);
        ctx.progress(0, `Writing ${name}…`);
        if (imageFormatOf(path)?.format === 'nifti') {
          // Compression runs on the thread pool; this only reports how much is written
          // (the dispatcher throttles the events). MB of image data, not of the file.
          const mb = (n: number) => (n / 1e6).toFixed(0);
          await readers.writeNiftiFile(path, volume, {
            onProgress: (done, total) => ctx.progress(total ? Math.min(0.99, done / total) : null, `Writing ${name}: ${mb(done)} of ${mb(total)} MB`, done, total),
          });
          // The modality beside it (BIDS sidecar), so that a CT re-opens as a CT.
          await writeNiftiSidecar(path, volume, { overwrite: !!a.overwrite }).catch(() => null);
        }
        else {
          ctx.progress(null, `Writing ${name}…`); // itk-wasm writes in one call: no fraction to report
          await (readers.writeImageFile ?? defaultReaders.writeImageFile!)(path, volume);
        }
        const bytes = (await stat(path)).size;
        ctx.progress(1, 'Written');
        return { path, bytes };
      },

      'transform.save': async (a) => {
        const path = resolve(a.path);
        const dirOk = await stat(dirname(path)).then((s) => s.isDirectory(), () => false);
        if (!dirOk) throw new IpcError('not-found', `transform.save: folder ${dirname(path)} does not exist`);
        if (!a.overwrite && (await stat(path).then(() => true, () => false))) {
          throw new IpcError('exists', `transform.save: ${path} already exists (pass overwrite: true to replace it)`);
        }
        const bytes = new TextEncoder().encode(a.text);
        await writeFileAtomic(path, [bytes]);
        return { path, bytes: bytes.length };
      },

      'transform.load': async (a) => {
        const { readTransformFile } = await import('../io/transform-file');
        return readTransformFile(resolve(a.path));
      },

      'transform.write': async (a) => {
        const path = resolve(a.path);
        const dirOk = await stat(dirname(path)).then((s) => s.isDirectory(), () => false);
        if (!dirOk) throw new IpcError('not-found', `transform.write: folder ${dirname(path)} does not exist`);
        if (!a.overwrite && (await stat(path).then(() => true, () => false))) {
          throw new IpcError('exists', `transform.write: ${path} already exists (pass overwrite: true to replace it)`);
        }
        const { writeTransformFile } = await import('../io/transform-file');
        await writeTransformFile(path, a.matrixLps);
        return { path, bytes: (await stat(path)).size };
      },

      'workspace.save': async (a) => {
        const path = resolve(a.path);
        const dirOk = await stat(dirname(path)).then((s) => s.isDirectory(), () => false);
        if (!dirOk) throw new IpcError('not-found', `workspace.save: folder ${dirname(path)} does not exist`);
        if (!a.overwrite && (await stat(path).then(() => true, () => false))) {
          throw new IpcError('exists', `workspace.save: ${path} already exists (pass overwrite: true to replace it)`);
        }
        const bytes = new TextEncoder().encode(a.text);
        await writeFileAtomic(path, [bytes]);
        return { path, bytes: bytes.length };
      },
      'workspace.read': async (a) => {
        const path = resolve(a.path);
        const st = await stat(path).catch(() => {
          throw new IpcError('not-found', `workspace.read: ${path} does not exist`);
        });
        if (!st.isFile()) throw new IpcError('bad-input', `workspace.read: ${path} is not a file`);
        if (st.size > 4_000_000) throw new IpcError('bad-input', `workspace.read: ${path} is ${st.size} bytes; a workspace is a small JSON file (at most 4 MB)`);
        return { path, text: await readFile(path, 'utf8') };
      },

      'upload.files': (a) => this.uploads.put(a.uploadId, a.files),

      'job.start': (a, ctx) => this.jobs.start(a, ctx.client),
      'job.cancel': (a) => ({ cancelled: this.jobs.cancel(a.jobId, a.keep ?? false) }),
    };
  }
}
