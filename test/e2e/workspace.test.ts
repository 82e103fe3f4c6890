// End-to-end: File ▸ Save workspace / Open workspace (issue 15). A real CT (DICOM) as the main
// image, a NIfTI written here as a PET-like overlay, and two threshold masks made in the app
// (not saved); then everything a workspace keeps is changed in the UI — contrast, nickname,
// colour map, opacity, role, visibility, order, registration transform, cursor, zoom, view
// convention, the 3D view's camera — saved, and opened again from the File menu's recent list
// in a NEW page: the views must show the same pixels (plane canvases hashed, the three slice
// views' screenshots compared byte for byte, the 3D camera read back and the 3D cell's
// screenshot compared within vtk.js's ray jitter). A workspace naming a missing file opens the
// rest and names it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Mat3, Volume } from '../../src-shared/image/volume';
import { readNiftiFile, writeNiftiFile } from '../../src-main/nifti/nifti-file';
import { ARTIFACTS as artifacts, DATA as data, startApp, type E2eApp, clickView, nextFrames, openSeries, planeHash } from './helpers';

const CT = path.join(data, 'dicom/ct_ge_lightspeed_3slice');
const REF_DIR = path.join(data, 'reference/ct_ge_lightspeed_3slice');
let app: E2eApp;
let tmp = '';
let petPath = '';

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lattice-ws-e2e-'));
  const ref = (await readNiftiFile(path.join(REF_DIR, readdirSync(REF_DIR).find((f) => f.endsWith('.nii'))!))).volume;
  // A PET-like float image on another grid (rotated 8° about z, coarser), over the CT.
  const t = (8 * Math.PI) / 180;
  const R = [Math.cos(t), -Math.sin(t), 0, Math.sin(t), Math.cos(t), 0, 0, 0, 1];
  const D = ref.direction;
  const n = ref.dims[0] * ref.dims[1] * ref.dims[2];
  const pet = new Float32Array(n);
  for (let i = 0; i < n; i++) pet[i] = Math.max(0, ref.data[i] * ref.rescaleSlope + ref.rescaleIntercept + 900) / 50;
  const v: Volume = {
    ...ref,
    data: pet,
    voxelType: 'float32',
    rescaleSlope: 1,
    rescaleIntercept: 0,
    direction: [0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => R[r * 3] * D[c] + R[r * 3 + 1] * D[3 + c] + R[r * 3 + 2] * D[6 + c])) as Mat3,
    spacing: [ref.spacing[0] * 1.5, ref.spacing[1] * 1.5, ref.spacing[2]],
    origin: [ref.origin[0] - 20, ref.origin[1] - 15, ref.origin[2]],
    metadata: {},
  };
  petPath = path.join(tmp, 'pet.nii');
  await writeNiftiFile(petPath, v);
  app = await startApp();
}, 300_000);

afterAll(async () => {
  await app?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function threshold(page: Page, lower: number) {
  await page.fill('[data-testid=threshold-lower]', String(lower));
  await page.click('[data-testid=threshold-apply]');
  await page.waitForFunction(() => !document.querySelector('[data-testid=tools-progress]'), null, { timeout: 60_000 });
  expect(await page.locator('[data-testid=tools-error]').count()).toBe(0);
}

async function layerIds(page: Page): Promise<string[]> {
  return page.$$eval('[data-testid=inspector-layer]', (els) => els.map((e) => e.getAttribute('data-layer-id')!));
}

/** Mean |difference| of two PNG screenshots' RGB values (decoded in the page). */
async function meanAbsDiff(page: Page, a: Buffer, b: Buffer): Promise<number> {
  return page.evaluate(
    async ([a64, b64]) => {
      const px = async (b: string) => {
        // (No fetch of a data: URL: the page's CSP limits connect-src.)
        const bytes = Uint8Array.from(atob(b), (ch) => ch.charCodeAt(0));
        const img = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
        const c = new OffscreenCanvas(img.width, img.height);
        const g = c.getContext('2d')!;
        g.drawImage(img, 0, 0);
        return g.getImageData(0, 0, img.width, img.height).data;
      };
      const [x, y] = await Promise.all([px(a64), px(b64)]);
      if (x.length !== y.length) return Infinity;
      let s = 0;
      for (let i = 0; i < x.length; i += 4) s += Math.abs(x[i] - y[i]) + Math.abs(x[i + 1] - y[i + 1]) + Math.abs(x[i + 2] - y[i + 2]);
      return s / ((x.length / 4) * 3);
    },
    [a.toString('base64'), b.toString('base64')] as const,
  );
}

/** What is on screen: the three planes' pixels and screenshots of the three slice views. */
/** Waits until the 3D cell shows its full-resolution volume and no frame is pending. */
async function settle3d(page: Page) {
  const v3 = page.locator('[data-testid=view-3d]');
  await page.waitForFunction(() => document.querySelector('[data-testid=view-3d]')?.getAttribute('data-showing-full') === 'true', null, { timeout: 60_000 });
  let renders = '';
  for (let i = 0; i < 50 && renders !== (await v3.getAttribute('data-renders')); i++) {
    renders = (await v3.getAttribute('data-renders'))!;
    await page.waitForTimeout(300);
  }
}

async function onScreen(page: Page) {
  await page.mouse.move(1, 1); // no hover read-out differences
  // Not part of the picture: keyboard focus ring of a view, the "Opened workspace" message.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  if (await page.locator('[data-testid=export-message]').count()) await page.click('[data-testid=export-message]');
  await nextFrames(page);
  await nextFrames(page);
  const hashes = [await planeHash(page, 'axial'), await planeHash(page, 'coronal'), await planeHash(page, 'sagittal')];
  const shots = await Promise.all(['axial', 'sagittal', 'coronal'].map((v) => page.locator(`[data-view=${v}]`).screenshot()));
  const world = await page.getAttribute('[data-testid=cursor-inspector]', 'data-world');
  // The 3D cell: its camera as drawn (position, focal point, view-up, angle), and its picture.
  await settle3d(page);
  const camera3d = (await page.getAttribute('[data-testid=view-3d]', 'data-camera'))!;
  const shot3d = await page.locator('[data-testid=view-3d] .host').screenshot();
  return { hashes, shots, world, camera3d, shot3d };
}

describe('workspaces in the browser host (Chromium)', () => {
  it('save → open in a new page: the same pixels on screen; a missing file is named and the rest opens', async () => {
    const page = await app.newPage();
    await page.setViewportSize({ width: 1400, height: 900 });
    await openSeries(page, CT);
    await openSeries(page, petPath, 'additional');
    await threshold(page, 60);
    await threshold(page, 200);

    // Contrast of the main image (side panel), cursor, zoom, convention.
    await page.fill('[data-testid=wl-window]', '1500');
    await page.press('[data-testid=wl-window]', 'Enter');
    await page.fill('[data-testid=wl-level]', '-300');
    await page.press('[data-testid=wl-level]', 'Enter');
    await clickView(page, 'axial', 0.42, 0.58);
    const cor = (await page.locator('[data-view=coronal] [data-testid=view-input]').boundingBox())!;
    await page.mouse.move(cor.x + cor.width / 2, cor.y + cor.height / 2);
    await page.mouse.down({ button: 'right' });
    await page.mouse.move(cor.x + cor.width / 2, cor.y + cor.height / 2 - 60, { steps: 4 });
    await page.mouse.up({ button: 'right' });
    await page.check('[data-testid=neurological]');

    // A registration transform on the PET (Tools ▸ Registration, manual translation; first:
    // choosing a moving layer makes it visible).
    await page.click('[data-testid=menu-tools]');
    await page.click('[data-testid=menu-registration]');
    await page.selectOption('[data-testid=registration-moving]', { label: 'pet' });
    await page.fill('[data-testid=registration-tx]', '6');
    await page.press('[data-testid=registration-tx]', 'Enter');
    await page.fill('[data-testid=registration-ty]', '4');
    await page.press('[data-testid=registration-ty]', 'Tab');
    await page.click('[data-testid=registration-close]');

    // Layer inspector: the PET becomes an overlay named "FLT" in Hot at 60 %, own contrast;
    // the second mask is hidden; the first mask goes above the PET.
    await page.click('[data-testid=open-layer-inspector]');
    const [, petId, mask1, mask2] = await layerIds(page);
    await page.click(`[data-testid=inspector-layer][data-layer-id=${petId}]`);
    await page.selectOption('[data-testid=layer-role]', 'overlay');
    await page.fill('[data-testid=layer-nickname]', 'FLT');
    await page.press('[data-testid=layer-nickname]', 'Enter');
    await page.locator('[data-testid=layer-opacity]').evaluate((el: HTMLInputElement) => {
      el.value = '60';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.click('[data-tab=colormap]');
    await page.click('[data-colormap=hot]');
    await page.click('[data-tab=contrast]');
    await page.fill('[data-testid=contrast-window]', '20');
    await page.press('[data-testid=contrast-window]', 'Enter');
    // Display histogram equalisation (global) on the PET: saved, and drawn the same after opening.
    await page.selectOption('[data-testid=contrast-equalize]', 'global');
    await page.locator(`[data-testid=inspector-layer][data-layer-id=${mask2}] input[type=checkbox]`).uncheck();
    await page.click(`[data-testid=inspector-layer][data-layer-id=${mask1}] button[title="Move up"]`);
    expect(await layerIds(page)).toEqual([(await layerIds(page))[0], mask1, petId, mask2]);
    await page.click('[data-testid=layer-inspector] button[title=Close]');

    // The 3D view turned and tilted with the mouse (left-drag rotates).
    const defaultCamera = await page.getAttribute('[data-testid=view-3d]', 'data-camera');
    await settle3d(page);
    const default3d = await page.locator('[data-testid=view-3d] .host').screenshot();
    const h3 = (await page.locator('[data-testid=view-3d] .host').boundingBox())!;
    await page.mouse.move(h3.x + h3.width / 2, h3.y + h3.height / 2);
    await page.mouse.down();
    await page.mouse.move(h3.x + h3.width / 2 + 70, h3.y + h3.height / 2 + 30, { steps: 6 });
    await page.mouse.up();
    await expect.poll(() => page.getAttribute('[data-testid=view-3d]', 'data-camera')).not.toBe(defaultCamera);

    const before = await onScreen(page);
    await page.screenshot({ path: path.join(artifacts, 'workspace-before-save.png') });

    // Save: the two masks (made here) are written beside the workspace, then the JSON.
    await page.click('[data-testid=menu-file]');
    await page.click('[data-testid=menu-save-workspace]');
    const wsPath = path.join(tmp, 'study.workspace.json');
    await page.fill('[data-testid=workspace-path]', wsPath);
    await page.click('[data-testid=workspace-go]');
    await page.waitForSelector('[data-testid=workspace-save-dialog]', { state: 'detached', timeout: 60_000 });
    const ws = JSON.parse(readFileSync(wsPath, 'utf8'));
    expect(ws.format).toBe('lattice-workspace');
    expect(ws.layers.map((l: { role: string }) => l.role)).toEqual(['main', 'overlay', 'overlay', 'overlay']);
    expect(ws.layers[0]).toMatchObject({ kind: 'dicom', file: CT, window: 1500, level: -300 });
    expect(ws.layers[2]).toMatchObject({ file: 'pet.nii', kind: 'file', nickname: 'FLT', colormap: 'hot', opacity: 0.6, window: 20, equalize: 'global' });
    expect(ws.layers[0].equalize).toBeUndefined();
    expect(ws.layers[2].worldTransform).toHaveLength(16);
    expect(ws.layers[3].visible).toBe(false);
    for (const i of [1, 3]) {
      expect(ws.layers[i].file).toMatch(/^study\.Threshold.*\.nii\.gz$/);
      expect(existsSync(path.join(tmp, ws.layers[i].file))).toBe(true);
    }
    expect(ws.layout).toMatchObject({ convention: 'neurological' });
    expect(ws.cameras.coronal.zoom).toBeGreaterThan(1.2);
    const c3 = ws.camera3d;
    expect([...c3.position, ...c3.focalPoint, ...c3.viewUp, c3.viewAngle].map((x: number) => +x.toFixed(3)).join(',')).toBe(before.camera3d);
    // Saved: opening another main image no longer asks about unsaved layers.
    expect(await page.evaluate(() => document.querySelectorAll('[data-testid=confirm-discard]').length)).toBe(0);

    // A new page (fresh app state): File ▸ recent workspace.
    const page2 = await app.newPage();
    await page2.setViewportSize({ width: 1400, height: 900 });
    await page2.click('[data-testid=menu-file]');
    await page2.click('[data-testid=menu-recent-workspace]');
    await page2.waitForFunction(() => document.querySelectorAll('[data-testid=cursor-row]').length === 4, null, { timeout: 60_000 });
    await page2.waitForFunction(() => [...document.querySelectorAll('[data-view]')].every((v) => Number(v.getAttribute('data-render-count')) > 0), null, { timeout: 60_000 });
    const after = await onScreen(page2);
    await page2.screenshot({ path: path.join(artifacts, 'workspace-after-open.png') });
    expect(after.world).toBe(before.world);
    expect(after.hashes).toEqual(before.hashes);
    for (const [n, v] of ['axial', 'sagittal', 'coronal'].entries()) {
      writeFileSync(path.join(artifacts, `workspace-${v}-before.png`), before.shots[n]);
      writeFileSync(path.join(artifacts, `workspace-${v}-after.png`), after.shots[n]);
      expect(Buffer.compare(after.shots[n], before.shots[n]), `the ${v} view differs from the saved session`).toBe(0);
    }
    // The 3D cell: the same camera read back, the same picture.
    expect(after.camera3d).toBe(before.camera3d);
    writeFileSync(path.join(artifacts, 'workspace-3d-before.png'), before.shot3d);
    writeFileSync(path.join(artifacts, 'workspace-3d-after.png'), after.shot3d);
    // vtk.js jitters its rays with a random texture made per page, so the volume's pixels
    // carry a little noise from page to page: the same view differs by under a grey level on
    // average, another camera by far more.
    const same = await meanAbsDiff(page2, after.shot3d, before.shot3d);
    const moved = await meanAbsDiff(page2, default3d, before.shot3d);
    expect(moved).toBeGreaterThan(4);
    expect(same, `3D view after open vs saved: ${same}; default camera vs saved: ${moved}`).toBeLessThan(Math.min(1.5, moved / 8));
    expect(await page2.inputValue('[data-testid=wl-window]')).toBe('1500');

    // A workspace with a missing file: a clear message naming it; the rest opens.
    const broken = { ...ws, layers: [...ws.layers, { ...ws.layers[1], file: 'gone.nii.gz', name: 'Gone' }] };
    const brokenPath = path.join(tmp, 'broken.workspace.json');
    writeFileSync(brokenPath, JSON.stringify(broken));
    await page2.click('[data-testid=menu-file]');
    await page2.click('[data-testid=menu-open-workspace]');
    await page2.fill('[data-testid=workspace-path]', brokenPath);
    await page2.click('[data-testid=workspace-go]');
    await expect.poll(() => page2.locator('[data-testid=workspace-problems]').textContent(), { timeout: 60_000 }).toContain(`Gone (${path.join(tmp, 'gone.nii.gz')})`);
    expect(await page2.locator('[data-testid=workspace-problems]').textContent()).toMatch(/does not exist/);
    await expect.poll(() => page2.locator('[data-testid=cursor-row]').count()).toBe(4);
    expect(app.errors.filter((e) => !/gone\.nii\.gz/.test(e))).toEqual([]);
    await page.close();
    await page2.close();
  }, 120_000);

  it('saving again never replaces a layer file written before: new layers get new names, saved ones keep theirs', async () => {
    const wsPath = path.join(tmp, 'resave.workspace.json');
    const saveWorkspace = async (page: Page) => {
      await page.click('[data-testid=menu-file]');
      await page.click('[data-testid=menu-save-workspace]');
      await expect.poll(() => page.inputValue('[data-testid=workspace-path]')).not.toBe('');
      await page.fill('[data-testid=workspace-path]', wsPath);
      await page.click('[data-testid=workspace-go]');
      await page.waitForSelector('[data-testid=workspace-save-dialog]', { state: 'detached', timeout: 60_000 });
      return JSON.parse(readFileSync(wsPath, 'utf8')) as { layers: { file: string; name: string; nickname: string }[] };
    };
    const layerFiles = () => readdirSync(tmp).filter((f) => f.startsWith('resave.') && f.endsWith('.nii.gz')).sort();

    // Session 1: the CT and a mask made here → the mask is written beside the workspace.
    const page = await app.newPage();
    await page.setViewportSize({ width: 1400, height: 900 });
    await openSeries(page, CT);
    await threshold(page, 60);
    const ws1 = await saveWorkspace(page);
    expect(ws1.layers).toHaveLength(2);
    const first = ws1.layers[1]!.file;
    expect(first).toMatch(/^resave\.Threshold.*60\.nii\.gz$/);
    const firstBytes = readFileSync(path.join(tmp, first));
    await page.close();

    // Session 2 opens it, makes another mask and gives it the first mask's title (its file
    // name would be the same), then saves to the same workspace (no "replace" needed).
    const page2 = await app.newPage();
    await page2.setViewportSize({ width: 1400, height: 900 });
    await page2.click('[data-testid=menu-file]');
    await page2.click('[data-testid=menu-open-workspace]');
    await page2.fill('[data-testid=workspace-path]', wsPath);
    await page2.click('[data-testid=workspace-go]');
    await page2.waitForFunction(() => document.querySelectorAll('[data-testid=cursor-row]').length === 2, null, { timeout: 60_000 });
    await threshold(page2, 200);
    await page2.click('[data-testid=open-layer-inspector]');
    const ids = await layerIds(page2);
    expect(ids).toHaveLength(3);
    await page2.click(`[data-testid=inspector-layer][data-layer-id=${ids[2]}]`);
    await page2.fill('[data-testid=layer-nickname]', ws1.layers[1]!.nickname || ws1.layers[1]!.name);
    await page2.press('[data-testid=layer-nickname]', 'Enter');
    await page2.click('[data-testid=layer-inspector] button[title=Close]');
    const ws2 = await saveWorkspace(page2);
    expect(ws2.layers).toHaveLength(3);
    expect(ws2.layers[1]!.file).toBe(first); // the saved mask keeps its file …
    const second = ws2.layers[2]!.file;
    expect(second).not.toBe(first); // … the new one gets a name of its own
    expect(second).toMatch(/^resave\..*\.nii\.gz$/);
    expect(Buffer.compare(readFileSync(path.join(tmp, first)), firstBytes), `${first} was written over`).toBe(0);
    // Two different masks on disk: > 60 HU holds more voxels than > 200 HU.
    const count = async (f: string) => Array.from((await readNiftiFile(path.join(tmp, f))).volume.data).filter((v) => v > 0).length;
    expect(await count(second)).toBeLessThan(await count(first));
    expect(layerFiles()).toEqual([first, second].sort());

    // A third save without changes writes no new layer file and names the same ones.
    const ws3 = await saveWorkspace(page2);
    expect(ws3.layers.map((l) => l.file)).toEqual(ws2.layers.map((l) => l.file));
    expect(layerFiles()).toEqual([first, second].sort());
    expect(await page2.locator('[data-testid=workspace-error]').count()).toBe(0);
    expect(app.errors.filter((e) => !/gone\.nii\.gz/.test(e))).toEqual([]);
    await page2.close();
  }, 120_000);
});
