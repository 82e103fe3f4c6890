// Bundles TypeScript modules of the app for a benchmark (esbuild, ESM for Node, packages
// left external) into out/bench/<name>.mjs and imports them: bundleForBench({ name: path }).
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** { name: repo-relative .ts path } → { name: the module's exports }. */
export async function bundleForBench(entries) {
  const outDir = join(root, 'out/bench');
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([k, p]) => [k, join(root, p)])),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  const out = {};
  for (const k of Object.keys(entries)) out[k] = await import(pathToFileURL(join(outDir, `${k}.mjs`)).href);
  return out;
}
