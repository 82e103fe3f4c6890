// The renderer client (src-renderer/api) in real Chromium against the browser host:
// token from the URL fragment, native WebSocket transport, real DICOM load with progress,
// dropped files staged by upload, the 150 MB transfer time, and the browser-side guards
// (another origin cannot connect even with the token; CSP forbids eval).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { startHost, type RunningHost } from '../src-main/host/server';
import { scanDicom, loadDicomSeries } from '../src-main/dicom/index';
import { launchChromium } from './e2e/helpers';

const REPO = resolve(__dirname, '..');
const CT3 = resolve(REPO, '../shared/data/dicom/ct_ge_lightspeed_3slice');

let tmp: string;
let host: RunningHost;
let browser: Browser;
let page: Page;

declare global {
  interface Window {
    // The test page's handle on the client (see the bundle entry below).
    __t: {
      api: import('../src-renderer/api/index').LatticeApi;
      progress: (number | null)[];
    };
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lattice-host-browser-'));
  const renderer = join(tmp, 'renderer');
  // A page that is nothing but the real client, bundled for the browser as the renderer would be.
  await build({
    stdin: {
      contents: `import { getLatticeApi } from './src-renderer/api/index';
        window.__t = { api: getLatticeApi(), progress: [] };
        document.title = 'ready';`,
      resolveDir: REPO,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    outfile: join(renderer, 'client.js'),
    logLevel: 'warning',
  });
  await writeFile(join(renderer, 'index.html'), '<!doctype html><meta charset="utf-8"><title>loading</title><script type="module" src="./client.js"></script>');
  host = await startHost({ rendererDir: renderer, settingsDir: join(tmp, 'settings'), sampleDataDir: null });
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(host.url);
  await page.waitForFunction(() => document.title === 'ready');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('LatticeApi in Chromium over the browser host', () => {
  it('takes the token from the URL fragment, hides it, and keeps working after a reload', async () => {
    expect(page.url()).toBe(`${host.origin}/`);
    const info = await page.evaluate(() => window.__t.api.info());
    expect(info).toMatchObject({ name: 'Lattice', transport: 'browser' });
    await page.reload();
    await page.waitForFunction(() => document.title === 'ready');
    expect(await page.evaluate(() => window.__t.api.info().then((i) => i.transport))).toBe('browser');
  });

  it('rejects bad arguments with an IpcError naming the field', async () => {
    const e = await page.evaluate(() =>
      window.__t.api.invoke('dicom.load', { scanId: 'x', seriesId: 5 as unknown as string }).then(
        () => null,
        (err: { name: string; code: string; message: string }) => ({ name: err.name, code: err.code, message: err.message }),
      ),
    );
    expect(e).toEqual({ name: 'IpcError', code: 'invalid-args', message: expect.stringMatching(/^dicom\.load: invalid arguments: seriesId: /) });
  });

  it.skipIf(!existsSync(CT3))('scans and loads a real CT series; the page gets one Int16Array over one ArrayBuffer, with progress', async () => {
    const r = await page.evaluate(async (folder) => {
      const { api } = window.__t;
      const fr: (number | null)[] = [];
      const scan = await api.scanDicom([folder], { onProgress: (f) => fr.push(f) });
      const loaded = await api.loadSeries(scan.scanId, scan.series[0]!.id, { onProgress: (f) => fr.push(f) });
      const d = loaded.volume.data;
      let sum = 0;
      for (let i = 0; i < d.length; i++) sum += d[i]!;
      return { n: scan.series.length, type: d.constructor.name, off: d.byteOffset, len: d.byteLength, buf: d.buffer.byteLength, sum, dims: loaded.volume.dims, progress: fr };
    }, CT3);
    const direct = await scanDicom([CT3]);
    const ref = (await loadDicomSeries(direct, direct.series[0]!.id)).volume;
    expect(r.n).toBe(direct.series.length);
    expect(r.type).toBe(ref.data.constructor.name);
    expect(r.dims).toEqual(ref.dims);
    expect(r.off).toBe(0);
    expect(r.len).toBe(ref.data.byteLength);
    expect(r.buf).toBe(ref.data.byteLength);
    expect(r.sum).toBe((ref.data as Int16Array).reduce((a, b) => a + b, 0));
    expect(r.progress.length).toBeGreaterThan(1);
    expect(r.progress.at(-1)).toBe(1);
  });

  it.skipIf(!existsSync(CT3))('uploads files dropped on the page and returns paths that scan like the originals', async () => {
    const names = (await readdir(CT3)).sort();
    const files = await Promise.all(names.map(async (n) => ({ name: n, b64: (await readFile(join(CT3, n))).toString('base64') })));
    const r = await page.evaluate(async (fs) => {
      const dt = new DataTransfer();
      for (const f of fs) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
      const items = await window.__t.api.pathsFromDrop(dt);
      const scan = await window.__t.api.scanDicom(items.map((i) => i.path));
      return { items, series: scan.series.map((s) => ({ dims: s.dims, fileCount: s.fileCount })) };
    }, files);
    expect(r.items.map((i) => i.name)).toEqual(names);
    expect(r.items.every((i) => i.kind === 'file' && i.path.includes('lattice-uploads-'))).toBe(true);
    expect(r.series).toEqual([{ dims: [512, 512, 3], fileCount: names.length }]);
  });

  it('delivers a 512×512×300 int16 volume (150 MB) to the page as one ArrayBuffer', async () => {
    const dims: [number, number, number] = [512, 512, 300];
    const data = new Int16Array(dims[0] * dims[1] * dims[2]);
    for (let i = 0; i < data.length; i += 1009) data[i] = (i % 4000) - 1024;
    const id = host.services.volumes.add({ dims, spacing: [0.7, 0.7, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: -1024, metadata: {} }, 'big');
    const times: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const r = await page.evaluate(async (volumeId) => {
        const t0 = performance.now();
        const v = await window.__t.api.getVolume(volumeId);
        const ms = performance.now() - t0;
        const d = v.volume.data as Int16Array;
        let probe = 0;
        for (let i = 0; i < d.length; i += 1009) probe += d[i]!;
        return { ms, len: d.length, probe, own: d.buffer.byteLength === d.byteLength };
      }, id);
      let probe = 0;
      for (let i = 0; i < data.length; i += 1009) probe += data[i]!;
      expect(r).toMatchObject({ len: data.length, probe, own: true });
      times.push(r.ms);
    }
    times.sort((a, b) => a - b);
    console.log(`150 MB volume host → Chromium page: ${times.map((t) => t.toFixed(0)).join(', ')} ms (median ${times[1]!.toFixed(0)})`);
    // Speed is measured by `npm run bench` (bench/ipc.bench.mjs); this bound only catches a
    // pathological path (one WebSocket message under DevTools took 13 s in all).
    expect(times[1]).toBeLessThan(10_000);
    host.services.volumes.release([id]);
  });

  it('hands a 150 MB volume made in the page to the host (volume.put)', async () => {
    const times: number[] = [];
    for (let rep = 0; rep < 2; rep++) {
      const r = await page.evaluate(async () => {
        const data = new Int16Array(512 * 512 * 300);
        for (let i = 0; i < data.length; i += 997) data[i] = i % 3000;
        const t0 = performance.now();
        const h = await window.__t.api.putVolume(
          { dims: [512, 512, 300], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} },
          'from page',
        );
        return { ms: performance.now() - t0, id: h.id };
      });
      const v = host.services.volumes.get(r.id);
      for (let i = 0; i < v.data.length; i += 997 * 101) expect(v.data[i]).toBe(i % 3000);
      expect(v.data.byteLength).toBe(512 * 512 * 300 * 2);
      host.services.volumes.release([r.id]);
      times.push(r.ms);
    }
    console.log(`150 MB volume Chromium page → host: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
    expect(Math.min(...times)).toBeLessThan(15_000); // see the note on the download test
  });

  it('refuses a page of another origin even when it knows the token', async () => {
    const other = await browser.newPage();
    await other.goto('about:blank');
    const r = await other.evaluate(
      (url) =>
        new Promise<string>((ok) => {
          const ws = new WebSocket(url);
          ws.onopen = () => ok('open');
          ws.onclose = () => ok('closed');
        }),
      `ws://127.0.0.1:${host.port}/ipc?token=${host.token}`,
    );
    expect(r).toBe('closed');
    await other.close();
  });

  it('enforces the CSP: an injected inline script does not run', async () => {
    const r = await page.evaluate(async () => {
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
      const s = document.createElement('script');
      s.textContent = 'window.__injected = 1';
      document.head.append(s);
      await new Promise((res) => setTimeout(res, 50));
      return { ran: (window as unknown as { __injected?: number }).__injected === 1, violations };
    });
    expect(r.ran).toBe(false);
    expect(r.violations[0]).toMatch(/^script-src/);
  });
});
