/**
 * The analysis operations (src-shared/analysis) on a real CT (../shared/data, dcm2niix output)
 * and on anisotropic synthetic volumes with oblique direction cosines, checked against
 * scipy.ndimage / scikit-image (Debian's python3-scipy, python3-skimage): filters within
 * 1e-3 relative, EDT to float precision, Dice/Jaccard exactly, surface distances against a
 * MedPy-style reference (mask ^ erosion, distance_transform_edt with sampling). One python
 * run per test; skipped when python or the data are missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNiftiFile } from '../src-main/nifti/nifti-file';
import type { Mat3, Vec3, Volume } from '../src-shared/image/volume';
import { chanVese, clahe, compareMasks, distanceTransform, equalizeHistogram, filterVolume, labelStatistics, realValues } from '../src-shared/analysis';
import { threshold, morphology } from '../src-shared/processing';
import { OperationCancelledError } from '../src-shared/processing/progress';

const CT = resolve(__dirname, '../../shared/data/reference/ct_ge_lightspeed_3slice/ct_ge_lightspeed_3slice_6.9_Colonoscopy_20030417104607_2.nii');
const PY = '/usr/bin/python3';
const havePython = existsSync(PY) && spawnSync(PY, ['-c', 'import scipy, skimage'], { encoding: 'utf8' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'lattice-analysis-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes arrays as raw files; python reads them as (nz, ny, nx). */
function save(name: string, a: Float32Array | Uint8Array | Int16Array): string {
  const p = join(dir, name);
  writeFileSync(p, Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  return p;
}

function python(script: string, args: Record<string, unknown>): Record<string, number | number[] | boolean> {
  const prelude = `import sys, json, numpy as np
from scipy import ndimage as ndi
A = json.loads(sys.argv[1])
def load(name, dt='float32'): return np.fromfile(A['dir'] + '/' + name, dtype=dt).reshape(A['dims'][::-1]).astype(np.float64 if dt == 'float32' else dt)
def rel(a, b): return float(np.max(np.abs(a - b) / (np.abs(b) + 1.0)))
out = {}
`;
  const r = spawnSync(PY, ['-c', prelude + script + '\nprint(json.dumps(out))', JSON.stringify({ dir, ...args })], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim());
}

/** An oblique rotation (about an axis not aligned with any index axis). */
function obliqueDirection(): Mat3 {
  const [ax, ay, az] = [0.3, -0.5, 0.81];
  const n = Math.hypot(ax, ay, az);
  const [x, y, z] = [ax / n, ay / n, az / n];
  const t = 0.6, c = Math.cos(t), s = Math.sin(t), C = 1 - c;
  return [c + x * x * C, x * y * C - z * s, x * z * C + y * s, y * x * C + z * s, c + y * y * C, y * z * C - x * s, z * x * C - y * s, z * y * C + x * s, c + z * z * C];
}

/** Synthetic anisotropic volume: two blobs and a slab, noise; spacing 0.7 × 1.3 × 2.9 mm, oblique. */
function synthetic(): Volume {
  const dims: Vec3 = [41, 37, 23];
  const d = new Int16Array(dims[0] * dims[1] * dims[2]);
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let k = 0, q = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++, q++) {
        const x = i * 0.7, y = j * 1.3, z = k * 2.9;
        const b1 = (x - 12) ** 2 + (y - 20) ** 2 + (z - 30) ** 2 < 81;
        const b2 = (x - 20) ** 2 / 16 + (y - 30) ** 2 / 64 + (z - 45) ** 2 / 100 < 1;
        const slab = i > 30 && j > 3 && j < 12;
        d[q] = (b1 ? 300 : b2 ? 150 : slab ? 80 : 0) + Math.round(rnd() * 40 - 20);
      }
  return { dims, spacing: [0.7, 1.3, 2.9], origin: [-10, 20, 35], direction: obliqueDirection(), data: d, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

describe.skipIf(!havePython || !existsSync(CT))('analysis vs scipy / scikit-image', () => {
  it('filters a real CT like scipy.ndimage (mean, median, Gaussian σ in mm, gradients, Laplacian, kernel)', async () => {
    const { volume: ct0 } = await readNiftiFile(CT);
    // The real CT with an oblique direction: world gradient components then mix the axes.
    const ct: Volume = { ...ct0, direction: obliqueDirection() };
    save('ct.f32', realValues(ct));
    const sigmaMm: Vec3 = [1.5, 2.5, 1.2];
    const kernel = [0, -1, 0, -1, 5, -1, 0, -2, 1, 1, 2, 1, 0, 0, 0, -1, -2, -1];
    const outs: Record<string, Volume> = {
      mean: await filterVolume(ct, { filter: 'mean', radius: [2, 1, 1] }),
      median: await filterVolume(ct, { filter: 'median', radius: 1 }),
      gauss: await filterVolume(ct, { filter: 'gaussian', sigmaMm }),
      gmag: await filterVolume(ct, { filter: 'gradient-magnitude' }),
      gx: await filterVolume(ct, { filter: 'gradient-x' }),
      gy: await filterVolume(ct, { filter: 'gradient-y' }),
      gz: await filterVolume(ct, { filter: 'gradient-z' }),
      lap: await filterVolume(ct, { filter: 'laplacian' }),
      kern: await filterVolume(ct, { filter: 'kernel', kernel, kernelSize: [3, 3, 2] }).catch((e: Error) => e as unknown as Volume),
    };
    // An even kernel size is refused with a message.
    expect(String(outs.kern)).toMatch(/odd/);
    outs.kern = await filterVolume(ct, { filter: 'kernel', kernel: kernel.slice(0, 9), kernelSize: [3, 3, 1] });
    for (const [k, v] of Object.entries(outs)) {
      expect(v.voxelType).toBe('float32');
      save(`${k}.f32`, v.data as Float32Array);
    }
    const r = python(
      `f = load('ct.f32'); sp = A['spacing'][::-1]; D = np.array(A['direction']).reshape(3, 3)
sig = [s / h for s, h in zip(A['sigmaMm'][::-1], sp)]
g = f.copy()
for ax in range(3):
    r = max(1, int(np.ceil(3 * sig[ax])))
    g = ndi.gaussian_filter1d(g, sig[ax], axis=ax, mode='nearest', truncate=r / sig[ax])
gz, gy, gx = np.gradient(f, *sp)
world = [D[c, 0] * gx + D[c, 1] * gy + D[c, 2] * gz for c in range(3)]
lap = sum(ndi.correlate1d(f, [1., -2., 1.], axis=ax, mode='nearest') / sp[ax] ** 2 for ax in range(3))
w = np.array(A['kernel'][:9], dtype=float).reshape(1, 3, 3)
out['mean'] = rel(load('mean.f32'), ndi.uniform_filter(f, size=(3, 3, 5), mode='nearest'))
out['median'] = rel(load('median.f32'), ndi.median_filter(f, size=3, mode='nearest'))
out['gauss'] = rel(load('gauss.f32'), g)
out['gmag'] = rel(load('gmag.f32'), np.sqrt(gx * gx + gy * gy + gz * gz))
out['gx'] = rel(load('gx.f32'), world[0]); out['gy'] = rel(load('gy.f32'), world[1]); out['gz'] = rel(load('gz.f32'), world[2])
out['lap'] = rel(load('lap.f32'), lap)
out['kern'] = rel(load('kern.f32'), ndi.correlate(f, w, mode='nearest'))
out['gaussRange'] = float(np.ptp(g))`,
      { dims: ct.dims, spacing: ct.spacing, direction: ct.direction, sigmaMm, kernel },
    );
    for (const k of ['mean', 'median', 'gauss', 'gmag', 'gx', 'gy', 'gz', 'lap', 'kern']) expect(r[k], k).toBeLessThan(1e-3);
    expect(r.median).toBe(0); // exact
    expect(r.gaussRange).toBeGreaterThan(500); // a real image, not a constant
  });

  it('median of non-integer values (selection path) equals scipy, anisotropic radius', async () => {
    const s = synthetic();
    const f = realValues(s).map((v, i) => v * 0.37 + (i % 7) * 0.01);
    const vol: Volume = { ...s, data: f, voxelType: 'float32' };
    save('syn.f32', f);
    save('med.f32', (await filterVolume(vol, { filter: 'median', radius: [2, 1, 0] })).data as Float32Array);
    const r = python(`out['med'] = float(np.max(np.abs(load('med.f32') - ndi.median_filter(load('syn.f32').astype(np.float32), size=(1, 3, 5), mode='nearest'))))`, { dims: s.dims });
    expect(r.med).toBe(0);
  });

  it('EDT (inside, outside, signed) in mm equals scipy distance_transform_edt with sampling', async () => {
    const { volume: ct } = await readNiftiFile(CT);
    const s = synthetic();
    for (const [name, vol, lower] of [['ct', ct, -300], ['syn', s, 60]] as const) {
      const mask = threshold(vol, { lower, lowerInclusive: false });
      save(`${name}-mask.u8`, mask.data as Uint8Array);
      for (const mode of ['inside', 'outside', 'signed'] as const) save(`${name}-${mode}.f32`, (await distanceTransform(mask, { mode })).data as Float32Array);
      const r = python(
        `m = load(A['name'] + '-mask.u8', 'uint8').astype(bool); sp = A['spacing'][::-1]
ins = ndi.distance_transform_edt(m, sampling=sp); outs = ndi.distance_transform_edt(~m, sampling=sp)
err = lambda a, b: float(np.max(np.abs(a - b) / np.maximum(b, 1)))
out['inside'] = err(load(A['name'] + '-inside.f32'), ins)
out['outside'] = err(load(A['name'] + '-outside.f32'), outs)
out['signed'] = err(np.abs(load(A['name'] + '-signed.f32')), np.abs(outs - ins))
out['sign'] = bool(np.all((load(A['name'] + '-signed.f32') < 0) == m))
out['maxOut'] = float(outs.max())`,
        { name, dims: vol.dims, spacing: vol.spacing },
      );
      expect(r.inside, `${name} inside`).toBeLessThan(2e-7);
      expect(r.outside, `${name} outside`).toBeLessThan(2e-7);
      expect(r.signed, `${name} signed`).toBeLessThan(2e-7);
      expect(r.sign).toBe(true);
      expect(r.maxOut).toBeGreaterThan(5);
    }
  });

  it('compares two masks like scipy/MedPy (Dice, Jaccard exact; HD, HD95, MSD, centres)', async () => {
    const { volume: ct } = await readNiftiFile(CT);
    const s = synthetic();
    for (const [name, vol, lower] of [['ct', ct, -300], ['syn', s, 60]] as const) {
      const a = threshold(vol, { lower, lowerInclusive: false });
      // B: A dilated, then a shifted box cut out of it: not a plain offset of A.
      const b = morphology(a, 'dilate', { shape: 'ball', radius: [2, 1, 1] });
      const bd = b.data as Uint8Array;
      for (let k = 0; k < vol.dims[2]; k++) for (let j = 5; j < 15; j++) for (let i = 0; i < vol.dims[0] / 2; i++) bd[(k * vol.dims[1] + j) * vol.dims[0] + i] = 0;
      save(`${name}-a.u8`, a.data as Uint8Array);
      save(`${name}-b.u8`, bd);
      const c = await compareMasks(a, b);
      const r = python(
        `a = load(A['name'] + '-a.u8', 'uint8').astype(bool); b = load(A['name'] + '-b.u8', 'uint8').astype(bool); sp = A['spacing'][::-1]
tp = np.sum(a & b)
out['dice'] = 2 * tp / (a.sum() + b.sum()); out['jaccard'] = tp / np.sum(a | b)
out['precision'] = tp / a.sum(); out['recall'] = tp / b.sum()
sa = a ^ ndi.binary_erosion(a); sb = b ^ ndi.binary_erosion(b)
dab = ndi.distance_transform_edt(~sb, sampling=sp)[sa]; dba = ndi.distance_transform_edt(~sa, sampling=sp)[sb]
both = np.hstack((dab, dba))
out['hd'] = float(both.max()); out['hd95'] = float(np.percentile(both, 95)); out['msd'] = float(both.mean())
out['assd'] = float((dab.mean() + dba.mean()) / 2)
ca = np.array(ndi.center_of_mass(a))[::-1]; cb = np.array(ndi.center_of_mass(b))[::-1]
M = np.array(A['direction']).reshape(3, 3) * np.array(A['spacing'])
out['com'] = float(np.linalg.norm(M @ (ca - cb)))`,
        { name, dims: vol.dims, spacing: vol.spacing, direction: vol.direction },
      );
      expect(c.dice).toBe(r.dice);
      expect(c.jaccard).toBe(r.jaccard);
      expect(c.precision).toBe(r.precision);
      expect(c.recall).toBe(r.recall);
      const diag = Math.hypot(...vol.spacing);
      expect(Math.abs(c.hausdorff_mm! - (r.hd as number))).toBeLessThan(1e-4 * diag);
      expect(Math.abs(c.hausdorff95_mm! - (r.hd95 as number))).toBeLessThan(1e-4 * diag);
      expect(Math.abs(c.meanSurfaceDistance_mm! - (r.msd as number))).toBeLessThan(1e-4 * diag);
      expect(Math.abs(c.assd_mm! - (r.assd as number))).toBeLessThan(1e-4 * diag);
      expect(Math.abs(c.centreDistance_mm! - (r.com as number))).toBeLessThan(1e-6);
      expect(c.hausdorff_mm!).toBeGreaterThan(c.hausdorff95_mm!);
      expect(c.volumeA_ml).toBeCloseTo((c.voxelsA * vol.spacing[0] * vol.spacing[1] * vol.spacing[2]) / 1000, 9);
    }
  });

  it('label statistics equal scipy.ndimage (count, mean, SD, min, max) on the real CT', async () => {
    const { volume: ct } = await readNiftiFile(CT);
    // Labels: 1 = air, 2 = soft tissue, 3 = bone, 7 = a box; 0 elsewhere.
    const f = realValues(ct);
    const lab = new Int16Array(f.length);
    for (let q = 0; q < f.length; q++) lab[q] = f[q] < -500 ? 1 : f[q] < 200 ? 2 : 3;
    for (let k = 0; k < 3; k++) for (let j = 100; j < 150; j++) for (let i = 200; i < 260; i++) lab[(k * 512 + j) * 512 + i] = 7;
    for (let q = 0; q < 512 * 20; q++) lab[q] = 0;
    const labels: Volume = { ...ct, data: lab, voxelType: 'int16', rescaleSlope: 1, rescaleIntercept: 0 };
    save('ct.f32', f);
    save('lab.i16', lab);
    const st = labelStatistics(labels, ct);
    const r = python(
      `f = load('ct.f32'); l = load('lab.i16', 'int16'); idx = [1, 2, 3, 7]
out['count'] = [int(np.sum(l == i)) for i in idx]
out['mean'] = list(map(float, ndi.mean(f, l, idx))); out['sd'] = list(map(float, ndi.standard_deviation(f, l, idx)))
out['min'] = list(map(float, ndi.minimum(f, l, idx))); out['max'] = list(map(float, ndi.maximum(f, l, idx)))`,
      { dims: ct.dims },
    );
    expect(st.map((s) => s.label)).toEqual([1, 2, 3, 7]);
    st.forEach((s, t) => {
      expect(s.voxels).toBe((r.count as number[])[t]);
      expect(s.mean!).toBeCloseTo((r.mean as number[])[t], 6);
      expect(s.sd!).toBeCloseTo((r.sd as number[])[t], 6);
      expect(s.min).toBe((r.min as number[])[t]);
      expect(s.max).toBe((r.max as number[])[t]);
      expect(s.volume_ml).toBeCloseTo((s.voxels * 0.810547 * 0.810547 * 1) / 1000, 3);
    });
  });

  it('global histogram equalisation equals skimage equalize_hist (float bins and integer images)', async () => {
    const { volume: ct } = await readNiftiFile(CT);
    save('ct.f32', realValues(ct));
    save('eq.f32', equalizeHistogram(ct).data as Float32Array);
    const s = synthetic();
    save('syn.i16', s.data as Int16Array);
    save('eqi.f32', equalizeHistogram(s).data as Float32Array);
    const r = python(
      `from skimage import exposure
out['ct'] = float(np.max(np.abs(load('eq.f32') - exposure.equalize_hist(load('ct.f32'), nbins=256))))
s = np.fromfile(A['dir'] + '/syn.i16', dtype=np.int16).reshape(A['sdims'][::-1])
out['int'] = float(np.max(np.abs(np.fromfile(A['dir'] + '/eqi.f32', dtype=np.float32).reshape(s.shape) - exposure.equalize_hist(s))))`,
      { dims: ct.dims, sdims: s.dims },
    );
    expect(r.ct).toBeLessThan(1e-6);
    expect(r.int).toBeLessThan(1e-6);
  });

  it('CLAHE equals skimage equalize_adapthist on the real CT (3D and per slice) and on an anisotropic synthetic volume', async () => {
    const { volume: ct } = await readNiftiFile(CT);
    save('ct.f32', realValues(ct));
    const s = synthetic();
    save('syn-in.f32', realValues(s));
    // The same anisotropic volume as float32 values (the untabled path) and as rescaled integers.
    const sf: Volume = { ...s, data: realValues(s).map((v, i) => v * 0.37 + (i % 5) * 0.013), voxelType: 'float32' };
    const sr: Volume = { ...s, rescaleSlope: -2.5, rescaleIntercept: 100 };
    save('synf-in.f32', realValues(sf));
    save('synr-in.f32', realValues(sr));
    // [name, volume, params, skimage kernel_size (numpy axis order k, j, i) or null = default, input file]
    const cases: Array<[string, Volume, Parameters<typeof clahe>[1], number[] | null, string]> = [
      ['ct3d', ct, {}, null, 'ct.f32'], // default tiles: (1, 64, 64)
      ['ctslice', ct, { perSlice: true, kernelSize: [40, 57, 1], clipLimit: 0.03 }, [57, 40], 'ct.f32'], // tiles that do not divide 512
      ['ctnoclip', ct, { kernelSize: [96, 80, 2], clipLimit: 0, nbins: 128 }, [2, 80, 96], 'ct.f32'],
      ['syn', s, { kernelSize: [8, 6, 5], clipLimit: 0.02 }, [5, 6, 8], 'syn-in.f32'],
      ['synbig', s, { kernelSize: [7, 9, 30], clipLimit: 0.05, nbins: 64 }, [30, 9, 7], 'syn-in.f32'], // a tile deeper than the volume (reflected)
      ['synf', sf, { kernelSize: [8, 6, 5] }, [5, 6, 8], 'synf-in.f32'],
      ['synr', sr, { perSlice: true }, null, 'synr-in.f32'], // negative slope: the value order flips
    ];
    const ms: Record<string, number> = {};
    for (const [name, vol, p] of cases) {
      const t0 = performance.now();
      const r = await clahe(vol, p);
      ms[name] = performance.now() - t0;
      expect(r.voxelType).toBe('float32');
      expect(r.direction).toEqual(vol.direction);
      save(`${name}.f32`, r.data as Float32Array);
    }
    const r = python(
      `from skimage import exposure
res = {}
for name, src, dims, p, ks in A['cases']:
    f = np.fromfile(A['dir'] + '/' + src, dtype=np.float32).reshape(dims[::-1]).astype(np.float64)
    x = exposure.rescale_intensity(f, out_range=(0, 1))
    kw = dict(clip_limit=p.get('clipLimit', 0.01), nbins=p.get('nbins', 256))
    if p.get('perSlice'):
        ref = np.stack([exposure.equalize_adapthist(x[k], kernel_size=ks, **kw) for k in range(x.shape[0])])
    else:
        ref = exposure.equalize_adapthist(x, kernel_size=ks, **kw)
    mine = np.fromfile(A['dir'] + '/' + name + '.f32', dtype=np.float32).reshape(ref.shape)
    out[name] = float(np.max(np.abs(mine - ref)))
    out[name + 'Changed'] = float(np.mean(np.abs(ref - x)))`,
      { cases: cases.map(([name, vol, p, ks, src]) => [name, src, vol.dims, p, ks]) },
    );
    console.log(`CLAHE vs skimage (max |Δ|): ${cases.map(([n]) => `${n} ${(r[n] as number).toExponential(1)}`).join(', ')}; CT 512×512×3 3D ${ms.ct3d.toFixed(0)} ms, per slice ${ms.ctslice.toFixed(0)} ms (one thread)`);
    for (const [name] of cases) {
      // Every integer step is skimage's, so the only difference is our float32 output against
      // its float64: rounding of values in [0, 1], ≤ 2^-25 ≈ 3e-8.
      expect(r[name], name).toBeLessThan(1e-7);
      expect(r[`${name}Changed`], name).toBeGreaterThan(0.01); // a real change of the image
    }
  });

  it('CLAHE on a synthetic image: raises local contrast, honours the clip limit, reports progress, cancels', async () => {
    // Two halves of different brightness, each with a faint stripe pattern of amplitude 4 (of 1000).
    const dims: Vec3 = [64, 48, 1];
    const d = new Float32Array(64 * 48);
    for (let j = 0; j < 48; j++) for (let i = 0; i < 64; i++) d[j * 64 + i] = (i < 32 ? 100 : 900) + (j % 4 < 2 ? 4 : 0);
    const vol: Volume = { dims, spacing: [1, 1, 1], origin: [0, 0, 0], direction: obliqueDirection(), data: d, voxelType: 'float32', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
    const stripe = (v: Volume, i: number) => {
      const o = v.data as Float32Array;
      return Math.abs(o[20 * 64 + i] - o[22 * 64 + i]); // stripe on vs off, same column
    };
    const ahe = await clahe(vol, { kernelSize: 16, clipLimit: 0 });
    const limited = await clahe(vol, { kernelSize: 16, clipLimit: 0.02 });
    // Input stripe: 4/1000 of the range. Without clipping each tile spreads its two grey levels to the ends.
    expect(stripe(ahe, 8)).toBeGreaterThan(0.3);
    expect(stripe(ahe, 56)).toBeGreaterThan(0.3);
    expect(stripe(limited, 8)).toBeGreaterThan(0.004);
    expect(stripe(limited, 8)).toBeLessThan(stripe(ahe, 8)); // the clip limit caps the gain
    const progress: number[] = [];
    await clahe(vol, {}, { onProgress: (f) => progress.push(f) });
    expect(progress[0]).toBe(0);
    expect(progress[progress.length - 1]).toBe(1);
    expect(progress.every((f, t) => t === 0 || f >= progress[t - 1])).toBe(true);
    const ac = new AbortController();
    await expect(clahe(synthetic(), {}, { signal: ac.signal, onProgress: (f) => f > 0.05 && ac.abort() })).rejects.toBeInstanceOf(OperationCancelledError);
    await expect(clahe(vol, { nbins: 1 })).rejects.toThrow(/nbins/);
  });

  it('Chan–Vese on a CT slice equals skimage chan_vese; 3D segments an anisotropic blob', async () => {
    const { volume: ct } = await readNiftiFile(CT);
    // A 96×80 part of slice 1 (body edge and air), as its own 2D volume.
    const [x0, y0, w, h] = [150, 40, 96, 80];
    const f = realValues(ct);
    const part = new Float32Array(w * h);
    for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) part[j * w + i] = f[(1 * 512 + y0 + j) * 512 + x0 + i];
    const vol: Volume = { ...ct, dims: [w, h, 1], data: part, voxelType: 'float32', rescaleSlope: 1, rescaleIntercept: 0 };
    const res = chanVese(vol, { maxIterations: 60 });
    save('cvimg.f32', part);
    save('cv.u8', res.mask.data as Uint8Array);
    const r = python(
      `from skimage.segmentation import chan_vese
img = load('cvimg.f32')[0]
seg, phi, en = chan_vese(img, max_num_iter=60, extended_output=True)
mine = load('cv.u8', 'uint8')[0].astype(bool)
out['differ'] = int(np.sum(seg != mine)); out['inside'] = int(seg.sum()); out['iters'] = len(en)`,
      { dims: [w, h, 1] },
    );
    expect(r.differ).toBe(0);
    expect(r.inside).toBeGreaterThan(100);
    expect(res.iterations).toBe(r.iters);
    // 3D: a noisy ellipsoid on an anisotropic oblique grid is found (Dice with the truth).
    const s = synthetic();
    const truth = new Uint8Array(s.data.length);
    const img = new Float32Array(s.data.length);
    let seed = 3;
    for (let k = 0, q = 0; k < s.dims[2]; k++)
      for (let j = 0; j < s.dims[1]; j++)
        for (let i = 0; i < s.dims[0]; i++, q++) {
          truth[q] = (i * 0.7 - 14) ** 2 / 64 + (j * 1.3 - 24) ** 2 / 144 + (k * 2.9 - 32) ** 2 / 400 < 1 ? 1 : 0;
          img[q] = truth[q] * 100 + (((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 61) - 30);
        }
    const cv3 = chanVese({ ...s, data: img, voxelType: 'float32' }, { maxIterations: 150, tol: 0 });
    const cmp = await compareMasks(cv3.mask, { ...s, data: truth, voxelType: 'uint8' });
    expect(cv3.iterations).toBe(150);
    expect(cmp.dice!).toBeGreaterThan(0.9);
  });
});
