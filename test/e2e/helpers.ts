/**
 * Reusable pieces for end-to-end tests of the real UI in the browser host:
 *
 *   import { startApp } from './helpers';
 *   let app: E2eApp;
 *   beforeAll(async () => { app = await startApp(); }, 240_000);
 *   afterAll(() => app?.close());
 *   it('…', async () => {
 *     const page = app.page;                           // already at the tokenised URL
 *     await page.click('[data-testid=open-folder]');
 *     const api = await app.api();                     // or drive the IPC directly in Node
 *   });
 *
 * - `ensureBuilt()` builds out/renderer (electron-vite) and out/node/host.js (esbuild)
 *   when they are older than their sources; concurrent test files wait on one build.
 * - `startHostProcess()` runs `node out/node/host.js --json` on a free port in a child
 *   process with a private settings folder, and reads the URL (with token) it prints.
 * - `launchChromium()` starts Debian's Chromium headless with flags that give WebGL2
 *   through SwiftShader (ANGLE on SwiftShader's Vulkan; checked: WEBGL2 available,
 *   MAX_3D_TEXTURE_SIZE 2048). Never downloads a browser.
 * Page console errors and uncaught exceptions are collected in `app.errors`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { LatticeApi } from '../../src-renderer/api/index';
import { WebSocketTransport, type WebSocketLike } from '../../src-renderer/api/transport';

import { REPO, ensureNodeBuild, newest, runInRepo, withBuildLock } from '../node-build';

export { REPO };
/** The shared test data (real scanner DICOM + dcm2niix references). */
export const DATA = resolve(REPO, '../shared/data');
export const ARTIFACTS = join(REPO, 'test-artifacts');

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

/** Builds the renderer and the host if their outputs are older than the sources. */
export async function ensureBuilt(opts: { force?: boolean } = {}): Promise<void> {
  await withBuildLock(() => {
    const renderer = join(REPO, 'out/renderer/index.html');
    const rendererSrc = Math.max(newest(join(REPO, 'src-renderer')), newest(join(REPO, 'src-shared')), newest(join(REPO, 'electron.vite.config.ts')));
    if (opts.force || newest(renderer) < rendererSrc) runInRepo(join(REPO, 'node_modules/.bin/electron-vite'), ['build']);
    if (opts.force) runInRepo(process.execPath, [join(REPO, 'scripts/build-node.mjs')]);
  });
  if (!opts.force) await ensureNodeBuild();
}

export interface HostProcess {
  url: string;
  origin: string;
  port: number;
  token: string;
  proc: ChildProcess;
  settingsDir: string;
  /** Everything the host wrote to stderr (for failure messages). */
  stderr(): string;
  close(): Promise<void>;
}

/** Starts the built host in a child process (random port unless given) with a private settings folder. */
export async function startHostProcess(opts: { port?: number; settingsDir?: string; env?: Record<string, string> } = {}): Promise<HostProcess> {
  const settingsDir = opts.settingsDir ?? mkdtempSync(join(tmpdir(), 'lattice-e2e-settings-'));
  const args = [join(REPO, 'out/node/host.js'), '--json', '--renderer', join(REPO, 'out/renderer'), ...(opts.port ? ['--port', String(opts.port)] : [])];
  const proc = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LATTICE_SETTINGS_DIR: settingsDir, ...opts.env } });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const info = await new Promise<{ url: string; origin: string; port: number; token: string }>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`host did not start in 30 s:\n${err}`)), 30_000);
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        ok(JSON.parse(line));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`host exited with ${code}:\n${err}`));
    });
  });
  return {
    ...info,
    proc,
    settingsDir,
    stderr: () => err,
    close: () =>
      new Promise<void>((ok) => {
        if (proc.exitCode !== null) return ok();
        proc.once('exit', () => ok());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      }),
  };
}

export function launchChromium(opts: { headless?: boolean; extraArgs?: string[] } = {}): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: opts.headless ?? true, args: [...CHROMIUM_ARGS, ...(opts.extraArgs ?? [])] });
}

export interface E2eApp {
  host: HostProcess;
  browser: Browser;
  context: BrowserContext;
  /** The first page, already loaded at the host's tokenised URL. */
  page: Page;
  /** Console errors and page errors seen so far (all pages of the context). */
  errors: string[];
  /** Opens another tab at the tokenised URL. */
  newPage(): Promise<Page>;
  /** A LatticeApi in Node talking to the same host (to prepare or check state). */
  api(): LatticeApi;
  close(): Promise<void>;
}

export async function startApp(opts: { build?: boolean; viewport?: { width: number; height: number }; headless?: boolean } = {}): Promise<E2eApp> {
  if (opts.build !== false) await ensureBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  const host = await startHostProcess();
  let browser: Browser | undefined;
  try {
    browser = await launchChromium({ headless: opts.headless });
    const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1400, height: 900 } });
    const errors: string[] = [];
    context.on('page', (p) => watch(p));
    const watch = (p: Page) => {
      p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      p.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}${m.location().url ? ` (${m.location().url})` : ''}`);
      });
    };
    const newPage = async () => {
      const p = await context.newPage();
      await p.goto(host.url, { waitUntil: 'load' });
      return p;
    };
    const page = await newPage();
    const apis: LatticeApi[] = [];
    return {
      host,
      browser,
      context,
      page,
      errors,
      newPage,
      api() {
        const a = new LatticeApi(
          new WebSocketTransport(WebSocketTransport.urlFor(host.origin, host.token), (u) => new WebSocket(u, { origin: host.origin, maxPayload: 2 ** 31 }) as unknown as WebSocketLike),
        );
        apis.push(a);
        return a;
      },
      async close() {
        for (const a of apis) a.transport.close?.();
        await browser?.close().catch(() => undefined);
        await host.close();
        rmSync(host.settingsDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await browser?.close().catch(() => undefined);
    await host.close();
    throw e;
  }
}

// ---- UI steps shared by the end-to-end tests --------------------------------------------

/** Waits two animation frames, so that whatever the last action changed has been drawn. */
export async function nextFrames(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/**
 * Opens the first series of a DICOM folder (or a NIfTI file) through the open dialog and waits
 * until all three views have rendered. With `role`, answers the "load as" question and waits
 * for the dialog to close.
 */
export async function openSeries(page: Page, folder: string, role?: 'main' | 'additional' | 'overlay'): Promise<void> {
  await page.click('[data-testid=open-folder]');
  await page.fill('[data-testid=folder-path]', folder);
  await page.click('[data-testid=scan-button]');
  await page.waitForSelector('[data-testid=series-row]', { timeout: 60_000 });
  await page.click('[data-testid=series-row]');
  if (role) {
    await page.click(`[data-testid=load-as] [data-role=${role}]`);
    await page.waitForSelector('[data-testid=open-dialog]', { state: 'detached', timeout: 60_000 });
  }
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-view]')].every((v) => Number(v.getAttribute('data-render-count')) > 0),
    null,
    { timeout: 60_000 },
  );
}

/** Clicks a view at a fraction (fx, fy) of its width and height. */
export async function clickView(page: Page, view: string, fx: number, fy: number): Promise<void> {
  const box = (await page.locator(`[data-view=${view}] [data-testid=view-input]`).boundingBox())!;
  await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
}

/** The cursor inspector after a redraw: the cursor's world position and one row per layer. */
export async function cursorRows(page: Page) {
  await nextFrames(page);
  const world = (await page.getAttribute('[data-testid=cursor-inspector]', 'data-world'))!.split(',').map(Number) as [number, number, number];
  const rows = await page.$$eval('[data-testid=cursor-row]', (els) =>
    els.map((e) => ({ id: e.getAttribute('data-layer-id')!, value: e.getAttribute('data-value'), index: e.getAttribute('data-index')!.split(',').map(Number) })),
  );
  return { world, rows };
}

/** FNV-1a hash of a canvas's RGB pixels (a view's plane by default): equal hashes = same picture. */
export async function canvasHash(page: Page, selector: string): Promise<number> {
  await nextFrames(page);
  return page.evaluate((sel) => {
    const c = document.querySelector(sel) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let h = 2166136261;
    for (let i = 0; i < d.length; i += 4) h = Math.imul(h ^ (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16)), 16777619);
    return h >>> 0;
  }, selector);
}

/** canvasHash of a slice view's plane. */
export function planeHash(page: Page, view: string): Promise<number> {
  return canvasHash(page, `[data-view=${view}] canvas.plane`);
}

/** Waits until no Tools-panel job runs; returns the error the panel shows, if any. */
export async function waitForToolJob(page: Page, timeoutMs = 120_000): Promise<string | null> {
  await page.waitForFunction(() => !document.querySelector('[data-testid=tools-progress]'), null, { timeout: timeoutMs });
  const err = page.locator('[data-testid=tools-error]');
  return (await err.count()) ? await err.textContent() : null;
}

/** Opens `fixed` as the main image and `moving` as an additional one, then Tools ▸ Registration; waits for `ready`. */
export async function openRegistrationPanel(page: Page, fixed: string, moving: string, ready = '[data-testid=demons-section]'): Promise<void> {
  await openSeries(page, fixed);
  await openSeries(page, moving, 'additional');
  await page.click('[data-testid=menu-tools]');
  await page.click('[data-testid=menu-registration]');
  await page.waitForSelector(ready);
}
