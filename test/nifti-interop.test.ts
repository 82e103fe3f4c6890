/**
 * NIfTI interoperability: files written by nibabel (committed fixtures) and by dcm2niix
 * (the reference conversions in ../shared/data), and our own files read by nibabel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Mat3, Volume } from '../src-shared/image/volume';
import { geometryToNiftiAffine } from '../src-shared/geometry/nifti-transform';
import { headerQform, headerSform } from '../src-shared/nifti/nifti1';
import { readNiftiFile, writeNiftiFile } from '../src-main/nifti/nifti-file';

const FIXTURES = resolve(__dirname, 'fixtures/nifti');
const DATA = resolve(__dirname, '../../shared/data');
const PYTHON = '/usr/bin/python3';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function voxelSha256(v: Volume): string {
  return createHash('sha256').update(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength)).digest('hex');
}

interface FixtureExpectation {
  shape: number[];
  dtype: string;
  byte_order: string;
  qform_code: number;
  sform_code: number;
  pixdim: number[];
  xyzt_units: number;
  intent_code: number;
  scl_slope: number;
  scl_inter: number;
  sform: number[][];
  qform: number[][];
  affine: number[][];
  stored: number[];
  /** For ITK-written files: the LPS geometry ITK was given. */
  lps?: { origin: number[]; spacing: number[]; direction: number[] };
}

const NP_TYPES: Record<string, string> = {
  uint8: 'uint8', int8: 'int8', int16: 'int16', '>i2': 'int16', uint16: 'uint16', int32: 'int32', uint32: 'uint32', float32: 'float32', float64: 'float64', '>f8': 'float64',
};

describe('nibabel- and ITK-written fixtures', () => {
  const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as { files: Record<string, FixtureExpectation> };
  for (const [name, e] of Object.entries(expected.files)) {
    it(`reads ${name}`, async () => {
      const { header, volume } = await readNiftiFile(join(FIXTURES, name));
      expect(header.littleEndian).toBe(e.byte_order === '<');
      expect(volume.voxelType).toBe(NP_TYPES[e.dtype]);
      expect(volume.dims).toEqual([e.shape[0], e.shape[1] ?? 1, e.shape[2] ?? 1]);
      expect(volume.frames).toBe(e.shape.slice(3).reduce((a, b) => a * b, 1));
      expect([header.qform_code, header.sform_code]).toEqual([e.qform_code, e.sform_code]);
      expect(maxAbsDiff(volume.data, e.stored)).toBe(0);
      expect(volume.rescaleSlope).toBeCloseTo(e.scl_slope, 6);
      expect(volume.rescaleIntercept).toBeCloseTo(e.scl_inter, 6);
      // The geometry reproduces the transform the standard says to use.
      expect(maxAbsDiff(geometryToNiftiAffine(volume), e.affine.flat())).toBeLessThan(1e-4);
      // Our qform and sform matrices agree with nibabel's reading of the same header.
      if (e.qform_code > 0) expect(maxAbsDiff(headerQform(header), e.qform.flat())).toBeLessThan(1e-5);
      if (e.sform_code > 0) expect(maxAbsDiff(headerSform(header), e.sform.flat())).toBeLessThan(1e-6);
      expect(header.intent_code).toBe(e.intent_code);
      if (e.lps) {
        expect(maxAbsDiff(volume.origin, e.lps.origin)).toBeLessThan(1e-5);
        expect(maxAbsDiff(volume.spacing, e.lps.spacing)).toBeLessThan(1e-6);
        expect(maxAbsDiff(volume.direction, e.lps.direction)).toBeLessThan(1e-6);
      }
    });
  }

  it('includes the ITK-written files', () => {
    expect(Object.values(expected.files).filter((e) => e.lps).length).toBeGreaterThanOrEqual(2);
  });

  it('sform wins over a different qform', async () => {
    const { volume } = await readNiftiFile(join(FIXTURES, 'sform_qform_differ_uint8.nii'));
    expect(volume.metadata.niftiGeometrySource).toBe('sform');
    expect(volume.spacing.map((s) => +s.toFixed(5))).toEqual([1, 2, 3]);
  });

  it('reads the 4D time step in ms as seconds and the 5D vector field components', async () => {
    expect((await readNiftiFile(join(FIXTURES, 'uint16_4d.nii.gz'))).volume.frameSpacing).toBeCloseTo(2.5, 9);
    const v5 = (await readNiftiFile(join(FIXTURES, 'vector_5d.nii.gz'))).volume;
    expect(v5.frames).toBe(3);
    expect(v5.metadata.vectorComponents).toBe(3);
    expect(v5.metadata.niftiIntentCode).toBe(1007);
  });

  it('reads a qfac -1 qform-only file as a left-handed geometry', async () => {
    const { volume } = await readNiftiFile(join(FIXTURES, 'qform_only_qfac_neg.nii'));
    const d = volume.direction;
    const det = d[0] * (d[4] * d[8] - d[5] * d[7]) - d[1] * (d[3] * d[8] - d[5] * d[6]) + d[2] * (d[3] * d[7] - d[4] * d[6]);
    // LPS↔RAS flips two axes, so the handedness of the index frame is preserved: det(RAS) = -1 → det(LPS) = -1.
    expect(det).toBeCloseTo(-1, 5);
  });
});

interface ManifestOutput {
  file: string;
  dims: number[];
  datatype: string;
  datatype_code: number;
  pixdim: number[];
  sform_code: number;
  qform_code: number;
  sform: number[][];
  qform: number[][];
  stats: { min: number; max: number; mean: number; nonzero: number };
  voxel_bytes_sha256: string;
}

const manifestPath = join(DATA, 'dicom/MANIFEST.json');
const haveData = existsSync(manifestPath);

describe.skipIf(!haveData)('dcm2niix reference files (../shared/data/reference)', () => {
  const manifest = haveData ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as { items: { name: string; reference: { outputs: ManifestOutput[] } }[] }) : { items: [] };
  const outputs = manifest.items.flatMap((item) => item.reference.outputs.map((o) => ({ item: item.name, ...o })));

  it('has reference files to test', () => {
    expect(outputs.length).toBeGreaterThan(20);
  });

  for (const o of outputs) {
    it(`reads ${o.file}`, async () => {
      const path = join(DATA, 'reference', o.item, o.file);
      const { header, volume } = await readNiftiFile(path);
      expect([...volume.dims, ...(volume.frames > 1 ? [volume.frames] : [])]).toEqual(o.dims);
      // RGB24 (dcm2niix's colour output; nibabel names it [('R','u1'),('G','u1'),('B','u1')]):
      // three interleaved uint8 samples per voxel.
      if (o.datatype_code === 128) {
        expect(volume.voxelType).toBe('uint8');
        expect(volume.components).toBe(3);
      } else expect(volume.voxelType).toBe(o.datatype);
      expect([header.qform_code, header.sform_code]).toEqual([o.qform_code, o.sform_code]);
      // The manifest's voxel_bytes_sha256 was computed from byte 0 of the file, not from
      // vox_offset (its generator took nibabel's in-memory vox_offset, which is 0): it is
      // the SHA-256 of the first voxel_bytes bytes, header included. Check the file is
      // the one described, then that our voxels are exactly the bytes at vox_offset 352.
      const file = readFileSync(path);
      expect(createHash('sha256').update(file.subarray(0, volume.data.byteLength)).digest('hex')).toBe(o.voxel_bytes_sha256);
      expect(header.vox_offset).toBe(352);
      expect(voxelSha256(volume)).toBe(createHash('sha256').update(file.subarray(352)).digest('hex'));
      const scale = Math.max(...o.pixdim, 1);
      if (o.sform_code === 0 && o.qform_code === 0) {
        // No orientation in the file (dcm2niix's RGB copy of a derived map): the srow it
        // left there is not to be used (NIfTI method 1), so geometry is pixdim only.
        expect(volume.metadata.niftiGeometrySource).toBe('pixdim');
        expect(maxAbsDiff(volume.spacing, o.pixdim)).toBeLessThan(1e-6);
      } else expect(maxAbsDiff(geometryToNiftiAffine(volume), o.sform.flat())).toBeLessThan(1e-4 * scale);
      // The manifest's qform is nibabel's reading, which derives a = sqrt(1 - b² - c² - d²)
      // even where nifti1_io.c (which we follow, like ITK and dcm2niix) sets a = 0
      // (a² < 1e-7, near-180° rotations such as tilted axial CT): they may differ by
      // up to ~2·sqrt(1e-7) of the voxel size.
      expect(maxAbsDiff(headerQform(header), o.qform.flat())).toBeLessThan(1e-3 * scale);
      // Rescaled min/max match the manifest statistics (checks scl_slope / scl_inter).
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < volume.data.length; i++) {
        const v = volume.data[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const real = [lo, hi].map((v) => v * volume.rescaleSlope + volume.rescaleIntercept).sort((a, b) => a - b);
      const tol = 1e-4 * Math.max(1, Math.abs(o.stats.max), Math.abs(o.stats.min));
      expect(Math.abs(real[0] - o.stats.min)).toBeLessThan(tol);
      expect(Math.abs(real[1] - o.stats.max)).toBeLessThan(tol);
      // Mean and non-zero count, computed by the manifest's generator (nibabel) independently.
      let sum = 0, nonzero = 0;
      for (let i = 0; i < volume.data.length; i++) {
        const v = volume.data[i] * volume.rescaleSlope + volume.rescaleIntercept;
        sum += v;
        if (v !== 0) nonzero++;
      }
      expect(Math.abs(sum / volume.data.length - o.stats.mean)).toBeLessThan(tol);
      expect(nonzero).toBe(o.stats.nonzero);
    });
  }
});

const HAVE_PLASTIMATCH = spawnSync('plastimatch', ['--version'], { stdio: 'ignore' }).status === 0;
if (!HAVE_PLASTIMATCH) console.warn('nifti-interop: plastimatch (ITK) not installed: skipping the ITK read-back test');
const HAVE_DCM2NIIX = spawnSync('dcm2niix', ['-v'], { stdio: 'ignore' }).error === undefined;

describe.skipIf(!haveData || !HAVE_DCM2NIIX)('.nii.gz written by dcm2niix (pigz and internal miniz)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lattice-nifti-d2n-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const mode of ['y', 'i']) {
    it(`reads dcm2niix -z ${mode} output identically to the reference .nii`, async () => {
      const item = 'hitachi_t1_sag_oblique';
      const out = join(dir, mode);
      execFileSync('mkdir', ['-p', out]);
      execFileSync('dcm2niix', ['-z', mode, '-b', 'n', '-o', out, join(DATA, 'dicom', item)], { stdio: 'ignore' });
      const gz = readdirSync(out).filter((f) => f.endsWith('.nii.gz'));
      expect(gz.length).toBe(1);
      const refName = readdirSync(join(DATA, 'reference', item)).find((f) => f.endsWith('.nii'))!;
      const ref = await readNiftiFile(join(DATA, 'reference', item, refName));
      const got = await readNiftiFile(join(out, gz[0]));
      expect(voxelSha256(got.volume)).toBe(voxelSha256(ref.volume));
      expect(maxAbsDiff(geometryToNiftiAffine(got.volume), geometryToNiftiAffine(ref.volume))).toBeLessThan(1e-6);
      expect(got.volume.dims).toEqual(ref.volume.dims);
    });
  }
});

const haveNibabel = spawnSync(PYTHON, ['-c', 'import nibabel'], { stdio: 'ignore' }).status === 0;
if (!haveNibabel) console.warn(`nifti-interop: ${PYTHON} has no nibabel (apt install python3-nibabel): skipping the nibabel read-back tests`);

describe('our files read by other tools', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lattice-nifti-interop-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const rot = (a: number, b: number): Mat3 => {
    const [ca, sa, cb, sb] = [Math.cos(a), Math.sin(a), Math.cos(b), Math.sin(b)];
    // Rx(a)·Rz(b)
    return [cb, -sb, 0, ca * sb, ca * cb, -sa, sa * sb, sa * cb, ca];
  };
  function volume(type: 'int16' | 'float32' | 'uint8', dims: [number, number, number], frames: number, direction: Mat3, extra: Partial<Volume> = {}): Volume {
    const n = dims[0] * dims[1] * dims[2] * frames;
    const data = type === 'int16' ? new Int16Array(n) : type === 'uint8' ? new Uint8Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = type === 'float32' ? Math.sin(i) * 100 : ((i * 37) % 4000) - (type === 'int16' ? 1000 : 0);
    return { dims, spacing: [0.7, 1.3, 3.1], origin: [12.5, -30.25, 41], direction, data, voxelType: type, frames, rescaleSlope: 1, rescaleIntercept: 0, metadata: {}, ...extra };
  }
  const cases: [string, Volume, object][] = [
    ['oblique_scaled.nii.gz', volume('int16', [64, 48, 30], 1, rot(0.35, -0.6), { rescaleSlope: 0.5, rescaleIntercept: -1024 }), { gzipBlockBytes: 20_000 }],
    ['left_handed_4d.nii.gz', volume('int16', [16, 12, 5], 3, [1, 0, 0, 0, 1, 0, 0, 0, -1], { frameSpacing: 2 }), { gzipBlockBytes: 5_000, gzipLevel: 6 }],
    ['near180.nii', volume('uint8', [8, 8, 4], 1, rot(Math.PI, 0.01)), {}],
    ['vector.nii.gz', volume('float32', [10, 9, 8], 3, rot(0.1, 0.2)), { vectorComponents: 3 }],
    ['sheared.nii.gz', volume('int16', [8, 8, 4], 1, [1, 0, 0, 0, 1, Math.sin(0.25), 0, 0, Math.cos(0.25)]), {}],
  ];

  it.skipIf(!haveNibabel)('nibabel reads our .nii / .nii.gz identically (data, affine, codes, scaling)', async () => {
    for (const [name, vol, opts] of cases) await writeNiftiFile(join(dir, name), vol, opts);
    const script = `
import sys, json, hashlib, numpy as np, nibabel as nib
out = {}
for p in sys.argv[1:]:
    img = nib.load(p)
    h = img.header
    raw = np.asanyarray(img.dataobj.get_unscaled())
    out[p.split('/')[-1]] = {
        'shape': list(raw.shape), 'dtype': str(raw.dtype),
        'sha': hashlib.sha256(np.ascontiguousarray(raw.transpose()).tobytes()).hexdigest(),
        'affine': img.affine.tolist(), 'qform': h.get_qform().tolist(),
        'codes': [int(h['qform_code']), int(h['sform_code'])],
        'slope': float(img.dataobj.slope), 'inter': float(img.dataobj.inter),
        'zooms': [float(z) for z in h.get_zooms()], 'intent': int(h['intent_code']),
    }
print(json.dumps(out))
`;
    const res = JSON.parse(execFileSync(PYTHON, ['-c', script, ...cases.map(([n]) => join(dir, n))], { encoding: 'utf8' }));
    for (const [name, vol] of cases) {
      const r = res[name];
      const affine = geometryToNiftiAffine(vol);
      const shape = [...vol.dims, ...(name === 'vector.nii.gz' ? [1, 3] : vol.frames > 1 ? [vol.frames] : [])];
      expect(r.shape, name).toEqual(shape);
      expect(r.dtype, name).toBe(vol.voxelType);
      expect(r.sha, name).toBe(voxelSha256(vol));
      expect(maxAbsDiff(r.affine.flat(), affine), name).toBeLessThan(1e-4);
      expect([r.slope, r.inter], name).toEqual([vol.rescaleSlope, vol.rescaleIntercept]);
      if (name === 'sheared.nii.gz') expect(r.codes).toEqual([0, 1]);
      else {
        expect(r.codes, name).toEqual([1, 1]);
        // nibabel's own quaternion reading agrees with the sform we wrote
        // (within float32 precision of b, c, d; looser near 180° where the qform is ill-conditioned).
        expect(maxAbsDiff(r.qform.flat(), affine), name).toBeLessThan(name === 'near180.nii' ? 2e-3 * 3.1 : 1e-4);
      }
      if (name === 'vector.nii.gz') expect(r.intent).toBe(1007);
      if (name === 'left_handed_4d.nii.gz') expect(r.zooms[3]).toBe(2);
    }
  });

  it.skipIf(!HAVE_PLASTIMATCH)('ITK (plastimatch) reads our .nii.gz with the same LPS geometry and values', async () => {
    const itkCases: [string, Volume][] = [
      ['itk_oblique.nii.gz', volume('int16', [20, 16, 6], 1, rot(0.35, -0.6), { rescaleSlope: 0.5, rescaleIntercept: -1024 })],
      ['itk_feet_first.nii.gz', volume('int16', [12, 10, 5], 1, [-1, 0, 0, 0, 1, 0, 0, 0, -1])],
    ];
    for (const [name, vol] of itkCases) {
      const nii = join(dir, name);
      const mha = join(dir, name.replace('.nii.gz', '.mha'));
      await writeNiftiFile(nii, vol, { gzipBlockBytes: 1000 });
      execFileSync('plastimatch', ['convert', '--input', nii, '--output-img', mha, '--output-type', 'float'], { stdio: 'ignore' });
      const bytes = readFileSync(mha);
      const headerEnd = bytes.indexOf('ElementDataFile = LOCAL\n') + 'ElementDataFile = LOCAL\n'.length;
      const fields = Object.fromEntries(
        bytes.subarray(0, headerEnd).toString('latin1').split('\n').filter((l) => l.includes(' = ')).map((l) => {
          const [k, v] = l.split(' = ');
          return [k.trim(), v.trim()];
        }),
      );
      const nums = (k: string) => fields[k].split(/\s+/).map(Number);
      expect(nums('DimSize'), name).toEqual(vol.dims);
      expect(maxAbsDiff(nums('Offset'), vol.origin), name).toBeLessThan(1e-4);
      expect(maxAbsDiff(nums('ElementSpacing'), vol.spacing), name).toBeLessThan(1e-5);
      // MetaIO lists the direction matrix column by column.
      const tm = nums('TransformMatrix');
      const direction = [0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => tm[c * 3 + r]));
      expect(maxAbsDiff(direction, vol.direction), name).toBeLessThan(1e-5);
      const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset + headerEnd, bytes.byteOffset + bytes.byteLength));
      expect(values.length).toBe(vol.data.length);
      let worst = 0;
      for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - (vol.data[i] * vol.rescaleSlope + vol.rescaleIntercept)));
      expect(worst, name).toBe(0);
    }
  });

  it.skipIf(!existsSync('/usr/bin/gzip') && !existsSync('/bin/gzip'))('gzip -t and Python gzip accept our .nii.gz', async () => {
    const p = join(dir, 'gz-check.nii.gz');
    const vol = volume('int16', [40, 40, 20], 1, rot(0.2, 0.3));
    await writeNiftiFile(p, vol, { gzipBlockBytes: 8_192 });
    execFileSync('gzip', ['-t', p]);
    const n = execFileSync('gzip', ['-dc', p]).byteLength;
    expect(n).toBe(352 + vol.data.byteLength);
    if (existsSync(PYTHON)) {
      const len = execFileSync(PYTHON, ['-c', 'import gzip,sys; print(len(gzip.open(sys.argv[1]).read()))', p], { encoding: 'utf8' });
      expect(Number(len)).toBe(352 + vol.data.byteLength);
    }
  });
});
