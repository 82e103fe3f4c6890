// Bundles the Node-side programs (command line, browser host, job workers) into out/node.
// Node 20 cannot run TypeScript itself; esbuild turns the sources into ESM in ~100 ms.
// Dependencies stay external (loaded from node_modules at run time).
import { build } from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const entries = {};
const add = (name, rel) => {
  if (existsSync(join(root, rel))) entries[name] = join(root, rel);
};
add('lattice', 'src-main/cli/lattice.ts');
add('host', 'src-main/host/server.ts');
// Every file in src-main/workers/ (and src-shared/registration/workers/) is a worker entry point.
for (const dir of ['src-main/workers', 'src-shared/registration/workers']) {
  const abs = join(root, dir);
  if (!existsSync(abs)) continue;
  for (const f of readdirSync(abs)) if (f.endsWith('.ts')) add(`workers/${f.replace(/\.ts$/, '')}`, join(dir, f));
}

await build({
  entryPoints: entries,
  outdir: join(root, 'out/node'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  // Shared code goes to chunks next to the entry points (so relative worker paths still hold),
  // letting the CLI load a command group only when it is used.
  splitting: true,
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
