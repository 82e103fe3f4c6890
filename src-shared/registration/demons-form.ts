/**
 * The demons parameters a user sets in the Registration panel (a subset of the engine's
 * DemonsOptions, src-main/registration/demons.ts, whose DEMONS_DEFAULTS say why each default
 * was chosen) and the parsing of the iterations field. Shared so the panel can show the
 * engine's defaults without importing main-process code.
 */
export type DemonsForce = 'moving' | 'fixed' | 'symmetric';

export interface DemonsFormValues {
  levels: number;
  /** Max iterations per level, coarsest first. */
  iterations: number[];
  /** Gaussian σ (voxels) of the update (fluid) and of the displacement (elastic). */
  sigmaFluid: number;
  sigmaElastic: number;
  diffeomorphic: boolean;
  force: DemonsForce;
  stopOnPlateau: boolean;
}

/** The engine's defaults for these keys (DEMONS_DEFAULTS spreads them; its comment says why). */
export const DEMONS_FORM_DEFAULTS: Readonly<DemonsFormValues> = Object.freeze({
  levels: 3,
  iterations: [150, 80, 5],
  sigmaFluid: 4,
  sigmaElastic: 1,
  diffeomorphic: false,
  force: 'symmetric',
  stopOnPlateau: true,
});

/**
 * "150, 80, 5" → [150, 80, 5]: one count per level, coarsest first; a single number applies
 * to every level. Returns an error text when the field is not that (names the bad part).
 */
export function parseIterations(text: string, levels: number): number[] | string {
  const parts = text.split(/[\s,;/]+/).filter(Boolean);
  if (!parts.length) return 'Iterations: give one number, or one per level (coarsest first).';
  const n: number[] = [];
  for (const p of parts) {
    const v = Number(p);
    if (!Number.isInteger(v) || v < 0 || v > 10_000) return `Iterations: "${p}" is not a whole number from 0 to 10000.`;
    n.push(v);
  }
  if (n.length === 1) return new Array(levels).fill(n[0]);
  if (n.length !== levels) return `Iterations: ${n.length} numbers for ${levels} level${levels === 1 ? '' : 's'}; give one, or one per level.`;
  return n;
}
