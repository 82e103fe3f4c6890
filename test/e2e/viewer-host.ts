// Minimal local helper for the viewer e2e test: builds the renderer and the host, starts the
// host on 127.0.0.1 and launches Debian's Chromium. (Kept small; if test/e2e/helpers.ts
// offers the same, prefer it.)
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export interface ViewerHost {
  url: string;
  browser: Browser;
  close(): Promise<void>;
}

export async function startViewerHost(repo: string): Promise<ViewerHost> {
  const { build } = await import('vite');
  const vue = (await import('@vitejs/plugin-vue')).default;
  await build({
    configFile: false,
    logLevel: 'warn',
    root: path.join(repo, 'src-renderer'),
    base: './',
    plugins: [vue()],
    build: { outDir: path.join(repo, 'out/renderer'), emptyOutDir: true },
  });
  await new Promise<void>((ok, fail) => {
    const p = spawn(process.execPath, [path.join(repo, 'scripts/build-node.mjs')], { stdio: 'inherit' });
    p.on('exit', (c) => (c === 0 ? ok() : fail(new Error(`build-node exited with ${c}`))));
  });
  const proc: ChildProcess = spawn(process.execPath, [path.join(repo, 'out/node/host.js'), '--json', '--renderer', path.join(repo, 'out/renderer')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LATTICE_SETTINGS_DIR: path.join(repo, 'test-artifacts', 'viewer-settings') },
  });
  const url = await new Promise<string>((ok, fail) => {
    let buf = '';
    proc.stdout!.on('data', (d) => {
      buf += d;
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (line) ok(JSON.parse(line).url);
    });
    proc.on('exit', (c) => fail(new Error(`host exited with ${c}`)));
  });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    url,
    browser,
    async close() {
      await browser.close();
      proc.kill('SIGTERM');
    },
  };
}
