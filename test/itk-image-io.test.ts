/**
 * Image formats through itk-wasm (src-main/io): files written by other tools (hand-written
 * NRRD and MetaImage headers with a non-axial direction, a VTK legacy file, nibabel's
 * Analyze, hand-made PNGs;
 * see test/fixtures/image-io/make_fixtures.py) and by itk-wasm itself, read back against
 * known voxels and LPS geometry; our writers read back by itk-wasm; errors name the file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Mat3, Vec3, Volume } from '../src-shared/image/volume';
import { readImageFile, writeImageFile } from '../src-main/io/image-file';
import { readItkImage, volumeToItkImage } from '../src-main/io/itk-image-io';
import { imageFormatOf, formatForName, stripImageExtension } from '../src-shared/image/file-formats';

const PYTHON = '/usr/bin/python3';
let dir: string;
let expected: Record<string, { dims: number[]; spacing: number[]; origin?: number[]; direction?: number[]; voxelType: string; values: number[]; rgb?: boolean }>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lattice-imageio-'));
  execFileSync(PYTHON, [resolve(__dirname, 'fixtures/image-io/make_fixtures.py'), dir]);
  expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  expect(Array.from(a).length).toBe(Array.from(b).length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!), `element ${i}: ${a[i]} vs ${b[i]}`).toBeLessThan(tol);
}

/** A small oblique int16 volume with anisotropic spacing. */
function testVolume(): Volume {
  const dims: Vec3 = [6, 5, 4];
  const data = new Int16Array(6 * 5 * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 900 - 300;
  const c = Math.cos(0.4);
  const s = Math.sin(0.4);
  const direction: Mat3 = [c, 0, s, 0, 1, 0, -s, 0, c];
  return { dims, spacing: [0.8, 1.25, 3], origin: [-10, 20.5, -30], direction, data, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

describe('file formats by name', () => {
  it('recognises extensions, double ones included', () => {
    expect(imageFormatOf('/a/b/CT.NII.GZ')?.format).toBe('nifti');
    expect(imageFormatOf('x.nhdr')?.format).toBe('nrrd');
    expect(imageFormatOf('x.mhd')?.format).toBe('meta');
    expect(imageFormatOf('x.img')?.format).toBe('analyze');
    expect(imageFormatOf('frame.JPEG')?.format).toBe('jpeg');
    expect(imageFormatOf('IM0001')).toBeNull();
    expect(imageFormatOf('x.dcm')).toBeNull();
    expect(formatForName('nii.gz')).toEqual({ format: expect.objectContaining({ format: 'nifti' }), extension: 'nii.gz' });
    expect(formatForName('mha')?.format.format).toBe('meta');
    expect(formatForName('png')?.extension).toBe('png');
    expect(stripImageExtension('brain.nii.gz')).toBe('brain');
  });
});

describe('files written by other tools', () => {
  for (const name of ['oblique.nrrd', 'detached.nhdr', 'oblique.mha', 'plain.mhd', 'points.vtk', 'analyze.hdr', 'grey8.png', 'grey16.png', 'rgb.png']) {
    it(`reads ${name}: voxels and world geometry`, async () => {
      const e = expected[name]!;
      const { volume, warnings } = await readImageFile(join(dir, name));
      expect(volume.dims).toEqual(e.dims);
      expect(volume.frames).toBe(1);
      expect(volume.voxelType).toBe(e.voxelType);
      close(volume.spacing, e.spacing);
      if (e.origin) close(volume.origin, e.origin, 1e-4);
      if (e.direction) close(volume.direction, e.direction, 1e-5);
      close(volume.data, e.values, 1e-6);
      if (e.rgb) expect(warnings.join(' ')).toMatch(/grey/);
      expect(volume.metadata.sourceFormat).toBe(imageFormatOf(name)!.label);
    });
  }

  it('reads the .img of an Analyze pair like its .hdr', async () => {
    const { volume } = await readImageFile(join(dir, 'analyze.img'));
    close(volume.data, expected['analyze.hdr']!.values);
  });
});

describe('written by itk-wasm, read back', () => {
  for (const ext of ['nrrd', 'nhdr', 'mha', 'mhd', 'vtk', 'mnc', 'mgh', 'gipl']) {
    it(`${ext}: oblique int16 volume keeps voxels and geometry`, async () => {
      const v = testVolume();
      const p = join(dir, `rt.${ext}`);
      await writeImageFile(p, v);
      const { volume } = await readImageFile(p);
      expect(volume.dims).toEqual(v.dims);
      close(volume.data, v.data);
      close(volume.spacing, v.spacing, 1e-4);
      // VTK legacy images and GIPL have no direction; the others keep it.
      if (ext !== 'vtk' && ext !== 'gipl') {
        close(volume.origin, v.origin, 1e-3);
        close(volume.direction, v.direction, 1e-5);
      }
    });
  }

  for (const [ext, type] of [['png', 'uint8'], ['tif', 'uint16'], ['bmp', 'uint8'], ['jpg', 'uint8']] as const) {
    it(`${ext}: a one-slice picture opens as a one-slice volume`, async () => {
      const data = type === 'uint8' ? new Uint8Array(40 * 30) : new Uint16Array(40 * 30);
      for (let j = 0; j < 30; j++) for (let i = 0; i < 40; i++) data[j * 40 + i] = i < 20 ? 200 : 20; // left half bright
      const v: Volume = { dims: [40, 30, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: type, frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
      const p = join(dir, `pic.${ext}`);
      await writeImageFile(p, v);
      const { volume } = await readImageFile(p);
      expect(volume.dims).toEqual([40, 30, 1]);
      close(volume.spacing, [1, 1, 1], 1e-6); // TIFF stores a rational resolution
      if (ext === 'jpg') {
        // Lossy: the two halves stay apart.
        expect(volume.data[5 * 40 + 5]).toBeGreaterThan(180);
        expect(volume.data[5 * 40 + 35]).toBeLessThan(40);
      } else close(volume.data, data);
    });
  }

  it('float data to PNG are scaled to 8 bits with a warning; 3D volumes are refused for PNG', async () => {
    const data = new Float32Array(4 * 3).map((_, i) => i * 0.25 - 1);
    const v: Volume = { dims: [4, 3, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'float32', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
    const { warnings } = await writeImageFile(join(dir, 'f.png'), v);
    expect(warnings.join(' ')).toMatch(/scaled to 0…255/);
    const { volume } = await readImageFile(join(dir, 'f.png'));
    expect(volume.data[0]).toBe(0);
    expect(volume.data[11]).toBe(255);
    await expect(writeImageFile(join(dir, 'vol.png'), testVolume())).rejects.toThrow(/vol\.png: PNG holds one 2D image; this volume is 6×5×4/);
  });

  it('rescale slope/intercept are applied for formats without them', async () => {
    const v = testVolume();
    v.rescaleSlope = 2;
    v.rescaleIntercept = -1024;
    const { warnings } = await writeImageFile(join(dir, 'ct.nrrd'), v);
    expect(warnings.join(' ')).toMatch(/slope 2/);
    const { volume } = await readImageFile(join(dir, 'ct.nrrd'));
    expect(volume.voxelType).toBe('int16');
    expect(volume.data[7]).toBe(v.data[7]! * 2 - 1024);
  });

  it('a vector image (displacement field) keeps RAS components in memory and LPS in the file', async () => {
    const v = testVolume();
    const n = 6 * 5 * 4;
    const data = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) {
      data[i] = 1; // x (RAS)
      data[n + i] = 2;
      data[2 * n + i] = 3;
    }
    const field: Volume = { ...v, data, voxelType: 'float32', frames: 3, metadata: { vectorComponents: 3 } };
    const { image } = volumeToItkImage(field, 'meta');
    expect(image.imageType.components).toBe(3);
    expect(Array.from((image.data as Float32Array).subarray(0, 3))).toEqual([-1, -2, 3]); // LPS, interleaved
    await writeImageFile(join(dir, 'field.mha'), field);
    const { volume } = await readImageFile(join(dir, 'field.mha'));
    expect(volume.frames).toBe(3);
    expect(volume.metadata.vectorComponents).toBe(3);
    expect([volume.data[0], volume.data[n], volume.data[2 * n]]).toEqual([1, 2, 3]);
  });

  it('a 4D volume (frames, not vector components) round-trips through NRRD and MHA as frames', async () => {
    const v = testVolume();
    const n = 6 * 5 * 4;
    const data = new Int16Array(3 * n).map((_, i) => i - 100);
    const series: Volume = { ...v, data, frames: 3, frameSpacing: 2.5 };
    for (const ext of ['nrrd', 'mha']) {
      await writeImageFile(join(dir, `4d.${ext}`), series);
      const { volume } = await readImageFile(join(dir, `4d.${ext}`));
      expect(volume.frames).toBe(3);
      expect(volume.dims).toEqual(v.dims);
      expect(volume.frameSpacing).toBeCloseTo(2.5, 6);
      close(volume.direction, v.direction);
      close(volume.data, data);
    }
  });

  it('writes atomically: no temporary files are left, an existing file is replaced', async () => {
    const p = join(dir, 'atomic', 'a.nhdr');
    execFileSync('mkdir', ['-p', join(dir, 'atomic')]);
    await writeImageFile(p, testVolume());
    await writeImageFile(p, testVolume());
    expect(readdirSync(join(dir, 'atomic')).sort()).toEqual(['a.nhdr', 'a.raw']);
  });
});

describe('bad files', () => {
  it('a corrupt NRRD, an empty PNG and a truncated MHA give errors naming the file', async () => {
    writeFileSync(join(dir, 'bad.nrrd'), 'NRRD0004\ntype: banana\n\n');
    await expect(readItkImage(join(dir, 'bad.nrrd'))).rejects.toThrow(/^bad\.nrrd: /);
    writeFileSync(join(dir, 'empty.png'), '');
    await expect(readImageFile(join(dir, 'empty.png'))).rejects.toThrow(/empty\.png: the file is empty/);
    const mha = readFileSync(join(dir, 'oblique.mha'));
    writeFileSync(join(dir, 'short.mha'), mha.subarray(0, mha.length - 20));
    await expect(readImageFile(join(dir, 'short.mha'))).rejects.toThrow(/^short\.mha: /);
    await expect(readImageFile(join(dir, 'none.nrrd'))).rejects.toThrow(/none\.nrrd: file not found/);
    await expect(readImageFile(join(dir, 'x.docx'))).rejects.toThrow(/x\.docx: not an image file/);
  });
});
