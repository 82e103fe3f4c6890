/**
 * ITK transform files through itk-wasm's transform-io: text (.txt/.tfm), MATLAB (.mat, as
 * ITK, ANTs and elastix's ITK export write it) and HDF5 (.h5/.hdf5), read into the 4×4 LPS
 * pull-back matrix Lattice keeps on a layer (`worldTransform`: fixed world → moving world,
 * ITK's own convention, so nothing is inverted) and written from it.
 *
 * Linear transforms of every common parameterization are read (Affine, MatrixOffset, Rigid3D,
 * Euler3D in both angle orders, Versor/VersorRigid3D, Similarity3D, ScaleSkewVersor3D,
 * Scale, Translation, Identity, their 2D forms, and composites of them); y = A(x − c) + c + t
 * with the centre c from the fixed parameters. Displacement-field transforms stored inside
 * .h5 are refused with a message: Lattice opens fields as images (NIfTI/NRRD/MHA).
 * Also accepted: the plain 4×4 matrix text Lattice itself saves ("Save 4×4 matrix").
 */
import { readFile, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Mat4 } from '../../src-shared/image/volume';
import { mat4Identity, mat4Multiply } from '../../src-shared/geometry/mat';
import { ImageFileError } from './itk-image-io';

export const TRANSFORM_EXTENSIONS = ['txt', 'tfm', 'mat', 'h5', 'hdf5'] as const;

export function isTransformPath(p: string): boolean {
  return new RegExp(`\\.(${TRANSFORM_EXTENSIONS.join('|')})$`, 'i').test(p);
}

interface ItkTransform {
  transformType: { transformParameterization: string; parametersValueType: string; inputDimension: number; outputDimension: number };
  numberOfFixedParameters: number;
  numberOfParameters: number;
  name: string;
  inputSpaceName: string;
  outputSpaceName: string;
  parameters: ArrayLike<number>;
  fixedParameters: ArrayLike<number>;
  metadata?: unknown;
}

type TransformIo = typeof import('@itk-wasm/transform-io');
let ioModule: Promise<TransformIo> | null = null;
const transformIo = () => (ioModule ??= import('@itk-wasm/transform-io'));

export interface TransformReadResult {
  /** Row-major 4×4 LPS pull-back (fixed world → moving world). */
  matrixLps: Mat4;
  /** What was read, for messages: "Euler3D", "Composite(Affine, Translation)", "4×4 matrix". */
  description: string;
}

/** A plain "4 lines × 4 numbers" matrix (Lattice's own matrix file), or null. */
function parseMatrixText(text: string): Mat4 | null {
  const rows = text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
  if (rows.length < 3 || rows.length > 4) return null;
  const m = rows.map((r) => r.split(/[\s,]+/).map(Number));
  if (!m.every((r) => r.length === 4 && r.every(Number.isFinite))) return null;
  const out = m.flat();
  if (out.length === 12) out.push(0, 0, 0, 1);
  if (Math.abs(out[12]!) + Math.abs(out[13]!) + Math.abs(out[14]!) > 1e-9 || Math.abs(out[15]! - 1) > 1e-9) return null;
  return out;
}

export async function readTransformFile(path: string): Promise<TransformReadResult> {
  path = resolve(path);
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new ImageFileError(path, err.code === 'ENOENT' ? 'file not found' : err.message, { cause: err });
  });
  if (st.isDirectory()) throw new ImageFileError(path, 'is a folder, not a transform file');
  if (st.size > 64 << 20) throw new ImageFileError(path, `${st.size} bytes is too large for a linear transform file`);
  if (/\.(txt|mat)$/i.test(path)) {
    const head = await readFile(path);
    if (!head.includes(0)) {
      const m = parseMatrixText(head.toString('utf8'));
      if (m) return { matrixLps: m, description: '4×4 matrix' };
    }
  }
  const io = await transformIo();
  let list: ItkTransform[];
  try {
    // The format's own pipeline (readTransformNode would try several, ~1 s each to load).
    const ext = /\.(h5|hdf5)$/i.test(path) ? 'hdf5' : /\.mat$/i.test(path) ? 'mat' : 'txt';
    const reader = ext === 'hdf5' ? io.hdf5ReadTransformNode : ext === 'mat' ? io.matReadTransformNode : io.txtReadTransformNode;
    const r = await reader(path);
    if (!r.couldRead) throw new Error(`not an ITK ${ext === 'txt' ? 'text' : ext.toUpperCase()} transform file`);
    list = r.transform as unknown as ItkTransform[];
  } catch (err) {
    throw new ImageFileError(path, `cannot read as an ITK transform: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { cause: err });
  }
  try {
    return transformListToMatrix(list);
  } catch (err) {
    throw new ImageFileError(path, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** The composition of a transform list (ITK composite order: the last one acts first). */
export function transformListToMatrix(list: ItkTransform[]): TransformReadResult {
  const parts = list.filter((t) => t.transformType.transformParameterization !== 'Composite');
  if (!parts.length) throw new Error('the file holds no transform');
  let m = mat4Identity();
  for (const t of parts) m = mat4Multiply(m, linearMatrix(t));
  const names = parts.map((t) => t.transformType.transformParameterization);
  return { matrixLps: m, description: names.length > 1 ? `Composite(${names.join(', ')})` : names[0]! };
}

/** 3×3 rotation of a unit quaternion given by its vector part (ITK versor: w ≥ 0 implied). */
function versorMatrix(x: number, y: number, z: number): number[] {
  const w = Math.sqrt(Math.max(0, 1 - x * x - y * y - z * z));
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
    2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
    2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
  ];
}

function mul3(a: number[], b: number[]): number[] {
  const o = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) o[r * 3 + c]! += a[r * 3 + k]! * b[k * 3 + c]!;
  return o;
}

/** One linear ITK transform as y = A(x − c) + c + t → 4×4. */
function linearMatrix(t: ItkTransform): Mat4 {
  const kind = t.transformType.transformParameterization;
  const dim = t.transformType.inputDimension;
  const p = Array.from(t.parameters, Number);
  const fp = Array.from(t.fixedParameters, Number);
  const need = (n: number) => {
    if (p.length < n) throw new Error(`${kind} transform: ${p.length} parameters, expected ${n}`);
  };
  let A: number[] = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  let tr = [0, 0, 0];
  let c = [0, 0, 0];
  if (dim === 2) {
    // 2D transforms act in the x-y plane of LPS; z is left alone.
    const embed = (a: number[], t2: number[], c2: number[] = [0, 0]) => {
      A = [a[0]!, a[1]!, 0, a[2]!, a[3]!, 0, 0, 0, 1];
      tr = [t2[0]!, t2[1]!, 0];
      c = [c2[0] ?? 0, c2[1] ?? 0, 0];
    };
    switch (kind) {
      case 'Identity':
        break;
      case 'Translation':
        need(2);
        embed([1, 0, 0, 1], p);
        break;
      case 'Euler2D':
      case 'Rigid2D': {
        need(3);
        const [a, tx, ty] = p as [number, number, number];
        embed([Math.cos(a), -Math.sin(a), Math.sin(a), Math.cos(a)], [tx, ty], fp);
        break;
      }
      case 'Similarity2D': {
        need(4);
        const [s, a, tx, ty] = p as [number, number, number, number];
        embed([s * Math.cos(a), -s * Math.sin(a), s * Math.sin(a), s * Math.cos(a)], [tx, ty], fp);
        break;
      }
      case 'Scale':
        need(2);
        embed([p[0]!, 0, 0, p[1]!], [0, 0], fp);
        break;
      case 'Affine':
      case 'MatrixOffsetTransformBase':
      case 'ScalableAffine':
        need(6);
        embed(p.slice(0, 4), p.slice(4, 6), fp);
        break;
      default:
        throw new Error(`unsupported 2D transform type ${kind}`);
    }
  } else if (dim === 3) {
    c = [fp[0] ?? 0, fp[1] ?? 0, fp[2] ?? 0];
    switch (kind) {
      case 'Identity':
        c = [0, 0, 0];
        break;
      case 'Translation':
        need(3);
        tr = p.slice(0, 3);
        c = [0, 0, 0];
        break;
      case 'Affine':
      case 'MatrixOffsetTransformBase':
      case 'Rigid3D':
      case 'ScalableAffine':
        need(12);
        A = p.slice(0, 9);
        tr = p.slice(9, 12);
        break;
      case 'Euler3D': {
        need(6);
        const [ax, ay, az] = p as [number, number, number];
        const cx = Math.cos(ax), sx = Math.sin(ax), cy = Math.cos(ay), sy = Math.sin(ay), cz = Math.cos(az), sz = Math.sin(az);
        const Rx = [1, 0, 0, 0, cx, -sx, 0, sx, cx];
        const Ry = [cy, 0, sy, 0, 1, 0, -sy, 0, cy];
        const Rz = [cz, -sz, 0, sz, cz, 0, 0, 0, 1];
        // ITK: R = Rz·Rx·Ry by default, Rz·Ry·Rx when ComputeZYX (4th fixed parameter) is set.
        A = fp[3] ? mul3(Rz, mul3(Ry, Rx)) : mul3(Rz, mul3(Rx, Ry));
        tr = p.slice(3, 6);
        break;
      }
      case 'Versor':
        need(3);
        A = versorMatrix(p[0]!, p[1]!, p[2]!);
        break;
      case 'VersorRigid3D':
      case 'QuaternionRigid':
        if (kind === 'QuaternionRigid') {
          need(7);
          // ITK's quaternion order is (x, y, z, w), then the translation.
          A = versorMatrix(p[0]!, p[1]!, p[2]!);
          if (p[3]! < 0) A = versorMatrix(-p[0]!, -p[1]!, -p[2]!);
          tr = p.slice(4, 7);
        } else {
          need(6);
          A = versorMatrix(p[0]!, p[1]!, p[2]!);
          tr = p.slice(3, 6);
        }
        break;
      case 'Similarity3D': {
        need(7);
        const s = p[6]!;
        A = versorMatrix(p[0]!, p[1]!, p[2]!).map((x) => x * s);
        tr = p.slice(3, 6);
        break;
      }
      case 'ScaleSkewVersor3D': {
        need(15);
        // ITK: M = R · (Scale + Skew) with skew (k0..k5) above and below the diagonal.
        const R = versorMatrix(p[0]!, p[1]!, p[2]!);
        const [s0, s1, s2, k0, k1, k2, k3, k4, k5] = p.slice(6, 15) as number[];
        const S = [s0!, k0!, k1!, k3!, s1!, k2!, k4!, k5!, s2!];
        A = mul3(R, S);
        tr = p.slice(3, 6);
        break;
      }
      case 'Scale':
        need(3);
        A = [p[0]!, 0, 0, 0, p[1]!, 0, 0, 0, p[2]!];
        break;
      case 'DisplacementField':
      case 'BSpline':
      case 'GaussianSmoothingOnUpdateDisplacementField':
      case 'GaussianExponentialDiffeomorphic':
      case 'ConstantVelocityField':
        throw new Error(`${kind} transforms inside a transform file are not supported; open the displacement field as an image (NIfTI, NRRD, MHA) and apply it`);
      default:
        throw new Error(`unsupported transform type ${kind}`);
    }
  } else throw new Error(`${dim}-dimensional transforms are not supported`);
  const off = [0, 1, 2].map((r) => tr[r]! + c[r]! - (A[r * 3]! * c[0]! + A[r * 3 + 1]! * c[1]! + A[r * 3 + 2]! * c[2]!));
  return [A[0]!, A[1]!, A[2]!, off[0]!, A[3]!, A[4]!, A[5]!, off[1]!, A[6]!, A[7]!, A[8]!, off[2]!, 0, 0, 0, 1];
}

/** An ITK AffineTransform_double_3_3 (centre 0) for a 4×4 LPS pull-back. */
export function matrixToItkTransform(m: Mat4): ItkTransform {
  const p = [m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10], m[3], m[7], m[11]].map(Number);
  return {
    transformType: { transformParameterization: 'Affine', parametersValueType: 'float64', inputDimension: 3, outputDimension: 3 },
    numberOfFixedParameters: 3,
    numberOfParameters: 12,
    name: '',
    inputSpaceName: '',
    outputSpaceName: '',
    parameters: Float64Array.from(p),
    fixedParameters: new Float64Array(3),
    metadata: [],
  };
}

/** Writes the matrix as an ITK affine transform (.txt/.tfm/.mat/.h5/.hdf5), atomically. */
export async function writeTransformFile(path: string, matrixLps: Mat4): Promise<void> {
  path = resolve(path);
  if (!isTransformPath(path)) throw new ImageFileError(path, `a transform file must end in ${TRANSFORM_EXTENSIONS.map((e) => `.${e}`).join(', ')}`);
  const io = await transformIo();
  const dir = dirname(path);
  const tmp = await mkdtemp(join(dir, `.${basename(path)}.`)).catch((err: NodeJS.ErrnoException) => {
    throw new ImageFileError(path, `cannot write in ${dir}: ${err.code === 'ENOENT' ? 'folder not found' : err.message}`, { cause: err });
  });
  try {
    const out = join(tmp, basename(path));
    const writer = /\.(h5|hdf5)$/i.test(path) ? io.hdf5WriteTransformNode : /\.mat$/i.test(path) ? io.matWriteTransformNode : io.txtWriteTransformNode;
    const r = await writer([matrixToItkTransform(matrixLps)] as never, out);
    if (!r.couldWrite) throw new Error('the writer refused the transform');
    await rename(out, path);
  } catch (err) {
    throw new ImageFileError(path, `cannot write: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { cause: err });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
