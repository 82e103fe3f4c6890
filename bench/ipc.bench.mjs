// IPC transfer speed of the browser host, in Debian's Chromium (driven by playwright-core,
// as the e2e tests and the viewer bench are):
//   - a 512×512×300 int16 volume (150 MiB) host → page (volume.get: one ArrayBuffer);
//   - the same page → host (volume.put);
//   - dicom.load of the viewer bench's synthetic 300-file CT series as the page sees it
//     (host read + decode + transfer + wrap), when that series exists
//     (bench/viewer.bench.mjs writes it to .bench-out/).
// Target (issue): the 150 MiB transfer well under a second on loopback.
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const series = join(root, '.bench-out', 'viewer-ct-512x512x300');
const REPS = 5;

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const fmt = (xs) => `${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'lattice-ipc-bench-'));
  const renderer = join(tmp, 'renderer');
  mkdirSync(renderer);
  // A page holding only the real renderer client (src-renderer/api), bundled for the browser.
  const { build } = await import('esbuild');
  await build({
    stdin: { contents: `import { getLatticeApi } from './src-renderer/api/index'; window.__api = getLatticeApi(); document.title = 'ready';`, resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile: join(renderer, 'client.js'),
    logLevel: 'warning',
  });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><meta charset="utf-8"><title>loading</title><script type="module" src="./client.js"></script>');

  const { startHost } = await import(pathToFileURL(join(root, 'out/node/host.js')).href);
  const host = await startHost({ rendererDir: renderer, settingsDir: join(tmp, 'settings'), sampleDataDir: null });
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const rows = [];
  try {
    const page = await browser.newPage();
    await page.goto(host.url);
    await page.waitForFunction(() => document.title === 'ready');

    const dims = [512, 512, 300];
    const data = new Int16Array(dims[0] * dims[1] * dims[2]);
    for (let i = 0; i < data.length; i += 101) data[i] = i % 4000;
    const id = host.services.volumes.add({ dims, spacing: [0.7, 0.7, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: -1024, metadata: {} }, 'bench');

    const down = [];
    for (let r = 0; r < REPS; r++) {
      down.push(
        await page.evaluate(async (volumeId) => {
          const t = performance.now();
          const v = await window.__api.getVolume(volumeId);
          if (v.volume.data.length !== 512 * 512 * 300) throw new Error('short volume');
          return performance.now() - t;
        }, id),
      );
    }
    rows.push(['150 MiB volume host → page (volume.get)', fmt(down), median(down) < 1000 ? 'OK (< 1 s)' : 'SLOW (≥ 1 s)']);

    const up = [];
    for (let r = 0; r < 3; r++) {
      const res = await page.evaluate(async () => {
        const d = new Int16Array(512 * 512 * 300);
        const t = performance.now();
        const h = await window.__api.putVolume({ dims: [512, 512, 300], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data: d, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} }, 'up');
        return { ms: performance.now() - t, id: h.id };
      });
      host.services.volumes.release([res.id]);
      up.push(res.ms);
    }
    rows.push(['150 MiB volume page → host (volume.put)', fmt(up), '']);

    if (existsSync(series)) {
      const loads = [];
      const scan = await page.evaluate((dir) => window.__api.scanDicom([dir]), series);
      for (let r = 0; r < 3; r++) {
        loads.push(
          await page.evaluate(async ({ scanId, seriesId }) => {
            const t = performance.now();
            const l = await window.__api.loadSeries(scanId, seriesId);
            await window.__api.releaseVolumes([l.header.id]);
            return performance.now() - t;
          }, { scanId: scan.scanId, seriesId: scan.series[0].id }),
        );
      }
      rows.push(['dicom.load 300-file 512×512 CT, whole call from the page', fmt(loads), 'host read + decode + transfer']);
    } else {
      rows.push(['dicom.load 300-file CT', 'skipped', `run the viewer bench first (writes ${series})`]);
    }
  } finally {
    await browser.close();
    await host.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log('\n| IPC (browser host, headless Chromium) | result | note |\n| --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
