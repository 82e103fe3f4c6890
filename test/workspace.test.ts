// Workspaces (issue 15): the file format's checks and paths, and `lattice workspace validate`
// on a workspace naming a real DICOM series, a NIfTI written here, a missing file and a file
// of an unknown type.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWorkspace, relativeTo, resolveFrom, dirOf, baseOf } from '../src-shared/workspace/workspace';
import { writeNiftiFile } from '../src-main/nifti/nifti-file';
import type { Mat3 } from '../src-shared/image/volume';
import { ensureNodeBuild } from './node-build';

const root = resolve(__dirname, '..');
const cli = resolve(root, 'out/node/lattice.js');
const CT = resolve(root, '../shared/data/dicom/ct_ge_lightspeed_3slice');
let dir = '';

beforeAll(async () => {
  await ensureNodeBuild();
  dir = mkdtempSync(join(tmpdir(), 'lattice-ws-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lattice(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const layer = (o: Record<string, unknown>) => ({ role: 'overlay', name: 'x', window: 1, level: 0.5, kind: 'file', ...o });

describe('workspace format', () => {
  it('relative paths inside the folder, absolute outside; resolve undoes it (POSIX and Windows spellings)', () => {
    expect(relativeTo('/data/study', '/data/study/ct')).toBe('ct');
    expect(relativeTo('/data/study', '/data/study/sub/m.nii.gz')).toBe('sub/m.nii.gz');
    expect(relativeTo('/data/study', '/data/studyX/m.nii.gz')).toBe('/data/studyX/m.nii.gz');
    expect(relativeTo('/data/study', '/other/m.nii')).toBe('/other/m.nii');
    expect(resolveFrom('/data/study', 'sub/m.nii.gz')).toBe('/data/study/sub/m.nii.gz');
    expect(resolveFrom('/data/study', '../ct')).toBe('/data/ct');
    expect(resolveFrom('/data/study', '/abs/f.nii')).toBe('/abs/f.nii');
    expect(relativeTo('C:\\data\\study', 'C:\\data\\study\\ct')).toBe('ct');
    expect(resolveFrom('C:\\data\\study', 'ct')).toBe('C:\\data\\study\\ct');
    expect(dirOf('/a/b/c.json')).toBe('/a/b');
    expect(baseOf('/a/b/c.json')).toBe('c.json');
  });

  it('accepts a minimal workspace with defaults; names every problem of a bad one', () => {
    const ws = parseWorkspace(JSON.stringify({ format: 'lattice-workspace', version: 1, layers: [layer({ role: 'main', file: 'ct', kind: 'dicom' })] }));
    expect(ws.layers[0]).toMatchObject({ colormap: 'grayscale', opacity: 1, visible: true, nickname: '', isLabel: false });
    expect(ws.shownLayer).toBeNull();
    expect(() => parseWorkspace('{', 'w.json')).toThrow(/^w\.json: not a workspace \(invalid JSON/);
    expect(() => parseWorkspace('{"layers": []}', 'w.json')).toThrow('w.json: not a Lattice workspace (no "format": "lattice-workspace")');
    const bad = { format: 'lattice-workspace', version: 1, shownLayer: 1, layers: [layer({ file: 'a.nii' }), layer({ file: 'b.nii', window: -1, clipLayer: 1 })] };
    let msg = '';
    try {
      parseWorkspace(JSON.stringify(bad), 'w.json');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/layers\.1\.window: must be > 0/);
    expect(msg).toMatch(/layers: must have exactly one layer with role "main" \(has 0\)/);
    expect(msg).toMatch(/shownLayer: must be the index of an image layer/);
    expect(msg).toMatch(/layers\.1\.clipLayer: must be the index of another layer/);
  });

  it('the 3D camera is optional (older files stay valid) and checked when present', () => {
    const base = { format: 'lattice-workspace', version: 1, layers: [layer({ role: 'main', file: 'ct', kind: 'dicom' })] };
    expect(parseWorkspace(JSON.stringify(base)).camera3d).toBeUndefined();
    const cam = { position: [10, -400.5, 20], focalPoint: [10, 0, 20], viewUp: [0, 0, 1], viewAngle: 30 };
    expect(parseWorkspace(JSON.stringify({ ...base, camera3d: cam })).camera3d).toEqual(cam);
    expect(() => parseWorkspace(JSON.stringify({ ...base, camera3d: { ...cam, viewAngle: 0 } }), 'w.json')).toThrow(/camera3d\.viewAngle: must be between 0 and 180/);
    expect(() => parseWorkspace(JSON.stringify({ ...base, camera3d: { ...cam, position: cam.focalPoint } }), 'w.json')).toThrow(/camera3d: position must differ from focalPoint/);
    expect(() => parseWorkspace(JSON.stringify({ ...base, camera3d: { ...cam, viewUp: [0, 0] } }), 'w.json')).toThrow(/camera3d\.viewUp/);
  });
});

describe('lattice workspace validate', () => {
  it('a valid workspace (real DICOM series + NIfTI beside it) passes; missing and unknown files are named, one line each', async () => {
    const info = lattice('info', CT, '--json');
    const uid = (JSON.parse(info.out) as { series: { seriesInstanceUid: string }[] }).series[0].seriesInstanceUid;
    expect(uid).toMatch(/^[0-9.]+$/);
    const v = { dims: [4, 3, 2] as [number, number, number], spacing: [1, 1, 2] as [number, number, number], origin: [0, 0, 0] as [number, number, number], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as Mat3, data: new Uint8Array(24).fill(1), voxelType: 'uint8' as const, frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
    await writeNiftiFile(join(dir, 'ws.mask.nii.gz'), v);
    const good = { format: 'lattice-workspace', version: 1, layers: [layer({ role: 'main', file: CT, kind: 'dicom', series: { uid, dims: [512, 512, 3] }, name: 'CT' }), layer({ file: 'ws.mask.nii.gz', name: 'mask', isLabel: true })] };
    writeFileSync(join(dir, 'good.json'), JSON.stringify(good));
    const ok = lattice('workspace', 'validate', 'good.json');
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/good\.json: 2 layers, 2 found — valid/);

    writeFileSync(join(dir, 'junk.nii'), 'not an image');
    const bad = { ...good, layers: [...good.layers, layer({ file: 'gone.nii.gz', name: 'gone' }), layer({ file: 'notes.txt', name: 'notes' }), layer({ file: 'junk.nii', name: 'junk' }), layer({ role: 'additional', file: CT, kind: 'dicom', series: { uid: '1.2.3' }, name: 'other' })] };
    writeFileSync(join(dir, 'notes.txt'), 'x');
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    const r = lattice('workspace', 'validate', 'bad.json');
    expect(r.code).toBe(1);
    const lines = r.err.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe(`layer 3 (gone): ${join(dir, 'gone.nii.gz')} does not exist`);
    expect(lines[1]).toBe(`layer 4 (notes): ${join(dir, 'notes.txt')}: unknown image file type (Lattice opens NIfTI .nii / .nii.gz files)`);
    expect(lines[2]).toMatch(new RegExp(`^layer 5 \\(junk\\): ${join(dir, 'junk.nii').replace(/[.]/g, '\\.')}: not a readable NIfTI file`));
    expect(lines[3]).toMatch(/^layer 6 \(other\): .*: no series with SeriesInstanceUID 1\.2\.3/);
    expect(r.out).toMatch(/bad\.json: 6 layers, 2 found, 4 problems/);

    writeFileSync(join(dir, 'broken.json'), '{"format": "lattice-workspace", "version": 1, "layers": []}');
    const b = lattice('workspace', 'validate', 'broken.json');
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/broken\.json: layers: must list at least the main image/);
    expect(lattice('workspace').code).toBe(2);
    expect(lattice('workspace', 'check', 'x.json').err).toMatch(/unknown subcommand 'check'/);
  });
});
