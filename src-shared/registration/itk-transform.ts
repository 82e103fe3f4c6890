/**
 * ITK transform text files (.txt/.tfm), as read and written by ITK, ITK-SNAP, 3D Slicer,
 * elastix's itk reader and ANTs.
 *
 * Convention (ITK's): the transform maps points of the FIXED image's physical space to the
 * MOVING image's space (the pull-back used to resample the moving image onto the fixed
 * grid), in LPS millimetres:
 *     y = A · (x − c) + c + t
 * with `Parameters: A (9 values, row-major) t (3)` and `FixedParameters: c` (centre of
 * rotation). We write c = 0 (the translation then carries everything), which every reader
 * handles. Our 4×4 `matrixLps` is exactly [A | A(−c) + c + t].
 * 3D Slicer shows such a file as a transform "from parent" (resampling transform), ITK-SNAP
 * loads it as the registration result of moving → fixed.
 */
import type { Mat4 } from '../image/volume';

/** Text of an ITK AffineTransform_double_3_3 file for a row-major 4×4 LPS pull-back matrix. */
export function formatItkAffine(matrixLps: Mat4): string {
  const m = matrixLps;
  const p = [m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10], m[3], m[7], m[11]];
  const fmt = (v: number) => (Object.is(v, -0) ? 0 : v).toPrecision(17).replace(/\.?0+(e|$)/, '$1');
  return [
    '#Insight Transform File V1.0',
    '#Transform 0',
    'Transform: AffineTransform_double_3_3',
    `Parameters: ${p.map(fmt).join(' ')}`,
    'FixedParameters: 0 0 0',
    '',
  ].join('\n');
}

/**
 * Reads the first transform of an ITK transform text file into a row-major 4×4 LPS
 * pull-back matrix (fixed → moving). Accepts the matrix-style types whose parameters are
 * 9 matrix values + 3 translation (Affine, MatrixOffsetTransformBase, Rigid3D) and
 * Translation; other types (Euler3D, Versor…) are refused with a clear message.
 */
export function parseItkAffine(text: string): Mat4 {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const typeLine = lines.find((l) => l.startsWith('Transform:'));
  const parLine = lines.find((l) => l.startsWith('Parameters:'));
  const fixLine = lines.find((l) => l.startsWith('FixedParameters:'));
  if (!typeLine || !parLine) throw new Error('ITK transform: missing Transform or Parameters line');
  const type = typeLine.slice('Transform:'.length).trim();
  const p = parLine.slice('Parameters:'.length).trim().split(/\s+/).map(Number);
  const c = fixLine ? fixLine.slice('FixedParameters:'.length).trim().split(/\s+/).filter(Boolean).map(Number) : [];
  if (p.some((v) => !Number.isFinite(v))) throw new Error('ITK transform: non-numeric parameter');
  let A: number[];
  let t: number[];
  if (/^TranslationTransform_(double|float)_3_3$/.test(type)) {
    if (p.length !== 3) throw new Error('ITK transform: TranslationTransform needs 3 parameters');
    A = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    t = p;
  } else if (/^(AffineTransform|MatrixOffsetTransformBase|Rigid3DTransform)_(double|float)_3_3$/.test(type)) {
    if (p.length !== 12) throw new Error(`ITK transform: ${type} needs 12 parameters, found ${p.length}`);
    A = p.slice(0, 9);
    t = p.slice(9, 12);
  } else {
    throw new Error(`ITK transform: unsupported transform type '${type}'`);
  }
  const cc = c.length >= 3 ? c.slice(0, 3) : [0, 0, 0];
  const off = [0, 1, 2].map((r) => t[r] + cc[r] - (A[r * 3] * cc[0] + A[r * 3 + 1] * cc[1] + A[r * 3 + 2] * cc[2]));
  return [A[0], A[1], A[2], off[0], A[3], A[4], A[5], off[1], A[6], A[7], A[8], off[2], 0, 0, 0, 1];
}

/** LPS ↔ RAS for a 4×4 world-to-world matrix: S·M·S with S = diag(−1, −1, 1, 1). */
export function flipWorldMatrixLpsRas(m: Mat4): Mat4 {
  const s = [-1, -1, 1, 1];
  const out = new Array<number>(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) out[r * 4 + c] = s[r] * m[r * 4 + c] * s[c];
  return out;
}
