/**
 * A minimal DICOM Part 10 writer (explicit VR little endian) for synthetic RT structure set
 * fixtures in the tests: known ROIs, colours and contours (with holes) referencing a given
 * series and frame of reference.
 */
import type { Volume } from '../src-shared/image/volume';

type El = { tag: number; vr: string; value: string | Uint8Array | El[][] };

function pad(s: string, vr: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  if (b.length % 2 === 0) return b;
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  out[b.length] = vr === 'UI' ? 0 : 0x20;
  return out;
}

function encode(els: El[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const u16 = (n: number) => new Uint8Array(new Uint16Array([n]).buffer);
  const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
  for (const e of [...els].sort((a, b) => a.tag - b.tag)) {
    parts.push(u16(e.tag >>> 16), u16(e.tag & 0xffff), new TextEncoder().encode(e.vr));
    if (e.vr === 'SQ') {
      parts.push(u16(0), u32(0xffffffff));
      for (const item of e.value as El[][]) {
        const body = encode(item);
        parts.push(u16(0xfffe), u16(0xe000), u32(body.length), body);
      }
      parts.push(u16(0xfffe), u16(0xe0dd), u32(0));
      continue;
    }
    const v = typeof e.value === 'string' ? pad(e.value, e.vr) : (e.value as Uint8Array);
    if (['OB', 'OW', 'UN', 'UT'].includes(e.vr)) parts.push(u16(0), u32(v.length));
    else parts.push(u16(v.length));
    parts.push(v);
  }
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export interface SyntheticRoi {
  number: number;
  name: string;
  color: [number, number, number];
  /** Contours: flat x,y,z lists in LPS mm. */
  contours: number[][];
}

export function writeRtStruct(o: { seriesUid: string; frameOfReferenceUid: string; label?: string; rois: SyntheticRoi[] }): Uint8Array {
  const SOP = '1.2.840.10008.5.1.4.1.1.481.3';
  const inst = '2.25.' + Math.floor(Math.random() * 1e15);
  const meta = encode([
    { tag: 0x00020001, vr: 'OB', value: new Uint8Array([0, 1]) },
    { tag: 0x00020002, vr: 'UI', value: SOP },
    { tag: 0x00020003, vr: 'UI', value: inst },
    { tag: 0x00020010, vr: 'UI', value: '1.2.840.10008.1.2.1' },
  ]);
  const groupLen: El = { tag: 0x00020000, vr: 'UL', value: new Uint8Array(new Uint32Array([meta.length]).buffer) };
  const body = encode([
    { tag: 0x00080016, vr: 'UI', value: SOP },
    { tag: 0x00080018, vr: 'UI', value: inst },
    { tag: 0x00080060, vr: 'CS', value: 'RTSTRUCT' },
    { tag: 0x00100010, vr: 'PN', value: 'Synthetic^Phantom' },
    { tag: 0x0020000e, vr: 'UI', value: inst + '.1' },
    { tag: 0x30060002, vr: 'SH', value: o.label ?? 'SYNTH' },
    {
      tag: 0x30060010,
      vr: 'SQ',
      value: [[
        { tag: 0x00200052, vr: 'UI', value: o.frameOfReferenceUid },
        { tag: 0x30060012, vr: 'SQ', value: [[{ tag: 0x30060014, vr: 'SQ', value: [[{ tag: 0x0020000e, vr: 'UI', value: o.seriesUid }]] }]] },
      ]],
    },
    {
      tag: 0x30060020,
      vr: 'SQ',
      value: o.rois.map((r) => [
        { tag: 0x30060022, vr: 'IS', value: String(r.number) },
        { tag: 0x30060024, vr: 'UI', value: o.frameOfReferenceUid },
        { tag: 0x30060026, vr: 'LO', value: r.name },
      ]),
    },
    {
      tag: 0x30060039,
      vr: 'SQ',
      value: o.rois.map((r) => [
        { tag: 0x3006002a, vr: 'IS', value: r.color.join('\\') },
        { tag: 0x30060084, vr: 'IS', value: String(r.number) },
        {
          tag: 0x30060040,
          vr: 'SQ',
          value: r.contours.map((c) => [
            { tag: 0x30060042, vr: 'CS', value: 'CLOSED_PLANAR' },
            { tag: 0x30060046, vr: 'IS', value: String(c.length / 3) },
            { tag: 0x30060050, vr: 'DS', value: c.map((x) => +x.toFixed(4)).join('\\') },
          ]),
        },
      ]),
    },
  ]);
  const head = encode([groupLen]);
  const out = new Uint8Array(132 + head.length + meta.length + body.length);
  out.set(new TextEncoder().encode('DICM'), 128);
  out.set(head, 132);
  out.set(meta, 132 + head.length);
  out.set(body, 132 + head.length + meta.length);
  return out;
}

/** A regular polygon (n points) of radius r around (cx, cy) at height z, as x,y,z. */
export function circle(cx: number, cy: number, z: number, r: number, n = 48): number[] {
  const out: number[] = [];
  for (let a = 0; a < n; a++) out.push(cx + r * Math.cos((2 * Math.PI * a) / n), cy + r * Math.sin((2 * Math.PI * a) / n), z);
  return out;
}

export function rect(x0: number, y0: number, x1: number, y1: number, z: number): number[] {
  return [x0, y0, z, x1, y0, z, x1, y1, z, x0, y1, z];
}

/** Reference: voxel (i, j, k) centre inside the contours on its slice (even-odd ray casting in mm). */
export function rasterizeReference(ct: Volume, contours: number[][]): Uint8Array {
  const [nx, ny, nz] = ct.dims;
  const out = new Uint8Array(nx * ny * nz);
  // Axial CT with identity direction: world = origin + index·spacing.
  if (ct.direction.some((d, i) => d !== [1, 0, 0, 0, 1, 0, 0, 0, 1][i])) throw new Error('reference: axial CT with identity direction only');
  for (let k = 0; k < nz; k++) {
    const z = ct.origin[2] + k * ct.spacing[2];
    const rings = contours.filter((c) => Math.abs(c[2] - z) < ct.spacing[2] / 2);
    if (!rings.length) continue;
    for (let j = 0; j < ny; j++) {
      const y = ct.origin[1] + j * ct.spacing[1];
      // Crossings of the row with every edge; a centre is inside when an odd number lie left of it.
      const xs: number[] = [];
      for (const c of rings) {
        const n = c.length / 3;
        for (let a = 0; a < n; a++) {
          const [x0, y0] = [c[a * 3], c[a * 3 + 1]];
          const [x1, y1] = [c[((a + 1) % n) * 3], c[((a + 1) % n) * 3 + 1]];
          if (y0 > y !== y1 > y) xs.push(x0 + ((y - y0) * (x1 - x0)) / (y1 - y0));
        }
      }
      if (!xs.length) continue;
      for (let i = 0; i < nx; i++) {
        const x = ct.origin[0] + i * ct.spacing[0];
        if (xs.filter((c) => x >= c).length % 2) out[i + nx * (j + ny * k)] = 1;
      }
    }
  }
  return out;
}

