/**
 * Notes that name what is special about a series' geometry or content, for `lattice info`
 * (and anyone listing series): mosaic storage, diffusion directions, uneven spacing and
 * gantry tilt, each with what convert does about it. Problems stay warnings (split.ts);
 * these are facts a user should know before converting.
 */
import type { DicomScan } from './types';
import { seriesGroup } from './index';
import type { VolumeGroup } from './split';
import { mosaicGrid, tileSize } from './mosaic';
import { describeDiffusion, diffusionTable } from './diffusion';
import { stackTraits } from './resampled-outputs';

const fmt = (x: number, d = 2): string => String(Number(x.toFixed(d)));

export function groupTraitNotes(g: VolumeGroup): string[] {
  const notes: string[] = [];
  const r = g.records[0];
  if (g.mosaic && r.mosaicCount > 1) {
    const grid = mosaicGrid(r);
    const [tc, tr] = tileSize(r);
    const vendor = r.tilePositions ? 'UIH grid' : 'Siemens mosaic';
    notes.push(`${vendor}: each ${r.columns}×${r.rows} image holds ${r.mosaicCount} slices of ${tc}×${tr} (${grid.across}×${grid.down} tiles), de-mosaicked into ${g.dims.join('×')}`);
  }
  // Diffusion: directions in the written frame only matter for counting them here.
  const direction = g.direction;
  const dwi = diffusionTable(g.slices.map((v) => v[0].record), { direction });
  if (dwi) notes.push(`${describeDiffusion(dwi)}; convert writes ${dwi.bvecs ? '.bval and .bvec' : '.bval'}`);
  const t = stackTraits(g);
  if (t.uneven) {
    const p = g.slicePositions;
    notes.push(`uneven slice spacing over ${p.length} slices (${fmt(p[p.length - 1] - p[0])} mm): convert writes the exact slices and an equal-spacing _Eq_1 volume; the viewer shows the resampled one`);
  }
  if (t.tilted) notes.push(`gantry tilt ${fmt(g.shearDeg)}°: exact sheared geometry kept; convert --tilt-correct also writes a tilt-corrected ${t.uneven ? '_Tilt_Eq_1' : '_Tilt_1'} volume`);
  return notes;
}

/** Trait notes per series id of a scan. */
export async function seriesTraitNotes(scan: DicomScan): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const s of scan.series) {
    const notes = groupTraitNotes(await seriesGroup(scan, s.id));
    if (notes.length) out.set(s.id, notes);
  }
  return out;
}
