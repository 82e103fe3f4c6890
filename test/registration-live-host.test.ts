/**
 * Live demons through the browser host, end to end: a WebSocket client starts a
 * 'registration.demons' job on two held volumes, receives job.progress events whose
 * `preview` planes arrived as binary frames (real ArrayBuffers), stops it early with
 * job.cancel { keep: true }, and gets job.done with the result so far (4 volumes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startHost, type RunningHost } from '../src-main/host/server';
import { LatticeApi } from '../src-renderer/api/index';
import { WebSocketTransport, type WebSocketLike } from '../src-renderer/api/transport';
import type { Events } from '../src-shared/ipc/contract';
import { isDemonsPreview } from '../src-shared/registration/preview';
import { bumpField, centredGeometry, ctPhantom, rotationMatrix, sampleVolume } from './registration-helpers';
import { ensureNodeBuild } from './node-build';

let tmp: string;
let host: RunningHost;

beforeAll(async () => {
  await ensureNodeBuild();
  tmp = await mkdtemp(join(tmpdir(), 'lattice-live-host-'));
  const renderer = join(tmp, 'renderer');
  await mkdir(renderer, { recursive: true });
  await writeFile(join(renderer, 'index.html'), '<!doctype html><title>Lattice</title>');
  host = await startHost({ rendererDir: renderer, settingsDir: join(tmp, 'settings'), sampleDataDir: null });
});

afterAll(async () => {
  await host?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('live demons over the host WebSocket', () => {
  it('streams previews with binary planes and stops early keeping the result', async () => {
    const api = new LatticeApi(
      new WebSocketTransport(WebSocketTransport.urlFor(host.origin, host.token), (u) => new WebSocket(u, { origin: host.origin, maxPayload: 2 ** 31 }) as unknown as WebSocketLike),
    );
    try {
      const g = centredGeometry([48, 40, 24], [2.2, 2.6, 3.5], rotationMatrix(0.12, -0.06, 0.25));
      const u = bumpField(6);
      const fixed = sampleVolume(g, (p) => {
        const d = u(p);
        return ctPhantom([p[0] + d[0], p[1] + d[1], p[2] + d[2]]);
      });
      const moving = sampleVolume(g, ctPhantom);
      const f = await api.putVolume(fixed, 'fixed');
      const m = await api.putVolume(moving, 'moving');
      const previews: Record<string, unknown>[] = [];
      let jobId = '';
      let asked = false;
      const off = api.on('job.progress', (e: Events['job.progress']) => {
        if (e.jobId !== jobId || !e.preview) return;
        previews.push(e.preview);
        if (previews.length === 3 && !asked) {
          asked = true;
          void api.invoke('job.cancel', { jobId, keep: true });
        }
      });
      const job = await api.startJob('registration.demons', { levels: 1, iterations: 10_000, stopOnPlateau: false, threads: 2, preview: { axis: 2, intervalMs: 0 } }, [f.id, m.id]);
      jobId = job.jobId;
      const done = await job.done;
      off();
      expect(done.result).toMatchObject({ stoppedEarly: true, stoppedAt: { level: 1, levels: 1 } });
      expect(done.volumes).toHaveLength(4);
      for (const v of done.volumes) expect(v.dims).toEqual([48, 40, 24]);
      expect(previews.length).toBeGreaterThanOrEqual(3);
      for (const p of previews) {
        expect(isDemonsPreview(p)).toBe(true);
        expect(p.fixed).toBeInstanceOf(ArrayBuffer);
        expect([p.width, p.height]).toEqual([48, 40]);
      }
      const metrics = done.result!.metrics as { msdBefore: number; msdAfter: number };
      expect(metrics.msdAfter).toBeLessThan(metrics.msdBefore);
    } finally {
      api.transport.close?.();
    }
  }, 60_000);
});
