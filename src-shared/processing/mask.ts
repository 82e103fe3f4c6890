/**
 * Masking: keep the original image inside a mask, write a background value outside.
 * Every frame of a 4D image is masked with the same 3D mask.
 */
import { VOXEL_ARRAY, voxelCount, type Volume, type VoxelArray } from '../image/volume';
import { ProgressTracker, type ProcessingOptions } from './progress';
import { assertSameGrid, copyGeometry, storedValueFor } from './volume-utils';

export interface MaskParams {
  /** Real value written outside the mask. Default 0. */
  background?: number;
}

/**
 * The masked image: `image` where mask ≠ 0, `background` elsewhere. The result keeps the
 * image's voxel type and rescale when the background is representable in it, else it is
 * float32 in real units.
 */
export function applyMask(image: Volume, mask: Volume, p: MaskParams = {}, opts: ProcessingOptions = {}): Volume {
  assertSameGrid(image, mask, 'mask');
  const bg = p.background ?? 0;
  const n = voxelCount(image);
  const frames = image.frames || 1;
  const storedBg = storedValueFor(image, bg);
  const keepType = storedBg !== null;
  const out = keepType ? new VOXEL_ARRAY[image.voxelType](n * frames) : new Float32Array(n * frames);
  const slope = keepType ? 1 : image.rescaleSlope || 1;
  const icpt = keepType ? 0 : image.rescaleIntercept || 0;
  const fill = keepType ? (storedBg as number) : bg;
  const src = image.data;
  const m = mask.data;
  const tracker = new ProgressTracker(opts);
  const chunk = 1 << 20;
  for (let f = 0; f < frames; f++) {
    const off = f * n;
    for (let s = 0; s < n; s += chunk) {
      tracker.report(0, (off + s) / (n * frames), 'Masking');
      const e = Math.min(n, s + chunk);
      if (keepType) copyInside(src, m, out, off, s, e, fill);
      else {
        for (let i = s; i < e; i++) out[off + i] = m[i] !== 0 ? src[off + i] * slope + icpt : fill;
      }
    }
  }
  tracker.report(0, 1, 'Masking');
  return {
    ...copyGeometry(image),
    data: out,
    voxelType: keepType ? image.voxelType : 'float32',
    frames,
    frameSpacing: image.frameSpacing,
    rescaleSlope: keepType ? image.rescaleSlope : 1,
    rescaleIntercept: keepType ? image.rescaleIntercept : 0,
    metadata: { ...image.metadata },
  };
}

/**
 * out[off+i] = mask[i] ? src[off+i] : fill for i in [s, e): one memcpy of the whole range,
 * then one fill per outside run (no per-run allocations). Whole 32-bit words of the mask
 * are tested at once to find run ends quickly (masks are 0/1; other non-zero values
 * just take the byte path).
 */
function copyInside(src: VoxelArray, mask: VoxelArray, out: VoxelArray, off: number, s: number, e: number, fill: number): void {
  (out as Uint8Array).set((src as Uint8Array).subarray(off + s, off + e), off + s);
  const m = mask as Uint8Array;
  const aligned = mask instanceof Uint8Array && (m.byteOffset & 3) === 0;
  const m32 = aligned ? new Uint32Array(m.buffer, m.byteOffset, m.length >> 2) : null;
  let i = s;
  while (i < e) {
    const inside = m[i] !== 0;
    let j = i + 1;
    if (inside) {
      while (j < e && (j & 3) !== 0 && m[j] !== 0) j++;
      if (m32 && (j & 3) === 0) while (j + 4 <= e && m32[j >> 2] === 0x01010101) j += 4;
      while (j < e && m[j] !== 0) j++;
    } else {
      while (j < e && (j & 3) !== 0 && m[j] === 0) j++;
      if (m32 && (j & 3) === 0) while (j + 4 <= e && m32[j >> 2] === 0) j += 4;
      while (j < e && m[j] === 0) j++;
      out.fill(fill, off + i, off + j);
    }
    i = j;
  }
}
