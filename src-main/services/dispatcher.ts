/**
 * Transport-independent request dispatch (VS Code's "channel over services" model):
 * a transport (Electron ipcMain or the browser host's WebSocket) hands every request
 * to `Dispatcher.handle` with the client it came from; the dispatcher validates the
 * arguments against the contract's zod schema, runs the service, and returns a Reply
 * envelope. Services never see unvalidated input and never know the transport.
 */
import {
  IpcError,
  isChannel,
  parseArgs,
  type Channel,
  type EventName,
  type Events,
  type IpcErrorInfo,
  type ParsedArgs,
  type Reply,
  type Result,
} from '../../src-shared/ipc/contract';

/** One connected renderer (a BrowserWindow's webContents, or one WebSocket). */
export interface ClientLink {
  /** Unique per connection. */
  readonly id: string;
  emit<E extends EventName>(event: E, payload: Events[E]): void;
}

export interface CallContext {
  client: ClientLink;
  /** Aborted by task.cancel for this request's task id, or when the client goes away. */
  signal: AbortSignal;
  /**
   * Reports progress of this request as `task.progress` (only if the caller gave a task
   * id). Throttled here, so services may call it per file.
   */
  progress(fraction: number | null, message: string, done?: number, total?: number): void;
}

export type Handler<C extends Channel> = (args: ParsedArgs<C>, ctx: CallContext) => Promise<Result<C>> | Result<C>;
/** Every channel except task.cancel, which the dispatcher answers itself. */
export type Handlers = { [C in Exclude<Channel, 'task.cancel'>]: Handler<C> };

/** Turns anything thrown into the error info a Reply carries. */
export function toErrorInfo(err: unknown): IpcErrorInfo {
  if (err instanceof IpcError) return err.toInfo();
  if (err instanceof Error) {
    if (err.name === 'AbortError') return { code: 'cancelled', message: 'cancelled' };
    // A job's worker died (killed, out of memory): not the input's fault.
    if (err.name === 'JobCrashedError') return { code: 'internal', message: err.message };
    // A file-system error, also when a reader wrapped it with the file's name (cause).
    let code: unknown;
    for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4 && code === undefined; e = e.cause, depth++) code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { code: 'not-found', message: err.message };
    if (code === 'EEXIST') return { code: 'exists', message: err.message };
    if (code === 'ENOSPC') return { code: 'io', message: /no space/i.test(err.message) ? err.message : `${err.message} (no space left on the disk)` };
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return { code: 'io', message: err.message };
    // Parser errors from the DICOM / NIfTI readers already name the file and problem.
    return { code: 'bad-input', message: err.message };
  }
  return { code: 'internal', message: String(err) };
}

/** Longest error message and most issue lines a Reply carries (a request with 10⁵ unknown fields gets a readable answer). */
const MAX_ERROR_CHARS = 2000;
const MAX_ISSUES = 50;

/**
 * An error as a client may see it: one bounded message without stack-trace lines (an
 * engine error's message never has them, but a library's might), at most MAX_ISSUES issues.
 */
export function boundedErrorInfo(info: IpcErrorInfo): IpcErrorInfo {
  const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}… (${s.length - n} more characters)` : s);
  const message = clip(
    String(info.message)
      .split('\n')
      .filter((l) => !/^\s+at\s/.test(l))
      .join('\n'),
    MAX_ERROR_CHARS,
  );
  const out: IpcErrorInfo = { code: info.code, message };
  if (info.issues) out.issues = info.issues.length > MAX_ISSUES ? [...info.issues.slice(0, MAX_ISSUES).map((i) => clip(i, 200)), `… and ${info.issues.length - MAX_ISSUES} more`] : info.issues.map((i) => clip(i, 200));
  return out;
}

const PROGRESS_INTERVAL_MS = 50;

export class Dispatcher {
  /** Running requests with a task id, by `${client.id}\n${task}`. */
  private readonly tasks = new Map<string, AbortController>();
  /** Controllers of every running request, per client, aborted on disconnect. */
  private readonly running = new Map<string, Set<AbortController>>();

  constructor(private readonly handlers: Handlers) {}

  async handle(channel: unknown, rawArgs: unknown, client: ClientLink): Promise<Reply> {
    let taskKey: string | null = null;
    const ac = new AbortController();
    try {
      if (typeof channel !== 'string') throw new IpcError('unknown-channel', 'IPC channel must be a string');
      // Own channels only: "constructor" or "toString" must not reach an inherited property.
      if (!isChannel(channel)) throw new IpcError('unknown-channel', `unknown IPC channel ${JSON.stringify(channel).slice(0, 120)}`);
      const args = parseArgs(channel as Channel, rawArgs) as Record<string, unknown>;
      if (channel === 'task.cancel') {
        const c = this.tasks.get(`${client.id}\n${String(args.task)}`);
        c?.abort();
        return { ok: true, result: { cancelled: !!c } };
      }
      const task = typeof args.task === 'string' ? args.task : null;
      if (task) {
        taskKey = `${client.id}\n${task}`;
        if (this.tasks.has(taskKey)) throw new IpcError('invalid-args', `${channel}: invalid arguments: task: id ${JSON.stringify(task)} is already running`, ['task: already running']);
        this.tasks.set(taskKey, ac);
      }
      let set = this.running.get(client.id);
      if (!set) this.running.set(client.id, (set = new Set()));
      set.add(ac);
      const ctx: CallContext = { client, signal: ac.signal, progress: this.progressReporter(client, task) };
      const handler = this.handlers[channel as Exclude<Channel, 'task.cancel'>] as Handler<Channel>;
      const result = await handler(args as never, ctx);
      if (ac.signal.aborted) throw new IpcError('cancelled', `${channel}: cancelled`);
      return { ok: true, result };
    } catch (err) {
      const info = ac.signal.aborted ? { code: 'cancelled' as const, message: `${String(channel).slice(0, 100)}: cancelled` } : toErrorInfo(err);
      return { ok: false, error: boundedErrorInfo(info) };
    } finally {
      if (taskKey) this.tasks.delete(taskKey);
      this.running.get(client.id)?.delete(ac);
    }
  }

  /** Call when a client disconnects: aborts everything it had running. */
  disconnect(client: ClientLink): void {
    const set = this.running.get(client.id);
    if (set) for (const ac of set) ac.abort();
    this.running.delete(client.id);
  }

  private progressReporter(client: ClientLink, task: string | null): CallContext['progress'] {
    if (!task) return () => undefined;
    let last = 0;
    return (fraction, message, done, total) => {
      const now = Date.now();
      const final = fraction === 1 || (done !== undefined && done === total);
      if (!final && now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      client.emit('task.progress', {
        task,
        fraction,
        message,
        ...(done !== undefined ? { done } : {}),
        ...(total !== undefined ? { total } : {}),
      });
    };
  }
}
