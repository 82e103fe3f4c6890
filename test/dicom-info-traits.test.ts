/**
 * `lattice info` names the traits of issue 11's first half for each series: the Philips
 * scaling chosen, image types split from one series (magnitude/phase, echoes, a grey map
 * and its colour copy), colour (RGB), images without orientation. Runs the command
 * itself (the same code the CLI binary runs) with its output captured.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { commands } from '../src-main/cli/commands/dicom';

const DATA = resolve(__dirname, '../../shared/data');
const haveData = existsSync(join(DATA, 'dicom/MANIFEST.json'));

async function info(...items: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await commands.info.run(items.map((i) => join(DATA, 'dicom', i)), { out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`) });
  return { code, out: lines.join('\n') };
}

describe.skipIf(!haveData)('lattice info: traits', () => {
  it('Philips magnitude/phase, two echoes: split named, scaling chosen, phase in radians', async () => {
    const { code, out } = await info('philips_fmap_2echo_mag_phase');
    expect(code).toBe(0);
    expect(out).toMatch(/4 series found/);
    expect(out.match(/warning: series split into 4 volumes/g)?.length).toBe(4);
    for (const part of ['e1', 'e1_ph', 'e2', 'e2_ph']) expect(out).toContain(`this one is '${part}'`);
    expect(out.match(/note: Philips scaling: values are Philips floating-point values/g)?.length).toBe(4);
    expect(out.match(/note: phase image \(values in radians\)/g)?.length).toBe(2);
  });

  it('Philips enhanced B0 map: fieldmap part named, scaling chosen', async () => {
    const { out } = await info('philips_enh_b0map');
    expect(out).toContain("this one is 'e2_fieldmaphz'");
    expect(out).toMatch(/note: Philips scaling: .*SS 4.095/);
  });

  it('grey map with its colour copy: colour named, shared series number named, missing orientation named', async () => {
    const { out } = await info('siemens_xa30i_relcbf_gray_rgb');
    expect(out).toMatch(/2 series found/);
    expect(out).toMatch(/note: colour image \(RGB, RGB\): written as RGB24 NIfTI/);
    expect(out.match(/warning: SeriesNumber 20001 is shared with another series/g)?.length).toBe(2);
    expect(out).toMatch(/note: no ImageOrientationPatient\/ImagePositionPatient: written without orientation/);
  });

  it('colour FA map and colour secondary capture: colour named; two echoes in one enhanced series split', async () => {
    const { out } = await info('siemens_xa30_enh_colfa_rgb', 'mr_rgb_sc_j2k', 'siemens_xa30_enh_fmap_2echo');
    expect(out.match(/note: colour image \(RGB/g)?.length).toBe(2);
    expect(out).toContain("this one is 'e1'");
    expect(out).toContain("this one is 'e2'");
  });
});
