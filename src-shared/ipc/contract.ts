/**
 * THE typed IPC contract between the renderer and the main process (Electron) or the
 * browser host (WebSocket). One place lists every request channel with the zod schema
 * of its arguments and the TypeScript type of its result, and every event the main
 * side pushes. Both transports carry exactly this; the main side validates every
 * argument against these schemas at run time before any service sees it.
 *
 * Conventions
 * - A request is `invoke(channel, args)`; args is always one object (never positional).
 * - Long requests take an optional client-chosen `task` id; progress for them arrives
 *   as `task.progress` events with that id, and `task.cancel` aborts them.
 * - Volumes live in the main process by id (`VolumeHeader.id`). Results that carry
 *   voxels carry a WireVolume (header + one ArrayBuffer, never JSON). To hand a volume
 *   back (export, jobs), send only its id.
 * - Jobs (processing, registration: later issues) are started by kind with arguments
 *   and input volume ids; they report through job.* events and produce new volumes
 *   (by id; fetch the bytes with volume.get).
 *
 * Adding a channel: add its schema to `requestSchemas` and its result to `Results`.
 * Nothing else in the transports changes.
 */
import { z } from 'zod';
import type { VolumeHeader, WireVolume } from './volume-wire';
import { IpcError, type IpcErrorInfo } from './errors';
import { imageFormatOf } from '../image/file-formats';

export type { VolumeHeader, WireVolume, VolumeSource } from './volume-wire';

// ---------- shared pieces ----------

const id = z.string().min(1).max(200);
const taskId = id.optional();
/** A file-system path as the user typed it or a dialog returned it. */
const fsPath = z.string().min(1, 'must not be empty').max(4096).refine((s) => !s.includes('\0'), 'must not contain NUL characters');
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const vec3 = z.tuple([finite, finite, finite]);
const positiveInt = z.number().int().positive();
const voxelType = z.enum(['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64']);
const metadataValue = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.number()), z.array(z.string())]);
/** Settings keys: short dotted names ('colormaps.custom'). */
const settingsKey = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be a short name of letters, digits, . _ -');
const arrayBuffer = z.instanceof(ArrayBuffer, { message: 'must be an ArrayBuffer (binary data)' });

export const volumeHeaderSchema = z
  .object({
    id: z.string().max(200).optional(),
    name: z.string().max(500),
    dims: z.tuple([positiveInt, positiveInt, positiveInt]),
    spacing: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
    origin: vec3,
    direction: z.tuple([finite, finite, finite, finite, finite, finite, finite, finite, finite]),
    voxelType,
    frames: positiveInt,
    frameSpacing: z.number().nonnegative().optional(),
    rescaleSlope: finite,
    rescaleIntercept: finite,
    metadata: z.record(z.string(), metadataValue),
    byteLength: z.number().int().nonnegative(),
    source: z
      .object({
        kind: z.enum(['dicom', 'nifti', 'image', 'job', 'renderer']),
        path: z.string().optional(),
        seriesInstanceUid: z.string().optional(),
        job: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const wireVolumeSchema = z.object({ header: volumeHeaderSchema, data: arrayBuffer }).strict();

export const appCommands = [
  'open-dicom-folder',
  'open-image',
  'open-path',
  'export',
  'close-volume',
  'view.reset',
  'view.layout-1x3',
  'view.layout-2x2',
  'view.axial',
  'view.coronal',
  'view.sagittal',
  'view.toggle-crosshair',
  'view.zoom-in',
  'view.zoom-out',
  'tools.window-level',
  'tools.pan',
  'tools.zoom',
  'tools.measure',
  'help.about',
  'help.shortcuts',
] as const;
export type AppCommand = (typeof appCommands)[number];

// ---------- request argument schemas ----------

export const requestSchemas = {
  /** Facts about the running side: versions, transport, capabilities. */
  'app.info': z.object({}).strict(),
  /** Native open/save dialog (Electron only; the browser host answers `unsupported`). */
  'dialog.open': z
    .object({
      kind: z.enum(['dicom-folder', 'image', 'save-nifti']),
      defaultPath: fsPath.optional(),
      title: z.string().max(200).optional(),
    })
    .strict(),
  /** One folder's entries, for the server-side folder browser. Omit path for the home folder. */
  'fs.list': z.object({ path: fsPath.optional(), showHidden: z.boolean().optional() }).strict(),
  /** The recent files/folders list, newest first (stored in the user's settings folder). */
  'recent.list': z.object({}).strict(),
  'recent.add': z.object({ path: fsPath, kind: z.enum(['dicom-folder', 'image']) }).strict(),
  'recent.remove': z.object({ path: fsPath }).strict(),
  'recent.clear': z.object({}).strict(),
  /** One user setting (JSON), e.g. 'colormaps.custom'; null when unset. */
  'settings.get': z.object({ key: settingsKey }).strict(),
  /** Sets (null: removes) one user setting; at most 256 KiB of JSON. */
  'settings.set': z
    .object({
      key: settingsKey,
      value: z.unknown().refine((v) => {
        try {
          const s = JSON.stringify(v ?? null);
          return typeof s === 'string' && s.length <= 256 * 1024;
        } catch {
          return false;
        }
      }, 'must be JSON of at most 256 KiB'),
    })
    .strict(),
  /** Finds the DICOM series in files and/or folders (recursively). */
  'dicom.scan': z.object({ paths: z.array(fsPath).min(1, 'must list at least one file or folder').max(10000), task: taskId }).strict(),
  /** Loads one series found by a scan; the main process keeps it as a volume. */
  'dicom.load': z.object({ scanId: id, seriesId: id, task: taskId }).strict(),
  /** Opens an image file (NIfTI .nii / .nii.gz). */
  'image.open': z.object({ path: fsPath, task: taskId }).strict(),
  /** The bytes of a volume the main process holds. */
  'volume.get': z.object({ volumeId: id }).strict(),
  /** Hands a volume made in the renderer to the main process; returns its new header (with id). */
  'volume.put': z.object({ volume: wireVolumeSchema }).strict(),
  /** Lets the main process forget volumes (frees memory). */
  'volume.release': z.object({ volumeIds: z.array(id).max(10000) }).strict(),
  /**
   * Writes a volume, atomically, in the format its extension names: NIfTI (.nii, .nii.gz)
   * or any writable format of src-shared/image/file-formats (.nrrd, .mha, .png, …).
   */
  'volume.export': z
    .object({
      volumeId: id,
      path: fsPath.refine((p) => !!imageFormatOf(p)?.writable, 'must end in .nii, .nii.gz or another writable image extension (.nrrd, .nhdr, .mha, .mhd, .vtk, .mnc, .mgz, .tif, .png, .jpg, .bmp)'),
      overwrite: z.boolean().optional(),
      task: taskId,
    })
    .strict(),
  /**
   * Writes a registration transform as text (ITK .txt/.tfm, or a 4×4 matrix .txt/.mat),
   * atomically; the renderer formats it (src-shared/registration/itk-transform.ts).
   */
  'transform.save': z
    .object({
      path: fsPath.refine((p) => /\.(txt|tfm|mat)$/i.test(p), 'must end in .txt, .tfm or .mat'),
      text: z.string().max(1_000_000),
      overwrite: z.boolean().optional(),
    })
    .strict(),
  /** Writes a workspace file (JSON text, see src-shared/workspace), atomically. */
  'workspace.save': z
    .object({
      path: fsPath.refine((p) => /\.json$/i.test(p), 'must end in .json'),
      text: z.string().max(4_000_000),
      overwrite: z.boolean().optional(),
    })
    .strict(),
  /** Reads a workspace file's text (at most 4 MB). */
  'workspace.read': z.object({ path: fsPath }).strict(),
  /**
   * Reads an ITK transform file (.txt/.tfm/.mat/.h5/.hdf5, or Lattice's 4×4 matrix text) as
   * the 4×4 LPS pull-back (fixed world → moving world) a layer's worldTransform holds.
   */
  'transform.load': z.object({ path: fsPath.refine((p) => /\.(txt|tfm|mat|h5|hdf5)$/i.test(p), 'must end in .txt, .tfm, .mat, .h5 or .hdf5') }).strict(),
  /** Writes a 4×4 LPS pull-back as an ITK affine transform file (.txt/.tfm/.mat/.h5/.hdf5, by extension), atomically. */
  'transform.write': z
    .object({
      path: fsPath.refine((p) => /\.(txt|tfm|mat|h5|hdf5)$/i.test(p), 'must end in .txt, .tfm, .mat, .h5 or .hdf5'),
      matrixLps: z.array(finite).length(16),
      overwrite: z.boolean().optional(),
    })
    .strict(),
  /**
   * Browser host only: files dropped from the desktop (the page cannot see their paths)
   * are copied into a private staging folder; call again with the same uploadId to add
   * more. Open the returned dir/paths like any other path.
   */
  'upload.files': z
    .object({
      uploadId: id.optional(),
      files: z
        .array(
          z
            .object({
              relativePath: z
                .string()
                .min(1)
                .max(1024)
                .refine((p) => !p.split(/[\\/]/).some((s) => s === '..' || s === '') && !/^[\\/]|^[A-Za-z]:/.test(p) && !p.includes('\0'), 'must be a plain relative path (no "..", no leading slash)'),
              data: arrayBuffer,
            })
            .strict(),
        )
        .min(1)
        .max(5000),
    })
    .strict(),
  /** Starts a processing/registration job on volumes the main process holds. */
  'job.start': z
    .object({
      kind: z.string().min(1).max(100),
      args: z.record(z.string(), z.unknown()),
      inputs: z.array(id).max(100),
    })
    .strict(),
  /**
   * Cancels a job. `keep: true` asks a job that can stop early (demons) to finish now with
   * what it has: it ends with job.done (result.stoppedEarly = true) instead of job.failed.
   * Kinds that cannot stop early are cancelled as usual.
   */
  'job.cancel': z.object({ jobId: id, keep: z.boolean().optional() }).strict(),
  /** Aborts a running request that was given a `task` id. */
  'task.cancel': z.object({ task: id }).strict(),
} as const;

export type Channel = keyof typeof requestSchemas;
export const channels = Object.keys(requestSchemas) as Channel[];
/** What the caller passes (optional fields may be left out). */
export type Args<C extends Channel> = z.input<(typeof requestSchemas)[C]>;
/** What a service receives after validation. */
export type ParsedArgs<C extends Channel> = z.output<(typeof requestSchemas)[C]>;

// ---------- results ----------

export interface AppInfo {
  name: 'Lattice';
  version: string;
  transport: 'electron' | 'browser';
  platform: string;
  homeDir: string;
  /** Native open/save dialogs exist (Electron). Otherwise use fs.list to browse. */
  nativeDialogs: boolean;
  /** Dropped files must be uploaded (browser) rather than opened by path (Electron). */
  uploadDrops: boolean;
  /** Max bytes of one upload.files call. */
  maxUploadBytes: number;
  /** The folder with the bundled test data if present (for demos), else null. */
  sampleDataDir: string | null;
}

export interface FolderEntry {
  name: string;
  path: string;
  kind: 'folder' | 'file' | 'other';
  size: number;
  mtimeMs: number;
  /** What Lattice can do with it, from the name: open as image, or likely DICOM. */
  /** 'image': another image file format (NRRD, MHA, PNG, …: src-shared/image/file-formats). */
  hint?: 'nifti' | 'image' | 'dicom' | 'dicomdir';
}

export interface FolderListing {
  path: string;
  /** null at a file-system root. */
  parent: string | null;
  entries: FolderEntry[];
  /** Good starting points: home, file-system roots, sample data. */
  places: { name: string; path: string }[];
  /** True when the folder held more entries than are listed (huge DICOM folders). */
  truncated: boolean;
}

export interface RecentEntry {
  path: string;
  kind: 'dicom-folder' | 'image';
  /** ISO time of the last open. */
  openedAt: string;
}

/** One series found by dicom.scan; also the DICOM reader's own type (src-main/dicom, DicomSeriesSummary). */
export interface SeriesSummary {
  /** Stable key within the scan ("1", "2", …, in the order series are listed). */
  id: string;
  seriesInstanceUid: string;
  seriesNumber: number | null;
  description: string;
  modality: string;
  dims: [number, number, number];
  /** Volumes in a 4D series (1 for a plain 3D image). */
  frames: number;
  spacing: [number, number, number];
  /** 'axial' | 'coronal' | 'sagittal' | 'oblique'. */
  orientation: string;
  fileCount: number;
  warnings: string[];
  /** What a user should know that is not a problem (scaling chosen, colour, image type). */
  notes?: string[];
  patientName: string;
  patientId: string;
  studyDate: string;
  studyDescription: string;
  bodyPart?: string;
}

export interface ScanResult {
  /** Pass to dicom.load. Valid until the host/app restarts. */
  scanId: string;
  series: SeriesSummary[];
  problems: { file: string; problem: string }[];
  notes: string[];
  /** RT structure sets found (they load as label layers onto the image they reference). */
  structureSets?: {
    file: string;
    label: string;
    frameOfReferenceUids: string[];
    referencedSeriesUids: string[];
    rois: { number: number; name: string; color?: [number, number, number]; contours: number }[];
  }[];
}

export interface LoadResult {
  volume: WireVolume;
  warnings: string[];
}

export interface Results {
  'app.info': AppInfo;
  'dialog.open': { paths: string[] };
  'fs.list': FolderListing;
  'recent.list': RecentEntry[];
  'recent.add': RecentEntry[];
  'recent.remove': RecentEntry[];
  'recent.clear': RecentEntry[];
  'settings.get': { value: unknown };
  'settings.set': { ok: true };
  'dicom.scan': ScanResult;
  'dicom.load': LoadResult;
  'image.open': LoadResult;
  'volume.get': WireVolume;
  'volume.put': VolumeHeader;
  'volume.release': { released: number };
  'volume.export': { path: string; bytes: number };
  'transform.save': { path: string; bytes: number };
  'transform.load': { matrixLps: number[]; description: string };
  'transform.write': { path: string; bytes: number };
  'workspace.save': { path: string; bytes: number };
  'workspace.read': { path: string; text: string };
  'upload.files': { uploadId: string; dir: string; paths: string[] };
  'job.start': { jobId: string };
  'job.cancel': { cancelled: boolean };
  'task.cancel': { cancelled: boolean };
}
export type Result<C extends Channel> = Results[C];

// ---------- events (main → renderer) ----------

export interface Events {
  /** Progress of a request that was given a `task` id. fraction is 0..1, or null when unknown. */
  'task.progress': { task: string; fraction: number | null; done?: number; total?: number; message: string };
  /**
   * `preview`: a job's live picture, when the kind makes one (demons: DemonsPreview of
   * src-shared/registration/preview.ts, its pixel planes as ArrayBuffers). Never dropped by
   * the progress throttle.
   */
  'job.progress': { jobId: string; fraction: number | null; message: string; preview?: Record<string, unknown> };
  'job.done': { jobId: string; kind: string; volumes: VolumeHeader[]; result?: Record<string, unknown> };
  'job.failed': { jobId: string; kind: string; error: IpcErrorInfo; cancelled: boolean };
  /** A native menu item or shortcut (Electron), or a path given on the command line. */
  'app.command': { command: AppCommand; path?: string };
}
export type EventName = keyof Events;
export const eventNames: EventName[] = ['task.progress', 'job.progress', 'job.done', 'job.failed', 'app.command'];

// ---------- errors (in errors.ts, which has no zod: the renderer bundle imports it) ----------

export { IpcError, type IpcErrorCode, type IpcErrorInfo, type Reply } from './errors';

function formatPath(path: PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s;
}

/**
 * Validates a request's arguments. Throws IpcError('invalid-args') whose message names
 * the channel and every bad field, e.g.
 *   `dicom.scan: invalid arguments: paths[0]: Invalid input: expected string, received number`.
 */
export function parseArgs<C extends Channel>(channel: C, args: unknown): ParsedArgs<C> {
  const schema = (requestSchemas as Record<string, z.ZodType>)[channel];
  if (!schema) throw new IpcError('unknown-channel', `unknown IPC channel ${JSON.stringify(String(channel)).slice(0, 120)}`);
  const r = schema.safeParse(args === undefined ? {} : args);
  if (r.success) return r.data as ParsedArgs<C>;
  const issues = r.error.issues.map((i) => {
    const where = formatPath(i.path);
    const msg = i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}` : i.message;
    return where ? `${where}: ${msg}` : msg;
  });
  throw new IpcError('invalid-args', `${channel}: invalid arguments: ${issues.join('; ')}`, issues);
}

export function isChannel(s: unknown): s is Channel {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(requestSchemas, s);
}
