/**
 * Philips (and real-world value) scaling: the rules of src-main/dicom/philips-scaling.ts on
 * synthetic records (edge cases the real data do not have: scale slope varying between
 * slices, missing scale slope, a real-world mapping that disagrees with the rescale, no
 * rescale but a real-world mapping), and on the real Philips series of ../shared/data:
 * sidecar fields as dcm2niix names and writes them, phase in radians, magnitude in
 * Philips floating-point units, the classic and enhanced exports of one acquisition equal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describeScaling, displayScaling, recordScaling, scalingSidecarFields } from '../src-main/dicom/philips-scaling';
import { splitIntoVolumes } from '../src-main/dicom/split';
import { assembleVolume } from '../src-main/dicom/assemble';
import type { ImageRecord } from '../src-main/dicom/types';
import { convertDicom } from '../src-main/dicom/convert';
import { readNiftiFile } from '../src-main/nifti/nifti-file';

const DATA = resolve(__dirname, '../../shared/data');

function rec(over: Partial<ImageRecord>): ImageRecord {
  return {
    file: 'f.dcm', transferSyntax: '1.2.840.10008.1.2.1', frame: 0, numberOfFrames: 1, pixelOffset: 0, pixelLength: 8, encapsulated: false,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: '1', seriesUid: '1.2.3', seriesNumber: 5, seriesDescription: 'test', protocolName: 'proto',
    sequenceName: '', modality: 'MR', manufacturer: 'Philips Medical Systems', imageType: ['ORIGINAL', 'PRIMARY', 'M_FFE', 'M', 'FFE'], frameType: [],
    rows: 2, columns: 2, bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 0, samplesPerPixel: 1, photometric: 'MONOCHROME2',
    planarConfiguration: 0, iop: [1, 0, 0, 0, 1, 0], ipp: [0, 0, 0], pixelSpacing: [1, 1], sliceThickness: 2, spacingBetweenSlices: null,
    rescaleSlope: 1, rescaleIntercept: 0, philipsScaleSlope: null, echoTime: 10, echoNumber: 1, acquisitionNumber: 1, instanceNumber: 1,
    temporalPosition: null, triggerTime: null, acquisitionTime: '', dimensionIndex: null, stackPosition: null, mosaicCount: 0, sliceNormal: null,
    mrAcquisitionType: '2D', gantryTilt: 0, repetitionTime: 2000, meta: {}, ...over,
  };
}

describe('scaling rules (synthetic records)', () => {
  it('Philips with a scale slope: FP = (stored·RS + RI)/(RS·SS), exact (phase: radians)', () => {
    const r = rec({ rescaleSlope: 1.53455433455433, rescaleIntercept: -3142, philipsScaleSlope: 651.739501953125 });
    const s = recordScaling(r);
    expect(s.mode).toBe('philips-precise');
    for (const stored of [0, 1, 2047, 4095]) {
      expect(stored * s.slope + s.intercept).toBeCloseTo((stored * 1.53455433455433 - 3142) / (1.53455433455433 * 651.739501953125), 12);
    }
    // Stored 0 and 4095 are -π and +π to the phase map's own rounding (3142 mrad).
    expect(s.intercept).toBeCloseTo(-Math.PI, 5);
    expect(4095 * s.slope + s.intercept).toBeCloseTo(Math.PI, 3);
    expect(scalingSidecarFields(r)).toEqual({ PhilipsRescaleSlope: 1.53455, PhilipsRescaleIntercept: -3142, PhilipsScaleSlope: 651.74, UsePhilipsFloatNotDisplayScaling: 1 });
    expect(describeScaling([r]).notes.join(' ')).toMatch(/Philips floating-point values.*SS 651.74/);
    expect(describeScaling([r]).warnings).toEqual([]);
  });

  it('other vendors keep RescaleSlope/Intercept even with a private-looking scale slope', () => {
    const r = rec({ manufacturer: 'SIEMENS', rescaleSlope: 2, rescaleIntercept: -10, philipsScaleSlope: 5 });
    expect(recordScaling(r)).toEqual({ slope: 2, intercept: -10, mode: 'display' });
    expect(scalingSidecarFields(r)).toEqual({});
  });

  it('no rescale in the file but a real-world value mapping: the mapping is used (and named)', () => {
    const r = rec({ manufacturer: 'SIEMENS', rwvSlope: 0.25, rwvIntercept: -100 });
    expect(displayScaling(r)).toEqual({ slope: 0.25, intercept: -100, mode: 'real-world' });
    expect(describeScaling([r]).notes.join(' ')).toMatch(/real-world value mapping used/);
    // A rescale of its own takes precedence (dcm2niix's order).
    expect(displayScaling(rec({ manufacturer: 'SIEMENS', rescaleSlope: 2, rwvSlope: 0.25 })).slope).toBe(2);
  });

  it('ambiguous: Philips image without the scale slope, or a real-world mapping that disagrees: warnings', () => {
    const noSS = describeScaling([rec({ rescaleSlope: 1.29, rescaleIntercept: 0 })]);
    expect(noSS.warnings.join(' ')).toMatch(/ambiguous scaling: Philips image without the private scale slope \(2005,100E\)/);
    const rwv = describeScaling([rec({ rescaleSlope: 1.29, philipsScaleSlope: 0.0002, rwvSlope: 3.5, rwvIntercept: 0 })]);
    expect(rwv.warnings.join(' ')).toMatch(/ambiguous scaling: the real-world value mapping .* differs from RescaleSlope\/Intercept/);
    // A mapping equal to the rescale (what Philips usually writes) is not ambiguous.
    expect(describeScaling([rec({ rescaleSlope: 1.29, philipsScaleSlope: 0.0002, rwvSlope: 1.29, rwvIntercept: 0 })]).warnings).toEqual([]);
  });

  it('scale slope varying between the slices of one volume: float32 real values per slice, with a warning', async () => {
    // Two slices, same RS, different SS: one NIfTI slope cannot hold both.
    const records = [0, 1].map((k) => rec({ ipp: [0, 0, 2 * k], instanceNumber: k + 1, file: `s${k}.dcm`, rescaleSlope: 2, philipsScaleSlope: k ? 4 : 0.5 }));
    const [g] = splitIntoVolumes(records);
    expect(g.warnings.join(' ')).toMatch(/scaling differs between the slices\/frames of this volume/);
    // Assemble from a fake in-memory pair of files: stored value 100 in every voxel.
    const dir = mkdtempSync(join(tmpdir(), 'lattice-philips-'));
    try {
      const { writeFileSync } = await import('node:fs');
      for (const r of g.records) {
        const px = new Uint16Array(4).fill(100);
        writeFileSync(join(dir, r.file), Buffer.from(px.buffer));
        r.file = join(dir, r.file);
      }
      const { volume } = await assembleVolume(g, { tags: false, scaling: recordScaling });
      expect(volume.voxelType).toBe('float32');
      // P = 100·RS/(RS·SS) = 100/SS.
      expect(Array.from(volume.data)).toEqual([200, 200, 200, 200, 25, 25, 25, 25]);
      // The viewer path (display values) is one rescale for both: stays integer.
      const display = await assembleVolume(g, { tags: false });
      expect([display.volume.voxelType, display.volume.rescaleSlope]).toEqual(['int16', 2]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const haveData = existsSync(join(DATA, 'dicom/MANIFEST.json'));

describe.skipIf(!haveData)('real Philips series (../shared/data)', () => {
  const items = ['philips_fmap_2echo_mag_phase', 'philips_enh_fmap_2echo_mag_phase', 'philips_enh_b0map', 'philips_fmri_oblique_4d'];
  const out = mkdtempSync(join(tmpdir(), 'lattice-philips-real-'));
  const converted = new Map<string, Awaited<ReturnType<typeof convertDicom>>>();
  beforeAll(async () => {
    for (const name of items) converted.set(name, await convertDicom([join(DATA, 'dicom', name)], join(out, name)));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const FIELDS = ['PhilipsRWVSlope', 'PhilipsRWVIntercept', 'PhilipsRescaleSlope', 'PhilipsRescaleIntercept', 'PhilipsScaleSlope', 'UsePhilipsFloatNotDisplayScaling'];
  for (const name of items) {
    it(`${name}: the sidecar's Philips scaling fields are dcm2niix's`, () => {
      const refDir = join(DATA, 'reference', name);
      const refs = readdirSync(refDir).filter((f) => f.endsWith('.json'));
      expect(refs.length).toBeGreaterThan(0);
      for (const f of refs) {
        const ref = JSON.parse(readFileSync(join(refDir, f), 'utf8'));
        const ours = JSON.parse(readFileSync(join(out, name, f), 'utf8'));
        const pick = (j: Record<string, unknown>) => Object.fromEntries(FIELDS.filter((k) => k in j).map((k) => [k, j[k]]));
        expect(pick(ours), f).toEqual(pick(ref));
      }
    });
  }

  it('phase maps are in radians (−π … π), magnitudes in Philips FP units; lattice says so', async () => {
    const res = converted.get('philips_fmap_2echo_mag_phase')!;
    const phase = res.converted.filter((c) => c.nifti.endsWith('_ph.nii'));
    expect(phase.length).toBe(2);
    for (const c of phase) {
      const v = (await readNiftiFile(c.nifti)).volume;
      let lo = Infinity;
      let hi = -Infinity;
      for (const x of v.data) (lo = Math.min(lo, x)), (hi = Math.max(hi, x));
      expect(lo * v.rescaleSlope + v.rescaleIntercept).toBeCloseTo(-Math.PI, 4);
      expect(hi * v.rescaleSlope + v.rescaleIntercept).toBeLessThanOrEqual(Math.PI + 1e-4);
      expect(c.series.notes?.join(' ')).toMatch(/phase image \(values in radians\)/);
    }
    const mag = res.converted.find((c) => c.nifti.endsWith('_e1.nii'))!;
    expect((await readNiftiFile(mag.nifti)).volume.rescaleSlope).toBeCloseTo(1 / 0.00023798899201210588, 2);
    expect(mag.series.notes?.join(' ')).toMatch(/Philips scaling: values are Philips floating-point values/);
  });

  it('the classic and the enhanced export of one acquisition give identical files (voxels, scaling, geometry)', async () => {
    const a = converted.get('philips_fmap_2echo_mag_phase')!.converted;
    const b = converted.get('philips_enh_fmap_2echo_mag_phase')!.converted;
    expect(a.map((c) => c.nifti.replace(/^.*_2001/, ''))).toEqual(b.map((c) => c.nifti.replace(/^.*_2001/, '')));
    for (let i = 0; i < a.length; i++) {
      const va = (await readNiftiFile(a[i].nifti)).volume;
      const vb = (await readNiftiFile(b[i].nifti)).volume;
      expect(Buffer.from(vb.data.buffer, vb.data.byteOffset, vb.data.byteLength).equals(Buffer.from(va.data.buffer, va.data.byteOffset, va.data.byteLength))).toBe(true);
      expect([vb.rescaleSlope, vb.rescaleIntercept]).toEqual([va.rescaleSlope, va.rescaleIntercept]);
      for (let n = 0; n < 3; n++) expect(Math.abs(vb.origin[n] - va.origin[n])).toBeLessThan(1e-4);
    }
  });
});
