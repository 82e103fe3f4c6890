// The whole chain as a user gets it, through test/e2e/helpers.ts: the built renderer served
// by the built host (a child process, as `npm start` runs it) in Debian's Chromium.
// Checks the helpers themselves (token, WebGL2, a Node-side client on the same host) and
// the loading flow: folder → series list → pick → three views drawn.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DATA, startApp, type E2eApp } from './e2e/helpers';

const CT3 = join(DATA, 'dicom/ct_ge_lightspeed_3slice');
let app: E2eApp;

beforeAll(async () => {
  app = await startApp();
}, 240_000);

afterAll(async () => {
  await app?.close();
});

describe('browser host end to end', () => {
  it('opens the UI at the tokenised URL, then hides the token', async () => {
    expect(app.host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{40,}$/);
    expect(app.page.url()).toBe(`${app.host.origin}/`);
    expect(await app.page.title()).toBe('Lattice');
  });

  it('gives the page WebGL2 (SwiftShader) in headless Chromium', async () => {
    const r = await app.page.evaluate(() => {
      const gl = document.createElement('canvas').getContext('webgl2');
      return gl ? (gl.getParameter(gl.MAX_3D_TEXTURE_SIZE) as number) : 0;
    });
    expect(r).toBeGreaterThanOrEqual(256);
  });

  it('lets a Node-side client use the same host', async () => {
    const api = app.api();
    const info = await api.info();
    expect(info.transport).toBe('browser');
    const l = await api.listFolder(DATA);
    expect(l.entries.some((e) => e.name === 'dicom' && e.kind === 'folder')).toBe(true);
  });

  it.skipIf(!existsSync(CT3))('loads a DICOM folder through the UI: series list → pick → three views', async () => {
    const page = app.page;
    await page.click('[data-testid=open-folder]');
    await page.fill('[data-testid=folder-path]', CT3);
    await page.click('[data-testid=scan-button]');
    const row = page.locator('[data-testid=series-row]').first();
    await row.waitFor({ timeout: 60_000 });
    expect(await row.textContent()).toMatch(/CT/);
    await row.click();
    await page.waitForFunction(() => {
      const views = [...document.querySelectorAll('[data-view]')];
      return views.length === 3 && views.every((v) => Number(v.getAttribute('data-render-count')) > 0);
    }, null, { timeout: 60_000 });
    expect(app.errors).toEqual([]);
  });
});
