/**
 * Finds a bundled worker program (out/node/workers/<name>.js) from wherever this code
 * runs: the node bundle (out/node/*.js → ./workers), the Electron main bundle
 * (out/main/*.js → ../node/workers), or the TypeScript sources under vitest
 * (src-main/jobs → <repo root>/out/node/workers).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function hereDir(): string {
  // import.meta.url in ESM bundles and under vitest; __dirname if a bundler made CommonJS.
  const url = typeof import.meta !== 'undefined' ? import.meta.url : undefined;
  if (url) return dirname(fileURLToPath(url));
  const cjsDir = (globalThis as { __dirname?: string }).__dirname ?? (typeof __dirname === 'string' ? __dirname : undefined);
  return cjsDir ?? process.cwd();
}

export function workerCandidates(name: string, from = hereDir()): string[] {
  const out = [join(from, 'workers', `${name}.js`), resolve(from, '../node/workers', `${name}.js`)];
  // Walk up to the repository root (the folder holding package.json).
  let d = from;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'package.json'))) {
      out.push(join(d, 'out/node/workers', `${name}.js`));
      break;
    }
    d = dirname(d);
  }
  return out;
}

export function resolveWorkerScript(name: string, workerDir?: string): string {
  if (workerDir) {
    const p = join(workerDir, `${name}.js`);
    if (!existsSync(p)) throw new Error(`worker program ${p} not found`);
    return p;
  }
  const c = workerCandidates(name);
  const found = c.find((p) => existsSync(p));
  if (!found) throw new Error(`worker program '${name}' not found (looked in ${c.join(', ')}); run \`npm run build:node\``);
  return found;
}
