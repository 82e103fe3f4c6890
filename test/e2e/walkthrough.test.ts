// End-to-end: the fixes of issue 15 (a user walkthrough on real CT and PET/CT), one test per
// numbered item, in one page of one app start (each step builds on the last): real CT
// (ct_ge_lightspeed_3slice) as the main image, the real PET slice (pet_acrin_flt_slice) as an
// additional image, masks made with the Tools panel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Volume } from '../../src-shared/image/volume';
import { readNiftiFile, writeNiftiFile } from '../../src-main/nifti/nifti-file';
import { DATA as data, startApp, type E2eApp, clickView, nextFrames, openSeries, waitForToolJob } from './helpers';

const CT = path.join(data, 'dicom/ct_ge_lightspeed_3slice');
const PET = path.join(data, 'dicom/pet_acrin_flt_slice');
let app: E2eApp;
let page: Page;
let tmp = '';

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lattice-walk-e2e-'));
  app = await startApp();
  page = app.page;
  await page.setViewportSize({ width: 1400, height: 900 });
  await openSeries(page, CT);
}, 300_000);

afterAll(async () => {
  await app?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const wlWindow = async () => Number(await page.inputValue('[data-testid=wl-window]'));
const shownId = () => page.getAttribute('[data-view=axial]', 'data-shown-layer');
const thumbIds = () => page.$$eval('[data-view=axial] [data-layer-thumb]', (els) => els.map((e) => e.getAttribute('data-layer-thumb')!));
async function waitForJob() {
  expect(await waitForToolJob(page, 60_000)).toBeNull();
}
async function axialGrey(): Promise<number[]> {
  await nextFrames(page);
  return page.evaluate(() => {
    const c = document.querySelector('[data-view=axial] canvas.plane') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    return Array.from({ length: c.width * c.height }, (_, i) => d[i * 4 + 1]);
  });
}
const overlap = (a: { x: number; y: number; width: number; height: number }, b: typeof a) =>
  Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));

describe('issue 15 walkthrough fixes (Chromium, browser host)', () => {
  it('1 + 8: window/level presets, fields and Shift-drag act on the image in view; the Image box describes it', async () => {
    await openSeries(page, PET, 'additional');
    const [ctId, petId] = await thumbIds();
    expect(await page.textContent('[data-testid=image-info]')).toMatch(/CT/);
    await page.click(`[data-view=axial] [data-layer-thumb="${petId}"]`);
    await expect.poll(shownId).toBe(petId);
    // Item 8: the Image box now describes the PET.
    const info = (await page.textContent('[data-testid=image-info]'))!;
    expect(info).toMatch(/PT/);
    expect(info).toMatch(/168 × 168 × 1/);
    // Item 1: "lung" acts on the PET (the field shows its value) …
    await page.click('[data-preset=ct-lung]');
    expect(await wlWindow()).toBe(1500);
    // … Shift-drag on the PET updates the fields …
    const box = (await page.locator('[data-view=axial] [data-testid=view-input]').boundingBox())!;
    await page.keyboard.down('Shift');
    await page.mouse.move(box.x + 100, box.y + 100);
    await page.mouse.down();
    await page.mouse.move(box.x + 160, box.y + 100, { steps: 3 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    const dragged = await wlWindow();
    expect(dragged).toBeGreaterThan(1500);
    // … and the hidden CT kept its abdomen window.
    await page.click(`[data-view=axial] [data-layer-thumb="${ctId}"]`);
    await expect.poll(shownId).toBe(ctId);
    expect(await wlWindow()).toBe(400);
    expect(await page.textContent('[data-testid=image-info]')).not.toMatch(/168 × 168/);
    await page.click(`[data-view=axial] [data-layer-thumb="${petId}"]`);
    expect(await wlWindow()).toBe(+dragged.toFixed(2));
    await page.click(`[data-view=axial] [data-layer-thumb="${ctId}"]`);
  });

  it('3: outside the mask a masked image is black under any window, whatever value is stored (background 0 HU)', async () => {
    const orig = await axialGrey(); // abdomen window: air is 0, 0 HU would be ≈ 102
    await page.fill('[data-testid=threshold-lower]', '60');
    await page.click('[data-testid=threshold-apply]');
    await waitForJob();
    await page.click('[data-testid=tool-mask]');
    await page.check('[data-testid=mask-bg-value]');
    await page.fill('[data-op=mask] input[type=number]', '0');
    await page.click('[data-testid=mask-apply]');
    await waitForJob();
    await expect.poll(shownId).not.toBe((await thumbIds())[0]);
    const masked = await axialGrey();
    const air = orig.map((g, i) => (g === 0 ? i : -1)).filter((i) => i >= 0);
    expect(air.length).toBeGreaterThan(1000);
    // The threshold mask overlay (red) is drawn over the inside only; green stays 0 outside.
    expect(air.filter((i) => masked[i] === 0).length / air.length).toBeGreaterThan(0.99);
    await page.click(`[data-view=axial] [data-layer-thumb="${(await thumbIds())[0]}"]`);
  });

  it('4: the image strip is compact and folds; names are short and unique, provenance in the tooltip', async () => {
    await openSeries(page, PET, 'additional'); // same series again: a unique name
    await page.click('[data-testid=tool-crop]');
    await page.click('[data-testid=crop-apply]');
    await waitForJob();
    const ids = await thumbIds();
    expect(ids.length).toBe(5);
    const titles = await page.$$eval('[data-view=axial] [data-layer-thumb]', (els) => els.map((e) => e.getAttribute('title')!));
    expect(new Set(titles).size).toBe(5);
    expect(titles.some((t) => /PET-CT SERIES 2/.test(t))).toBe(true);
    const strip = (await page.locator('[data-view=axial] [data-testid=layer-thumbs]').boundingBox())!;
    const view = (await page.locator('[data-view=axial]').boundingBox())!;
    expect((strip.width * strip.height) / (view.width * view.height)).toBeLessThan(0.05);
    await page.click('[data-view=axial] [data-testid=thumbs-toggle]');
    expect(await page.locator('[data-view=axial] [data-layer-thumb]').count()).toBe(0);
    await page.click('[data-view=axial] [data-testid=thumbs-toggle]');
    expect(await page.locator('[data-view=axial] [data-layer-thumb]').count()).toBe(5);
  });

  it('9: mask pickers list masks only; Ctrl+Z undoes; value under the mouse; underscores in the path box; messages go away', async () => {
    await page.click('[data-testid=tool-morphology]');
    // Only masks to dilate (not the CT, the PET or the masked image); named by the operation.
    expect(await page.locator('[data-testid=morph-source] option').allTextContents()).toEqual(['Threshold > 60']);
    await page.click('[data-testid=morph-apply]');
    await waitForJob();
    await expect.poll(() => page.locator('[data-testid=tools-undo]').textContent()).toContain('Dilate');
    const title = await page.$$eval('[data-testid=morph-source] option', (els) => els.map((e) => e.getAttribute('title')));
    expect(title).toContain('Dilate (ball r1) of Threshold > 60 of 6.9 Colonoscopy');
    // Ctrl+Z over the views undoes the dilation.
    await clickView(page, 'axial', 0.5, 0.5);
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.locator('[data-testid=tools-undo]').textContent()).toContain('Crop');
    // Hover read-out: the value under the mouse equals the cursor's value once clicked there.
    const box = (await page.locator('[data-view=axial] [data-testid=view-input]').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.45);
    await expect.poll(() => page.getAttribute('[data-testid=status-hover-value]', 'data-value')).not.toBe('');
    const hover = await page.getAttribute('[data-testid=status-hover-value]', 'data-value');
    expect(await page.getAttribute('[data-testid=status-value]', 'data-value')).not.toBe(hover);
    await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.45);
    await expect.poll(() => page.getAttribute('[data-testid=status-value]', 'data-value')).toBe(hover);
    // The open dialog's path box draws "_" (not like a space).
    await page.click('[data-testid=open-folder]');
    const input = page.locator('[data-testid=folder-path]');
    await input.fill('a b');
    const space = await input.screenshot();
    await input.fill('a_b');
    const underscore = await input.screenshot();
    expect(Buffer.compare(space, underscore)).not.toBe(0);
    await page.keyboard.press('Escape');
    await page.click('[data-testid=open-dialog] .close');
  });

  it('2: export proposes the output folder and the chosen layer\u2019s name, never the DICOM folder; the message goes away', async () => {
    const home = (await app.api().info()).homeDir;
    await page.click('[data-testid=menu-file]');
    await page.click('[data-testid=menu-export-layer]');
    const p1 = await page.inputValue('[data-testid=export-path]');
    expect(p1.startsWith(CT)).toBe(false);
    expect(p1.startsWith(home)).toBe(true);
    const options = await page.$$eval('[data-testid=export-layer] option', (els) => els.map((e) => [e.getAttribute('value')!, e.textContent!]));
    const thr = options.find(([, t]) => t === 'Threshold > 60')!;
    await page.selectOption('[data-testid=export-layer]', thr[0]);
    const p2 = await page.inputValue('[data-testid=export-path]');
    expect(path.dirname(p2)).toBe(path.dirname(p1));
    expect(path.basename(p2)).toMatch(/^Threshold.*60\.nii\.gz$/);
    await page.fill('[data-testid=export-path]', path.join(tmp, 'mask.nii.gz'));
    await page.click('[data-testid=export-go]');
    await page.waitForSelector('[data-testid=export-message]');
    expect(await page.textContent('[data-testid=export-message]')).toMatch(/^Wrote /);
    await page.waitForSelector('[data-testid=export-message]', { state: 'detached', timeout: 12_000 });
    // The next export proposes the folder last written to, with the layer's name.
    await page.click('[data-testid=menu-file]');
    await page.click('[data-testid=menu-export-layer]');
    expect(path.dirname(await page.inputValue('[data-testid=export-path]'))).toBe(tmp);
    await page.click('[data-testid=export-dialog] button:has-text("Cancel")');
  });

  it('6 + 7: menus close on Escape, outside clicks and dialogs; the inspector is off the sagittal view and movable; the registration panel is in view', async () => {
    await page.click('[data-testid=menu-file]');
    await page.keyboard.press('Escape');
    expect(await page.locator('.menu-items').count()).toBe(0);
    await page.click('[data-testid=menu-tools]');
    await clickView(page, 'coronal', 0.5, 0.5);
    expect(await page.locator('.menu-items').count()).toBe(0);
    await page.click('[data-testid=menu-tools]');
    await page.click('[data-testid=open-folder]');
    expect(await page.locator('.menu-items').count()).toBe(0);
    await page.click('[data-testid=open-dialog] .close');

    await page.click('[data-testid=menu-tools]');
    await page.click('[data-testid=menu-layer-inspector]');
    const insp = page.locator('[data-testid=layer-inspector]');
    const sag = (await page.locator('[data-view=sagittal]').boundingBox())!;
    const b0 = (await insp.boundingBox())!;
    expect(overlap(b0, sag)).toBe(0);
    const bar = (await page.locator('[data-testid=inspector-titlebar]').boundingBox())!;
    await page.mouse.move(bar.x + 60, bar.y + bar.height / 2);
    await page.mouse.down();
    await page.mouse.move(bar.x - 240, bar.y + bar.height / 2 - 150, { steps: 4 });
    await page.mouse.up();
    const b1 = (await insp.boundingBox())!;
    expect(Math.round(b1.x - b0.x)).toBe(-300);
    expect(Math.round(b1.y - b0.y)).toBe(-150);
    await page.click('[data-testid=layer-inspector] button[title=Close]');

    await page.click('[data-testid=menu-tools]');
    await page.click('[data-testid=menu-registration]');
    const panel = (await page.locator('[data-testid=registration-panel]').boundingBox())!;
    const side = (await page.locator('[data-testid=side-panel]').boundingBox())!;
    expect(panel.y).toBeGreaterThanOrEqual(side.y - 1);
    expect(panel.y).toBeLessThan(side.y + side.height / 2);
    const sel = (await page.locator('[data-testid=registration-moving]').boundingBox())!;
    expect(sel.x + sel.width).toBeLessThanOrEqual(side.x + side.width);
    await page.click('[data-testid=registration-close]');
  });

  it('5: opening a new main image asks before discarding unsaved layers', async () => {
    await page.click('[data-testid=open-folder]');
    await page.fill('[data-testid=folder-path]', PET);
    await page.click('[data-testid=scan-button]');
    await page.click('[data-testid=series-row]');
    await page.click('[data-testid=load-as] [data-role=main]');
    const ask = page.locator('[data-testid=confirm-discard]');
    await ask.waitFor();
    expect(await ask.textContent()).toMatch(/Masked 6\.9 Colonoscopy/);
    expect(await ask.textContent()).toMatch(/Cropped 6\.9 Colonoscopy/);
    expect(await ask.textContent()).not.toMatch(/Threshold > 60/); // exported in item 2: saved
    expect(await page.locator('[data-testid=cursor-row]').count()).toBe(6); // nothing discarded yet
    await page.click('[data-testid=discard-confirm]');
    await page.waitForSelector('[data-testid=open-dialog]', { state: 'detached', timeout: 60_000 });
    await expect.poll(() => page.locator('[data-testid=cursor-row]').count()).toBe(1);
    expect(app.errors).toEqual([]);
  });

  it('9: saving a big image shows how far it is (MB written, percent, a bar) and then what was written', async () => {
    // A 256³ float32 image (67 MB, smooth plus noise: compresses like a displacement field),
    // saved as .nii.gz: seconds of compression, during which the status area shows progress.
    const n = 256;
    const data = new Float32Array(n * n * n);
    for (let i = 0; i < data.length; i++) data[i] = 40 * Math.sin(i * 0.0007) + ((i * 2654435761) >>> 24) / 64;
    const big: Volume = { dims: [n, n, n], spacing: [1.2, 0.9, 2.5], origin: [-150, -120, -300], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'float32', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
    const src = path.join(tmp, 'big-field.nii');
    await writeNiftiFile(src, big);
    await openSeries(page, src, 'additional');
    await page.click('[data-testid=menu-file]');
    await page.click('[data-testid=menu-export-layer]');
    await page.waitForSelector('[data-testid=export-layer] option', { state: 'attached' });
    const options = await page.$$eval('[data-testid=export-layer] option', (els) => els.map((e) => [e.getAttribute('value')!, e.textContent!]));
    await page.selectOption('[data-testid=export-layer]', options.find(([, t]) => /big-field/.test(t))![0]);
    const out = path.join(tmp, 'big-out.nii.gz');
    await page.fill('[data-testid=export-path]', out);
    // Every progress text the page shows, recorded as it changes.
    await page.evaluate(() => {
      const w = window as unknown as { seen: string[] };
      w.seen = [];
      new MutationObserver(() => {
        const t = document.querySelector('[data-testid=save-progress-text]')?.textContent;
        if (t && w.seen[w.seen.length - 1] !== t) w.seen.push(t);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.click('[data-testid=export-go]');
    // While writing: a fraction strictly between 0 and 1 on the bar, and its text.
    await page.waitForFunction(
      () => {
        const f = Number(document.querySelector('[data-testid=save-progress]')?.getAttribute('data-fraction') || 'NaN');
        return f > 0 && f < 1;
      },
      null,
      { timeout: 30_000, polling: 20 },
    );
    await page.waitForSelector('[data-testid=export-message]', { timeout: 60_000 });
    expect(await page.textContent('[data-testid=export-message]')).toMatch(/^Wrote .*big-out\.nii\.gz/);
    expect(await page.locator('[data-testid=save-progress]').count()).toBe(0);
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    const steps = seen
      .map((t) => /^Writing big-out\.nii\.gz: (\d+) of (\d+) MB \((\d+) %\)$/.exec(t))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => ({ mb: +m[1], total: +m[2], pct: +m[3] }));
    expect(steps.length).toBeGreaterThanOrEqual(2);
    expect(steps.every((s) => s.total === 67)).toBe(true);
    expect(steps.some((s) => s.pct > 0 && s.pct < 99)).toBe(true);
    for (let i = 1; i < steps.length; i++) expect(steps[i].mb).toBeGreaterThanOrEqual(steps[i - 1].mb);
    for (const s of steps) expect(Math.abs(s.pct - (100 * s.mb) / s.total)).toBeLessThanOrEqual(2);
    // And the file holds the image.
    const back = (await readNiftiFile(out)).volume;
    expect(back.dims).toEqual([n, n, n]);
    expect((back.data as Float32Array)[12_345_678]).toBe(data[12_345_678]);
    expect(app.errors).toEqual([]);
  }, 180_000);
});
