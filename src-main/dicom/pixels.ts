/**
 * Pixel handling after the bytes of a frame are in memory: byte order, BitsStored
 * masking / sign extension (HighBit can sit anywhere), MONOCHROME1 inversion.
 * All in place on the stored-type view of one slice.
 */
import type { VoxelType } from '../../src-shared/image/volume';
import type { ImageRecord } from './types';

/** Voxel type that holds the stored values of a series without loss (dcm2niix-compatible). */
export function storedVoxelType(r: ImageRecord): VoxelType {
  const signed = r.pixelRepresentation === 1;
  if (r.bitsAllocated === 8) return signed ? 'int8' : 'uint8';
  if (r.bitsAllocated === 16) return signed || r.bitsStored < 16 ? 'int16' : 'uint16';
  return signed ? 'int32' : 'uint32';
}

export function swapBytesInPlace(bytes: Uint8Array, bytesPerSample: number): void {
  if (bytesPerSample === 2) {
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      const a = bytes[i];
      bytes[i] = bytes[i + 1];
      bytes[i + 1] = a;
    }
  } else if (bytesPerSample === 4) {
    for (let i = 0; i + 3 < bytes.length; i += 4) {
      let a = bytes[i];
      bytes[i] = bytes[i + 3];
      bytes[i + 3] = a;
      a = bytes[i + 1];
      bytes[i + 1] = bytes[i + 2];
      bytes[i + 2] = a;
    }
  }
}

/**
 * Applies BitsStored/HighBit and MONOCHROME1 to one slice. `a` is a view of the
 * slice in the stored voxel type (int16 for 12-bit unsigned: the values fit).
 */
export function fixStoredBits(a: Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array, r: ImageRecord): void {
  const ba = r.bitsAllocated;
  const bs = Math.min(r.bitsStored || ba, ba);
  const shift = Math.max(0, (r.highBit ?? bs - 1) + 1 - bs);
  const n = a.length;
  if (bs < ba || shift > 0) {
    if (ba === 32) {
      const mask = bs >= 32 ? 0xffffffff : 2 ** bs - 1;
      for (let i = 0; i < n; i++) {
        let v = Math.floor((a[i] >>> 0) / 2 ** shift) % (mask + 1);
        if (r.pixelRepresentation === 1 && v >= 2 ** (bs - 1)) v -= 2 ** bs;
        a[i] = v;
      }
    } else if (r.pixelRepresentation === 1) {
      // Sign-extend from bit bs-1: move the sign bit to bit 31 and shift back arithmetically.
      const up = 32 - bs - shift;
      const down = 32 - bs;
      for (let i = 0; i < n; i++) a[i] = (a[i] << up) >> down;
    } else {
      const mask = (1 << bs) - 1;
      const wrap = ba === 16 ? 0xffff : 0xff;
      for (let i = 0; i < n; i++) a[i] = ((a[i] & wrap) >> shift) & mask;
    }
  }
  if (r.photometric === 'MONOCHROME1') {
    if (r.pixelRepresentation === 1) for (let i = 0; i < n; i++) a[i] = -a[i] - 1;
    else {
      const max = 2 ** bs - 1;
      for (let i = 0; i < n; i++) a[i] = max - a[i];
    }
  }
}
