/**
 * Hand-editing operations on a label volume (pure, on voxel arrays): the paintbrush stamp
 * (round or square, 2D on one slice or 3D, size in voxels or in mm with anisotropic spacing),
 * ITK-SNAP's "paint over" rule, and writing a set of voxels through an EditRecorder (so the
 * edit can be undone).
 *
 * Brush geometry: the brush is centred on a continuous voxel position c. A voxel v is inside a
 * round brush when Σ_a ((v_a − c_a)·u_a)² ≤ r², and inside a square one when every
 * |v_a − c_a|·u_a ≤ r, with u_a = 1 (size in voxels) or spacing_a (size in mm) and r half the
 * brush size. In voxels the centre snaps to a voxel for odd sizes and to a voxel corner for
 * even sizes, so a size-n brush is n voxels across (as in ITK-SNAP). The index axes are
 * orthonormal in world space (direction cosines), so spacing-scaled index offsets are true mm.
 * A 2D brush only touches the slice `sliceAxis` = round(c[sliceAxis]).
 */
import type { ImageGeometry, Vec3, VoxelArray } from '../image/volume';
import type { EditRecorder } from './edit-history';

export type BrushShape = 'round' | 'square';
export type SizeUnit = 'voxel' | 'mm';

export interface BrushOptions {
  shape: BrushShape;
  /** Diameter (round) or side (square), in `unit`. */
  size: number;
  unit: SizeUnit;
  /** 3D ball/box, or a disc/square on the slice across `sliceAxis`. */
  threeD: boolean;
  /** Index axis normal to the painted slice (2D brush). */
  sliceAxis: number;
}

/** Which voxels painting may change (ITK-SNAP's "paint over"). */
export type PaintOver = { mode: 'all' } | { mode: 'background' } | { mode: 'label'; label: number };

export function canPaintOver(current: number, rule: PaintOver): boolean {
  if (rule.mode === 'all') return true;
  if (rule.mode === 'background') return current === 0;
  return current === rule.label;
}

/**
 * Calls visit(linearIndex) for every voxel of the brush centred at continuous index `c`
 * (clipped to the volume).
 */
export function brushVoxels(g: Pick<ImageGeometry, 'dims' | 'spacing'>, c: Vec3, o: BrushOptions, visit: (i: number) => void): void {
  const [nx, ny, nz] = g.dims;
  const unit = o.unit === 'mm' ? g.spacing : ([1, 1, 1] as Vec3);
  const r = Math.max(0, o.size) / 2;
  const centre: number[] = [0, 0, 0];
  const lo: number[] = [0, 0, 0];
  const hi: number[] = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    if (!o.threeD && a === o.sliceAxis) {
      centre[a] = Math.round(c[a]);
      lo[a] = hi[a] = centre[a];
      continue;
    }
    if (o.unit === 'voxel') {
      const n = Math.max(1, Math.round(o.size));
      centre[a] = n % 2 ? Math.round(c[a]) : Math.floor(c[a]) + 0.5;
    } else centre[a] = c[a];
    // Half a voxel of slack so a brush smaller than a voxel still paints the voxel under it.
    const ext = Math.max(r / unit[a], 0);
    lo[a] = Math.ceil(centre[a] - ext - 1e-9);
    hi[a] = Math.floor(centre[a] + ext + 1e-9);
    if (hi[a] < lo[a]) lo[a] = hi[a] = Math.round(c[a]);
  }
  const r2 = r * r + 1e-9;
  const single = o.unit === 'mm' && r < Math.min(...[0, 1, 2].filter((a) => o.threeD || a !== o.sliceAxis).map((a) => unit[a])) / 2;
  for (let k = Math.max(0, lo[2]); k <= Math.min(nz - 1, hi[2]); k++) {
    const dk = (o.threeD || o.sliceAxis !== 2 ? k - centre[2] : 0) * unit[2];
    for (let j = Math.max(0, lo[1]); j <= Math.min(ny - 1, hi[1]); j++) {
      const dj = (o.threeD || o.sliceAxis !== 1 ? j - centre[1] : 0) * unit[1];
      for (let i = Math.max(0, lo[0]); i <= Math.min(nx - 1, hi[0]); i++) {
        const di = (o.threeD || o.sliceAxis !== 0 ? i - centre[0] : 0) * unit[0];
        const inside = single || (o.shape === 'round' ? di * di + dj * dj + dk * dk <= r2 : Math.abs(di) <= r + 1e-9 && Math.abs(dj) <= r + 1e-9 && Math.abs(dk) <= r + 1e-9);
        if (inside) visit(i + nx * (j + ny * k));
      }
    }
  }
}

/**
 * Writes `label` (0 = erase) into the voxels `visit` lists, where the paint-over rule allows.
 * Erasing (label 0) with the rule "background" clears any label (there is nothing to erase
 * in the background). Returns the number of voxels changed.
 */
export function paintVoxels(rec: EditRecorder, label: number, rule: PaintOver, each: (visit: (i: number) => void) => void): number {
  const data = rec.data;
  const r: PaintOver = label === 0 && rule.mode === 'background' ? { mode: 'all' } : rule;
  let n = 0;
  each((i) => {
    if (canPaintOver(data[i], r) && rec.set(i, label)) n++;
  });
  return n;
}

/** Paints one brush stamp. */
export function paintBrush(rec: EditRecorder, g: Pick<ImageGeometry, 'dims' | 'spacing'>, c: Vec3, brush: BrushOptions, label: number, rule: PaintOver): number {
  return paintVoxels(rec, label, rule, (visit) => brushVoxels(g, c, brush, visit));
}

/**
 * Paints stamps along the segment a → b (continuous indices), spaced so that a fast drag
 * leaves no gaps (at most half the brush size, and at most one voxel, apart).
 */
export function paintStroke(rec: EditRecorder, g: Pick<ImageGeometry, 'dims' | 'spacing'>, a: Vec3, b: Vec3, brush: BrushOptions, label: number, rule: PaintOver): number {
  const unit = brush.unit === 'mm' ? g.spacing : ([1, 1, 1] as Vec3);
  const len = Math.hypot((b[0] - a[0]) * unit[0], (b[1] - a[1]) * unit[1], (b[2] - a[2]) * unit[2]);
  const vox = Math.hypot(b[0] - a[0], b[1] - a[1], b[2] - a[2]);
  const steps = Math.max(1, Math.ceil(Math.max(len / Math.max(brush.size / 2, 1e-6), vox)));
  let n = 0;
  const seen = new Set<number>();
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    const c: Vec3 = [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
    n += paintVoxels(rec, label, rule, (visit) =>
      brushVoxels(g, c, brush, (i) => {
        if (!seen.has(i)) {
          seen.add(i);
          visit(i);
        }
      }),
    );
  }
  return n;
}

/** Number of voxels with each value (for the label table's counts). */
export function labelCounts(data: VoxelArray, n = data.length): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (v !== 0) m.set(v, (m.get(v) ?? 0) + 1);
  }
  return m;
}
