// The browser host: token/Origin/Host checks on the WebSocket, static serving confined to
// the renderer folder, and the IPC contract end to end over the WebSocket with the real
// renderer client (src-renderer/api) and real DICOM data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { startHost, type RunningHost } from '../src-main/host/server';
import { LatticeApi, IpcError } from '../src-renderer/api/index';
import { WebSocketTransport, type WebSocketLike } from '../src-renderer/api/transport';
import { scanDicom, loadDicomSeries } from '../src-main/dicom/index';
import { readNiftiFile, writeNiftiFile } from '../src-main/nifti/nifti-file';
import type { Volume } from '../src-shared/image/volume';
import { ensureNodeBuild } from './node-build';

const DATA = resolve(__dirname, '../../shared/data/dicom');
const CT3 = join(DATA, 'ct_ge_lightspeed_3slice');

let tmp: string;
let host: RunningHost;

beforeAll(async () => {
  // Jobs run in the bundled worker programs (npm test builds them first; build if missing).
  await ensureNodeBuild();
  tmp = await mkdtemp(join(tmpdir(), 'lattice-host-test-'));
  const renderer = join(tmp, 'renderer');
  await mkdir(join(renderer, 'assets'), { recursive: true });
  await writeFile(join(renderer, 'index.html'), '<!doctype html><title>Lattice</title><script type="module" src="./assets/app.js"></script>');
  await writeFile(join(renderer, 'assets/app.js'), 'console.log(1)');
  await writeFile(join(tmp, 'secret.txt'), 'SECRET');
  await symlink(join(tmp, 'secret.txt'), join(renderer, 'link.txt'));
  host = await startHost({ rendererDir: renderer, settingsDir: join(tmp, 'settings'), sampleDataDir: null });
});

afterAll(async () => {
  await host?.close();
  await rm(tmp, { recursive: true, force: true });
});

function rawGet(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: host.port, path, method, headers: { Host: `127.0.0.1:${host.port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** Tries a WebSocket upgrade; resolves with 'open' or the HTTP status it was refused with. */
function tryUpgrade(query: string, origin?: string, hostHeader?: string): Promise<number | 'open'> {
  return new Promise((ok) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ipc${query}`, {
      ...(origin !== undefined ? { origin } : {}),
      ...(hostHeader ? { headers: { Host: hostHeader } } : {}),
    });
    ws.on('open', () => {
      ws.close();
      ok('open');
    });
    ws.on('unexpected-response', (_req, res) => {
      ok(res.statusCode ?? -1);
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}

function client(): LatticeApi {
  const url = WebSocketTransport.urlFor(host.origin, host.token);
  // ws (unlike a browser) caps messages at 100 MiB by default; a volume can be bigger.
  return new LatticeApi(new WebSocketTransport(url, (u) => new WebSocket(u, { origin: host.origin, maxPayload: 2 ** 31 }) as unknown as WebSocketLike));
}

describe('static files', () => {
  it('serves the renderer with a strict CSP and no CORS', async () => {
    const r = await rawGet('/');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>Lattice</title>');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${host.port}`);
    expect(csp).not.toMatch(/unsafe-eval'(?<!wasm-unsafe-eval')/);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    const js = await rawGet('/assets/app.js', { Origin: 'http://evil.example' });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('never serves anything outside the renderer folder', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/..%5csecret.txt', '/link.txt', '/%00index.html', `/${tmp}/secret.txt`]) {
      const r = await rawGet(p);
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.body, p).not.toContain('SECRET');
    }
    expect((await rawGet('/nope.js')).status).toBe(404);
  });

  it('answers only GET/HEAD and only for its own Host name (DNS rebinding)', async () => {
    expect((await rawGet('/', {}, 'POST')).status).toBe(405);
    expect((await rawGet('/', {}, 'HEAD')).status).toBe(200);
    expect((await rawGet('/', { Host: 'attacker.example' })).status).toBe(421);
    expect((await rawGet('/', { Host: `localhost:${host.port}` })).status).toBe(200);
  });
});

describe('WebSocket access control', () => {
  it('listens on 127.0.0.1 only', () => {
    expect(host.origin).toBe(`http://127.0.0.1:${host.port}`);
    expect(host.url).toBe(`${host.origin}/#token=${host.token}`);
    expect(host.token.length).toBeGreaterThanOrEqual(40);
  });

  it('refuses an upgrade without the token, with a wrong token, or from another origin', async () => {
    expect(await tryUpgrade('', host.origin)).toBe(401);
    expect(await tryUpgrade('?token=', host.origin)).toBe(401);
    expect(await tryUpgrade(`?token=${host.token.slice(0, -1)}x`, host.origin)).toBe(401);
    expect(await tryUpgrade(`?token=${host.token}x`, host.origin)).toBe(401);
    expect(await tryUpgrade(`?token=${host.token}`, 'http://evil.example')).toBe(403);
    expect(await tryUpgrade(`?token=${host.token}`, `http://127.0.0.1:${host.port + 1}`)).toBe(403);
    expect(await tryUpgrade(`?token=${host.token}`)).toBe(403); // no Origin at all
    expect(await tryUpgrade(`?token=${host.token}`, host.origin, 'evil.example')).toBe(421);
    expect(await tryUpgrade(`?token=${host.token}`, host.origin)).toBe('open');
    expect(await tryUpgrade(`?token=${host.token}`, `http://localhost:${host.port}`)).toBe('open');
  });

  it('gives the page a clear error when it has no valid token', async () => {
    const url = WebSocketTransport.urlFor(host.origin, 'wrong');
    const api = new LatticeApi(new WebSocketTransport(url, (u) => new WebSocket(u, { origin: host.origin }) as unknown as WebSocketLike));
    await expect(api.info()).rejects.toThrow(/opened without its #token/);
  });
});

describe('bulk downloads (volumes on their way to the page)', () => {
  it('need the token, work once, and are not guessable', async () => {
    const seen: string[] = [];
    const url = WebSocketTransport.urlFor(host.origin, host.token);
    const api = new LatticeApi(
      new WebSocketTransport(
        url,
        (u) => new WebSocket(u, { origin: host.origin }) as unknown as WebSocketLike,
        (input, init) => {
          seen.push(String(input));
          return fetch(input, init);
        },
      ),
    );
    const data = new Float32Array(300_000).map((_, i) => Math.sin(i)); // 1.2 MB: over the bulk threshold
    const id = host.services.volumes.add({ dims: [100, 100, 30], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'float32', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} }, 'f');
    const got = await api.getVolume(id);
    expect(Array.from(got.volume.data.subarray(0, 5))).toEqual(Array.from(data.subarray(0, 5)));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(new RegExp(`^${host.origin}/bulk/[0-9a-f]{32}$`));
    const path = new URL(seen[0]!).pathname;
    expect((await rawGet(path, { 'X-Lattice-Token': host.token })).status).toBe(404); // already fetched
    expect((await rawGet('/bulk/00000000000000000000000000000000', {})).status).toBe(401);
    expect((await rawGet('/bulk/00000000000000000000000000000000', { 'X-Lattice-Token': 'nope' })).status).toBe(401);
    // uploads from the page need the token too, and must come from our origin
    const post = (headers: Record<string, string>) => fetch(`${host.origin}/bulk`, { method: 'POST', headers, body: new Uint8Array(10) }).then((r) => r.status);
    expect(await post({})).toBe(401);
    expect(await post({ 'X-Lattice-Token': 'nope' })).toBe(401);
    expect(await post({ 'X-Lattice-Token': host.token, Origin: 'http://evil.example' })).toBe(403);
    expect(await post({ 'X-Lattice-Token': host.token })).toBe(200);
    const big = new Uint8Array(2 << 20).fill(3);
    const put = await api.putVolume({ dims: [1024, 1024, 2], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data: big, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} }, 'up');
    expect(host.services.volumes.get(put.id).data.every((x) => x === 3)).toBe(true);
    host.services.volumes.release([put.id]);
    // small buffers travel as WebSocket binary frames instead
    const small = host.services.volumes.add({ dims: [4, 4, 4], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data: new Uint8Array(64).fill(9), voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} }, 's');
    expect(Array.from((await api.getVolume(small)).volume.data)).toEqual(new Array(64).fill(9));
    expect(seen.filter((u) => u.includes('/bulk/'))).toHaveLength(1);
    host.services.volumes.release([id, small]);
    api.transport.close?.();
  });
});

describe('the contract over the WebSocket', () => {
  it('reports app info', async () => {
    const api = client();
    const info = await api.info();
    expect(info).toMatchObject({ name: 'Lattice', transport: 'browser', nativeDialogs: false, uploadDrops: true });
    api.transport.close?.();
  });

  it('rejects bad arguments with a clear IpcError naming the field', async () => {
    const api = client();
    const err = await api.invoke('dicom.scan', { paths: [7 as unknown as string] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpcError);
    expect((err as IpcError).code).toBe('invalid-args');
    expect((err as IpcError).message).toMatch(/^dicom\.scan: invalid arguments: paths\[0\]: .*expected string/);
    const missing = await api.scanDicom([join(tmp, 'no-such-folder')]).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'not-found', message: expect.stringContaining('no-such-folder') });
    api.transport.close?.();
  });

  it.skipIf(!existsSync(CT3))('scans a real DICOM folder and loads a series whose voxels match, with progress', async () => {
    const api = client();
    const progress: (number | null)[] = [];
    const scan = await api.scanDicom([CT3], { onProgress: (f) => progress.push(f) });
    expect(scan.series.length).toBeGreaterThan(0);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(1);
    const s = scan.series[0]!;
    expect(s).toMatchObject({ modality: 'CT', dims: [512, 512, 3] });

    const loadProgress: (number | null)[] = [];
    const loaded = await api.loadSeries(scan.scanId, s.id, { onProgress: (f) => loadProgress.push(f) });
    expect(loadProgress.at(-1)).toBe(1);

    const direct = await scanDicom([CT3]);
    const ref = await loadDicomSeries(direct, direct.series[0]!.id);
    const v = loaded.volume;
    expect(v.dims).toEqual(ref.volume.dims);
    expect(v.voxelType).toBe(ref.volume.voxelType);
    expect(v.data.constructor).toBe(ref.volume.data.constructor);
    expect(v.data.byteOffset).toBe(0);
    expect(v.data.byteLength).toBe(v.data.buffer.byteLength); // one ArrayBuffer, exactly the voxels
    expect(Buffer.from(v.data.buffer).equals(Buffer.from(ref.volume.data.buffer, ref.volume.data.byteOffset, ref.volume.data.byteLength))).toBe(true);
    for (const k of ['spacing', 'origin', 'direction', 'rescaleSlope', 'rescaleIntercept'] as const) expect(v[k]).toEqual(ref.volume[k]);
    expect(loaded.header.id).toMatch(/^vol-/);

    // The main side keeps it: fetch again by id, and it was added to the recent list.
    const again = await api.getVolume(loaded.header.id);
    expect(Buffer.from(again.volume.data.buffer).equals(Buffer.from(v.data.buffer))).toBe(true);
    expect((await api.recent())[0]).toMatchObject({ path: CT3, kind: 'dicom-folder' });
    await api.releaseVolumes([loaded.header.id]);
    api.transport.close?.();
  });

  it('opens a NIfTI file by path and exports a held volume back to NIfTI', async () => {
    const api = client();
    const data = new Float32Array(5 * 4 * 3).map((_, i) => i / 4 - 3);
    const src: Volume = {
      dims: [5, 4, 3],
      spacing: [0.8, 0.9, 2],
      origin: [10, -20, 30],
      direction: [1, 0, 0, 0, 0, -1, 0, 1, 0],
      data,
      voxelType: 'float32',
      frames: 1,
      rescaleSlope: 1,
      rescaleIntercept: 0,
      metadata: {},
    };
    const file = join(tmp, 'in.nii.gz');
    await writeNiftiFile(file, src);
    const opened = await api.openImage(file);
    expect(opened.volume.data).toBeInstanceOf(Float32Array);
    expect(Array.from(opened.volume.data)).toEqual(Array.from(data));
    expect(opened.header.name).toBe('in');
    expect(opened.header.source).toEqual({ kind: 'nifti', path: file });

    const out = join(tmp, 'out.nii');
    const r = await api.exportVolume(opened.header.id, out);
    expect(r).toEqual({ path: out, bytes: 352 + data.byteLength });
    const back = await readNiftiFile(out);
    expect(Array.from(back.volume.data)).toEqual(Array.from(data));
    for (let i = 0; i < 9; i++) expect(back.volume.direction[i]).toBeCloseTo(src.direction[i]!, 6);
    await expect(api.exportVolume(opened.header.id, out)).rejects.toMatchObject({ code: 'exists', message: expect.stringMatching(/already exists/) });
    await expect(api.exportVolume(opened.header.id, out, { overwrite: true })).resolves.toMatchObject({ path: out });
    await expect(api.openImage(join(tmp, 'secret.txt'))).rejects.toMatchObject({ code: 'unsupported' });
    api.transport.close?.();
  });

  it('runs a processing job in a worker on a held volume and hands back the result by id', async () => {
    const api = client();
    const data = new Int16Array(20 * 10 * 5).map((_, i) => (i % 20) * 10 - 50); // -50..140 along i
    const put = await api.putVolume(
      { dims: [20, 10, 5], spacing: [1, 1, 2], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} },
      'ramp',
    );
    const progress: (number | null)[] = [];
    const job = await api.startJob('processing.threshold', { lower: 0, inside: 1, outside: 0 }, [put.id], { onProgress: (f) => progress.push(f) });
    const done = await job.done;
    expect(done.volumes).toHaveLength(1);
    expect(done.volumes[0]).toMatchObject({ name: 'ramp · threshold', dims: [20, 10, 5], source: { kind: 'job', job: 'processing.threshold' } });
    const mask = await api.getVolume(done.volumes[0]!.id);
    for (let i = 0; i < data.length; i++) if (Number(mask.volume.data[i]) !== (data[i]! >= 0 ? 1 : 0)) throw new Error(`voxel ${i}: ${mask.volume.data[i]} for ${data[i]}`);
    const bad = await api.startJob('processing.threshold', { lower: 'zero' }, [put.id]).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'invalid-args', message: expect.stringMatching(/args\.lower: /) });
    const unknown = await api.startJob('processing.nope', {}, [put.id]).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'unsupported', message: expect.stringContaining('processing.threshold') });
    api.transport.close?.();
  });

  it('lists a folder for the server-side browser', async () => {
    const api = client();
    const l = await api.listFolder(tmp);
    expect(l.path).toBe(tmp);
    expect(l.parent).toBe(resolve(tmp, '..'));
    expect(l.entries[0]).toMatchObject({ name: 'renderer', kind: 'folder' });
    expect(l.entries.find((e) => e.name === 'in.nii.gz')).toMatchObject({ kind: 'file', hint: 'nifti' });
    expect(l.places.map((p) => p.name)).toContain('Home');
    if (existsSync(DATA)) {
      const d = await api.listFolder(DATA);
      expect(d.entries.find((e) => e.name === 'ct_ge_lightspeed_3slice')).toMatchObject({ kind: 'folder', path: CT3 });
    }
    await expect(api.listFolder(join(tmp, 'missing'))).rejects.toMatchObject({ code: 'not-found' });
    api.transport.close?.();
  });

  it.skipIf(!existsSync(CT3))('stages dropped files (browser) and scans them by path', async () => {
    const api = client();
    const names = (await readdir(CT3)).sort();
    const files = await Promise.all(names.map(async (n) => ({ relativePath: `ct/${n}`, data: new Uint8Array(await readFile(join(CT3, n))).buffer })));
    const first = await api.invoke('upload.files', { files: files.slice(0, 1) });
    const rest = await api.invoke('upload.files', { uploadId: first.uploadId, files: files.slice(1) });
    expect(rest.dir).toBe(first.dir);
    const scan = await api.scanDicom([join(first.dir, 'ct')]);
    expect(scan.series[0]).toMatchObject({ modality: 'CT', dims: [512, 512, 3], fileCount: names.length });
    await expect(api.invoke('upload.files', { files: [{ relativePath: '../x', data: new ArrayBuffer(1) }] })).rejects.toMatchObject({ code: 'invalid-args', message: expect.stringMatching(/files\[0\]\.relativePath/) });
    api.transport.close?.();
  });

  it('moves a 512×512×300 int16 volume (150 MB) intact as one ArrayBuffer (speed: see host-browser.test.ts)', async () => {
    const dims: [number, number, number] = [512, 512, 300];
    const data = new Int16Array(dims[0] * dims[1] * dims[2]);
    for (let i = 0; i < data.length; i += 4099) data[i] = (i % 3000) - 1000;
    const id = host.services.volumes.add({ dims, spacing: [0.7, 0.7, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} }, 'big');
    const api = client();
    await api.info(); // connect first
    const t0 = performance.now();
    const got = await api.getVolume(id);
    const ms = performance.now() - t0;
    console.log(`150 MB volume to a Node client (undici fetch; the browser figure is in host-browser.test.ts): ${ms.toFixed(0)} ms`);
    expect(got.volume.data.byteLength).toBe(data.byteLength);
    expect(got.volume.data.buffer.byteLength).toBe(data.byteLength);
    for (let i = 0; i < data.length; i += 4099) expect(got.volume.data[i]).toBe(data[i]);
    host.services.volumes.release([id]);
    api.transport.close?.();
  });
});
