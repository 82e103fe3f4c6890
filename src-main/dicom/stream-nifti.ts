/**
 * Streaming DICOM → .nii for the common case (uncompressed single-frame or multi-frame
 * slices, one rescale for the series, no 3D reorientation): each slice is read into a
 * cache-resident scratch buffer, its rows reversed into the output buffer (dcm2niix's
 * order), its bits fixed, and written — the volume is never held in memory. This skips
 * the page faults and copies of a volume-sized buffer (a 150 MB CT converts in ~1 MB of
 * working memory). The header comes from the shared NIfTI encoder; the file is written
 * atomically like every other output.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { flipAxisGeometry } from '../../src-shared/geometry/geometry';
import { encodeNifti1Header } from '../../src-shared/nifti/nifti1';
import { VOXEL_ARRAY, bytesPerVoxel, type Volume } from '../../src-shared/image/volume';
import { writeFileAtomic } from '../fs/atomic-write';
import type { VolumeGroup } from './split';
import { fixStoredBits, storedVoxelType, swapBytesInPlace } from './pixels';
import { TS } from './codecs/index';
import { toDcm2niixLayout } from './dcm2niix-compat';
import { recordScaling, scalingVaries } from './philips-scaling';

type IntArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** True when the group can be streamed slice by slice in dcm2niix's layout. */
export function canStream(group: VolumeGroup): boolean {
  const r0 = group.records[0];
  if (group.mosaic) return false;
  if (r0.modality === 'MR' && r0.mrAcquisitionType === '3D' && group.dims[2] > 1 && group.frames === 1) return false; // reoriented
  if (r0.samplesPerPixel !== 1) return false; // colour: planar/YBR conversion in the assembler
  if (scalingVaries(group.records)) return false; // float32 real values
  return group.records.every(
    (r) =>
      !r.encapsulated &&
      r.transferSyntax !== TS.deflatedLE &&
      r.bitsAllocated === r0.bitsAllocated &&
      r.pixelRepresentation === r0.pixelRepresentation,
  );
}

/** The volume's NIfTI-side description without its voxels (data is an untouched placeholder). */
function headerVolume(group: VolumeGroup): Volume {
  const r0 = group.records[0];
  const type = storedVoxelType(r0);
  const total = group.dims[0] * group.dims[1] * group.dims[2] * group.frames;
  const g = flipAxisGeometry({ dims: group.dims, spacing: group.spacing, origin: group.origin, direction: group.direction }, 1);
  const v: Volume = {
    dims: [...group.dims],
    spacing: [...group.spacing],
    origin: g.origin,
    direction: g.direction,
    // Never written to: a fresh allocation is zero pages the OS has not mapped yet.
    data: new VOXEL_ARRAY[type](total),
    voxelType: type,
    frames: group.frames,
    frameSpacing: group.frames > 1 && r0.repetitionTime ? r0.repetitionTime / 1000 : 0,
    rescaleSlope: recordScaling(r0).slope,
    rescaleIntercept: recordScaling(r0).intercept,
    metadata: {},
  };
  return toDcm2niixLayout(v, group, true);
}

export async function streamGroupToNifti(
  group: VolumeGroup,
  path: string,
  description: string,
  codes: { sformCode: number; qformCode: number } = { sformCode: 1, qformCode: 1 },
): Promise<{ volume: Volume; warnings: string[] }> {
  const warnings = [...group.warnings];
  const r0 = group.records[0];
  if (r0.photometric === 'MONOCHROME1') warnings.push('MONOCHROME1 image: stored values inverted so that higher values are brighter');
  const volume = headerVolume(group);
  const header = encodeNifti1Header(volume, { description, ...codes });
  const [nx, ny] = group.dims;
  const bpv = bytesPerVoxel(volume.voxelType);
  const rowBytes = nx * bpv;
  const sliceBytes = rowBytes * ny;
  const scratch = new Uint8Array(sliceBytes);
  const out = new Uint8Array(sliceBytes);
  const outTyped = new VOXEL_ARRAY[volume.voxelType](out.buffer, 0, nx * ny) as IntArray;

  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield header;
    for (const vol of group.slices) {
      for (const { record: r } of vol) {
        const frameBytes = (r.rows * r.columns * r.bitsAllocated) / 8;
        const fd = openSync(r.file, 'r');
        try {
          const pos = r.pixelOffset + r.frame * frameBytes;
          let off = 0;
          while (off < sliceBytes) {
            const got = readSync(fd, scratch, off, sliceBytes - off, pos + off);
            if (got === 0) throw new Error(`${r.file}: file ends before the pixel data does`);
            off += got;
          }
        } finally {
          closeSync(fd);
        }
        if (r.transferSyntax === TS.explicitBE) swapBytesInPlace(scratch, bpv);
        for (let y = 0, d = (ny - 1) * rowBytes; y < ny; y++, d -= rowBytes) out.set(scratch.subarray(y * rowBytes, (y + 1) * rowBytes), d);
        if (r.bitsStored < r.bitsAllocated || r.highBit + 1 !== r.bitsStored || r.photometric === 'MONOCHROME1') fixStoredBits(outTyped, r);
        // writeFileAtomic finishes writing a chunk before asking for the next: reuse is safe.
        yield out;
      }
    }
  }
  await writeFileAtomic(path, chunks());
  return { volume, warnings };
}
