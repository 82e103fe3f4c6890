// Unit tests for the viewer's stores and its pure slice geometry (no DOM, no vtk).
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { Mat3, Vec3, Volume } from '../src-shared/image/volume';
import { useImagesStore } from '../src-renderer/stores/images';
import { useViewStore } from '../src-renderer/stores/view';
import { useWindowLevelStore } from '../src-renderer/stores/window-level';
import { type LoaderBackend, type SeriesSummary, useLoadingStore } from '../src-renderer/stores/loading';
import {
  edgeLetters,
  gridToWorld,
  indexToWorld,
  isAxisAligned,
  orientationLetters,
  sliceGrid,
  worldToContinuousIndex,
  worldToGrid,
  nearestVoxelIndex,
} from '../src-renderer/rendering/slice-geometry';
import { extractSlice, percentileRange, windowLevelToRgba } from '../src-renderer/rendering/slice-extract';

/** value = i + 100·j + 10000·k (int32), so every voxel says where it is. */
function codedVolume(dims: Vec3, spacing: Vec3, origin: Vec3, direction: Mat3, extra: Partial<Volume> = {}): Volume {
  const data = new Int32Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0, o = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) data[o++] = i + 100 * j + 10000 * k;
  return { dims, spacing, origin, direction, data, voxelType: 'int32', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {}, ...extra };
}
const decode = (v: number): Vec3 => [v % 100, Math.floor(v / 100) % 100, Math.floor(v / 10000)];

function rotZ(deg: number): Mat3 {
  const c = Math.cos((deg * Math.PI) / 180);
  const s = Math.sin((deg * Math.PI) / 180);
  return [c, -s, 0, s, c, 0, 0, 0, 1];
}
/** Rotation about x then z, as an oblique acquisition. */
function oblique(): Mat3 {
  const a = (20 * Math.PI) / 180;
  const rx: Mat3 = [1, 0, 0, 0, Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a)];
  const rz = rotZ(25);
  const m = new Array(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) m[r * 3 + c] += rz[r * 3 + k] * rx[k * 3 + c];
  return m as Mat3;
}

describe('orientation letters', () => {
  it('radiological convention: patient left on screen right; sagittal anterior on the left', () => {
    expect(edgeLetters('axial')).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
    expect(edgeLetters('coronal')).toEqual({ left: 'R', right: 'L', top: 'S', bottom: 'I' });
    expect(edgeLetters('sagittal')).toEqual({ left: 'A', right: 'P', top: 'S', bottom: 'I' });
  });
  it('neurological convention swaps left and right in axial and coronal only', () => {
    expect(edgeLetters('axial', 'neurological')).toEqual({ left: 'L', right: 'R', top: 'A', bottom: 'P' });
    expect(edgeLetters('coronal', 'neurological')).toEqual({ left: 'L', right: 'R', top: 'S', bottom: 'I' });
    expect(edgeLetters('sagittal', 'neurological')).toEqual(edgeLetters('sagittal'));
  });
  it('oblique directions give the main letter first', () => {
    expect(orientationLetters([0.9, -0.3, 0])).toBe('LA');
    expect(orientationLetters([-0.2, 0, -0.95])).toBe('IR');
    expect(orientationLetters([0.01, 1, 0])).toBe('P');
  });
});

describe('slice geometry and reslicing', () => {
  it('an axis-aligned feet-first image is sampled once per voxel, in patient orientation', () => {
    // i → patient right (−x), j → anterior (−y), k → inferior (−z): every axis reversed.
    const vol = codedVolume([6, 5, 4], [0.8, 0.6, 2.5], [10, -20, 30], [-1, 0, 0, 0, -1, 0, 0, 0, -1]);
    expect(isAxisAligned(vol)).toBe(true);
    const g = sliceGrid(vol, 'axial');
    expect([g.width, g.height, g.pixelRight, g.pixelDown]).toEqual([6, 5, 0.8, 0.6]);
    const cursor = indexToWorld(vol, [2, 3, 1]);
    const s = extractSlice(vol, g, cursor);
    // Screen right = patient left = +x = decreasing i: the right-most column is i = 0.
    expect(decode(s[5])).toEqual([0, 4, 1]); // top-right: i=0, anterior-most (top) = j=4
    expect(decode(s[0])).toEqual([5, 4, 1]);
    expect(decode(s[4 * 6 + 5])).toEqual([0, 0, 1]);
    // Coronal: top = superior = k = 0 (k runs inferior); sagittal: left = anterior = j max.
    const c = sliceGrid(vol, 'coronal');
    const cs = extractSlice(vol, c, cursor);
    expect([c.width, c.height]).toEqual([6, 4]);
    expect(decode(cs[0])).toEqual([5, 3, 0]);
    const sg = sliceGrid(vol, 'sagittal');
    const ss = extractSlice(vol, sg, cursor);
    expect([sg.width, sg.height]).toEqual([5, 4]);
    expect(decode(ss[0])).toEqual([2, 4, 0]);
    expect(decode(ss[4])).toEqual([2, 0, 0]);
  });

  it('an oblique image is resliced: every pixel holds the voxel nearest its world position', () => {
    const vol = codedVolume([20, 18, 12], [1.1, 0.9, 3], [-5, 7, 12], oblique());
    expect(isAxisAligned(vol)).toBe(false);
    const cursor = indexToWorld(vol, [10, 9, 6]);
    for (const view of ['axial', 'coronal', 'sagittal'] as const) {
      const g = sliceGrid(vol, view);
      const s = extractSlice(vol, g, cursor);
      let inside = 0;
      for (let r = 0; r < g.height; r += 3) {
        for (let c = 0; c < g.width; c += 3) {
          const p = gridToWorld(g, c, r, cursor);
          const ci = worldToContinuousIndex(vol, p);
          const v = s[r * g.width + c];
          const out = ci.some((x, a) => x < -0.5 || x >= vol.dims[a] - 0.5);
          if (out) {
            expect(Number.isNaN(v)).toBe(true);
            continue;
          }
          inside++;
          const ijk = decode(v);
          for (let a = 0; a < 3; a++) expect(Math.abs(ijk[a] - ci[a])).toBeLessThanOrEqual(0.5 + 1e-6);
        }
      }
      expect(inside).toBeGreaterThan(10);
      // The plane passes through the cursor voxel: the pixel under the cursor holds it.
      const [cc, rr] = worldToGrid(g, cursor).map(Math.round);
      expect(decode(s[rr * g.width + cc])).toEqual([10, 9, 6]);
    }
  });

  it('a sagittal acquisition (permuted, reversed index axes) shows every pixel from its own voxel', () => {
    // i → anterior (−y), j → inferior (−z), k → left (+x): a typical sagittal stack.
    const vol = codedVolume([7, 6, 5], [0.9, 1.2, 3], [-30, 40, 60], [0, 0, 1, -1, 0, 0, 0, -1, 0]);
    expect(isAxisAligned(vol)).toBe(true);
    const cursor = indexToWorld(vol, [3, 2, 4]);
    for (const view of ['axial', 'coronal', 'sagittal'] as const) {
      const g = sliceGrid(vol, view);
      const s = extractSlice(vol, g, cursor);
      for (let r = 0; r < g.height; r++) {
        for (let c = 0; c < g.width; c++) {
          const ci = worldToContinuousIndex(vol, gridToWorld(g, c, r, cursor));
          // Pixel centres are voxel centres.
          ci.forEach((x) => expect(Math.abs(x - Math.round(x))).toBeLessThan(1e-6));
          expect(decode(s[r * g.width + c])).toEqual(ci.map(Math.round));
        }
      }
    }
    // The sagittal view of a sagittal stack is one acquired slice: 7 × 6 pixels at the k of the cursor.
    const sg = sliceGrid(vol, 'sagittal');
    expect([sg.width, sg.height, sg.pixelRight, sg.pixelDown]).toEqual([7, 6, 0.9, 1.2]);
  });

  it('world ↔ index round trip with anisotropic oblique geometry', () => {
    const vol = codedVolume([20, 18, 12], [1.1, 0.9, 3], [-5, 7, 12], oblique());
    const p = indexToWorld(vol, [3, 17, 11]);
    const ci = worldToContinuousIndex(vol, p);
    ci.forEach((x, a) => expect(x).toBeCloseTo([3, 17, 11][a], 9));
    expect(nearestVoxelIndex(vol, [p[0] + 0.2, p[1], p[2]])).toEqual([3, 17, 11]);
    expect(nearestVoxelIndex(vol, [1e6, 1e6, 1e6]).every((x, a) => x >= 0 && x < vol.dims[a])).toBe(true);
  });

  it('window/level maps real values through slope and intercept', () => {
    const s = new Float32Array([1024, 1064, 1104, 0, NaN]); // stored; real = stored − 1024
    const rgba = windowLevelToRgba(s, 1, -1024, 80, 40);
    expect([rgba[0], rgba[4], rgba[8], rgba[12]]).toEqual([0, 128, 255, 0]);
    expect(rgba[3]).toBe(255);
    expect(Array.from(rgba.slice(16, 20))).toEqual([0, 0, 0, 255]); // outside the image: opaque black
    const clear = windowLevelToRgba(s, 1, -1024, 80, 40, undefined, [0, 0, 0, 0]);
    expect(Array.from(clear.slice(16, 20))).toEqual([0, 0, 0, 0]);
  });
});

function ctVolume(): Volume {
  const v = codedVolume([8, 8, 5], [0.7, 0.7, 5], [0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1], {
    rescaleIntercept: -1024,
    rescaleSlope: 1,
    metadata: { Modality: 'CT' },
  });
  return v;
}

describe('images store', () => {
  beforeEach(() => setActivePinia(createPinia()));
  it('a main image replaces everything; others need a main image; CT is in HU', () => {
    const images = useImagesStore();
    expect(() => images.add({ name: 'x', role: 'overlay', volume: ctVolume(), modality: 'CT', source: '/a' })).toThrow(/main image/);
    const a = images.add({ name: 'a', role: 'main', volume: ctVolume(), modality: 'CT', source: '/a' });
    expect(a.units).toBe('HU');
    images.add({ name: 'b', role: 'additional', volume: ctVolume(), modality: 'MR', source: '/b' });
    expect(images.images.map((i) => i.name)).toEqual(['a', 'b']);
    images.add({ name: 'c', role: 'main', volume: ctVolume(), modality: 'MR', source: '/c' });
    expect(images.images.map((i) => i.name)).toEqual(['c']);
    expect(images.main?.units).toBe('');
    images.remove(images.main!.id);
    expect(images.hasImage).toBe(false);
  });
});

describe('view store (3D cursor)', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('centres the cursor on a new main image and reports the real value', () => {
    const images = useImagesStore();
    const view = useViewStore();
    images.add({ name: 'ct', role: 'main', volume: ctVolume(), modality: 'CT', source: '' });
    expect(view.cursor).toEqual([4, 4, 2]);
    expect(view.cursorValue).toBe(4 + 400 + 20000 - 1024);
    view.setCursorIndex([1, 2, 3]);
    expect(view.cursorWorld).toEqual([0.7, 1.4, 15]);
    expect(view.cursorValue).toBe(1 + 200 + 30000 - 1024);
    view.setCursorIndex([99, -3, 2.6]);
    expect(view.cursor).toEqual([7, 0, 3]);
  });

  it('slice steps move toward the view normal whatever the index order', () => {
    const images = useImagesStore();
    const view = useViewStore();
    // Feet-first: k runs inferior. "Next axial slice" (superior) is k − 1.
    const v = codedVolume([6, 5, 4], [1, 1, 2], [0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, -1]);
    images.add({ name: 'ff', role: 'main', volume: v, modality: 'MR', source: '' });
    view.setCursorIndex([2, 2, 2]);
    view.stepSlice('axial', 1);
    expect(view.cursor).toEqual([2, 2, 1]);
    expect(view.sliceOf('axial')).toEqual({ index: 3, count: 4 });
    view.stepSlice('coronal', -1); // toward anterior = j − 1
    expect(view.cursor).toEqual([2, 1, 1]);
    view.stepSlice('sagittal', 10); // clamps at the last slice
    expect(view.cursor).toEqual([5, 1, 1]);
  });

  it('setCursorWorld picks the nearest voxel of an oblique image', () => {
    const images = useImagesStore();
    const view = useViewStore();
    const v = codedVolume([20, 18, 12], [1.1, 0.9, 3], [-5, 7, 12], oblique());
    images.add({ name: 'ob', role: 'main', volume: v, modality: 'MR', source: '' });
    const p = indexToWorld(v, [5, 6, 7]);
    view.setCursorWorld([p[0] + 0.3, p[1] - 0.2, p[2] + 0.4]);
    expect(view.cursor).toEqual([5, 6, 7]);
  });

  it('4D images: the frame selects the volume the value comes from', () => {
    const images = useImagesStore();
    const view = useViewStore();
    const dims: Vec3 = [4, 4, 2];
    const n = 4 * 4 * 2;
    const data = new Int16Array(n * 3);
    for (let f = 0; f < 3; f++) data.fill(f * 10, f * n, (f + 1) * n);
    const v: Volume = { dims, spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'int16', frames: 3, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
    images.add({ name: '4d', role: 'main', volume: v, modality: 'MR', source: '' });
    expect(view.cursorValue).toBe(0);
    view.setFrame(2);
    expect(view.cursorValue).toBe(20);
    view.setFrame(9);
    expect(view.frame).toBe(2);
    const g = sliceGrid(v, 'axial');
    expect(Array.from(extractSlice(v, g, view.cursorWorld, undefined, 1)).every((x) => x === 10)).toBe(true);
  });

  it('zoom is clamped and reset with the cameras', () => {
    setActivePinia(createPinia());
    const view = useViewStore();
    view.zoomBy('axial', 1000);
    expect(view.cameras.axial.zoom).toBe(64);
    view.panBy('axial', 5, -3);
    view.resetCameras();
    expect(view.cameras.axial).toEqual({ zoom: 1, panX: 0, panY: 0 });
  });
});

describe('window/level store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('CT opens with the abdomen preset; presets have the standard values', () => {
    const images = useImagesStore();
    const wl = useWindowLevelStore();
    images.add({ name: 'ct', role: 'main', volume: ctVolume(), modality: 'CT', source: '' });
    expect([wl.window, wl.level, wl.preset]).toEqual([400, 40, 'ct-abdomen']);
    const expected: Record<string, [number, number]> = { 'ct-brain': [80, 40], 'ct-lung': [1500, -600], 'ct-bone': [2000, 300], 'ct-abdomen': [400, 40] };
    for (const [id, [w, l]] of Object.entries(expected)) {
      wl.applyPreset(id);
      expect([wl.window, wl.level]).toEqual([w, l]);
    }
    expect(() => wl.applyPreset('nope')).toThrow();
  });

  it('MR opens with a percentile window that ignores outliers', () => {
    const images = useImagesStore();
    const wl = useWindowLevelStore();
    const n = 40 * 40 * 10;
    const data = new Int16Array(n);
    for (let i = 0; i < n; i++) data[i] = i % 1000; // uniform 0..999
    data[0] = 32000; // one hot voxel
    const v: Volume = { dims: [40, 40, 10], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'int16', frames: 1, rescaleSlope: 2, rescaleIntercept: 0, metadata: {} };
    images.add({ name: 'mr', role: 'main', volume: v, modality: 'MR', source: '' });
    expect(wl.preset).toBe('auto');
    const [lo, hi] = percentileRange(v);
    expect(lo).toBeLessThan(20);
    expect(hi).toBeGreaterThan(1960);
    expect(hi).toBeLessThanOrEqual(1998);
    expect(wl.window).toBeCloseTo(hi - lo);
    expect(wl.level).toBeCloseTo((hi + lo) / 2);
  });

  it('dragging changes window (x) and level (y) and clears the preset', () => {
    const wl = useWindowLevelStore();
    wl.applyPreset('ct-brain');
    wl.dragBy(256, 0);
    expect(wl.window).toBeCloseTo(160);
    expect(wl.preset).toBe(null);
    wl.dragBy(0, -256);
    expect(wl.level).toBeCloseTo(40 - 160);
    wl.set(-5, 0);
    expect(wl.window).toBeGreaterThan(0);
  });
});

describe('loading store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  const series = (id: string): SeriesSummary => ({ id, scanId: 's1', description: `Series ${id}`, modality: 'CT', dims: [8, 8, 5], slices: 5, warnings: [], folder: '/data/ct' });

  function fakeBackend(over: Partial<LoaderBackend> = {}) {
    const calls: string[] = [];
    const b: LoaderBackend = {
      scanFolder: async (p) => {
        calls.push(`scan ${p}`);
        return [series('1'), series('2')];
      },
      scanDropped: async () => [series('3')],
      loadSeries: async (s, onProgress) => {
        calls.push(`load ${s.id}`);
        onProgress(0.5, 'half');
        return { volume: ctVolume(), modality: 'CT', name: s.description, hostId: `v${s.id}` };
      },
      listFolder: async (p) => ({ path: p, parent: '/', entries: [], places: [] }),
      recentFolders: async () => ['/data/ct'],
      addRecentFolder: async (p) => void calls.push(`recent ${p}`),
      release: async (ids) => void calls.push(`release ${ids.join(',')}`),
      ...over,
    };
    return { b, calls };
  }

  it('open folder → series list → pick → main image loaded, dialog closed', async () => {
    const loading = useLoadingStore();
    const images = useImagesStore();
    const { b, calls } = fakeBackend();
    loading.setBackend(b);
    loading.openDialog();
    await loading.scanFolder('  /data/ct ');
    expect(loading.phase).toBe('choose');
    expect(loading.series.map((s) => s.id)).toEqual(['1', '2']);
    const progress: number[] = [];
    const p = loading.pick(loading.series[1]);
    expect(loading.phase).toBe('loading');
    await p;
    progress.push(loading.progress);
    expect(images.main?.name).toBe('Series 2');
    expect(loading.dialogOpen).toBe(false);
    expect(loading.phase).toBe('idle');
    expect(progress).toEqual([1]);
    expect(calls).toContain('scan /data/ct');
    expect(calls).toContain('load 2');
  });

  it('asks main / additional / overlay when an image is open', async () => {
    const loading = useLoadingStore();
    const images = useImagesStore();
    loading.setBackend(fakeBackend().b);
    await loading.scanFolder('/data/ct');
    await loading.pick(loading.series[0]);
    await loading.scanFolder('/data/ct');
    await loading.pick(loading.series[1]);
    expect(loading.phase).toBe('ask-role');
    expect(images.main?.name).toBe('Series 1');
    await loading.load('main');
    expect(images.images.map((i) => i.name)).toEqual(['Series 2']);
    await loading.scanFolder('/data/ct');
    await loading.pick(loading.series[0]);
    await loading.load('overlay');
    expect(images.images.map((i) => `${i.name}:${i.role}`)).toEqual(['Series 2:main', 'Series 1:overlay']);
  });

  it('frees the host copy of a replaced main image', async () => {
    const loading = useLoadingStore();
    const { b, calls } = fakeBackend();
    loading.setBackend(b);
    await loading.scanFolder('/data/ct');
    await loading.pick(loading.series[0]);
    await loading.pick(loading.series[1]);
    await loading.load('main');
    expect(calls).toContain('release v1');
    expect(calls).not.toContain('release v2');
  });

  it('cancelling a load aborts the backend call and keeps the current image', async () => {
    const loading = useLoadingStore();
    const images = useImagesStore();
    let seen: AbortSignal | undefined;
    loading.setBackend(
      fakeBackend({
        loadSeries: (_s, _p, signal) =>
          new Promise((_ok, fail) => {
            seen = signal;
            signal?.addEventListener('abort', () => fail(new Error('cancelled')));
          }),
      }).b,
    );
    await loading.scanFolder('/data/ct');
    const p = loading.pick(loading.series[0]);
    expect(loading.phase).toBe('loading');
    loading.cancelLoad();
    await p;
    expect(seen?.aborted).toBe(true);
    expect(loading.error).toBe('Loading was cancelled.');
    expect(loading.phase).toBe('choose');
    expect(images.hasImage).toBe(false);
  });

  it('shows clear errors: empty path, nothing found, failed load', async () => {
    const loading = useLoadingStore();
    const images = useImagesStore();
    loading.setBackend(
      fakeBackend({
        scanFolder: async (p) => (p === '/empty' ? [] : [series('1')]),
        loadSeries: async () => {
          throw new Error('/data/ct/03.dcm: truncated pixel data');
        },
      }).b,
    );
    await loading.scanFolder('   ');
    expect(loading.error).toMatch(/folder path/);
    await loading.scanFolder('/empty');
    expect(loading.error).toMatch(/No DICOM image series found in \/empty/);
    await loading.scanFolder('/data/ct');
    expect(loading.error).toBe(null);
    await loading.pick(loading.series[0]);
    expect(loading.error).toMatch(/03\.dcm: truncated/);
    expect(loading.phase).toBe('choose');
    expect(images.hasImage).toBe(false);
  });

  it('Browse… uses the native folder picker where there is one, else the folder browser', async () => {
    const loading = useLoadingStore();
    const { b, calls } = fakeBackend({ pickFolderNatively: async () => '/picked/ct' });
    loading.setBackend(b);
    expect(await loading.browseNative()).toBe(true);
    expect(calls).toContain('scan /picked/ct');
    expect(loading.phase).toBe('choose');
    loading.setBackend(fakeBackend({ pickFolderNatively: async () => undefined }).b);
    expect(await loading.browseNative()).toBe(false);
    loading.setBackend(fakeBackend().b);
    expect(await loading.browseNative()).toBe(false);
    await loading.browse('/data');
    expect(loading.listing?.path).toBe('/data');
  });

  it('without a backend it says so instead of failing silently', async () => {
    const loading = useLoadingStore();
    await loading.scanFolder('/x');
    expect(loading.error).toMatch(/No connection/);
  });
});
