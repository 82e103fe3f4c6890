// Flood fill (paint bucket, src-shared/segmentation/flood-fill.ts) on the 512×512×300 int16
// synthetic CT (runs with `npm run bench -- processing`): the 3D fill of the body from one seed
// in an empty label volume with the image range [-300, 3000] HU as the accept condition (the
// body without the lungs: ~23 M voxels), as the label editor's fill runs it in its worker, and
// a one-slice fill of the same region (which the editor runs on the UI thread). Target: 3D fill
// ≤ 1 s, slice fill ≤ 16 ms (one frame).
import { bundleForBench } from './bundle.mjs';
import { NX, NY, NZ, N, syntheticCt } from './synthetic-ct.mjs';
import { best } from './timing.mjs';

const { fill: F } = await bundleForBench({ fill: 'src-shared/segmentation/flood-fill.ts' });

const ct = syntheticCt();
const labels = new Uint8Array(N);
const range = { image: ct.data, slope: 1, intercept: 0, lower: -300, upper: 3000 };
const seed = [256, 250, Math.floor(NZ / 2)];
const REPS = Number(process.env.BENCH_REPS ?? 3);
const rows = [];
const f3 = best(REPS, () => F.floodRegion(labels, ct.dims, seed, { threeD: true, sliceAxis: 2, range }));
rows.push(['3D fill of the body', f3, 1000, `(${(f3.out.length / 1e6).toFixed(2)} M voxels)`]);
const f2 = best(REPS * 5, () => F.floodRegion(labels, ct.dims, seed, { threeD: false, sliceAxis: 2, range }));
rows.push(['slice fill (axial)', f2, 16, `(${f2.out.length} voxels)`]);
const f0 = best(REPS * 5, () => F.floodRegion(labels, ct.dims, seed, { threeD: false, sliceAxis: 0, range }));
rows.push(['slice fill (sagittal)', f0, 16, `(${f0.out.length} voxels)`]);

console.log(`\n${NX}×${NY}×${NZ} int16, range [-300, 3000]`);
console.log(`operation               wall (ms)   cpu (ms)   target (ms)   status`);
for (const [op, { ms, cpu }, target, note] of rows) {
  console.log(`${op.padEnd(24)}${ms.toFixed(1).padStart(9)}   ${cpu.toFixed(0).padStart(8)}   ${String(target).padStart(11)}   ${ms <= target ? 'ok  ' : 'SLOW'} ${note}`);
}
console.log(`\n(best of ${REPS} / ${REPS * 5}; one thread)`);
