/**
 * Workspaces (ITK-SNAP's .itksnap, Slicer's scene): one small JSON file that says which files
 * are open and how they are shown, so that opening it again puts the same picture on screen.
 *
 *   {
 *     "format": "lattice-workspace", "version": 1,
 *     "layers": [                                   // drawing order; exactly one role "main", first
 *       { "file": "ct",                             // relative to the workspace's folder (or absolute)
 *         "kind": "dicom", "series": { "uid": "1.2…", "dims": [512, 512, 3] },   // which series of the folder
 *         "role": "main", "name": "CT", "nickname": "", "colormap": "grayscale", "opacity": 1,
 *         "visible": true, "window": 1500, "level": -600, "isLabel": false,
 *         "worldTransform": [16 numbers, row-major LPS pull-back] | absent,
 *         "clipLayer": index of the mask that blacks out this layer | absent,
 *         "provenance": "Masked CT by Threshold > 60 of CT" | absent,
 *         "equalize": "global" | "adaptive" | absent (display histogram equalisation, off) },
 *       { "file": "ws.Threshold_60.nii.gz", "kind": "file", … }
 *     ],
 *     "shownLayer": index | null,                   // the image shown in the main image's place
 *     "cursor": [i, j, k], "frame": 0,              // voxel of the main image; 4D volume
 *     "cameras": { "axial": { "zoom": 1, "panX": 0, "panY": 0 }, "coronal": …, "sagittal": … },
 *     "camera3d": { "position": [x, y, z], "focalPoint": […], "viewUp": […], "viewAngle": 30 } | absent,
 *                                                   // the 3D view's camera, LPS mm (absent: the default view)
 *     "layout": { "convention": "radiological", "showCrosshair": true, "linkContrast": false }
 *   }
 *
 * Unknown keys are kept out (a newer version's extras are ignored, not an error). Paths are
 * stored relative when the file lies under the workspace's folder, so a folder with its
 * workspace can be moved or shared. Pure code: used by the renderer (save/open) and the CLI
 * (`lattice workspace validate`).
 */
import { z } from 'zod';

export const WORKSPACE_FORMAT = 'lattice-workspace';
export const WORKSPACE_VERSION = 1;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const camera = z.object({ zoom: finite.refine((x) => x > 0, 'must be > 0'), panX: finite, panY: finite });
const vec3 = z.tuple([finite, finite, finite]);
/** The 3D view's camera (optional: files written before it was kept are still valid). */
const camera3d = z
  .object({ position: vec3, focalPoint: vec3, viewUp: vec3, viewAngle: finite.refine((x) => x > 0 && x < 180, 'must be between 0 and 180 degrees') })
  .refine((c) => c.position.some((x, i) => x !== c.focalPoint[i]), 'position must differ from focalPoint')
  .refine((c) => c.viewUp.some((x) => x !== 0), 'viewUp must not be zero');

export const workspaceLayerSchema = z.object({
  file: z.string().min(1, 'must name a file').max(4096),
  /** 'file': an image file (NIfTI…) opened by its extension; 'dicom': a series of a DICOM folder. */
  kind: z.enum(['file', 'dicom']),
  series: z.object({ uid: z.string().max(200).optional(), dims: z.array(z.number().int().positive()).max(4).optional() }).optional(),
  role: z.enum(['main', 'additional', 'overlay']),
  name: z.string().max(500),
  nickname: z.string().max(500).default(''),
  colormap: z.string().max(200).default('grayscale'),
  opacity: finite.default(1),
  visible: z.boolean().default(true),
  window: finite.refine((x) => x > 0, 'must be > 0'),
  level: finite,
  isLabel: z.boolean().default(false),
  worldTransform: z.array(finite).length(16).optional(),
  clipLayer: z.number().int().min(0).optional(),
  provenance: z.string().max(4000).optional(),
  /** Histogram equalisation of the display (Contrast tab); absent = off. */
  equalize: z.enum(['global', 'adaptive']).optional(),
});

export const workspaceSchema = z
  .object({
    format: z.literal(WORKSPACE_FORMAT, { message: `must be "${WORKSPACE_FORMAT}"` }),
    version: z.number().int().min(1),
    layers: z.array(workspaceLayerSchema).min(1, 'must list at least the main image').max(1000),
    shownLayer: z.number().int().min(0).nullable().default(null),
    cursor: z.tuple([z.number().int(), z.number().int(), z.number().int()]).optional(),
    frame: z.number().int().min(0).default(0),
    cameras: z.object({ axial: camera, coronal: camera, sagittal: camera }).partial().default({}),
    camera3d: camera3d.optional(),
    layout: z
      .object({ convention: z.enum(['radiological', 'neurological']).optional(), showCrosshair: z.boolean().optional(), linkContrast: z.boolean().optional() })
      .default({}),
  })
  .superRefine((w, ctx) => {
    const mains = w.layers.filter((l) => l.role === 'main').length;
    if (mains !== 1) ctx.addIssue({ code: 'custom', path: ['layers'], message: `must have exactly one layer with role "main" (has ${mains})` });
    else if (w.layers[0].role !== 'main') ctx.addIssue({ code: 'custom', path: ['layers', 0, 'role'], message: 'the main image must be the first layer' });
    if (w.shownLayer !== null && (w.shownLayer >= w.layers.length || w.layers[w.shownLayer].role === 'overlay'))
      ctx.addIssue({ code: 'custom', path: ['shownLayer'], message: 'must be the index of an image layer (not an overlay)' });
    w.layers.forEach((l, i) => {
      if (l.clipLayer !== undefined && (l.clipLayer >= w.layers.length || l.clipLayer === i))
        ctx.addIssue({ code: 'custom', path: ['layers', i, 'clipLayer'], message: 'must be the index of another layer' });
    });
  });

export type Workspace = z.output<typeof workspaceSchema>;
export type WorkspaceLayer = z.output<typeof workspaceLayerSchema>;
export type WorkspaceInput = z.input<typeof workspaceSchema>;

/** Parses a workspace file's text; throws an Error naming the file and every problem. */
export function parseWorkspace(text: string, fileName = 'workspace'): Workspace {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${fileName}: not a workspace (invalid JSON: ${e instanceof Error ? e.message : String(e)})`);
  }
  if (raw && typeof raw === 'object' && (raw as { format?: unknown }).format !== WORKSPACE_FORMAT)
    throw new Error(`${fileName}: not a Lattice workspace (no "format": "${WORKSPACE_FORMAT}")`);
  const r = workspaceSchema.safeParse(raw);
  if (!r.success) throw new Error(`${fileName}: ${r.error.issues.map((i) => `${i.path.join('.') || 'workspace'}: ${i.message}`).join('; ')}`);
  if (r.data.version > WORKSPACE_VERSION) {
    // Newer files are read as far as this version understands them (unknown keys are dropped).
  }
  return r.data;
}

// ---- paths (pure: POSIX and Windows spellings, no node:path in the renderer) ----

const isAbs = (p: string) => /^([A-Za-z]:)?[\\/]/.test(p);
const sepOf = (p: string) => (p.includes('\\') && !p.includes('/') ? '\\' : '/');
const parts = (p: string) => p.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');

/** The folder of a file path ("/a/b/c.json" → "/a/b"). */
export function dirOf(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i <= 0 ? (i === 0 ? path[0] : '.') : path.slice(0, i);
}

/** The last part of a path. */
export function baseOf(path: string): string {
  return parts(path).pop() ?? path;
}

/** `path` relative to folder `dir` when it lies inside it, else `path` unchanged (absolute). */
export function relativeTo(dir: string, path: string): string {
  const d = parts(dir);
  const p = parts(path);
  const drive = (s: string) => (/^[A-Za-z]:/.test(s) ? s.slice(0, 2).toLowerCase() : '');
  if (drive(dir) !== drive(path) || d.length > p.length || d.some((x, i) => x !== p[i])) return path;
  return p.slice(d.length).join('/') || '.';
}

/** A workspace entry's path made absolute against the workspace's folder (".." allowed). */
export function resolveFrom(dir: string, path: string): string {
  if (isAbs(path)) return path;
  const sep = sepOf(dir);
  const out = parts(dir);
  for (const s of parts(path)) {
    if (s === '..') out.pop();
    else out.push(s);
  }
  const lead = /^[A-Za-z]:/.test(dir) ? '' : sep;
  return lead + out.join(sep);
}
