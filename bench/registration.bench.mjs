// Deformable registration benchmark: runs the shared harness (../shared/bench/registration,
// plastimatch demons, plastimatch→ITK diffeomorphic demons, elastix B-spline, NumPy demons) with
// our engine as the candidate (`lattice register`, default options) on the synthetic pairs with
// a known deformation, and prints its table (time, RSS, MSD, NCC, endpoint error, % folded).
//
//   npm run bench -- registration              candidate only if the peers' rows are stored, else all
//   REG_BENCH_FULL=1 npm run bench -- registration      re-run the peers too
//   REG_BENCH_ARGS="--cases 3d192 --repeat 3" …          extra bench.py options
//   REG_BENCH_CANDIDATE_ARGS="--diffeomorphic" …          extra `lattice register` options
//
// Results go to .bench-out/registration/ (git-ignored); the harness folder is read-only.
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const harness = resolve(repo, '../shared/bench/registration');
const out = join(repo, '.bench-out/registration');

function skip(why) {
  console.log(`registration bench skipped: ${why}`);
  process.exit(0);
}

if (!existsSync(join(harness, 'run_all.sh'))) skip(`no harness at ${harness}`);
const py = spawnSync('/usr/bin/python3', ['-c', 'import numpy, scipy, nibabel'], { stdio: 'ignore' });
if (py.status !== 0) skip('/usr/bin/python3 lacks numpy/scipy/nibabel (apt-get install python3-numpy python3-scipy python3-nibabel)');
const missing = ['plastimatch', 'elastix', 'transformix'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
if (!existsSync('/usr/bin/time')) missing.push('/usr/bin/time');
if (missing.length) skip(`missing ${missing.join(', ')} (apt-get install plastimatch elastix time)`);
if (!existsSync(join(repo, 'out/node/lattice.js'))) skip('command line not built (npm run build:node)');

// Peers already measured on this machine? Then only the candidate runs; its row joins the stored table.
let peersStored = false;
try {
  const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  const keys = Object.keys(res.runs ?? {});
  peersStored = ['2d/plastimatch_demons', '3d192/plastimatch_demons', '3d192/elastix_bspline'].every((k) => keys.includes(k));
} catch {
  /* first run */
}
const args = ['--out', out];
if (peersStored && !process.env.REG_BENCH_FULL) args.push('--peers', 'candidate');
if (process.env.REG_BENCH_ARGS) args.push(...process.env.REG_BENCH_ARGS.split(/\s+/).filter(Boolean));
const candidate = `node ${join(repo, 'bin/lattice.js')} register --quiet ${process.env.REG_BENCH_CANDIDATE_ARGS ?? ''}`.trim();
console.log(`harness: ${harness}\ncandidate: ${candidate}\nbench.py ${args.join(' ')}`);
const r = spawnSync(join(harness, 'run_all.sh'), args, {
  cwd: repo,
  stdio: 'inherit',
  env: { ...process.env, CANDIDATE_CMD: candidate, CANDIDATE_NAME: process.env.CANDIDATE_NAME ?? 'lattice_demons' },
});
process.exitCode = r.status ?? 1;
