/**
 * Hand editing of label volumes (src-shared/segmentation): label table and ITK-SNAP label
 * files, brush stamps (voxel and mm sizes, anisotropic spacing), paint-over rules, undo/redo
 * of voxel runs, polygon scan fill with holes, flood fill, and RT-style contour rasterisation
 * on an oblique anisotropic grid, each against a brute-force reference written here.
 */
import { describe, expect, it } from 'vitest';
import type { ImageGeometry, Mat3, Vec3 } from '../src-shared/image/volume';
import { indexToWorld } from '../src-shared/geometry/geometry';
import { ITK_SNAP_COLORS, defaultLabel, defaultLabelTable, labelLut, labelSidecar, parseItkSnapLabels, parseLabelSidecar, writeItkSnapLabels, LabelFileError } from '../src-shared/segmentation/label-table';
import { EditHistory, EditRecorder } from '../src-shared/segmentation/edit-history';
import { brushVoxels, paintBrush, paintStroke, type BrushOptions } from '../src-shared/segmentation/paint';
import { insideRings, scanFill, fillSliceVoxels } from '../src-shared/segmentation/polygon-fill';
import { floodRegion } from '../src-shared/segmentation/flood-fill';
import { rasterizeContours } from '../src-shared/segmentation/rasterize-contours';
import { rotationMatrix } from './registration-helpers';

const ITK_FILE = `################################################
# ITK-SnAP Label Description File
# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL
################################################
    0     0    0    0        0  0  0    "Clear Label"
    1   255    0    0        1  1  1    "Liver"
    2     0  255    0      0.5  0  1    "Spleen, left"
   17    10   20   30        1  1  0    "Tumour \\"A\\""
`;

describe('label table', () => {
  it('uses ITK-SNAP default colours and names', () => {
    expect(defaultLabel(1)).toMatchObject({ name: 'Label 1', color: [255, 0, 0], opacity: 1, visible: true });
    expect(defaultLabel(7).color).toEqual([0xff, 0xef, 0xd5]);
    expect(defaultLabel(131).color).toEqual(defaultLabel(1).color); // wraps after 130 colours
    expect(ITK_SNAP_COLORS).toHaveLength(130);
    expect(defaultLabelTable().map((l) => l.value)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('parses and writes ITK-SNAP label description files', () => {
    const t = parseItkSnapLabels(ITK_FILE.replace('"Tumour \\"A\\""', '"Tumour A"'));
    expect(t.map((l) => l.value)).toEqual([1, 2, 17]);
    expect(t[1]).toMatchObject({ name: 'Spleen, left', color: [0, 255, 0], opacity: 0.5, visible: false, visible3D: true });
    const again = parseItkSnapLabels(writeItkSnapLabels(t));
    expect(again).toEqual(t);
    expect(writeItkSnapLabels(t)).toContain('"Clear Label"');
    expect(() => parseItkSnapLabels('1 2 3')).toThrow(LabelFileError);
    expect(() => parseItkSnapLabels('1 300 0 0 1 1 1 "x"')).toThrow(/0…255/);
  });

  it('round-trips the JSON sidecar', () => {
    const t = [{ ...defaultLabel(3), name: 'Bladder', opacity: 0.25 }];
    expect(parseLabelSidecar(JSON.parse(JSON.stringify(labelSidecar(t))))).toEqual([{ value: 3, name: 'Bladder', color: [0, 0, 255], opacity: 0.25, visible: true }]);
    expect(() => parseLabelSidecar({})).toThrow(LabelFileError);
  });

  it('builds a LUT that maps value v to entry v (hidden labels transparent)', () => {
    const t = [defaultLabel(1), { ...defaultLabel(2), visible: false }, { ...defaultLabel(3), opacity: 0.5 }];
    const { lut, window, level } = labelLut(t, 3);
    expect(lut.length / 4 - 1).toBe(window);
    expect(level).toBe(window / 2);
    expect([...lut.slice(4, 8)]).toEqual([255, 0, 0, 255]);
    expect(lut[2 * 4 + 3]).toBe(0);
    expect(lut[3 * 4 + 3]).toBe(128);
    expect(lut[3]).toBe(0); // the clear label
  });
});

function collect(g: Pick<ImageGeometry, 'dims' | 'spacing'>, c: Vec3, o: BrushOptions): Set<number> {
  const s = new Set<number>();
  brushVoxels(g, c, o, (i) => s.add(i));
  return s;
}

describe('brush', () => {
  const g = { dims: [40, 40, 20] as Vec3, spacing: [0.5, 1, 2.5] as Vec3 };
  const idx = (i: number, j: number, k: number) => i + 40 * (j + 40 * k);

  it('round brush in mm is an ellipse in voxels on anisotropic grids (brute force)', () => {
    const c: Vec3 = [20.2, 19.7, 10];
    for (const threeD of [false, true]) {
      const got = collect(g, c, { shape: 'round', size: 8, unit: 'mm', threeD, sliceAxis: 2 });
      const want = new Set<number>();
      for (let k = 0; k < 20; k++)
        for (let j = 0; j < 40; j++)
          for (let i = 0; i < 40; i++) {
            if (!threeD && k !== 10) continue;
            const d = Math.hypot((i - c[0]) * 0.5, (j - c[1]) * 1, threeD ? (k - c[2]) * 2.5 : 0);
            if (d <= 4) want.add(idx(i, j, k));
          }
      expect(got).toEqual(want);
      expect(got.size).toBeGreaterThan(threeD ? 100 : 40);
    }
  });

  it('voxel sizes: n voxels across, square and round, clipped at the border', () => {
    const sq = collect(g, [10, 10, 5], { shape: 'square', size: 3, unit: 'voxel', threeD: false, sliceAxis: 2 });
    expect(sq.size).toBe(9);
    const sq4 = collect(g, [10.3, 10.3, 5], { shape: 'square', size: 4, unit: 'voxel', threeD: false, sliceAxis: 2 });
    expect(sq4.size).toBe(16);
    expect(collect(g, [10, 10, 5], { shape: 'round', size: 1, unit: 'voxel', threeD: true, sliceAxis: 2 }).size).toBe(1);
    const cube = collect(g, [0, 0, 0], { shape: 'square', size: 3, unit: 'voxel', threeD: true, sliceAxis: 2 });
    expect(cube.size).toBe(8);
    // Coronal slice (axis j): only j = 10 is touched.
    const cor = collect(g, [10, 10.4, 5], { shape: 'round', size: 5, unit: 'voxel', threeD: false, sliceAxis: 1 });
    for (const i of cor) expect(Math.floor(i / 40) % 40).toBe(10);
    // A brush smaller than a voxel still paints the voxel under it.
    expect(collect(g, [3.4, 3.4, 3.4], { shape: 'round', size: 0.2, unit: 'mm', threeD: true, sliceAxis: 2 })).toEqual(new Set([idx(3, 3, 3)]));
  });

  it('paint-over rules, eraser, and undo/redo of voxel runs', () => {
    const data = new Uint8Array(40 * 40 * 20);
    data[idx(10, 10, 5)] = 2;
    data[idx(11, 10, 5)] = 3;
    const hist = new EditHistory();
    const brush: BrushOptions = { shape: 'square', size: 3, unit: 'voxel', threeD: false, sliceAxis: 2 };
    let rec = new EditRecorder(data);
    expect(paintBrush(rec, g, [10, 10, 5], brush, 1, { mode: 'background' })).toBe(7);
    expect(data[idx(10, 10, 5)]).toBe(2);
    hist.push(rec.finish());
    rec = new EditRecorder(data);
    expect(paintBrush(rec, g, [10, 10, 5], brush, 4, { mode: 'label', label: 3 })).toBe(1);
    expect(data[idx(11, 10, 5)]).toBe(4);
    hist.push(rec.finish());
    const snapshot = data.slice();
    rec = new EditRecorder(data);
    paintBrush(rec, g, [10, 10, 5], brush, 0, { mode: 'all' }); // eraser
    const e = rec.finish()!;
    expect(e.count).toBe(9);
    expect(e.starts.length).toBe(3); // three rows of three voxels
    hist.push(e);
    expect([...data.slice(idx(9, 9, 5), idx(12, 9, 5))]).toEqual([0, 0, 0]);
    hist.undo(data);
    expect(data).toEqual(snapshot);
    hist.undo(data);
    hist.undo(data);
    expect(data.reduce((s, v) => s + v, 0)).toBe(5);
    expect(hist.canUndo).toBe(false);
    hist.redo(data);
    hist.redo(data);
    expect(data).toEqual(snapshot);
    // A new edit drops the redo stack.
    rec = new EditRecorder(data);
    paintStroke(rec, g, [2, 2, 5], [30, 2, 5], brush, 5, { mode: 'all' });
    hist.push(rec.finish());
    expect(hist.canRedo).toBe(false);
    for (let i = 1; i <= 31; i++) expect(data[idx(i, 2, 5)]).toBe(5); // no gaps along the stroke
  });
});

describe('polygon fill', () => {
  it('fills voxel centres inside by the even-odd rule (holes stay empty)', () => {
    const outer: [number, number][] = [[2.3, 1.7], [27.6, 3.2], [25.1, 24.8], [4.4, 20.1]];
    const hole: [number, number][] = [[10.2, 8.3], [17.7, 8.9], [14.1, 15.6]];
    const got = new Set<number>();
    scanFill([outer, hole], 30, 30, (u, v) => got.add(u + 30 * v));
    const want = new Set<number>();
    for (let v = 0; v < 30; v++)
      for (let u = 0; u < 30; u++) {
        // Independent ray casting to the left.
        let n = 0;
        for (const r of [outer, hole])
          for (let a = 0; a < r.length; a++) {
            const [x0, y0] = r[a];
            const [x1, y1] = r[(a + 1) % r.length];
            if (y0 > v !== y1 > v && u > x0 + ((v - y0) * (x1 - x0)) / (y1 - y0)) n++;
          }
        if (n % 2) want.add(u + 30 * v);
      }
    expect(got).toEqual(want);
    expect(got.size).toBeGreaterThan(300);
    expect(got.has(14 + 30 * 11)).toBe(false); // in the hole
    expect(insideRings([outer, hole], 14, 11)).toBe(false);
    expect(insideRings([outer, hole], 5, 5)).toBe(true);
  });

  it('fills a square exactly and clips to the slice', () => {
    const got: number[] = [];
    fillSliceVoxels([10, 8, 6], 1, 3, [[[-2.5, -2.5], [2.5, -2.5], [2.5, 2.5], [-2.5, 2.5]]], (i) => got.push(i));
    // u = i in 0..2, v = k in 0..2 at j = 3.
    expect(got.sort((a, b) => a - b)).toEqual([0, 1, 2].flatMap((k) => [0, 1, 2].map((i) => i + 10 * (3 + 8 * k))).sort((a, b) => a - b));
  });
});

describe('flood fill', () => {
  it('fills the connected region of the seed label, 2D or 3D, with an extra condition', () => {
    const d = [12, 12, 4];
    const lab = new Uint8Array(12 * 12 * 4);
    // A wall of label 1 at i = 6 splits each slice; slice k = 2 has a gap at j = 0.
    for (let k = 0; k < 4; k++) for (let j = 0; j < 12; j++) lab[6 + 12 * (j + 12 * k)] = 1;
    lab[6 + 12 * (0 + 12 * 2)] = 0;
    const r2 = floodRegion(lab, d, [0, 5, 1], { threeD: false, sliceAxis: 2 });
    expect(r2.length).toBe(6 * 12);
    const r3 = floodRegion(lab, d, [0, 5, 1], { threeD: true, sliceAxis: 2 });
    expect(r3.length).toBe(12 * 12 * 4 - 12 * 4 + 1);
    const lim = floodRegion(lab, d, [0, 5, 1], { threeD: true, sliceAxis: 2, accept: (i) => i % 12 < 3 });
    expect(lim.length).toBe(3 * 12 * 4);
    expect(floodRegion(lab, d, [6, 3, 1], { threeD: true, sliceAxis: 2 }).length).toBe(12 * 4 - 1);
  });
});

describe('contour rasterisation', () => {
  it('rasterises world contours exactly on an oblique, anisotropic grid (holes respected)', () => {
    const direction = rotationMatrix(0.3, -0.2, 0.5) as Mat3;
    const g: ImageGeometry = { dims: [40, 36, 12], spacing: [0.8, 1.1, 3], origin: [-10, 4, 7], direction };
    // Contours drawn in index space on slices 4 and 5, then mapped to world mm.
    const ring = (pts: [number, number][], k: number) => pts.flatMap(([i, j]) => indexToWorld(g, [i, j, k]));
    const outer: [number, number][] = [[3.3, 2.6], [30.2, 4.1], [33.7, 28.4], [6.1, 31.2]];
    const hole: [number, number][] = [[12.4, 11.2], [20.6, 12.1], [18.3, 20.7], [11.1, 19.4]];
    const contours = [ring(outer, 4), ring(hole, 4), ring(outer, 5.2), ring(hole, 13)];
    const out = new Uint8Array(40 * 36 * 12);
    const r = rasterizeContours(g, contours, out, 7);
    expect(r.skipped).toBe(1); // slice 13 is outside
    let n = 0;
    for (let k = 0; k < 12; k++)
      for (let j = 0; j < 36; j++)
        for (let i = 0; i < 40; i++) {
          const rings = k === 4 ? [outer, hole] : k === 5 ? [outer] : [];
          const want = rings.length > 0 && insideRings(rings, i, j);
          expect(out[i + 40 * (j + 36 * k)]).toBe(want ? 7 : 0);
          if (want) n++;
        }
    expect(n).toBeGreaterThan(1000);
  });
});
