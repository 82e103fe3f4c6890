// End-to-end: registration in the app (Chromium against the browser host).
// Fixed: dcm2niix's reference of a real 3D T1 (siemens_xa30_t1w_enh, 96×128×128, 2 mm).
// Moving: the same voxels written here as NIfTI with the origin shifted by S (so its
// anatomy sits S away in the world). Asserts:
//  - manual: a translation typed in the Registration panel's fields moves the moving layer:
//    the cursor inspector's value of the moving layer equals trilinear interpolation, computed
//    here from the NIfTI file, at the cursor point minus the translation; the translation −S
//    brings it onto the fixed image (moving value = fixed value at the cursor);
//  - automatic rigid registration from identity recovers the shift: the result's pull-back maps
//    the fixed image's centre to centre + S within 1 mm; the progress shows a metric and says
//    "Rigid level i/n", never "Affine" (issue 15).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Vec3, Volume } from '../../src-shared/image/volume';
import { readNiftiFile, writeNiftiFile } from '../../src-main/nifti/nifti-file';
import { parseItkAffine } from '../../src-shared/registration/itk-transform';
import { DATA as data, startApp, type E2eApp, clickView, cursorRows, planeHash, openRegistrationPanel } from './helpers';
import { continuousIndex, trilinear } from './reference-sampling';

const REF_DIR = path.join(data, 'reference/siemens_xa30_t1w_enh');
const SHIFT: Vec3 = [6.5, -4.25, 3.5];

let app: E2eApp;
let tmp: string;
let fixedPath: string;
let movingPath: string;
let fixed: Volume;
let moving: Volume;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lattice-registration-e2e-'));
  fixedPath = path.join(REF_DIR, readdirSync(REF_DIR).find((f) => f.endsWith('.nii'))!);
  fixed = (await readNiftiFile(fixedPath)).volume;
  movingPath = path.join(tmp, 't1_shifted.nii');
  await writeNiftiFile(movingPath, { ...fixed, origin: [fixed.origin[0] + SHIFT[0], fixed.origin[1] + SHIFT[1], fixed.origin[2] + SHIFT[2]], metadata: {} });
  moving = (await readNiftiFile(movingPath)).volume;
  app = await startApp();
}, 300_000);

afterAll(async () => {
  await app?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function setField(page: Page, key: string, value: number) {
  const f = page.locator(`[data-testid=registration-${key}]`);
  await f.fill(String(value));
  await f.dispatchEvent('change');
}

describe('registration: manual and automatic', () => {
  it('manual translation through the fields moves the moving layer (cursor value as predicted); automatic rigid recovers the shift within 1 mm', async () => {
    const page = await app.newPage();
    await page.setViewportSize({ width: 1400, height: 1000 });
    try {
      await openRegistrationPanel(page, fixedPath, movingPath, '[data-testid=registration-panel]');
      const movingId = await page.inputValue('[data-testid=registration-moving]');
      expect(movingId).not.toBe('');

      await clickView(page, 'axial', 0.45, 0.5);
      const before = await cursorRows(page);
      const row = (r: { rows: { id: string; value: string | null }[] }) => Number(r.rows.find((x) => x.id === movingId)!.value);
      const mainRow = (r: { rows: { id: string; value: string | null }[] }) => Number(r.rows.find((x) => x.id !== movingId)!.value);
      // Identity: the moving layer is read at the cursor point itself.
      expect(row(before)).toBeCloseTo(trilinear(moving, continuousIndex(moving, before.world)), 2);
      const h0 = await planeHash(page, 'axial');

      // An arbitrary translation: the value comes from the cursor point minus it.
      const t: Vec3 = [2.3, -1.7, 0.9];
      await setField(page, 'tx', t[0]);
      await setField(page, 'ty', t[1]);
      await setField(page, 'tz', t[2]);
      const after = await cursorRows(page);
      expect(after.world).toEqual(before.world);
      const p: Vec3 = [after.world[0] - t[0], after.world[1] - t[1], after.world[2] - t[2]];
      const expected = trilinear(moving, continuousIndex(moving, p));
      expect(row(after)).toBeCloseTo(expected, 2);
      expect(Math.abs(row(after) - row(before))).toBeGreaterThan(1e-3);
      // The view shows the moved image.
      expect(await planeHash(page, 'axial')).not.toBe(h0);

      // Compare modes change what the view shows: blend and checkerboard both differ from the moving image alone.
      const hMoving = await planeHash(page, 'axial');
      await page.click('[data-testid=registration-compare-blend]');
      const hBlend = await planeHash(page, 'axial');
      await page.click('[data-testid=registration-compare-checker]');
      const hChecker = await planeHash(page, 'axial');
      expect(Number(await page.getAttribute('[data-view=axial]', 'data-overlay-pixels'))).toBeGreaterThan(100);
      expect(new Set([hMoving, hBlend, hChecker]).size).toBe(3);
      await page.click('[data-testid=registration-compare-moving]');
      expect(await planeHash(page, 'axial')).toBe(hMoving);

      // Alt-drag in the axial view moves the moving image in that plane (tz unchanged);
      // Ctrl+Alt-drag rotates it about the cursor (about the axial normal: rz changes).
      const box = (await page.locator('[data-view=axial] [data-testid=view-input]').boundingBox())!;
      const start = { x: box.x + box.width * 0.3, y: box.y + box.height * 0.5 };
      await page.keyboard.down('Alt');
      await page.mouse.move(start.x, start.y);
      await page.mouse.down();
      await page.mouse.move(start.x + 40, start.y + 10, { steps: 4 });
      await page.mouse.up();
      await page.keyboard.up('Alt');
      const dragged = await Promise.all(['tx', 'ty', 'tz'].map(async (k) => Number(await page.inputValue(`[data-testid=registration-${k}]`))));
      expect(Math.hypot(dragged[0] - t[0], dragged[1] - t[1])).toBeGreaterThan(5);
      expect(dragged[2]).toBeCloseTo(t[2], 3);
      const afterDrag = await cursorRows(page);
      expect(afterDrag.world).toEqual(after.world);
      expect(row(afterDrag)).toBeCloseTo(trilinear(moving, continuousIndex(moving, [after.world[0] - dragged[0], after.world[1] - dragged[1], after.world[2] - dragged[2]])), 1);
      await page.keyboard.down('Control');
      await page.keyboard.down('Alt');
      await page.mouse.move(start.x, start.y);
      await page.mouse.down();
      await page.mouse.move(start.x, start.y + 60, { steps: 4 });
      await page.mouse.up();
      await page.keyboard.up('Alt');
      await page.keyboard.up('Control');
      expect(Math.abs(Number(await page.inputValue('[data-testid=registration-rz]')))).toBeGreaterThan(1);
      expect(Number(await page.inputValue('[data-testid=registration-rx]'))).toBeCloseTo(0, 3);
      await setField(page, 'rz', 0);

      // −S aligns the moving image with the fixed one: same value as the fixed image.
      await setField(page, 'tx', -SHIFT[0]);
      await setField(page, 'ty', -SHIFT[1]);
      await setField(page, 'tz', -SHIFT[2]);
      for (const [fx, fy] of [[0.45, 0.5], [0.55, 0.4]]) {
        await clickView(page, 'axial', fx, fy);
        const r = await cursorRows(page);
        expect(row(r)).toBeCloseTo(mainRow(r), 0);
        expect(row(r)).toBeCloseTo(trilinear(moving, continuousIndex(moving, [r.world[0] + SHIFT[0], r.world[1] + SHIFT[1], r.world[2] + SHIFT[2]])), 2);
      }

      // Reset, then automatic rigid registration from identity.
      await page.click('[data-testid=registration-reset]');
      expect(Number(await page.inputValue('[data-testid=registration-tx]'))).toBe(0);
      await page.selectOption('[data-testid=registration-auto-kind]', 'rigid');
      // Every progress line shown during the run (issue 15: it said "Affine level 2/3" for Rigid).
      await page.evaluate(() => {
        const w = window as unknown as { regProgress: string[] };
        w.regProgress = [];
        new MutationObserver(() => {
          const t = document.querySelector('[data-testid=registration-progress] > div')?.textContent;
          if (t && w.regProgress[w.regProgress.length - 1] !== t) w.regProgress.push(t);
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
      await page.click('[data-testid=registration-run]');
      await page.waitForSelector('[data-testid=registration-note]', { timeout: 150_000 });
      expect(await page.$('[data-testid=registration-error]')).toBeNull();
      const progress = await page.evaluate(() => (window as unknown as { regProgress: string[] }).regProgress);
      expect(progress.some((t) => /^Rigid level \d\/\d, iteration \d+/.test(t)), progress.join('\n')).toBe(true);
      expect(progress.filter((t) => /affine/i.test(t))).toEqual([]);
      const text = (await page.textContent('[data-testid=registration-matrix]'))!;
      const M = text.trim().split(/\s+/).map(Number);
      expect(M.length).toBe(16);
      // The pull-back maps the fixed image's centre to centre + S.
      const c = [0, 1, 2].map((r) => fixed.origin[r] + [0, 1, 2].reduce((s, a) => s + fixed.direction[r * 3 + a] * fixed.spacing[a] * ((fixed.dims[a] - 1) / 2), 0));
      for (let r = 0; r < 3; r++) {
        const y = M[r * 4] * c[0] + M[r * 4 + 1] * c[1] + M[r * 4 + 2] * c[2] + M[r * 4 + 3];
        expect(Math.abs(y - c[r] - SHIFT[r]), `axis ${r}: ${y - c[r]} vs ${SHIFT[r]}`).toBeLessThan(1);
      }
      // The fields show the result (the moving image moved by about −S).
      for (const [k, s] of [['tx', SHIFT[0]], ['ty', SHIFT[1]], ['tz', SHIFT[2]]] as const) {
        expect(Math.abs(Number(await page.inputValue(`[data-testid=registration-${k}]`)) + s)).toBeLessThan(1.5);
      }

      // Save: the ITK transform and the 4×4 matrix written on the host read back as the same matrix.
      const itkPath = path.join(tmp, 'moving_to_fixed.txt');
      await page.fill('[data-testid=registration-save-path]', itkPath);
      await page.click('[data-testid=registration-save-itk]');
      await page.waitForFunction(() => /Saved/.test(document.querySelector('[data-testid=registration-note]')?.textContent ?? ''), null, { timeout: 20_000 });
      const itk = parseItkAffine(readFileSync(itkPath, 'utf8'));
      for (let i = 0; i < 16; i++) expect(itk[i]).toBeCloseTo(M[i], 6);
      // Saving again without "replace" is refused with a message; with it, the file is replaced.
      await page.click('[data-testid=registration-save-itk]');
      await page.waitForSelector('[data-testid=registration-error]');
      expect(await page.textContent('[data-testid=registration-error]')).toContain('already exists');
      const matPath = path.join(tmp, 'moving_to_fixed_matrix.txt');
      await page.fill('[data-testid=registration-save-path]', matPath);
      await page.click('[data-testid=registration-save-matrix]');
      await page.waitForFunction(() => /Saved/.test(document.querySelector('[data-testid=registration-note]')?.textContent ?? ''), null, { timeout: 20_000 });
      const mat = readFileSync(matPath, 'utf8').trim().split(/\s+/).map(Number);
      for (let i = 0; i < 16; i++) expect(mat[i]).toBeCloseTo(M[i], 9);

      // The moving image resliced on the fixed grid through the result: a new layer on the
      // fixed grid whose value at the cursor is close to the fixed image's (same anatomy).
      const nBefore = (await cursorRows(page)).rows.length;
      await page.click('[data-testid=registration-reslice]');
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=cursor-row]').length === n + 1, nBefore, { timeout: 60_000 });
      expect(await page.$('[data-testid=registration-error]')).toBeNull();
      await clickView(page, 'axial', 0.5, 0.45);
      const rs = await cursorRows(page);
      const mainV = Number(rs.rows[0].value);
      const reslicedV = Number(rs.rows[rs.rows.length - 1].value);
      // Same grid as the fixed image: integer voxel index; value within a few % of the fixed one.
      expect(Math.abs(reslicedV - mainV)).toBeLessThan(0.1 * Math.max(50, Math.abs(mainV)));
    } finally {
      await page.close();
    }
  }, 240_000);
});
