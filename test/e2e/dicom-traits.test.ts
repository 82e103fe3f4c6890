// End-to-end: what the viewer shows for the special DICOM series of issue 11b, in Debian's
// Chromium against the browser host: the b-value of the diffusion volume in view (UIH grid
// DTI, de-mosaicked into 64×64×20×17) follows the volume slider; a CT stack with uneven
// slice spacing is shown resampled to equal spacing (5 slices of 5 mm spanning the 4
// acquired ones) with a warning.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { DATA as data, startApp, type E2eApp, openSeries, nextFrames } from './helpers';

let app: E2eApp;

beforeAll(async () => {
  app = await startApp();
}, 300_000);

afterAll(async () => {
  await app?.close();
});

describe('diffusion and uneven stacks in the viewer', () => {
  it('shows the b-value of the volume in view, and the de-mosaicked UIH dims', async () => {
    const page = await app.newPage();
    await openSeries(page, path.join(data, 'dicom/uih_dti_ap_mosaic'));
    expect(await page.textContent('[data-testid=status-bvalue]')).toBe('1.25194');
    // Move to volume 2 (b = 928.289) with the side panel's volume slider.
    await page.locator('[data-testid=frame-slider]').fill('1');
    await nextFrames(page);
    expect(await page.textContent('[data-testid=status-bvalue]')).toBe('928.289');
    const side = (await page.textContent('body'))!;
    expect(side).toMatch(/64 × 64 × 20 × 17/);
    await page.close();
  }, 120_000);

  it('loads an uneven CT stack resampled to equal spacing, with a warning', async () => {
    const page = await app.newPage();
    await openSeries(page, path.join(data, 'dicom/ct_ge_uneven_spacing'));
    const warn = await page.textContent('[data-testid=load-warnings]');
    expect(warn).toMatch(/shown resampled to 5 slices at an equal 5 mm/);
    expect((await page.textContent('body'))!).toMatch(/512 × 512 × 5/);
    expect(await page.locator('[data-testid=status-bvalue]').count()).toBe(0);
    await page.close();
  }, 120_000);

  it('no page errors', () => {
    expect(app.errors).toEqual([]);
  });
});
