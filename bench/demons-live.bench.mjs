// Cost of the app's live demons view (npm run bench -- demons-live): the 'registration.demons'
// job through the worker-thread job runner, as the app runs it, on the registration
// benchmark's 3D pair (.bench-out/registration/data/3d192, made by `npm run bench --
// registration`) or, without it, a synthetic 160×160×120 pair. Times the job with no preview
// and with the panel's previews (one slice every 200 ms), alternating, median of 5, and the latency of
// "Cancel (keep result)": from job.cancel(keep) to the finished result.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bundleForBench, root } from './bundle.mjs';

const { jobs: J, niftiFile: N } = await bundleForBench({ jobs: 'src-main/jobs/index.ts', niftiFile: 'src-main/nifti/nifti-file.ts' });
if (!existsSync(join(root, 'out/node/workers/registration-job.js'))) {
  console.error('out/node/workers is missing: run `npm run build:node` first');
  process.exit(1);
}

/** Smooth blobs (a CT-like phantom) and the same warped by a Gaussian bump (≤ 6 voxels). */
function syntheticPair() {
  const [nx, ny, nz] = [160, 160, 120];
  const n = nx * ny * nz;
  const blobs = [];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let b = 0; b < 40; b++) blobs.push([rnd() * nx, rnd() * ny, rnd() * nz, 6 + rnd() * 14, 100 + rnd() * 400]);
  const img = (x, y, z) => {
    let v = 0;
    for (const [cx, cy, cz, r, a] of blobs) {
      const d2 = ((x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2) / (r * r);
      if (d2 < 9) v += a * Math.exp(-d2);
    }
    return v;
  };
  const fixed = new Float32Array(n), moving = new Float32Array(n);
  for (let z = 0, o = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, o++) {
        const g = 6 * Math.exp(-((x - 80) ** 2 + (y - 80) ** 2 + (z - 60) ** 2) / (2 * 25 * 25));
        fixed[o] = img(x, y, z);
        moving[o] = img(x + g, y - 0.5 * g, z);
      }
  const vol = (data) => ({ dims: [nx, ny, nz], spacing: [1, 1, 1.5], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'float32', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} });
  return { name: 'synthetic 160×160×120', fixed: vol(fixed), moving: vol(moving) };
}

async function pair() {
  const dir = join(root, '.bench-out/registration/data/3d192');
  if (existsSync(join(dir, 'fixed.nii.gz'))) {
    const [f, m] = await Promise.all([N.readNiftiFile(join(dir, 'fixed.nii.gz')), N.readNiftiFile(join(dir, 'moving.nii.gz'))]);
    return { name: `3d192 (${f.volume.dims.join('×')})`, fixed: f.volume, moving: m.volume };
  }
  return syntheticPair();
}

const { name, fixed, moving } = await pair();
const runner = new J.ThreadJobRunner({ idleMs: 0 });
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function runOnce(params, { stopAfterPreviews } = {}) {
  let previews = 0, bytes = 0, firstAt = NaN, stopAt = NaN;
  const finish = new AbortController();
  const t0 = performance.now();
  const res = await runner.run('registration.demons', params, [fixed, moving], {
    transfer: 'copy',
    finish: finish.signal,
    onProgress: (_f, _m, p) => {
      if (!p) return;
      previews++;
      if (previews === 1) firstAt = performance.now() - t0;
      for (const k of ['fixed', 'source', 'warped', 'displacement', 'update', 'jacobian']) bytes += p[k].byteLength;
      if (stopAfterPreviews && previews === stopAfterPreviews) {
        stopAt = performance.now();
        finish.abort();
      }
    },
  });
  const t1 = performance.now();
  return { seconds: (t1 - t0) / 1000, previews, bytes, firstAt, stopLatency: Number.isNaN(stopAt) ? NaN : (t1 - stopAt) / 1000, result: res.values };
}

console.log(`pair: ${name}, ${fixed.dims.reduce((a, b) => a * b, 1) / 1e6} M voxels; demons defaults; job runner (worker thread + kernel pool)`);
const plain = [], live = [];
let liveInfo = null;
for (let r = 0; r < 5; r++) {
  plain.push((await runOnce({})).seconds);
  const l = await runOnce({ preview: { axis: 2, intervalMs: 200 } });
  live.push(l.seconds);
  liveInfo = l;
}
const stop = await runOnce({ preview: { axis: 2, intervalMs: 200 } }, { stopAfterPreviews: 3 });
await runner.dispose();

const p = liveInfo;
console.log('| run | wall s (median of 5) | previews | preview KiB each | first preview s |');
console.log('|---|---|---|---|---|');
console.log(`| no preview | ${median(plain).toFixed(2)} | – | – | – |`);
console.log(`| live view (200 ms) | ${median(live).toFixed(2)} | ${p.previews} | ${(p.bytes / p.previews / 1024).toFixed(0)} | ${(p.firstAt / 1000).toFixed(2)} |`);
console.log(`overhead of the live view: ${(((median(live) - median(plain)) / median(plain)) * 100).toFixed(1)} %`);
const at = stop.result.stoppedAt;
console.log(`Cancel (keep result) after 3 previews: stopped at level ${at?.level}/${at?.levels}, iteration ${at?.iteration}; result ready ${stop.stopLatency.toFixed(2)} s after the request (field carried to full resolution, warped, Jacobian, difference)`);
