// Processing speed on a 512×512×300 int16 synthetic CT (npm run bench -- processing).
// Times threshold + mask, ball dilation r = 3 and crop, in-process (the library bundled
// here with esbuild from src-shared/processing) and through the worker-thread job runner
// (out/node/workers/processing.js, built by `npm run build:node`), against the targets.
import { bundleForBench } from './bundle.mjs';

const { processing: P, jobs: J } = await bundleForBench({ processing: 'src-shared/processing/index.ts', jobs: 'src-main/jobs/index.ts' });

import { NX, NY, NZ, N, syntheticCt } from './synthetic-ct.mjs';

import { best, bestAsync } from './timing.mjs';

const t0 = performance.now();
const ct = syntheticCt();
console.log(`synthetic CT ${NX}×${NY}×${NZ} int16 (${(N / 1e6).toFixed(1)} M voxels) made in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const REPS = 5;
const thrParams = { lower: -300 };
const box = { start: [103, 160, 0], end: [381, 340, 300] };
const rows = [];

// In-process.
const thr = best(REPS, () => P.threshold(ct, thrParams));
const msk = best(REPS, () => P.applyMask(ct, thr.out, { background: -1024 }));
const both = best(REPS, () => P.applyMask(ct, P.threshold(ct, thrParams), { background: -1024 }));
rows.push(['threshold + mask', 'in-process', both, 300, `(threshold ${thr.ms.toFixed(0)} + mask ${msk.ms.toFixed(0)} ms)`]);
const dil = best(REPS, () => P.morphology(thr.out, 'dilate', { shape: 'ball', radius: 3 }));
rows.push(['dilation ball r=3', 'in-process', dil, 1000, '']);
const crop = best(REPS, () => P.cropVolume(ct, box));
rows.push(['crop 278×180×300', 'in-process', crop, 200, '']);

// Through the job runner (worker thread; the inputs are lent: transferred there and back).
// The runner keeps a finished worker warm for the next job, as it does in the app; one
// small job first so that the worker's start-up (~50 ms) is not in the figures.
const runner = new J.ThreadJobRunner();
await runner.run('processing.threshold', { lower: 0 }, [{ ...ct, dims: [1, 1, 1], data: new Int16Array(1) }]);
const jt = await bestAsync(REPS, () => runner.run('processing.thresholdMask', { ...thrParams, background: -1024 }, [ct]));
rows.push(['threshold + mask', 'job runner', jt, 300, '(one job: mask + masked image)']);
const jd = await bestAsync(REPS, () => runner.run('processing.morphology', { operation: 'dilate', radius: 3 }, [thr.out]));
rows.push(['dilation ball r=3', 'job runner', jd, 1000, '']);
const jc = await bestAsync(REPS, () => runner.run('processing.crop', { box }, [ct]));
rows.push(['crop 278×180×300', 'job runner', jc, 200, '']);
await runner.dispose();

// Sanity: runner and in-process agree.
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
if (!same(jd.out.volumes[0].data, dil.out.data)) throw new Error('job-runner dilation differs from in-process');
if (!same(jt.out.volumes[1].data, both.out.data)) throw new Error('job-runner threshold+mask differs from in-process');

console.log('\noperation           path         wall (ms)   cpu (ms)   target (ms)   status');
for (const [op, path, { ms, cpu }, target, note] of rows) {
  console.log(`${op.padEnd(20)}${path.padEnd(13)}${ms.toFixed(0).padStart(9)}   ${cpu.toFixed(0).padStart(8)}   ${String(target).padStart(11)}   ${ms <= target ? 'ok  ' : 'SLOW'} ${note}`);
}
const os = await import('node:os');
console.log(`\n(best of ${REPS}; ${os.availableParallelism()} cores; load average ${os.loadavg()[0].toFixed(1)} at the end; job-runner times include the transfer of the inputs both ways)`);
