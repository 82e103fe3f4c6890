/**
 * The browser host under hostile input (property-based, fast-check): malformed, oversized
 * and out-of-order messages on its WebSocket and HTTP endpoints. The host runs as its own
 * process (test/host-harness.ts), so "never crashes" is its exit status, and "keeps serving
 * the page" is checked after every group.
 *
 * - every field of every channel of the IPC contract (the list comes from
 *   src-shared/ipc/contract.ts, so a channel added there is fuzzed too) gets values of the
 *   wrong type: each is answered invalid-args naming the channel and the field;
 * - whole argument objects at random, unknown channels (also "constructor", "__proto__"),
 *   channels that are not strings;
 * - frames that are not JSON, not requests, binary frames out of order, bad placeholders
 *   and bulk references: a reply or a close with a protocol-error code and reason;
 * - (10⁵ requests in one burst: test/host-burst.test.ts);
 * - a 2 GiB declared upload, more than 2 GiB, several at once, cut short, no length;
 * - paths with "..", NUL and symlinks out of the served folder, for the static files and
 *   the channels that take paths; upgrades and bulk requests without or with a wrong
 *   token, Origin or Host.
 * No reply, close reason or HTTP body carries a stack trace or a path of the host's own code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import { mkdtemp, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { channels, isChannel, requestSchemas, type Reply } from '../src-shared/ipc/contract';
import { ensureNodeBuild } from './node-build';
import { RawClient, leaks, procStatus, startHostProcess, type HostProcess } from './host-harness';

let tmp: string;
let host: HostProcess;
/** Messages and requests tried, by group (printed at the end; the figures go in the report). */
const tried: Record<string, number> = {};
const count = (group: string, n = 1) => (tried[group] = (tried[group] ?? 0) + n);
const ERROR_CODES = new Set(['invalid-args', 'unknown-channel', 'not-found', 'exists', 'unsupported', 'cancelled', 'bad-input', 'io', 'internal']);

beforeAll(async () => {
  await ensureNodeBuild();
  tmp = await mkdtemp(join(tmpdir(), 'lattice-fuzz-'));
  host = await startHostProcess(tmp);
  await writeFile(join(tmp, 'secret.txt'), 'SECRET-CONTENT');
  await mkdir(join(tmp, 'outside'));
  await writeFile(join(tmp, 'outside', 'secret.txt'), 'SECRET-CONTENT');
  await symlink(join(tmp, 'secret.txt'), join(tmp, 'renderer', 'link.txt'));
  await symlink(join(tmp, 'outside'), join(tmp, 'renderer', 'linkdir'));
  await symlink('/etc/passwd', join(tmp, 'passwd.nii'));
}, 60_000);

afterAll(async () => {
  await host?.stop();
  console.log(`host fuzz: messages tried ${JSON.stringify(tried)}, total ${Object.values(tried).reduce((a, b) => a + b, 0)}`);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** The reply is a well-formed error with a known code and a clean, bounded message. */
function expectCleanError(r: Reply, what: string): asserts r is Extract<Reply, { ok: false }> {
  expect(r.ok, what).toBe(false);
  if (r.ok) return;
  expect(ERROR_CODES.has(r.error.code), `${what}: code ${r.error.code}`).toBe(true);
  expect(typeof r.error.message, what).toBe('string');
  expect(r.error.message.length, what).toBeGreaterThan(5);
  expect(r.error.message.length, what).toBeLessThan(4000);
  expect(leaks(JSON.stringify(r.error)), `${what}: ${r.error.message}`).toEqual([]);
}

function httpGet(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: host.port, path, method, headers: { Host: `127.0.0.1:${host.port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** The host process is up, serves the page and answers a fresh client. */
async function expectStillServing() {
  expect(host.alive(), host.stderr()).toBe(true);
  const page = await httpGet('/');
  expect(page.status).toBe(200);
  expect(page.body).toContain('<title>Lattice</title>');
  const c = await RawClient.open(host);
  const r = await c.request('app.info', {});
  expect(r).toMatchObject({ ok: true, result: { name: 'Lattice' } });
  c.close();
}

// ---------- the contract's fields, from its schemas ----------

type Seg = string | number;
interface Field {
  path: Seg[];
  schema: z.ZodType;
}

/** Every field (down through objects and arrays of objects) of a channel's argument schema. */
function fieldsOf(schema: z.ZodType, path: Seg[] = []): Field[] {
  let s = schema;
  while (s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  const out: Field[] = path.length ? [{ path, schema }] : [];
  if (s instanceof z.ZodObject && path.length < 6) {
    for (const [k, v] of Object.entries(s.shape as Record<string, z.ZodType>)) out.push(...fieldsOf(v, [...path, k]));
  } else if (s instanceof z.ZodArray && path.length) {
    out.push(...fieldsOf(s.element as z.ZodType, [...path, 0]));
  }
  return out;
}

/** `paths[0]` / `volume.header.dims`, as the contract's error messages write a path. */
function formatPath(path: Seg[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

/** An argument object with `value` at `path` (arrays where the path has an index). */
function argsWith(path: Seg[], value: unknown): unknown {
  if (!path.length) return value;
  const [head, ...rest] = path;
  return typeof head === 'number' ? [argsWith(rest, value)] : { [head!]: argsWith(rest, value) };
}

/** What the host receives after JSON (undefined fields vanish, NaN becomes null, …). */
const wire = (v: unknown): unknown => (v === undefined ? undefined : (JSON.parse(JSON.stringify(v) ?? 'null') as unknown));
const hasPlaceholder = (v: unknown): boolean => JSON.stringify(v ?? null).includes('"$bin"');

/** Hostile values beyond fast-check's `anything`: huge, deep, long, odd numbers. */
const hostileValues = fc.constantFrom<unknown>(
  'x'.repeat(300_000),
  '\0',
  '../../../../etc/passwd',
  '',
  -1,
  0,
  1e308,
  -0.5,
  2 ** 53 + 1,
  [],
  {},
  null,
  true,
  JSON.parse('['.repeat(1000) + ']'.repeat(1000)) as unknown,
  Array.from({ length: 20_000 }, (_, i) => i),
  Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i])),
  { __proto__: { polluted: true } },
  JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}') as unknown,
);
const anyValue = fc.oneof({ arbitrary: fc.anything({ maxDepth: 3 }), weight: 4 }, { arbitrary: hostileValues, weight: 1 });

describe('every field of every channel, with the wrong type', () => {
  it('derives the fields from the contract', () => {
    expect(channels.length).toBeGreaterThanOrEqual(20);
    const n = channels.reduce((a, ch) => a + fieldsOf(requestSchemas[ch] as z.ZodType).length, 0);
    expect(n).toBeGreaterThan(40);
  });

  for (const ch of channels) {
    const fields = fieldsOf(requestSchemas[ch] as z.ZodType);
    it.skipIf(!fields.length)(`${ch}: ${fields.map((f) => formatPath(f.path)).join(', ')}`, async () => {
      const c = await RawClient.open(host);
      for (const f of fields) {
        await fc.assert(
          fc.asyncProperty(anyValue, async (v) => {
            const sent = wire(v);
            fc.pre(sent !== undefined && !hasPlaceholder(sent) && !f.schema.safeParse(sent).success);
            count('wrong-type field');
            const r = await c.request(ch, argsWith(f.path, sent));
            expectCleanError(r, `${ch} ${formatPath(f.path)}`);
            expect(r.error.code).toBe('invalid-args');
            expect(r.error.message.startsWith(`${ch}: invalid arguments: `)).toBe(true);
            // Names the field (or, for a field inside an array of objects, that element).
            expect(r.error.message).toContain(formatPath(f.path));
          }),
          { numRuns: 12, seed: 16 + f.path.length, endOnFailure: true },
        );
      }
      c.close();
    }, 60_000);
  }

  it('whole argument objects at random: invalid ones are answered invalid-args, never run', async () => {
    const c = await RawClient.open(host);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...channels), anyValue, async (ch, v) => {
        const sent = wire(v);
        fc.pre(!hasPlaceholder(sent) && !(requestSchemas[ch] as z.ZodType).safeParse(sent ?? {}).success);
        count('random args');
        const r = await c.request(ch, sent);
        expectCleanError(r, ch);
        expect(r.error.code).toBe('invalid-args');
      }),
      { numRuns: 400, seed: 1616 },
    );
    c.close();
    await expectStillServing();
  }, 60_000);
});

describe('job parameters at random, for every job kind', () => {
  it('each start is refused with invalid-args, or its job ends: done, or failed with a clean error', async () => {
    const [{ defaultJobCatalog }, { affineJobParams, demonsJobParams }] = await Promise.all([import('../src-main/services/jobs'), import('../src-main/registration/jobs')]);
    const catalog = await defaultJobCatalog();
    const c = await RawClient.open(host);
    const mk = (n: number) => ({ dims: [12, 10, 8], spacing: [1, 1.5, 2], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], voxelType: 'uint8', data: new Uint8Array(960).map((_, i) => ((i * n) % 7 < 3 ? 1 : 0)) });
    const inputs = [await c.putVolume(mk(1), 'a'), await c.putVolume(mk(3), 'b')];
    const hostileNumber = fc.constantFrom(0, -1, 1, 3, 1e9, -1e9, 2 ** 31, 1e308, 0.5, 65536, 1e6, -0.0001);
    const ended: Record<string, number> = {};
    // Parameters that are valid by their schemas but hostile in size.
    const extreme: [string, Record<string, unknown>][] = [
      ['processing.morphology', { operation: 'dilate', radius: 1e9 }],
      ['processing.morphology', { operation: 'close', radius: [1e9, 1e9, 1e9], shape: 'box', iterations: 1000 }],
      ['processing.crop', { box: { start: [-1e9, -1e9, -1e9], end: [1e9, 1e9, 1e9] } }],
      ['processing.crop', { worldBox: { a: [-1e308, 0, 0], b: [1e308, 1, 1] } }],
      ['processing.resample', { worldTransform: new Array(16).fill(0) }],
      ['processing.resample', { worldTransform: [1e300, 0, 0, 0, 0, 1e300, 0, 0, 0, 0, 1e300, 0, 0, 0, 0, 1] }],
      ['processing.otsu', { bins: 65536 }],
      ['registration.demons', { levels: 6, minSize: 2, iterations: 10_000, sigmaFluid: 20 }],
    ];
    for (const [kind, a] of extreme) {
      if (!catalog.kinds().includes(kind)) continue;
      count('job params');
      const [min] = catalog.info(kind)?.inputs ?? [2, 2];
      const t0 = performance.now();
      const r = await c.request('job.start', { kind, args: a, inputs: inputs.slice(0, Math.max(1, min)) });
      if (!r.ok) {
        expectCleanError(r, kind);
        continue;
      }
      const jobId = (r.result as { jobId: string }).jobId;
      const stop = setTimeout(() => void c.request('job.cancel', { jobId }), 8000);
      const e = await c.event((x) => (x.ev === 'job.done' || x.ev === 'job.failed') && x.payload.jobId === jobId, 30_000);
      clearTimeout(stop);
      console.log(`extreme ${kind} ${JSON.stringify(a).slice(0, 80)}: ${e.ev} after ${(performance.now() - t0).toFixed(0)} ms${e.ev === 'job.failed' ? `: ${(e.payload.error as { message: string }).message.slice(0, 160)}` : ''}`);
      // Each ends by itself within seconds (a radius of 10⁹ on a small image used to run until cancelled).
      expect(e.payload.cancelled ?? false, `${kind} ${JSON.stringify(a)}`).toBe(false);
      if (e.ev === 'job.failed') expect((e.payload.error as { code: string }).code, kind).not.toBe('internal');
    }
    for (const kind of catalog.kinds()) {
      const schema = catalog.info(kind)?.params ?? (kind === 'registration.affine' ? affineJobParams : kind === 'registration.demons' ? demonsJobParams : undefined);
      let obj = schema as z.ZodType | undefined;
      if (obj instanceof z.ZodUnion) obj = (obj.options as z.ZodType[])[0];
      const names = obj instanceof z.ZodObject ? Object.keys(obj.shape as object) : [];
      const enums = obj instanceof z.ZodObject ? Object.values(obj.shape as Record<string, z.ZodType>).flatMap((f) => { let x = f; while (x instanceof z.ZodOptional || x instanceof z.ZodDefault) x = x.unwrap() as z.ZodType; return x instanceof z.ZodEnum ? (x.options as string[]) : []; }) : [];
      const value = fc.oneof(hostileNumber, fc.array(hostileNumber, { minLength: 3, maxLength: 3 }), fc.boolean(), enums.length ? fc.constantFrom(...enums) : fc.constant('x'), fc.anything({ maxDepth: 2 }));
      const args = fc.dictionary(names.length ? fc.oneof({ arbitrary: fc.constantFrom(...names), weight: 5 }, { arbitrary: fc.string({ maxLength: 8 }), weight: 1 }) : fc.string({ maxLength: 8 }), value, { maxKeys: 5 });
      const [min] = catalog.info(kind)?.inputs ?? [2, 2];
      await fc.assert(
        fc.asyncProperty(args, async (a) => {
          const sent = wire(a) as Record<string, unknown>;
          fc.pre(!hasPlaceholder(sent));
          count('job params');
          const r = await c.request('job.start', { kind, args: sent, inputs: inputs.slice(0, Math.max(1, min)) });
          if (!r.ok) {
            expectCleanError(r, kind);
            expect(r.error.code, `${kind} ${JSON.stringify(sent)}: ${r.error.message}`).toBe('invalid-args');
            return;
          }
          const jobId = (r.result as { jobId: string }).jobId;
          const stop = setTimeout(() => void c.request('job.cancel', { jobId }), 8000);
          const e = await c.event((x) => (x.ev === 'job.done' || x.ev === 'job.failed') && x.payload.jobId === jobId, 30_000);
          clearTimeout(stop);
          const how = e.ev === 'job.done' ? 'done' : (e.payload.cancelled as boolean) ? 'cancelled after 8 s' : 'failed';
          ended[how] = (ended[how] ?? 0) + 1;
          if (e.ev === 'job.failed' && !e.payload.cancelled) {
            const err = e.payload.error as { code: string; message: string };
            expect(ERROR_CODES.has(err.code)).toBe(true);
            expect(leaks(err.message), `${kind} ${JSON.stringify(sent)}: ${err.message}`).toEqual([]);
            expect(err.code, `${kind} ${JSON.stringify(sent)}: ${err.message}`).not.toBe('internal'); // the worker did not die
          }
        }),
        { numRuns: 10, seed: 4242 },
      );
    }
    console.log(`random job parameters: jobs that ran ended ${JSON.stringify(ended)}`);
    c.close();
    await expectStillServing();
  }, 120_000);
});

describe('unknown channels', () => {
  it('are answered unknown-channel, whatever their name or type', async () => {
    const c = await RawClient.open(host);
    const names = fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'app.info ', 'APP.INFO', 'task.cancel\0', ''), fc.anything({ maxDepth: 2 }));
    await fc.assert(
      fc.asyncProperty(names, anyValue, async (ch, args) => {
        const sent = wire(ch);
        fc.pre(!isChannel(sent) && !hasPlaceholder(args));
        count('unknown channel');
        const r = await c.request(sent, wire(args));
        expectCleanError(r, `channel ${JSON.stringify(sent)?.slice(0, 50)}`);
        expect(r.error.code).toBe('unknown-channel');
      }),
      { numRuns: 300, seed: 7 },
    );
    c.close();
  }, 60_000);
});

describe('malformed and out-of-order frames', () => {
  /** Sends frames on a fresh connection; resolves with the replies and how it ended. */
  async function exchange(frames: (string | Buffer)[], waitMs = 300, untilReplies = Infinity): Promise<{ replies: Reply[]; close: { code: number; reason: string } | null }> {
    const c = await RawClient.open(host);
    const replies: Reply[] = [];
    let enough: () => void = () => undefined;
    const gotEnough = new Promise<void>((ok) => (enough = ok));
    c.ws.on('message', (d, bin) => {
      if (!bin) {
        const m = JSON.parse(String(d)) as { t: string; reply: Reply };
        if (m.t === 'res') replies.push(m.reply);
        if (replies.length >= untilReplies) enough();
      }
    });
    for (const f of frames) c.send(f);
    await Promise.race([c.closed, gotEnough, new Promise((ok) => setTimeout(ok, waitMs))]);
    const close = c.closeInfo;
    c.ws.terminate();
    return { replies, close };
  }

  it('are refused with a protocol error (1002/1007 and a reason) or answered with an error', async () => {
    const req = (o: Record<string, unknown>) => JSON.stringify({ t: 'req', id: 1, ch: 'app.info', args: {}, bin: 0, ...o });
    const cases: { name: string; frames: (string | Buffer)[]; expect: 'close' | 'error' }[] = [
      { name: 'not JSON', frames: ['{"t":"req",'], expect: 'close' },
      { name: 'JSON, not an object', frames: ['42'], expect: 'close' },
      { name: 'null', frames: ['null'], expect: 'close' },
      { name: 'an array', frames: ['[1,2]'], expect: 'close' },
      { name: 'wrong t', frames: [req({ t: 'res' })], expect: 'close' },
      { name: 'id a string', frames: [req({ id: '1' })], expect: 'close' },
      { name: 'bin negative', frames: [req({ bin: -1 })], expect: 'close' },
      { name: 'bin fractional', frames: [req({ bin: 0.5 })], expect: 'close' },
      { name: 'bin huge', frames: [req({ bin: 1e9 })], expect: 'close' },
      { name: 'bulk not an array', frames: [req({ bulk: 'x' })], expect: 'close' },
      { name: 'bulk entry without id', frames: [req({ bulk: [{ i: 0 }] })], expect: 'close' },
      { name: 'binary frame first', frames: [Buffer.alloc(8)], expect: 'close' },
      { name: 'text where a binary frame was due', frames: [req({ ch: 'volume.release', args: { volumeIds: [] }, bin: 1 }), req({ id: 2 })], expect: 'close' },
      { name: 'nested 10⁵ deep', frames: ['['.repeat(100_000) + ']'.repeat(100_000)], expect: 'close' },
      { name: 'args nested 10⁴ deep', frames: [`{"t":"req","id":1,"ch":"settings.set","bin":0,"args":${'['.repeat(10_000)}${']'.repeat(10_000)}}`], expect: 'error' },
      { name: 'placeholder without a frame', frames: [req({ ch: 'volume.put', args: { volume: { header: {}, data: { $bin: 0 } } } })], expect: 'error' },
      { name: 'placeholder index out of range', frames: [req({ ch: 'volume.put', args: { volume: { header: {}, data: { $bin: 5 } } }, bin: 1 }), Buffer.alloc(4)], expect: 'error' },
      { name: 'unknown upload id', frames: [req({ ch: 'volume.put', args: { volume: { header: {}, data: { $bin: 0 } } }, bulk: [{ i: 0, id: 'nope' }] })], expect: 'error' },
      { name: 'a 20 MB request', frames: [req({ args: { x: 'a'.repeat(20 << 20) } })], expect: 'error' },
      { name: 'a request with 10⁵ unknown fields', frames: [req({ args: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`f${i}`, i])) })], expect: 'error' },
    ];
    for (const k of cases) {
      count('malformed frame', k.frames.length);
      const r = await exchange(k.frames, 15_000, k.expect === 'error' ? 1 : Infinity);
      if (k.expect === 'close') {
        expect(r.close, k.name).not.toBeNull();
        expect([1002, 1007], k.name).toContain(r.close!.code);
        expect(r.close!.reason.length, k.name).toBeGreaterThan(3);
        expect(leaks(r.close!.reason), k.name).toEqual([]);
      } else {
        expect(r.replies.length, k.name).toBeGreaterThanOrEqual(1);
        expectCleanError(r.replies[0]!, k.name);
      }
    }
    await expectStillServing();
  }, 60_000);

  it('random text and binary frames never crash the host', async () => {
    const frame = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 3 }),
      fc.record({ t: fc.constantFrom('req', 'res', 'evt'), id: fc.anything({ maxDepth: 0 }), ch: fc.oneof(fc.constantFrom(...channels), fc.string()), args: fc.anything({ maxDepth: 2 }), bin: fc.oneof(fc.integer({ min: -2, max: 3 }), fc.anything({ maxDepth: 0 })) }).map((o) => JSON.stringify(o)),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 6 }), async (frames) => {
        count('random frame', frames.length);
        const r = await exchange(frames, 40);
        for (const rep of r.replies) if (!rep.ok) expectCleanError(rep, 'random frames');
        if (r.close) expect(leaks(r.close.reason)).toEqual([]);
      }),
      { numRuns: 150, seed: 99 },
    );
    await expectStillServing();
  }, 60_000);
});

describe('uploads (POST /bulk)', () => {
  /** Sends request headers (and optionally some body bytes) on a raw socket; resolves with the status line and body, or 'open' if nothing came back in time. */
  function rawPost(headers: Record<string, string | number>, body: Buffer = Buffer.alloc(0), waitMs = 5000, until?: Promise<unknown>): Promise<{ status: number | null; text: string }> {
    return new Promise((ok) => {
      const s = connect(host.port, '127.0.0.1');
      let got = '';
      const done = () => {
        s.destroy();
        const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
        ok({ status: m ? Number(m[1]) : null, text: got.slice(got.indexOf('\r\n\r\n') + 4) });
      };
      const timer = setTimeout(done, waitMs);
      void until?.then(done);
      s.on('data', (d) => {
        got += d.toString();
        if (got.includes('\r\n\r\n')) {
          clearTimeout(timer);
          setTimeout(done, 50);
        }
      });
      s.on('error', () => undefined);
      s.write(`POST /bulk HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      if (body.length) s.write(body);
    });
  }

  it('refuses declared sizes over the limit, several 2 GiB at once, and keeps nothing of cut-short ones', async () => {
    const tok = { 'X-Lattice-Token': host.token };
    count('upload', 1);
    const over = await rawPost({ ...tok, 'Content-Length': 2 ** 31 + 1 });
    expect(over.status).toBe(413);
    expect(over.text).toMatch(/upload too large: 2147483649 bytes declared/);
    count('upload', 1);
    expect((await rawPost({ ...tok, 'Content-Length': 1e15 })).status).toBe(413);
    count('upload', 1);
    expect((await rawPost({ ...tok, 'Transfer-Encoding': 'chunked' })).status).toBe(411);
    count('upload', 1);
    expect((await rawPost({ 'Content-Length': 2 ** 31 })).status).toBe(401);
    // 2 GiB declared, a little sent, then nothing: the host reserves it, keeps waiting, and
    // holds at most its budget; others beyond the budget are refused at once with a reason.
    const before = procStatus(host.pid);
    const held: Promise<{ status: number | null }>[] = [];
    let release: () => void = () => undefined;
    const released = new Promise<void>((ok) => (release = ok));
    for (let i = 0; i < 2; i++) {
      count('upload', 1);
      held.push(rawPost({ ...tok, 'Content-Length': 2 ** 31 }, Buffer.alloc(1 << 16, 1), 60_000, released));
    }
    // The third is refused once the host has taken the first two (asked again until it has: on a loaded machine that takes a moment).
    let third = { status: null as number | null, text: '' };
    for (let attempt = 0; attempt < 20 && third.status !== 413; attempt++) {
      await new Promise((ok) => setTimeout(ok, 300));
      count('upload', 1);
      third = await rawPost({ ...tok, 'Content-Length': 2 ** 31 }, Buffer.alloc(0), 3000);
    }
    // 4 GiB is the budget wherever the machine has 8 GiB or more (see UPLOAD_BUDGET_BYTES).
    expect(third.status).toBe(413);
    expect(third.text).toMatch(/bytes of other uploads are pending/);
    const during = procStatus(host.pid);
    // Declared is not committed: the host's memory grows by what was sent, not by 4 GiB.
    expect(during.rss - before.rss).toBeLessThan(256 * 2 ** 20);
    release();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([null, null]); // still waiting for the body when the client gave up
    await new Promise((ok) => setTimeout(ok, 300));
    // The reservations were freed with the connections: a full-size one is accepted again, and a small complete upload works.
    let small = { status: null as number | null, text: '' };
    for (let attempt = 0; attempt < 20 && small.status !== 200; attempt++) {
      // (the 4 GiB budget is full until the host has seen both connections close)
      if (attempt) await new Promise((ok) => setTimeout(ok, 300));
      count('upload', 1);
      small = await rawPost({ ...tok, 'Content-Length': 10 }, Buffer.alloc(10));
    }
    expect(small.status).toBe(200);
    expect(JSON.parse(/\{.*\}/.exec(small.text)![0])).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    count('upload', 1);
    const tooMuch = await rawPost({ ...tok, 'Content-Length': 4 }, Buffer.alloc(100));
    expect([400, null]).toContain(tooMuch.status);
    await expectStillServing();
  }, 60_000);
});

describe('paths, tokens, Origin and Host', () => {
  it('static files: nothing outside the renderer folder, whatever the path', async () => {
    const seg = fc.constantFrom('..', '%2e%2e', '%2E%2e', '..%2f', '%2f', '%5c', '%00', '\\', 'link.txt', 'linkdir', 'secret.txt', 'assets', 'index.html', '.', '%252e%252e', encodeURIComponent(tmp), '');
    await fc.assert(
      fc.asyncProperty(fc.array(seg, { minLength: 1, maxLength: 7 }), async (segs) => {
        count('static path');
        const r = await httpGet('/' + segs.join('/'));
        expect(r.body).not.toContain('SECRET-CONTENT');
        expect(leaks(r.body)).toEqual([]);
        if (r.status === 200) expect(r.body.includes('<title>Lattice</title>') || r.body.includes('console.log(1)')).toBe(true);
        else expect([204, 400, 404, 405]).toContain(r.status);
      }),
      { numRuns: 300, seed: 3 },
    );
    for (const p of ['/linkdir/secret.txt', '/link.txt', '/..%2fsecret.txt', '/%00', '/assets/../../secret.txt']) {
      count('static path');
      const r = await httpGet(p);
      expect(r.status, p).toBe(p === '/assets/../../secret.txt' ? 404 : r.status);
      expect(r.status, p).toBeGreaterThanOrEqual(400);
    }
  }, 60_000);

  it('channels taking paths: "..", NUL and symlinks get clear answers and never file contents', async () => {
    const c = await RawClient.open(host);
    const cases: [string, Record<string, unknown>, string[]][] = [
      ['fs.list', { path: 'a\0b' }, ['invalid-args']],
      ['fs.list', { path: '../../../../../../..' }, ['ok']],
      ['image.open', { path: '../../../../../../etc/passwd' }, ['unsupported']],
      ['image.open', { path: join(tmp, 'passwd.nii') }, ['bad-input']],
      ['image.open', { path: 'x\0.nii' }, ['invalid-args']],
      ['dicom.scan', { paths: ['/nonexistent/\u202e/..'] }, ['not-found']],
      ['dicom.scan', { paths: ['a\0'] }, ['invalid-args']],
      ['volume.export', { volumeId: 'vol-nope', path: '../x.nii' }, ['not-found']],
      ['transform.save', { path: join(tmp, 'no-such-dir', '..', '..', 'x.txt'), text: 'x' }, ['ok', 'exists']],
      ['recent.add', { path: 'a\0', kind: 'image' }, ['invalid-args']],
      ['settings.get', { key: '../../etc/passwd' }, ['invalid-args']],
      ['settings.set', { key: '..', value: 1 }, ['ok', 'invalid-args']],
    ];
    for (const rel of ['../x', 'a/../../x', '/etc/x', 'C:\\x', 'a\0b', '', 'a//b', '..\\..\\x', './../x']) {
      cases.push(['upload.files', { files: [{ relativePath: rel, data: { $bin: 0 } }] }, ['invalid-args']]);
    }
    for (const [ch, args, want] of cases) {
      count('path request');
      let r: Reply;
      if (JSON.stringify(args).includes('$bin')) {
        // with its one binary frame
        const id = 900_000 + tried['path request']!;
        const p = new Promise<Reply>((ok) => {
          const on = (d: WebSocket.RawData, bin: boolean) => {
            if (bin) return;
            const m = JSON.parse(String(d)) as { id: number; reply: Reply };
            if (m.id === id) {
              c.ws.off('message', on);
              ok(m.reply);
            }
          };
          c.ws.on('message', on);
        });
        c.send(JSON.stringify({ t: 'req', id, ch, args, bin: 1 }));
        c.send(Buffer.from('evil'));
        r = await p;
      } else r = await c.request(ch, args);
      const got = r.ok ? 'ok' : r.error.code;
      expect(want, `${ch} ${JSON.stringify(args)}: ${r.ok ? 'ok' : r.error.message}`).toContain(got);
      expect(JSON.stringify(r)).not.toContain('root:x:0');
      if (!r.ok) expectCleanError(r, ch);
    }
    // Nothing was written outside the upload staging folder.
    expect(existsSync(join(tmp, 'x'))).toBe(false);
    expect((await readdir(tmp)).sort()).toEqual(expect.arrayContaining(['outside', 'renderer', 'secret.txt']));
    c.close();
  }, 60_000);

  it('upgrades need the right token, Origin and Host together', async () => {
    const tokens = fc.constantFrom(host.token, '', 'x', host.token.slice(0, -1), `${host.token}x`, host.token.toUpperCase(), encodeURIComponent(`${host.token}\0`));
    const origins = fc.constantFrom<string | undefined>(host.origin, `http://localhost:${host.port}`, undefined, 'null', 'http://evil.example', `http://127.0.0.1:${host.port + 1}`, `https://127.0.0.1:${host.port}`, `http://127.0.0.1.evil.example:${host.port}`, 'file://');
    const hosts = fc.constantFrom<string | undefined>(undefined, `localhost:${host.port}`, 'evil.example', `127.0.0.1:${host.port + 1}`, `127.0.0.1`, 'localhost');
    await fc.assert(
      fc.asyncProperty(tokens, origins, hosts, async (token, origin, hostHeader) => {
        count('upgrade');
        const result = await new Promise<number | 'open'>((ok) => {
          const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ipc?token=${token}`, { ...(origin !== undefined ? { origin } : {}), ...(hostHeader !== undefined ? { headers: { Host: hostHeader } } : {}) });
          ws.on('open', () => (ws.close(), ok('open')));
          ws.on('unexpected-response', (_q, res) => (ws.terminate(), ok(res.statusCode ?? -1)));
          ws.on('error', () => ok(-1));
        });
        const good = token === host.token && (origin === host.origin || origin === `http://localhost:${host.port}`) && (hostHeader === undefined || hostHeader === `localhost:${host.port}`);
        if (good) expect(result).toBe('open');
        else expect([401, 403, 421, 400]).toContain(result);
      }),
      { numRuns: 200, seed: 5 },
    );
    // bulk downloads and uploads need the token; the page needs its own Host name
    for (const [path, headers, method, want] of [
      ['/bulk/00000000000000000000000000000000', {}, 'GET', 401],
      ['/bulk/00000000000000000000000000000000', { 'X-Lattice-Token': 'x' }, 'GET', 401],
      ['/bulk/00000000000000000000000000000000', { 'X-Lattice-Token': host.token }, 'GET', 404],
      ['/bulk/../index.html', { 'X-Lattice-Token': host.token }, 'GET', 200],
      ['/', { Host: 'evil.example' }, 'GET', 421],
      ['/', { Host: 'localhost' }, 'GET', 421],
      ['/', {}, 'DELETE', 405],
      ['/bulk', { 'X-Lattice-Token': host.token, Origin: 'http://evil.example', 'Content-Length': '1' }, 'POST', 403],
    ] as [string, Record<string, string>, string, number][]) {
      count('http request');
      expect((await httpGet(path, headers, method)).status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(want);
    }
    await expectStillServing();
    // Nothing on stderr: no uncaught errors, no stack traces.
    expect(host.stderr()).toBe('');
  }, 60_000);
});
