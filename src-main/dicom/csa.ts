/**
 * Siemens CSA header (private tag 0029,1010 "CSA Image Header Info") reader.
 * Only the fields we need: NumberOfImagesInMosaic and SliceNormalVector.
 * Format (CSA2): "SV10" + 4 bytes + uint32 count + uint32 unused, then per element
 * name[64], vm, vr[4], syngodt, nitems, xx (all uint32 LE), then nitems items of
 * 4 uint32 (item length at [1]) followed by the value padded to 4 bytes.
 * CSA1 is the same without the 8-byte "SV10" prefix.
 */
export interface CsaFields {
  [name: string]: string[];
}

export function parseCsaHeader(bytes: Uint8Array): CsaFields {
  const out: CsaFields = {};
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  if (bytes.length >= 8 && bytes[0] === 0x53 && bytes[1] === 0x56 && bytes[2] === 0x31 && bytes[3] === 0x30) p = 8;
  if (p + 8 > bytes.length) return out;
  const n = dv.getUint32(p, true);
  p += 8;
  if (n > 1000) return out;
  const text = (a: number, b: number): string => {
    let s = '';
    for (let i = a; i < b && bytes[i] !== 0; i++) s += String.fromCharCode(bytes[i]);
    return s.trim();
  };
  for (let e = 0; e < n; e++) {
    if (p + 84 > bytes.length) break;
    const name = text(p, p + 64);
    const nitems = dv.getUint32(p + 76, true);
    p += 84;
    if (nitems > 10000) break;
    const values: string[] = [];
    for (let i = 0; i < nitems; i++) {
      if (p + 16 > bytes.length) return out;
      const len = dv.getUint32(p + 4, true);
      p += 16;
      if (p + len > bytes.length) return out;
      if (len > 0) values.push(text(p, p + len));
      p += Math.ceil(len / 4) * 4;
    }
    out[name] = values;
  }
  return out;
}
