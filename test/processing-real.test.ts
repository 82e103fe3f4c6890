/**
 * Processing on real scanner data (/work/shared/data/reference, dcm2niix output), checked
 * against independent implementations: nibabel's slicer for crop geometry (axial CT and an
 * oblique sagittal MR) and scipy.ndimage for thresholds, ball dilation, hole filling and
 * the largest component. Skipped when Debian's python3 with nibabel/scipy is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNiftiFile, writeNiftiFile } from '../src-main/nifti/nifti-file';
import { cropVolume, fillHoles, largestComponent, morphology, threshold } from '../src-shared/processing';

const data = resolve(__dirname, '../../shared/data/reference');
const CT = join(data, 'ct_ge_with_rtstruct_mixed/ct_ge_with_rtstruct_mixed_10.2_Daily_CT_QA_20201112085023_3.nii');
const MR = join(data, 'hitachi_t1_sag_oblique/hitachi_t1_sag_oblique_dicom2nifti_20171205091502_10.nii');
const PY = '/usr/bin/python3';
const havePython = existsSync(PY) && spawnSync(PY, ['-c', 'import nibabel, scipy'], { encoding: 'utf8' }).status === 0;
const haveData = existsSync(CT) && existsSync(MR);
const dir = mkdtempSync(join(tmpdir(), 'lattice-proc-real-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function python(script: string, ...args: string[]): string {
  const r = spawnSync(PY, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

describe.skipIf(!havePython || !haveData)('processing on real data vs nibabel / scipy', () => {
  it('crops axial CT and oblique MR exactly like nibabel slicing (affine and voxels)', async () => {
    for (const [file, box] of [
      [CT, { start: [103, 160, 0], end: [381, 340, 2] }],
      [MR, { start: [5, 17, 1], end: [60, 41, 3] }],
    ] as const) {
      const { volume } = await readNiftiFile(file);
      const out = join(dir, 'crop.nii');
      await writeNiftiFile(out, cropVolume(volume, { start: [...box.start], end: [...box.end] }));
      const verdict = python(
        `import sys, nibabel as nib, numpy as np
src = nib.load(sys.argv[1]); c = nib.load(sys.argv[2])
s = [int(x) for x in sys.argv[3:]]
ref = src.slicer[s[0]:s[3], s[1]:s[4], s[2]:s[5]]
print(np.abs(c.affine - ref.affine).max(), np.array_equal(np.asanyarray(c.dataobj), np.asanyarray(ref.dataobj)))`,
        file, out, ...box.start.map(String), ...box.end.map(String),
      );
      const [maxDiff, same] = verdict.split(' ');
      expect(Number(maxDiff)).toBeLessThan(1e-4); // float32 sform in the file
      expect(same).toBe('True');
    }
  });

  it('thresholds, dilates (ball r=3), fills holes and keeps the largest component like scipy', async () => {
    const { volume } = await readNiftiFile(CT);
    const body = threshold(volume, { lower: -300, lowerInclusive: false });
    const dil = morphology(body, 'dilate', { shape: 'ball', radius: 3 });
    const filled = fillHoles(body).mask;
    const lcc = largestComponent(body, { connectivity: 26 }).mask;
    for (const [name, v] of [['body', body], ['dil', dil], ['filled', filled], ['lcc', lcc]] as const) await writeNiftiFile(join(dir, `${name}.nii`), v);
    const verdict = python(
      `import sys, os, nibabel as nib, numpy as np
from scipy import ndimage as ndi
d = sys.argv[2]
ct = nib.load(sys.argv[1]).get_fdata()
load = lambda n: np.asanyarray(nib.load(os.path.join(d, n + '.nii')).dataobj).astype(bool)
body = ct > -300
z, y, x = np.mgrid[-3:4, -3:4, -3:4]
ball = x * x + y * y + z * z <= 9
lab, n = ndi.label(body, structure=np.ones((3, 3, 3)))
sizes = np.bincount(lab.ravel()); sizes[0] = 0
print(np.array_equal(load('body'), body), np.array_equal(load('dil'), ndi.binary_dilation(body, ball)),
      np.array_equal(load('filled'), ndi.binary_fill_holes(body)), np.array_equal(load('lcc'), lab == sizes.argmax()))`,
      CT, dir,
    );
    expect(verdict).toBe('True True True True');
  });
});
