// End-to-end: layers in the real viewer (Chromium against the browser host).
// Main image: a real CT series (DICOM). Overlay: a NIfTI written here from dcm2niix's
// reference of the same scan with a DIFFERENT grid (rotated 12° about the patient z axis,
// other spacing, shifted origin), so it only lines up through world-space resampling.
// Asserts: with the Hot map at 50 % the views show colour where the overlay is; the cursor
// inspector's values for both layers at a chosen world point equal values computed here
// independently from the NIfTI files (nearest voxel for the main image on its own grid,
// trilinear for the overlay); a contrast change and a dragged colour-map point change the
// pixels; the layer is exported as NIfTI from File ▸ Export layer… and reads back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Mat3, Vec3, Volume } from '../../src-shared/image/volume';
import { readNiftiFile, writeNiftiFile } from '../../src-main/nifti/nifti-file';
import { ARTIFACTS as artifacts, DATA as data, startApp, type E2eApp, nextFrames, openSeries, clickView, cursorRows } from './helpers';
import { continuousIndex, stored, trilinear } from './reference-sampling';

const CT = path.join(data, 'dicom/ct_ge_lightspeed_3slice');
const REF_DIR = path.join(data, 'reference/ct_ge_lightspeed_3slice');

let app: E2eApp;
let tmp: string;
let overlayPath: string;
let overlay: Volume;
let reference: Volume;

/** Nearest voxel (the point must be a voxel centre of `v`). */
function nearest(v: Volume, p: Vec3): number {
  const ijk = continuousIndex(v, p);
  for (const x of ijk) expect(Math.abs(x - Math.round(x))).toBeLessThan(0.05);
  const [i, j, k] = ijk.map(Math.round);
  return stored(v, i, j, k) * v.rescaleSlope + v.rescaleIntercept;
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lattice-layers-e2e-'));
  const file = readdirSync(REF_DIR).find((f) => f.endsWith('.nii'))!;
  reference = (await readNiftiFile(path.join(REF_DIR, file))).volume;
  // Same voxels, other grid: rotated 12° about z, spacing ×1.1 in-plane and 1.3 mm slices,
  // origin shifted; written as NIfTI and read back (the file's float32 affine is the truth).
  const t = (12 * Math.PI) / 180;
  const R = [Math.cos(t), -Math.sin(t), 0, Math.sin(t), Math.cos(t), 0, 0, 0, 1];
  const D = reference.direction;
  const dir = [0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => R[r * 3] * D[c] + R[r * 3 + 1] * D[3 + c] + R[r * 3 + 2] * D[6 + c])) as Mat3;
  const moved: Volume = {
    ...reference,
    direction: dir,
    spacing: [reference.spacing[0] * 1.1, reference.spacing[1] * 1.1, 1.3],
    origin: [reference.origin[0] + 9, reference.origin[1] - 6, reference.origin[2] - 0.4],
    metadata: {},
  };
  overlayPath = path.join(tmp, 'ct_rotated_overlay.nii');
  await writeNiftiFile(overlayPath, moved);
  overlay = (await readNiftiFile(overlayPath)).volume;
  app = await startApp();
}, 300_000);

afterAll(async () => {
  await app?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Colourful pixels (clearly not grey) and a hash of a view's plane canvas. */
async function planeStats(page: Page, view: string) {
  await nextFrames(page);
  return page.evaluate((v) => {
    const c = document.querySelector(`[data-view=${v}] canvas.plane`) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let colour = 0;
    let h = 2166136261;
    for (let i = 0; i < d.length; i += 4) {
      const r = d[i], g = d[i + 1], b = d[i + 2];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 40) colour++;
      h = Math.imul(h ^ (r | (g << 8) | (b << 16)), 16777619);
    }
    return { colour, hash: h >>> 0, pixels: d.length / 4 };
  }, view);
}

describe('layers: overlay, cursor inspector, contrast, colour maps, export', () => {
  it('CT + rotated/rescaled CT overlay (Hot, 50 %): colour where the overlay is, exact values, live contrast and colour map', async () => {
    const page = await app.newPage();
    await page.setViewportSize({ width: 1400, height: 900 });
    try {
      await openSeries(page, CT);
      const grey = await planeStats(page, 'axial');
      expect(grey.colour).toBe(0);

      await openSeries(page, overlayPath, 'overlay');
      // Layer inspector: the overlay, Hot, 50 %.
      await page.click('[data-testid=menu-tools]');
      await page.click('[data-testid=menu-layer-inspector]');
      const ids = await page.$$eval('[data-testid=inspector-layer]', (els) => els.map((e) => e.getAttribute('data-layer-id')!));
      expect(ids.length).toBe(2);
      const ovId = ids[1];
      await page.click(`[data-testid=inspector-layer][data-layer-id=${ovId}]`);
      await page.fill('[data-testid=layer-opacity]', '50');
      await page.click('[data-tab=colormap]');
      await page.click('[data-colormap=hot]');
      await page.click('[data-tab=contrast]');
      await page.fill('[data-testid=contrast-window]', '400');
      await page.press('[data-testid=contrast-window]', 'Enter');
      await page.fill('[data-testid=contrast-level]', '40');
      await page.press('[data-testid=contrast-level]', 'Enter');
      const hot = await planeStats(page, 'axial');
      // The overlay covers much of the plane: lots of coloured pixels, and the view reports them.
      expect(hot.colour, 'no colour where the overlay is').toBeGreaterThan(hot.pixels * 0.05);
      expect(Number(await page.getAttribute('[data-view=axial]', 'data-overlay-pixels'))).toBeGreaterThan(hot.pixels * 0.2);
      await page.screenshot({ path: path.join(artifacts, 'layers-ct-overlay-hot.png') });

      // Cursor inspector at a chosen world point (inside the body, inside the rotated overlay).
      for (const [fx, fy] of [[0.4, 0.42], [0.3, 0.3]]) {
        await clickView(page, 'axial', fx, fy);
        const { world, rows } = await cursorRows(page);
        expect(rows.length).toBe(2);
        const mainValue = Number(rows[0].value);
        expect(mainValue).toBeCloseTo(nearest(reference, world), 3);
        const ijk = continuousIndex(overlay, world);
        const expected = trilinear(overlay, ijk);
        expect(Number(rows[1].value)).toBeCloseTo(expected, 2);
        for (let a = 0; a < 3; a++) expect(rows[1].index[a]).toBeCloseTo(ijk[a], 3);
        // The overlay's grid really differs: the point is not on its voxel centres.
        expect(ijk.some((x) => Math.abs(x - Math.round(x)) > 0.05)).toBe(true);
        expect(Number(rows[1].value)).not.toBe(mainValue);
      }

      // Contrast changes the pixels.
      await page.fill('[data-testid=contrast-window]', '1500');
      await page.press('[data-testid=contrast-window]', 'Enter');
      const wide = await planeStats(page, 'axial');
      expect(wide.hash).not.toBe(hot.hash);
      expect(await page.inputValue('[data-testid=contrast-window]')).toBe('1500');

      // Dragging a colour-map control point changes the rendering.
      await page.click('[data-tab=colormap]');
      const editor = page.locator('[data-testid=colormap-editor]');
      const pts = JSON.parse((await editor.getAttribute('data-points'))!) as [number, number][];
      expect(pts.length).toBe(4);
      await editor.scrollIntoViewIfNeeded();
      const box = (await editor.boundingBox())!;
      const sx = box.width / 300;
      const sy = box.height / 150;
      await page.mouse.move(box.x + pts[1][0] * sx, box.y + pts[1][1] * sy);
      await page.mouse.down();
      await page.mouse.move(box.x + (pts[1][0] + 40) * sx, box.y + (pts[1][1] + 50) * sy, { steps: 5 });
      await page.mouse.up();
      const moved = JSON.parse((await editor.getAttribute('data-points'))!) as [number, number][];
      expect(moved[1][0]).toBeGreaterThan(pts[1][0] + 20);
      expect(moved[1][1]).toBeGreaterThan(pts[1][1] + 20);
      const edited = await planeStats(page, 'axial');
      expect(edited.hash, 'dragging a control point did not change the picture').not.toBe(wide.hash);
      await page.screenshot({ path: path.join(artifacts, 'layers-colormap-edited.png') });

      // Hidden overlay: no colour left.
      await page.click(`[data-testid=inspector-layer][data-layer-id=${ovId}] input[type=checkbox]`);
      expect((await planeStats(page, 'axial')).colour).toBe(0);
      await page.click(`[data-testid=inspector-layer][data-layer-id=${ovId}] input[type=checkbox]`);
      expect((await planeStats(page, 'axial')).colour).toBeGreaterThan(0);

      // File ▸ Export layer… (browser host: a path field), then read the file back.
      await page.click('[data-testid=menu-file]');
      await page.click('[data-testid=menu-export-layer]');
      const out = path.join(tmp, 'exported overlay.nii.gz');
      await page.selectOption('[data-testid=export-layer]', ovId);
      await page.fill('[data-testid=export-path]', overlayPath);
      await page.click('[data-testid=export-go]');
      await expect.poll(() => page.textContent('[data-testid=export-error]')).toMatch(/source file|exists/);
      await page.fill('[data-testid=export-path]', out);
      await page.click('[data-testid=export-go]');
      await page.waitForSelector('[data-testid=export-message]', { timeout: 30_000 });
      expect(existsSync(out)).toBe(true);
      const back = (await readNiftiFile(out)).volume;
      expect(back.dims).toEqual(overlay.dims);
      for (let a = 0; a < 9; a++) expect(back.direction[a]).toBeCloseTo(overlay.direction[a], 5);
      expect(Array.from(back.data.subarray(0, 5000))).toEqual(Array.from(overlay.data.subarray(0, 5000)));

      // Removing the overlay (colour-map tab open on it) leaves the grey main image and no errors.
      await page.click('[data-tab=colormap]');
      await page.click(`[data-testid=inspector-layer][data-layer-id=${ovId}] [data-testid=remove-layer]`);
      expect(await page.locator('[data-testid=inspector-layer]').count()).toBe(1);
      expect((await planeStats(page, 'axial')).colour).toBe(0);
      expect(await page.locator('[data-testid=cursor-row]').count()).toBe(1);
      expect(app.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 180_000);

  it('additional image: thumbnails and cursor rows switch the shown image; linked contrast; DICOM tags; custom colour map saved in the settings', async () => {
    const page = await app.newPage();
    await page.setViewportSize({ width: 1400, height: 900 });
    try {
      await openSeries(page, CT);
      await openSeries(page, overlayPath, 'additional');
      const thumbs = page.locator('[data-view=axial] [data-layer-thumb]');
      expect(await thumbs.count()).toBe(2);
      expect(await page.locator('[data-view=axial] [data-layer-thumb] img').first().getAttribute('src')).toMatch(/^data:image\/png/);
      const mainId = await thumbs.nth(0).getAttribute('data-layer-thumb');
      const addId = (await thumbs.nth(1).getAttribute('data-layer-thumb'))!;
      const before = await planeStats(page, 'axial');
      await thumbs.nth(1).click();
      await expect.poll(() => page.getAttribute('[data-view=axial]', 'data-shown-layer')).toBe(addId);
      expect(await page.getAttribute('[data-view=coronal]', 'data-shown-layer')).toBe(addId);
      const shownAdd = await planeStats(page, 'axial');
      expect(shownAdd.hash, 'switching to the additional image did not change the view').not.toBe(before.hash);
      expect(shownAdd.colour).toBe(0); // an additional image replaces the main one, in grey
      await page.screenshot({ path: path.join(artifacts, 'layers-additional-shown.png') });
      // Clicking the main image's cursor-inspector row shows it again.
      await page.click(`[data-testid=cursor-row][data-layer-id=${mainId}]`);
      await expect.poll(() => page.getAttribute('[data-view=axial]', 'data-shown-layer')).toBe(mainId);
      expect((await planeStats(page, 'axial')).hash).toBe(before.hash);

      // Linked contrast: the main image's window goes to the other layer.
      await page.click('[data-testid=open-layer-inspector]');
      await page.check('[data-testid=link-contrast]');
      await page.fill('[data-testid=wl-window]', '1234');
      await page.press('[data-testid=wl-window]', 'Enter');
      await page.click(`[data-testid=inspector-layer][data-layer-id=${addId}]`);
      await page.click('[data-tab=contrast]');
      await expect.poll(() => page.inputValue('[data-testid=contrast-window]')).toBe('1234');
      await page.uncheck('[data-testid=link-contrast]');

      // DICOM tags of the main series, searchable.
      await page.click(`[data-testid=inspector-layer][data-layer-id=${mainId}]`);
      await page.click('[data-tab=metadata]');
      const all = (await page.textContent('[data-testid=metadata-tags]'))!.split('\n');
      expect(all.length).toBeGreaterThan(30);
      await page.fill('[data-testid=metadata-search]', 'modality');
      const found = (await page.textContent('[data-testid=metadata-tags]'))!.split('\n');
      expect(found.length).toBeLessThan(all.length);
      expect(found.join('\n')).toMatch(/CT/);

      // Edit the main image's map, save it as a custom map: it is in the settings and comes back after a reload.
      await page.click('[data-tab=colormap]');
      await page.click('[data-colormap=jet]');
      const editor = page.locator('[data-testid=colormap-editor]');
      await editor.scrollIntoViewIfNeeded(); // the inspector is a movable window of half the height
      const box = (await editor.boundingBox())!;
      const pts = JSON.parse((await editor.getAttribute('data-points'))!) as [number, number][];
      await page.mouse.move(box.x + pts[2][0] * (box.width / 300), box.y + pts[2][1] * (box.height / 150));
      await page.mouse.down();
      await page.mouse.move(box.x + (pts[2][0] + 30) * (box.width / 300), box.y + (pts[2][1] + 10) * (box.height / 150), { steps: 3 });
      await page.mouse.up();
      await page.fill('[data-testid=colormap-save-name]', 'My jet');
      await page.click('[data-testid=colormap-save]');
      await page.waitForSelector('[data-colormap="custom:My jet"]');
      // The list shows the map at once; the host's settings file follows (poll for it).
      const api = app.api();
      await expect.poll(async () => ((await api.getSetting('colormaps.custom')) as { name: string }[] | null)?.map((m) => m.name)).toEqual(['My jet']);
      const saved = (await api.getSetting('colormaps.custom')) as { name: string; points: unknown[] }[];
      expect(saved[0].points.length).toBe(6);
      await page.reload();
      await openSeries(page, CT);
      await page.click('[data-testid=open-layer-inspector]');
      await page.click('[data-tab=colormap]');
      await page.click('[data-colormap="custom:My jet"]');
      expect((await planeStats(page, 'axial')).colour).toBeGreaterThan(1000);
      expect(app.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 180_000);

  it('body mask overlay (uint8 0/1 on the rotated grid): detected as labels, nearest-neighbour value, background transparent', async () => {
    const mask: Volume = { ...overlay, data: new Uint8Array(overlay.data.length), voxelType: 'uint8', rescaleSlope: 1, rescaleIntercept: 0 };
    for (let i = 0; i < overlay.data.length; i++) mask.data[i] = overlay.data[i] * overlay.rescaleSlope + overlay.rescaleIntercept > -200 ? 1 : 0;
    const maskPath = path.join(tmp, 'bright_mask.nii.gz');
    await writeNiftiFile(maskPath, mask);
    const m = (await readNiftiFile(maskPath)).volume;
    const page = await app.newPage();
    await page.setViewportSize({ width: 1400, height: 900 });
    try {
      await openSeries(page, CT);
      await openSeries(page, maskPath, 'overlay');
      const st = await planeStats(page, 'axial');
      expect(st.colour).toBeGreaterThan(100);
      const covered = Number(await page.getAttribute('[data-view=axial]', 'data-overlay-pixels'));
      // Only the mask's 1s are drawn (0 is transparent): the body, not the air around it.
      expect(covered).toBeGreaterThan(st.pixels * 0.1);
      expect(covered).toBeLessThan(st.pixels * 0.7);
      let ones = 0;
      let zeros = 0;
      for (const [fx, fy] of [[0.4, 0.42], [0.45, 0.3], [0.5, 0.55], [0.6, 0.2], [0.62, 0.14], [0.58, 0.85], [0.52, 0.66]]) {
        await clickView(page, 'axial', fx, fy);
        const { world, rows } = await cursorRows(page);
        const ijk = continuousIndex(m, world);
        const r = ijk.map(Math.round);
        // Skip points within 0.01 voxel of a nearest-neighbour tie.
        if (ijk.some((x) => Math.abs(Math.abs(x - Math.floor(x)) - 0.5) < 0.01)) continue;
        if (!ijk.every((x, a) => x >= 0 && x <= m.dims[a] - 1)) continue;
        const expected = stored(m, r[0], r[1], r[2]);
        expect(Number(rows[1].value)).toBe(expected);
        if (expected) ones++;
        else zeros++;
      }
      expect(ones).toBeGreaterThan(0);
      expect(zeros).toBeGreaterThan(0);
      await page.screenshot({ path: path.join(artifacts, 'layers-mask-overlay.png') });
      expect(app.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 180_000);
});
