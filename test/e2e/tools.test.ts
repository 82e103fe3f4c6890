// End-to-end: the masking workflow users learn first, in the real UI (Chromium against the
// browser host, processing in the host's job runner), on a real scanner CT:
//   load the CT → threshold at 60 (live preview first) → mask the original (background =
//   image minimum) → change window/level: background pixels on screen stay black while the
//   foreground follows the new window. Then undo, a morphology step, and a failed job's message.
// Asserts what the user sees: pixels of the axial view's plane canvas at background and
// foreground locations, chosen from the ORIGINAL image's picture under two windows.
// Screenshots go to test-artifacts/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS as artifacts, DATA as data, startApp, type E2eApp, openSeries, waitForToolJob } from './helpers';

const CT = path.join(data, 'dicom/ct_ge_lightspeed_3slice');

let app: E2eApp;

beforeAll(async () => {
  app = await startApp();
}, 300_000);

afterAll(async () => {
  await app?.close();
});

/**
 * One channel of every pixel of the axial plane canvas (grey images: r = g = b), after a
 * redraw. Default red; green is untouched by the red mask overlay's colour (it only scales).
 */
async function axialGrey(page: Page, channel = 0): Promise<{ width: number; height: number; grey: number[] }> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  return page.evaluate((ch) => {
    const c = document.querySelector('[data-view=axial] canvas.plane') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const grey: number[] = new Array(c.width * c.height);
    for (let i = 0; i < grey.length; i++) grey[i] = d[i * 4 + ch];
    return { width: c.width, height: c.height, grey };
  }, channel);
}

async function setWindowLevel(page: Page, w: number, l: number) {
  await page.fill('[data-testid=wl-window]', String(w));
  await page.press('[data-testid=wl-window]', 'Enter');
  await page.fill('[data-testid=wl-level]', String(l));
  await page.press('[data-testid=wl-level]', 'Enter');
  await page.locator('[data-testid=wl-level]').blur();
}

describe('Tools panel in the browser host (Chromium)', () => {
  it('threshold at 60 → mask the original → window/level change: background stays black, foreground follows', async () => {
    const page = await app.newPage();
    await page.setViewportSize({ width: 1400, height: 1000 });
    try {
      await openSeries(page, CT);
      const view = page.locator('[data-view=axial]');

      // The original under the abdomen window (400/40) and under a wide window (3000/0).
      await setWindowLevel(page, 400, 40);
      const origA = await axialGrey(page);
      await setWindowLevel(page, 3000, 0);
      const origB = await axialGrey(page);
      // Background: air inside the scanner's field of view (≈ −1000 HU: black under 400/40,
      // dark grey ≈ 42 under 3000/0). Foreground: soft tissue/contrast ≈ 75…185 HU (grey
      // 150…220 under 400/40), well above the threshold.
      const bg: number[] = [];
      const fg: number[] = [];
      for (let i = 0; i < origA.grey.length; i++) {
        if (origA.grey[i] === 0 && origB.grey[i] >= 30 && origB.grey[i] <= 55) bg.push(i);
        if (origA.grey[i] >= 150 && origA.grey[i] <= 220) fg.push(i);
      }
      expect(bg.length, 'air pixels in the CT').toBeGreaterThan(1000);
      expect(fg.length, 'soft-tissue pixels in the CT').toBeGreaterThan(1000);
      await setWindowLevel(page, 400, 40);

      // Threshold at 60: voxels ≤ 60 → 0, others → 1, with the live preview first.
      // The threshold form is open when an image is loaded.
      await page.fill('[data-testid=threshold-lower]', '60');
      expect(await page.inputValue('[data-testid=threshold-lower]')).toBe('60');
      await page.check('[data-testid=threshold-preview]');
      await expect.poll(async () => Number(await view.getAttribute('data-overlay-pixels')), { timeout: 10_000 }).toBeGreaterThan(1000);
      const previewShot = await axialGrey(page);
      // The preview is drawn over the foreground only (red overlay: the red channel rises, air stays black).
      expect(bg.filter((i) => previewShot.grey[i] === 0).length / bg.length).toBeGreaterThan(0.99);
      await page.screenshot({ path: path.join(artifacts, 'tools-threshold-preview.png') });

      await page.click('[data-testid=threshold-apply]');
      expect(await waitForToolJob(page, 60_000)).toBeNull();
      await expect.poll(() => page.locator('[data-testid=tools-undo]').textContent()).toContain('Threshold > 60');
      // The preview is gone, the mask layer is in: its overlay is drawn.
      expect(Number(await view.getAttribute('data-overlay-pixels'))).toBeGreaterThan(1000);

      // Mask the original: background defaults to the image minimum (−3024 HU here).
      await page.click('[data-testid=tool-mask]');
      expect(await page.isChecked('[data-testid=mask-bg-min]')).toBe(true);
      await expect.poll(() => page.locator('[data-op=mask]').textContent()).toContain('(-3024)');
      await page.click('[data-testid=mask-apply]');
      expect(await waitForToolJob(page, 60_000)).toBeNull();
      await expect.poll(() => page.locator('[data-testid=tools-undo]').textContent()).toContain('Mask');
      // The masked image is shown in the main image's place.
      const mainId = (await view.getAttribute('data-rendered-image'))!;
      await expect.poll(() => view.getAttribute('data-shown-layer')).not.toBe(mainId);
      const maskedId = (await view.getAttribute('data-shown-layer'))!;

      const maskedA = await axialGrey(page);
      await page.screenshot({ path: path.join(artifacts, 'tools-masked-abdomen-window.png') });
      // Change window/level as users do: the wide window shows the original's air as grey…
      await setWindowLevel(page, 3000, 0);
      const maskedB = await axialGrey(page);
      await page.screenshot({ path: path.join(artifacts, 'tools-masked-wide-window.png') });
      // …the original under the same window, with the same mask overlay on top (layer button).
      // (Window/level acts on the image in view: the original gets the same window.)
      await page.click(`[data-view=axial] [data-layer-thumb="${mainId}"]`);
      await expect.poll(() => view.getAttribute('data-shown-layer')).toBe(mainId);
      await setWindowLevel(page, 3000, 0);
      const origOverlayB = await axialGrey(page);
      await page.click(`[data-view=axial] [data-layer-thumb="${maskedId}"]`);
      await expect.poll(() => view.getAttribute('data-shown-layer')).toBe(maskedId);

      // In the masked image the background stays black under both windows,
      const black = (g: number[]) => bg.filter((i) => g[i] === 0).length / bg.length;
      expect(black(maskedA.grey)).toBeGreaterThan(0.99);
      expect(black(maskedB.grey)).toBeGreaterThan(0.99);
      expect(black(origOverlayB.grey)).toBe(0); // the original there is not black
      // …while the foreground follows the new window exactly as the original does.
      const same = (a: number[], b: number[], idx: number[]) => idx.filter((i) => Math.abs(a[i] - b[i]) <= 2).length / idx.length;
      expect(same(maskedB.grey, origOverlayB.grey, fg)).toBeGreaterThan(0.95);
      expect(same(maskedB.grey, maskedA.grey, fg)).toBeLessThan(0.1); // it did change

      // Undo removes the masked image: the views show the original again.
      await page.click('[data-testid=tools-undo]');
      await expect.poll(() => view.getAttribute('data-shown-layer')).toBe(mainId);
      await expect.poll(() => page.locator('[data-testid=tools-undo]').textContent()).toContain('Threshold > 60');
      const back = await axialGrey(page);
      expect(same(back.grey, origOverlayB.grey, [...bg, ...fg])).toBeGreaterThan(0.99);
      expect(app.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 180_000); // ~20 s alone; more when the e2e files run side by side on 2 busy cores

  it('a long job shows progress and can be cancelled; bad input and a failed job show clear messages and the app keeps working; crop keeps the place in the world', async () => {
    const page = await app.newPage();
    await page.setViewportSize({ width: 1400, height: 1000 });
    try {
      await openSeries(page, CT);
      await page.fill('[data-testid=threshold-lower]', '60');
      await page.click('[data-testid=threshold-apply]');
      expect(await waitForToolJob(page, 60_000)).toBeNull();

      // Dilation, 1000 iterations of a radius-15 ball: long enough to see progress and cancel.
      await page.click('[data-testid=tool-morphology]');
      await page.fill('[data-testid=morph-radius]', '15');
      await page.fill('[data-testid=morph-iterations]', '1000');
      await page.click('[data-testid=morph-apply]');
      await page.waitForSelector('[data-testid=tools-progress]', { timeout: 10_000 });
      await expect.poll(() => page.locator('[data-testid=tools-progress]').textContent(), { timeout: 20_000 }).toMatch(/\d+ %/);
      await page.screenshot({ path: path.join(artifacts, 'tools-job-progress.png') });
      await page.click('[data-testid=tools-cancel]');
      expect(await waitForToolJob(page, 60_000)).toMatch(/cancelled/);
      await expect.poll(() => page.locator('[data-testid=tools-undo]').textContent()).toContain('Threshold > 60'); // nothing added

      // Drawing the box: arm, then drag across the axial view; the slice axis keeps its extent.
      await page.click('[data-testid=tool-crop]');
      expect(await page.inputValue('[data-testid=crop-end-0]')).toBe('511'); // whole image first
      await page.click('[data-testid=crop-draw]');
      const box = (await page.locator('[data-view=axial] [data-testid=view-input]').boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.35, box.y + box.height * 0.3);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.55, { steps: 5 });
      await page.mouse.up();
      await expect.poll(() => page.locator('[data-testid=crop-draw]').textContent()).toBe('Draw in a view');
      const corners = async () => Promise.all(['start', 'end'].flatMap((w) => [0, 1, 2].map((a) => page.inputValue(`[data-testid=crop-${w}-${a}]`).then(Number))));
      const [i0, j0, k0, i1, j1, k1] = await corners();
      expect([k0, k1]).toEqual([0, 2]);
      expect(i1 - i0).toBeGreaterThan(50);
      expect(i1 - i0).toBeLessThan(300);
      expect(j1 - j0).toBeGreaterThan(50);
      expect(j1 - j0).toBeLessThan(300);
      // The box is drawn in the views while the crop form is open.
      await expect.poll(async () => Number(await page.locator('[data-view=axial]').getAttribute('data-overlay-pixels'))).toBeGreaterThan(2500);
      await page.screenshot({ path: path.join(artifacts, 'tools-crop-box-drawn.png') });

      // A crop corner outside the image is refused with a message naming it.
      for (const [ax, v] of [[0, 100], [1, 100], [2, 0]] as const) await page.fill(`[data-testid=crop-start-${ax}]`, String(v));
      for (const [ax, v] of [[0, 600], [1, 300], [2, 2]] as const) {
        await page.fill(`[data-testid=crop-end-${ax}]`, String(v));
        await page.press(`[data-testid=crop-end-${ax}]`, 'Tab');
      }
      await page.click('[data-testid=crop-apply]');
      await expect.poll(() => page.locator('[data-testid=tools-error]').textContent()).toBe('Crop: Corner 2 i = 600 is not a voxel index of 6.9 Colonoscopy (0 … 511).');

      // A valid box crops; the result keeps its place in the world (checked on screen below).
      await page.fill('[data-testid=crop-end-0]', '400');
      await page.press('[data-testid=crop-end-0]', 'Tab');
      await page.click('[data-testid=crop-apply]');
      expect(await waitForToolJob(page, 60_000)).toBeNull();
      await expect.poll(() => page.locator('[data-testid=tools-undo]').textContent()).toContain('Crop');
      await expect.poll(() => page.locator('[data-testid=tools-note]').textContent()).toBe('Kept voxels 100,100,0 – 400,300,2 (inclusive)');

      // A job that fails on the host (image and mask on different grids): its message is
      // shown, no layer is added, and the app keeps working.
      await page.click('[data-testid=tool-mask]');
      await page.selectOption('[data-testid=mask-image]', { label: 'Cropped 6.9 Colonoscopy' });
      await page.selectOption('[data-testid=mask-mask]', { label: 'Threshold > 60' });
      await page.click('[data-testid=mask-apply]');
      expect(await waitForToolJob(page, 60_000)).toMatch(/^Mask failed: .*the images have different sizes \(301×201×3 and 512×512×3\); resample one onto the other first$/);
      await page.screenshot({ path: path.join(artifacts, 'tools-job-failed.png') });
      await expect.poll(() => page.locator('[data-testid=tools-undo]').textContent()).toContain('Crop');

      // Show the cropped image in the views (layer buttons): inside the box it is the same
      // picture at the same place; outside it there is nothing.
      const view = page.locator('[data-view=axial]');
      const mainId = (await view.getAttribute('data-rendered-image'))!;
      const orig = await axialGrey(page, 1);
      const thumb = page.locator('[data-view=axial] [data-layer-thumb][title*="Cropped 6.9 Colonoscopy"]');
      await thumb.click();
      await expect.poll(() => view.getAttribute('data-shown-layer')).not.toBe(mainId);
      const cropped = await axialGrey(page, 1);
      const inside = cropped.grey.map((g, i) => i).filter((i) => cropped.grey[i] > 0);
      const origBody = orig.grey.filter((g) => g > 0).length;
      expect(inside.length).toBeGreaterThan(0.2 * origBody);
      expect(inside.length).toBeLessThan(0.9 * origBody);
      await page.screenshot({ path: path.join(artifacts, 'tools-cropped.png') });
      expect(inside.filter((i) => Math.abs(cropped.grey[i] - orig.grey[i]) <= 2).length / inside.length).toBeGreaterThan(0.99);
      await page.screenshot({ path: path.join(artifacts, 'tools-cropped.png') });
      expect(app.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 180_000); // ~20 s alone; more when the e2e files run side by side on 2 busy cores
});
