/**
 * Colour (RGB) DICOM → RGB24 NIfTI: the sample layouts DICOM allows (interleaved, planar,
 * YBR_FULL) become NIfTI's interleaved R,G,B; RGB24 files round-trip and read in nibabel;
 * the real colour series of ../shared/data convert (voxels equal to dcm2niix's are checked
 * in dicom-manifest.test.ts) with their traits named; unsupported colour variants are
 * named and skipped while the rest of a folder converts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { toInterleavedRgb } from '../src-main/dicom/assemble';
import { unsupportedColour } from '../src-main/dicom/read-header';
import type { ImageRecord } from '../src-main/dicom/types';
import { convertDicom } from '../src-main/dicom/convert';
import { loadDicomSeries } from '../src-main/dicom/index';
import { readNiftiFile, writeNiftiFile } from '../src-main/nifti/nifti-file';
import type { Volume } from '../src-shared/image/volume';

const DATA = resolve(__dirname, '../../shared/data');
const tmp = mkdtempSync(join(tmpdir(), 'lattice-rgb-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const asRec = (over: Partial<ImageRecord>) => ({ planarConfiguration: 0, photometric: 'RGB', encapsulated: false, ...over }) as ImageRecord;

describe('colour sample layouts', () => {
  it('planar RGB (PlanarConfiguration 1) becomes interleaved', () => {
    const planar = new Uint8Array([1, 2, 3, 10, 20, 30, 100, 200, 250]); // RRR GGG BBB for 3 pixels
    expect(Array.from(toInterleavedRgb(planar, asRec({ planarConfiguration: 1 }), 3))).toEqual([1, 10, 100, 2, 20, 200, 3, 30, 250]);
    const inter = new Uint8Array([1, 10, 100, 2, 20, 200]);
    expect(toInterleavedRgb(inter, asRec({}), 2)).toBe(inter); // already interleaved: no copy
  });

  it('YBR_FULL becomes RGB (PS3.3 C.7.6.3.1.2): grey stays grey, primaries round-trip', () => {
    // Y,Cb,Cr of pure red (255,0,0), green, blue and mid grey, by the forward equations.
    const fwd = (r: number, g: number, b: number) => [
      0.299 * r + 0.587 * g + 0.114 * b,
      -0.168736 * r - 0.331264 * g + 0.5 * b + 128,
      0.5 * r - 0.418688 * g - 0.081312 * b + 128,
    ].map((x) => Math.min(255, Math.max(0, Math.round(x))));
    const colours = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128], [12, 200, 90]];
    const ybr = new Uint8Array(colours.flatMap(([r, g, b]) => fwd(r, g, b)));
    const rgb = Array.from(toInterleavedRgb(ybr, asRec({ photometric: 'YBR_FULL' }), colours.length));
    colours.flat().forEach((v, i) => expect(Math.abs(rgb[i] - v), `sample ${i}`).toBeLessThanOrEqual(2));
    expect(rgb.slice(9, 12)).toEqual([128, 128, 128]);
  });

  it('names what it cannot convert', () => {
    expect(unsupportedColour(3, 16, 'RGB')).toMatch(/colour image \(3 samples per pixel, RGB, 16-bit\) skipped: only 8-bit RGB/);
    expect(unsupportedColour(4, 8, 'ARGB')).toMatch(/only greyscale and 3-sample RGB/);
    expect(unsupportedColour(1, 8, 'PALETTE COLOR')).toMatch(/palette-colour image/);
    expect(unsupportedColour(3, 8, 'HSV')).toMatch(/photometric interpretation not supported/);
    expect(unsupportedColour(3, 8, 'RGB')).toBeNull();
    expect(unsupportedColour(1, 16, 'MONOCHROME2')).toBeNull();
  });
});

describe('RGB24 NIfTI', () => {
  const vol: Volume = {
    dims: [5, 4, 3], spacing: [0.9, 1.1, 2.5], origin: [10, -20, 30], direction: [0.6, 0, 0.8, 0, 1, 0, -0.8, 0, 0.6],
    data: Uint8Array.from({ length: 5 * 4 * 3 * 3 }, (_, i) => (i * 37) % 256), voxelType: 'uint8', components: 3, frames: 1,
    rescaleSlope: 1, rescaleIntercept: 0, metadata: {},
  };
  it('round-trips (datatype 128, bitpix 24, same bytes and geometry)', async () => {
    const p = join(tmp, 'rgb.nii');
    await writeNiftiFile(p, vol);
    const { header, volume } = await readNiftiFile(p);
    expect([header.datatype, header.bitpix]).toEqual([128, 24]);
    expect(volume.components).toBe(3);
    expect(Array.from(volume.data)).toEqual(Array.from(vol.data));
    volume.origin.forEach((x, i) => expect(x).toBeCloseTo(vol.origin[i], 4));
    // Writing a 3-sample int16 volume is refused with the reason.
    await expect(writeNiftiFile(join(tmp, 'bad.nii'), { ...vol, voxelType: 'int16', data: new Int16Array(vol.data.length) })).rejects.toThrow(/only 8-bit RGB/);
  });

  const py = '/usr/bin/python3';
  const haveNibabel = spawnSync(py, ['-c', 'import nibabel'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!haveNibabel)('nibabel reads ours as RGB with the same samples', async () => {
    const p = join(tmp, 'rgb-nib.nii.gz');
    await writeNiftiFile(p, vol);
    const script = `import sys,json,numpy as np,nibabel as nib
img=nib.load(sys.argv[1]); a=np.asanyarray(img.dataobj)
print(json.dumps({'dtype':str(a.dtype),'shape':list(a.shape),'r':int(a[1,2,0]['R']),'g':int(a[1,2,0]['G']),'b':int(a[1,2,0]['B'])}))`;
    const r = JSON.parse(execFileSync(py, ['-c', script, p], { encoding: 'utf8' }));
    expect(r.shape).toEqual([5, 4, 3]);
    expect(r.dtype).toMatch(/R.*G.*B/);
    const v = (1 + 2 * 5) * 3;
    expect([r.r, r.g, r.b]).toEqual([vol.data[v], vol.data[v + 1], vol.data[v + 2]]);
  });
});

const haveData = existsSync(join(DATA, 'dicom/MANIFEST.json'));
describe.skipIf(!haveData)('real colour series', () => {
  it('enhanced colour FA map: RGB24 with full geometry; the viewer path keeps the colours', async () => {
    const out = join(tmp, 'colfa');
    const res = await convertDicom([join(DATA, 'dicom/siemens_xa30_enh_colfa_rgb')], out);
    expect(res.failures).toEqual([]);
    const { header, volume } = await readNiftiFile(res.converted[0].nifti);
    expect([header.datatype, header.sform_code, volume.components]).toEqual([128, 1, 3]);
    expect(res.converted[0].series.notes?.join(' ')).toMatch(/colour image \(RGB, RGB\): written as RGB24 NIfTI/);
    const view = (await loadDicomSeries(res.scan, res.converted[0].series.id)).volume;
    expect([view.components, view.voxelType, view.data.length]).toEqual([3, 'uint8', 72 * 72 * 39 * 3]);
  });

  it('grey map with its colour copy (one SeriesNumber): two outputs, _e1 and _e1a, colour one without orientation', async () => {
    const out = join(tmp, 'grayrgb');
    const res = await convertDicom([join(DATA, 'dicom/siemens_xa30i_relcbf_gray_rgb')], out);
    expect(res.failures).toEqual([]);
    const names = res.converted.map((c) => c.nifti.replace(/^.*_20001/, '')).sort();
    expect(names).toEqual(['_e1.nii', '_e1a.nii']);
    const vols = await Promise.all(res.converted.map(async (c) => (await readNiftiFile(c.nifti))));
    const rgb = vols.find((v) => v.volume.components === 3)!;
    const grey = vols.find((v) => v.volume.components === undefined)!;
    expect([rgb.header.sform_code, rgb.header.qform_code]).toEqual([0, 0]);
    expect([grey.header.sform_code, grey.header.datatype]).toEqual([1, 4]);
    const rgbConv = res.converted.find((c) => c.nifti === rgb.volume.metadata.sourceFile)!;
    expect(rgbConv.series.notes?.join(' ')).toMatch(/no ImageOrientationPatient\/ImagePositionPatient: written without orientation/);
    expect(rgbConv.warnings.join(' ')).toMatch(/SeriesNumber 20001 is shared with another series/);
  });

  it('a folder with a broken colour file: named, and the rest of the folder converts', async () => {
    const dir = join(tmp, 'mixed');
    mkdirSync(dir);
    const src = join(DATA, 'dicom/mr_rgb_sc_j2k');
    const files = readdirSync(src).sort();
    for (const f of files) copyFileSync(join(src, f), join(dir, f));
    for (const f of readdirSync(join(DATA, 'dicom/siemens_xa30_enh_colfa_rgb'))) copyFileSync(join(DATA, 'dicom/siemens_xa30_enh_colfa_rgb', f), join(dir, f));
    // One slice cut off inside its header.
    writeFileSync(join(dir, files[0]), readFileSync(join(src, files[0])).subarray(0, 400));
    const res = await convertDicom([dir], join(tmp, 'mixed-out'));
    expect(res.failures.map((f) => `${f.file}: ${f.problem}`).join('\n')).toContain(files[0]);
    // The colour FA map and the three good slices of the other series still convert.
    expect(res.converted.length).toBe(2);
    const dims = await Promise.all(res.converted.map(async (c) => (await readNiftiFile(c.nifti)).volume.dims.join('x')));
    expect(dims.sort()).toEqual(['52x77x3', '72x72x39']);
  });
});
