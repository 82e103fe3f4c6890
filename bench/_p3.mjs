import { bundleForBench } from './bundle.mjs';
import { syntheticCt, N } from './synthetic-ct.mjs';
const { analysis: A, processing: P, pool: AP } = await bundleForBench({ processing: 'src-shared/processing/index.ts', analysis: 'src-shared/analysis/index.ts', pool: 'src-main/analysis/pool.ts' });
const ct = syntheticCt();
const body = P.threshold(ct, { lower: -300 });
const ex = AP.createAnalysisExecutor(Number(process.env.TH ?? 1));
const dims = ct.dims, sp = ct.spacing;
for (let r = 0; r < 2; r++) {
  let t = performance.now(); const lap = (m) => { const n = performance.now(); console.log(m.padEnd(10), (n - t).toFixed(0)); t = n; };
  const fg = A.foreground(body); lap('fg');
  const b = ex.alloc('e', N, true); for (let i = 0; i < N; i++) b[i] = fg[i] ? 0 : Infinity; lap('fill');
  await ex.run('edtPass', { buf: 'e', dims, axis: 0, spacing: sp[0], binary: true }, dims[2]); lap('pass0');
  await ex.run('edtPass', { buf: 'e', dims, axis: 1, spacing: sp[1] }, dims[2]); lap('pass1');
  await ex.run('edtPass', { buf: 'e', dims, axis: 2, spacing: sp[2] }, dims[1]); lap('pass2');
  const out = new Float32Array(N); for (let i = 0; i < N; i++) out[i] = Math.sqrt(b[i]); lap('sqrt');
  ex.free('e');
}
await ex.close();
