/**
 * The Electron utility-process job runner, run here without Electron: 'electron' is
 * replaced by a stand-in whose utilityProcess.fork starts a Node child process and whose
 * MessageChannelMain ports forward over the child's IPC channel (structured-clone
 * semantics, like Electron's). A preload gives the child the `process.parentPort` of a
 * utility process, so the real worker program (out/node/workers/processing.js) takes its
 * Electron path in serveJobs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Volume } from '../src-shared/image/volume';
import { ensureNodeBuild } from './node-build';

const root = resolve(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'lattice-utility-'));
const preload = join(dir, 'utility-preload.mjs');
writeFileSync(
  preload,
  `const parentListeners = [];
const portListeners = [];
const port = { on(ev, cb) { if (ev === 'message') portListeners.push(cb); }, postMessage(data) { process.send({ __port: data }); }, start() {} };
process.parentPort = { on(ev, cb) { if (ev === 'message') parentListeners.push(cb); }, postMessage(data) { process.send({ __parent: data }); } };
process.on('message', (m) => {
  if (m && m.__init) for (const cb of parentListeners) cb({ data: m.data, ports: [port] });
  else if (m && '__port' in m) for (const cb of portListeners) cb({ data: m.__port });
});
`,
);
process.env.LATTICE_TEST_UTILITY_PRELOAD = pathToFileURL(preload).href;

vi.mock('electron', async () => {
  const { EventEmitter } = await import('node:events');
  const { fork } = await import('node:child_process');
  class FakePort extends EventEmitter {
    send: ((data: unknown) => void) | null = null;
    postMessage(data: unknown) {
      this.send?.(data);
    }
    start() {}
    close() {}
  }
  class MessageChannelMain {
    port1 = new FakePort();
    port2 = new FakePort();
  }
  class FakeUtility extends EventEmitter {
    private child;
    constructor(script: string) {
      super();
      this.child = fork(script, [], { execArgv: ['--import', process.env.LATTICE_TEST_UTILITY_PRELOAD as string], serialization: 'advanced', stdio: 'inherit' });
      // Like Electron's UtilityProcess.pid; the fault test kills the newest one.
      ((globalThis as { __utilityPids?: number[] }).__utilityPids ??= []).push(this.child.pid!);
      this.child.on('spawn', () => this.emit('spawn'));
      this.child.on('message', (m: { __parent?: unknown }) => {
        if (m && '__parent' in m) this.emit('message', m.__parent);
      });
      this.child.on('exit', (code) => this.emit('exit', code ?? 0));
    }
    postMessage(data: unknown, ports: FakePort[] = []) {
      // The far end of the channel goes to the child: the near port now talks to it.
      const near = (ports[0] as unknown as { peer?: FakePort })?.peer;
      if (near) {
        near.send = (d) => this.child.connected && this.child.send({ __port: d });
        this.child.on('message', (m: { __port?: unknown }) => {
          if (m && '__port' in m) near.emit('message', { data: m.__port });
        });
      }
      this.child.send({ __init: true, data });
    }
    kill() {
      return this.child.kill();
    }
  }
  const channel = MessageChannelMain;
  // Remember which port1 belongs to which port2.
  class LinkedChannel extends channel {
    constructor() {
      super();
      (this.port2 as unknown as { peer: FakePort }).peer = this.port1;
    }
  }
  return { MessageChannelMain: LinkedChannel, utilityProcess: { fork: (script: string) => new FakeUtility(script) } };
});

const { UtilityProcessJobRunner } = await import('../src-main/jobs/utility-process-runner');
const { JobCancelledError, JobCrashedError, JobFailedError } = await import('../src-main/jobs/types');
const { isDemonsPreview } = await import('../src-shared/registration/preview');
const { bumpField, centredGeometry, ctPhantom, rotationMatrix, sampleVolume } = await import('./registration-helpers');

beforeAll(() => ensureNodeBuild());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cube(n: number): Volume {
  const d = new Uint8Array(n * n * n);
  d[((n >> 1) * n + (n >> 1)) * n + (n >> 1)] = 1;
  return { dims: [n, n, n], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data: d, voxelType: 'uint8', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

describe('UtilityProcessJobRunner (with a stand-in for Electron)', () => {
  const runner = new UtilityProcessJobRunner();
  afterAll(() => runner.dispose());

  it('runs a job in a child process over a transferred port; the inputs are copies', async () => {
    const m = cube(9);
    const progress: number[] = [];
    const r = await runner.run('processing.morphology', { operation: 'dilate', radius: 3 }, [m], { onProgress: (f) => progress.push(f) });
    expect(Array.from(r.volumes[0].data).filter((v) => v === 1).length).toBe(123);
    expect(r.volumes[0].data).toBeInstanceOf(Uint8Array);
    expect(m.data.length).toBe(729); // not detached
    expect(progress.length).toBeGreaterThan(0);
  });

  it('reports job errors, cancels by ending the process, and survives a crash', async () => {
    await expect(runner.run('processing.mask', {}, [cube(3)])).rejects.toBeInstanceOf(JobFailedError);
    const ac = new AbortController();
    const job = runner.run('diagnostics.sleep', { ms: 20_000 }, [], { signal: ac.signal, onProgress: () => ac.abort() });
    await expect(job).rejects.toBeInstanceOf(JobCancelledError);
    const crash = await runner.run('diagnostics.crash', {}, []).catch((e) => e);
    expect(crash).toBeInstanceOf(JobCrashedError);
    expect(crash.message).toMatch(/exit code 3/);
    const ok = await runner.run('processing.otsu', {}, [{ ...cube(4), data: new Uint8Array(64).map((_, i) => (i < 20 ? 5 : 90)) }]);
    expect(ok.values?.threshold).toBe(5);
  });

  it('carries previews (with their ArrayBuffer planes) and the finish message: the demons stop early and keep the result', async () => {
    const g = centredGeometry([40, 36, 24], [2.5, 2.5, 3], rotationMatrix(0.1, -0.05, 0.2));
    const u = bumpField(6);
    const fixed = sampleVolume(g, (p) => {
      const d = u(p);
      return ctPhantom([p[0] + d[0], p[1] + d[1], p[2] + d[2]]);
    });
    const moving = sampleVolume(g, ctPhantom);
    const finish = new AbortController();
    const previews: unknown[] = [];
    let plain = 0;
    const r = await runner.run('registration.demons', { levels: 1, iterations: 10_000, stopOnPlateau: false, threads: 2, preview: { intervalMs: 0 } }, [fixed, moving], {
      finish: finish.signal,
      onProgress: (_f, _m, p) => {
        if (p) previews.push(p);
        else if (++plain === 5) finish.abort();
      },
    });
    expect(r.values!.stoppedEarly).toBe(true);
    expect((r.values!.stoppedAt as { iteration: number }).iteration).toBeGreaterThanOrEqual(5);
    expect(r.volumes).toHaveLength(4);
    expect(previews.length).toBeGreaterThanOrEqual(5);
    expect(previews.every((p) => isDemonsPreview(p))).toBe(true);
    const m = r.values!.metrics as { msdBefore: number; msdAfter: number };
    expect(m.msdAfter).toBeLessThan(m.msdBefore);
  }, 60_000);

  it('a worker process SIGKILLed mid-run (processing, demons): the job fails saying so, the caller\u2019s inputs are intact, the next job runs', async () => {
    const pids = ((globalThis as { __utilityPids?: number[] }).__utilityPids ??= []);
    const g = centredGeometry([40, 36, 24], [2.5, 2.5, 3], rotationMatrix(0.1, -0.05, 0.2));
    const fixed = sampleVolume(g, ctPhantom);
    const moving = sampleVolume(g, ctPhantom);
    const before = Array.from(fixed.data.subarray(0, 4000));
    const big = cube(80);
    for (const [kind, params, inputs] of [
      ['registration.demons', { levels: 1, iterations: 10_000, stopOnPlateau: false, threads: 2 }, [fixed, moving]],
      ['processing.morphology', { operation: 'dilate', radius: 8, shape: 'ball' }, [big]],
    ] as [string, Record<string, unknown>, Volume[]][]) {
      let killed = 0;
      const err = await runner
        .run(kind, params, inputs, {
          onProgress: () => {
            if (killed) return;
            killed = pids.at(-1)!;
            process.kill(killed, 'SIGKILL');
          },
        })
        .catch((e: unknown) => e);
      expect(killed, kind).toBeGreaterThan(0);
      expect(err, kind).toBeInstanceOf(JobCrashedError);
      expect((err as Error).message).toMatch(/worker stopped unexpectedly/);
      expect(() => process.kill(killed, 0)).toThrow(); // gone, not left running
    }
    expect(Array.from(fixed.data.subarray(0, 4000))).toEqual(before);
    expect(big.data.length).toBe(80 ** 3);
    const next = await runner.run('registration.demons', { levels: 1, iterations: 2, threads: 1 }, [fixed, moving]);
    expect(next.volumes).toHaveLength(4);
  }, 60_000);
});
