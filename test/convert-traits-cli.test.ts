/**
 * The command line for the series traits of issue 11 (second half): `lattice info` names
 * mosaics, diffusion directions, uneven spacing and gantry tilt in a warning or note;
 * `lattice convert` writes .bval/.bvec, the _Eq_1 file, and with --tilt-correct the
 * _Tilt_1 / _Tilt_Eq_1 files (never without it). Runs the built CLI as a child process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureNodeBuild } from './node-build';

const ROOT = resolve(__dirname, '..');
const DATA = resolve(ROOT, '../shared/data/dicom');

function lattice(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/lattice.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let tmp: string;
beforeAll(async () => {
  await ensureNodeBuild();
  tmp = mkdtempSync(join(tmpdir(), 'lattice-traits-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lattice info names each trait', () => {
  it('mosaics (Siemens and UIH) and diffusion directions', () => {
    const r = lattice('info', join(DATA, 'uih_dti_ap_mosaic'), join(DATA, 'siemens_dwi_mosaic_hfp'), join(DATA, 'ge_dwi_tensor'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/64×64×20×17/);
    expect(r.out).toMatch(/note: UIH grid: each 320×256 image holds 20 slices of 64×64 \(5×4 tiles\)/);
    expect(r.out).toMatch(/note: Siemens mosaic: each \d+×\d+ image holds 25 slices of 128×128/);
    expect(r.out).toMatch(/note: diffusion-weighted: 17 volumes, b = 1\.25194, 928\.289 s\/mm², 16 gradient directions \(UIH/);
    expect(r.out).toMatch(/note: diffusion-weighted: 5 volumes, b = 0, 1000 s\/mm², 4 gradient directions \(Siemens CSA\)/);
    expect(r.out).toMatch(/note: diffusion-weighted: 7 volumes, b = 0, 1000 s\/mm², 6 gradient directions \(GE/);
  });

  it('uneven spacing and gantry tilt (warning and note)', () => {
    const r = lattice('info', join(DATA, 'ct_ge_uneven_spacing'), join(DATA, 'ct_ge_tilt_uneven_spacing'), join(DATA, 'ct_siemens_gantry_tilt'));
    expect(r.code).toBe(0);
    expect(r.out.match(/note: uneven slice spacing/g)?.length).toBe(2);
    expect(r.out.match(/note: gantry tilt/g)?.length).toBe(2);
    expect(r.out).toMatch(/warning: gantry tilt 18\.5°/);
    expect(r.out).toMatch(/_Tilt_Eq_1/);
    // The GE stack with 'ADD' on some slices is one series of 8 slices.
    expect(r.out).toMatch(/^2 series found|^3 series found/m);
    expect(r.out).toMatch(/512×512×8/);
  });
});

describe('lattice convert', () => {
  it('writes .bval and .bvec for diffusion series', () => {
    const o = join(tmp, 'dwi');
    const r = lattice('convert', join(DATA, 'uih_dti_ap_mosaic'), '-o', o);
    expect(r.code).toBe(0);
    expect(readdirSync(o).sort()).toEqual(['uih_dti_ap_mosaic_dti_tra_dir16_AP_134431_9.bval', 'uih_dti_ap_mosaic_dti_tra_dir16_AP_134431_9.bvec', 'uih_dti_ap_mosaic_dti_tra_dir16_AP_134431_9.json', 'uih_dti_ap_mosaic_dti_tra_dir16_AP_134431_9.nii']);
  });

  it('tilted + uneven: _Eq_1 by default, _Tilt_Eq_1 (and no _Eq_1) with --tilt-correct', () => {
    const a = join(tmp, 'plain');
    expect(lattice('convert', join(DATA, 'ct_ge_tilt_uneven_spacing'), '-o', a).code).toBe(0);
    expect(readdirSync(a).filter((f) => f.endsWith('.nii')).sort()).toEqual(['ct_ge_tilt_uneven_spacing_0_2.nii', 'ct_ge_tilt_uneven_spacing_0_2_Eq_1.nii']);
    const b = join(tmp, 'tilt');
    const r = lattice('convert', join(DATA, 'ct_ge_tilt_uneven_spacing'), join(DATA, 'ct_siemens_gantry_tilt'), '-o', b, '--tilt-correct', '--gz');
    expect(r.code).toBe(0);
    expect(readdirSync(b).filter((f) => f.includes('.nii')).sort()).toEqual([
      'ct_ge_tilt_uneven_spacing_0_2.nii.gz',
      'ct_ge_tilt_uneven_spacing_0_2_Tilt_Eq_1.nii.gz',
      'ct_siemens_gantry_tilt_20160725100040_4.nii.gz',
      'ct_siemens_gantry_tilt_20160725100040_4_Tilt_1.nii.gz',
    ]);
    expect(r.out).toMatch(/also written resampled \(_Tilt_1\): tilt-corrected \(14°/);
  });
});
