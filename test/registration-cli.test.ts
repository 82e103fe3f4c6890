import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readNiftiFile, writeNiftiFile } from '../src-main/nifti/nifti-file';
import { parseItkAffine } from '../src-shared/registration/itk-transform';
import type { Vec3, Volume } from '../src-shared/image/volume';
import { bumpField, centredGeometry, ctPhantom, rigidMatrix, rotationMatrix, sampleVolume } from './registration-helpers';
import { transformPoint4 } from '../src-shared/image/resample';
import { ensureNodeBuild } from './node-build';

const root = resolve(__dirname, '..');
let dir = '';

beforeAll(async () => {
  await ensureNodeBuild();
  dir = mkdtempSync(join(tmpdir(), 'lattice-register-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function lattice(args: string[]) {
  const r = spawnSync(process.execPath, [resolve(root, 'bin/lattice.js'), 'register', ...args], { encoding: 'utf8', env: { ...process.env, BENCH_THREADS: '2' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** 4×4 RAS affine (row-major) from the sform rows of a NIfTI header: independent of our geometry code. */
function sform(h: { srow_x: number[]; srow_y: number[]; srow_z: number[] }): number[] {
  return [...h.srow_x, ...h.srow_y, ...h.srow_z, 0, 0, 0, 1];
}

function invert3x4(m: number[]): number[] {
  const [a, b, c, , d, e, f, , g, h, i] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  const r = [
    (e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det,
    (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det,
    (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det,
  ];
  const t = [m[3], m[7], m[11]];
  return [
    r[0], r[1], r[2], -(r[0] * t[0] + r[1] * t[1] + r[2] * t[2]),
    r[3], r[4], r[5], -(r[3] * t[0] + r[4] * t[1] + r[5] * t[2]),
    r[6], r[7], r[8], -(r[6] * t[0] + r[7] * t[1] + r[8] * t[2]),
    0, 0, 0, 1,
  ];
}

/** Independent trilinear sampler (edge clamp) at a continuous voxel index. */
function trilinear(v: Volume, x: number, y: number, z: number): number {
  const [nx, ny, nz] = v.dims;
  const c = (a: number, n: number) => Math.max(0, Math.min(n - 1, a));
  x = c(x, nx); y = c(y, ny); z = c(z, nz);
  const x0 = Math.floor(x), y0 = Math.floor(y), z0 = Math.floor(z);
  const x1 = Math.min(x0 + 1, nx - 1), y1 = Math.min(y0 + 1, ny - 1), z1 = Math.min(z0 + 1, nz - 1);
  const fx = x - x0, fy = y - y0, fz = z - z0;
  const at = (i: number, j: number, k: number) => v.data[(k * ny + j) * nx + i] * v.rescaleSlope + v.rescaleIntercept;
  let s = 0;
  for (const [i, wi] of [[x0, 1 - fx], [x1, fx]]) for (const [j, wj] of [[y0, 1 - fy], [y1, fy]]) for (const [k, wk] of [[z0, 1 - fz], [z1, fz]]) s += wi * wj * wk * at(i, j, k);
  return s;
}

describe('lattice register (command line)', () => {
  it('writes warped, field, Jacobian and ITK affine; the field applied independently reproduces the warped image', async () => {
    // Fixed: oblique anisotropic grid. Moving: another grid; truth = rigid motion ∘ smooth bumps.
    const deg = Math.PI / 180;
    const fg = centredGeometry([48, 44, 30], [2.5, 2.7, 3.5], rotationMatrix(8 * deg, 0, -12 * deg));
    const mg = centredGeometry([56, 56, 36], [2.4, 2.4, 3]);
    const rigid = rigidMatrix([2, -1, 4], [3, -2, 2]);
    const u = bumpField(4);
    const fixed = sampleVolume(fg, (p) => {
      const q = transformPoint4(rigid, p);
      const d = u(q);
      return ctPhantom([q[0] + d[0], q[1] + d[1], q[2] + d[2]]);
    });
    const moving = sampleVolume(mg, ctPhantom);
    const F = join(dir, 'fixed.nii.gz'), M = join(dir, 'moving.nii.gz');
    await writeNiftiFile(F, fixed);
    await writeNiftiFile(M, moving);
    const W = join(dir, 'w.nii'), D = join(dir, 'd.nii.gz'), J = join(dir, 'j.nii'), A = join(dir, 'a.txt');
    const r = lattice(['--fixed', F, '--moving', M, '--out-warped', W, '--out-field', D, '--out-jacobian', J, '--out-affine', A,
      '--affine', 'rigid', '--metric', 'msd', '--demons', '--levels', '2', '--iterations', '40,20', '--diffeomorphic']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/affine \(rigid, msd\) level 1\/\d/);
    expect(r.out).toMatch(/demons level 1\/2 .*iterations, MSD/);
    expect(r.out).toMatch(/demons level 2\/2 /);

    const w = await readNiftiFile(W), d = await readNiftiFile(D), j = await readNiftiFile(J);
    const fh = (await readNiftiFile(F)).header;
    // field: (nx, ny, nz, 1, 3), intent vector, float32, the fixed sform
    expect(d.header.dim.slice(0, 6)).toEqual([5, 48, 44, 30, 1, 3]);
    expect(d.header.intent_code).toBe(1007);
    expect(d.header.datatype).toBe(16);
    for (const h of [d.header, w.header, j.header]) expect(sform(h).map((v) => +v.toFixed(4))).toEqual(sform(fh).map((v) => +v.toFixed(4)));
    // ITK transform file: readable, close to the rigid part of the truth at the image centre
    const itk = readFileSync(A, 'utf8');
    expect(itk).toMatch(/^#Insight Transform File V1.0\n#Transform 0\nTransform: AffineTransform_double_3_3\n/);
    const m = parseItkAffine(itk);
    const c = transformPoint4(m, [0, 0, 0]), ct = transformPoint4(rigid, [0, 0, 0]);
    expect(Math.hypot(c[0] - ct[0], c[1] - ct[1], c[2] - ct[2])).toBeLessThan(3);

    // Apply D with an independent resampler: fixed voxel → RAS x (fixed sform) → y = x + D →
    // moving voxel (inverse moving sform) → trilinear. It must reproduce W.
    const fa = sform(fh), mi = invert3x4(sform((await readNiftiFile(M)).header));
    const n = 48 * 44 * 30;
    let se = 0, lo = Infinity, hi = -Infinity;
    for (let k = 0, o = 0; k < 30; k++)
      for (let jj = 0; jj < 44; jj++)
        for (let i = 0; i < 48; i++, o++) {
          const x = transformPoint4(fa, [i, jj, k]);
          const y: Vec3 = [x[0] + d.volume.data[o], x[1] + d.volume.data[n + o], x[2] + d.volume.data[2 * n + o]];
          const q = transformPoint4(mi, y);
          const v = trilinear(moving, q[0], q[1], q[2]);
          se += (v - w.volume.data[o]) ** 2;
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
    const rms = Math.sqrt(se / n);
    expect(rms).toBeLessThan(0.001 * (hi - lo));
    // the registration did its job: warped is much closer to fixed than the moving resampled by the rigid part alone
    let msdW = 0;
    for (let o = 0; o < n; o++) msdW += (w.volume.data[o] - fixed.data[o]) ** 2;
    expect(msdW / n).toBeLessThan(3000);
    // Jacobian: positive everywhere (diffeomorphic), ≈ 1 on average (rigid + small bumps)
    let jmin = Infinity, jsum = 0;
    for (const v of j.volume.data as Float32Array) { jmin = Math.min(jmin, v); jsum += v; }
    expect(jmin).toBeGreaterThan(0);
    expect(jsum / n).toBeGreaterThan(0.9);
    expect(jsum / n).toBeLessThan(1.1);
  });

  it('registers 2D NIfTI images and writes 2D-compatible outputs', async () => {
    const g = centredGeometry([80, 72, 1], [2, 2, 2]);
    const u = bumpField(5);
    const fixed = sampleVolume(g, (p) => {
      const d = u(p);
      return ctPhantom([p[0] + d[0], p[1] + d[1], p[2]]);
    });
    const moving = sampleVolume(g, ctPhantom);
    const F = join(dir, 'f2.nii.gz'), M = join(dir, 'm2.nii.gz'), W = join(dir, 'w2.nii.gz'), D = join(dir, 'd2.nii');
    await writeNiftiFile(F, fixed, { twoD: true });
    await writeNiftiFile(M, moving, { twoD: true });
    expect((await readNiftiFile(F)).header.dim[0]).toBe(2);
    const r = lattice(['--fixed', F, '--moving', M, '--out-warped', W, '--out-field', D]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const w = await readNiftiFile(W), d = await readNiftiFile(D);
    expect(w.header.dim.slice(0, 3)).toEqual([2, 80, 72]);
    expect(d.header.dim.slice(0, 6)).toEqual([5, 80, 72, 1, 1, 3]);
    let before = 0, after = 0;
    for (let o = 0; o < 80 * 72; o++) {
      before += (fixed.data[o] - moving.data[o]) ** 2;
      after += (fixed.data[o] - (w.volume.data[o] as number)) ** 2;
    }
    expect(after).toBeLessThan(before / 4);
  });

  it('rejects bad options with a message and exit code 2', () => {
    const r = lattice(['--fixed', 'a.nii', '--moving', 'b.nii', '--out-warped', 'c.nii', '--metric', 'foo']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--metric must be one of msd, ncc, mi/);
    const r2 = lattice(['--fixed', 'a.nii']);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/required/);
    const r3 = lattice(['--fixed', join(dir, 'missing.nii'), '--moving', join(dir, 'missing.nii'), '--out-warped', join(dir, 'x.nii')]);
    expect(r3.code).toBe(1);
    expect(r3.err).toMatch(/missing\.nii: file not found/);
  });
});
