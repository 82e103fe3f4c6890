/**
 * The error type of the IPC contract, shared by both sides. Kept apart from contract.ts so
 * that the renderer can use it without bundling zod.
 */
export type IpcErrorCode =
  | 'invalid-args'
  | 'unknown-channel'
  | 'not-found'
  | 'exists'
  | 'unsupported'
  | 'cancelled'
  | 'bad-input'
  | 'io'
  | 'internal';

export interface IpcErrorInfo {
  code: IpcErrorCode;
  message: string;
  /** For invalid-args: one line per bad field, e.g. `paths[0]: expected string, received number`. */
  issues?: string[];
}

/** The error every transport rethrows on the renderer side and services throw on the main side. */
export class IpcError extends Error {
  readonly code: IpcErrorCode;
  readonly issues?: string[];
  constructor(code: IpcErrorCode, message: string, issues?: string[]) {
    super(message);
    this.name = 'IpcError';
    this.code = code;
    if (issues) this.issues = issues;
  }
  toInfo(): IpcErrorInfo {
    return { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}) };
  }
  static from(info: IpcErrorInfo): IpcError {
    return new IpcError(info.code, info.message, info.issues);
  }
}

/** The envelope a transport returns for one request (errors as data: Electron mangles thrown errors). */
export type Reply<T = unknown> = { ok: true; result: T } | { ok: false; error: IpcErrorInfo };
