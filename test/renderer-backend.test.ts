// The loading store's IPC backend (src-renderer/backend.ts) over a fake LatticeApi: what it
// asks the host for and how it turns the answers into what the dialogs show.
import { describe, expect, it } from 'vitest';
import { createIpcBackend } from '../src-renderer/backend';
import type { LatticeApi } from '../src-renderer/api';
import type { ScanResult } from '../src-shared/ipc/contract';
import type { Volume } from '../src-shared/image/volume';

const volume: Volume = {
  dims: [2, 2, 2],
  spacing: [1, 1, 1],
  origin: [0, 0, 0],
  direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  data: new Int16Array(8),
  voxelType: 'int16',
  frames: 1,
  rescaleSlope: 1,
  rescaleIntercept: 0,
  metadata: { Modality: 'CT' },
};

function fakeApi(scan: Partial<ScanResult> = {}) {
  const calls: unknown[][] = [];
  const api = {
    async scanDicom(paths: string[], opts: { onProgress?: (f: number | null, m: string) => void }) {
      calls.push(['scanDicom', paths]);
      opts.onProgress?.(0.5, 'half way');
      return {
        scanId: 'scan1',
        series: [
          {
            id: 's1',
            seriesInstanceUid: '1.2.3',
            seriesNumber: 4,
            description: '',
            modality: 'MR',
            dims: [64, 64, 9],
            frames: 3,
            spacing: [3.2, 3.2, 4.00001],
            orientation: 'oblique axial',
            fileCount: 27,
            warnings: ['uneven spacing'],
            patientName: 'Doe^J',
            patientId: '1',
            studyDate: '',
            studyDescription: '',
          },
        ],
        problems: [],
        notes: [],
        ...scan,
      };
    },
    async loadSeries(scanId: string, seriesId: string, opts: { signal?: AbortSignal }) {
      calls.push(['loadSeries', scanId, seriesId, !!opts.signal]);
      return { header: { id: 'vol7', name: 'T1' }, volume, warnings: ['w'] };
    },
    async openImage(path: string) {
      calls.push(['openImage', path]);
      return { header: { id: 'vol8', name: '' }, volume: { ...volume, metadata: {} }, warnings: [] };
    },
    async releaseVolumes(ids: string[]) {
      calls.push(['releaseVolumes', ids]);
      return { released: ids.length };
    },
    async listFolder(path?: string) {
      calls.push(['listFolder', path]);
      return {
        path: '/d',
        parent: '/',
        entries: [
          { name: 'a', path: '/d/a', kind: 'folder', size: 0, mtimeMs: 0 },
          { name: 'b.nii.gz', path: '/d/b.nii.gz', kind: 'file', size: 1, mtimeMs: 0, hint: 'nifti' },
          { name: 'sock', path: '/d/sock', kind: 'other', size: 0, mtimeMs: 0 },
        ],
        places: [{ name: 'Home', path: '/home' }],
      };
    },
    async recent() {
      return [{ path: '/d/a', kind: 'dicom-folder', openedAt: '' }];
    },
    async addRecent(path: string, kind: string) {
      calls.push(['addRecent', path, kind]);
      return [];
    },
    async info() {
      return { nativeDialogs: false };
    },
    async pathsFromDrop() {
      return ['/u/old.hdr', '/u/old.img', '/u/frame.png'].map((p) => ({ name: p.slice(3), path: p }));
    },
  };
  return { api: api as unknown as LatticeApi, calls };
}

describe('IPC backend of the loading store', () => {
  it('turns a scan into series rows (4D dims, details, warnings) and reports progress', async () => {
    const { api, calls } = fakeApi();
    const b = createIpcBackend(api);
    const progress: number[] = [];
    const [s] = await b.scanFolder('/data/fmri', (f) => progress.push(f));
    expect(calls[0]).toEqual(['scanDicom', ['/data/fmri']]);
    expect(progress).toEqual([0.5]);
    expect(s).toMatchObject({ id: 's1', scanId: 'scan1', kind: 'dicom', description: 'Series 4', modality: 'MR', dims: [64, 64, 9, 3], slices: 9, warnings: ['uneven spacing'], folder: '/data/fmri' });
    expect(s.detail).toContain('3.2 × 3.2 × 4 mm');
    expect(s.detail).toContain('oblique axial');
  });

  it('names the files when a folder holds no image series', async () => {
    const { api } = fakeApi({ series: [], problems: [{ file: '/x/report.pdf', problem: 'not a DICOM file' }] });
    await expect(createIpcBackend(api).scanFolder('/x')).rejects.toThrow('/x/report.pdf: not a DICOM file');
  });

  it('loads DICOM series through dicom.load and NIfTI paths through image.open', async () => {
    const { api, calls } = fakeApi();
    const b = createIpcBackend(api);
    const [s] = await b.scanFolder('/data/fmri');
    const ctl = new AbortController();
    const r = await b.loadSeries(s, () => undefined, ctl.signal);
    expect(calls).toContainEqual(['loadSeries', 'scan1', 's1', true]);
    expect(r).toMatchObject({ name: 'T1', modality: 'CT', hostId: 'vol7', warnings: ['w'] });
    expect(r.volume).toBe(volume); // no copy

    const [n] = await b.scanFolder('/d/b.nii.gz');
    expect(n).toMatchObject({ kind: 'nifti', path: '/d/b.nii.gz', description: 'b.nii.gz' });
    expect(calls.filter((c) => c[0] === 'scanDicom')).toHaveLength(1); // a NIfTI path is not scanned
    const rn = await b.loadSeries(n, () => undefined);
    expect(calls).toContainEqual(['openImage', '/d/b.nii.gz']);
    expect(rn).toMatchObject({ name: 'b.nii.gz', hostId: 'vol8' });

    // Other image formats (NRRD, MHA, PNG, …) open through image.open too, never scanned as DICOM.
    for (const p of ['/d/frame01.png', '/d/ct.nrrd', '/d/seg.mha', '/d/old.hdr', '/d/pic.JPG']) {
      const [x] = await b.scanFolder(p);
      expect(x).toMatchObject({ kind: 'nifti', path: p });
      await b.loadSeries(x, () => undefined);
      expect(calls).toContainEqual(['openImage', p]);
    }
    expect(calls.filter((c) => c[0] === 'scanDicom')).toHaveLength(1);
    // A dropped Analyze pair (.hdr + .img) is one image; a PNG beside it another.
    const dropped = await b.scanDropped({} as DataTransfer);
    expect(dropped.map((d) => d.path)).toEqual(['/u/old.hdr', '/u/frame.png']);
  });

  it('folder listing, recent list, release, no native picker in the browser', async () => {
    const { api, calls } = fakeApi();
    const b = createIpcBackend(api);
    const l = await b.listFolder('');
    expect(calls).toContainEqual(['listFolder', undefined]);
    expect(l.entries.map((e) => [e.name, e.isDirectory, e.hint])).toEqual([
      ['a', true, undefined],
      ['b.nii.gz', false, 'nifti'],
    ]);
    expect(l.places).toEqual([{ name: 'Home', path: '/home' }]);
    expect(await b.recentFolders()).toEqual(['/d/a']);
    await b.addRecentFolder('/d/b.nii.gz');
    await b.addRecentFolder('/d/a');
    expect(calls).toContainEqual(['addRecent', '/d/b.nii.gz', 'image']);
    expect(calls).toContainEqual(['addRecent', '/d/a', 'dicom-folder']);
    await b.release(['vol7']);
    expect(calls).toContainEqual(['releaseVolumes', ['vol7']]);
    expect(await b.pickFolderNatively!()).toBeUndefined();
  });
});
