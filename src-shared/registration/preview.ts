/**
 * The live picture of a running demons registration, sent as job.progress's `preview`
 * (a few times a second, at the first iteration of each level and once at the end), so the
 * Registration panel can show the classic three panes — warped moving image, deformation
 * grid, current update — and the MSD curve while the job runs.
 *
 * One slice of the FIXED grid (normal to voxel axis `axes[2]`, through full-resolution index
 * `slice`), sampled from the current level's buffers: at most PREVIEW_MAX_SIDE pixels a side
 * (every `step`-th level voxel), so a preview stays small whatever the image size.
 */
export const PREVIEW_MAX_SIDE = 256;

export interface DemonsPreviewRequest {
  /** Fixed-grid voxel axis normal to the preview slice (default 2: the acquisition plane). */
  axis?: 0 | 1 | 2;
  /** Full-resolution voxel index along `axis` (default: the middle slice). */
  index?: number;
  /** Least time between two previews, ms (default 200). */
  intervalMs?: number;
}

export interface DemonsPreview {
  kind: 'demons';
  /** 1 = coarsest. */
  level: number;
  levels: number;
  /** 1-based iteration within the level. */
  iteration: number;
  msd: number;
  /** Every iteration so far, all levels in order: its MSD and its level. */
  history: { msd: number[]; level: number[] };
  /** Fixed-grid voxel axes along the preview's x (columns), y (rows) and normal. */
  axes: [number, number, number];
  /** Full-resolution index of the slice along axes[2]. */
  slice: number;
  width: number;
  height: number;
  /** mm per preview pixel along x and y. */
  pixelMm: [number, number];
  /** Planes: Float32, width × height, x fastest. Intensities are the level's (smoothed) images. */
  fixed: ArrayBuffer;
  /** The moving image before the deformation (after the initial transform). */
  source: ArrayBuffer;
  warped: ArrayBuffer;
  /** Float32 2 × width × height: displacement along x, then along y, in PREVIEW pixels. */
  displacement: ArrayBuffer;
  /** Float32 width × height: length of the last update (all three components), mm. */
  update: ArrayBuffer;
  /** Float32 width × height: det(I + ∂d/∂x) of the current displacement on this slice. */
  jacobian: ArrayBuffer;
}

const PLANES = ['fixed', 'source', 'warped', 'update', 'jacobian'] as const;

/** A well-formed DemonsPreview (planes of the stated size), for the receiving side. */
export function isDemonsPreview(p: unknown): p is DemonsPreview {
  if (!p || typeof p !== 'object') return false;
  const q = p as Partial<DemonsPreview>;
  if (q.kind !== 'demons' || !Number.isInteger(q.width) || !Number.isInteger(q.height)) return false;
  const n = q.width! * q.height!;
  if (n <= 0) return false;
  for (const k of PLANES) {
    const b = q[k];
    if (!(b instanceof ArrayBuffer) || b.byteLength !== 4 * n) return false;
  }
  return q.displacement instanceof ArrayBuffer && q.displacement.byteLength === 8 * n && !!q.history && Array.isArray(q.history.msd);
}
