// Viewer speed in the browser host, in Debian's Chromium (WebGL/Canvas through SwiftShader):
//   - pick-to-render: from clicking a 512×512×300 int16 CT series in the series list to the
//     three views drawn with it (host reads + decodes the DICOM files, sends one ArrayBuffer,
//     the renderer reslices and draws three planes);
//   - slice scrolling: Page Up in the axial view, one slice per animation frame, frames/s;
//   - cursor dragging: every move redraws all three views, frames/s.
// Targets (issue): pick-to-render ≤ 1.5 s, scrolling ≥ 30 fps (aim 60).
//
// Lattice vs NiiVue (side by side, same run): the same CT written once as NIfTI (lattice convert,
// .bench-out/viewer-nifti/), opened in the same headless Chromium by Lattice (open dialog →
// series row; the host reads the file) and by NiiVue (@niivue/niivue, a bare page bundled here
// with esbuild and served from 127.0.0.1; it fetches the file): open → first frame of the three
// 2D views, axial scrolling frames/s, and open → first 3D frame (Lattice's 3D cell vs NiiVue's
// volume render). `VIEWER_BENCH=compare` runs only this part.
//
// The synthetic series is convert.bench.mjs's .bench-out/ct512x300/ when present, else written
// once into .bench-out/viewer-ct-512x512x300/ (explicit VR little endian CT files, ~150 MB). The renderer is built with electron-vite
// into out/renderer, as `npm run build` does.
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NX = 512;
const NY = 512;
const NZ = 300;
// bench/convert.bench.mjs caches the same kind of series (512×512×300 int16 CT) in
// .bench-out/ct512x300/: reuse it when complete, else write our own once.
const sharedDir = join(root, '.bench-out', 'ct512x300');
const ownDir = join(root, '.bench-out', `viewer-ct-${NX}x${NY}x${NZ}`);
const sharedComplete = existsSync(sharedDir) && readdirSync(sharedDir).filter((f) => f.endsWith('.dcm')).length === NZ;
const seriesDir = sharedComplete ? sharedDir : ownDir;

// ---------- a synthetic CT series as real DICOM files ----------

function element(group, elem, vr, value) {
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT', 'OF'].includes(vr);
  let body;
  if (Buffer.isBuffer(value)) body = value;
  else if (vr === 'US') body = Buffer.alloc(2), body.writeUInt16LE(value);
  else if (vr === 'UL') body = Buffer.alloc(4), body.writeUInt32LE(value);
  else {
    body = Buffer.from(String(value), 'latin1');
    if (body.length % 2) body = Buffer.concat([body, Buffer.from(vr === 'UI' ? '\0' : ' ')]);
  }
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(elem, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(body.length, 8);
  else head.writeUInt16LE(body.length, 6);
  return Buffer.concat([head, body]);
}

function writeSeries() {
  if (existsSync(seriesDir) && readdirSync(seriesDir).filter((f) => f.endsWith('.dcm')).length === NZ) return false;
  mkdirSync(seriesDir, { recursive: true });
  const study = '1.2.826.0.1.3680043.8.498.1';
  const series = '1.2.826.0.1.3680043.8.498.1.2';
  const pixels = Buffer.alloc(NX * NY * 2);
  for (let k = 0; k < NZ; k++) {
    // A body-like ellipse of soft tissue with a "spine" and lungs; values shift with k so
    // that every slice differs. Stored values; real HU = stored − 1024.
    for (let j = 0; j < NY; j++) {
      for (let i = 0; i < NX; i++) {
        const x = (i - 256) / 220;
        const y = (j - 256) / 160;
        let hu = -1000;
        if (x * x + y * y < 1) {
          hu = 40 + ((i * 7 + j * 3 + k * 5) % 40);
          const lx = (Math.abs(i - 256) - 110) / 70;
          const ly = (j - 230) / 90;
          if (lx * lx + ly * ly < 1) hu = -850;
          const sx = (i - 256) / 25;
          const sy = (j - 360 - (k % 30)) / 25;
          if (sx * sx + sy * sy < 1) hu = 700;
        }
        pixels.writeInt16LE(hu + 1024, (j * NX + i) * 2);
      }
    }
    const sop = `${series}.${k + 1}`;
    const meta = Buffer.concat([
      element(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
      element(0x0002, 0x0002, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
      element(0x0002, 0x0003, 'UI', sop),
      element(0x0002, 0x0010, 'UI', '1.2.840.10008.1.2.1'),
      element(0x0002, 0x0012, 'UI', '1.2.826.0.1.3680043.8.498'),
    ]);
    const ds = Buffer.concat([
      element(0x0002, 0x0000, 'UL', meta.length),
      meta,
      element(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
      element(0x0008, 0x0018, 'UI', sop),
      element(0x0008, 0x0060, 'CS', 'CT'),
      element(0x0008, 0x103e, 'LO', 'Bench CT 512x512x300'),
      element(0x0010, 0x0010, 'PN', 'Bench^Synthetic'),
      element(0x0010, 0x0020, 'LO', 'BENCH1'),
      element(0x0018, 0x0050, 'DS', '1'),
      element(0x0020, 0x000d, 'UI', study),
      element(0x0020, 0x000e, 'UI', series),
      element(0x0020, 0x0011, 'IS', '1'),
      element(0x0020, 0x0013, 'IS', String(k + 1)),
      element(0x0020, 0x0032, 'DS', `-179.6\\-179.6\\${(-k * 1).toFixed(1)}`),
      element(0x0020, 0x0037, 'DS', '1\\0\\0\\0\\1\\0'),
      element(0x0028, 0x0002, 'US', 1),
      element(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
      element(0x0028, 0x0010, 'US', NY),
      element(0x0028, 0x0011, 'US', NX),
      element(0x0028, 0x0030, 'DS', '0.703125\\0.703125'),
      element(0x0028, 0x0100, 'US', 16),
      element(0x0028, 0x0101, 'US', 16),
      element(0x0028, 0x0102, 'US', 15),
      element(0x0028, 0x0103, 'US', 1),
      element(0x0028, 0x1052, 'DS', '-1024'),
      element(0x0028, 0x1053, 'DS', '1'),
      element(0x7fe0, 0x0010, 'OW', pixels),
    ]);
    const pre = Buffer.alloc(132);
    pre.write('DICM', 128, 'latin1');
    writeFileSync(join(seriesDir, `IM${String(k + 1).padStart(4, '0')}.dcm`), Buffer.concat([pre, ds]));
  }
  return true;
}

// ---------- build, host, browser ----------

/** The same renderer build as `npm run build` (electron-vite). */
function buildRenderer() {
  const r = spawnSync(join(root, 'node_modules/.bin/electron-vite'), ['build'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
  });
  if (r.status !== 0) throw new Error(`electron-vite build failed:\n${r.stdout}\n${r.stderr}`);
}

function startHost() {
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, [join(root, 'out/node/host.js'), '--json', '--renderer', join(root, 'out/renderer')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LATTICE_SETTINGS_DIR: join(root, '.bench-out', 'settings') },
    });
    let buf = '';
    p.stdout.on('data', (d) => {
      buf += d;
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (line) ok({ proc: p, ...JSON.parse(line) });
    });
    p.on('exit', (c) => fail(new Error(`host exited with ${c}`)));
  });
}

// ---------- Lattice vs NiiVue on the same NIfTI ----------

const niftiDir = join(root, '.bench-out', 'viewer-nifti');

/** The bench CT as one uncompressed NIfTI (written once with our own converter). */
function writeNifti() {
  const have = existsSync(niftiDir) && readdirSync(niftiDir).find((f) => f.endsWith('.nii'));
  if (have) return join(niftiDir, have);
  mkdirSync(niftiDir, { recursive: true });
  const r = spawnSync(process.execPath, [join(root, 'bin/lattice.js'), 'convert', seriesDir, '-o', niftiDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`lattice convert failed:\n${r.stdout}\n${r.stderr}`);
  const f = readdirSync(niftiDir).find((x) => x.endsWith('.nii'));
  if (!f) throw new Error('lattice convert wrote no .nii');
  return join(niftiDir, f);
}

/** Bundles the bare NiiVue page (esbuild, local files only) into .bench-out/niivue-page/. */
async function buildNiivuePage() {
  const out = join(root, '.bench-out', 'niivue-page');
  mkdirSync(out, { recursive: true });
  const esbuild = await import('esbuild');
  await esbuild.build({ entryPoints: [join(root, 'bench/niivue-page/main.js')], bundle: true, format: 'iife', outfile: join(out, 'bundle.js'), logLevel: 'error', minify: true });
  writeFileSync(join(out, 'index.html'), readFileSync(join(root, 'bench/niivue-page/index.html')));
  return out;
}

/** A static server on 127.0.0.1 for the NiiVue page and the NIfTI file. */
function serveStatic(dir, nifti) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const file = url.pathname === '/ct.nii' ? nifti : join(dir, url.pathname === '/' ? 'index.html' : url.pathname.slice(1));
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const type = file.endsWith('.html') ? 'text/html' : file.endsWith('.js') ? 'text/javascript' : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, 'content-length': statSync(file).size, 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${server.address().port}` })));
}

/** Frames/s over `n` animation frames, one step per frame (mean and median-interval fps). */
function stepFps(page, n, stepSrc) {
  return page.evaluate(
    ({ n, stepSrc }) =>
      new Promise((resolve) => {
        const step = new Function('i', stepSrc);
        let i = 0;
        const stamps = [];
        const tick = (t) => {
          stamps.push(t);
          if (i === n) {
            const gaps = stamps.slice(1).map((x, k) => x - stamps[k]).sort((a, b) => a - b);
            resolve({ mean: (n / (stamps[n] - stamps[0])) * 1000, median: 1000 / gaps[gaps.length >> 1] });
            return;
          }
          step(i++);
          requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      }),
    { n, stepSrc },
  );
}

async function latticeOnNifti(browser, host, nifti) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(host.url);
  await page.click('[data-testid=open-folder]');
  await page.fill('[data-testid=folder-path]', nifti);
  await page.click('[data-testid=scan-button]');
  await page.waitForSelector('[data-testid=series-row]', { timeout: 120_000 });
  const open2d = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const row = document.querySelector('[data-testid=series-row]');
        const t = performance.now();
        row.click();
        const check = () => {
          const ids = [...document.querySelectorAll('[data-view]')].map((v) => v.getAttribute('data-rendered-image'));
          if (ids.length === 3 && ids.every((x) => x)) resolve(performance.now() - t);
          else requestAnimationFrame(check);
        };
        check();
      }),
  );
  // 3D: first frame (coarse copy for a volume this big) and first full-resolution frame, from the pick.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=view-3d]')?.getAttribute('data-full-frame-at')) > 0, null, { timeout: 300_000 });
  const t3d = await page.evaluate(() => {
    const v = document.querySelector('[data-testid=view-3d]');
    const picked = Number(document.querySelector('.app').getAttribute('data-picked-at'));
    return { first: Number(v.getAttribute('data-first-frame-at')) - picked, full: Number(v.getAttribute('data-full-frame-at')) - picked, state: v.getAttribute('data-state') };
  });
  await page.focus('[data-view=axial]');
  const scroll = await stepFps(
    page,
    200,
    `document.querySelector('[data-view=axial]').dispatchEvent(new KeyboardEvent('keydown', { key: (i % 200) < 100 ? 'PageUp' : 'PageDown', bubbles: true }));`,
  );
  console.log('lattice 2D/3D:', JSON.stringify({ open2d, t3d, scroll }));
  // 3D rotation (left-drag in the cell) with the coarse copy while moving, then without it.
  // Frames are counted in the page (data-renders) over the drag; a slow GPU can stall the page
  // for many seconds per full-resolution frame, hence the long timeouts.
  const rotate = {};
  for (const lod of [true, false]) {
    try {
      const box = await page.locator('[data-testid=view-3d] .host').boundingBox({ timeout: 120_000 });
      const lodBox = page.locator('[data-testid=view-3d-lod]');
      if ((await lodBox.count()) && (await lodBox.isChecked({ timeout: 120_000 })) !== lod) await lodBox.click({ timeout: 120_000 });
      await page.waitForTimeout(1000);
      const count = () => page.evaluate(() => [Number(document.querySelector('[data-testid=view-3d]').getAttribute('data-renders')), performance.now()]);
      const cx = box.x + box.width / 2;
      const cy = box.y + box.height / 2;
      await page.mouse.move(cx, cy);
      await page.mouse.down();
      const [r0, t0] = await count();
      const start = Date.now();
      for (let i = 0; Date.now() - start < 4000; i++) {
        await page.mouse.move(cx + 80 * Math.sin(i / 10), cy + 10 * Math.cos(i / 10));
        await page.waitForTimeout(30);
      }
      const [r1, t1] = await count();
      await page.mouse.up();
      rotate[lod ? 'coarse' : 'full'] = ((r1 - r0) / (t1 - t0)) * 1000;
    } catch (e) {
      console.log(`rotation (${lod ? 'coarse' : 'full'}) not measured: ${e.message.split('\n')[0]}`);
      rotate[lod ? 'coarse' : 'full'] = NaN;
    }
  }
  await page.close();
  return { open2d, t3d, scroll, rotate };
}

async function niivueOn(browser, baseUrl, mode) {
  // The same drawing area as Lattice's four cells (1400×900 window minus side panel and bars).
  const page = await browser.newPage({ viewport: { width: 1150, height: 850 } });
  page.on('pageerror', (e) => console.error('niivue page error:', e.message));
  await page.goto(`${baseUrl}/`);
  const open = await page.evaluate(([u, m]) => window.niivueOpen(u, m), [`${baseUrl}/ct.nii`, mode]);
  return { page, open };
}

async function compareWithNiivue(browser, host) {
  const t = Date.now();
  const nifti = writeNifti();
  console.log(`nifti: ${nifti} (${(statSync(nifti).size / 2 ** 20).toFixed(0)} MiB, ${((Date.now() - t) / 1000).toFixed(1)} s)`);
  const pageDir = await buildNiivuePage();
  const { server, url } = await serveStatic(pageDir, nifti);
  try {
    // NiiVue first (a bare page, quick), then Lattice (the same file, the same browser).
    const nv2 = await niivueOn(browser, url, 'multiplanar');
    const nvScroll = await stepFps(nv2.page, 200, `window.niivueStep((i % 200) < 100 ? 1 : -1);`);
    await nv2.page.close();
    console.log('niivue 2D:', JSON.stringify({ open: nv2.open, scroll: nvScroll }));
    const nv3 = await niivueOn(browser, url, 'render');
    await nv3.page.close();
    console.log('niivue 3D:', JSON.stringify({ open: nv3.open }));
    const lat = await latticeOnNifti(browser, host, nifti);
    console.log('lattice:', JSON.stringify(lat));
    const rows = [
      ['open → first 2D frame (3 views)', `${lat.open2d.toFixed(0)} ms`, `${nv2.open.toFixed(0)} ms`, `${(nv2.open / lat.open2d).toFixed(2)}× (NiiVue / Lattice)`],
      ['axial scrolling, mean fps', lat.scroll.mean.toFixed(1), nvScroll.mean.toFixed(1), `${(lat.scroll.mean / nvScroll.mean).toFixed(2)}× (Lattice / NiiVue)`],
      ['axial scrolling, median-frame fps', lat.scroll.median.toFixed(0), nvScroll.median.toFixed(0), `${(lat.scroll.median / nvScroll.median).toFixed(2)}×`],
      ['open → first 3D frame', `${lat.t3d.first.toFixed(0)} ms (coarse LOD copy)`, `${nv3.open.toFixed(0)} ms (full volume)`, `${(nv3.open / lat.t3d.first).toFixed(2)}× (NiiVue / Lattice)`],
      ['open → first full-resolution 3D frame', `${lat.t3d.full.toFixed(0)} ms`, `${nv3.open.toFixed(0)} ms`, `${(nv3.open / lat.t3d.full).toFixed(2)}×`],
      ['3D rotation (mouse drag), frames/s: coarse copy while moving', lat.rotate.coarse.toFixed(2), '', ''],
      ['3D rotation (mouse drag), frames/s: full volume while moving', lat.rotate.full.toFixed(2), '', `${(lat.rotate.coarse / Math.max(lat.rotate.full, 1e-3)).toFixed(1)}× faster with the coarse copy`],
    ];
    console.log('\n| Lattice vs NiiVue (same 512×512×300 int16 NIfTI, same headless Chromium) | Lattice | NiiVue | ratio |\n| --- | --- | --- | --- |');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
    const ok2d = lat.open2d <= nv2.open && lat.scroll.mean >= nvScroll.mean;
    console.log(`\n2D: Lattice ${ok2d ? 'at least as fast as' : 'SLOWER than'} NiiVue on both figures.`);
  } finally {
    server.close();
  }
}

async function main() {
  const t0 = Date.now();
  const wrote = writeSeries();
  console.log(`series: ${seriesDir} (${wrote ? `written in ${((Date.now() - t0) / 1000).toFixed(1)} s` : 'reused'})`);
  buildRenderer();
  const host = await startHost();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  const results = [];
  try {
    if (process.env.VIEWER_BENCH === 'compare') {
      await compareWithNiivue(browser, host);
      return;
    }
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(host.url);
    await page.click('[data-testid=open-folder]');
    await page.fill('[data-testid=folder-path]', seriesDir);
    const ts = Date.now();
    await page.click('[data-testid=scan-button]');
    await page.waitForSelector('[data-testid=series-row]', { timeout: 120_000 });
    results.push(['scan folder (300 files)', `${Date.now() - ts} ms`, '']);

    // Pick → three views drawn with the new image (measured inside the page).
    const pickMs = await page.evaluate(
      () =>
        new Promise((resolve) => {
          const row = document.querySelector('[data-testid=series-row]');
          const t = performance.now();
          row.click();
          const check = () => {
            const views = [...document.querySelectorAll('[data-view]')];
            const ids = views.map((v) => v.getAttribute('data-rendered-image'));
            if (views.length === 3 && ids.every((x) => x)) resolve(performance.now() - t);
            else requestAnimationFrame(check);
          };
          check();
        }),
    );
    results.push(['pick → 3 views rendered', `${pickMs.toFixed(0)} ms`, pickMs <= 1500 ? 'OK (≤ 1500 ms)' : 'SLOW (> 1500 ms)']);
    const split = await page.evaluate(() => {
      const a = document.querySelector('.app');
      return Number(a.getAttribute('data-loaded-at')) - Number(a.getAttribute('data-picked-at'));
    });
    results.push(['  of which dicom.load (host read + decode + transfer)', `${split.toFixed(0)} ms`, '']);
    results.push(['  of which first render of 3 views', `${(pickMs - split).toFixed(0)} ms`, '']);

    // One step per animation frame; mean fps over the run and fps of the median frame
    // interval (robust to stalls from other processes on a shared machine).
    const fps = (label, stepExpr) =>
      page
        .evaluate(
          ({ n, stepSrc }) =>
            new Promise((resolve) => {
              const step = new Function('i', stepSrc);
              const axial = document.querySelector('[data-view=axial]');
              axial.focus();
              let i = 0;
              const stamps = [];
              const draws = [];
              const tick = (t) => {
                stamps.push(t);
                if (i > 0) draws.push(Number(axial.getAttribute('data-render-ms')));
                if (i === n) {
                  const gaps = stamps.slice(1).map((x, k) => x - stamps[k]).sort((a, b) => a - b);
                  draws.sort((a, b) => a - b);
                  resolve({
                    mean: (n / (stamps[n] - stamps[0])) * 1000,
                    median: 1000 / gaps[gaps.length >> 1],
                    medianDraw: draws[draws.length >> 1],
                  });
                  return;
                }
                step(i++);
                requestAnimationFrame(tick);
              };
              requestAnimationFrame(tick);
            }),
          { n: 200, stepSrc: stepExpr },
        )
        .then((r) =>
          results.push([
            label,
            `${r.mean.toFixed(1)} fps (median frame: ${r.median.toFixed(0)} fps)`,
            label.startsWith('baseline') ? 'no work per frame' : `${r.mean >= 30 ? 'OK (≥ 30)' : 'SLOW (< 30)'}; plane update ${r.medianDraw.toFixed(1)} ms`,
          ]),
        );

    await fps('baseline: empty animation frames', '');

    await fps(
      'axial slice scrolling',
      `const v = document.querySelector('[data-view=axial]');
       v.dispatchEvent(new KeyboardEvent('keydown', { key: (i % 200) < 100 ? 'PageUp' : 'PageDown', bubbles: true }));`,
    );
    await fps(
      'cursor drag (3 views redraw)',
      `const c = document.querySelector('[data-view=axial] [data-testid=view-input]');
       const r = c.getBoundingClientRect();
       const x = r.left + r.width * (0.3 + 0.4 * ((i % 50) / 50)), y = r.top + r.height * 0.5;
       const type = i === 0 ? 'pointerdown' : 'pointermove';
       c.dispatchEvent(new PointerEvent(type, { clientX: x, clientY: y, button: 0, buttons: 1, pointerId: 1, bubbles: true }));`,
    );
    const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
    results.push(['renderer JS heap after load', `${(heap / 2 ** 20).toFixed(0)} MiB`, 'volume = 150 MiB int16']);
    await page.close();
    await compareWithNiivue(browser, host);
  } finally {
    await browser.close();
    host.proc.kill('SIGTERM');
  }
  const { loadavg, cpus } = await import('node:os');
  console.log(`\nmachine: ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (other processes slow the fps down)`);
  if (!results.length) return;
  console.log('\n| viewer (512×512×300 int16 CT, headless Chromium) | result | note |\n| --- | --- | --- |');
  for (const r of results) console.log(`| ${r.join(' | ')} |`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
