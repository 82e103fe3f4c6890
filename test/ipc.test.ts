// The IPC contract: run-time validation of every request's arguments, the dispatcher's
// error envelopes, task progress/cancel, jobs, and the binary volume wire format.
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { IpcError, channels, parseArgs, requestSchemas, type Events } from '../src-shared/ipc/contract';
import { expectedByteLength, fromWireVolume, toWireVolume, voxelBuffer } from '../src-shared/ipc/volume-wire';
import { extractBinaries, insertBinaries } from '../src-shared/ipc/wire-codec';
import { Services, type ClientLink, type JobCatalog } from '../src-main/services/index';
import type { JobRunner } from '../src-main/jobs/types';
import type { Readers } from '../src-main/services/readers';
import type { Volume } from '../src-shared/image/volume';

function volume(dims: [number, number, number] = [4, 3, 2]): Volume {
  const data = new Int16Array(dims[0] * dims[1] * dims[2]);
  for (let i = 0; i < data.length; i++) data[i] = i * 7 - 20;
  return {
    dims,
    spacing: [0.5, 0.75, 2.5],
    origin: [-10, 20.5, 3],
    direction: [0, 0, 1, 1, 0, 0, 0, 1, 0],
    data,
    voxelType: 'int16',
    frames: 1,
    rescaleSlope: 1,
    rescaleIntercept: -1024,
    metadata: { Modality: 'CT', ImageType: ['ORIGINAL', 'PRIMARY'] },
  };
}

function expectInvalid(channel: Parameters<typeof parseArgs>[0], args: unknown, field: RegExp) {
  let err: unknown;
  try {
    parseArgs(channel, args);
  } catch (e) {
    err = e;
  }
  expect(err, `${channel} accepted ${JSON.stringify(args)}`).toBeInstanceOf(IpcError);
  const e = err as IpcError;
  expect(e.code).toBe('invalid-args');
  expect(e.message.startsWith(`${channel}: invalid arguments: `)).toBe(true);
  expect(e.message).toMatch(field);
  return e;
}

describe('argument validation (zod schemas of the contract)', () => {
  it('accepts well-formed arguments and fills nothing in silently', () => {
    expect(parseArgs('dicom.scan', { paths: ['/data/ct'] })).toEqual({ paths: ['/data/ct'] });
    expect(parseArgs('dicom.load', { scanId: 's', seriesId: '1', task: 't1' })).toEqual({ scanId: 's', seriesId: '1', task: 't1' });
    expect(parseArgs('fs.list', undefined)).toEqual({});
    expect(parseArgs('volume.export', { volumeId: 'v', path: '/tmp/a.nii.gz' }).path).toBe('/tmp/a.nii.gz');
  });

  it('names the bad field and what was wrong', () => {
    const e = expectInvalid('dicom.scan', { paths: ['/ok', 42] }, /paths\[1\]: .*expected string, received number/);
    expect(e.issues).toEqual([expect.stringMatching(/^paths\[1\]: /)]);
    expectInvalid('dicom.scan', {}, /paths: .*expected array/);
    expectInvalid('dicom.scan', { paths: [] }, /paths: must list at least one file or folder/);
    expectInvalid('dicom.scan', { paths: [''] }, /paths\[0\]: must not be empty/);
    expectInvalid('dicom.scan', { paths: ['/a\0b'] }, /paths\[0\]: must not contain NUL/);
    expectInvalid('dicom.load', { scanId: 'x', seriesId: 3 }, /seriesId: .*expected string, received number/);
    expectInvalid('image.open', { path: '/x.nii', extra: true }, /unknown field\(s\) "extra"/);
    expectInvalid('volume.export', { volumeId: 'v', path: '/tmp/out.docx' }, /path: must end in \.nii, \.nii\.gz or another writable image extension/);
    expectInvalid('volume.export', { volumeId: 'v', path: '/tmp/out.hdr' }, /path: must end in \.nii/); // Analyze: read only
    expect(parseArgs('volume.export', { volumeId: 'v', path: '/tmp/a.nrrd' }).path).toBe('/tmp/a.nrrd');
    expectInvalid('recent.add', { path: '/x', kind: 'movie' }, /kind: /);
    expectInvalid('job.start', { kind: 'mask', args: [], inputs: [] }, /args: .*expected record/);
    expectInvalid('dialog.open', { kind: 'folder' }, /kind: /);
  });

  it('rejects path traversal in dropped-file uploads', () => {
    const data = new ArrayBuffer(4);
    expect(parseArgs('upload.files', { files: [{ relativePath: 'scan/IM1', data }] }).files[0]!.relativePath).toBe('scan/IM1');
    for (const bad of ['../etc/passwd', 'a/../../b', '/abs/file', 'C:/x', 'a//b', 'a\\..\\b'])
      expectInvalid('upload.files', { files: [{ relativePath: bad, data }] }, /files\[0\]\.relativePath: must be a plain relative path/);
    expectInvalid('upload.files', { files: [{ relativePath: 'a', data: 'AAAA' }] }, /files\[0\]\.data: must be an ArrayBuffer/);
  });

  it('checks volume headers field by field', () => {
    const w = toWireVolume('', 'seg', volume());
    const { id: _id, ...header } = w.header;
    expect(() => parseArgs('volume.put', { volume: { header, data: w.data } })).not.toThrow();
    expectInvalid('volume.put', { volume: { header: { ...header, dims: [4, 0, 2] }, data: w.data } }, /volume\.header\.dims\[1\]: /);
    expectInvalid('volume.put', { volume: { header: { ...header, spacing: [1, -1, 1] }, data: w.data } }, /volume\.header\.spacing\[1\]: /);
    expectInvalid('volume.put', { volume: { header: { ...header, voxelType: 'int64' }, data: w.data } }, /volume\.header\.voxelType: /);
    expectInvalid('volume.put', { volume: { header: { ...header, origin: [0, NaN, 0] }, data: w.data } }, /volume\.header\.origin\[1\]: /);
    expectInvalid('volume.put', { volume: { header, data: Array.from(new Uint8Array(w.data)) } }, /volume\.data: must be an ArrayBuffer/);
  });

  it('refuses unknown channels with their own error code', () => {
    expect(() => parseArgs('fs.delete' as never, {})).toThrow(/unknown IPC channel "fs.delete"/);
  });

  it('has a schema for every channel', () => {
    for (const c of channels) expect(requestSchemas[c]).toBeInstanceOf(z.ZodType);
    expect(channels).toContain('job.start');
  });
});

describe('binary volume encoding', () => {
  it('round-trips a volume through one ArrayBuffer without copying on receipt', () => {
    const v = volume();
    const w = toWireVolume('vol-1', 'CT', v, { kind: 'dicom' });
    expect(w.data).toBe(v.data.buffer); // typed array spans its buffer: no copy on send either
    expect(w.header.byteLength).toBe(expectedByteLength(w.header));
    const back = fromWireVolume(w);
    expect(back.data).toBeInstanceOf(Int16Array);
    expect(back.data.buffer).toBe(w.data);
    expect(Array.from(back.data)).toEqual(Array.from(v.data));
    expect(back.direction).toEqual(v.direction);
    expect(back.spacing).toEqual(v.spacing);
    expect(back.rescaleIntercept).toBe(-1024);
  });

  it('copies only when the voxels are a view into a larger buffer', () => {
    const big = new Int16Array(100).map((_, i) => i);
    const view = big.subarray(10, 34);
    const buf = voxelBuffer({ data: view });
    expect(buf).not.toBe(big.buffer);
    expect(Array.from(new Int16Array(buf))).toEqual(Array.from(view));
  });

  it('refuses a buffer whose length does not match the header', () => {
    const w = toWireVolume('v', 'x', volume());
    expect(() => fromWireVolume({ header: w.header, data: new ArrayBuffer(10) })).toThrow(/received 10 bytes, expected 48 for 4×3×2×1 int16/);
  });

  it('moves ArrayBuffers out of the JSON and back', () => {
    const a = new ArrayBuffer(8);
    const b = new ArrayBuffer(3);
    const { json, buffers } = extractBinaries({ ok: true, result: { volume: { header: { n: 1 }, data: a }, list: [b, 2] } });
    expect(buffers).toEqual([a, b]);
    expect(JSON.parse(JSON.stringify(json))).toEqual({ ok: true, result: { volume: { header: { n: 1 }, data: { $bin: 0 } }, list: [{ $bin: 1 }, 2] } });
    const back = insertBinaries(JSON.parse(JSON.stringify(json)), buffers) as { result: { volume: { data: ArrayBuffer }; list: unknown[] } };
    expect(back.result.volume.data).toBe(a);
    expect(back.result.list[0]).toBe(b);
    expect(() => insertBinaries({ x: { $bin: 5 } }, [])).toThrow(/missing binary frame 5/);
  });
});

// ---------- the dispatcher and services, with a fake reader ----------

function fakeClient() {
  const events: { ev: keyof Events; payload: unknown }[] = [];
  const client: ClientLink = { id: `c${Math.random()}`, emit: (ev, payload) => events.push({ ev, payload }) };
  return { client, events };
}

async function withServices<T>(readers: Partial<Readers>, fn: (s: Services, dir: string) => Promise<T>, jobs?: { runner: JobRunner; catalog: JobCatalog }): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'lattice-ipc-test-'));
  const s = new Services({
    transport: 'browser',
    settingsDir: dir,
    version: 't',
    readers: readers as Readers,
    ...(jobs ? { jobRunner: () => jobs.runner, jobCatalog: () => jobs.catalog } : {}),
  });
  try {
    return await fn(s, dir);
  } finally {
    await s.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('dispatcher', () => {
  it('returns invalid-args without calling the service', async () => {
    let called = false;
    await withServices({ scanDicom: async () => ((called = true), { series: [], problems: [], notes: [] }) }, async (s) => {
      const { client } = fakeClient();
      const r = await s.dispatcher.handle('dicom.scan', { paths: 'not-an-array' }, client);
      expect(r).toEqual({ ok: false, error: { code: 'invalid-args', message: expect.stringMatching(/^dicom\.scan: invalid arguments: paths: /), issues: [expect.stringMatching(/^paths: /)] } });
      expect(called).toBe(false);
      const u = await s.dispatcher.handle('no.such', {}, client);
      expect(u).toMatchObject({ ok: false, error: { code: 'unknown-channel' } });
      const n = await s.dispatcher.handle(42, {}, client);
      expect(n).toMatchObject({ ok: false, error: { code: 'unknown-channel' } });
    });
  });

  it('reports progress for a task and cancels it on task.cancel', async () => {
    await withServices(
      {
        scanDicom: (_inputs, opts) =>
          new Promise((resolve, reject) => {
            opts?.onProgress?.(1, 4);
            opts?.onProgress?.(4, 4);
            opts?.signal?.addEventListener('abort', () => reject(new DOMException('scan cancelled', 'AbortError')));
            void resolve;
          }),
      },
      async (s) => {
        const { client, events } = fakeClient();
        const pending = s.dispatcher.handle('dicom.scan', { paths: [tmpdir()], task: 'job-a' }, client);
        await new Promise((r) => setTimeout(r, 20));
        const progress = events.filter((e) => e.ev === 'task.progress').map((e) => e.payload as Events['task.progress']);
        expect(progress.length).toBeGreaterThanOrEqual(2);
        expect(progress.every((p) => p.task === 'job-a')).toBe(true);
        expect(progress.at(-1)).toMatchObject({ fraction: 1, done: 4, total: 4 });
        // another client cannot cancel it
        expect(await s.dispatcher.handle('task.cancel', { task: 'job-a' }, fakeClient().client)).toEqual({ ok: true, result: { cancelled: false } });
        expect(await s.dispatcher.handle('task.cancel', { task: 'job-a' }, client)).toEqual({ ok: true, result: { cancelled: true } });
        expect(await pending).toMatchObject({ ok: false, error: { code: 'cancelled' } });
      },
    );
  });

  it('keeps volumes by id, exports them, and forgets them on release', async () => {
    const written: { path: string; v: Volume }[] = [];
    await withServices({ writeNiftiFile: async (path, v) => void written.push({ path, v }) }, async (s, dir) => {
      const { client } = fakeClient();
      const w = toWireVolume('', 'seg', volume());
      const { id: _id, ...header } = w.header;
      const put = await s.dispatcher.handle('volume.put', { volume: { header, data: w.data } }, client);
      expect(put.ok).toBe(true);
      const id = (put as { result: { id: string } }).result.id;
      expect(id).toMatch(/^vol-/);
      // export calls writeNiftiFile with the held volume; the fake writes nothing, so stat fails clearly
      const target = join(dir, 'seg.nii.gz');
      const ex = await s.dispatcher.handle('volume.export', { volumeId: id, path: target }, client);
      expect(written[0]?.path).toBe(target);
      expect(Array.from(written[0]!.v.data)).toEqual(Array.from(volume().data));
      expect(ex).toMatchObject({ ok: false, error: { code: 'not-found' } });
      const bad = await s.dispatcher.handle('volume.put', { volume: { header: { ...header, byteLength: 2 }, data: new ArrayBuffer(2) } }, client);
      expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-args', message: expect.stringMatching(/volume\.data: 2 bytes, expected 48/) } });
      expect(await s.dispatcher.handle('volume.release', { volumeIds: [id, 'nope'] }, client)).toEqual({ ok: true, result: { released: 1 } });
      expect(await s.dispatcher.handle('volume.get', { volumeId: id }, client)).toMatchObject({ ok: false, error: { code: 'not-found', message: expect.stringContaining(id) } });
    });
  });

  it('frees the volumes of a client that goes away (closed window, reloaded tab), not those of others', async () => {
    await withServices({}, async (s) => {
      const a = fakeClient();
      const b = fakeClient();
      const w = toWireVolume('', 'x', volume());
      const { id: _id, ...header } = w.header;
      const put = async (c: ClientLink) => ((await s.dispatcher.handle('volume.put', { volume: { header, data: w.data.slice(0) } }, c)) as { result: { id: string } }).result.id;
      const va = await put(a.client);
      const vb = await put(b.client);
      expect(s.volumes.size).toBe(2);
      s.disconnect(a.client);
      expect(await s.dispatcher.handle('volume.get', { volumeId: va }, b.client)).toMatchObject({ ok: false, error: { code: 'not-found' } });
      expect(await s.dispatcher.handle('volume.get', { volumeId: vb }, b.client)).toMatchObject({ ok: true });
    });
  });

  it('starts a job: validates kind, args and inputs up front, reports progress, stores the new volumes by id', async () => {
    const scaleParams = z.object({ factor: z.number().positive() }).strict();
    const calls: { kind: string; params: unknown; transfer?: string }[] = [];
    const runner: JobRunner = {
      async run(kind, params, inputs, opts = {}) {
        calls.push({ kind, params, transfer: opts.transfer });
        opts.onProgress?.(0.5, 'halfway');
        const { factor } = scaleParams.parse(params);
        const v = inputs[0]!;
        return { volumes: [{ ...v, data: Int16Array.from(v.data as Int16Array, (x) => x * factor) }], values: { factor } };
      },
      dispose: async () => undefined,
    };
    const catalog: JobCatalog = { kinds: () => ['test.scale'], info: (k) => (k === 'test.scale' ? { params: scaleParams, inputs: [1, 1] } : undefined) };
    await withServices(
      {},
      async (s) => {
        const { client, events } = fakeClient();
        const src = s.volumes.add(volume(), 'CT');
        const bad = await s.dispatcher.handle('job.start', { kind: 'test.scale', args: { factor: -2 }, inputs: [src] }, client);
        expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-args', message: expect.stringMatching(/^job\.start \(test\.scale\): invalid arguments: args\.factor: /) } });
        const unknown = await s.dispatcher.handle('job.start', { kind: 'nope', args: {}, inputs: [] }, client);
        expect(unknown).toMatchObject({ ok: false, error: { code: 'unsupported', message: expect.stringMatching(/unknown job kind "nope" \(known: test\.scale\)/) } });
        const count = await s.dispatcher.handle('job.start', { kind: 'test.scale', args: { factor: 2 }, inputs: [src, src] }, client);
        expect(count).toMatchObject({ ok: false, error: { code: 'invalid-args', message: expect.stringMatching(/inputs: needs 1 volume\(s\), got 2/) } });
        const missing = await s.dispatcher.handle('job.start', { kind: 'test.scale', args: { factor: 2 }, inputs: ['vol-x'] }, client);
        expect(missing).toMatchObject({ ok: false, error: { code: 'not-found' } });
        expect(calls).toHaveLength(0); // nothing bad reached the runner

        const r = await s.dispatcher.handle('job.start', { kind: 'test.scale', args: { factor: 2 }, inputs: [src] }, client);
        expect(r.ok).toBe(true);
        const jobId = (r as { result: { jobId: string } }).result.jobId;
        await new Promise((res) => setTimeout(res, 30));
        expect(calls).toEqual([{ kind: 'test.scale', params: { factor: 2 }, transfer: 'copy' }]);
        expect(events.find((e) => e.ev === 'job.progress')?.payload).toEqual({ jobId, fraction: 0.5, message: 'halfway' });
        const done = events.find((e) => e.ev === 'job.done')?.payload as Events['job.done'];
        expect(done).toMatchObject({ jobId, kind: 'test.scale', result: { factor: 2 } });
        expect(done.volumes[0]).toMatchObject({ name: 'CT · scale', source: { kind: 'job', job: 'test.scale' } });
        const out = s.volumes.get(done.volumes[0]!.id);
        expect(Array.from(out.data)).toEqual(Array.from(volume().data, (x) => x * 2));
        expect(Array.from(s.volumes.get(src).data)).toEqual(Array.from(volume().data)); // input untouched
      },
      { runner, catalog },
    );
  });

  it('reports a failing or cancelled job as job.failed', async () => {
    let release: () => void = () => undefined;
    const runner: JobRunner = {
      run: (kind, _p, _i, opts = {}) =>
        kind === 'test.fail'
          ? Promise.reject(new Error('test.fail: images do not overlap'))
          : new Promise((_res, rej) => {
              release = () => rej(new DOMException('x', 'AbortError'));
              opts.signal?.addEventListener('abort', () => release());
            }),
      dispose: async () => undefined,
    };
    const catalog: JobCatalog = { kinds: () => ['test.fail', 'test.wait'], info: (k) => (k.startsWith('test.') ? {} : undefined) };
    await withServices(
      {},
      async (s) => {
        const { client, events } = fakeClient();
        const f = (await s.dispatcher.handle('job.start', { kind: 'test.fail', args: {}, inputs: [] }, client)) as { result: { jobId: string } };
        const w = (await s.dispatcher.handle('job.start', { kind: 'test.wait', args: {}, inputs: [] }, client)) as { result: { jobId: string } };
        await new Promise((res) => setTimeout(res, 20));
        expect(await s.dispatcher.handle('job.cancel', { jobId: w.result.jobId }, client)).toEqual({ ok: true, result: { cancelled: true } });
        await new Promise((res) => setTimeout(res, 20));
        const failed = events.filter((e) => e.ev === 'job.failed').map((e) => e.payload as Events['job.failed']);
        expect(failed).toContainEqual({ jobId: f.result.jobId, kind: 'test.fail', error: { code: 'bad-input', message: 'test.fail: images do not overlap' }, cancelled: false });
        expect(failed).toContainEqual({ jobId: w.result.jobId, kind: 'test.wait', error: { code: 'cancelled', message: 'test.wait: cancelled' }, cancelled: true });
      },
      { runner, catalog },
    );
  });

  it('never throttles progress that carries a preview; job.cancel {keep} stops early only the kinds that can', async () => {
    const plane = () => new Float32Array([1, 2, 3, 4]).buffer;
    const runs: { kind: string; finish?: AbortSignal; signal?: AbortSignal }[] = [];
    const runner: JobRunner = {
      run: (kind, _p, _i, opts = {}) => {
        runs.push({ kind, finish: opts.finish, signal: opts.signal });
        if (kind === 'test.burst') {
          for (let i = 0; i < 20; i++) {
            opts.onProgress?.(i / 40, `plain ${i}`);
            opts.onProgress?.(i / 40, `with preview ${i}`, { kind: 'demons', iteration: i, fixed: plane() });
          }
          return Promise.resolve({ volumes: [] });
        }
        // A long job: it ends with a result when asked to finish, is cancelled by its signal.
        return new Promise((res, rej) => {
          opts.finish?.addEventListener('abort', () => res({ volumes: [], values: { stoppedEarly: true } }));
          opts.signal?.addEventListener('abort', () => rej(new DOMException('x', 'AbortError')));
        });
      },
      dispose: async () => undefined,
    };
    const catalog: JobCatalog = {
      kinds: () => ['test.burst', 'test.stoppable', 'test.plain'],
      info: (k) => (k === 'test.stoppable' ? { canStopEarly: true } : k.startsWith('test.') ? {} : undefined),
    };
    await withServices(
      {},
      async (s) => {
        const { client, events } = fakeClient();
        const b = (await s.dispatcher.handle('job.start', { kind: 'test.burst', args: {}, inputs: [] }, client)) as { result: { jobId: string } };
        await new Promise((res) => setTimeout(res, 20));
        const progress = events.filter((e) => e.ev === 'job.progress').map((e) => e.payload as Events['job.progress']);
        const previews = progress.filter((p) => p.preview);
        expect(previews.map((p) => p.preview!.iteration)).toEqual(Array.from({ length: 20 }, (_, i) => i));
        expect(previews.every((p) => p.jobId === b.result.jobId && p.preview!.fixed instanceof ArrayBuffer)).toBe(true);
        expect(progress.filter((p) => !p.preview).length).toBeLessThan(3); // the plain ones are throttled
        // Over the host's WebSocket the planes travel as binary frames, not JSON.
        const { json, buffers } = extractBinaries({ event: 'job.progress', payload: previews[3] });
        expect(buffers).toHaveLength(1);
        expect(JSON.stringify(json)).toContain('"fixed":{"$bin":0}');
        expect(Array.from(new Float32Array(buffers[0]!))).toEqual([1, 2, 3, 4]);

        const st = (await s.dispatcher.handle('job.start', { kind: 'test.stoppable', args: {}, inputs: [] }, client)) as { result: { jobId: string } };
        const pl = (await s.dispatcher.handle('job.start', { kind: 'test.plain', args: {}, inputs: [] }, client)) as { result: { jobId: string } };
        const st2 = (await s.dispatcher.handle('job.start', { kind: 'test.stoppable', args: {}, inputs: [] }, client)) as { result: { jobId: string } };
        await new Promise((res) => setTimeout(res, 20));
        expect(await s.dispatcher.handle('job.cancel', { jobId: st.result.jobId, keep: true }, client)).toEqual({ ok: true, result: { cancelled: true } });
        expect(await s.dispatcher.handle('job.cancel', { jobId: pl.result.jobId, keep: true }, client)).toEqual({ ok: true, result: { cancelled: true } });
        expect(await s.dispatcher.handle('job.cancel', { jobId: st2.result.jobId }, client)).toEqual({ ok: true, result: { cancelled: true } });
        await new Promise((res) => setTimeout(res, 20));
        const done = events.filter((e) => e.ev === 'job.done').map((e) => e.payload as Events['job.done']);
        const failed = events.filter((e) => e.ev === 'job.failed').map((e) => e.payload as Events['job.failed']);
        expect(done.find((d) => d.jobId === st.result.jobId)).toMatchObject({ kind: 'test.stoppable', result: { stoppedEarly: true } });
        expect(failed.map((f) => [f.jobId, f.cancelled]).sort()).toEqual([[pl.result.jobId, true], [st2.result.jobId, true]].sort());
        expect(runs.find((r) => r.kind === 'test.stoppable')!.signal!.aborted).toBe(false);
      },
      { runner, catalog },
    );
  });

  it('keeps a recent list in the settings folder, newest first, without duplicates', async () => {
    await withServices({}, async (s) => {
      const { client } = fakeClient();
      await s.dispatcher.handle('recent.add', { path: '/data/a', kind: 'dicom-folder' }, client);
      await s.dispatcher.handle('recent.add', { path: '/data/b.nii.gz', kind: 'image' }, client);
      const r = await s.dispatcher.handle('recent.add', { path: '/data/a', kind: 'dicom-folder' }, client);
      expect((r as { result: { path: string }[] }).result.map((e) => e.path)).toEqual(['/data/a', '/data/b.nii.gz']);
      const again = new Services({ transport: 'browser', settingsDir: (s.recent as unknown as { settingsDir: string }).settingsDir, version: 't' });
      expect((await again.recent.list()).map((e) => e.path)).toEqual(['/data/a', '/data/b.nii.gz']);
      expect(await s.dispatcher.handle('recent.clear', {}, client)).toEqual({ ok: true, result: [] });
    });
  });

  it('says clearly that native dialogs do not exist in the browser host', async () => {
    await withServices({}, async (s) => {
      const r = await s.dispatcher.handle('dialog.open', { kind: 'dicom-folder' }, fakeClient().client);
      expect(r).toMatchObject({ ok: false, error: { code: 'unsupported', message: expect.stringMatching(/folder browser/) } });
    });
  });
});
