/**
 * Diffusion tables: .bval/.bvec written in the NIfTI voxel frame as dcm2niix writes them,
 * compared numerically with every reference of ../shared/data that has a .bval (Siemens
 * CSA mosaic, GE, UIH grid, Canon, and GE's derived ADC map: b = 0, no .bvec), plus the
 * frame rules on synthetic oblique, anisotropic geometry.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { convertDicom } from '../src-main/dicom/convert';
import { directionToLps, lpsToBvec, diffusionTable, formatBvec, type DiffusionInfo } from '../src-main/dicom/diffusion';
import type { ImageRecord } from '../src-main/dicom/types';
import type { Mat3, Vec3 } from '../src-shared/image/volume';

const DATA = resolve(__dirname, '../../shared/data');
const out = mkdtempSync(join(tmpdir(), 'lattice-dwi-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const rows = (text: string): number[][] => text.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));

const withBval = readdirSync(join(DATA, 'reference')).filter((d) => readdirSync(join(DATA, 'reference', d)).some((f) => f.endsWith('.bval')));

describe.each(withBval)('%s', (name) => {
  it('writes .bval/.bvec equal to dcm2niix (b within 1e-5 relative, vectors within 1e-5)', async () => {
    const res = await convertDicom([join(DATA, 'dicom', name)], join(out, name));
    expect(res.failures).toEqual([]);
    const refDir = join(DATA, 'reference', name);
    for (const f of readdirSync(refDir).filter((x) => x.endsWith('.bval'))) {
      const ours = join(out, name, f);
      expect(existsSync(ours), `${f} written`).toBe(true);
      const rb = rows(readFileSync(join(refDir, f), 'utf8'))[0];
      const ob = rows(readFileSync(ours, 'utf8'))[0];
      expect(ob.length).toBe(rb.length);
      ob.forEach((b, i) => expect(Math.abs(b - rb[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, rb[i])));
      const refVec = join(refDir, f.replace(/\.bval$/, '.bvec'));
      const ourVec = ours.replace(/\.bval$/, '.bvec');
      expect(existsSync(ourVec)).toBe(existsSync(refVec));
      if (!existsSync(refVec)) continue;
      const rv = rows(readFileSync(refVec, 'utf8'));
      const ov = rows(readFileSync(ourVec, 'utf8'));
      expect(ov.length).toBe(3);
      let worst = 0;
      for (let c = 0; c < 3; c++) for (let t = 0; t < rv[c].length; t++) worst = Math.max(worst, Math.abs(ov[c][t] - rv[c][t]));
      expect(worst).toBeLessThan(1e-5);
      // The sidecar names the table.
      const json = JSON.parse(readFileSync(ours.replace(/\.bval$/, '.json'), 'utf8'));
      expect(json.DiffusionBValues.length).toBeGreaterThan(0);
      expect(typeof json.DiffusionTableSource).toBe('string');
    }
  });
});

describe('series that carry diffusion tags with b = 0 only (fMRI, field maps)', () => {
  it.each(['ge_epi_4d', 'philips_fmri_oblique_4d', 'siemens_mosaic_epi_4d'])('%s gets no .bval/.bvec (as dcm2niix)', async (name) => {
    const res = await convertDicom([join(DATA, 'dicom', name)], join(out, name));
    expect(res.converted.length).toBeGreaterThan(0);
    for (const c of res.converted) expect([c.bval, c.bvec]).toEqual([undefined, undefined]);
    expect(readdirSync(join(out, name)).filter((f) => /\.bv(al|ec)$/.test(f))).toEqual([]);
  });
});

describe('voxel-frame rules', () => {
  // An oblique, anisotropic-irrelevant frame: row r, column c, normal n = r × c.
  const a = (20 * Math.PI) / 180;
  const b = (-35 * Math.PI) / 180;
  const r: Vec3 = [Math.cos(a), Math.sin(a), 0];
  const c0: Vec3 = [-Math.sin(a), Math.cos(a), 0];
  // tilt the column out of plane
  const c: Vec3 = [c0[0] * Math.cos(b), c0[1] * Math.cos(b), Math.sin(b)];
  const n: Vec3 = [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]];
  const iop = [...r, ...c];
  const dotv = (x: number[], y: number[]) => x[0] * y[0] + x[1] * y[1] + x[2] * y[2];
  // dcm2niix's 2D layout: rows flipped, so the written axes are r, −c, n (det −1).
  const written: Mat3 = [r[0], -c[0], n[0], r[1], -c[1], n[1], r[2], -c[2], n[2]];

  it('world (LPS) vectors are projected on the written axes; rows flipped → y negated', () => {
    const w: Vec3 = [0.3, -0.5, 0.81];
    const v = lpsToBvec(w, written);
    expect(v[0]).toBeCloseTo(dotv(w, r), 12);
    expect(v[1]).toBeCloseTo(-dotv(w, c), 12);
    expect(v[2]).toBeCloseTo(dotv(w, n), 12);
  });

  it('a positive-determinant voxel frame gets x negated (FSL convention)', () => {
    const pos: Mat3 = [r[0], c[0], n[0], r[1], c[1], n[1], r[2], c[2], n[2]];
    const w: Vec3 = [0.6, 0.0, 0.8];
    const v = lpsToBvec(w, pos);
    expect(v[0]).toBeCloseTo(-dotv(w, r), 12);
    expect(v[1]).toBeCloseTo(dotv(w, c), 12);
  });

  it('vendor image frames: GE (−x, y, z), UIH (x, −y, z), Canon (−y, x, z) in the written frame', () => {
    const v: Vec3 = [0.48, -0.6, 0.64];
    const frame = (f: DiffusionInfo['frame']) => lpsToBvec(directionToLps({ bValue: 1000, direction: v, frame: f, source: '' }, iop)!, written);
    const close = (x: Vec3, y: Vec3) => x.forEach((q, i) => expect(q).toBeCloseTo(y[i], 12));
    close(frame('ge-image'), [-v[0], v[1], v[2]]);
    close(frame('uih-image'), [v[0], -v[1], v[2]]);
    close(frame('canon-image'), [-v[1], v[0], v[2]]);
  });

  it('b = 0 volumes get a zero vector; a table without any direction writes no .bvec', () => {
    const rec = (d: DiffusionInfo | null) => ({ iop, diffusion: d }) as unknown as ImageRecord;
    const t = diffusionTable([rec({ bValue: 0, direction: [1, 0, 0], frame: 'lps', source: 's' }), rec({ bValue: 1000, direction: [0, 0, 1], frame: 'lps', source: 's' })], { direction: written });
    expect(t!.bvals).toEqual([0, 1000]);
    expect(t!.bvecs![0]).toEqual([0, 0, 0]);
    expect(formatBvec(t!).split('\n').length).toBe(4);
    const none = diffusionTable([rec({ bValue: 500, direction: null, frame: 'lps', source: 's' })], { direction: written });
    expect(none!.bvecs).toBeNull();
    expect(diffusionTable([rec(null)], { direction: written })).toBeNull();
    expect(diffusionTable([rec({ bValue: 0, direction: [0, 0, 0], frame: 'ge-image', source: 's' })], { direction: written })).toBeNull();
    // GE derived maps: the tag's b-value makes it a diffusion series, reported as b = 0.
    expect(diffusionTable([rec({ bValue: 0, sourceBValue: 500, direction: null, frame: 'ge-image', source: 's' })], { direction: written })!.bvals).toEqual([0]);
  });
});
