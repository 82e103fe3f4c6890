// End-to-end: the real GE CT with its rt-utils RTSTRUCT in the real UI (Chromium against the
// browser host): the three structure sets of the folder are listed in the open dialog; the one
// that references the loaded CT opens as a label layer named and coloured as in the file; its
// voxels (saved to NIfTI from the panel) equal a point-in-polygon rasterisation made here, and
// it can be drawn filled or as outlines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS, DATA, nextFrames, openSeries, startApp, type E2eApp } from './helpers';
import { readNiftiFile } from '../../src-main/nifti/nifti-file';
import { loadDicomSeries, scanDicom } from '../../src-main/dicom/index';
import { readRtStruct } from '../../src-main/dicom/rtstruct';
import { worldToIndexMatrix, indexToWorld } from '../../src-shared/geometry/geometry';
import { rasterizeReference } from '../rtstruct-writer';

let app: E2eApp;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lattice-rt-e2e-'));
  app = await startApp();
}, 300_000);

afterAll(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const count = async (page: Page, label: number) => Number(await page.getAttribute(`[data-testid=label-count-${label}]`, 'data-count'));
const overlayPixels = async (page: Page) => {
  await nextFrames(page);
  return Number(await page.getAttribute('[data-view=axial]', 'data-overlay-pixels'));
};
async function axialBox(page: Page) {
  return (await page.locator('[data-view=axial] [data-testid=view-input]').boundingBox())!;
}

describe('RT structure sets in the browser host (Chromium)', () => {
  it('opens the RTSTRUCT that goes with the CT as a label layer, voxels exactly as rasterised here', async () => {
    const folder = path.join(DATA, 'dicom/ct_ge_with_rtstruct_mixed');
    const p2 = app.page;
    await openSeries(p2, folder);
    await p2.click('[data-testid=open-folder]');
    await p2.fill('[data-testid=folder-path]', folder);
    await p2.click('[data-testid=scan-button]');
    const row = p2.locator('[data-testid=series-row][title*="/rt.dcm ·"]');
    await row.waitFor({ timeout: 30_000 });
    expect(await p2.locator('[data-testid=series-row]', { hasText: 'RTSTRUCT' }).count()).toBe(3);
    await row.click();
    await p2.waitForSelector('[data-testid=open-dialog]', { state: 'detached', timeout: 60_000 });
    await p2.waitForFunction(() => [...document.querySelectorAll('[data-testid=seg-layer] option')].some((o) => o.textContent === 'ROI-1'), null, { timeout: 30_000 });
    expect(await p2.inputValue('[data-testid=label-name-1]')).toBe('ROI-1');
    expect(await p2.inputValue('[data-testid=label-color-1]')).toBe('#a2885f');
    const shown = await count(p2, 1);
    expect(shown).toBeGreaterThan(100);

    // Reference: the CT and the contours read here, rasterised by ray casting.
    const scan = await scanDicom([folder]);
    const ct = (await loadDicomSeries(scan, scan.series[0].id)).volume;
    const want = rasterizeReference(ct, readRtStruct(path.join(folder, 'rt.dcm')).rois[0].contours);
    expect(want.reduce((a, b) => a + b, 0)).toBe(shown);

    await p2.click('[data-testid=seg-files] summary');
    const out = path.join(dir, 'roi1.nii');
    await p2.fill('[data-testid=seg-path]', out);
    await p2.click('[data-testid=seg-save]');
    await p2.waitForFunction(() => /Saved/.test(document.querySelector('[data-testid=seg-message]')?.textContent ?? ''), null, { timeout: 30_000 });
    expect(existsSync(out)).toBe(true);
    const back = (await readNiftiFile(out)).volume;
    // Voxel by voxel through world coordinates (the NIfTI may store rows in another order).
    const m = worldToIndexMatrix(back);
    let diff = 0;
    for (let k = 0; k < ct.dims[2]; k++)
      for (let j = 0; j < ct.dims[1]; j++)
        for (let i = 0; i < ct.dims[0]; i++) {
          const [x, y, z] = indexToWorld(ct, [i, j, k]);
          const a = Math.round(m[0] * x + m[1] * y + m[2] * z + m[3]);
          const b = Math.round(m[4] * x + m[5] * y + m[6] * z + m[7]);
          const c = Math.round(m[8] * x + m[9] * y + m[10] * z + m[11]);
          const v = back.data[a + back.dims[0] * (b + back.dims[1] * c)];
          if ((v ? 1 : 0) !== want[i + ct.dims[0] * (j + ct.dims[1] * k)]) diff++;
        }
    expect(diff).toBe(0);
    // The structure lies on the first of the two slices.
    const b2 = await axialBox(p2);
    await p2.mouse.move(b2.x + b2.width / 2, b2.y + b2.height / 2);
    if ((await overlayPixels(p2)) === 0) await p2.keyboard.press('PageDown');
    const filledPx = await overlayPixels(p2);
    expect(filledPx).toBe(want.slice(0, ct.dims[0] * ct.dims[1]).reduce((a, b) => a + b, 0));
    await p2.click('[data-testid=seg-outline]');
    const outlinePx = await overlayPixels(p2);
    expect(outlinePx).toBeGreaterThan(0);
    expect(outlinePx).toBeLessThan(filledPx);
    await p2.screenshot({ path: path.join(ARTIFACTS, 'segmentation-rtstruct-outline.png') });
    expect(app.errors).toEqual([]);
  }, 120_000);
});
