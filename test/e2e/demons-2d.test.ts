// End-to-end: the 2D demons lesson in the app (Chromium against the browser host). Two
// cine-MR-like frames are made here and written as 8-bit PNG by itk-wasm: a body ellipse,
// a ventricle (bright blood pool in a darker myocardial ring) and some texture; the second
// frame is the first one deformed by a smooth bump (the ventricle contracts and shifts).
// Asserts:
//  - a PNG opens as a one-slice image shown in one large view (the other two views are not
//    drawn), with the picture on screen (screenshot content);
//  - 2D demons run with the live three-pane view and the MSD plot, bring the moving frame
//    much closer to the fixed one; S / T / W and G / J switch views and panes;
//  - the warped image saved as PNG and as NIfTI and the 2D field saved as MHA read back from
//    disk on the fixed grid;
//  - transform files: the saved field applied to the moving frame (a new layer), an ITK .txt
//    translation loaded onto the moving layer, the transform saved as .h5.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Volume } from '../../src-shared/image/volume';
import { readImageFile, writeImageFile } from '../../src-main/io/image-file';
import { readTransformFile } from '../../src-main/io/transform-file';
import { ARTIFACTS, canvasHash, cursorRows, openSeries, planeHash, startApp, type E2eApp, openRegistrationPanel } from './helpers';

const N = 128;
let app: E2eApp;
let tmp: string;
let fixedPath: string;
let movingPath: string;
let fixed: Uint8Array;
let moving: Uint8Array;

/** A cine-MR-like short-axis frame: body, myocardial ring, blood pool, texture. */
function frame(): Uint8Array {
  const out = new Uint8Array(N * N);
  for (let y = 0; y < N; y++)
    for (let x = 0; x < N; x++) {
      const body = ((x - 64) / 54) ** 2 + ((y - 66) / 44) ** 2 < 1;
      const r = Math.hypot(x - 58, y - 60);
      let v = body ? 90 + 20 * Math.sin(x / 5) * Math.cos(y / 7) : 10;
      if (r < 22) v = 140; // myocardium
      if (r < 14) v = 230; // blood pool
      out[y * N + x] = Math.round(v);
    }
  return out;
}

/** moving(x) = fixed(x + b(x)), b a Gaussian bump at the ventricle (peak 4 px right, 2 px up), bilinear. */
function deform(f: Uint8Array): Uint8Array {
  const out = new Uint8Array(N * N);
  const at = (i: number, j: number) => f[Math.min(N - 1, Math.max(0, j)) * N + Math.min(N - 1, Math.max(0, i))]!;
  for (let j = 0; j < N; j++)
    for (let i = 0; i < N; i++) {
      const g = Math.exp(-((i - 58) ** 2 + (j - 60) ** 2) / (2 * 14 * 14));
      const x = i + 4 * g, y = j - 2 * g;
      const i0 = Math.floor(x), j0 = Math.floor(y), fx = x - i0, fy = y - j0;
      out[j * N + i] = Math.round((1 - fy) * ((1 - fx) * at(i0, j0) + fx * at(i0 + 1, j0)) + fy * ((1 - fx) * at(i0, j0 + 1) + fx * at(i0 + 1, j0 + 1)));
    }
  return out;
}

function picture(data: Uint8Array): Volume {
  return { dims: [N, N, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

function msd(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s / a.length;
}

/** Standard deviation of a canvas's grey levels (0 for an empty or uniform picture). */
async function canvasSpread(page: import('playwright-core').Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const c = document.querySelector(sel) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let s = 0, s2 = 0, n = 0;
    for (let i = 0; i < d.length; i += 4) {
      const g = (d[i]! + d[i + 1]! + d[i + 2]!) / 3;
      s += g;
      s2 += g * g;
      n++;
    }
    return Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2));
  }, selector);
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lattice-demons2d-e2e-'));
  fixed = frame();
  moving = deform(fixed);
  fixedPath = path.join(tmp, 'frame01.png');
  movingPath = path.join(tmp, 'frame05.png');
  await writeImageFile(fixedPath, picture(fixed));
  await writeImageFile(movingPath, picture(moving));
  app = await startApp();
}, 300_000);

afterAll(async () => {
  await app?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('2D demons lesson: two PNG frames', () => {
  it('opens PNGs as one large view, runs 2D demons live, saves PNG / NIfTI / field', async () => {
    const page = await app.newPage();
    await page.setViewportSize({ width: 1400, height: 900 });
    try {
      await openSeries(page, fixedPath);
      // One view, of the picture's plane, filling the views area.
      expect(await page.getAttribute('main.views', 'data-planar')).toBe('axial');
      expect(await page.$$eval('[data-view]', (els) => els.map((e) => e.getAttribute('data-view')))).toEqual(['axial']);
      const box = (await page.locator('[data-view=axial]').boundingBox())!;
      const area = (await page.locator('main.views').boundingBox())!;
      expect(box.width).toBeGreaterThan(0.9 * area.width);
      expect(box.height).toBeGreaterThan(0.9 * area.height);
      expect(await canvasSpread(page, '[data-view=axial] canvas.plane')).toBeGreaterThan(20);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'demons2d-open.png') });

      await openSeries(page, movingPath, 'additional');
      await page.click('[data-testid=menu-tools]');
      await page.click('[data-testid=menu-registration]');
      await page.waitForSelector('[data-testid=demons-section]');
      const layersBefore = (await cursorRows(page)).rows.length;
      await page.fill('[data-testid=demons-iterations]', '40, 30');
      await page.dispatchEvent('[data-testid=demons-iterations]', 'change');
      await page.fill('[data-testid=demons-levels]', '2');
      await page.dispatchEvent('[data-testid=demons-levels]', 'change');
      await page.uncheck('[data-testid=demons-plateau]');
      await page.click('[data-testid=demons-run]');
      await page.waitForSelector('[data-testid=demons-live]');
      await page.waitForSelector('[data-testid=demons-note]', { timeout: 120_000 });
      expect(await page.$('[data-testid=demons-error]')).toBeNull();

      // The live cell sits beside the single view; its panes and MSD plot have content.
      expect(await page.getAttribute('main.views', 'class')).toMatch(/planar-live/);
      for (const pane of ['image', 'deformation', 'update']) {
        expect(await canvasSpread(page, `[data-testid=demons-pane-${pane}]`), `${pane} pane`).toBeGreaterThan(3);
      }
      const msdList = (await page.getAttribute('[data-testid=demons-msd-plot]', 'data-msd'))!.split(',').map(Number);
      expect(msdList.length).toBe(40 + 30);
      expect(msdList[msdList.length - 1]!).toBeLessThan(0.7 * msdList[0]!);
      const note = (await page.textContent('[data-testid=demons-note]'))!;
      const [before, after] = /MSD ([0-9.e+-]+) → ([0-9.e+-]+)/.exec(note)!.slice(1).map(Number);
      expect(after).toBeLessThan(0.5 * before!);
      expect((await cursorRows(page)).rows.length).toBe(layersBefore + 3);
      await page.screenshot({ path: path.join(ARTIFACTS, 'demons2d-live.png') });

      // S / T / W and G / J.
      await page.click('[data-testid=demons-live] header');
      await page.keyboard.press('s');
      const hSource = await planeHash(page, 'axial');
      await page.keyboard.press('t');
      const hTarget = await planeHash(page, 'axial');
      await page.keyboard.press('w');
      const hWarped = await planeHash(page, 'axial');
      expect(new Set([hSource, hTarget, hWarped]).size).toBe(3);
      const paneWarped = await canvasHash(page, '[data-testid=demons-pane-image]');
      await page.keyboard.press('t');
      expect(await canvasHash(page, '[data-testid=demons-pane-image]')).not.toBe(paneWarped);
      await page.keyboard.press('j');
      expect(await page.getAttribute('[data-testid=demons-pane-deformation]', 'data-mode')).toBe('jacobian');
      await page.keyboard.press('g');
      expect(await page.getAttribute('[data-testid=demons-pane-deformation]', 'data-mode')).toBe('grid');

      // Save the warped frame as PNG and NIfTI and the 2D field as MHA; read them back.
      const saved: Record<string, string> = { png: path.join(tmp, 'warped.png'), nii: path.join(tmp, 'warped.nii.gz'), field: path.join(tmp, 'field.mha') };
      for (const [what, p] of Object.entries(saved)) {
        await page.fill('[data-testid=demons-save-path]', p);
        await page.click(what === 'field' ? '[data-testid=demons-save-field]' : '[data-testid=demons-save-warped]');
        const re = what === 'field' ? 'Saved the displacement field' : 'Saved the warped image';
        await page.waitForFunction(([r, f]) => (document.querySelector('[data-testid=demons-note]')?.textContent ?? '') === `${r} to ${f}`, [re, p] as const, { timeout: 60_000 });
      }
      const png = (await readImageFile(saved.png!)).volume;
      expect(png.dims).toEqual([N, N, 1]);
      expect(png.voxelType).toBe('uint8');
      expect(msd(png.data, fixed)).toBeLessThan(0.5 * msd(moving, fixed));
      const nii = (await readImageFile(saved.nii!)).volume;
      expect(nii.dims).toEqual([N, N, 1]);
      expect(msd(nii.data, fixed)).toBeLessThan(0.5 * msd(moving, fixed));
      const field = (await readImageFile(saved.field!)).volume;
      expect(field.dims).toEqual([N, N, 1]);
      expect(field.frames).toBe(3);
      // At the bump's centre the field undoes it: D ≈ −b = (−4, +2) px along i, j (LPS x, y) → RAS (4, −2).
      // (The centre is inside the uniform blood pool, where the demons only get the motion
      // through smoothing from the edges: the direction is checked tightly, the length loosely.)
      const c = 60 * N + 58;
      const d = [field.data[c]!, field.data[N * N + c]!];
      const len = Math.hypot(d[0]!, d[1]!);
      expect((d[0]! * 4 - d[1]! * 2) / (len * Math.hypot(4, 2)), `field at the centre ${d}`).toBeGreaterThan(0.95);
      expect(len, `field at the centre ${d}`).toBeGreaterThan(2.5);
      expect(len).toBeLessThan(6);
      expect(Math.abs(field.data[2 * N * N + c]!)).toBeLessThan(1e-3); // no out-of-plane motion

      // Transform files: the saved 2D field applied to the moving frame gives a warped layer
      // close to the fixed frame; an ITK translation (.txt) becomes the moving layer's
      // transform; the transform saved as .h5 reads back.
      const rowsBeforeField = (await cursorRows(page)).rows.length;
      await page.fill('[data-testid=transform-file-path]', saved.field!);
      await page.click('[data-testid=transform-file-apply]');
      await page.waitForSelector('[data-testid=transform-file-note]', { timeout: 60_000 });
      expect(await page.textContent('[data-testid=transform-file-note]')).toMatch(/Warped frame05 by the field/);
      expect((await cursorRows(page)).rows.length).toBe(rowsBeforeField + 1);
      const tfm = path.join(tmp, 'shift.txt');
      writeFileSync(tfm, '#Insight Transform File V1.0\n#Transform 0\nTransform: TranslationTransform_double_3_3\nParameters: 3 -2 0\nFixedParameters:\n');
      await page.selectOption('[data-testid=registration-moving]', { label: 'frame05' }).catch(() => undefined);
      await page.fill('[data-testid=transform-file-path]', tfm);
      await page.click('[data-testid=transform-file-apply]');
      await page.waitForFunction(() => /Applied Translation transform/.test(document.querySelector('[data-testid=transform-file-note]')?.textContent ?? ''), null, { timeout: 60_000 });
      expect((await page.textContent('[data-testid=registration-matrix]'))!.split('\n').slice(0, 2)).toEqual(['1 0 0 3', '0 1 0 -2']);
      const h5 = path.join(tmp, 'shift.h5');
      await page.fill('[data-testid=transform-file-path]', h5);
      await page.click('[data-testid=transform-file-save]');
      await page.waitForFunction(() => /Saved the ITK transform/.test(document.querySelector('[data-testid=transform-file-note]')?.textContent ?? ''), null, { timeout: 60_000 });
      const back = await readTransformFile(h5);
      expect([back.matrixLps[3], back.matrixLps[7], back.matrixLps[11]]).toEqual([3, -2, 0]);
      await page.screenshot({ path: path.join(ARTIFACTS, 'demons2d-transform.png') });
      expect(app.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 300_000);

  it('the demons summary states the MSDs its plot shows, per level, and the full-resolution MSD beside them', async () => {
    const page = await app.newPage();
    await page.setViewportSize({ width: 1400, height: 900 });
    try {
      await openRegistrationPanel(page, fixedPath, movingPath);
      await page.fill('[data-testid=demons-iterations]', '20, 15');
      await page.dispatchEvent('[data-testid=demons-iterations]', 'change');
      await page.fill('[data-testid=demons-levels]', '2');
      await page.dispatchEvent('[data-testid=demons-levels]', 'change');
      await page.uncheck('[data-testid=demons-plateau]');
      await page.click('[data-testid=demons-run]');
      await page.waitForSelector('[data-testid=demons-note]', { timeout: 120_000 });
      expect(await page.$('[data-testid=demons-error]')).toBeNull();
      await page.waitForSelector('[data-testid=demons-plot-full]');

      // The plotted curve, per level (data-msd / data-levels are the polyline's values).
      const msds = (await page.getAttribute('[data-testid=demons-msd-plot]', 'data-msd'))!.split(',').map(Number);
      const levels = (await page.getAttribute('[data-testid=demons-msd-plot]', 'data-levels'))!.split(',').map(Number);
      expect(msds.length).toBe(35);
      const at = (lev: number) => msds.filter((_, i) => levels[i] === lev);
      const want = [1, 2].map((lev) => `level ${lev}/2: ${at(lev)[0]!.toPrecision(4)} → ${at(lev).at(-1)!.toPrecision(4)}`);
      // The plot labels each level's stretch of the curve, and its range is the curve's.
      expect(await page.locator('[data-testid=demons-plot-level]').allTextContents()).toEqual(want);
      const range = (await page.textContent('[data-testid=demons-plot-range]'))!;
      expect(range).toContain(`${Math.min(...msds).toPrecision(4)} … ${Math.max(...msds).toPrecision(4)}`);

      // The summary: the full-resolution MSD (labelled) and the plot's numbers, the same digits.
      const note = (await page.textContent('[data-testid=demons-note]'))!;
      const full = /full-resolution MSD ([0-9.e+-]+) → ([0-9.e+-]+)/.exec(note);
      expect(full, note).not.toBeNull();
      expect(note).toContain(`plotted per level (on its grid): ${want.join(', ')}`);
      expect((await page.textContent('[data-testid=demons-plot-full]'))!.trim()).toBe(`full resolution: ${full![1]} → ${full![2]}`);
      // Full resolution "before" is the MSD of the two frames as opened (no initial transform).
      expect(Number(full![1])).toBeCloseTo(msd(moving, fixed), -Math.log10(msd(moving, fixed) * 2e-3));
      expect(Number(full![2])).toBeLessThan(0.5 * Number(full![1]));
      expect(app.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 300_000);
});
