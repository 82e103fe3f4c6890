/**
 * Long-running processing and registration jobs. A job kind is registered once (by the
 * module that implements it) with a zod schema for its arguments and a `run` that does
 * the work — in a worker/utility process, never on this event loop — reporting progress
 * and honouring the abort signal. `job.start` validates, resolves the input volume ids
 * against the VolumeStore, returns a job id at once, and later emits job.progress,
 * then job.done (the new volumes, by id) or job.failed to the client that started it.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { IpcError, type ParsedArgs } from '../../src-shared/ipc/contract';
import type { Volume } from '../../src-shared/image/volume';
import type { ClientLink } from './dispatcher';
import { toErrorInfo } from './dispatcher';
import type { VolumeStore } from './volume-store';

export interface JobRunInput<A> {
  args: A;
  /** The input volumes, in the order of job.start's `inputs`. */
  inputs: Volume[];
  signal: AbortSignal;
  progress(fraction: number | null, message: string): void;
}

export interface JobOutput {
  volumes: { volume: Volume; name: string }[];
  /** Small JSON-able extras (a transform matrix, metrics). */
  result?: Record<string, unknown>;
}

export interface JobKind<S extends z.ZodType = z.ZodType> {
  /** Human-readable, for messages. */
  title: string;
  args: S;
  /** How many input volumes the kind needs: [min, max]. */
  inputs: [number, number];
  run(input: JobRunInput<z.output<S>>): Promise<JobOutput>;
}

export class JobRegistry {
  private readonly kinds = new Map<string, JobKind>();
  register<S extends z.ZodType>(kind: string, def: JobKind<S>): void {
    if (this.kinds.has(kind)) throw new Error(`job kind ${kind} is registered twice`);
    this.kinds.set(kind, def as unknown as JobKind);
  }
  get(kind: string): JobKind | undefined {
    return this.kinds.get(kind);
  }
  list(): string[] {
    return [...this.kinds.keys()].sort();
  }
}

interface Running {
  ac: AbortController;
  client: ClientLink;
}

export class JobRunner {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly registry: JobRegistry,
    private readonly volumes: VolumeStore,
  ) {}

  start(req: ParsedArgs<'job.start'>, client: ClientLink): { jobId: string } {
    const kind = this.registry.get(req.kind);
    if (!kind) {
      const known = this.registry.list();
      throw new IpcError('unsupported', `job.start: unknown job kind ${JSON.stringify(req.kind)}${known.length ? ` (known: ${known.join(', ')})` : ' (no job kinds are installed)'}`);
    }
    const parsed = kind.args.safeParse(req.args);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `args${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`);
      throw new IpcError('invalid-args', `job.start (${req.kind}): invalid arguments: ${issues.join('; ')}`, issues);
    }
    const [min, max] = kind.inputs;
    if (req.inputs.length < min || req.inputs.length > max) {
      throw new IpcError('invalid-args', `job.start (${req.kind}): invalid arguments: inputs: needs ${min === max ? min : `${min} to ${max}`} volume(s), got ${req.inputs.length}`, ['inputs: wrong count']);
    }
    const inputs = req.inputs.map((id) => this.volumes.get(id));
    const jobId = `job-${randomUUID()}`;
    const ac = new AbortController();
    this.running.set(jobId, { ac, client });
    // Runs after the reply: the caller gets the job id before any job event.
    setImmediate(() => void this.execute(jobId, req.kind, kind, parsed.data, inputs, ac, client));
    return { jobId };
  }

  cancel(jobId: string): boolean {
    const r = this.running.get(jobId);
    r?.ac.abort();
    return !!r;
  }

  /** Cancels the jobs of a client that disconnected. */
  disconnect(client: ClientLink): void {
    for (const r of this.running.values()) if (r.client.id === client.id) r.ac.abort();
  }

  private async execute(jobId: string, kindName: string, kind: JobKind, args: unknown, inputs: Volume[], ac: AbortController, client: ClientLink) {
    let last = 0;
    try {
      const out = await kind.run({
        args,
        inputs,
        signal: ac.signal,
        progress: (fraction, message) => {
          const now = Date.now();
          if (now - last < 50 && fraction !== 1) return;
          last = now;
          client.emit('job.progress', { jobId, fraction, message });
        },
      });
      if (ac.signal.aborted) throw new IpcError('cancelled', `${kind.title}: cancelled`);
      const volumes = out.volumes.map(({ volume, name }) => this.volumes.header(this.volumes.add(volume, name, { kind: 'job', job: kindName })));
      client.emit('job.done', { jobId, kind: kindName, volumes, ...(out.result ? { result: out.result } : {}) });
    } catch (err) {
      const cancelled = ac.signal.aborted;
      const error = cancelled ? { code: 'cancelled' as const, message: `${kind.title}: cancelled` } : toErrorInfo(err);
      client.emit('job.failed', { jobId, kind: kindName, error, cancelled });
    } finally {
      this.running.delete(jobId);
    }
  }
}
