/**
 * `lattice rtstruct`: the real GE CT's structure sets written as masks or as one label image
 * (with sidecar and ITK-SNAP label file); voxels equal the in-process rasterisation (which the
 * RTSTRUCT tests check against a ray-casting reference); bad inputs get clear messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureNodeBuild } from './node-build';
import { readNiftiFile } from '../src-main/nifti/nifti-file';
import { loadDicomSeries, scanDicom } from '../src-main/dicom/index';
import { readRtStruct, rasterizeRoi } from '../src-main/dicom/rtstruct';
import { parseItkSnapLabels } from '../src-shared/segmentation/label-table';
import { indexToWorld, worldToIndexMatrix } from '../src-shared/geometry/geometry';

const cli = resolve(__dirname, '../out/node/lattice.js');
const DATA = resolve(__dirname, '../../shared/data/dicom/ct_ge_with_rtstruct_mixed');
let dir: string;
beforeAll(async () => {
  await ensureNodeBuild();
  dir = mkdtempSync(join(tmpdir(), 'lattice-rtcli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8' });

describe('lattice rtstruct', () => {
  it('writes one label image with labels named and coloured as in the file', async () => {
    const rt = join(DATA, 'non_existent_reference_rt.dcm');
    const r = run('rtstruct', rt, '--image', DATA, '-o', join(dir, 'merged'), '--merge', '--gz');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/label 4 {2}ROI-4 {2}\d+ voxels/);
    const files = readdirSync(join(dir, 'merged')).sort();
    expect(files).toEqual(['non_existent_reference_rt-labels.txt', 'non_existent_reference_rt.labels.json', 'non_existent_reference_rt.nii.gz']);
    const labels = parseItkSnapLabels(readFileSync(join(dir, 'merged/non_existent_reference_rt-labels.txt'), 'utf8'));
    expect(labels.map((l) => [l.value, l.name, l.color])).toEqual([
      [1, 'ROI-1', [255, 0, 255]],
      [2, 'ROI-2', [0, 235, 235]],
      [3, 'ROI-3', [255, 255, 0]],
      [4, 'ROI-4', [255, 0, 0]],
    ]);
    const img = (await readNiftiFile(join(dir, 'merged/non_existent_reference_rt.nii.gz'))).volume;
    const scan = await scanDicom([DATA]);
    const ct = (await loadDicomSeries(scan, scan.series[0].id)).volume;
    expect(img.dims).toEqual(ct.dims);
    const s = readRtStruct(rt);
    // Each label's voxels are its ROI's rasterisation minus what later ROIs drew over.
    const masks = s.rois.map((roi) => rasterizeRoi(roi, ct).mask);
    // The NIfTI writer may store rows bottom-up (dcm2niix): compare through world coordinates.
    const m = worldToIndexMatrix(img);
    let diff = 0;
    let labelled = 0;
    for (let k = 0; k < ct.dims[2]; k++)
      for (let j = 0; j < ct.dims[1]; j++)
        for (let i = 0; i < ct.dims[0]; i++) {
          const o = i + ct.dims[0] * (j + ct.dims[1] * k);
          let want = 0;
          masks.forEach((mk, q) => {
            if (mk[o]) want = q + 1; // later ROIs drawn over earlier ones
          });
          const [x, y, z] = indexToWorld(ct, [i, j, k]);
          const a = Math.round(m[0] * x + m[1] * y + m[2] * z + m[3]);
          const b = Math.round(m[4] * x + m[5] * y + m[6] * z + m[7]);
          const c = Math.round(m[8] * x + m[9] * y + m[10] * z + m[11]);
          if (img.data[a + img.dims[0] * (b + img.dims[1] * c)] !== want) diff++;
          if (want) labelled++;
        }
    expect(diff).toBe(0);
    expect(labelled).toBeGreaterThan(10_000);
  });

  it('one mask per ROI; errors name the file', () => {
    const r = run('rtstruct', join(DATA, 'rt.dcm'), '--image', DATA, '-o', join(dir, 'masks'));
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(dir, 'masks'))).toEqual(['rt_01_ROI-1.nii']);
    expect(r.stdout).toMatch(/\(\d+ voxels\)/);
    const bad = run('rtstruct', join(DATA, 'ct_1.dcm'), '--image', DATA, '-o', join(dir, 'x'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/ct_1\.dcm: not an RT structure set/);
    const noRef = run('rtstruct', join(DATA, 'rt.dcm'), '--image', resolve(__dirname, '../../shared/data/dicom/ct_ge_lightspeed_3slice'), '-o', join(dir, 'y'));
    expect(noRef.status).toBe(2);
    expect(noRef.stderr).toMatch(/no series that .*rt\.dcm references/);
    expect(run('rtstruct', '--help').stdout).toMatch(/even-odd/);
  });
});
