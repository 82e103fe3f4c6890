// End-to-end: the real viewer in Debian's Chromium against the browser host, on real scanner
// data. Asserts: the three views show non-blank images that change with the slice; the
// status-bar value at a chosen voxel equals dcm2niix's reference at the same WORLD point;
// orientation letters and the on-screen patient orientation are right for an oblique series.
// Screenshots go to test-artifacts/ (git-ignored).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Vec3, Volume } from '../../src-shared/image/volume';
import { readNiftiFile } from '../../src-main/nifti/nifti-file';
import { ARTIFACTS as artifacts, DATA as data, startApp, type E2eApp, openSeries, clickView } from './helpers';

const CT = path.join(data, 'dicom/ct_ge_lightspeed_3slice');
const OBLIQUE = path.join(data, 'dicom/ge_adc_prostate_oblique');

let app: E2eApp;

beforeAll(async () => {
  app = await startApp();
}, 300_000);

afterAll(async () => {
  await app?.close();
});

/** A fresh tab at the host's URL. */
async function newPage(): Promise<Page> {
  const page = await app.newPage();
  await page.setViewportSize({ width: 1300, height: 850 });
  return page;
}

/** What the user sees in a view (a PNG of it), for "did the picture change". */
async function viewShot(page: Page, view: string): Promise<string> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  return (await page.locator(`[data-view=${view}]`).screenshot()).toString('base64');
}

/** Grey-level statistics and a hash of the plane a view shows (its raster canvas). */
async function viewPixels(page: Page, view: string) {
  // One animation frame so a scheduled redraw has happened.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  return page.evaluate((v) => {
    const c = document.querySelector(`[data-view=${v}] canvas.plane`) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    let s = 0;
    let s2 = 0;
    let h = 2166136261;
    for (let i = 0; i < d.length; i += 4) {
      const g = d[i];
      n++;
      s += g;
      s2 += g * g;
      h = Math.imul(h ^ g, 16777619);
    }
    const mean = s / n;
    return { mean, std: Math.sqrt(s2 / n - mean * mean), hash: h >>> 0 };
  }, view);
}

async function status(page: Page) {
  const voxel = (await page.textContent('[data-testid=status-voxel]'))!.split(',').map(Number) as Vec3;
  const world = (await page.textContent('[data-testid=status-world]'))!.split(',').map(Number) as Vec3;
  const value = Number(await page.getAttribute('[data-testid=status-value]', 'data-value'));
  const units = (await page.textContent('[data-testid=status-units]'))!.trim();
  return { voxel, world, value, units };
}

/**
 * The orientation letters a view draws on its edges (the view publishes what it draws in
 * data-letters; that they are really drawn is checked from the overlay's pixels).
 */
async function letters(page: Page, view: string) {
  const [left, right, top, bottom] = (await page.getAttribute(`[data-view=${view}]`, 'data-letters'))!.split(' ');
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  // Yellow letter pixels near the middle of each edge of the overlay canvas.
  const drawn = await page.evaluate((v) => {
    const c = document.querySelector(`[data-view=${v}] canvas.overlay`) as HTMLCanvasElement;
    const ctx = c.getContext('2d')!;
    const yellow = (x: number, y: number, w: number, h: number) => {
      const d = ctx.getImageData(x, y, w, h).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 170 && d[i + 2] < 140 && d[i + 3] > 200) n++;
      return n;
    };
    const W = c.width;
    const H = c.height;
    return [yellow(0, H / 2 - 15, 30, 30), yellow(W - 30, H / 2 - 15, 30, 30), yellow(W / 2 - 15, 0, 30, 30), yellow(W / 2 - 15, H - 30, 30, 30)];
  }, view);
  for (const n of drawn) expect(n, `${view}: an orientation letter is not drawn`).toBeGreaterThan(3);
  return { left, right, top, bottom };
}

/** Clicks a view at a fraction of its size. */
/** The reference NIfTI's real value at a world (LPS) point: nearest voxel. */
function referenceValueAt(ref: Volume, p: Vec3): number {
  // Solve p = origin + D·diag(spacing)·ijk for ijk.
  const d = ref.direction;
  const s = ref.spacing;
  const m = [0, 1, 2].map((r) => [0, 1, 2].map((c) => d[r * 3 + c] * s[c]));
  const det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const q = [p[0] - ref.origin[0], p[1] - ref.origin[1], p[2] - ref.origin[2]];
  // Cramer's rule.
  const solve = (k: number) => {
    const a = m.map((row, r) => row.map((x, c) => (c === k ? q[r] : x)));
    return (a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])) / det;
  };
  const ijk = [0, 1, 2].map((k) => solve(k));
  // The point is a voxel centre of the DICOM volume; the reference grid is the same grid
  // (rows flipped), so it must land on a voxel centre of the reference too.
  for (const x of ijk) expect(Math.abs(x - Math.round(x))).toBeLessThan(0.05);
  const [i, j, k] = ijk.map(Math.round);
  expect(i >= 0 && j >= 0 && k >= 0 && i < ref.dims[0] && j < ref.dims[1] && k < ref.dims[2]).toBe(true);
  const stored = ref.data[i + j * ref.dims[0] + k * ref.dims[0] * ref.dims[1]];
  return stored * ref.rescaleSlope + ref.rescaleIntercept;
}

async function reference(name: string): Promise<Volume> {
  const dir = path.join(data, 'reference', name);
  const file = readdirSync(dir).find((f) => f.endsWith('.nii') && !f.includes('_Tilt_'))!;
  return (await readNiftiFile(path.join(dir, file))).volume;
}

describe('viewer in the browser host (Chromium)', () => {
  it('CT: three non-blank views that change with the slice; status value = dcm2niix reference (HU)', async () => {
    const page = await newPage();
    try {
      await openSeries(page, CT);
      await page.screenshot({ path: path.join(artifacts, 'viewer-ct-loaded.png') });
      for (const view of ['axial', 'coronal', 'sagittal']) {
        const before = await viewPixels(page, view);
        expect(before.std, `${view} view is blank`).toBeGreaterThan(5);
        // Move the slice in this view (keyboard on the view; wheel for one of them).
        await page.hover(`[data-view=${view}] [data-testid=view-input]`);
        const caption = await page.getAttribute(`[data-view=${view}]`, 'data-caption');
        if (view === 'sagittal') await page.mouse.wheel(0, -100);
        else await page.keyboard.press('PageUp');
        await expect.poll(() => page.getAttribute(`[data-view=${view}]`, 'data-caption')).not.toBe(caption);
        const after = await viewPixels(page, view);
        expect(after.std).toBeGreaterThan(5);
        expect(after.hash, `${view} image did not change with the slice`).not.toBe(before.hash);
      }

      // A chosen voxel: click well inside the body in the axial view.
      await clickView(page, 'axial', 0.42, 0.4);
      const st = await status(page);
      expect(st.units).toBe('HU');
      const ref = await reference('ct_ge_lightspeed_3slice');
      expect(st.value).toBeCloseTo(referenceValueAt(ref, st.world), 3);
      // Another voxel in another view, to catch any axis swap.
      await clickView(page, 'coronal', 0.6, 0.5);
      const st2 = await status(page);
      expect(st2.voxel).not.toEqual(st.voxel);
      expect(st2.value).toBeCloseTo(referenceValueAt(ref, st2.world), 3);

      // Window preset: bone changes the picture and the numbers.
      const beforeWl = await viewPixels(page, 'axial');
      await page.click('[data-preset=ct-bone]');
      expect(await page.inputValue('[data-testid=wl-window]')).toBe('2000');
      expect(await page.inputValue('[data-testid=wl-level]')).toBe('300');
      expect((await viewPixels(page, 'axial')).hash).not.toBe(beforeWl.hash);
      await page.screenshot({ path: path.join(artifacts, 'viewer-ct-bone-window.png') });
      expect(app.errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('oblique MR: letters and on-screen orientation are in patient axes; value = reference', async () => {
    const page = await newPage();
    try {
      await openSeries(page, OBLIQUE);
      await page.screenshot({ path: path.join(artifacts, 'viewer-oblique-mr.png') });
      // Resliced planes cover the image's bounding box; their corners lie outside the oblique
      // volume and must be drawn black, not left undefined.
      for (const view of ['coronal', 'sagittal']) {
        const corners = await page.evaluate((v) => {
          const c = document.querySelector(`[data-view=${v}] canvas.plane`) as HTMLCanvasElement;
          const ctx = c.getContext('2d')!;
          return [ctx.getImageData(0, 0, 1, 1).data, ctx.getImageData(c.width - 1, c.height - 1, 1, 1).data].map((d) => Array.from(d));
        }, view);
        expect(corners, view).toEqual([
          [0, 0, 0, 255],
          [0, 0, 0, 255],
        ]);
      }
      expect(await letters(page, 'axial')).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
      expect(await letters(page, 'coronal')).toEqual({ left: 'R', right: 'L', top: 'S', bottom: 'I' });
      expect(await letters(page, 'sagittal')).toEqual({ left: 'A', right: 'P', top: 'S', bottom: 'I' });

      // The picture itself is in patient axes: a point right of centre on screen is more to
      // the patient's left (+x LPS) in axial/coronal; higher on screen is anterior in axial
      // (−y), superior in coronal/sagittal (+z); left on screen is anterior in sagittal.
      const at = async (view: string, fx: number, fy: number) => {
        await clickView(page, view, fx, fy);
        return (await status(page)).world;
      };
      const aL = await at('axial', 0.4, 0.5);
      const aR = await at('axial', 0.6, 0.5);
      expect(aR[0] - aL[0]).toBeGreaterThan(5);
      const aT = await at('axial', 0.5, 0.4);
      const aB = await at('axial', 0.5, 0.6);
      expect(aB[1] - aT[1]).toBeGreaterThan(5);
      const cT = await at('coronal', 0.5, 0.42);
      const cB = await at('coronal', 0.5, 0.58);
      expect(cT[2] - cB[2]).toBeGreaterThan(2);
      const sL = await at('sagittal', 0.42, 0.5);
      const sR = await at('sagittal', 0.58, 0.5);
      expect(sR[1] - sL[1]).toBeGreaterThan(5);

      const ref = await reference('ge_adc_prostate_oblique');
      await clickView(page, 'axial', 0.47, 0.45);
      const st = await status(page);
      expect(st.value).not.toBe(0);
      expect(st.value).toBeCloseTo(referenceValueAt(ref, st.world), 3);
      await clickView(page, 'sagittal', 0.55, 0.45);
      const st2 = await status(page);
      expect(st2.value).toBeCloseTo(referenceValueAt(ref, st2.world), 3);

      // Neurological convention swaps left and right in axial and coronal.
      await page.check('[data-testid=neurological]');
      expect(await letters(page, 'axial')).toEqual({ left: 'L', right: 'R', top: 'A', bottom: 'P' });
      const nL = await at('axial', 0.4, 0.5);
      const nR = await at('axial', 0.6, 0.5);
      expect(nL[0] - nR[0], JSON.stringify({ nL, nR })).toBeGreaterThan(5);
      await page.screenshot({ path: path.join(artifacts, 'viewer-oblique-mr-neurological.png') });
    } finally {
      await page.close();
    }
  });

  it('mouse: right-drag zooms, middle-drag pans; a second series asks how to load it', async () => {
    const page = await newPage();
    try {
      await openSeries(page, CT);
      const box = (await page.locator('[data-view=axial] [data-testid=view-input]').boundingBox())!;
      const cx = box.x + box.width / 2;
      const cy = box.y + box.height / 2;
      const before = await viewShot(page, 'axial');
      const voxelBefore = (await status(page)).voxel;
      await page.mouse.move(cx, cy);
      await page.mouse.down({ button: 'right' });
      await page.mouse.move(cx, cy - 80, { steps: 4 });
      await page.mouse.up({ button: 'right' });
      const zoomed = await viewShot(page, 'axial');
      expect(zoomed).not.toBe(before);
      await page.mouse.move(cx, cy);
      await page.mouse.down({ button: 'middle' });
      await page.mouse.move(cx + 60, cy + 30, { steps: 4 });
      await page.mouse.up({ button: 'middle' });
      expect(await viewShot(page, 'axial')).not.toBe(zoomed);
      // Neither zoom nor pan moved the cursor.
      expect((await status(page)).voxel).toEqual(voxelBefore);
      await page.screenshot({ path: path.join(artifacts, 'viewer-ct-zoom-pan.png') });

      await page.click('[data-testid=open-folder]');
      await page.fill('[data-testid=folder-path]', OBLIQUE);
      await page.click('[data-testid=scan-button]');
      await page.click('[data-testid=series-row]');
      await page.waitForSelector('[data-testid=load-as]');
      await page.click('[data-role=main]');
      await expect.poll(() => page.textContent('[data-testid=status-units]')).toBe('');
      await expect.poll(async () => (await status(page)).voxel).toEqual([128, 128, 10]);
    } finally {
      await page.close();
    }
  });

  it('dropping DICOM files on the window uploads them to the host and lists their series', async () => {
    const page = await newPage();
    try {
      const files = readdirSync(CT).map((f) => ({ name: f, b64: readFileSync(path.join(CT, f)).toString('base64') }));
      await page.evaluate((list) => {
        const dt = new DataTransfer();
        for (const f of list) {
          const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
          dt.items.add(new File([bytes], f.name, { type: 'application/dicom' }));
        }
        const app = document.querySelector('.app')!;
        app.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
        app.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, files);
      await page.waitForSelector('[data-testid=series-row]', { timeout: 60_000 });
      const row = await page.textContent('[data-testid=series-row]');
      expect(row).toContain('CT');
      expect(row).toContain('512×512×3');
      await page.click('[data-testid=series-row]');
      await expect.poll(() => page.textContent('[data-testid=status-units]')).toContain('HU');
      expect((await viewPixels(page, 'axial')).std).toBeGreaterThan(5);
    } finally {
      await page.close();
    }
  });

  it('server-side folder browser, recent folders, window/level drag', async () => {
    const page = await newPage();
    try {
      // Browse from the data folder down to the CT folder and scan it.
      await page.click('[data-testid=open-folder]');
      await page.fill('[data-testid=folder-path]', path.join(data, 'dicom'));
      await page.click('[data-testid=browse-button]');
      await page.waitForSelector('[data-testid=folder-browser]');
      await page.click('[data-testid=folder-browser] a:has-text("ct_ge_lightspeed_3slice")');
      await expect.poll(() => page.textContent('[data-testid=folder-browser] code')).toBe(CT);
      await page.click('[data-testid=scan-this-folder]');
      await page.click('[data-testid=series-row]');
      await page.waitForFunction(() => document.querySelector('[data-view=axial]')?.getAttribute('data-rendered-image'));
      // The folder is now in the recent list of a new dialog.
      await page.click('[data-testid=open-folder]');
      await expect.poll(() => page.locator('[data-testid=recent-item]').allTextContents()).toContain(CT);
      await page.click('.dialog .close');

      // Shift + left-drag: right widens the window, down raises the level.
      const w0 = Number(await page.inputValue('[data-testid=wl-window]'));
      const l0 = Number(await page.inputValue('[data-testid=wl-level]'));
      const voxel0 = await page.textContent('[data-testid=status-voxel]');
      const box = (await page.locator('[data-view=coronal] [data-testid=view-input]').boundingBox())!;
      await page.keyboard.down('Shift');
      await page.mouse.move(box.x + 100, box.y + 100);
      await page.mouse.down();
      await page.mouse.move(box.x + 164, box.y + 132, { steps: 4 });
      await page.mouse.up();
      await page.keyboard.up('Shift');
      // Sensitivity is window/256 per pixel, re-evaluated at every move event.
      const w1 = Number(await page.inputValue('[data-testid=wl-window]'));
      const l1 = Number(await page.inputValue('[data-testid=wl-level]'));
      expect(w1).toBeGreaterThan(w0 * (1 + 64 / 256) - 1);
      expect(w1).toBeLessThan(w0 * 1.4);
      expect(l1 - l0).toBeGreaterThan(32 * (w0 / 256) - 1);
      expect(l1 - l0).toBeLessThan(32 * (w0 / 256) * 1.4);
      expect(await page.getAttribute('[data-preset=ct-abdomen]', 'class')).not.toContain('active');
      expect(await page.textContent('[data-testid=status-voxel]')).toBe(voxel0);
    } finally {
      await page.close();
    }
  });

  it('a NIfTI file typed as the path opens directly; its value matches the file', async () => {
    const page = await newPage();
    try {
      const dir = path.join(data, 'reference', 'ge_adc_prostate_oblique');
      const file = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.nii'))!);
      await openSeries(page, file);
      const ref = await reference('ge_adc_prostate_oblique');
      await clickView(page, 'coronal', 0.45, 0.5);
      const st = await status(page);
      expect(st.value).toBeCloseTo(referenceValueAt(ref, st.world), 3);
      expect(await letters(page, 'sagittal')).toEqual({ left: 'A', right: 'P', top: 'S', bottom: 'I' });
      expect((await viewPixels(page, 'sagittal')).std).toBeGreaterThan(5);
    } finally {
      await page.close();
    }
  });
});
