/** Cancellation of registration runs (an AbortSignal checked between iterations). */
export class RegistrationCancelled extends Error {
  constructor() {
    super('registration cancelled');
    this.name = 'RegistrationCancelled';
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new RegistrationCancelled();
}
