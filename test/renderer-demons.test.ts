// Demons in the app, renderer side: the live-pane drawing (grid lines follow the displacement,
// Jacobian diverging colours, MSD plot), the pane layout for oblique/permuted grids, the
// iterations field, and the demons store against a fake host job (arguments sent, previews
// taken, results become layers, cancel keeps / abort drops, source/target/warped stepping,
// grid/Jacobian switch, saving).
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { Mat3, Vec3, Volume } from '../src-shared/image/volume';
import { gridLines, jacobianRange, jacobianRgba, levelMsdLabel, lutOf, msdByLevel, msdPlot, rangeRgba } from '../src-renderer/registration/demons-draw';
import { quantileRange } from '../src-renderer/rendering/slice-extract';
import { axialVoxelAxis, paneLayout } from '../src-renderer/registration/pane-layout';
import { DEMONS_FORM_DEFAULTS, parseIterations } from '../src-shared/registration/demons-form';
import { isDemonsPreview, type DemonsPreview } from '../src-shared/registration/preview';
import { useImagesStore } from '../src-renderer/stores/images';
import { useRegistrationStore } from '../src-renderer/stores/registration';
import { useDemonsStore, type DemonsBackend } from '../src-renderer/stores/demons';
import { useViewStore } from '../src-renderer/stores/view';
import { DEMONS_DEFAULTS } from '../src-main/registration/demons';

describe('demons drawing', () => {
  it('grid lines pass through p + d(p) for every grid point, rows then columns', () => {
    const w = 7, h = 5, n = w * h;
    const disp = new Float32Array(2 * n);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      disp[y * w + x] = 0.1 * x + 0.3; // dx
      disp[n + y * w + x] = -0.2 * y; // dy
    }
    const lines = gridLines(disp, w, h, 2);
    expect(lines.length).toBe(3 + 4); // rows y = 0, 2, 4; columns x = 0, 2, 4, 6
    const row = lines[1]; // y = 2
    expect(row.length).toBe(2 * w);
    for (let x = 0; x < w; x++) {
      expect(row[2 * x]).toBeCloseTo(x + 0.1 * x + 0.3, 6);
      expect(row[2 * x + 1]).toBeCloseTo(2 - 0.4, 6);
    }
    const col = lines[3 + 3]; // x = 6
    for (let y = 0; y < h; y++) {
      expect(col[2 * y]).toBeCloseTo(6 + 0.9, 6);
      expect(col[2 * y + 1]).toBeCloseTo(y - 0.2 * y, 6);
    }
  });

  it('Jacobian colours: white at 1, blue below, red above, black where the map folds', () => {
    const out = jacobianRgba(new Float32Array([1, 0.5, 2, 0.8, 1.25, -0.1, 0]), new Uint8ClampedArray(28));
    const px = (i: number) => Array.from(out.slice(4 * i, 4 * i + 4));
    expect(px(0)).toEqual([255, 255, 255, 255]);
    expect(px(1)).toEqual([0, 0, 255, 255]);
    expect(px(2)).toEqual([255, 0, 0, 255]);
    // 0.8 and 1.25 are equally far from 1 in log: mirror colours.
    expect(px(3)[2]).toBe(255);
    expect(px(3)[0]).toBeLessThan(255);
    expect(px(4)[0]).toBe(255);
    expect(px(4)[2]).toBe(px(3)[0]);
    expect(px(5)).toEqual([0, 0, 0, 255]);
    expect(px(6)).toEqual([0, 0, 0, 255]);
    // The pane's scale: the largest departure in log terms (0.8 ↔ 1.25), ignoring folds; clamped.
    expect(jacobianRange(new Float32Array([1, 0.8, 1.1, -2]))).toBeCloseTo(1.25, 6);
    expect(jacobianRange(new Float32Array([1, 1.01]))).toBe(1.05);
    expect(jacobianRange(new Float32Array([100]))).toBe(4);
  });

  it('rangeRgba maps lo → first and hi → last LUT entry; quantileRange ignores outliers and NaN', () => {
    const out = rangeRgba(new Float32Array([0, 10, 5, NaN]), 0, 10, lutOf('grayscale'));
    expect(Array.from(out)).toEqual([0, 0, 0, 255, 255, 255, 255, 255, 128, 128, 128, 255, 0, 0, 0, 255]);
    const v = new Float32Array(1000).map((_, i) => i);
    v[0] = -1e6;
    v[999] = 1e9;
    v[500] = NaN;
    const [lo, hi] = quantileRange(v, 0.01, 0.99);
    expect(lo).toBeGreaterThan(0);
    expect(hi).toBeLessThan(999);
  });

  it('MSD plot: the first point at the top (highest MSD), marks where a level starts', () => {
    const pl = msdPlot({ msd: [10, 8, 6, 9, 5, 4], level: [1, 1, 1, 2, 2, 2] }, 104, 54, 2);
    const pts = pl.points.split(' ').map((s) => s.split(',').map(Number));
    expect(pts.length).toBe(6);
    expect(pts[0]).toEqual([2, 2]);
    expect(pts[5]).toEqual([102, 52]);
    expect(pl.levelMarks).toEqual([62]);
    expect([pl.min, pl.max]).toEqual([4, 10]);
    expect(msdPlot({ msd: [], level: [] }, 10, 10).points).toBe('');
  });

  it('MSD per level: each level\u2019s first and last MSD, labelled the way the summary and the plot print them', () => {
    const by = msdByLevel({ msd: [10, 8, 6, 9, 5, 4.123456], level: [1, 1, 1, 2, 2, 2] });
    expect(by).toEqual([
      { level: 1, first: 10, last: 6, iterations: 3 },
      { level: 2, first: 9, last: 4.123456, iterations: 3 },
    ]);
    expect(by.map((l) => levelMsdLabel(l, 2))).toEqual(['level 1/2: 10.00 → 6.000', 'level 2/2: 9.000 → 4.123']);
    expect(msdByLevel({ msd: [], level: [] })).toEqual([]);
  });
});

describe('pane layout', () => {
  const axial: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  it('axial LPS grid: no flips in the radiological convention, mirrored in the neurological one', () => {
    expect(axialVoxelAxis(axial)).toBe(2);
    expect(paneLayout(axial, [0, 1, 2])).toEqual({ transpose: false, flipH: false, flipV: false });
    expect(paneLayout(axial, [0, 1, 2], 'neurological')).toEqual({ transpose: false, flipH: true, flipV: false });
  });
  it('a sagittal acquisition (i = −y, j = −z, k = x): the axial preview is the j axis, laid out transposed and flipped', () => {
    // columns: i → (0,−1,0) (anterior), j → (0,0,−1) (inferior), k → (1,0,0) (left)
    const d: Mat3 = [0, 0, 1, -1, 0, 0, 0, -1, 0];
    expect(axialVoxelAxis(d)).toBe(1);
    // preview axes for normal j: x = i (world −y), y = k (world +x) → x runs vertically.
    const L = paneLayout(d, [0, 2, 1]);
    expect(L.transpose).toBe(true);
    // horizontal: k (+x, L) → no flip radiological; vertical: i points anterior, want +y down → flip.
    expect(L.flipH).toBe(false);
    expect(L.flipV).toBe(true);
  });
  it('coronal preview of an axial grid: superior at the top', () => {
    expect(paneLayout(axial, [0, 2, 1])).toEqual({ transpose: false, flipH: false, flipV: true });
  });
});

describe('iterations field', () => {
  it("the engine's defaults include the form's", () => {
    for (const [k, v] of Object.entries(DEMONS_FORM_DEFAULTS)) expect(DEMONS_DEFAULTS[k as keyof typeof DEMONS_DEFAULTS], k).toEqual(v);
  });
  it('parses one number per level or one for all; names the bad part', () => {
    expect(parseIterations('150, 80, 5', 3)).toEqual([150, 80, 5]);
    expect(parseIterations('20', 4)).toEqual([20, 20, 20, 20]);
    expect(parseIterations('10 20', 3)).toMatch(/2 numbers for 3 levels/);
    expect(parseIterations('10, x', 2)).toMatch(/"x"/);
    expect(parseIterations('', 2)).toMatch(/Iterations/);
  });
});

// ---- the store against a fake host ----

function vol(dims: Vec3, fill: (i: number) => number, direction: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1]): Volume {
  const n = dims[0] * dims[1] * dims[2];
  return { dims, spacing: [1, 1.5, 2.5], origin: [-5, -6, 7], direction, data: new Float32Array(n).map((_, i) => fill(i)), voxelType: 'float32', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

function fakePreview(level: number, iteration: number, history: number[]): DemonsPreview {
  const w = 4, h = 3, n = w * h;
  const plane = (v: number) => new Float32Array(n).fill(v).buffer as ArrayBuffer;
  return {
    kind: 'demons', level, levels: 2, iteration, msd: history[history.length - 1], history: { msd: history, level: history.map(() => level) },
    axes: [0, 1, 2], slice: 2, width: w, height: h, pixelMm: [1, 1.5],
    fixed: plane(1), source: plane(2), warped: plane(3), displacement: new Float32Array(2 * n).buffer as ArrayBuffer, update: plane(0.1), jacobian: plane(1),
  };
}

describe('demons store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  function setup(overlay = false) {
    const images = useImagesStore();
    const fixed = vol([10, 8, 6], (i) => i % 7);
    images.addLayer(fixed, { role: 'main', name: 'fixed', hostId: 'h-fixed' });
    const mid = images.addLayer(vol([10, 8, 6], (i) => i % 5), { role: overlay ? 'overlay' : 'additional', name: 'moving', hostId: 'h-moving' });
    const reg = useRegistrationStore();
    reg.openPanel();
    return { images, reg, mid, demons: useDemonsStore(), view: useViewStore() };
  }

  function backendFor(opts: { onStart?: (args: Record<string, unknown>, inputs: string[], on: Parameters<DemonsBackend['startJob']>[3]) => void; result?: Record<string, unknown>; cancelled?: (keep?: boolean) => void; fail?: Error } = {}) {
    const exports: { id: string; path: string; overwrite: boolean }[] = [];
    const released: string[] = [];
    let finish!: () => void;
    let failJob!: (e: Error) => void;
    const gate = new Promise<void>((res, rej) => {
      finish = res;
      failJob = rej;
    });
    const backend: DemonsBackend = {
      async startJob(kind, args, inputs, on) {
        expect(kind).toBe('registration.demons');
        opts.onStart?.(args, inputs, on);
        const done = gate.then(() => ({ volumes: ['h-w', 'h-field', 'h-jac', 'h-diff'].map((id) => ({ id })), result: opts.result ?? { metrics: { msdBefore: 10, msdAfter: 2, minJacobian: 0.7, maxJacobian: 1.4 } } }));
        return {
          done,
          cancel: async (keep?: boolean) => {
            opts.cancelled?.(keep);
            if (keep) finish();
            else failJob(new Error('cancelled'));
          },
        };
      },
      getVolume: async (id) => vol([10, 8, 6], (i) => (id === 'h-diff' ? (i % 3) - 1 : id === 'h-jac' ? 1 : i % 5)),
      releaseVolumes: async (ids) => void released.push(...ids),
      exportVolume: async (id, path, overwrite) => {
        exports.push({ id, path, overwrite });
        return { path, bytes: 123 };
      },
    };
    return { backend, finish: () => finish(), exports, released };
  }

  it('defaults are the engine defaults; sends the form, the initial transform and the preview slice through the cursor', async () => {
    const { reg, demons, view, images, mid } = setup();
    expect(demons.form.iterations).toBe(DEMONS_FORM_DEFAULTS.iterations.join(', '));
    reg.setParam('tx', 2);
    view.cursor = [3, 4, 5];
    let args: Record<string, unknown> = {};
    let inputs: string[] = [];
    const b = backendFor({
      onStart: (a, i, on) => {
        args = a;
        inputs = i;
        on.onProgress(0.2, 'Demons level 1/2, iteration 3, MSD 4.5');
        on.onPreview(fakePreview(1, 3, [9, 6, 4.5]) as unknown as Record<string, unknown>);
        on.onPreview({ kind: 'demons', width: 2 }); // malformed: ignored
      },
    });
    demons.setBackend(b.backend);
    demons.form.iterations = '30, 10';
    demons.form.levels = 2;
    demons.form.diffeomorphic = true;
    demons.form.force = 'fixed';
    const run = demons.run();
    await new Promise((r) => setTimeout(r, 0));
    expect(inputs).toEqual(['h-fixed', 'h-moving']);
    expect(args).toMatchObject({ levels: 2, iterations: [30, 10], sigmaFluid: 4, sigmaElastic: 1, diffeomorphic: true, force: 'fixed', stopOnPlateau: true, preview: { axis: 2, index: 5 } });
    expect(args.initialTransform).toEqual(images.layer(mid)!.worldTransform);
    expect(demons.running?.fraction).toBe(0.2);
    expect(demons.previews).toBe(1);
    expect(isDemonsPreview(demons.preview)).toBe(true);
    expect(demons.liveOpen).toBe(true);
    b.finish();
    expect(await run).toBe(true);
    expect(demons.running).toBeNull();
    // Results: warped (additional, shown), Jacobian (overlay, Blue-Clear-Red, centred on 1, hidden), difference (bwr, centred on 0).
    const r = demons.result!;
    const w = images.layer(r.warpedId)!, j = images.layer(r.jacobianId)!, d = images.layer(r.differenceId)!;
    expect([w.role, w.hostId]).toEqual(['additional', 'h-w']);
    expect([j.role, j.colormap, j.level, j.visible]).toEqual(['overlay', 'bcr', 1, false]);
    expect(j.window).toBeCloseTo(0.8, 9); // 2 × max(|1 − 0.7|, |1.4 − 1|)
    expect([d.colormap, d.level]).toEqual(['bwr', 0]);
    expect(d.window).toBeGreaterThanOrEqual(2);
    expect(images.shownId).toBe(r.warpedId);
    expect(demons.note).toMatch(/full-resolution MSD 10\.00 → 2\.000; plotted per level \(on its grid\): level 1\/2: /);
    expect(r.fieldHostId).toBe('h-field');
  });

  it('without the live view no preview is asked for', async () => {
    const { demons } = setup();
    let args: Record<string, unknown> = {};
    const b = backendFor({ onStart: (a) => (args = a) });
    demons.setBackend(b.backend);
    demons.form.live = false;
    const run = demons.run();
    b.finish();
    expect(await run).toBe(true);
    expect(args.preview).toBeUndefined();
    expect(demons.liveOpen).toBe(false);
  });

  it('rejects a bad iterations field before starting', async () => {
    const { demons } = setup();
    let started = false;
    demons.setBackend(backendFor({ onStart: () => (started = true) }).backend);
    demons.form.iterations = '10, 20';
    expect(await demons.run()).toBe(false);
    expect(demons.error).toMatch(/2 numbers for 3 levels/);
    expect(started).toBe(false);
  });

  it('cancel keeps the result (job stops early); abort drops it', async () => {
    const { demons, images } = setup();
    const seen: (boolean | undefined)[] = [];
    demons.setBackend(backendFor({ cancelled: (k) => seen.push(k), result: { stoppedEarly: true, metrics: { msdBefore: 10, msdAfter: 5 } } }).backend);
    let run = demons.run();
    await new Promise((r) => setTimeout(r, 0));
    demons.cancel();
    expect(await run).toBe(true);
    expect(seen).toEqual([true]);
    expect(demons.result?.stoppedEarly).toBe(true);
    expect(demons.note).toMatch(/stopped early/);
    const layers = images.images.length;

    demons.setBackend(backendFor({ cancelled: (k) => seen.push(k) }).backend);
    run = demons.run();
    await new Promise((r) => setTimeout(r, 0));
    demons.cancel(true);
    expect(await run).toBe(false);
    expect(seen).toEqual([true, false]);
    expect(demons.error).toMatch(/aborted/);
    expect(images.images.length).toBe(layers);
  });

  it('steps between source, target and warped; grid/Jacobian switches the Jacobian overlay', async () => {
    for (const overlay of [false, true]) {
      setActivePinia(createPinia());
      const { demons, images, mid } = setup(overlay);
      const b = backendFor();
      demons.setBackend(b.backend);
      const run = demons.run();
      b.finish();
      await run;
      const r = demons.result!;
      demons.step('source');
      if (overlay) {
        expect(images.layer(mid)!.visible).toBe(true);
        expect(images.shownId).toBeNull();
      } else expect(images.shownId).toBe(mid);
      demons.step('target');
      expect(images.shownId).toBeNull();
      if (overlay) expect(images.layer(mid)!.visible).toBe(false);
      demons.step('warped');
      expect(images.shownId).toBe(r.warpedId);
      expect(demons.imagePane).toBe('warped');
      demons.setDeformation('jacobian');
      expect(images.layer(r.jacobianId)!.visible).toBe(true);
      demons.setDeformation('grid');
      expect(images.layer(r.jacobianId)!.visible).toBe(false);
    }
  });

  it('saves the warped image and the field from their host copies; refuses other extensions', async () => {
    const { demons } = setup();
    const b = backendFor();
    demons.setBackend(b.backend);
    expect(await demons.save('warped', '/tmp/x.nii')).toBe(false);
    const run = demons.run();
    b.finish();
    await run;
    expect(await demons.save('warped', '/tmp/w.nii.gz', true)).toBe(true);
    expect(await demons.save('field', ' /tmp/f.nii ')).toBe(true);
    expect(await demons.save('field', '/tmp/f.txt')).toBe(false);
    expect(b.exports).toEqual([
      { id: 'h-w', path: '/tmp/w.nii.gz', overwrite: true },
      { id: 'h-field', path: '/tmp/f.nii', overwrite: false },
    ]);
  });
});
