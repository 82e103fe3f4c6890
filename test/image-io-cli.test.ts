/**
 * Image files of every format in the command line and the services: `lattice info`
 * describes them, `lattice convert` converts between them (and DICOM to them); image.open /
 * volume.export through the IPC services; the NIfTI JSON sidecar makes a dcm2niix CT a CT
 * again. Fixtures: test/fixtures/image-io/make_fixtures.py (hand-written NRRD/MHA, nibabel
 * Analyze, hand-made PNG) and dcm2niix's references in ../shared/data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureNodeBuild } from './node-build';
import { readImageFile } from '../src-main/io/image-file';
import { Services, type ClientLink } from '../src-main/services';
import type { WireVolume } from '../src-shared/ipc/volume-wire';

const ROOT = resolve(__dirname, '..');
const DATA = resolve(ROOT, '../shared/data');
const PYTHON = '/usr/bin/python3';
const CT = join(DATA, 'reference/ct_ge_lightspeed_3slice/ct_ge_lightspeed_3slice_6.9_Colonoscopy_20030417104607_2');

function lattice(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/lattice.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let dir: string;
let expected: Record<string, { dims: number[]; spacing: number[]; origin: number[]; direction: number[]; values: number[] }>;
beforeAll(async () => {
  await ensureNodeBuild();
  dir = mkdtempSync(join(tmpdir(), 'lattice-imagecli-'));
  execFileSync(PYTHON, [resolve(__dirname, 'fixtures/image-io/make_fixtures.py'), dir]);
  expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lattice info', () => {
  it('describes NRRD, MHA, PNG and Analyze files with geometry (--json)', () => {
    const r = lattice('info', '--json', join(dir, 'oblique.nrrd'), join(dir, 'oblique.mha'), join(dir, 'grey8.png'), join(dir, 'analyze.hdr'));
    expect(r.code).toBe(0);
    const { images } = JSON.parse(r.out) as { images: Array<{ format: string; dims: number[]; spacing: number[]; origin: number[]; direction: number[]; oblique: boolean; range: number[] }> };
    expect(images.map((i) => i.format)).toEqual(['NRRD', 'MetaImage', 'PNG', 'Analyze 7.5']);
    const e = expected['oblique.nrrd']!;
    for (const i of images.slice(0, 2)) {
      expect(i.dims).toEqual(e.dims);
      expect(i.oblique).toBe(true);
      i.direction.forEach((x, k) => expect(x).toBeCloseTo(e.direction[k]!, 6));
      i.origin.forEach((x, k) => expect(x).toBeCloseTo(e.origin[k]!, 6));
      expect(i.range).toEqual([-50, 184]);
    }
    expect(images[2]!.spacing).toEqual([0.5, 0.5, 1]);
  });

  it('prints one line per image and names a bad file; DICOM folders are still listed', () => {
    const r = lattice('info', join(dir, 'grey16.png'), join(dir, 'missing.nrrd'), join(DATA, 'dicom/ct_ge_lightspeed_3slice'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/grey16\.png {2}PNG {2}7×5×1 uint16 {2}spacing 1×1×1 mm/);
    expect(r.err).toMatch(/missing\.nrrd: file not found/);
    expect(r.out).toMatch(/^1 series found/m);
  });
});

describe('lattice convert', () => {
  it('NRRD → NIfTI keeps voxels and the oblique geometry (checked with nibabel)', () => {
    const out = join(dir, 'from-nrrd.nii.gz');
    const r = lattice('convert', join(dir, 'oblique.nrrd'), '-o', out);
    expect(r.code, r.err).toBe(0);
    const py = execFileSync(PYTHON, ['-c', `import nibabel as nib, json, numpy as np; im = nib.load('${out}'); print(json.dumps({'affine': im.affine.tolist(), 'data': np.asarray(im.dataobj).transpose(2,1,0).reshape(-1).tolist()}))`], { encoding: 'utf8' });
    const { affine, data } = JSON.parse(py) as { affine: number[][]; data: number[] };
    const e = expected['oblique.nrrd']!;
    expect(data).toEqual(e.values);
    // RAS affine = diag(-1,-1,1) · [D·diag(spacing) | origin]
    for (let r = 0; r < 3; r++) {
      const s = r < 2 ? -1 : 1;
      for (let c = 0; c < 3; c++) expect(affine[r]![c]).toBeCloseTo(s * e.direction[r * 3 + c]! * e.spacing[c]!, 5);
      expect(affine[r]![3]).toBeCloseTo(s * e.origin[r]!, 4);
    }
  });

  it('--format writes every input into a folder; a 3D volume to PNG is refused with the reason', async () => {
    const od = join(dir, 'out');
    const r = lattice('convert', join(dir, 'oblique.mha'), join(dir, 'grey8.png'), '-o', od, '--format', 'nrrd');
    expect(r.code, r.err).toBe(0);
    const back = await readImageFile(join(od, 'oblique.nrrd'));
    expect(Array.from(back.volume.data)).toEqual(expected['oblique.mha']!.values);
    expect(existsSync(join(od, 'grey8.nrrd'))).toBe(true);
    const png = lattice('convert', join(dir, 'grey16.png'), '-o', join(dir, 'g.mha'));
    expect(png.code).toBe(0);
    const bad = lattice('convert', join(dir, 'oblique.mha'), '-o', join(dir, 'x.png'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/x\.png: PNG holds one 2D image; this volume is 5×4×3/);
    expect(lattice('convert', join(dir, 'oblique.mha'), '-o', od, '--format', 'docx').code).toBe(2);
  });

  it('a DICOM series to MHA with --format', async () => {
    const od = join(dir, 'dcm');
    const r = lattice('convert', join(DATA, 'dicom/ct_ge_lightspeed_3slice'), '-o', od, '--format', 'mha');
    expect(r.code, r.err).toBe(0);
    const file = r.out.split('\n')[0]!.split('  ')[0]!;
    expect(file).toMatch(/\.mha$/);
    const { volume } = await readImageFile(file);
    const ref = await readImageFile(`${CT}.nii`, { sidecar: false });
    expect(volume.dims).toEqual(ref.volume.dims);
  });
});

describe('lattice register with PNG frames', () => {
  it('registers two PNG frames (demons, 2D) and writes the warped frame as PNG and the field as MHA', async () => {
    const N = 64;
    const disc = (cx: number) => {
      const d = new Uint8Array(N * N);
      for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) d[y * N + x] = Math.hypot(x - cx, y - 32) < 12 ? 200 : 20 + ((x * 3 + y * 5) % 17);
      return { dims: [N, N, 1] as [number, number, number], spacing: [1, 1, 1] as [number, number, number], origin: [0, 0, 0] as [number, number, number], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as [number, number, number, number, number, number, number, number, number], data: d, voxelType: 'uint8' as const, frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
    };
    const { writeImageFile } = await import('../src-main/io/image-file');
    await writeImageFile(join(dir, 'f.png'), disc(30));
    await writeImageFile(join(dir, 'm.png'), disc(33));
    const r = lattice('register', '--fixed', join(dir, 'f.png'), '--moving', join(dir, 'm.png'), '--out-warped', join(dir, 'w.png'), '--out-field', join(dir, 'd.mha'), '--quiet');
    expect(r.code, r.err).toBe(0);
    const f = (await readImageFile(join(dir, 'f.png'))).volume.data;
    const m = (await readImageFile(join(dir, 'm.png'))).volume.data;
    const w = (await readImageFile(join(dir, 'w.png'))).volume;
    expect(w.dims).toEqual([N, N, 1]);
    const msd = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + (x - b[i]!) ** 2, 0) / a.length;
    expect(msd(w.data, f)).toBeLessThan(0.3 * msd(m, f));
    const d = (await readImageFile(join(dir, 'd.mha'))).volume;
    expect(d.frames).toBe(3);
    // At the disc's left edge the moving point is 3 px further along +i (LPS x): RAS x ≈ −3.
    expect(d.data[32 * N + 18]!).toBeLessThan(-1.5);
  });
});

describe('the NIfTI JSON sidecar', () => {
  it('a dcm2niix CT re-opened from NIfTI is a CT (modality and description from the sidecar)', async () => {
    const { volume } = await readImageFile(`${CT}.nii`);
    expect(volume.metadata.Modality).toBe('CT');
    expect(volume.metadata.ProtocolName).toBe('6.9 Colonoscopy');
    expect(volume.metadata.ImageType).toEqual(['ORIGINAL', 'PRIMARY', 'AXIAL']);
    const bare = await readImageFile(`${CT}.nii`, { sidecar: false });
    expect(bare.volume.metadata.Modality).toBeUndefined();
  });

  it('a broken sidecar is a warning naming it, not an error', async () => {
    copyFileSync(`${CT}.nii`, join(dir, 'ct.nii'));
    execFileSync('sh', ['-c', `echo '{"Modality": ' > ${join(dir, 'ct.json')}`]);
    const r = await readImageFile(join(dir, 'ct.nii'));
    expect(r.warnings.join(' ')).toMatch(/ct\.json: ignored, not valid JSON/);
    expect(r.volume.metadata.Modality).toBeUndefined();
  });
});

describe('image.open and volume.export (services)', () => {
  it('opens NRRD, PNG and NIfTI+sidecar, exports to MHA and PNG', async () => {
    const settingsDir = mkdtempSync(join(tmpdir(), 'lattice-imgsvc-'));
    const s = new Services({ transport: 'browser', settingsDir, version: 't' });
    const client: ClientLink = { id: 'c1', emit: () => undefined };
    try {
      const r = await s.dispatcher.handle('image.open', { path: join(dir, 'oblique.nrrd') }, client);
      expect(r.ok).toBe(true);
      const w = (r as { result: { volume: WireVolume } }).result.volume;
      expect(w.header.name).toBe('oblique');
      expect(w.header.source).toMatchObject({ kind: 'image' });
      expect(Array.from(new Int16Array(w.data))).toEqual(expected['oblique.nrrd']!.values);
      const ct = await s.dispatcher.handle('image.open', { path: `${CT}.nii` }, client);
      const ctHeader = (ct as { result: { volume: WireVolume } }).result.volume.header;
      expect(ctHeader.metadata.Modality).toBe('CT');
      // Exported as NIfTI, it gets a sidecar with its modality, and re-opens as a CT.
      expect(await s.dispatcher.handle('volume.export', { volumeId: ctHeader.id, path: join(dir, 'ct-export.nii.gz') }, client)).toMatchObject({ ok: true });
      expect(JSON.parse(readFileSync(join(dir, 'ct-export.json'), 'utf8'))).toMatchObject({ Modality: 'CT', ProtocolName: '6.9 Colonoscopy' });
      const again = await s.dispatcher.handle('image.open', { path: join(dir, 'ct-export.nii.gz') }, client);
      expect((again as { result: { volume: WireVolume } }).result.volume.header.metadata.Modality).toBe('CT');
      const ex = await s.dispatcher.handle('volume.export', { volumeId: w.header.id, path: join(dir, 'svc.mha') }, client);
      expect(ex).toMatchObject({ ok: true });
      expect(Array.from((await readImageFile(join(dir, 'svc.mha'))).volume.data)).toEqual(expected['oblique.nrrd']!.values);
      const png = await s.dispatcher.handle('image.open', { path: join(dir, 'grey8.png') }, client);
      const pid = (png as { result: { volume: WireVolume } }).result.volume.header.id;
      expect(await s.dispatcher.handle('volume.export', { volumeId: pid, path: join(dir, 'svc.png') }, client)).toMatchObject({ ok: true });
      const bad = await s.dispatcher.handle('image.open', { path: join(dir, 'short.txt') }, client);
      expect(bad).toMatchObject({ ok: false });
      execFileSync('sh', ['-c', `head -c 100 ${join(dir, 'oblique.mha')} > ${join(dir, 'cut.mha')}`]);
      const cut = await s.dispatcher.handle('image.open', { path: join(dir, 'cut.mha') }, client);
      expect(cut).toMatchObject({ ok: false, error: { code: 'bad-input', message: expect.stringMatching(/^cut\.mha: /) } });
    } finally {
      await s.dispose();
      rmSync(settingsDir, { recursive: true, force: true });
    }
  });
});
