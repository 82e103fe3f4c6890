// End-to-end: the Analysis section of the Tools panel in the real UI (Chromium against the
// browser host; the analysis jobs in the host's worker and its kernel pool), on a real CT:
// threshold → dilate → compare the two masks (the table on screen, checked against the
// engine run here on the same CT), label statistics, then a Gaussian filter as a new layer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { ARTIFACTS as artifacts, DATA as data, startApp, type E2eApp, openSeries, waitForToolJob } from './helpers';
import { readNiftiFile } from '../../src-main/nifti/nifti-file';
import { compareMasks } from '../../src-shared/analysis';
import { morphology, threshold } from '../../src-shared/processing';

const CT = path.join(data, 'dicom/ct_ge_lightspeed_3slice');
const REF = path.join(data, 'reference/ct_ge_lightspeed_3slice');

let app: E2eApp;
beforeAll(async () => {
  app = await startApp();
}, 300_000);
afterAll(async () => {
  await app?.close();
});

describe('Analysis tools in the browser host (Chromium)', () => {
  it('compares a threshold mask with its dilation in a table, measures it, filters the CT', async () => {
    const page = await app.newPage();
    await page.setViewportSize({ width: 1400, height: 1000 });
    try {
      await openSeries(page, CT);
      await page.fill('[data-testid=threshold-lower]', '60');
      await page.click('[data-testid=threshold-apply]');
      expect(await waitForToolJob(page)).toBeNull();
      await page.click('[data-testid=tool-morphology]');
      await page.fill('[data-testid=morph-radius]', '2');
      await page.click('[data-testid=morph-apply]');
      expect(await waitForToolJob(page)).toBeNull();

      await page.click('[data-testid=analysis-compare]');
      await page.click('[data-testid=compare-apply]');
      expect(await waitForToolJob(page)).toBeNull();
      const table = page.locator('[data-testid=compare-table]');
      await table.waitFor();
      const cell = async (name: string) => Number(await table.locator('tr', { hasText: name }).first().locator('td').textContent());
      // The same on the engine here: the dcm2niix reference of the same series.
      const ref = (await readNiftiFile(path.join(REF, readdirSync(REF).find((f) => f.endsWith('.nii'))!))).volume;
      const a = threshold(ref, { lower: 60, lowerInclusive: false });
      const expected = await compareMasks(a, morphology(a, 'dilate', { shape: 'ball', radius: 2 }));
      expect(await cell('Dice')).toBeCloseTo(expected.dice!, 4);
      expect(await cell('Jaccard')).toBeCloseTo(expected.jaccard!, 4);
      expect(await cell('Hausdorff (mm)')).toBeCloseTo(expected.hausdorff_mm!, 2);
      expect(await cell('Precision')).toBe(1);
      await page.screenshot({ path: path.join(artifacts, 'analysis-compare.png') });

      await page.click('[data-testid=analysis-stats]');
      await page.click('[data-testid=stats-apply]');
      expect(await waitForToolJob(page)).toBeNull();
      const row = page.locator('[data-testid=stats-table] tr').nth(1);
      const cells = await row.locator('td').allTextContents();
      expect(Number(cells[0])).toBe(1);
      expect(Number(cells[1])).toBe(expected.voxelsB);

      await page.click('[data-testid=analysis-filter]');
      await page.selectOption('[data-testid=filter-kind]', 'gaussian');
      await page.fill('[data-testid=filter-sigma]', '2');
      await page.click('[data-testid=filter-apply]');
      expect(await waitForToolJob(page)).toBeNull();
      await page.waitForSelector('text=Gaussian σ 2 mm of', { timeout: 30_000 });
    } finally {
      await page.close();
    }
  }, 300_000);
});
