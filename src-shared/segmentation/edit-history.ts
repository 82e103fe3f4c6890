/**
 * Undo/redo of label edits without whole-volume copies: an edit (one brush stroke, one
 * polygon, one fill) is recorded as the runs of consecutive voxel indices it changed, each
 * with the values before and after. Undo writes the old values back, redo the new ones.
 *
 *   const rec = new EditRecorder(data);     // during the stroke:
 *   rec.set(i, 3);                          // writes data[i] = 3, remembering the first old value
 *   history.push(rec.finish());             // at the end: sorted runs (null when nothing changed)
 *   history.undo(data) / history.redo(data) // → the edit applied, or null when there is none
 */
import type { VoxelArray } from '../image/volume';

export interface VoxelEdit {
  /** First voxel index of each run. */
  starts: Uint32Array;
  /** Length of each run. */
  lengths: Uint32Array;
  /** Values before and after, run after run (sum of lengths entries). */
  before: Float64Array;
  after: Float64Array;
  /** Changed voxels. */
  count: number;
  /** Bounding range of changed indices [min, max] (for redraw / upload). */
  min: number;
  max: number;
}

/** Collects changes of one edit; the first old value of a voxel wins. */
export class EditRecorder {
  private readonly old = new Map<number, number>();
  constructor(readonly data: VoxelArray) {}

  /** Writes data[i] = value (recording the old value the first time i is touched). */
  set(i: number, value: number): boolean {
    const cur = this.data[i];
    if (cur === value) return false;
    if (!this.old.has(i)) this.old.set(i, cur);
    this.data[i] = value;
    return true;
  }

  get changed(): number {
    return this.old.size;
  }

  /** The edit as runs; voxels painted and painted back to their old value are left out. */
  finish(): VoxelEdit | null {
    const idx = [...this.old.keys()].filter((i) => this.data[i] !== this.old.get(i)).sort((a, b) => a - b);
    if (!idx.length) return null;
    const starts: number[] = [];
    const lengths: number[] = [];
    for (let k = 0; k < idx.length; k++) {
      if (k > 0 && idx[k] === idx[k - 1] + 1) lengths[lengths.length - 1]++;
      else {
        starts.push(idx[k]);
        lengths.push(1);
      }
    }
    const before = new Float64Array(idx.length);
    const after = new Float64Array(idx.length);
    idx.forEach((i, k) => {
      before[k] = this.old.get(i)!;
      after[k] = this.data[i];
    });
    return { starts: Uint32Array.from(starts), lengths: Uint32Array.from(lengths), before, after, count: idx.length, min: idx[0], max: idx[idx.length - 1] };
  }
}

/** Writes an edit's old (undo) or new (redo) values into `data`. */
export function applyEdit(data: VoxelArray, e: VoxelEdit, which: 'before' | 'after'): void {
  const vals = e[which];
  let k = 0;
  for (let r = 0; r < e.starts.length; r++) {
    const s = e.starts[r];
    const n = e.lengths[r];
    for (let j = 0; j < n; j++) data[s + j] = vals[k++];
  }
}

/** Bytes an edit keeps (for the history's memory cap). */
export function editBytes(e: VoxelEdit): number {
  return e.starts.byteLength + e.lengths.byteLength + e.before.byteLength + e.after.byteLength;
}

/** Undo/redo stacks of one label layer, capped in memory (oldest edits dropped first). */
export class EditHistory {
  private done: VoxelEdit[] = [];
  private undone: VoxelEdit[] = [];
  constructor(private readonly maxBytes = 256 * 1024 * 1024) {}

  push(e: VoxelEdit | null): void {
    if (!e) return;
    this.done.push(e);
    this.undone = [];
    let total = this.done.reduce((s, x) => s + editBytes(x), 0);
    while (this.done.length > 1 && total > this.maxBytes) total -= editBytes(this.done.shift()!);
  }

  get canUndo(): boolean {
    return this.done.length > 0;
  }
  get canRedo(): boolean {
    return this.undone.length > 0;
  }
  get depth(): [number, number] {
    return [this.done.length, this.undone.length];
  }

  undo(data: VoxelArray): VoxelEdit | null {
    const e = this.done.pop();
    if (!e) return null;
    applyEdit(data, e, 'before');
    this.undone.push(e);
    return e;
  }

  redo(data: VoxelArray): VoxelEdit | null {
    const e = this.undone.pop();
    if (!e) return null;
    applyEdit(data, e, 'after');
    this.done.push(e);
    return e;
  }

  clear(): void {
    this.done = [];
    this.undone = [];
  }
}
