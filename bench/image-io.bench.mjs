// `npm run bench -- image-io`: read time of a 512×512×300 int16 volume (150 MiB) per file
// format, through itk-wasm (src-main/io/itk-image-io.ts) against our own NIfTI reader
// (src-main/nifti/nifti-file.ts), plus itk-wasm's NIfTI reader for a like-for-like figure.
// The files are written once (by our writers) into .bench-out/image-io/. Each format is
// read 3 times in one process: "first" includes loading the format's wasm pipeline
// (decompressing and compiling it, once per process), "warm" is the median of the next two.
// Every read is checked against the source voxels (a sample of them), so a fast wrong
// reader cannot win.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bundleForBench, root } from './bundle.mjs';

const { io, nifti, itk } = await bundleForBench({ io: 'src-main/io/image-file.ts', nifti: 'src-main/nifti/nifti-file.ts', itk: 'src-main/io/itk-image-io.ts' });
const dir = join(root, '.bench-out/image-io');
mkdirSync(dir, { recursive: true });
const [NX, NY, NZ] = [512, 512, 300];
const n = NX * NY * NZ;

function volume() {
  const data = new Int16Array(n);
  let s = 12345;
  for (let k = 0; k < NZ; k++)
    for (let j = 0; j < NY; j++)
      for (let i = 0; i < NX; i++) {
        s = (s * 1103515245 + 12345) & 0x7fffffff;
        const r = Math.hypot(i - 256, (j - 256) * 1.2);
        data[i + NX * (j + NY * k)] = (r < 200 ? 40 + ((i * 7 + k) % 60) : -1000) + ((s >> 16) % 20);
      }
  const c = Math.cos(0.2), si = Math.sin(0.2);
  return { dims: [NX, NY, NZ], spacing: [0.7, 0.7, 1.25], origin: [-180, -160, 40], direction: [c, 0, si, 0, 1, 0, -si, 0, c], data, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

const formats = [
  { name: 'NIfTI .nii (ours)', file: 'v.nii', read: (p) => nifti.readNiftiFile(p) },
  { name: 'NIfTI .nii.gz (ours)', file: 'v.nii.gz', read: (p) => nifti.readNiftiFile(p) },
  { name: 'NIfTI .nii (itk-wasm)', file: 'v.nii', read: (p) => itk.readItkImage(p) },
  { name: 'NIfTI .nii.gz (itk-wasm)', file: 'v.nii.gz', read: (p) => itk.readItkImage(p) },
  { name: 'NRRD raw', file: 'v.nrrd', read: (p) => io.readImageFile(p) },
  { name: 'NRRD gzip', file: 'vz.nrrd', compress: true, read: (p) => io.readImageFile(p) },
  { name: 'NRRD .nhdr + .raw', file: 'v.nhdr', read: (p) => io.readImageFile(p) },
  { name: 'MetaImage .mha', file: 'v.mha', read: (p) => io.readImageFile(p) },
  { name: 'MetaImage .mha zlib', file: 'vz.mha', compress: true, read: (p) => io.readImageFile(p) },
  { name: 'VTK legacy', file: 'v.vtk', read: (p) => io.readImageFile(p) },
  { name: 'MGH .mgz', file: 'v.mgz', read: (p) => io.readImageFile(p) },
];

let src = null;
const t0 = performance.now();
for (const f of formats) {
  const p = join(dir, f.file);
  if (existsSync(p)) continue;
  src ??= volume();
  if (f.file.endsWith('.nii') || f.file.endsWith('.nii.gz')) await nifti.writeNiftiFile(p, src);
  else await itk.writeItkImage(p, src, { compress: !!f.compress });
}
if (src) console.log(`(wrote the test files in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
src ??= volume();

const probe = [0, 1, 513, 12345, n >> 1, n - 1];
console.log(`Read of a ${NX}×${NY}×${NZ} int16 volume (${(n * 2 / 2 ** 20).toFixed(0)} MiB), seconds:`);
console.log(`${'format'.padEnd(26)} ${'file MB'.padStart(8)} ${'first'.padStart(7)} ${'warm'.padStart(7)}  vs ours .nii`);
let oursNii = null;
for (const f of formats) {
  const p = join(dir, f.file);
  const times = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    const { volume: v } = await f.read(p);
    times.push((performance.now() - t) / 1000);
    for (const i of probe) if (v.data[i] !== src.data[i]) throw new Error(`${f.name}: voxel ${i} is ${v.data[i]}, expected ${src.data[i]}`);
  }
  const warm = [...times.slice(1)].sort((a, b) => a - b)[0];
  if (oursNii === null) oursNii = warm;
  const mb = f.file.endsWith('.nhdr') ? statSync(p.replace(/\.nhdr$/, '.raw')).size / 1e6 : statSync(p).size / 1e6;
  console.log(`${f.name.padEnd(26)} ${mb.toFixed(1).padStart(8)} ${times[0].toFixed(2).padStart(7)} ${warm.toFixed(2).padStart(7)}  ×${(warm / oursNii).toFixed(1)}`);
}
