// `npm run bench -- convert`: DICOM → NIfTI speed and memory, ours vs dcm2niix.
//
// Input: a synthetic 512×512×300 CT series (int16, RescaleIntercept -1024, slope 1; an
// anatomical-looking phantom with noise), written once as real DICOM Part 10 files
// (explicit VR little endian) and cached in .bench-out/ct512x300/.
// Both converters run on the same input in the same run, median of 3 wall-clock runs
// each, for .nii and .nii.gz. Compression: ours is a parallel deflate on all cores at
// level 1 (writeNiftiFile's default); dcm2niix -z y uses pigz (all cores), compared at
// the same level (-1) and at its default (-6). Peak memory from GNU time -v.
// .nii is streamed slice by slice (the volume is never held: peak ≈ 0.5× its bytes);
// .nii.gz assembles the volume, then deflates it in parallel blocks.
// What the numbers mean (2-core VM shared with other jobs): Node's start-up is ~0.17 CPU-s
// of our ~0.4 for .nii (the conversion work itself is on par with dcm2niix's ~0.22);
// at equal gzip level, Node's zlib level 1 costs ~25 % more CPU per byte than pigz -1.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, '.bench-out');
const inDir = join(cacheDir, 'ct512x300');
const NX = 512;
const NY = 512;
const NZ = 300;
const RUNS = 3;

// ---------- synthetic DICOM writer (explicit VR little endian) ----------
function el(group, element, vr, value) {
  let body;
  if (value instanceof Uint8Array) body = value;
  else if (typeof value === 'number' && (vr === 'US' || vr === 'SS')) {
    body = new Uint8Array(2);
    new DataView(body.buffer).setUint16(0, value & 0xffff, true);
  } else if (typeof value === 'number' && vr === 'UL') {
    body = new Uint8Array(4);
    new DataView(body.buffer).setUint32(0, value, true);
  } else {
    let s = String(value);
    if (s.length % 2) s += vr === 'UI' ? '\0' : ' ';
    body = new TextEncoder().encode(s);
  }
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT', 'OF'].includes(vr);
  const head = new Uint8Array(long ? 12 : 8);
  const dv = new DataView(head.buffer);
  dv.setUint16(0, group, true);
  dv.setUint16(2, element, true);
  head[4] = vr.charCodeAt(0);
  head[5] = vr.charCodeAt(1);
  if (long) dv.setUint32(8, body.length, true);
  else dv.setUint16(6, body.length, true);
  return [head, body];
}

function concat(parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
}

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
}

/** A torso-like phantom in HU: body ellipse, lungs, spine, vessels, noise. */
function phantomSlice(z, rand) {
  const px = new Int16Array(NX * NY);
  const zc = (z - NZ / 2) / (NZ / 2);
  for (let y = 0; y < NY; y++) {
    for (let x = 0; x < NX; x++) {
      const u = (x - NX / 2) / (NX / 2);
      const v = (y - NY / 2) / (NY / 2);
      let hu = -1000; // air
      const body = (u / 0.85) ** 2 + (v / 0.62) ** 2;
      if (body < 1) {
        hu = body > 0.85 ? -100 : 40; // fat rim, soft tissue
        const lung = (w) => ((u - w) / 0.3) ** 2 + ((v + 0.05) / (0.42 - 0.1 * zc * zc)) ** 2 < 1;
        if (lung(-0.38) || lung(0.38)) hu = -850;
        if ((u / 0.1) ** 2 + ((v - 0.42) / 0.1) ** 2 < 1) hu = 700; // vertebra
        if (((u + 0.05) / 0.06) ** 2 + ((v - 0.15) / 0.06) ** 2 < 1) hu = 250; // aorta with contrast
        if (Math.abs(Math.hypot(u, v * 1.35) - 0.78) < 0.02) hu = 900; // ribs ring
      }
      hu += Math.round((rand() + rand() + rand() - 1.5) * 25);
      px[y * NX + x] = hu + 1024; // stored = HU - intercept
    }
  }
  return px;
}

function writeSeries() {
  mkdirSync(inDir, { recursive: true });
  const study = '1.2.826.0.1.3680043.8.498.1';
  const series = '1.2.826.0.1.3680043.8.498.2';
  const rand = rng(42);
  for (let k = 0; k < NZ; k++) {
    const sop = `1.2.826.0.1.3680043.8.498.3.${k + 1}`;
    const dataset = concat([
      ...el(0x0008, 0x0008, 'CS', 'ORIGINAL\\PRIMARY\\AXIAL'),
      ...el(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
      ...el(0x0008, 0x0018, 'UI', sop),
      ...el(0x0008, 0x0020, 'DA', '20260101'),
      ...el(0x0008, 0x0030, 'TM', '120000'),
      ...el(0x0008, 0x0060, 'CS', 'CT'),
      ...el(0x0008, 0x0070, 'LO', 'Lattice synthetic'),
      ...el(0x0008, 0x103e, 'LO', 'Bench CT 512x512x300'),
      ...el(0x0010, 0x0010, 'PN', 'Bench^Phantom'),
      ...el(0x0010, 0x0020, 'LO', 'BENCH001'),
      ...el(0x0018, 0x0050, 'DS', '1.0'),
      ...el(0x0018, 0x0060, 'DS', '120'),
      ...el(0x0018, 0x1030, 'LO', 'bench_ct'),
      ...el(0x0020, 0x000d, 'UI', study),
      ...el(0x0020, 0x000e, 'UI', series),
      ...el(0x0020, 0x0011, 'IS', '2'),
      ...el(0x0020, 0x0013, 'IS', String(k + 1)),
      ...el(0x0020, 0x0032, 'DS', `-250\\-250\\${(-150 + k * 1.0).toFixed(1)}`),
      ...el(0x0020, 0x0037, 'DS', '1\\0\\0\\0\\1\\0'),
      ...el(0x0028, 0x0002, 'US', 1),
      ...el(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
      ...el(0x0028, 0x0010, 'US', NY),
      ...el(0x0028, 0x0011, 'US', NX),
      ...el(0x0028, 0x0030, 'DS', '0.9765625\\0.9765625'),
      ...el(0x0028, 0x0100, 'US', 16),
      ...el(0x0028, 0x0101, 'US', 16),
      ...el(0x0028, 0x0102, 'US', 15),
      ...el(0x0028, 0x0103, 'US', 1),
      ...el(0x0028, 0x1052, 'DS', '-1024'),
      ...el(0x0028, 0x1053, 'DS', '1'),
      ...el(0x0028, 0x1054, 'LO', 'HU'),
      ...el(0x7fe0, 0x0010, 'OW', new Uint8Array(phantomSlice(k, rand).buffer)),
    ]);
    const metaBody = concat([
      ...el(0x0002, 0x0001, 'OB', new Uint8Array([0, 1])),
      ...el(0x0002, 0x0002, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
      ...el(0x0002, 0x0003, 'UI', sop),
      ...el(0x0002, 0x0010, 'UI', '1.2.840.10008.1.2.1'),
      ...el(0x0002, 0x0012, 'UI', '1.2.826.0.1.3680043.8.498.0'),
    ]);
    const preamble = new Uint8Array(132);
    preamble.set([0x44, 0x49, 0x43, 0x4d], 128);
    const file = concat([preamble, ...el(0x0002, 0x0000, 'UL', metaBody.length), metaBody, dataset]);
    writeFileSync(join(inDir, `CT${String(k + 1).padStart(4, '0')}.dcm`), file);
  }
}

// ---------- timing ----------
const hasTime = existsSync('/usr/bin/time');
const dcm2niix = spawnSync('sh', ['-c', 'command -v dcm2niix'], { encoding: 'utf8' }).stdout.trim();

function runTimed(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = hasTime
    ? spawnSync('/usr/bin/time', ['-v', cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 })
    : spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  const u = /User time \(seconds\): ([\d.]+)/.exec(r.stderr ?? '');
  const sy = /System time \(seconds\): ([\d.]+)/.exec(r.stderr ?? '');
  return { wall, rssMiB: m ? Number(m[1]) / 1024 : NaN, cpu: u && sy ? Number(u[1]) + Number(sy[1]) : NaN };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** One timed run into a fresh output folder; returns wall, CPU, peak RSS and output size. */
function once(label, cmd, argsFor) {
  const out = join(cacheDir, `out-${label.replace(/\W+/g, '_')}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const r = runTimed(cmd, argsFor(out));
  r.size = readdirSync(out).filter((f) => /\.nii(\.gz)?$/.test(f)).reduce((a, f) => a + statSync(join(out, f)).size, 0);
  rmSync(out, { recursive: true, force: true });
  return r;
}

function summary(runs) {
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)), rss: Math.max(...runs.map((r) => r.rssMiB)), size: runs[0].size };
}

/** Ours and dcm2niix alternately (same machine load for both), RUNS times each. */
function pair(what, ourArgs, theirArgs) {
  const ours = [];
  const theirs = [];
  for (let i = 0; i < RUNS; i++) {
    ours.push(once(`lattice ${what}`, process.execPath, ourArgs));
    if (dcm2niix) theirs.push(once(`dcm2niix ${what}`, dcm2niix, theirArgs));
  }
  return { what, ours: summary(ours), theirs: theirs.length ? summary(theirs) : null };
}

if (!existsSync(join(inDir, `CT${String(NZ).padStart(4, '0')}.dcm`))) {
  console.log(`generating ${NX}×${NY}×${NZ} synthetic CT in ${inDir} …`);
  writeSeries();
}
const lattice = join(root, 'bin/lattice.js');
if (!existsSync(join(root, 'out/node/lattice.js'))) throw new Error('run `npm run build:node` first');
const volumeMiB = (NX * NY * NZ * 2) / 2 ** 20;

// Warm the page cache so both read the input from memory.
spawnSync('cat', [...readdirSync(inDir).map((f) => join(inDir, f))], { stdio: 'ignore', maxBuffer: 1 << 30 });

const rows = [];
const pairs = [
  ['.nii', [], ['-z', 'n']],
  ['.nii.gz (level 1 both)', ['--gz'], ['-z', 'y', '-1']],
  ['.nii.gz (dcm2niix default -6)', ['--gz'], ['-z', 'y']],
];
for (const [what, ourFlags, theirFlags] of pairs) {
  rows.push(pair(what, (out) => [lattice, 'convert', inDir, '-o', out, ...ourFlags], (out) => [...theirFlags, '-b', 'y', '-o', out, inDir]));
}
const f = (x, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
console.log(`\nInput: ${NX}×${NY}×${NZ} int16 CT, ${NZ} files, volume ${volumeMiB.toFixed(1)} MiB; median of ${RUNS} runs; ${hasTime ? 'peak RSS from /usr/bin/time -v' : 'no /usr/bin/time: RSS n/a'}`);
console.log(dcm2niix ? `dcm2niix: ${dcm2niix}` : 'dcm2niix not installed: our times only');
console.log('output                         | lattice s | dcm2niix s | ratio | CPU s ours/theirs | lattice peak MiB (× volume) | dcm2niix MiB | sizes MiB ours/theirs');
for (const { what, ours, theirs } of rows) {
  console.log(
    [
      what.padEnd(30),
      f(ours.wall).padStart(9),
      f(theirs?.wall ?? NaN).padStart(10),
      f(theirs ? ours.wall / theirs.wall : NaN, 2).padStart(5),
      `${f(ours.cpu, 2)} / ${f(theirs?.cpu ?? NaN, 2)}`.padStart(17),
      `${f(ours.rss, 0)} (${f(ours.rss / volumeMiB, 2)}×)`.padStart(27),
      f(theirs?.rss ?? NaN, 0).padStart(12),
      `${f(ours.size / 2 ** 20, 1)} / ${f((theirs?.size ?? NaN) / 2 ** 20, 1)}`,
    ].join(' | '),
  );
}
const load = spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.trim();
console.log(`load average during the run: ${load} (timings on a shared machine are noisy; CPU seconds are steadier)`);
