/**
 * Outline display of a label plane (ITK-SNAP's "contour" mode): a pixel keeps its label only
 * where a 4-neighbour on the plane has another value (or lies outside the plane), so each
 * label is drawn as its one-pixel boundary; everything else becomes 0 (transparent).
 */
export function labelOutline(values: Float32Array, width: number, height: number, out?: Float32Array): Float32Array {
  const dst = out && out.length === values.length ? out : new Float32Array(values.length);
  for (let r = 0, i = 0; r < height; r++) {
    for (let c = 0; c < width; c++, i++) {
      const v = values[i];
      if (v === 0 || v !== v) {
        dst[i] = v;
        continue;
      }
      const edge = c === 0 || c === width - 1 || r === 0 || r === height - 1 || values[i - 1] !== v || values[i + 1] !== v || values[i - width] !== v || values[i + width] !== v;
      dst[i] = edge ? v : 0;
    }
  }
  return dst;
}
