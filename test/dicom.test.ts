/**
 * DICOM unit tests (synthetic headers: sorting, spacing, splitting, tilt, bits, RLE,
 * reorientation) and bad-input tests built at test time from the real data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { splitIntoVolumes } from '../src-main/dicom/split';
import type { ImageRecord } from '../src-main/dicom/types';
import { fixStoredBits } from '../src-main/dicom/pixels';
import { decodeRle } from '../src-main/dicom/codecs/rle';
import { reorientToRas } from '../src-main/dicom/dcm2niix-compat';
import { loadDicomSeries, scanDicom } from '../src-main/dicom/index';
import { convertDicom } from '../src-main/dicom/convert';
import { indexToWorld } from '../src-shared/geometry/geometry';
import type { Vec3, Volume } from '../src-shared/image/volume';

const DATA = resolve(__dirname, '../../shared/data/dicom');

function rec(over: Partial<ImageRecord>): ImageRecord {
  return {
    file: 'f.dcm', transferSyntax: '1.2.840.10008.1.2.1', frame: 0, numberOfFrames: 1, pixelOffset: 0, pixelLength: 8, encapsulated: false,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: '1', seriesUid: '1.2.3', seriesNumber: 5, seriesDescription: 'test', protocolName: 'proto',
    sequenceName: '', modality: 'MR', manufacturer: 'ACME', imageType: ['ORIGINAL', 'PRIMARY'], frameType: [], rows: 2, columns: 2, bitsAllocated: 16,
    bitsStored: 16, highBit: 15, pixelRepresentation: 1, samplesPerPixel: 1, photometric: 'MONOCHROME2', planarConfiguration: 0,
    iop: [1, 0, 0, 0, 1, 0], ipp: [0, 0, 0], pixelSpacing: [0.5, 0.8], sliceThickness: 99, spacingBetweenSlices: null, rescaleSlope: 1, rescaleIntercept: 0,
    philipsScaleSlope: null, echoTime: 10, echoNumber: 1, acquisitionNumber: 1, instanceNumber: 1, temporalPosition: null, triggerTime: null,
    acquisitionTime: '', dimensionIndex: null, stackPosition: null, mosaicCount: 0, sliceNormal: null, mrAcquisitionType: '2D', gantryTilt: 0,
    repetitionTime: 2000, meta: {}, ...over,
  };
}

// An oblique plane: rotated 30° about x, so the normal is (0, -sin30, cos30).
const c30 = Math.cos(Math.PI / 6);
const s30 = Math.sin(Math.PI / 6);
const OBLIQUE_IOP = [1, 0, 0, 0, c30, s30];
const NORMAL: Vec3 = [0, -s30, c30];
const at = (o: Vec3, d: number): Vec3 => [o[0] + NORMAL[0] * d, o[1] + NORMAL[1] * d, o[2] + NORMAL[2] * d];

describe('slice sorting, spacing and splitting (synthetic headers)', () => {
  it('sorts slices along the normal by position and takes spacing from positions, not SliceThickness', () => {
    const o: Vec3 = [10, -20, 30];
    const order = [3, 0, 4, 1, 2];
    const records = order.map((k) => rec({ iop: OBLIQUE_IOP, ipp: at(o, 2.5 * k), instanceNumber: 10 - k, file: `s${k}.dcm` }));
    const [g] = splitIntoVolumes(records);
    expect(g.dims).toEqual([2, 2, 5]);
    expect(g.slices[0].map((s) => s.record.file)).toEqual(['s0.dcm', 's1.dcm', 's2.dcm', 's3.dcm', 's4.dcm']);
    expect(g.spacing[2]).toBeCloseTo(2.5, 9);
    expect(g.spacing.slice(0, 2)).toEqual([0.8, 0.5]); // [columns (x), rows (y)]
    expect(g.origin).toEqual(o);
    expect([g.direction[2], g.direction[5], g.direction[8]].map((x, i) => x - NORMAL[i]).every((d) => Math.abs(d) < 1e-12)).toBe(true);
    expect(g.warnings).toEqual([]);
  });

  it('makes a 4D series from images sharing positions, volumes in time order', () => {
    const records: ImageRecord[] = [];
    let inst = 1;
    for (let t = 0; t < 3; t++) for (let k = 0; k < 4; k++) records.push(rec({ ipp: [0, 0, 3 * k], instanceNumber: inst++, file: `t${t}k${k}` }));
    const [g] = splitIntoVolumes(records.reverse());
    expect(g.dims).toEqual([2, 2, 4]);
    expect(g.frames).toBe(3);
    expect(g.slices[2][1].record.file).toBe('t2k1');
    expect(g.slices[0][3].record.file).toBe('t0k3');
  });

  it('warns about a missing slice and names the gap', () => {
    const records = [0, 1, 2, 4, 5].map((k) => rec({ ipp: [0, 0, 5 * k], instanceNumber: k + 1 }));
    const [g] = splitIntoVolumes(records);
    const w = g.warnings.join('\n');
    expect(w).toMatch(/missing slice/);
    expect(w).toMatch(/1 missing slice between slice 3 and 4 \(positions 10 and 20 mm along the normal: gap 10 mm, expected 5 mm\)/);
  });

  it('warns about uneven spacing', () => {
    const records = [0, 2, 4.6, 6].map((z, i) => rec({ ipp: [0, 0, z], instanceNumber: i }));
    const [g] = splitIntoVolumes(records);
    expect(g.warnings.join('\n')).toMatch(/uneven slice spacing: gaps from 1.4 to 2.6 mm/);
  });

  it('splits a series by echo (dcm2niix _e1/_e2), orientation and series number', () => {
    const records = [
      ...[0, 1, 2].map((k) => rec({ ipp: [0, 0, k], echoNumber: 1, echoTime: 5 })),
      ...[0, 1, 2].map((k) => rec({ ipp: [0, 0, k], echoNumber: 2, echoTime: 10 })),
      ...[0, 1].map((k) => rec({ ipp: [k, 0, 0], iop: [0, 1, 0, 0, 0, -1], echoNumber: 1, echoTime: 5, instanceNumber: 7 + k })),
      ...[0, 1].map((k) => rec({ ipp: [0, 0, k], seriesNumber: 6 })),
    ];
    const groups = splitIntoVolumes(records);
    expect(groups.length).toBe(4);
    const s5 = groups.filter((g) => g.records[0].seriesNumber === 5);
    expect(s5.map((g) => g.suffix).sort()).toEqual(['_e1_i00001', '_e1_i00007', '_e2'].sort());
    expect(groups.find((g) => g.records[0].seriesNumber === 6)!.suffix).toBe('');
  });

  it('keeps a gantry-tilted stack exact (sheared slice axis) and warns', () => {
    // Axial-ish tilted plane, slices stepped straight along z by 5 mm (as CT tables do).
    const iop = [1, 0, 0, 0, Math.cos(0.25), -Math.sin(0.25)];
    const records = [0, 1, 2, 3].map((k) => rec({ modality: 'CT', iop, ipp: [-100, -200, 5 * k] }));
    const [g] = splitIntoVolumes(records);
    expect(g.warnings.join(' ')).toMatch(/gantry tilt 14.32°/);
    const vol = { dims: g.dims, spacing: g.spacing, origin: g.origin, direction: g.direction };
    for (let k = 0; k < 4; k++) {
      const w = indexToWorld(vol, [1, 1, k]);
      const expected = [-100 + 0.8, -200 + 0.5 * iop[4], 5 * k + 0.5 * iop[5]];
      expect(Math.hypot(w[0] - expected[0], w[1] - expected[1], w[2] - expected[2])).toBeLessThan(1e-9);
    }
  });
});

describe('Siemens mosaic geometry (synthetic)', () => {
  it('tiles are centred, and stored ascending along the normal even when the CSA normal points the other way', () => {
    // 2×2 tiles of 3×3 voxels in a 6×6 mosaic, 3 slices used, 1 mm pixels, 4 mm slices.
    const base = { rows: 6, columns: 6, mosaicCount: 3, pixelSpacing: [1, 1] as [number, number], spacingBetweenSlices: 4, ipp: [0, 0, 0] as Vec3, iop: [1, 0, 0, 0, 1, 0] };
    const [up] = splitIntoVolumes([rec({ ...base, sliceNormal: [0, 0, 1] })]);
    expect(up.dims).toEqual([3, 3, 3]);
    expect(up.origin).toEqual([1.5, 1.5, 0]); // (6 - 3) / 2 voxels in from the mosaic corner
    expect(up.slices[0].map((s) => s.tile)).toEqual([0, 1, 2]);
    const [down] = splitIntoVolumes([rec({ ...base, sliceNormal: [0, 0, -1] })]);
    expect(down.slices[0].map((s) => s.tile)).toEqual([2, 1, 0]);
    expect(down.origin).toEqual([1.5, 1.5, -8]); // the last acquired tile is the lowest slice
    expect(down.direction[8]).toBe(1);
  });
});

describe('pixel bits', () => {
  it('sign-extends 12-bit signed values and masks junk high bits of unsigned ones', () => {
    const signed = new Int16Array([0x0fff, 0x0800, 0x07ff, 0xf001 - 0x10000]);
    fixStoredBits(signed, rec({ bitsStored: 12, highBit: 11, pixelRepresentation: 1 }));
    expect([...signed]).toEqual([-1, -2048, 2047, 1]);
    const unsigned = new Int16Array([0x7fff, 0x1234, 0x0fff, -1]);
    fixStoredBits(unsigned, rec({ bitsStored: 12, highBit: 11, pixelRepresentation: 0 }));
    expect([...unsigned]).toEqual([0x0fff, 0x0234, 0x0fff, 0x0fff]);
  });

  it('inverts MONOCHROME1', () => {
    const a = new Int16Array([0, 100, 4095]);
    fixStoredBits(a, rec({ bitsStored: 12, highBit: 11, pixelRepresentation: 0, photometric: 'MONOCHROME1' }));
    expect([...a]).toEqual([4095, 3995, 0]);
  });

  it('decodes DICOM RLE (two byte planes, literal and replicate runs)', () => {
    // 2×2 16-bit image: values 0x0102, 0x0102, 0x0304, 0x0005.
    const hiSeg = [0xff, 0x01, 0x01, 0x03, 0x00]; // replicate 0x01 twice, literal [03 00]
    const loSeg = [0xff, 0x02, 0x01, 0x04, 0x05]; // replicate 0x02 twice, literal [04 05]
    const header = new Uint8Array(64);
    const dv = new DataView(header.buffer);
    dv.setUint32(0, 2, true);
    dv.setUint32(4, 64, true);
    dv.setUint32(8, 64 + hiSeg.length, true);
    const src = new Uint8Array([...header, ...hiSeg, ...loSeg]);
    const out = decodeRle(src, 2, 2, 16);
    expect([...new Uint16Array(out.buffer)]).toEqual([0x0102, 0x0102, 0x0304, 0x0005]);
  });
});

describe('reorientation to RAS (dcm2niix nii_setOrtho for 3D acquisitions)', () => {
  it('keeps every voxel at its world position', () => {
    // Sagittal LPS volume: i → anterior (-y), j → inferior (-z), k → left (+x).
    const v: Volume = {
      dims: [3, 4, 2], spacing: [1, 2, 3], origin: [5, 6, 7], direction: [0, 0, 1, -1, 0, 0, 0, -1, 0],
      data: Int16Array.from({ length: 24 }, (_, i) => i), voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {},
    };
    const r = reorientToRas(v);
    // RAS-positive diagonal: i → right (-x LPS), j → anterior (-y), k → superior (+z).
    expect(r.direction).toEqual([-1, 0, 0, 0, -1, 0, 0, 0, 1]);
    for (let k = 0; k < r.dims[2]; k++)
      for (let j = 0; j < r.dims[1]; j++)
        for (let i = 0; i < r.dims[0]; i++) {
          const w = indexToWorld(r, [i, j, k]);
          // Find the source voxel at that world position.
          const src = [0, 1, 2].map((a) => {
            const col = [v.direction[a], v.direction[3 + a], v.direction[6 + a]];
            return ((w[0] - v.origin[0]) * col[0] + (w[1] - v.origin[1]) * col[1] + (w[2] - v.origin[2]) * col[2]) / v.spacing[a];
          });
          expect(src.every((x) => Math.abs(x - Math.round(x)) < 1e-9)).toBe(true);
          const [a, b, c] = src.map(Math.round);
          expect(r.data[i + r.dims[0] * (j + r.dims[1] * k)]).toBe(v.data[a + 3 * (b + 4 * c)]);
        }
  });
});

describe('bad input (built from the real data in a temp folder)', () => {
  let dir: string;
  let inputHashes: Map<string, string>;
  const hashTree = (d: string) => new Map(readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => [join(e.parentPath, e.name), createHash('sha256').update(readFileSync(join(e.parentPath, e.name))).digest('hex')]));

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lattice-bad-'));
    // A CT series plus a truncated copy of one of its slices under another name.
    mkdirSync(join(dir, 'mixed'));
    for (const f of readdirSync(join(DATA, 'ct_ge_with_rtstruct_mixed'))) copyFileSync(join(DATA, 'ct_ge_with_rtstruct_mixed', f), join(dir, 'mixed', f));
    const ct = readFileSync(join(DATA, 'ct_ge_lightspeed_3slice', readdirSync(join(DATA, 'ct_ge_lightspeed_3slice'))[0]));
    writeFileSync(join(dir, 'mixed', 'truncated.dcm'), ct.subarray(0, 100_000));
    const ctSlice = readdirSync(join(DATA, 'ct_ge_with_rtstruct_mixed')).find((f) => !/rt/i.test(f))!;
    copyFileSync(join(DATA, 'ct_ge_with_rtstruct_mixed', ctSlice), join(dir, 'mixed', 'zz_copy_of_slice.dcm'));
    writeFileSync(join(dir, 'mixed', 'random.dcm'), Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251));
    mkdirSync(join(dir, 'empty'));
    // A series with one slice deleted.
    mkdirSync(join(dir, 'gap'));
    const adc = readdirSync(join(DATA, 'ge_adc_prostate_oblique')).sort();
    for (const f of adc) if (f !== '000009.dcm') copyFileSync(join(DATA, 'ge_adc_prostate_oblique', f), join(dir, 'gap', f));
    inputHashes = hashTree(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names each bad file with its problem and skips RTSTRUCT with a note, still finding the CT', async () => {
    const scan = await scanDicom([join(dir, 'mixed')]);
    expect(scan.series.length).toBe(1);
    expect(scan.series[0].dims).toEqual([512, 512, 2]);
    const byFile = new Map(scan.problems.map((p) => [p.file, p.problem]));
    expect(byFile.get(join(dir, 'mixed', 'truncated.dcm'))).toMatch(/truncated file: pixel data needs \d+ bytes, file has 100000/);
    expect(byFile.get(join(dir, 'mixed', 'random.dcm'))).toMatch(/not a DICOM file/);
    expect(byFile.get(join(dir, 'mixed', 'zz_copy_of_slice.dcm'))).toMatch(/^duplicate of .*\(same SOPInstanceUID\): ignored$/);
    expect(scan.problems.length).toBe(3);
    expect(scan.notes.join('\n')).toMatch(/RT Structure Set \(RTSTRUCT\) skipped \(not an image\): 3 files/);
    const { volume } = await loadDicomSeries(scan, scan.series[0].id);
    expect(volume.dims).toEqual([512, 512, 2]);
    expect(volume.metadata.Modality).toBe('CT');
    expect((volume.metadata.dicomTags as string[]).some((l) => l.startsWith('0010,0010 PatientName:'))).toBe(true);
  });

  it('reports an empty folder and a missing path', async () => {
    const scan = await scanDicom([join(dir, 'empty'), join(dir, 'nope')]);
    expect(scan.series).toEqual([]);
    expect(scan.problems).toEqual([
      { file: join(dir, 'empty'), problem: 'folder holds no files' },
      { file: join(dir, 'nope'), problem: 'no such file or folder' },
    ]);
  });

  it('warns about the deleted slice with its position and still converts', async () => {
    const scan = await scanDicom([join(dir, 'gap')]);
    expect(scan.series[0].dims).toEqual([256, 256, 19]);
    const w = scan.series[0].warnings.join('\n');
    expect(w).toMatch(/missing slice: 1 missing slice between slice 9 and 10 \(positions -0.18 and 5.82 mm along the normal: gap 6 mm, expected 3 mm\)/);
    const out = mkdtempSync(join(tmpdir(), 'lattice-gap-'));
    try {
      const res = await convertDicom([join(dir, 'gap')], out);
      expect(res.converted.length).toBe(1);
      expect(res.converted[0].warnings.join('\n')).toMatch(/missing slice/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('never modifies the input files', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lattice-ro-'));
    try {
      await convertDicom([dir], out, { gzip: true });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    expect(hashTree(dir)).toEqual(inputHashes);
  });
});
