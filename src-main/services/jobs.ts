/**
 * The job.* requests: processing and registration jobs on volumes the main side holds.
 *
 * The work itself runs in the job runner of src-main/jobs (worker threads in the browser
 * host, Electron utility processes in the desktop app), never on this event loop. This
 * service only: checks the kind and its parameters up front (so a bad call fails at once
 * with an invalid-args error naming the field, instead of as a failed job), resolves the
 * input volume ids, returns a job id immediately, and later emits job.progress and then
 * job.done (the new volumes, stored and named, by id) or job.failed — to the client that
 * started the job. A client that disconnects has its jobs cancelled.
 *
 * job.progress may carry a `preview` (a kind's live picture, e.g. a DemonsPreview): those
 * are never dropped by the 50 ms progress throttle. job.cancel with `keep` asks a kind that
 * can stop early (JobKindInfo.canStopEarly) to end with what it has (job.done); for the
 * others it is a plain cancel.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { IpcError, type ParsedArgs } from '../../src-shared/ipc/contract';
import type { Volume } from '../../src-shared/image/volume';
import type { JobResult, JobRunner, JobRunOptions } from '../jobs/types';
import type { ClientLink } from './dispatcher';
import { boundedErrorInfo, toErrorInfo } from './dispatcher';
import type { VolumeStore } from './volume-store';

/** What the service needs to know about a job kind to validate a call. */
export interface JobKindInfo {
  /** Parameter schema, when the kind has one (processing kinds do). */
  params?: z.ZodType;
  /** Number of input volumes [min, max]. */
  inputs?: [number, number];
  /** job.cancel { keep: true } ends it early with its result so far (job.done) instead of cancelling it. */
  canStopEarly?: boolean;
}

export interface JobCatalog {
  kinds(): string[];
  info(kind: string): JobKindInfo | undefined;
}

/** The kinds registered with the job runner (src-main/jobs/kinds.ts), with the processing schemas. */
export async function defaultJobCatalog(): Promise<JobCatalog> {
  const [{ registeredJobKinds, jobKindCanStopEarly }, { processingJobKinds }, { analysisJobKinds }] = await Promise.all([
    import('../jobs/kinds'),
    import('../../src-shared/processing/jobs'),
    import('../../src-shared/analysis/jobs'),
  ]);
  return {
    kinds: () => registeredJobKinds().filter((k) => !k.startsWith('diagnostics.')),
    info(kind) {
      // diagnostics.* (crash, sleep) exist for the runner's own tests: never for a client.
      if (kind.startsWith('diagnostics.') || !registeredJobKinds().includes(kind)) return undefined;
      const p = processingJobKinds[kind] ?? analysisJobKinds[kind];
      const info: JobKindInfo = p ? { params: p.params, inputs: p.inputs } : {};
      if (jobKindCanStopEarly(kind)) info.canStopEarly = true;
      return info;
    },
  };
}

interface Running {
  ac: AbortController;
  /** Aborted to ask the job to finish early, keeping its result (kinds that can). */
  finish: AbortController;
  canStopEarly: boolean;
  client: ClientLink;
}

export class JobService {
  private readonly running = new Map<string, Running>();
  private runner: JobRunner | null = null;
  private catalog: JobCatalog | null = null;

  /**
   * @param makeRunner creates the runner on first use (workers cost nothing until a job runs)
   * @param makeCatalog the kinds and their schemas
   */
  constructor(
    private readonly volumes: VolumeStore,
    private readonly makeRunner: () => JobRunner | Promise<JobRunner>,
    private readonly makeCatalog: () => JobCatalog | Promise<JobCatalog> = defaultJobCatalog,
  ) {}

  async start(req: ParsedArgs<'job.start'>, client: ClientLink): Promise<{ jobId: string }> {
    const catalog = (this.catalog ??= await this.makeCatalog());
    const info = catalog.info(req.kind);
    if (!info) {
      const known = catalog.kinds();
      throw new IpcError('unsupported', `job.start: unknown job kind ${JSON.stringify(req.kind)}${known.length ? ` (known: ${known.join(', ')})` : ' (no job kinds are installed)'}`);
    }
    if (info.params) {
      const parsed = info.params.safeParse(req.args);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `args${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`);
        throw new IpcError('invalid-args', `job.start (${req.kind}): invalid arguments: ${issues.join('; ')}`, issues);
      }
      // The worker parses them again (its schema applies the defaults); we send them as given.
    }
    if (info.inputs) {
      const [min, max] = info.inputs;
      if (req.inputs.length < min || req.inputs.length > max) {
        throw new IpcError('invalid-args', `job.start (${req.kind}): invalid arguments: inputs: needs ${min === max ? min : `${min} to ${max}`} volume(s), got ${req.inputs.length}`, [
          'inputs: wrong count',
        ]);
      }
    }
    const inputs = req.inputs.map((id) => this.volumes.get(id));
    const names = req.inputs.map((id) => this.volumes.header(id).name);
    const runner = (this.runner ??= await this.makeRunner());
    const jobId = `job-${randomUUID()}`;
    const ac = new AbortController();
    const finish = new AbortController();
    this.running.set(jobId, { ac, finish, canStopEarly: !!info.canStopEarly, client });
    // After the reply: the caller has the job id before any job event arrives.
    setImmediate(() => void this.execute(runner, jobId, req.kind, req.args, inputs, names, ac, finish.signal, client));
    return { jobId };
  }

  /**
   * Cancels a running job; with `keep`, a kind that can stop early is asked to end with its
   * result so far instead (it then ends with job.done). True when the job was running.
   */
  cancel(jobId: string, keep = false): boolean {
    const r = this.running.get(jobId);
    if (r && keep && r.canStopEarly) r.finish.abort();
    else r?.ac.abort();
    return !!r;
  }

  disconnect(client: ClientLink): void {
    for (const r of this.running.values()) if (r.client.id === client.id) r.ac.abort();
  }

  async dispose(): Promise<void> {
    for (const r of this.running.values()) r.ac.abort();
    await this.runner?.dispose();
  }

  private async execute(
    runner: JobRunner,
    jobId: string,
    kind: string,
    params: unknown,
    inputs: Volume[],
    names: string[],
    ac: AbortController,
    finish: AbortSignal,
    client: ClientLink,
  ) {
    let last = 0;
    const opts: JobRunOptions = {
      signal: ac.signal,
      finish,
      // The store keeps serving these volumes while the job runs: never lend them out.
      transfer: 'copy',
      onProgress: (fraction, message, preview) => {
        const now = Date.now();
        // Previews are already paced by the job (a few a second) and each matters (the
        // first of a level, the final state): only plain messages are throttled.
        if (preview && typeof preview === 'object') {
          last = now;
          client.emit('job.progress', { jobId, fraction, message, preview: preview as Record<string, unknown> });
          return;
        }
        if (now - last < 50 && fraction < 1) return;
        last = now;
        client.emit('job.progress', { jobId, fraction, message });
      },
    };
    try {
      const out: JobResult = await runner.run(kind, params, inputs, opts);
      if (ac.signal.aborted) throw new IpcError('cancelled', `${kind}: cancelled`);
      const short = kind.replace(/^.*\./, '');
      const base = names[0] ?? 'image';
      const volumes = out.volumes.map((v, i) =>
        this.volumes.header(this.volumes.add(v, `${base} · ${short}${out.volumes.length > 1 ? ` ${i + 1}` : ''}`, { kind: 'job', job: kind }, client.id)),
      );
      client.emit('job.done', { jobId, kind, volumes, ...(out.values ? { result: out.values } : {}) });
    } catch (err) {
      const cancelled = ac.signal.aborted;
      const error = cancelled ? { code: 'cancelled' as const, message: `${kind}: cancelled` } : boundedErrorInfo(toErrorInfo(err));
      client.emit('job.failed', { jobId, kind, error, cancelled });
    } finally {
      this.running.delete(jobId);
    }
  }
}
