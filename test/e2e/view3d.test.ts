// End-to-end: the 3D view (vtk.js, WebGL2 through SwiftShader) in the browser host on a real MR
// (siemens_xa30_t1w_enh, 96×128×128). What is checked is what is on screen (element screenshots
// decoded to pixels): the volume rendering is not blank and changes when the mouse rotates the
// camera; the slice planes show, follow the cursor and go away when turned off; a mask layer
// (a box to the patient's left and above the centre, written as NIfTI on the MR's grid) appears
// as a surface in its colour on the correct side of the anterior view (screen right = patient
// left, up = superior); a click on that surface moves the cursor onto the box's anterior face.
// Without WebGL2 the cell says so and the 2D views still work. Screenshots in test-artifacts/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Vec3, Volume } from '../../src-shared/image/volume';
import { indexToWorld } from '../../src-shared/geometry/geometry';
import { readNiftiFile, writeNiftiFile } from '../../src-main/nifti/nifti-file';
import { ARTIFACTS, DATA, nextFrames, openSeries, startApp, type E2eApp } from './helpers';

const MR = path.join(DATA, 'dicom/siemens_xa30_t1w_enh');
const MR_REF_DIR = path.join(DATA, 'reference/siemens_xa30_t1w_enh');

let app: E2eApp;
let tmp: string;
let maskPath: string;
/** The mask box in LPS mm (its voxel centres' extent). */
let box: { min: Vec3; max: Vec3 };

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lattice-view3d-'));
  const ref = readdirSync(MR_REF_DIR).find((f) => f.endsWith('.nii') || f.endsWith('.nii.gz'))!;
  const { volume: mr } = await readNiftiFile(path.join(MR_REF_DIR, ref));
  // A box of voxels whose centres lie 12…40 mm to the patient's left and 10…35 mm above the
  // image centre, −15…+15 mm A-P.
  const [nx, ny, nz] = mr.dims;
  const c = indexToWorld(mr, [(nx - 1) / 2, (ny - 1) / 2, (nz - 1) / 2]);
  const data = new Uint8Array(nx * ny * nz);
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let k = 0, o = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, o++) {
        const p = indexToWorld(mr, [i, j, k]);
        const d = [p[0] - c[0], p[1] - c[1], p[2] - c[2]];
        if (d[0] >= 12 && d[0] <= 40 && d[2] >= 10 && d[2] <= 35 && Math.abs(d[1]) <= 15) {
          data[o] = 1;
          for (let a = 0; a < 3; a++) {
            min[a] = Math.min(min[a], p[a]);
            max[a] = Math.max(max[a], p[a]);
          }
        }
      }
  box = { min, max };
  const mask: Volume = { ...mr, data, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
  maskPath = path.join(tmp, 'box-mask.nii.gz');
  await writeNiftiFile(maskPath, mask);
  app = await startApp();
}, 300_000);

afterAll(async () => {
  await app?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Shot {
  width: number;
  height: number;
  rgba: Buffer;
}

/** The 3D cell as the user sees it, decoded to RGBA (in the page: PNG → canvas). */
async function shot3d(page: Page, name?: string): Promise<Shot> {
  await nextFrames(page);
  const loc = page.locator('[data-testid=view-3d]');
  const png = await loc.screenshot(name ? { path: path.join(ARTIFACTS, name) } : {});
  const r = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode(...d.subarray(i, i + 8192));
    return { width: c.width, height: c.height, data: btoa(s) };
  }, png.toString('base64'));
  return { width: r.width, height: r.height, rgba: Buffer.from(r.data, 'base64') };
}

/** Pixels of the scene only: leave out the tool bars along the top and bottom edges. */
function* scenePixels(s: Shot): Generator<[number, number, number, number, number]> {
  for (let y = 30; y < s.height - 30; y++)
    for (let x = 0; x < s.width; x++) {
      const o = (y * s.width + x) * 4;
      yield [x, y, s.rgba[o], s.rgba[o + 1], s.rgba[o + 2]];
    }
}

/** Share of scene pixels brighter than the background, and the grey-level spread. */
function content(s: Shot) {
  let n = 0;
  let lit = 0;
  let sum = 0;
  let sum2 = 0;
  for (const [, , r, g, b] of scenePixels(s)) {
    const v = (r + g + b) / 3;
    n++;
    sum += v;
    sum2 += v * v;
    if (v > 40) lit++;
  }
  const mean = sum / n;
  return { lit: lit / n, std: Math.sqrt(sum2 / n - mean * mean) };
}

/** Mean absolute RGB difference per scene pixel. */
function difference(a: Shot, b: Shot): number {
  let d = 0;
  let n = 0;
  for (let y = 30; y < a.height - 30; y++)
    for (let x = 0; x < a.width; x++) {
      const o = (y * a.width + x) * 4;
      d += Math.abs(a.rgba[o] - b.rgba[o]) + Math.abs(a.rgba[o + 1] - b.rgba[o + 1]) + Math.abs(a.rgba[o + 2] - b.rgba[o + 2]);
      n++;
    }
  return d / n / 3;
}

async function setChecked(page: Page, testid: string, on: boolean) {
  const el = page.locator(`[data-testid=${testid}]`);
  if ((await el.isChecked()) !== on) await el.click();
}

/** Waits until the 3D view has drawn at least one more frame than `after`. */
async function rendered(page: Page, after = 0): Promise<number> {
  const loc = page.locator('[data-testid=view-3d]');
  await expect.poll(async () => Number(await loc.getAttribute('data-renders')), { timeout: 20_000 }).toBeGreaterThan(after);
  return Number(await loc.getAttribute('data-renders'));
}

describe('3D view', () => {
  it('renders the MR, rotates with the mouse, shows slice planes that follow the cursor, and a mask surface in its colour where the mask is', async () => {
    const page = await app.newPage();
    // A small window keeps the 3D cell (≈ 350×290 px) cheap for SwiftShader.
    await page.setViewportSize({ width: 960, height: 640 });
    await openSeries(page, MR);
    const view = page.locator('[data-testid=view-3d]');
    await expect.poll(() => view.getAttribute('data-state')).toBe('ready');
    await expect.poll(async () => Number(await view.getAttribute('data-first-frame-ms')), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await view.getAttribute('data-preset')).toBe('mr-default');

    // Volume + slices + cursor, anterior view: not blank.
    const front = await shot3d(page, 'view3d-mr-anterior.png');
    const c0 = content(front);
    expect(c0.lit, 'share of lit pixels').toBeGreaterThan(0.05);
    expect(c0.std).toBeGreaterThan(10);

    // Rotate with a left-drag in the cell.
    const hostBox = (await page.locator('[data-testid=view-3d] .host').boundingBox())!;
    const cx = hostBox.x + hostBox.width / 2;
    const cy = hostBox.y + hostBox.height / 2;
    let n = Number(await view.getAttribute('data-renders'));
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    for (let s = 1; s <= 6; s++) await page.mouse.move(cx + s * 20, cy + s * 3);
    await page.mouse.up();
    n = await rendered(page, n);
    const turned = await shot3d(page, 'view3d-mr-rotated.png');
    expect(content(turned).lit).toBeGreaterThan(0.05);
    expect(difference(front, turned), 'picture changes with rotation').toBeGreaterThan(3);

    // MIP mode changes the picture too.
    await page.click('[data-view3d=anterior]');
    await setChecked(page, 'view-3d-mip', true);
    n = await rendered(page, n);
    const mip = await shot3d(page, 'view3d-mr-mip.png');
    expect(content(mip).lit).toBeGreaterThan(0.05);
    expect(difference(front, mip)).toBeGreaterThan(2);
    await setChecked(page, 'view-3d-mip', false);

    // Slice planes alone (no volume, no cursor): they show, move with the cursor, and go away.
    await setChecked(page, 'view-3d-volume', false);
    await setChecked(page, 'view-3d-cursor', false);
    await page.click('[data-view3d=left]');
    n = await rendered(page, n);
    const planesA = await shot3d(page, 'view3d-slices-a.png');
    expect(content(planesA).lit).toBeGreaterThan(0.03);
    const voxelA = await page.textContent('[data-testid=status-voxel]');
    // The sagittal plane faces the camera in the left view: 15 slices on it shows other anatomy.
    for (const v of ['sagittal', 'coronal', 'axial']) {
      await page.locator(`[data-view=${v}]`).focus();
      for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+PageUp');
    }
    await expect.poll(() => page.textContent('[data-testid=status-voxel]')).not.toBe(voxelA);
    n = await rendered(page, n);
    const planesB = await shot3d(page, 'view3d-slices-b.png');
    expect(difference(planesA, planesB), 'slice planes move with the cursor').toBeGreaterThan(3);
    await setChecked(page, 'view-3d-slices', false);
    n = await rendered(page, n);
    const none = await shot3d(page);
    expect(content(none).lit, 'nothing left but the orientation cube').toBeLessThan(content(planesA).lit / 2);

    // The mask as an overlay: a surface in its colour (label 1 of the HSV label map: red).
    await openSeries(page, maskPath, 'overlay');
    await expect.poll(async () => Number(await view.getAttribute('data-surfaces')), { timeout: 30_000 }).toBeGreaterThan(0);
    /** Red (mask) pixels of the scene seen from a standard side (camera framed on the whole volume). */
    const maskFrom = async (side: string) => {
      await setChecked(page, 'view-3d-volume', true);
      await page.click(`[data-view3d=${side}]`);
      await setChecked(page, 'view-3d-volume', false);
      n = await rendered(page, n);
      const shot = await shot3d(page, `view3d-mask-surface-${side}.png`);
      let count = 0;
      let sx = 0;
      let sy = 0;
      for (const [x, y, r, g, b] of scenePixels(shot)) {
        if (r > 90 && r > 2.5 * g && r > 2.5 * b) {
          count++;
          sx += x;
          sy += y;
        }
      }
      return { shot, count, centroid: [sx / count, sy / count] };
    };
    const post = await maskFrom('posterior');
    const ant = await maskFrom('anterior');
    const surf = ant.shot;
    const centroid = ant.centroid;
    expect(ant.count, 'red surface pixels (the box is ≈ 18×18 px in this window)').toBeGreaterThan(150);
    expect(post.count).toBeGreaterThan(150);
    // The box is on the patient's left: screen right seen from the front, screen left from
    // behind; superior is up in both.
    expect(ant.centroid[0], 'anterior view: mask right of where the posterior view has it').toBeGreaterThan(post.centroid[0] + 10);
    expect(ant.centroid[0]).toBeGreaterThan(surf.width / 2);
    expect(post.centroid[0]).toBeLessThan(surf.width / 2);
    expect(ant.centroid[1], 'mask above centre').toBeLessThan(surf.height / 2 - 5);
    expect(post.centroid[1]).toBeLessThan(surf.height / 2 - 5);

    // A click on the surface moves the cursor onto the box's anterior face.
    const shotBox = (await view.boundingBox())!;
    const before = await page.textContent('[data-testid=status-voxel]');
    await page.mouse.click(shotBox.x + centroid[0], shotBox.y + centroid[1]);
    await expect.poll(() => page.textContent('[data-testid=status-voxel]'), { timeout: 10_000 }).not.toBe(before);
    await nextFrames(page);
    const world = (await page.textContent('[data-testid=status-world]'))!.split(',').map(Number);
    expect(world[0]).toBeGreaterThan(box.min[0] - 2);
    expect(world[0]).toBeLessThan(box.max[0] + 2);
    expect(world[2]).toBeGreaterThan(box.min[2] - 2);
    expect(world[2]).toBeLessThan(box.max[2] + 2);
    // The camera looks from anterior (−y): the first surface hit is the box's anterior face.
    expect(Math.abs(world[1] - box.min[1])).toBeLessThan(3);

    // With the volume back on, the surface is still drawn in its colour.
    await setChecked(page, 'view-3d-volume', true);
    await setChecked(page, 'view-3d-slices', true);
    await setChecked(page, 'view-3d-cursor', true);
    await shot3d(page, 'view3d-mr-with-mask.png');
    expect(app.errors.filter((e) => !/favicon/.test(e))).toEqual([]);
    await page.close();
  }, 120_000);

  it('without WebGL2 says so in the cell, and the 2D views still work', async () => {
    const page = await app.context.newPage();
    await page.addInitScript(() => {
      const get = HTMLCanvasElement.prototype.getContext;
      HTMLCanvasElement.prototype.getContext = function (this: HTMLCanvasElement, type: string, ...rest: unknown[]) {
        if (type === 'webgl2') return null;
        return (get as (...a: unknown[]) => RenderingContext | null).call(this, type, ...rest);
      } as typeof get;
    });
    await page.goto(app.host.url);
    await openSeries(page, MR);
    const view = page.locator('[data-testid=view-3d]');
    expect(await view.getAttribute('data-state')).toBe('unavailable');
    expect(await page.textContent('[data-testid=view-3d-message]')).toContain('WebGL2');
    const counts = await page.$$eval('[data-view]', (els) => els.map((e) => Number(e.getAttribute('data-render-count'))));
    expect(counts.every((c) => c > 0)).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'view3d-no-webgl2.png') });
    await page.close();
  }, 60_000);
});
