/**
 * RT structure sets: the scanner lists them; a structure set that references the loaded CT
 * (real GE CT + rt-utils RTSTRUCT from ../shared/data, and synthetic fixtures with known
 * shapes and a hole) rasterises exactly on the CT grid — checked voxel by voxel against a
 * point-in-polygon reference written here (world → index by hand, ray casting).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDicomSeries, scanDicom } from '../src-main/dicom/index';
import { readRtStruct } from '../src-main/dicom/rtstruct';
import { runRtStruct, runReadLabels, runSave } from '../src-main/segmentation/jobs';
import { readNiftiFile } from '../src-main/nifti/nifti-file';
import type { Volume } from '../src-shared/image/volume';
import { defaultLabel } from '../src-shared/segmentation/label-table';
import { circle, rect, writeRtStruct, rasterizeReference as reference } from './rtstruct-writer';

const DATA = resolve(__dirname, '../../shared/data/dicom/ct_ge_with_rtstruct_mixed');
const ctx = { onProgress: () => undefined, signal: { aborted: false } };

/** Voxels where two masks differ (cheaper than toEqual on half a million elements). */
function differing(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

let ct: Volume;
let dir: string;
beforeAll(async () => {
  const scan = await scanDicom([DATA]);
  const s = scan.series.find((x) => x.modality === 'CT')!;
  ct = (await loadDicomSeries(scan, s.id)).volume;
  dir = mkdtempSync(join(tmpdir(), 'lattice-rt-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('RT structure sets', () => {
  it('the scanner lists the three structure sets with their ROIs', async () => {
    const scan = await scanDicom([DATA]);
    expect(scan.structureSets?.map((s) => s.file.split('/').pop()).sort()).toEqual(['invalid_reference_rt.dcm', 'non_existent_reference_rt.dcm', 'rt.dcm']);
    const rt = scan.structureSets!.find((s) => s.file.endsWith('/rt.dcm'))!;
    expect(rt.rois).toEqual([{ number: 1, name: 'ROI-1', color: [162, 136, 95], contours: 2 }]);
    expect(rt.referencedSeriesUids).toContain(ct.metadata.SeriesInstanceUID);
  });

  it('rasterises the real rt-utils structure exactly on the CT grid', () => {
    const out = runRtStruct({ file: join(DATA, 'rt.dcm') }, [ct], ctx);
    expect(out.volumes).toHaveLength(1);
    const roi = readRtStruct(join(DATA, 'rt.dcm')).rois[0];
    const want = reference(ct, roi.contours);
    const got = out.volumes[0].data as Uint8Array;
    let n = 0;
    let diff = 0;
    for (let i = 0; i < got.length; i++) {
      n += want[i];
      if (got[i] !== want[i]) diff++;
    }
    expect(diff).toBe(0);
    expect(n).toBeGreaterThan(100);
    expect((out.values.rois as { voxels: number }[])[0].voxels).toBe(n);
    expect(out.volumes[0].dims).toEqual(ct.dims);
  });

  it('the GE structure sets: matched by frame of reference; contours off the CT are skipped', () => {
    const out = runRtStruct({ file: join(DATA, 'non_existent_reference_rt.dcm') }, [ct], ctx);
    const rois = out.values.rois as { name: string; voxels: number; skipped: number; color: number[] }[];
    expect(rois.map((r) => r.name)).toEqual(['ROI-1', 'ROI-2', 'ROI-3', 'ROI-4']);
    expect(rois[0].color).toEqual([255, 0, 255]);
    const s = readRtStruct(join(DATA, 'non_existent_reference_rt.dcm'));
    s.rois.forEach((r, i) => {
      const want = reference(ct, r.contours);
      expect(differing(out.volumes[i].data, want)).toBe(0);
      expect(rois[i].skipped).toBeGreaterThan(0); // the z = 70 contours lie beyond the two slices
    });
  });

  it('synthetic structure set: known shapes, a hole, and a wrong reference is refused', () => {
    const z0 = ct.origin[2];
    const z1 = ct.origin[2] + ct.spacing[2];
    // Square 40 mm with a 16 mm square hole on slice 0; a 15 mm circle on slice 1.
    const outer = rect(-20.13, -20.07, 19.91, 19.97, z0);
    const hole = rect(-8.02, -7.96, 7.93, 8.04, z0);
    const disc = circle(30.1, -10.2, z1, 15);
    const bytes = writeRtStruct({
      seriesUid: String(ct.metadata.SeriesInstanceUID),
      frameOfReferenceUid: '2.25.1234',
      rois: [
        { number: 3, name: 'Ring', color: [10, 200, 30], contours: [outer, hole] },
        { number: 7, name: 'Disc', color: [200, 10, 30], contours: [disc] },
      ],
    });
    const file = join(dir, 'synthetic_rt.dcm');
    writeFileSync(file, bytes);
    const out = runRtStruct({ file }, [ct], ctx);
    const rois = out.values.rois as { name: string; voxels: number; color: number[] }[];
    expect(rois.map((r) => [r.name, r.color])).toEqual([['Ring', [10, 200, 30]], ['Disc', [200, 10, 30]]]);
    const px = ct.spacing[0] * ct.spacing[1];
    // Areas: 40×40 − 16×16 mm² and π·15² (polygon), within a voxel row of the perimeter.
    expect(Math.abs(rois[0].voxels * px - (40.04 * 40.04 - 15.95 * 16))).toBeLessThan(4 * 56 * ct.spacing[0]);
    expect(Math.abs(rois[1].voxels * px - Math.PI * 225)).toBeLessThan(2 * Math.PI * 15 * ct.spacing[0]);
    expect(differing(out.volumes[0].data, reference(ct, [outer, hole]))).toBe(0);
    expect(differing(out.volumes[1].data, reference(ct, [disc]))).toBe(0);
    // The hole's centre voxel is empty, the ring's is full.
    const at = (x: number, y: number, k: number) => {
      const i = Math.round((x - ct.origin[0]) / ct.spacing[0]);
      const j = Math.round((y - ct.origin[1]) / ct.spacing[1]);
      return (out.volumes[0].data as Uint8Array)[i + ct.dims[0] * (j + ct.dims[1] * k)];
    };
    expect(at(0, 0, 0)).toBe(0);
    expect(at(-14, 0, 0)).toBe(1);
    // Another patient's structure set is refused with a message naming the file.
    const other = join(dir, 'other_rt.dcm');
    writeFileSync(other, writeRtStruct({ seriesUid: '2.25.9', frameOfReferenceUid: '2.25.8', rois: [] }));
    expect(() => runRtStruct({ file: other }, [ct], ctx)).toThrow(/other_rt\.dcm.*references another image/);
    const bad = join(dir, 'bad_rt.dcm');
    copyFileSync(join(DATA, 'ct_1.dcm'), bad);
    expect(() => runRtStruct({ file: bad }, [ct], ctx)).toThrow(/bad_rt\.dcm: not an RT structure set/);
  });

  it('saves a label volume with its sidecar and ITK-SNAP label file, and reads them back', async () => {
    const labels = { ...ct, data: new Uint8Array(ct.dims[0] * ct.dims[1] * ct.dims[2]), voxelType: 'uint8' as const, rescaleSlope: 1, rescaleIntercept: 0 };
    labels.data[12345] = 2;
    const table = [defaultLabel(1), { ...defaultLabel(2), name: 'Lesion', opacity: 0.4 }];
    const path = join(dir, 'seg.nii.gz');
    const r = await runSave({ path, labels: table, itkSnapPath: join(dir, 'seg-labels.txt') }, [labels]);
    expect(r.values.files).toHaveLength(3);
    await expect(runSave({ path, labels: table }, [labels])).rejects.toThrow(/already exists/);
    const back = await readNiftiFile(path);
    expect(back.volume.data[12345]).toBe(2);
    expect((await runReadLabels({ path })).values.labels).toEqual(table.map(({ visible3D: _v, ...l }) => l));
    expect((await runReadLabels({ path: join(dir, 'seg-labels.txt') })).values.labels).toEqual(table);
    expect((await runReadLabels({ path: join(dir, 'none.nii.gz') })).values.labels).toBeNull();
    writeFileSync(join(dir, 'broken.txt'), 'hello world\n');
    await expect(runReadLabels({ path: join(dir, 'broken.txt') })).rejects.toThrow(/broken\.txt: line 1/);
  });
});
