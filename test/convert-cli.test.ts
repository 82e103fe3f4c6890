/**
 * `lattice info` and `lattice convert` run as child processes (the built CLI), checking
 * outputs, exit codes and the one-line messages for bad files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readNiftiFile } from '../src-main/nifti/nifti-file';
import { ensureNodeBuild } from './node-build';

const ROOT = resolve(__dirname, '..');
const DATA = resolve(ROOT, '../shared/data');

function lattice(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/lattice.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let tmp: string;
beforeAll(async () => {
  await ensureNodeBuild();
  tmp = mkdtempSync(join(tmpdir(), 'lattice-cli-'));
  mkdirSync(join(tmp, 'empty'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lattice info', () => {
  it('lists every series of a mixed folder with dims, spacing, orientation and modality', () => {
    const r = lattice('info', join(DATA, 'dicom/siemens_ts_mixed'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^9 series found/m);
    const lines = r.out.split('\n').filter((l) => l.startsWith('#'));
    expect(lines.length).toBe(9);
    expect(lines[0]).toMatch(/#1 {2}series 1 {2}MR {2}"ax_asc_35sl" {2}64×64×35 {2}spacing 3.25×3.25×3.6 mm {2}oblique {2}1 file {2}uid /);
  });

  it('shows 4D volumes, warnings and skipped objects', () => {
    const r = lattice('info', join(DATA, 'dicom/ge_epi_4d'), join(DATA, 'dicom/ct_siemens_gantry_tilt'), join(DATA, 'dicom/ct_ge_with_rtstruct_mixed'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/64×64×8×3/);
    expect(r.out).toMatch(/warning: gantry tilt 14°/);
    expect(r.err).toMatch(/note: RT Structure Set \(RTSTRUCT\) skipped/);
  });

  it('--json gives the scan as data', () => {
    const r = lattice('info', '--json', join(DATA, 'dicom/pet_acrin_flt_slice'));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.series[0]).toMatchObject({ modality: 'PT', dims: [168, 168, 1], frames: 1, seriesNumber: 102 });
  });

  it('exits 1 with a clear message when nothing is found', () => {
    const r = lattice('info', join(tmp, 'empty'));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(tmp, 'empty')}: folder holds no files`);
  });
});

describe('lattice convert', () => {
  it('writes .nii.gz with dcm2niix names and a JSON sidecar, equal to the reference voxels', async () => {
    const out = join(tmp, 'out-gz');
    const r = lattice('convert', join(DATA, 'dicom/ct_ge_lightspeed_3slice'), '-o', out, '--gz');
    expect(r.code, r.err).toBe(0);
    const base = 'ct_ge_lightspeed_3slice_6.9_Colonoscopy_20030417104607_2';
    expect(readdirSync(out).sort()).toEqual([`${base}.json`, `${base}.nii.gz`]);
    const ours = await readNiftiFile(join(out, `${base}.nii.gz`));
    const ref = await readNiftiFile(join(DATA, 'reference/ct_ge_lightspeed_3slice', `${base}.nii`));
    expect(ours.volume.dims).toEqual(ref.volume.dims);
    expect(Buffer.from(ours.volume.data.buffer, ours.volume.data.byteOffset, ours.volume.data.byteLength).equals(Buffer.from(ref.volume.data.buffer, ref.volume.data.byteOffset, ref.volume.data.byteLength))).toBe(true);
    expect(ours.header.scl_inter).toBe(-1024);
    for (let i = 0; i < 4; i++) for (const row of ['srow_x', 'srow_y', 'srow_z'] as const) expect(ours.header[row][i]).toBeCloseTo(ref.header[row][i], 4);
    const json = JSON.parse(readFileSync(join(out, `${base}.json`), 'utf8'));
    expect(json).toMatchObject({ Modality: 'CT', Manufacturer: 'GE MEDICAL SYSTEMS', SeriesNumber: 2, ConversionSoftware: 'lattice' });
    expect(json.PatientName).toBeUndefined();
  });

  it('--series picks one series by number; an unknown series is an impossible request (exit 2)', () => {
    const out = join(tmp, 'out-sel');
    const r = lattice('convert', join(DATA, 'dicom/siemens_12bit_signed_mixed'), '-o', out, '--series', '4');
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(out).filter((f) => f.endsWith('.nii'))).toEqual(['siemens_12bit_signed_mixed_FMRI_AX_ASC_20070203105620_4.nii']);
    const bad = lattice('convert', join(DATA, 'dicom/siemens_12bit_signed_mixed'), '-o', join(tmp, 'out-none'), '--series', '99');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/no series '99' in the input; available: 2 \(/);
  });

  it('keeps going past bad files, naming each one, and exits 0 when something converted', () => {
    const dir = join(tmp, 'bad');
    mkdirSync(dir);
    for (const f of readdirSync(join(DATA, 'dicom/ct_ge_with_rtstruct_mixed'))) copyFileSync(join(DATA, 'dicom/ct_ge_with_rtstruct_mixed', f), join(dir, f));
    writeFileSync(join(dir, 'random.dcm'), Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) % 256));
    const ct = readFileSync(join(DATA, 'dicom/ct_ge_lightspeed_3slice', readdirSync(join(DATA, 'dicom/ct_ge_lightspeed_3slice'))[0]));
    writeFileSync(join(dir, 'cut.dcm'), ct.subarray(0, 50_000));
    const r = lattice('convert', dir, '-o', join(tmp, 'out-bad'));
    expect(r.code).toBe(0);
    expect(r.err).toContain(`${join(dir, 'random.dcm')}: not a DICOM file`);
    expect(r.err).toMatch(new RegExp(`${join(dir, 'cut.dcm').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated file`));
    expect(r.out).toMatch(/converted 1 of 1 series/);
    expect(existsSync(join(tmp, 'out-bad', 'bad_10.2_Daily_CT_QA_20201112085023_3.nii'))).toBe(true);
  });

  it('exits 1 when nothing could be converted, 2 without -o', () => {
    const r = lattice('convert', join(tmp, 'empty'), '-o', join(tmp, 'out-empty'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/converted 0 of 0 series/);
    const r2 = lattice('convert', join(DATA, 'dicom/pet_acrin_flt_slice'));
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/give an output folder with -o/);
  });
});
