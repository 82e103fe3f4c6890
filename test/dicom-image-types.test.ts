/**
 * Mixed image types in one series (synthetic headers): magnitude/phase/real/imaginary and
 * echoes split into separate volumes with dcm2niix's suffixes, two series sharing a
 * SeriesNumber named _e1 / _e1a, colour never stacked with greyscale, and a planar RGB
 * series assembled into interleaved RGB with its geometry.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitIntoVolumes } from '../src-main/dicom/split';
import { assembleVolume } from '../src-main/dicom/assemble';
import { complexKind } from '../src-main/dicom/image-types';
import type { ImageRecord } from '../src-main/dicom/types';

function rec(over: Partial<ImageRecord>): ImageRecord {
  return {
    file: 'f.dcm', transferSyntax: '1.2.840.10008.1.2.1', frame: 0, numberOfFrames: 1, pixelOffset: 0, pixelLength: 8, encapsulated: false,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.4', sopInstanceUid: '1', seriesUid: '1.2.3', seriesNumber: 5, seriesDescription: 'test', protocolName: 'proto',
    sequenceName: '', modality: 'MR', manufacturer: 'SIEMENS', imageType: ['ORIGINAL', 'PRIMARY', 'M', 'ND'], frameType: [], rows: 2, columns: 2,
    bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 0, samplesPerPixel: 1, photometric: 'MONOCHROME2', planarConfiguration: 0,
    iop: [1, 0, 0, 0, 0.6, 0.8], ipp: [0, 0, 0], pixelSpacing: [0.5, 0.7], sliceThickness: 2, spacingBetweenSlices: null, rescaleSlope: 1, rescaleIntercept: 0,
    philipsScaleSlope: null, echoTime: 10, echoNumber: 1, acquisitionNumber: 1, instanceNumber: 1, temporalPosition: null, triggerTime: null,
    acquisitionTime: '', dimensionIndex: null, stackPosition: null, mosaicCount: 0, sliceNormal: null, mrAcquisitionType: '2D', gantryTilt: 0,
    repetitionTime: 2000, meta: {}, ...over,
  };
}
const stack = (over: Partial<ImageRecord>, tag: string) => [0, 1, 2].map((k) => rec({ ipp: [0, -0.8 * 3 * k, 0.6 * 3 * k], file: `${tag}${k}.dcm`, instanceNumber: k + 1, ...over }));

describe('image types of one series', () => {
  it('complex components from ImageType (Siemens/GE letters, Philips M_FFE …) and FrameType words', () => {
    expect(complexKind(rec({}))).toBe('magnitude');
    expect(complexKind(rec({ imageType: ['ORIGINAL', 'PRIMARY', 'P', 'ND'] }))).toBe('phase');
    expect(complexKind(rec({ imageType: ['ORIGINAL', 'PRIMARY', 'R', 'ND'] }))).toBe('real');
    expect(complexKind(rec({ imageType: ['ORIGINAL', 'PRIMARY', 'I', 'ND'] }))).toBe('imaginary');
    expect(complexKind(rec({ imageType: ['ORIGINAL', 'PRIMARY', 'R_FFE', 'R', 'FFE'] }))).toBe('real');
    expect(complexKind(rec({ imageType: ['ORIGINAL', 'PRIMARY'], frameType: ['ORIGINAL', 'PRIMARY', 'PHASE', 'NONE'] }))).toBe('phase');
    expect(complexKind(rec({ imageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'], modality: 'CT' }))).toBeNull();
  });

  it('magnitude, phase, real and imaginary of two echoes: eight volumes, dcm2niix suffixes', () => {
    const parts: ImageRecord[] = [];
    for (const [letter, tag] of [['M', 'm'], ['P', 'p'], ['R', 'r'], ['I', 'i']] as const)
      for (const e of [1, 2]) parts.push(...stack({ imageType: ['ORIGINAL', 'PRIMARY', letter, 'ND'], echoNumber: e, echoTime: 5 * e }, `${tag}${e}`));
    const groups = splitIntoVolumes(parts);
    expect(groups.map((g) => g.suffix).sort()).toEqual(['_e1', '_e1_imaginary', '_e1_ph', '_e1_real', '_e2', '_e2_imaginary', '_e2_ph', '_e2_real']);
    for (const g of groups) {
      expect(g.dims).toEqual([2, 2, 3]);
      expect(g.spacing[2]).toBeCloseTo(3, 9);
      expect(g.warnings.join(' ')).toMatch(/series split into 8 volumes/);
    }
    expect(groups.find((g) => g.suffix === '_e2_ph')!.notes).toContain('phase image');
  });

  it('a grey map and its colour copy with one SeriesNumber (two UIDs, TE only on the map): _e1 both, never one volume', () => {
    const grey = stack({ seriesUid: '1.2.3.1', echoTime: 11 }, 'g');
    const colour = stack({ seriesUid: '1.2.3.2', echoTime: null, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, highBit: 7, photometric: 'RGB', iop: null, ipp: null, pixelSpacing: null }, 'c');
    const groups = splitIntoVolumes([...grey, ...colour]);
    expect(groups.length).toBe(2);
    expect(groups.map((g) => g.suffix)).toEqual(['_e1', '_e1']); // the writer then adds 'a' to the second
    const c = groups.find((g) => g.records[0].samplesPerPixel === 3)!;
    expect(c.geometryKnown).toBe(false);
    expect(c.notes.join(' ')).toMatch(/colour image \(RGB, RGB\)/);
    // One series number, same echo time: nothing added.
    expect(splitIntoVolumes([...stack({ seriesUid: 'a' }, 'x'), ...stack({ seriesUid: 'b' }, 'y')]).map((g) => g.suffix)).toEqual(['', '']);
  });

  it('a planar RGB series assembles into interleaved RGB on its grid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lattice-planar-'));
    try {
      const records = stack({ samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, highBit: 7, photometric: 'RGB', planarConfiguration: 1 }, 'p');
      records.forEach((r, k) => {
        // 2×2 pixels, planes R (10k + i), G (100 + 10k + i), B (200 + 10k + i).
        const plane = (base: number) => [0, 1, 2, 3].map((i) => base + 10 * k + i);
        const px = Uint8Array.from([...plane(0), ...plane(100), ...plane(200)]);
        r.file = join(dir, r.file);
        writeFileSync(r.file, px);
      });
      const [g] = splitIntoVolumes(records);
      const { volume } = await assembleVolume(g, { tags: false });
      expect([volume.components, volume.voxelType, volume.data.length]).toEqual([3, 'uint8', 2 * 2 * 3 * 3]);
      // Slice 1, pixel 2: R 12, G 112, B 212.
      const o = 3 * (2 + 4 * 1);
      expect(Array.from(volume.data.subarray(o, o + 3))).toEqual([12, 112, 212]);
      expect(volume.spacing).toEqual([0.7, 0.5, expect.closeTo(3, 9)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
