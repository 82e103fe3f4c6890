/**
 * How big one volume may be before Lattice refuses to load it (a clear message before any
 * allocation, instead of an out-of-memory crash or a machine that swaps to a halt).
 *
 * A volume is held once in the main process (or host), once in the viewer, and a job gets
 * a copy of its inputs and makes outputs of the same size: so one volume may take at most a
 * quarter of the machine's memory — and never more than one buffer can hold in this
 * runtime. LATTICE_MAX_VOLUME_BYTES overrides the figure (tests, big-memory servers).
 */
import buffer from 'node:buffer';
import { totalmem } from 'node:os';

const GiB = 2 ** 30;
const gib = (n: number) => (n < GiB ? `${Math.ceil(n / 2 ** 20)} MiB` : `${(n / GiB).toFixed(n < 10 * GiB ? 2 : 1)} GiB`);

/** The largest volume (bytes of voxels) this process accepts, and why that figure. */
export function volumeBudget(): { bytes: number; why: string } {
  const env = Number(process.env.LATTICE_MAX_VOLUME_BYTES);
  const runtime = buffer.constants.MAX_LENGTH;
  if (Number.isFinite(env) && env > 0) return { bytes: Math.min(env, runtime), why: `the limit set by LATTICE_MAX_VOLUME_BYTES (${gib(Math.min(env, runtime))})` };
  const quarter = Math.floor(totalmem() / 4);
  if (quarter < runtime) return { bytes: quarter, why: `Lattice's budget for one volume, a quarter of this machine's ${gib(totalmem())} of memory (${gib(quarter)})` };
  return { bytes: runtime, why: `the largest buffer this runtime can hold (${gib(runtime)})` };
}

/**
 * Throws when a volume of `bytes` is over the budget; `what` describes it
 * ("512×512×300 int16 volume"). Call before allocating.
 */
export function checkVolumeBudget(bytes: number, what: string): void {
  const b = volumeBudget();
  if (bytes > b.bytes) throw new Error(`${what} needs ${gib(bytes)}, more than ${b.why}: not loaded`);
}
