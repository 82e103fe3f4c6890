// End-to-end: a colour (RGB) DICOM series in the real viewer (Debian's Chromium, browser
// host). Asserts: the views draw the colours themselves (R, G and B differ across the
// plane, i.e. no grey LUT), and the cursor inspector's R, G, B at a clicked voxel are the
// stored colour of that voxel in the DICOM data (read by the converter's viewer path).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { ARTIFACTS as artifacts, DATA as data, startApp, type E2eApp, openSeries, clickView, cursorRows, nextFrames } from './helpers';
import { loadDicomSeries, scanDicom } from '../../src-main/dicom/index';

const COLFA = path.join(data, 'dicom/siemens_xa30_enh_colfa_rgb');
let app: E2eApp;

beforeAll(async () => {
  app = await startApp();
}, 300_000);
afterAll(async () => {
  await app?.close();
});

describe('colour (RGB) layer', () => {
  it('draws the colours and the inspector reads R, G, B of the voxel', async () => {
    const page = app.page;
    await openSeries(page, COLFA);
    await clickView(page, 'axial', 0.45, 0.55);
    await nextFrames(page);
    const colourful = await page.evaluate(() => {
      const c = document.querySelector('[data-view=axial] canvas.plane') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[i + 1]) > 20 || Math.abs(d[i + 1] - d[i + 2]) > 20) n++;
      return n;
    });
    expect(colourful).toBeGreaterThan(100);
    await page.screenshot({ path: path.join(artifacts, 'rgb-colfa.png') });
    const { rows } = await cursorRows(page);
    expect(rows.length).toBe(1);
    const rgb = (await page.getAttribute('[data-testid=cursor-row]', 'data-rgb'))!.split(',').map(Number);
    const text = (await page.textContent('[data-testid=cursor-row]'))!;
    expect(text).toMatch(/R \d+, G \d+, B \d+/);
    // The same voxel in the DICOM data.
    const scan = await scanDicom([COLFA]);
    const { volume } = await loadDicomSeries(scan, scan.series[0].id, { tags: false });
    const [i, j, k] = rows[0].index;
    const o = 3 * (i + volume.dims[0] * (j + volume.dims[1] * k));
    expect(rgb).toEqual([volume.data[o], volume.data[o + 1], volume.data[o + 2]]);
    // The status bar says the same.
    expect((await page.getAttribute('[data-testid=status-value]', 'data-rgb'))!.split(',').map(Number)).toEqual(rgb);
    expect(app.errors).toEqual([]);
  }, 120_000);
});
