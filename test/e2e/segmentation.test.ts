// End-to-end: label editing in the real UI (Chromium against the browser host).
//   A synthetic phantom (bright ellipsoid, anisotropic voxels) opened as NIfTI: new label layer →
//   brush stroke → Ctrl+Z / Ctrl+Shift+Z → polygon fill (area checked against the triangle's
//   area on screen) → outline display → save as NIfTI + sidecar (voxels read back) → active
//   contour from a seed bubble, growing live (previews), accepted into the layer → 3D flood fill
//   with an image range in a new layer (run in the fill worker; exactly the ellipsoid's voxels),
//   and a 5 M-voxel 3D fill of a 256×256×200 ball during which the page keeps drawing frames.
//   (RT structure sets: segmentation-rtstruct.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS, nextFrames, openSeries, startApp, type E2eApp } from './helpers';
import { readNiftiFile, writeNiftiFile } from '../../src-main/nifti/nifti-file';
import type { Vec3, Volume } from '../../src-shared/image/volume';

let app: E2eApp;
let dir: string;
let phantomPath: string;
let sphereVoxels = 0;
const DIMS: Vec3 = [64, 64, 24];
const SPACING: Vec3 = [1, 1, 2];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lattice-seg-e2e-'));
  // Ellipsoid of radius 12 mm (value 500) centred in a 0-valued box.
  const data = new Int16Array(DIMS[0] * DIMS[1] * DIMS[2]);
  for (let k = 0, o = 0; k < DIMS[2]; k++)
    for (let j = 0; j < DIMS[1]; j++)
      for (let i = 0; i < DIMS[0]; i++, o++) {
        const r = Math.hypot((i - 31.5) * SPACING[0], (j - 31.5) * SPACING[1], (k - 11.5) * SPACING[2]);
        if (r <= 12) {
          data[o] = 500;
          sphereVoxels++;
        }
      }
  const vol: Volume = { dims: DIMS, spacing: SPACING, origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
  phantomPath = path.join(dir, 'phantom.nii.gz');
  await writeNiftiFile(phantomPath, vol);
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

/** CSS pixels per voxel of the axial plane (the plane canvas is scaled by a CSS transform). */
async function pxPerVoxel(page: Page): Promise<[number, number]> {
  return page.evaluate(() => {
    const c = document.querySelector('[data-view=axial] canvas.plane') as HTMLCanvasElement;
    const r = c.getBoundingClientRect();
    return [r.width / c.width, r.height / c.height] as [number, number];
  });
}

describe('segmentation in the browser host (Chromium)', () => {
  let page: Page;

  it('paints, undoes and redoes (Ctrl+Z / Ctrl+Shift+Z), fills a polygon, shows outlines, saves', async () => {
    page = await app.newPage();
    await openSeries(page, phantomPath);
    await page.click('[data-testid=seg-new]');
    await page.waitForSelector('[data-testid=label-table]');
    expect(await page.locator('[data-testid=label-table] tr').count()).toBe(6);
    expect(await page.inputValue('[data-testid=label-color-1]')).toBe('#ff0000');

    // Brush: round, 5 voxels, along a horizontal line through the centre.
    await page.click('[data-seg-tool=brush]');
    await page.fill('[data-testid=brush-size]', '5');
    const box = await axialBox(page);
    const y = box.y + box.height * 0.3;
    await page.mouse.move(box.x + box.width * 0.35, y);
    await page.mouse.down();
    for (let s = 1; s <= 5; s++) await page.mouse.move(box.x + box.width * (0.35 + 0.06 * s), y);
    await page.mouse.up();
    const painted = await count(page, 1);
    const [px, py] = await pxPerVoxel(page);
    // About (0.3·width / px voxels long) × 5 wide, on one slice.
    const length = (0.3 * box.width) / px;
    expect(painted).toBeGreaterThan(0.8 * length * 5);
    expect(painted).toBeLessThan(1.2 * (length + 5) * 5);
    expect(await overlayPixels(page)).toBe(painted);

    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.keyboard.press('Control+z');
    await page.waitForFunction(() => document.querySelector('[data-testid=label-count-1]')?.getAttribute('data-count') === '0');
    expect(await overlayPixels(page)).toBe(0);
    await page.keyboard.press('Control+Shift+z');
    await page.waitForFunction((n) => document.querySelector('[data-testid=label-count-1]')?.getAttribute('data-count') === String(n), painted);
    expect(await overlayPixels(page)).toBe(painted);

    // Polygon (label 2, background only): a triangle below the stroke.
    await page.click('[data-testid=label-table] tr[data-label="2"] td.num');
    await page.click('[data-seg-tool=polygon]');
    const tri: [number, number][] = [
      [0.3, 0.55],
      [0.7, 0.6],
      [0.45, 0.85],
    ];
    for (const [fx, fy] of tri) await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
    await page.waitForFunction(() => document.querySelector('[data-view=axial]')?.getAttribute('data-seg-drawn') === '3');
    await page.click('[data-testid=polygon-fill]');
    const filled = await count(page, 2);
    const pts = tri.map(([fx, fy]) => [box.width * fx, box.height * fy]);
    const area = Math.abs((pts[1][0] - pts[0][0]) * (pts[2][1] - pts[0][1]) - (pts[2][0] - pts[0][0]) * (pts[1][1] - pts[0][1])) / 2 / (px * py);
    expect(filled).toBeGreaterThan(0.85 * area);
    expect(filled).toBeLessThan(1.15 * area);
    expect(await count(page, 1)).toBe(painted);
    await page.screenshot({ path: path.join(ARTIFACTS, 'segmentation-polygon.png') });

    // Outline display: fewer coloured pixels, but some.
    const full = await overlayPixels(page);
    expect(full).toBe(painted + filled);
    await page.click('[data-testid=seg-outline]');
    const outline = await overlayPixels(page);
    expect(outline).toBeGreaterThan(0);
    expect(outline).toBeLessThan(full * 0.8);
    await page.click('[data-testid=seg-filled]');

    // Save: NIfTI + sidecar; the voxels read back match the counts.
    await page.click('[data-testid=seg-files] summary');
    const out = path.join(dir, 'seg.nii.gz');
    await page.fill('[data-testid=seg-path]', out);
    await page.fill('[data-testid=seg-label-path]', path.join(dir, 'seg-labels.txt'));
    await page.click('[data-testid=seg-save]');
    await page.waitForFunction(() => /Saved/.test(document.querySelector('[data-testid=seg-message]')?.textContent ?? ''), null, { timeout: 30_000 });
    const back = (await readNiftiFile(out)).volume;
    expect(back.dims).toEqual(DIMS);
    let n1 = 0;
    let n2 = 0;
    for (const v of back.data) {
      if (v === 1) n1++;
      if (v === 2) n2++;
    }
    expect([n1, n2]).toEqual([painted, filled]);
    const side = JSON.parse(readFileSync(path.join(dir, 'seg.labels.json'), 'utf8'));
    expect(side.labels[0]).toMatchObject({ value: 1, name: 'Label 1', color: '#ff0000' });
    expect(readFileSync(path.join(dir, 'seg-labels.txt'), 'utf8')).toContain('ITK-SnAP Label Description File');
  }, 120_000);

  it('grows an active contour from a seed bubble (live), stops at the object, accepts it', async () => {
    await page.click('[data-testid=label-table] tr[data-label="3"] td.num');
    await page.selectOption('[data-testid=paint-over]', 'background');
    await page.click('[data-seg-tool=bubble]');
    await page.click('[data-testid=snake-section] summary');
    await page.fill('[data-testid=snake-radius]', '3');
    await page.fill('[data-testid=snake-lower]', '250');
    await page.fill('[data-testid=snake-upper]', '10000');
    await page.fill('[data-testid=snake-iterations]', '300');
    const box = await axialBox(page);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => document.querySelector('[data-view=axial]')?.getAttribute('data-seg-drawn') === '1');
    // Log every voxel count the status shows while it runs (each preview updates it).
    await page.evaluate(() => {
      const el = document.querySelector('[data-testid=snake-status]')!;
      const log: number[] = ((window as unknown as { snakeLog: number[] }).snakeLog = []);
      new MutationObserver(() => log.push(Number(el.getAttribute('data-voxels')))).observe(el, { attributes: true, attributeFilter: ['data-voxels'] });
    });
    await page.click('[data-testid=snake-run]');
    await page.waitForSelector('[data-testid=snake-accept]:not([disabled])', { timeout: 60_000 });
    const log = await page.evaluate(() => (window as unknown as { snakeLog: number[] }).snakeLog);
    const final = Number(await page.getAttribute('[data-testid=snake-status]', 'data-voxels'));
    // Live: previews showed it growing from the bubble (a few dozen voxels) to the object.
    expect(Number(await page.getAttribute('[data-testid=snake-status]', 'data-previews'))).toBeGreaterThanOrEqual(2);
    expect(log.length).toBeGreaterThanOrEqual(2);
    expect(log[0]).toBeLessThan(200);
    for (let q = 1; q < log.length; q++) expect(log[q]).toBeGreaterThanOrEqual(log[q - 1] * 0.98);
    expect(final).toBe(log.at(-1));
    expect(final).toBeGreaterThan(0.9 * sphereVoxels);
    expect(final).toBeLessThan(1.1 * sphereVoxels);
    await page.screenshot({ path: path.join(ARTIFACTS, 'segmentation-snake.png') });
    const before = [await count(page, 1), await count(page, 2)];
    await page.click('[data-testid=snake-accept]');
    const got = await count(page, 3);
    // Background only: the contour's voxels under the earlier labels keep them.
    expect(got).toBeGreaterThan(0.8 * final);
    expect(got).toBeLessThanOrEqual(final);
    expect([await count(page, 1), await count(page, 2)]).toEqual(before);
    await page.keyboard.press('Control+z');
    await page.waitForFunction(() => document.querySelector('[data-testid=label-count-3]')?.getAttribute('data-count') === '0');
  }, 120_000);
  it('fills the object in 3D with an image range in the fill worker (exact voxel count), the page answering meanwhile; undo', async () => {
    await page.click('[data-testid=seg-new]');
    await page.waitForFunction(() => document.querySelector('[data-testid=label-count-1]')?.getAttribute('data-count') === '0');
    await page.click('[data-testid=label-table] tr[data-label="4"] td.num');
    await page.click('[data-seg-tool=fill]');
    await page.check('[data-testid=fill-3d]');
    await page.check('[data-testid=fill-range]');
    await page.fill('[data-testid=fill-lower]', '250');
    await page.fill('[data-testid=fill-upper]', '10000');
    // Count animation frames from the click until the fill's result shows: the UI thread keeps
    // drawing frames while the worker fills (a fill on the UI thread would block them).
    await page.evaluate(() => {
      const w = window as unknown as { fillFrames: number };
      w.fillFrames = 0;
      const tick = () => {
        w.fillFrames++;
        if (document.querySelector('[data-testid=label-count-4]')?.getAttribute('data-count') === '0') requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const box = await axialBox(page);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => document.querySelector('[data-testid=label-count-4]')?.getAttribute('data-count') !== '0');
    expect(await count(page, 4)).toBe(sphereVoxels);
    expect(await page.getAttribute('[data-testid=fill-status]', 'data-where')).toBe('worker');
    expect(await page.getAttribute('[data-testid=fill-status]', 'data-running')).toBe('0');
    expect(await page.textContent('[data-testid=seg-message]')).toContain(`Fill: ${sphereVoxels} voxels set to label 4`);
    expect(await page.evaluate(() => (window as unknown as { fillFrames: number }).fillFrames)).toBeGreaterThanOrEqual(1);
    await page.keyboard.press('Control+z');
    await page.waitForFunction(() => document.querySelector('[data-testid=label-count-4]')?.getAttribute('data-count') === '0');
    await page.keyboard.press('Control+Shift+z');
    await page.waitForFunction((n) => document.querySelector('[data-testid=label-count-4]')?.getAttribute('data-count') === String(n), sphereVoxels);
  }, 120_000);
  it('a large 3D fill (13 M voxels, ~5 M filled) runs in the worker while the page keeps drawing frames', async () => {
    // 256×256×200 uint8 ball of radius 115 mm on an anisotropic grid.
    const dims: Vec3 = [256, 256, 200];
    const spacing: Vec3 = [1, 1, 1.2];
    const data = new Uint8Array(dims[0] * dims[1] * dims[2]);
    let inside = 0;
    for (let k = 0, o = 0; k < dims[2]; k++)
      for (let j = 0; j < dims[1]; j++)
        for (let i = 0; i < dims[0]; i++, o++)
          if (Math.hypot(i - 127.5, j - 127.5, (k - 99.5) * spacing[2]) <= 115) {
            data[o] = 200;
            inside++;
          }
    const big = path.join(dir, 'big-ball.nii.gz');
    await writeNiftiFile(big, { dims, spacing, origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} });
    const p2 = await app.newPage();
    await openSeries(p2, big);
    await p2.click('[data-testid=seg-new]');
    await p2.waitForSelector('[data-testid=label-table]');
    await p2.click('[data-seg-tool=fill]');
    await p2.check('[data-testid=fill-3d]');
    await p2.check('[data-testid=fill-range]');
    await p2.fill('[data-testid=fill-lower]', '100');
    await p2.fill('[data-testid=fill-upper]', '255');
    // Frames drawn while the fill is reported running (the UI thread is free meanwhile).
    await p2.evaluate(() => {
      const w = window as unknown as { runningFrames: number };
      w.runningFrames = 0;
      const tick = () => {
        if (document.querySelector('[data-testid=fill-status]')?.getAttribute('data-running') === '1') w.runningFrames++;
        if (document.querySelector('[data-testid=label-count-1]')?.getAttribute('data-count') === '0') requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const box = (await p2.locator('[data-view=axial] [data-testid=view-input]').boundingBox())!;
    await p2.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    // The page answers while the fill runs.
    expect(await p2.evaluate(() => 1 + 1)).toBe(2);
    await p2.waitForFunction(() => document.querySelector('[data-testid=label-count-1]')?.getAttribute('data-count') !== '0', null, { timeout: 60_000 });
    expect(await count(p2, 1)).toBe(inside);
    expect(await p2.getAttribute('[data-testid=fill-status]', 'data-where')).toBe('worker');
    const frames = await p2.evaluate(() => (window as unknown as { runningFrames: number }).runningFrames);
    console.log(`large 3D fill: ${inside} voxels, ${await p2.textContent('[data-testid=fill-status]')}, ${frames} frames drawn while it ran`);
    expect(frames).toBeGreaterThanOrEqual(3);
    await p2.close();
  }, 180_000);
});
