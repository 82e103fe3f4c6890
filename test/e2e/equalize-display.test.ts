// End-to-end: histogram equalisation as a display option (Layer Inspector ▸ Contrast) and
// CLAHE in Tools ▸ Analysis, in the real UI (Chromium against the browser host; the CLAHE
// job in the host's analysis worker) on a real CT. Checked on the pixels of the axial plane:
// global equalisation is a monotone remapping of the same picture that spreads its grey
// levels (more entropy); adaptive differs from both and raises local contrast; off gives
// back the original picture exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS as artifacts, DATA as data, nextFrames, openSeries, startApp, type E2eApp, waitForToolJob } from './helpers';

const CT = path.join(data, 'dicom/ct_ge_lightspeed_3slice');

let app: E2eApp;
beforeAll(async () => {
  app = await startApp();
}, 300_000);
afterAll(async () => {
  await app?.close();
});

/** The axial plane's grey levels (red channel: a grey colour map), its hash and a few statistics. */
async function plane(page: Page) {
  await nextFrames(page);
  const r = await page.evaluate(() => {
    const c = document.querySelector('[data-view=axial] canvas.plane') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const grey = new Array<number>(d.length / 4);
    let h = 2166136261;
    for (let i = 0; i < d.length; i += 4) {
      grey[i / 4] = d[i];
      h = Math.imul(h ^ (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16)), 16777619);
    }
    return { grey, width: c.width, hash: h >>> 0 };
  });
  const n = r.grey.length;
  const hist = new Array(256).fill(0);
  for (const g of r.grey) hist[g]++;
  // Shannon entropy of the grey histogram (bits): 8 = every level equally used.
  const entropy = -hist.reduce((s, c) => (c ? s + (c / n) * Math.log2(c / n) : s), 0);
  // Local contrast: mean absolute difference to the right-hand neighbour.
  let grad = 0;
  for (let i = 0; i < n; i++) if ((i + 1) % r.width) grad += Math.abs(r.grey[i + 1] - r.grey[i]);
  return { ...r, entropy, grad: grad / n };
}

describe('Histogram equalisation in the browser host (Chromium)', () => {
  it('Contrast tab: global and adaptive equalisation change the picture as they should; off restores it; CLAHE as a tool', async () => {
    const page = await app.newPage();
    await page.setViewportSize({ width: 1400, height: 1000 });
    try {
      await openSeries(page, CT);
      const original = await plane(page);
      await page.click('[data-testid=menu-tools]');
      await page.click('[data-testid=menu-layer-inspector]');
      await page.click('[data-tab=contrast]');

      await page.selectOption('[data-testid=contrast-equalize]', 'global');
      await expect.poll(async () => (await plane(page)).hash, { timeout: 10_000 }).not.toBe(original.hash);
      const global = await plane(page);
      await page.screenshot({ path: path.join(artifacts, 'equalize-global.png') });
      // Spread: the abdomen window leaves most pixels black or white; equalised, the grey levels are used far more evenly.
      expect(global.entropy).toBeGreaterThan(original.entropy + 1);
      // Same picture, remapped monotonically: where the original is not saturated, a brighter
      // original pixel is never drawn darker (one LUT step of slack).
      const lo = new Array(256).fill(256), hi = new Array(256).fill(-1);
      original.grey.forEach((g, i) => {
        if (g === 0 || g === 255) return;
        lo[g] = Math.min(lo[g], global.grey[i]);
        hi[g] = Math.max(hi[g], global.grey[i]);
      });
      let maxSoFar = -1, violations = 0, levels = 0;
      for (let g = 1; g < 255; g++) {
        if (hi[g] < 0) continue;
        levels++;
        if (lo[g] < maxSoFar - 1) violations++;
        maxSoFar = Math.max(maxSoFar, hi[g]);
      }
      expect(levels).toBeGreaterThan(100);
      expect(violations).toBe(0);
      expect(await page.textContent('[data-testid=contrast-equalize-note]')).toMatch(/cumulative histogram/);

      await page.selectOption('[data-testid=contrast-equalize]', 'adaptive');
      await page.waitForFunction(() => !/Computing|failed/.test(document.querySelector('[data-testid=contrast-equalize-note]')?.textContent ?? 'Computing'), null, { timeout: 120_000 });
      await expect.poll(async () => (await plane(page)).hash, { timeout: 10_000 }).not.toBe(global.hash);
      const adaptive = await plane(page);
      await page.screenshot({ path: path.join(artifacts, 'equalize-adaptive.png') });
      expect(adaptive.hash).not.toBe(original.hash);
      expect(adaptive.entropy).toBeGreaterThan(original.entropy + 1);

      await page.selectOption('[data-testid=contrast-equalize]', 'off');
      await expect.poll(async () => (await plane(page)).hash, { timeout: 10_000 }).toBe(original.hash);

      // CLAHE starts from the full value range: against the linear display of that range
      // (window = the image's range, from the Info tab), it raises local contrast.
      await page.click('[data-tab=info]');
      const range = (await page.locator('[data-testid=layer-info] dd').nth(5).textContent())!.split('…').map((x) => parseFloat(x));
      await page.click('[data-tab=contrast]');
      await page.fill('[data-testid=contrast-window]', String(range[1] - range[0]));
      await page.press('[data-testid=contrast-window]', 'Enter');
      await page.fill('[data-testid=contrast-level]', String((range[0] + range[1]) / 2));
      await page.press('[data-testid=contrast-level]', 'Enter');
      await expect.poll(async () => (await plane(page)).hash, { timeout: 10_000 }).not.toBe(original.hash);
      const linear = await plane(page);
      expect(adaptive.grad).toBeGreaterThan(linear.grad * 1.5);
      expect(adaptive.entropy).toBeGreaterThan(linear.entropy + 1);
      console.log(
        `equalisation display (axial plane): entropy abdomen window ${original.entropy.toFixed(2)}, full range ${linear.entropy.toFixed(2)} → global ${global.entropy.toFixed(2)}, adaptive ${adaptive.entropy.toFixed(2)} bits; ` +
          `local contrast (mean |Δ| to the next pixel) full range ${linear.grad.toFixed(2)} → adaptive ${adaptive.grad.toFixed(2)} grey levels`,
      );

      // Tools ▸ Analysis ▸ Histogram equalisation, adaptive: a CLAHE layer.
      await page.click('[data-testid=analysis-equalize]');
      await page.selectOption('[data-testid=equalize-method]', 'adaptive');
      await page.fill('[data-testid=equalize-clip]', '0.02');
      await page.check('[data-testid=equalize-per-slice]');
      await page.click('[data-testid=equalize-apply]');
      expect(await waitForToolJob(page)).toBeNull();
      await page.waitForSelector('text=CLAHE per slice clip 0.02 of', { timeout: 30_000 });
      expect(app.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 300_000);
});
