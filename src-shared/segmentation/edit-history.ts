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

/**
 * Collects changes of one edit; the first old value of a voxel wins. A bit per voxel marks
 * what was touched (n/8 bytes, allocated on the first change) and the touched indices and
 * old values go to growing typed arrays, so a 3D fill of millions of voxels stays cheap.
 */
export class EditRecorder {
  private seen: Uint8Array | null = null;
  private idx = new Uint32Array(256);
  private old = new Float64Array(256);
  private n = 0;
  constructor(readonly data: VoxelArray) {}

  /** Writes data[i] = value (recording the old value the first time i is touched). */
  set(i: number, value: number): boolean {
    const cur = this.data[i];
    if (cur === value) return false;
    const seen = (this.seen ??= new Uint8Array((this.data.length + 7) >> 3));
    const bit = 1 << (i & 7);
    if (!(seen[i >> 3] & bit)) {
      seen[i >> 3] |= bit;
      if (this.n === this.idx.length) {
        const a = new Uint32Array(this.n * 2);
        a.set(this.idx);
        this.idx = a;
        const b = new Float64Array(this.n * 2);
        b.set(this.old);
        this.old = b;
      }
      this.idx[this.n] = i;
      this.old[this.n++] = cur;
    }
    this.data[i] = value;
    return true;
  }

  get changed(): number {
    return this.n;
  }

  /** The edit as runs; voxels painted and painted back to their old value are left out. */
  finish(): VoxelEdit | null {
    // Sort the touched voxels by index (with their old values).
    const order = new Uint32Array(this.n);
    for (let k = 0; k < this.n; k++) order[k] = k;
    const idx = this.idx;
    order.sort((a, b) => idx[a] - idx[b]);
    const keep: number[] = [];
    for (let q = 0; q < this.n; q++) {
      const k = order[q];
      if (this.data[idx[k]] !== this.old[k]) keep.push(k);
    }
    if (!keep.length) return null;
    const count = keep.length;
    const starts: number[] = [];
    const lengths: number[] = [];
    const before = new Float64Array(count);
    const after = new Float64Array(count);
    let prev = -2;
    keep.forEach((k, q) => {
      const i = idx[k];
      if (i === prev + 1) lengths[lengths.length - 1]++;
      else {
        starts.push(i);
        lengths.push(1);
      }
      prev = i;
      before[q] = this.old[k];
      after[q] = this.data[i];
    });
    return { starts: Uint32Array.from(starts), lengths: Uint32Array.from(lengths), before, after, count, min: idx[keep[0]], max: idx[keep[count - 1]] };
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
