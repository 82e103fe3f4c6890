/**
 * DICOM RLE Lossless decoder (PS3.5 Annex G). A frame is a 64-byte header (segment
 * count + 15 offsets) and one PackBits segment per byte plane; for 16-bit samples
 * segment 0 holds the most significant bytes.
 */
export function decodeRle(src: Uint8Array, rows: number, cols: number, bitsAllocated: number, samples = 1): Uint8Array {
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const nSeg = dv.getUint32(0, true);
  const bytesPerSample = bitsAllocated / 8;
  if (nSeg !== bytesPerSample * samples) throw new Error(`RLE: ${nSeg} segments, expected ${bytesPerSample * samples}`);
  const n = rows * cols;
  const out = new Uint8Array(n * bytesPerSample * samples);
  const plane = new Uint8Array(n);
  for (let s = 0; s < nSeg; s++) {
    const start = dv.getUint32(4 + s * 4, true);
    const end = s + 1 < nSeg ? dv.getUint32(8 + s * 4, true) : src.length;
    let p = start;
    let o = 0;
    plane.fill(0);
    while (p < end && o < n) {
      const c = (src[p++] << 24) >> 24; // signed byte
      if (c >= 0) {
        const len = Math.min(c + 1, n - o, end - p);
        plane.set(src.subarray(p, p + len), o);
        p += c + 1;
        o += len;
      } else if (c !== -128) {
        const len = Math.min(1 - c, n - o);
        plane.fill(src[p++], o, o + len);
        o += len;
      }
    }
    // Segment s is byte (bytesPerSample-1 - s%bps) of sample s/bps, little-endian output.
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    const stride = bytesPerSample * samples;
    const base = sample * bytesPerSample + byteInSample;
    for (let i = 0; i < n; i++) out[i * stride + base] = plane[i];
  }
  return out;
}
