/**
 * ITK transform files through itk-wasm (src-main/io/transform-file.ts) and displacement
 * fields applied to images (src-shared/image/warp-field.ts): hand-written ITK text files of
 * several parameterizations against our own ITK text parser and closed forms, .h5/.mat/.tfm
 * round trips, the 4×4 matrix text, errors naming the file; a field written as MHA by
 * itk-wasm applied through the processing job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mat4, Vec3, Volume } from '../src-shared/image/volume';
import { readTransformFile, writeTransformFile } from '../src-main/io/transform-file';
import { formatItkAffine, parseItkAffine } from '../src-shared/registration/itk-transform';
import { readImageFile, writeImageFile } from '../src-main/io/image-file';
import { runProcessingJob } from '../src-shared/processing/jobs';
import { warpWithField } from '../src-shared/image/warp-field';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lattice-tfm-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function itkText(type: string, params: number[], fixed: number[]): string {
  return `#Insight Transform File V1.0\n#Transform 0\nTransform: ${type}\nParameters: ${params.join(' ')}\nFixedParameters: ${fixed.join(' ')}\n`;
}

function closeMat(a: Mat4, b: Mat4, tol = 1e-9): void {
  for (let i = 0; i < 16; i++) expect(Math.abs(a[i]! - b[i]!), `element ${i}: ${a} vs ${b}`).toBeLessThan(tol);
}

async function read(name: string, text: string) {
  writeFileSync(join(dir, name), text);
  return readTransformFile(join(dir, name));
}

describe('ITK transform files', () => {
  it('an affine with a centre reads as our own ITK parser reads it', async () => {
    const p = [1.1, 0.1, -0.05, -0.08, 0.95, 0.2, 0.03, -0.1, 1.02, 4, -7, 12.5];
    const text = itkText('AffineTransform_double_3_3', p, [10, -20, 30]);
    const r = await read('affine.txt', text);
    expect(r.description).toBe('Affine');
    closeMat(r.matrixLps, parseItkAffine(text));
  });

  it('Euler3D (both angle orders), VersorRigid3D and Similarity3D give the rotations ITK defines', async () => {
    const a = 0.3;
    const c = Math.cos(a), s = Math.sin(a);
    // About z only: every order gives Rz; the centre (1, 2, 3) stays fixed.
    const ez = await read('ez.tfm', itkText('Euler3DTransform_double_3_3', [0, 0, a, 0, 0, 0], [1, 2, 3, 0]));
    const Rz = [c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
    const centre: Vec3 = [1, 2, 3];
    const off = [0, 1, 2].map((r) => centre[r]! - (Rz[r * 4]! * 1 + Rz[r * 4 + 1]! * 2 + Rz[r * 4 + 2]! * 3));
    closeMat(ez.matrixLps, [c, -s, 0, off[0]!, s, c, 0, off[1]!, 0, 0, 1, off[2]!, 0, 0, 0, 1]);
    // Versor for the same rotation: (0, 0, sin(a/2)).
    const vz = await read('vz.txt', itkText('VersorRigid3DTransform_double_3_3', [0, 0, Math.sin(a / 2), 0, 0, 0], [1, 2, 3]));
    closeMat(vz.matrixLps, ez.matrixLps, 1e-12);
    // x then y: default order Rz·Rx·Ry vs ComputeZYX Rz·Ry·Rx differ, and each matches its closed form.
    const xy = [0.2, -0.4];
    const Rx = [1, 0, 0, 0, Math.cos(xy[0]!), -Math.sin(xy[0]!), 0, Math.sin(xy[0]!), Math.cos(xy[0]!)];
    const Ry = [Math.cos(xy[1]!), 0, Math.sin(xy[1]!), 0, 1, 0, -Math.sin(xy[1]!), 0, Math.cos(xy[1]!)];
    const mul = (p: number[], q: number[]) => [0, 1, 2].flatMap((r) => [0, 1, 2].map((cc) => p[r * 3]! * q[cc]! + p[r * 3 + 1]! * q[3 + cc]! + p[r * 3 + 2]! * q[6 + cc]!));
    const xyz = await read('exy.txt', itkText('Euler3DTransform_double_3_3', [xy[0]!, xy[1]!, 0, 1, 2, 3], [0, 0, 0, 0]));
    const zyx = await read('ezyx.txt', itkText('Euler3DTransform_double_3_3', [xy[0]!, xy[1]!, 0, 1, 2, 3], [0, 0, 0, 1]));
    const A1 = mul(Rx, Ry), A2 = mul(Ry, Rx);
    for (let r = 0; r < 3; r++)
      for (let k = 0; k < 3; k++) {
        expect(xyz.matrixLps[r * 4 + k]).toBeCloseTo(A1[r * 3 + k]!, 12);
        expect(zyx.matrixLps[r * 4 + k]).toBeCloseTo(A2[r * 3 + k]!, 12);
      }
    expect([xyz.matrixLps[3], xyz.matrixLps[7], xyz.matrixLps[11]]).toEqual([1, 2, 3]);
    const sim = await read('sim.txt', itkText('Similarity3DTransform_double_3_3', [0, 0, Math.sin(a / 2), 0, 0, 0, 2], [1, 2, 3]));
    for (const k of [0, 1, 4, 5]) expect(sim.matrixLps[k]).toBeCloseTo(2 * ez.matrixLps[k]!, 12);
  });

  it('2D rigid transforms act in the x-y plane; translations and composites compose', async () => {
    const r2 = await read('r2.txt', itkText('Euler2DTransform_double_2_2', [Math.PI / 2, 5, 0], [0, 0]));
    closeMat(r2.matrixLps, [0, -1, 0, 5, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], 1e-12);
    const t = await read('t.txt', itkText('TranslationTransform_double_3_3', [1, -2, 3], []));
    closeMat(t.matrixLps, [1, 0, 0, 1, 0, 1, 0, -2, 0, 0, 1, 3, 0, 0, 0, 1]);
  });

  it('.h5, .mat, .tfm and .txt round trips of a 4×4; the 4×4 matrix text; errors name the file', async () => {
    const m: Mat4 = [0.98, -0.17, 0.02, 3.5, 0.17, 0.98, -0.05, -11, -0.01, 0.05, 1.01, 7.25, 0, 0, 0, 1];
    for (const ext of ['h5', 'mat', 'tfm', 'txt']) {
      const p = join(dir, `rt.${ext}`);
      await writeTransformFile(p, m);
      const r = await readTransformFile(p);
      closeMat(r.matrixLps, m, 1e-12);
    }
    // Our ITK text writer and the 4×4 text the app saves read back the same way.
    closeMat((await read('ours.txt', formatItkAffine(m))).matrixLps, m, 1e-12);
    closeMat((await read('m44.mat', `${m.slice(0, 4).join(' ')}\n${m.slice(4, 8).join(' ')}\n${m.slice(8, 12).join(' ')}\n0 0 0 1\n`)).matrixLps, m);
    await expect(read('bad.txt', 'hello\n')).rejects.toThrow(/^bad\.txt: cannot read as an ITK transform/);
    await expect(read('bs.txt', itkText('BSplineTransform_double_3_3', [0], [0]))).rejects.toThrow(/^bs\.txt: /);
    await expect(readTransformFile(join(dir, 'none.h5'))).rejects.toThrow(/none\.h5: file not found/);
  });
});

describe('displacement fields applied to an image', () => {
  /** A 2D-ish test image: value = 10 i + j on an oblique grid. */
  function image(): Volume {
    const dims: Vec3 = [20, 16, 3];
    const data = new Float32Array(20 * 16 * 3);
    for (let k = 0; k < 3; k++) for (let j = 0; j < 16; j++) for (let i = 0; i < 20; i++) data[i + 20 * (j + 16 * k)] = 10 * i + j + 100 * k;
    const c = Math.cos(0.5), s = Math.sin(0.5);
    return { dims, spacing: [2, 1.5, 3], origin: [5, -4, 20], direction: [c, -s, 0, s, c, 0, 0, 0, 1], data, voxelType: 'float32', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
  }

  it('a constant field written as MHA (LPS vectors in the file) moves the image by its vector', async () => {
    const img = image();
    const n = 20 * 16 * 3;
    // Displacement = one voxel along i, in RAS mm: i's LPS direction × 2 mm, x and y negated.
    const dLps = [img.direction[0]! * 2, img.direction[3]! * 2, img.direction[6]! * 2];
    const data = new Float32Array(3 * n);
    for (let o = 0; o < n; o++) {
      data[o] = -dLps[0]!;
      data[n + o] = -dLps[1]!;
      data[2 * n + o] = dLps[2]!;
    }
    const field: Volume = { ...img, data, frames: 3, metadata: { vectorComponents: 3 } };
    await writeImageFile(join(dir, 'shift.mha'), field);
    const read = (await readImageFile(join(dir, 'shift.mha'))).volume;
    const out = runProcessingJob('processing.warpField', {}, [img, read]).volumes[0]!;
    expect(out.dims).toEqual(img.dims);
    // out(i, j, k) = img(i + 1, j, k) = value + 10 (inside the grid).
    for (const [i, j, k] of [[0, 0, 0], [5, 7, 1], [18, 15, 2]] as const) expect(out.data[i + 20 * (j + 16 * k)]).toBeCloseTo(img.data[i + 20 * (j + 16 * k)]! + 10, 4);
    // A zero field is the identity; a non-field volume is refused.
    const zero: Volume = { ...field, data: new Float32Array(3 * n) };
    expect(Array.from(warpWithField(img, zero))).toEqual(Array.from(img.data));
    expect(() => runProcessingJob('processing.warpField', {}, [img, img])).toThrow(/3-component vector image/);
  });
});
