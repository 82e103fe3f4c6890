/**
 * The processing verbs of the built `lattice` command line, end to end: NIfTI files in,
 * NIfTI files out, answers checked against values computed here; errors name the file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vec3, Volume, VoxelArray, VoxelType } from '../src-shared/image/volume';
import { geometryToNiftiAffine, niftiAffineToGeometry } from '../src-shared/geometry/nifti-transform';
import { readNiftiFile, writeNiftiFile } from '../src-main/nifti/nifti-file';
import { ensureNodeBuild } from './node-build';

const root = resolve(__dirname, '..');
const cli = resolve(root, 'out/node/lattice.js');
let dir = '';

beforeAll(async () => {
  await ensureNodeBuild();
  dir = mkdtempSync(join(tmpdir(), 'lattice-proc-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lattice(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// The worked example's sform (float32 in the file, as dcm2niix writes it).
const SFORM = [-0.9765625, 0, 0, 249.51172, 0, 0.9765625, 0, -33.01172, 0, 0, 2, -553.5, 0, 0, 0, 1].map(Math.fround);

function image(dims: Vec3, data: VoxelArray, type: VoxelType, affine = SFORM): Volume {
  return { ...niftiAffineToGeometry(affine, dims), data, voxelType: type, frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

describe('lattice processing verbs', () => {
  it('crops the worked example to [103:381, 160:340, :] with the expected RAS origin', async () => {
    // Same sform as the 512×512×175 example, fewer slices (the k range is ':' anyway).
    const dims: Vec3 = [400, 350, 3];
    const data = new Int16Array(400 * 350 * 3).map((_, i) => (i * 7) % 3001 - 1000);
    await writeNiftiFile(join(dir, 'ct.nii.gz'), image(dims, data, 'int16'));
    const r = lattice('crop', 'ct.nii.gz', '-o', 'crop.nii.gz', '--box', '103:381,160:340,:');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/278×180×3; origin RAS \(148\.925781, 123\.238281, -553\.5\)/);
    const { volume: c } = await readNiftiFile(join(dir, 'crop.nii.gz'));
    expect(c.dims).toEqual([278, 180, 3]);
    const aff = geometryToNiftiAffine(c);
    expect(aff[3]).toBeCloseTo(148.92578125, 4);
    expect(aff[7]).toBeCloseTo(123.23828125, 4);
    expect(aff[11]).toBeCloseTo(-553.5, 4);
    for (const [i, j, k] of [[0, 0, 0], [277, 179, 2], [50, 60, 1]]) {
      expect(c.data[(k * 180 + j) * 278 + i]).toBe(data[(k * 350 + j + 160) * 400 + i + 103]);
    }
    // The same box in mm (RAS): x from the first to the last kept voxel centre.
    const xs = [148.92578125 - 277 * 0.9765625, 148.92578125];
    const ys = [123.23828125, 123.23828125 + 179 * 0.9765625];
    const m = lattice('crop', 'ct.nii.gz', '-o', 'cropmm.nii', '--mm', `${xs[0] - 0.1}:${xs[1] + 0.1},${ys[0] - 0.1}:${ys[1] + 0.1},:`);
    expect(m.code).toBe(0);
    expect(m.out).toMatch(/box \[103:381, 160:340, 0:3\]/);
  });

  it('thresholds (the issue example and Otsu), masks, and writes masks as uint8', async () => {
    const dims: Vec3 = [10, 6, 4];
    const data = new Int16Array(240).map((_, i) => ((i * 37) % 200) - 50);
    await writeNiftiFile(join(dir, 'img.nii'), image(dims, data, 'int16'));
    expect(lattice('threshold', 'img.nii', '-o', 'm.nii.gz', '--above', '60').code).toBe(0);
    const { volume: m } = await readNiftiFile(join(dir, 'm.nii.gz'));
    expect(m.voxelType).toBe('uint8');
    expect(Array.from(m.data)).toEqual(Array.from(data, (v) => (v <= 60 ? 0 : 1)));
    expect(lattice('mask', 'img.nii', 'm.nii.gz', '-o', 'masked.nii', '--background', '-1024').code).toBe(0);
    const { volume: mk } = await readNiftiFile(join(dir, 'masked.nii'));
    expect(Array.from(mk.data)).toEqual(Array.from(data, (v) => (v <= 60 ? -1024 : v)));
    const o = lattice('threshold', 'img.nii', '-o', 'otsu.nii', '--otsu');
    expect(o.code).toBe(0);
    const t = Number(/Otsu threshold: (-?[\d.]+)/.exec(o.out)![1]);
    const { volume: om } = await readNiftiFile(join(dir, 'otsu.nii'));
    expect(Array.from(om.data)).toEqual(Array.from(data, (v) => (v > t ? 1 : 0)));
    const rel = lattice('threshold', 'img.nii', '-o', 'rel.nii', '--lower', '0.5', '--relative', '--inside', 'image', '--outside', '0');
    expect(rel.code).toBe(0);
  });

  it('runs morphology, hole filling, largest component and combine', async () => {
    const n = 9;
    const d = new Uint8Array(n * n * n);
    const at = (x: number, y: number, z: number) => (z * n + y) * n + x;
    for (let z = 2; z < 7; z++) for (let y = 2; y < 7; y++) for (let x = 2; x < 7; x++) d[at(x, y, z)] = x === 4 && y === 4 && z === 4 ? 0 : 1;
    d[at(0, 0, 0)] = 1; // a second, one-voxel component
    await writeNiftiFile(join(dir, 'cube.nii.gz'), image([n, n, n], d, 'uint8', [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]));
    const f = lattice('fill-holes', 'cube.nii.gz', '-o', 'filled.nii.gz');
    expect(f.out).toMatch(/filled 1 voxels/);
    const l = lattice('largest-component', 'filled.nii.gz', '-o', 'lcc.nii.gz');
    expect(l.out).toMatch(/2 component\(s\); kept 125 voxels/);
    expect(lattice('morph', 'erode', 'lcc.nii.gz', '-o', 'ero.nii.gz', '--radius', '1', '--shape', 'box').code).toBe(0);
    const { volume: e } = await readNiftiFile(join(dir, 'ero.nii.gz'));
    expect(Array.from(e.data).reduce((a, b) => a + b, 0)).toBe(27);
    expect(lattice('morph', 'dilate', 'ero.nii.gz', '-o', 'dil.nii.gz', '--radius-mm', '1').code).toBe(0);
    const { volume: dl } = await readNiftiFile(join(dir, 'dil.nii.gz'));
    expect(Array.from(dl.data).reduce((a, b) => a + b, 0)).toBe(27 + 6 * 9);
    expect(lattice('combine', 'difference', 'lcc.nii.gz', 'ero.nii.gz', '-o', 'shell.nii.gz').code).toBe(0);
    const { volume: sh } = await readNiftiFile(join(dir, 'shell.nii.gz'));
    expect(Array.from(sh.data).reduce((a, b) => a + b, 0)).toBe(125 - 27);
  });

  it('aligns centres and resamples onto another grid', async () => {
    const a = image([4, 4, 4], new Uint8Array(64).fill(1), 'uint8', [2, 0, 0, 10, 0, 2, 0, 20, 0, 0, 2, 30, 0, 0, 0, 1]);
    const b = image([5, 3, 2], new Uint8Array(30), 'uint8', [0, -1, 0, -5, 1, 0, 0, 7, 0, 0, 3, 1, 0, 0, 0, 1]);
    await writeNiftiFile(join(dir, 'a.nii'), a);
    await writeNiftiFile(join(dir, 'b.nii'), b);
    const r = lattice('align', 'a.nii', 'b.nii', '-o', 'al.nii');
    expect(r.code).toBe(0);
    const { volume: al } = await readNiftiFile(join(dir, 'al.nii'));
    const centre = (v: Volume) => {
      const m = geometryToNiftiAffine(v);
      const c = v.dims.map((x) => (x - 1) / 2);
      return [0, 1, 2].map((row) => m[row * 4] * c[0] + m[row * 4 + 1] * c[1] + m[row * 4 + 2] * c[2] + m[row * 4 + 3]);
    };
    centre(al).forEach((x, i) => expect(x).toBeCloseTo(centre(b)[i], 4));
    expect(lattice('resample', 'a.nii', 'b.nii', '-o', 'rs.nii', '--interpolation', 'nearest').code).toBe(0);
    const { volume: rs } = await readNiftiFile(join(dir, 'rs.nii'));
    expect(rs.dims).toEqual([5, 3, 2]);
    expect(rs.voxelType).toBe('uint8');
  });

  it('gives clear errors naming the file, and never writes over an input', async () => {
    const missing = lattice('threshold', 'missing.nii', '-o', 'x.nii', '--above', '1');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/missing\.nii: file not found/);
    const mismatch = lattice('mask', 'img.nii', 'cube.nii.gz', '-o', 'x.nii');
    expect(mismatch.code).toBe(1);
    expect(mismatch.err).toMatch(/img\.nii, cube\.nii\.gz: mask: the images have different sizes/);
    const before = statSync(join(dir, 'img.nii')).mtimeMs;
    const same = lattice('crop', 'img.nii', '-o', 'img.nii', '--box', ':,:,:');
    expect(same.code).toBe(2);
    expect(statSync(join(dir, 'img.nii')).mtimeMs).toBe(before);
    expect(lattice('crop', 'img.nii', '-o', 'x.nii', '--box', '5:5,:,:').err).toMatch(/empty/);
    expect(lattice('morph', 'dilate', 'cube.nii.gz', '-o', 'x.nii').err).toMatch(/--radius/);
    expect(lattice('threshold', 'img.nii', '-o', 'x.txt', '--above', '1').err).toMatch(/\.nii or \.nii\.gz/);
    expect(existsSync(join(dir, 'x.nii'))).toBe(false);
    // No temporary files left behind.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
