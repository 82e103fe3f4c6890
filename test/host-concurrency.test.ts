/**
 * Concurrency on one browser host (its own process, test/host-harness.ts): two tabs (two
 * WebSocket clients) running jobs at once, a storm of cancels during jobs, and a new main
 * image loaded while a demons job runs. No client sees another's job events, every job
 * ends exactly once, results are the right ones, and when the tabs are gone no worker
 * thread or child process is left (counted from /proc).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeNiftiFile } from '../src-main/nifti/nifti-file';
import type { Volume } from '../src-shared/image/volume';
import { ensureNodeBuild } from './node-build';
import { RawClient, procStatus, startHostProcess, type HostProcess, type RawEvent } from './host-harness';

const CT3 = resolve(__dirname, '../../shared/data/dicom/ct_ge_lightspeed_3slice');

let tmp: string;
let host: HostProcess;
let baseThreads: number;

beforeAll(async () => {
  await ensureNodeBuild();
  tmp = await mkdtemp(join(tmpdir(), 'lattice-concurrency-'));
  // Finished workers stay warm 1 s here (10 s by default), so the orphan count below settles fast.
  host = await startHostProcess(tmp, { LATTICE_JOB_IDLE_MS: '1000' });
  const c = await RawClient.open(host);
  await c.request('app.info', {});
  c.close();
  await new Promise((ok) => setTimeout(ok, 200));
  baseThreads = procStatus(host.pid).threads;
}, 60_000);

afterAll(async () => {
  await host?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A phantom: `level` inside a ball, level/10 outside (Otsu's threshold lands between). */
function phantom(dims: [number, number, number], level: number): Volume {
  const [nx, ny, nz] = dims;
  const data = new Int16Array(nx * ny * nz);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        const r2 = ((x - nx / 2) / (nx / 3)) ** 2 + ((y - ny / 2) / (ny / 3)) ** 2 + ((z - nz / 2) / (nz / 3)) ** 2;
        data[(z * ny + y) * nx + x] = r2 < 1 ? level : level / 10;
      }
  return { dims, spacing: [1.2, 1, 2], origin: [1, 2, 3], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

async function start(c: RawClient, kind: string, args: Record<string, unknown>, inputs: string[]): Promise<string> {
  const r = await c.request('job.start', { kind, args, inputs });
  if (!r.ok) throw new Error(r.error.message);
  return (r.result as { jobId: string }).jobId;
}

const isEnd = (e: RawEvent) => e.ev === 'job.done' || e.ev === 'job.failed';
const ends = (c: RawClient, jobId: string) => c.events.filter((e) => isEnd(e) && e.payload.jobId === jobId);
const end = (c: RawClient, jobId: string) => c.event((e) => isEnd(e) && e.payload.jobId === jobId, 120_000);

/** Job ids in a client's job events that it did not start. */
function foreign(c: RawClient, mine: Set<string>): string[] {
  return c.events.filter((e) => e.ev.startsWith('job.') && !mine.has(String(e.payload.jobId))).map((e) => String(e.payload.jobId));
}

describe('one host, many clients and jobs', () => {
  it('two tabs run jobs at once: each gets only its own events and its own results', async () => {
    const [a, b] = await Promise.all([RawClient.open(host), RawClient.open(host)]);
    const va = await a.putVolume(phantom([48, 40, 20], 1000), 'A');
    const vb = await b.putVolume(phantom([40, 48, 24], 300), 'B');
    const mineA = new Set<string>();
    const mineB = new Set<string>();
    const jobsA: Promise<string>[] = [];
    const jobsB: Promise<string>[] = [];
    for (let i = 0; i < 6; i++) {
      jobsA.push(start(a, 'processing.otsu', {}, [va]));
      jobsB.push(start(b, 'processing.otsu', {}, [vb]));
    }
    jobsA.push(start(a, 'registration.demons', { levels: 1, iterations: 5, threads: 1 }, [va, va]));
    jobsB.push(start(b, 'registration.demons', { levels: 1, iterations: 5, threads: 1 }, [vb, vb]));
    for (const id of await Promise.all(jobsA)) mineA.add(id);
    for (const id of await Promise.all(jobsB)) mineB.add(id);
    const doneA = await Promise.all([...mineA].map((id) => end(a, id)));
    const doneB = await Promise.all([...mineB].map((id) => end(b, id)));
    for (const [done, dims, name, level] of [
      [doneA, [48, 40, 20], 'A', 1000],
      [doneB, [40, 48, 24], 'B', 300],
    ] as const) {
      for (const e of done) {
        expect(e.ev, JSON.stringify(e.payload).slice(0, 200)).toBe('job.done');
        for (const v of e.payload.volumes as { dims: number[]; name: string }[]) {
          expect(v.dims).toEqual(dims);
          expect(v.name.startsWith(`${name} · `)).toBe(true);
        }
        if (e.payload.kind === 'processing.otsu') {
          const t = (e.payload.result as { threshold: number }).threshold;
          expect(t).toBeGreaterThanOrEqual(level / 10);
          expect(t).toBeLessThan(level);
        }
      }
    }
    expect(foreign(a, mineA)).toEqual([]);
    expect(foreign(b, mineB)).toEqual([]);
    for (const id of mineA) expect(ends(a, id)).toHaveLength(1);
    for (const id of mineB) expect(ends(b, id)).toHaveLength(1);
    a.close();
    b.close();
  }, 120_000);

  it('a cancel storm during jobs: every job ends exactly once, the next job runs', async () => {
    const c = await RawClient.open(host);
    const other = await RawClient.open(host);
    const f = await c.putVolume(phantom([64, 64, 32], 800), 'F');
    const m = await c.putVolume(phantom([64, 64, 32], 700), 'M');
    // A long demons job, hammered with 300 cancels of every sort (keep or not, its id, ids
    // that do not exist, another client's task ids), some before and some after it ends.
    const demons = await start(c, 'registration.demons', { levels: 1, iterations: 10_000, stopOnPlateau: false, threads: 2 }, [f, m]);
    await c.event((e) => e.ev === 'job.progress' && e.payload.jobId === demons);
    const storm: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      const k = i % 5;
      if (k === 0) storm.push(c.request('job.cancel', { jobId: demons, keep: true }));
      else if (k === 1) storm.push(c.request('job.cancel', { jobId: demons }));
      else if (k === 2) storm.push(c.request('job.cancel', { jobId: `job-nope-${i}` }));
      else if (k === 3) storm.push(other.request('task.cancel', { task: `t${i}` }));
      else storm.push(other.request('job.cancel', { jobId: demons }));
    }
    const replies = (await Promise.all(storm)) as { ok: boolean; result?: { cancelled: boolean } }[];
    expect(replies.every((r) => r.ok && typeof r.result?.cancelled === 'boolean')).toBe(true);
    const e = await end(c, demons);
    // The first of the storm was keep: it ends as done (stopped early) or, when a plain cancel got there first, cancelled.
    if (e.ev === 'job.done') expect(e.payload.result).toMatchObject({ stoppedEarly: true });
    else expect(e.payload).toMatchObject({ cancelled: true, error: { code: 'cancelled' } });
    // 30 short jobs, each cancelled as soon as it is started (queued or running).
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const id = await start(c, i % 2 ? 'processing.morphology' : 'processing.otsu', i % 2 ? { operation: 'dilate', radius: 3 } : {}, [f]);
      ids.push(id);
      void c.request('job.cancel', { jobId: id });
    }
    const ended = await Promise.all(ids.map((id) => end(c, id)));
    for (const x of ended) {
      if (x.ev === 'job.failed') expect(x.payload).toMatchObject({ cancelled: true, error: { code: 'cancelled' } });
    }
    await new Promise((ok) => setTimeout(ok, 300));
    for (const id of [demons, ...ids]) expect(ends(c, id), id).toHaveLength(1);
    expect(other.events.filter((x) => x.ev.startsWith('job.'))).toEqual([]);
    // And the next job runs to the end.
    const next = await end(c, await start(c, 'processing.otsu', {}, [f]));
    expect(next.ev).toBe('job.done');
    c.close();
    other.close();
  }, 120_000);

  it.skipIf(!existsSync(CT3))('a new main image loads while a demons job runs; neither takes the other\u2019s result', async () => {
    const c = await RawClient.open(host);
    const fixed = phantom([56, 48, 28], 900);
    const f = await c.putVolume(fixed, 'fixed');
    const m = await c.putVolume(phantom([56, 48, 28], 850), 'moving');
    const nii = join(tmp, 'other.nii.gz');
    await writeNiftiFile(nii, phantom([30, 20, 10], 50));
    const demons = await start(c, 'registration.demons', { levels: 1, iterations: 10_000, stopOnPlateau: false, threads: 2 }, [f, m]);
    await c.event((e) => e.ev === 'job.progress' && e.payload.jobId === demons);
    // Load a NIfTI and a DICOM series while it runs (as the page does for a new main image).
    const opened = await c.request('image.open', { path: nii });
    expect(opened).toMatchObject({ ok: true, result: { volume: { header: { dims: [30, 20, 10], name: 'other' } } } });
    const scan = await c.request('dicom.scan', { paths: [CT3] });
    expect(scan.ok).toBe(true);
    const { scanId, series } = (scan as { result: { scanId: string; series: { id: string }[] } }).result;
    const loaded = await c.request('dicom.load', { scanId, seriesId: series[0]!.id });
    expect(loaded).toMatchObject({ ok: true, result: { volume: { header: { dims: [512, 512, 3] } } } });
    // The demons job is still running afterwards, then is stopped keeping its result.
    const progressBefore = c.events.filter((e) => e.ev === 'job.progress' && e.payload.jobId === demons).length;
    await c.event((e) => e.ev === 'job.progress' && e.payload.jobId === demons && c.events.filter((x) => x.ev === 'job.progress' && x.payload.jobId === demons).length > progressBefore);
    await c.request('job.cancel', { jobId: demons, keep: true });
    const done = await end(c, demons);
    expect(done.ev).toBe('job.done');
    const vols = done.payload.volumes as { dims: number[]; name: string }[];
    expect(vols).toHaveLength(4);
    for (const v of vols) {
      expect(v.dims).toEqual([56, 48, 28]);
      expect(v.name.startsWith('fixed · ')).toBe(true);
    }
    c.close();
  }, 120_000);

  it('when the tabs are gone (one closed mid-job), no worker thread or child process is left', async () => {
    // A tab that goes away in the middle of a demons job: its job is cancelled and its volumes freed.
    const c = await RawClient.open(host);
    const f = await c.putVolume(phantom([64, 64, 32], 800), 'F');
    const demons = await start(c, 'registration.demons', { levels: 1, iterations: 10_000, stopOnPlateau: false, threads: 2 }, [f, f]);
    await c.event((e) => e.ev === 'job.progress' && e.payload.jobId === demons);
    c.ws.terminate();
    const during = procStatus(host.pid).threads;
    // Finished workers stay warm for a while for the next job (ThreadJobRunner idleMs, 1 s here), then go.
    let now = during;
    for (let i = 0; i < 40 && now > baseThreads; i++) {
      await new Promise((ok) => setTimeout(ok, 500));
      now = procStatus(host.pid).threads;
    }
    let children = '';
    try {
      children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(host.pid)], { encoding: 'utf8' }).trim();
    } catch {
      // ps exits 1 when there are none
    }
    console.log(`host threads: ${baseThreads} at start, ${during} with a demons job whose tab just closed, ${now} after the idle timeout; child processes: ${children ? children.split('\n').length : 0}`);
    expect(now).toBeLessThanOrEqual(baseThreads);
    expect(children).toBe('');
    expect(host.alive()).toBe(true);
    expect(host.stderr()).toBe('');
  }, 60_000);
});
