// Image-analysis speed on the 512×512×300 int16 synthetic CT (runs with `npm run bench --
// processing`): Gaussian σ 2 mm, median r = 1, exact EDT, compare-masks and CLAHE, on every core
// through the analysis kernel pool (out/node/workers/analysis-kernels.js, built by
// `npm run build:node`) exactly as the analysis job worker uses it. Target: ≤ 2 s each.
import { bundleForBench } from './bundle.mjs';
import { NX, NY, NZ, N, syntheticCt } from './synthetic-ct.mjs';

const { processing: P, analysis: A, pool: AP } = await bundleForBench({
  processing: 'src-shared/processing/index.ts',
  analysis: 'src-shared/analysis/index.ts',
  pool: 'src-main/analysis/pool.ts',
});

import { bestAsync as best } from './timing.mjs';

const t0 = performance.now();
const ct = syntheticCt();
console.log(`synthetic CT ${NX}×${NY}×${NZ} int16 (${(N / 1e6).toFixed(1)} M voxels) made in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const body = P.threshold(ct, { lower: -300 });
const grown = P.morphology(body, 'dilate', { shape: 'ball', radius: 3 });

const REPS = Number(process.env.BENCH_REPS ?? 3);
const pool = AP.createAnalysisExecutor();
const opt = { executor: pool };
const T = `${pool.threads} threads`;
const rows = [];
const gauss = await best(REPS, () => A.filterVolume(ct, { filter: 'gaussian', sigmaMm: 2 }, opt));
rows.push(['gaussian σ=2 mm', gauss, 2000, '(float32 out, radius 3σ: 7, 7, 3 voxels)']);
const med = await best(REPS, () => A.filterVolume(ct, { filter: 'median', radius: 1 }, opt));
rows.push(['median r=1 (3×3×3)', med, 2000, '(exact: SIMD sorting network, WebAssembly)']);
const edt = await best(REPS, () => A.distanceTransform(body, { mode: 'outside' }, opt));
rows.push(['EDT outside (mm)', edt, 2000, '(exact, spacing 0.98, 0.98, 2)']);
const sedt = await best(1, () => A.distanceTransform(body, { mode: 'signed' }, opt));
rows.push(['EDT signed (mm)', sedt, 4000, '(outside + inside on the mask box)']);
const cmp = await best(REPS, () => A.compareMasks(body, grown, {}, opt));
rows.push(['compare-masks', cmp, 2000, `(body vs body ⊕ ball r3: Dice ${cmp.out.dice.toFixed(4)}, HD ${cmp.out.hausdorff_mm.toFixed(2)} mm)`]);
// CLAHE (skimage's equalize_adapthist; no target in the issue, figures for the record): 3D tiles of ⅛ of each dimension (64×64×37) and per slice.
const ahe = await best(REPS, () => A.clahe(ct, {}, opt));
rows.push(['CLAHE 3D', ahe, null, '(tiles 64×64×37, clip 0.01, 256 bins)']);
const ahe2 = await best(REPS, () => A.clahe(ct, { perSlice: true }, opt));
rows.push(['CLAHE per slice', ahe2, null, '(2D tiles 64×64 on each of 300 slices)']);
await pool.close();

console.log(`\noperation            threads     wall (ms)   cpu (ms)   target (ms)   status`);
for (const [op, { ms, cpu }, target, note] of rows) {
  console.log(`${op.padEnd(21)}${T.padEnd(12)}${ms.toFixed(0).padStart(9)}   ${cpu.toFixed(0).padStart(8)}   ${String(target ?? '–').padStart(11)}   ${target === null ? '    ' : ms <= target ? 'ok  ' : 'SLOW'} ${note}`);
}
const os = await import('node:os');
console.log(`\n(best of ${REPS}; ${os.availableParallelism()} cores; load average ${os.loadavg()[0].toFixed(1)} at the end; cpu = this process, all threads)`);
