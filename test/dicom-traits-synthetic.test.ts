/**
 * Synthetic headers for the stack traits of issue 11 (second half): UIH grid tiles stacked
 * by their own positions (any tile order, oblique), the shared mosaic tile layout, image
 * types that do / do not split a stack, and an uneven stack with a duplicated position.
 */
import { describe, expect, it } from 'vitest';
import { splitIntoVolumes } from '../src-main/dicom/split';
import type { ImageRecord } from '../src-main/dicom/types';
import { tileRowOffset, tileSize } from '../src-main/dicom/mosaic';
import { resampledOutputs, stackTraits } from '../src-main/dicom/resampled-outputs';
import { groupTraitNotes } from '../src-main/dicom/series-traits';
import { slicePositions } from '../src-shared/image/stack-resample';
import type { Vec3, Volume } from '../src-shared/image/volume';

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

const c = Math.cos(0.3), s = Math.sin(0.3);
const IOP = [1, 0, 0, 0, c, s]; // oblique: normal (0, -s, c)
const N: Vec3 = [0, -s, c];

describe('mosaic tile layout (Siemens square grid, UIH grid)', () => {
  it('Siemens: 25 tiles in 640×640 → 128×128 tiles, 5 across; UIH: 20 tiles in 320×256 → 64×64, 5 across, 4 down', () => {
    expect(tileSize({ mosaicCount: 25, columns: 640, rows: 640 })).toEqual([128, 128]);
    expect(tileSize({ mosaicCount: 20, mosaicGrid: { across: 5, down: 4 }, columns: 320, rows: 256 })).toEqual([64, 64]);
    const uih = rec({ mosaicCount: 20, mosaicGrid: { across: 5, down: 4 }, columns: 320, rows: 256 });
    // Tile 7 = row 1, column 2 of tiles; its row 3 starts at image row 64 + 3, column 128.
    expect(tileRowOffset(uih, 7, 3, 2)).toBe(((64 + 3) * 320 + 128) * 2);
  });

  it('UIH grid tiles are stacked by their own positions (oblique, tiles listed in descending order), volumes in time order', () => {
    const positions: Vec3[] = Array.from({ length: 20 }, (_, k) => [1, 2 + N[1] * 4.2 * (19 - k), 3 + N[2] * 4.2 * (19 - k)]);
    const vols = [2, 1].map((inst) => rec({ manufacturer: 'UIH', iop: IOP, ipp: positions[0], rows: 256, columns: 320, mosaicCount: 20, mosaicGrid: { across: 5, down: 4 }, tilePositions: positions, instanceNumber: inst, file: `v${inst}` }));
    const [g] = splitIntoVolumes(vols);
    expect(g.dims).toEqual([64, 64, 20]);
    expect(g.frames).toBe(2);
    expect(g.mosaic).toBe(true);
    expect(g.spacing[2]).toBeCloseTo(4.2, 9);
    // Ascending along the normal: the last tile first.
    expect(g.slices[0].map((r) => r.tile)).toEqual(Array.from({ length: 20 }, (_, k) => 19 - k));
    expect(g.slices.map((v) => v[0].record.file)).toEqual(['v1', 'v2']);
    expect(g.origin).toEqual(positions[19]);
    expect(g.warnings).toEqual([]);
    expect(groupTraitNotes(g).join('\n')).toMatch(/UIH grid: each 320×256 image holds 20 slices of 64×64 \(5×4 tiles\)/);
  });
});

describe('image types and stacks', () => {
  it("a value like GE's 'ADD' on some slices does not split a stack; magnitude vs phase does", () => {
    const stack = [0, 1, 2, 3].map((k) => rec({ modality: 'CT', ipp: [0, 0, 2 * k], imageType: k < 2 ? ['ORIGINAL', 'PRIMARY', 'AXIAL', 'ADD'] : ['ORIGINAL', 'PRIMARY', 'AXIAL'] }));
    expect(splitIntoVolumes(stack).map((g) => g.dims[2])).toEqual([4]);
    const mp = [0, 1].flatMap((k) => [rec({ ipp: [0, 0, k], imageType: ['ORIGINAL', 'PRIMARY', 'M'] }), rec({ ipp: [0, 0, k], imageType: ['ORIGINAL', 'PRIMARY', 'P'] })]);
    const parts = splitIntoVolumes(mp);
    expect(parts.length).toBe(2);
    expect(parts.filter((g) => g.suffix.includes('_ph')).length).toBe(1); // suffix names: issue 11a's part
  });

  it('an uneven stack with a duplicated position: one image per position, resampled over the whole stack', async () => {
    const z = [0, 5, 5, 10, 20];
    const records = z.map((d, i) => rec({ modality: 'CT', iop: IOP, ipp: [0, N[1] * d, N[2] * d], instanceNumber: i + 1, file: `s${i}` }));
    const [g] = splitIntoVolumes(records);
    expect(g.dims[2]).toBe(4);
    expect(g.frames).toBe(1);
    expect(g.warnings.join('\n')).toMatch(/positions hold different numbers of images/);
    expect(stackTraits(g)).toEqual({ uneven: true, tilted: false });
    // A 2×2×4 volume in the group's geometry, slice k holding the value 10·k.
    const data = new Int16Array(16).map((_, i) => 10 * Math.floor(i / 4));
    const v: Volume = { dims: [...g.dims], spacing: [...g.spacing], origin: [...g.origin], direction: [...g.direction], data, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
    const [eq] = await resampledOutputs(g, v, { tiltCorrect: false });
    expect(eq.suffix).toBe('_Eq_1');
    expect(eq.volume.dims).toEqual([2, 2, 5]); // 0, 5, 10, 15, 20 mm
    const per = 4;
    expect([0, 1, 2, 3, 4].map((k) => eq.volume.data[k * per])).toEqual([0, 10, 20, 25, 30]);
    expect(slicePositions({ volume: eq.volume, sliceOrigins: [0, 1, 2, 3, 4].map((k) => [0, 1, 2].map((r) => eq.volume.origin[r] + k * eq.volume.spacing[2] * eq.volume.direction[r * 3 + 2]) as Vec3) }).map((p) => Number((p - slicePositions({ volume: v, sliceOrigins: [g.origin] })[0]).toFixed(9)))).toEqual([0, 5, 10, 15, 20]);
  });
});
