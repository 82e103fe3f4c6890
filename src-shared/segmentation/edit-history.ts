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

/** Voxels per page of old values (EditRecorder). */
const PAGE_BITS = 12;
const PAGE = 1 << PAGE_BITS;

/**
 * Collects changes of one edit; the first old value of a voxel wins. A bit per voxel marks
 * what was touched (n/8 bytes, allocated on the first change) and old values live in pages of
 * 4096 voxels allocated where something changed, so recording is O(1) per voxel and finishing
 * walks the touched pages in index order: no sort, no hash map, even for a 3D fill of millions
 * of voxels, and a brush stroke costs a few pages.
 */
export class EditRecorder {
  private seen: Uint8Array | null = null;
  private pages: (VoxelArray | undefined)[] = [];
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
      const p = i >> PAGE_BITS;
      let page = this.pages[p];
      if (!page) page = this.pages[p] = new (this.data.constructor as new (n: number) => VoxelArray)(PAGE);
      page[i & (PAGE - 1)] = cur;
      this.n++;
    }
    this.data[i] = value;
    return true;
  }

  get changed(): number {
    return this.n;
  }

  /** Calls f(i, old) for every touched voxel whose value differs from its old one, in index order. */
  private each(f: (i: number, old: number) => void): void {
    const seen = this.seen;
    if (!seen) return;
    const data = this.data;
    for (let p = 0; p < this.pages.length; p++) {
      const page = this.pages[p];
      if (!page) continue;
      const b0 = (p << PAGE_BITS) >> 3;
      const b1 = Math.min(seen.length, b0 + (PAGE >> 3));
      for (let b = b0; b < b1; b++) {
        const byte = seen[b];
        if (!byte) continue;
        for (let t = 0; t < 8; t++) {
          if (!(byte & (1 << t))) continue;
          const i = (b << 3) + t;
          const old = page[i & (PAGE - 1)];
          if (data[i] !== old) f(i, old);
        }
      }
    }
  }

  /** The edit as runs; voxels painted and painted back to their old value are left out. */
  finish(): VoxelEdit | null {
    let count = 0;
    let runs = 0;
    let prev = -2;
    this.each((i) => {
      if (i !== prev + 1) runs++;
      prev = i;
      count++;
    });
    if (!count) return null;
    const starts = new Uint32Array(runs);
    const lengths = new Uint32Array(runs);
    const before = new Float64Array(count);
    const after = new Float64Array(count);
    let q = 0;
    let r = -1;
    let min = -1;
    prev = -2;
    this.each((i, old) => {
      if (i !== prev + 1) starts[++r] = i;
      lengths[r]++;
      prev = i;
      if (min < 0) min = i;
      before[q] = old;
      after[q++] = this.data[i];
    });
    return { starts, lengths, before, after, count, min, max: prev };
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
