// End-to-end: deformable (demons) registration in the app (Chromium against the browser host).
// Fixed: dcm2niix's reference of a real 3D T1 (siemens_xa30_t1w_enh, 96×128×128, 2 mm).
// Moving: the same image deformed here by a smooth Gaussian bump (up to 5 mm), written as
// NIfTI. Asserts:
//  - while the job runs, the live view's three panes (warped image, deformation grid, update)
//    are redrawn with different pictures, and the MSD plot's curve goes down in every level;
//  - the result arrives as layers (warped, Jacobian, difference) and brings the moving image
//    much closer to the fixed one; S / T / W and G / J switch the views and the panes;
//  - Cancel during a second run keeps the result so far (stopped early, still a result);
//  - the warped image and the displacement field saved from the panel read back from disk on
//    the fixed grid, the warped image close to the fixed one, the field a 3-vector NIfTI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Vec3, Volume } from '../../src-shared/image/volume';
import { readNiftiFile, writeNiftiFile } from '../../src-main/nifti/nifti-file';
import { ARTIFACTS, DATA, canvasHash, cursorRows, planeHash, startApp, type E2eApp, openRegistrationPanel } from './helpers';
import { msd } from '../registration-helpers';

const REF_DIR = path.join(DATA, 'reference/siemens_xa30_t1w_enh');

let app: E2eApp;
let tmp: string;
let fixedPath: string;
let movingPath: string;
let fixed: Volume;
let moving: Volume;

/** Real values of a volume as Float32. */
function real(v: Volume): Float32Array {
  const out = new Float32Array(v.dims[0] * v.dims[1] * v.dims[2]);
  for (let i = 0; i < out.length; i++) out[i] = v.data[i] * v.rescaleSlope + v.rescaleIntercept;
  return out;
}

/**
 * moving(x) = fixed(x + b(x)), b a Gaussian bump in voxel space (σ = 12 voxels, peak 2.5
 * voxels = 5 mm along i and −1.5 voxels along j), trilinear.
 */
function deform(f: Volume): Volume {
  const [nx, ny, nz] = f.dims;
  const src = real(f);
  const out = new Float32Array(src.length);
  const c = [nx / 2, ny / 2, nz / 2];
  const at = (i: number, j: number, k: number) => src[i + nx * (j + ny * k)];
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const g = Math.exp(-((i - c[0]) ** 2 + (j - c[1]) ** 2 + (k - c[2]) ** 2) / (2 * 12 * 12));
        const x = Math.min(nx - 1.001, Math.max(0, i + 2.5 * g));
        const y = Math.min(ny - 1.001, Math.max(0, j - 1.5 * g));
        const z = k;
        const i0 = Math.floor(x), j0 = Math.floor(y);
        const fx = x - i0, fy = y - j0;
        out[i + nx * (j + ny * k)] =
          (1 - fy) * ((1 - fx) * at(i0, j0, z) + fx * at(i0 + 1, j0, z)) + fy * ((1 - fx) * at(i0, j0 + 1, z) + fx * at(i0 + 1, j0 + 1, z));
      }
  return { ...f, data: out, voxelType: 'float32', rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'lattice-demons-e2e-'));
  fixedPath = path.join(REF_DIR, readdirSync(REF_DIR).find((f) => f.endsWith('.nii'))!);
  fixed = (await readNiftiFile(fixedPath)).volume;
  moving = deform(fixed);
  movingPath = path.join(tmp, 't1_deformed.nii');
  await writeNiftiFile(movingPath, moving);
  app = await startApp();
}, 300_000);

afterAll(async () => {
  await app?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('registration: demons in the app', () => {
  it('live panes and MSD plot during the run; results as layers; cancel keeps a result; warped image and field saved to disk', async () => {
    const page = await app.newPage();
    await page.setViewportSize({ width: 1500, height: 1000 });
    try {
      await openRegistrationPanel(page, fixedPath, movingPath);
      const layersBefore = (await cursorRows(page)).rows.length;

      // Long enough to watch: no plateau stop, fixed iteration counts.
      await page.fill('[data-testid=demons-iterations]', '60, 40, 12');
      await page.dispatchEvent('[data-testid=demons-iterations]', 'change');
      await page.uncheck('[data-testid=demons-plateau]');

      // Record the three panes' pictures whenever a new preview has been drawn during the run.
      await page.evaluate(() => {
        const w = window as unknown as { __frames: { previews: number; image: number; deformation: number; update: number }[]; __stop: boolean };
        w.__frames = [];
        w.__stop = false;
        const hash = (sel: string) => {
          const c = document.querySelector(sel) as HTMLCanvasElement | null;
          if (!c || !c.width) return 0;
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let h = 2166136261;
          for (let i = 0; i < d.length; i += 4) h = Math.imul(h ^ (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16)), 16777619);
          return h >>> 0;
        };
        let last = '';
        const tick = () => {
          const live = document.querySelector('[data-testid=demons-live]');
          if (live && live.getAttribute('data-running') === 'yes') {
            const drawn = ['image', 'deformation', 'update'].map((p) => document.querySelector(`[data-testid=demons-pane-${p}]`)?.getAttribute('data-drawn')).join('/');
            if (drawn !== last) {
              last = drawn;
              w.__frames.push({
                previews: Number(live.getAttribute('data-previews')),
                image: hash('[data-testid=demons-pane-image]'),
                deformation: hash('[data-testid=demons-pane-deformation]'),
                update: hash('[data-testid=demons-pane-update]'),
              });
            }
          }
          if (!w.__stop) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });

      await page.click('[data-testid=demons-run]');
      await page.waitForSelector('[data-testid=demons-live]');
      await page.waitForSelector('[data-testid=demons-note]', { timeout: 240_000 });
      expect(await page.$('[data-testid=demons-error]')).toBeNull();
      const frames = await page.evaluate(() => {
        const w = window as unknown as { __frames: { previews: number; image: number; deformation: number; update: number }[]; __stop: boolean };
        w.__stop = true;
        return w.__frames;
      });
      // The three panes were redrawn with new pictures while the job ran.
      expect(frames.length, JSON.stringify(frames)).toBeGreaterThanOrEqual(3);
      for (const pane of ['image', 'deformation', 'update'] as const) {
        expect(new Set(frames.map((f) => f[pane])).size, `${pane} pane pictures during the run`).toBeGreaterThanOrEqual(3);
      }
      expect(new Set(frames.map((f) => f.previews)).size).toBeGreaterThanOrEqual(3);

      // The MSD plot: one point per iteration, going down within every level.
      const msdList = (await page.getAttribute('[data-testid=demons-msd-plot]', 'data-msd'))!.split(',').map(Number);
      const levels = (await page.getAttribute('[data-testid=demons-msd-plot]', 'data-levels'))!.split(',').map(Number);
      expect(msdList.length).toBe(60 + 40 + 12);
      expect(new Set(levels)).toEqual(new Set([1, 2, 3]));
      for (const L of [1, 2, 3]) {
        const m = msdList.filter((_, i) => levels[i] === L);
        expect(m[m.length - 1], `level ${L}: ${m[0]} → ${m[m.length - 1]}`).toBeLessThan(0.8 * m[0]);
      }
      const points = (await page.getAttribute('[data-testid=demons-msd-plot] polyline', 'points'))!.trim().split(/\s+/);
      expect(points.length).toBe(msdList.length);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'demons-live.png') });

      // Results: MSD after much lower than before, three new layers (warped shown).
      const note = (await page.textContent('[data-testid=demons-note]'))!;
      const [before, after] = /MSD ([0-9.e+-]+) → ([0-9.e+-]+)/.exec(note)!.slice(1).map(Number);
      // (The floor is the T1's noise, smoothed by the trilinear resampling that made the moving image.)
      expect(after).toBeLessThan(0.6 * before);
      expect((await cursorRows(page)).rows.length).toBe(layersBefore + 3);

      // S / T / W step the views between source, target and warped; G / J the deformation pane and the Jacobian overlay.
      await page.click('[data-testid=demons-live] header');
      await page.keyboard.press('s');
      const hSource = await planeHash(page, 'axial');
      expect(await page.getAttribute('[data-testid=demons-pane-image]', 'data-mode')).toBe('source');
      await page.keyboard.press('t');
      const hTarget = await planeHash(page, 'axial');
      await page.keyboard.press('w');
      const hWarped = await planeHash(page, 'axial');
      expect(new Set([hSource, hTarget, hWarped]).size).toBe(3);
      const paneWarped = await canvasHash(page, '[data-testid=demons-pane-image]');
      await page.keyboard.press('t');
      expect(await canvasHash(page, '[data-testid=demons-pane-image]')).not.toBe(paneWarped);
      await page.keyboard.press('j');
      expect(await page.getAttribute('[data-testid=demons-pane-deformation]', 'data-mode')).toBe('jacobian');
      expect(Number(await page.getAttribute('[data-view=axial]', 'data-overlay-pixels'))).toBeGreaterThan(100);
      await page.screenshot({ path: path.join(ARTIFACTS, 'demons-jacobian.png') });
      await page.keyboard.press('g');
      expect(await page.getAttribute('[data-testid=demons-pane-deformation]', 'data-mode')).toBe('grid');

      // Save the warped image and the displacement field; read them back from disk.
      const warpedPath = path.join(tmp, 'warped.nii.gz');
      await page.fill('[data-testid=demons-save-path]', warpedPath);
      await page.click('[data-testid=demons-save-warped]');
      await page.waitForFunction(() => /Saved the warped image/.test(document.querySelector('[data-testid=demons-note]')?.textContent ?? ''), null, { timeout: 60_000 });
      const fieldPath = path.join(tmp, 'field.nii');
      await page.fill('[data-testid=demons-save-path]', fieldPath);
      await page.click('[data-testid=demons-save-field]');
      await page.waitForFunction(() => /Saved the displacement field/.test(document.querySelector('[data-testid=demons-note]')?.textContent ?? ''), null, { timeout: 60_000 });
      const w = (await readNiftiFile(warpedPath)).volume;
      expect(w.dims).toEqual(fixed.dims);
      for (let a = 0; a < 3; a++) {
        expect(w.origin[a]).toBeCloseTo(fixed.origin[a], 3);
        expect(w.spacing[a]).toBeCloseTo(fixed.spacing[a], 4);
      }
      for (let a = 0; a < 9; a++) expect(w.direction[a]).toBeCloseTo(fixed.direction[a], 5);
      const F = real(fixed);
      const mBefore = msd(F, real(moving));
      const mAfter = msd(F, real(w));
      expect(mAfter, `MSD to the fixed image: moving ${mBefore}, warped ${mAfter}`).toBeLessThan(0.6 * mBefore);
      const field = (await readNiftiFile(fieldPath)).volume;
      expect(field.dims).toEqual(fixed.dims);
      expect(field.frames).toBe(3);
      // At the bump's centre the field undoes the bump: warped(x) = moving(x + D(x)) ≈ fixed(x)
      // needs D ≈ −b = −(2.5, −1.5, 0) voxels, i.e. −D·S·(2.5, −1.5, 0) in LPS mm (RAS: x, y negated).
      const [nx, ny, nz] = fixed.dims;
      const n = nx * ny * nz;
      const centre = nx / 2 + nx * (ny / 2 + ny * (nz / 2));
      const bLps = [0, 1, 2].map((r) => fixed.direction[r * 3] * fixed.spacing[0] * 2.5 - fixed.direction[r * 3 + 1] * fixed.spacing[1] * 1.5);
      const expected = [bLps[0], bLps[1], -bLps[2]]; // −b in RAS
      const got = [0, 1, 2].map((c) => field.data[c * n + centre]);
      expect(Math.hypot(got[0] - expected[0], got[1] - expected[1], got[2] - expected[2]), `field at the centre ${got} vs ${expected}`).toBeLessThan(1);

      // A second run, cancelled after a few previews: the result so far is kept.
      await page.fill('[data-testid=demons-iterations]', '400, 300, 100');
      await page.dispatchEvent('[data-testid=demons-iterations]', 'change');
      const rowsBefore = (await cursorRows(page)).rows.length;
      await page.click('[data-testid=demons-run]');
      await page.waitForFunction(() => Number(document.querySelector('[data-testid=demons-live]')?.getAttribute('data-previews')) >= 3, null, { timeout: 120_000 });
      await page.click('[data-testid=demons-cancel]');
      await page.waitForSelector('[data-testid=demons-progress]', { state: 'detached', timeout: 60_000 });
      expect(await page.$('[data-testid=demons-error]')).toBeNull();
      expect(await page.textContent('[data-testid=demons-note]')).toMatch(/stopped early/);
      expect((await cursorRows(page)).rows.length).toBe(rowsBefore + 3);
      expect(app.errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 400_000);
});
