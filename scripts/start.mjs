// `npm start`: runs the Electron app where Electron's binary is installed; otherwise
// (our machines cannot download it) serves the same UI from the browser host on
// 127.0.0.1, prints its URL and tries to open a browser.
//
//   npm start                      Electron if available, else the browser host
//   npm start -- --browser         always the browser host
//   npm start -- --port 8123       fixed port for the host (default: a random free one)
//   npm start -- --no-open         do not try to open a browser
//   npm start -- --rebuild         rebuild even if the build output looks current
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const flag = (f) => argv.includes(f);
const option = (f) => {
  const i = argv.indexOf(f);
  return i >= 0 ? argv[i + 1] : undefined;
};

/**
 * The Electron binary, if it is really there. We do not `require('electron')`: when the
 * binary is missing that module tries to download it, which cannot work here.
 */
function electronBinary() {
  const dir = join(root, 'node_modules/electron');
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const bin = process.env.ELECTRON_OVERRIDE_DIST_PATH
    ? join(process.env.ELECTRON_OVERRIDE_DIST_PATH, readFileSync(pathFile, 'utf8'))
    : join(dir, 'dist', readFileSync(pathFile, 'utf8'));
  return existsSync(bin) ? bin : null;
}

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of readdirSync(path)) if (e !== 'node_modules') m = Math.max(m, newestMtime(join(path, e)));
  return m;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } });
  if (r.status !== 0) {
    console.error(`lattice: ${[cmd, ...args].join(' ')} failed`);
    process.exit(r.status ?? 1);
  }
}

/** Builds what is older than its sources (or everything with --rebuild). */
function build({ electron }) {
  const sources = Math.max(
    ...['src-renderer', 'src-shared', 'src-main', 'electron.vite.config.ts', 'package.json'].map((p) => newestMtime(join(root, p))),
  );
  const electronVite = join(root, 'node_modules/.bin/electron-vite');
  const targets = electron ? ['out/renderer/index.html', 'out/main/main.js', 'out/preload/preload.cjs'] : ['out/renderer/index.html'];
  const stale = flag('--rebuild') || targets.some((t) => newestMtime(join(root, t)) < sources);
  if (stale) {
    console.log('lattice: building the UI…');
    run(electronVite, ['build']);
  }
  // The host, and the job workers both shells run (fast: esbuild, ~1 s).
  run(process.execPath, [join(root, 'scripts/build-node.mjs')]);
}

function openBrowser(url) {
  const candidates =
    process.platform === 'darwin' ? [['open', [url]]] : process.platform === 'win32' ? [['cmd', ['/c', 'start', '', url]]] : [['xdg-open', [url]]];
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return false;
  for (const [cmd, args] of candidates) {
    try {
      const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
      child.on('error', () => undefined);
      child.unref();
      return true;
    } catch {
      // try the next one
    }
  }
  return false;
}

const electron = flag('--browser') ? null : electronBinary();
if (electron) {
  build({ electron: true });
  const child = spawn(electron, [root, ...argv.filter((a) => !a.startsWith('--'))], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  if (!flag('--browser')) console.log('lattice: the Electron binary is not installed here; starting the browser host instead.');
  build({ electron: false });
  const { startHost } = await import(pathToFileURL(join(root, 'out/node/host.js')).href);
  const port = option('--port') ? Number(option('--port')) : 0;
  const host = await startHost({ port, rendererDir: join(root, 'out/renderer') });
  console.log(`\n  Lattice is running at ${host.url}\n`);
  console.log('  Open that address in Chromium, Chrome or Firefox (the #token part is required). Ctrl+C stops.\n');
  if (!flag('--no-open') && openBrowser(host.url)) console.log('  (asked the desktop to open it)\n');
  const stop = () => void host.close().finally(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
