#!/usr/bin/env node
// Command-line entry (`npx lattice …`). The TypeScript sources are bundled into out/node by
// `npm run build:node`, which npm runs on install (the `prepare` script).
import { existsSync } from 'node:fs';
const entry = new URL('../out/node/lattice.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('lattice: the command line is not built yet; run `npm run build:node` in the Lattice folder.');
  process.exit(2);
}
await import(entry.href);
