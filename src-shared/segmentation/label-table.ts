/**
 * The label table of a segmentation layer (ITK-SNAP's ColorLabelTable): for each label value
 * a name, a colour, an opacity and a visibility. Value 0 is the clear label (background,
 * never drawn). Also: ITK-SNAP's default colours, its label description text file (parse and
 * write) and the JSON sidecar Lattice writes next to a label NIfTI.
 */

export interface LabelEntry {
  /** Voxel value (1…65535; 0 is the clear label). */
  value: number;
  name: string;
  /** 0…255 each. */
  color: [number, number, number];
  /** 0…1 (ITK-SNAP's "label transparency" column is this opacity). */
  opacity: number;
  visible: boolean;
  /** Shown in 3D views (ITK-SNAP's MSH column); kept so files round-trip. */
  visible3D?: boolean;
}

/** ITK-SNAP's default label colours, in order (label n gets entry (n − 1) mod 130). */
export const ITK_SNAP_COLORS: readonly string[] = [
  '#FF0000', '#00FF00', '#0000FF', '#FFFF00', '#00FFFF', '#FF00FF', '#FFEFD5', '#0000CD', '#CD853F', '#D2B48C',
  '#66CDAA', '#000080', '#008B8B', '#2E8B57', '#FFE4E1', '#6A5ACD', '#DDA0DD', '#E9967A', '#A52A2A', '#FFFAFA',
  '#9370DB', '#DA70D6', '#4B0082', '#FFB6C1', '#3CB371', '#FFEBCD', '#FFE4C4', '#DAA520', '#008080', '#BC8F8F',
  '#FF69B4', '#FFDAB9', '#DEB887', '#7FFF00', '#8B4513', '#7CFC00', '#FFFFE0', '#4682B4', '#006400', '#EE82EE',
  '#EEE8AA', '#F0FFF0', '#F5DEB3', '#B8860B', '#20B2AA', '#FF1493', '#191970', '#708090', '#228B22', '#F8F8FF',
  '#F5FFFA', '#FFA07A', '#90EE90', '#ADFF2F', '#4169E1', '#FF6347', '#FAF0E6', '#800000', '#32CD32', '#F4A460',
  '#FFFFF0', '#7B68EE', '#FFA500', '#ADD8E6', '#FFC0CB', '#7FFFD4', '#FF8C00', '#8FBC8F', '#DC143C', '#FDF5E6',
  '#FFFAF0', '#00CED1', '#00FF7F', '#800080', '#FFFACD', '#FA8072', '#9400D3', '#B22222', '#FF7F50', '#87CEEB',
  '#6495ED', '#F0E68C', '#FAEBD7', '#FFF5EE', '#6B8E23', '#87CEFA', '#00008B', '#8B008B', '#F5F5DC', '#BA55D3',
  '#FFE4B5', '#FFDEAD', '#00BFFF', '#D2691E', '#FFF8DC', '#2F4F4F', '#483D8B', '#AFEEEE', '#808000', '#B0E0E6',
  '#FFF0F5', '#8B0000', '#F0FFFF', '#FFD700', '#D8BFD8', '#778899', '#DB7093', '#48D1CC', '#FF00FF', '#C71585',
  '#9ACD32', '#BDB76B', '#F0F8FF', '#E6E6FA', '#00FA9A', '#556B2F', '#40E0D0', '#9932CC', '#CD5C5C', '#FAFAD2',
  '#5F9EA0', '#008000', '#FF4500', '#E0FFFF', '#B0C4DE', '#8A2BE2', '#1E90FF', '#F08080', '#98FB98', '#A0522D',
];

export const MAX_LABEL = 65535;

export function hexToRgb(hex: string): [number, number, number] {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) throw new Error(`not a colour: ${hex}`);
  const n = parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function rgbToHex(c: readonly number[]): string {
  return '#' + c.slice(0, 3).map((x) => Math.max(0, Math.min(255, Math.round(x))).toString(16).padStart(2, '0')).join('');
}

/** ITK-SNAP's default entry for a label value ("Label n", the n-th default colour, opaque). */
export function defaultLabel(value: number): LabelEntry {
  if (value === 0) return { value: 0, name: 'Clear Label', color: [0, 0, 0], opacity: 0, visible: false, visible3D: false };
  return { value, name: `Label ${value}`, color: hexToRgb(ITK_SNAP_COLORS[(value - 1) % ITK_SNAP_COLORS.length]), opacity: 1, visible: true, visible3D: true };
}

/** A new segmentation's table: labels 1…6 (ITK-SNAP's initial labels). The clear label is implicit. */
export function defaultLabelTable(count = 6): LabelEntry[] {
  return Array.from({ length: count }, (_, i) => defaultLabel(i + 1));
}

/** The entry of a value, or its default when the table has none. */
export function labelEntry(table: readonly LabelEntry[], value: number): LabelEntry {
  return table.find((l) => l.value === value) ?? defaultLabel(value);
}

/** Smallest value ≥ 1 not in the table. */
export function nextFreeLabel(table: readonly LabelEntry[]): number {
  const used = new Set(table.map((l) => l.value));
  for (let v = 1; v <= MAX_LABEL; v++) if (!used.has(v)) return v;
  throw new Error('the label table is full');
}

/** Replaces or adds entries (by value), sorted by value; 0 is never stored. */
export function withEntries(table: readonly LabelEntry[], entries: LabelEntry[]): LabelEntry[] {
  const map = new Map(table.map((l) => [l.value, l]));
  for (const e of entries) if (e.value > 0) map.set(e.value, e);
  return [...map.values()].sort((a, b) => a.value - b.value);
}

/**
 * RGBA lookup table for the viewer's colour mapping (src-renderer/rendering/layer-plane.ts):
 * entry v is label v's colour with alpha = opacity × 255 (0 when hidden). Values without an
 * entry get their default colour. Used with window = n − 1, level = (n − 1)/2 so that value v
 * maps to entry v exactly.
 */
export function labelLut(table: readonly LabelEntry[], maxValue: number): { lut: Uint8ClampedArray; window: number; level: number } {
  const n = Math.max(2, Math.min(MAX_LABEL, Math.max(maxValue, ...table.map((l) => l.value))) + 1);
  const lut = new Uint8ClampedArray(n * 4);
  const byValue = new Map(table.map((l) => [l.value, l]));
  for (let v = 1; v < n; v++) {
    const e = byValue.get(v) ?? defaultLabel(v);
    lut[v * 4] = e.color[0];
    lut[v * 4 + 1] = e.color[1];
    lut[v * 4 + 2] = e.color[2];
    lut[v * 4 + 3] = e.visible ? Math.round(Math.max(0, Math.min(1, e.opacity)) * 255) : 0;
  }
  return { lut, window: n - 1, level: (n - 1) / 2 };
}

// ---- ITK-SNAP label description file -------------------------------------------------------

/** A problem in a label file, with its 1-based line. */
export class LabelFileError extends Error {}

/**
 * Parses an ITK-SNAP label description file:
 *   IDX  R G B  A  VIS MSH  "LABEL"     (# starts a comment line)
 * Label 0 (the clear label) is skipped, as ITK-SNAP does.
 */
export function parseItkSnapLabels(text: string): LabelEntry[] {
  const out: LabelEntry[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([-+0-9.eE]+)\s+(\d+)\s+(\d+)\s+"(.*)"\s*$/.exec(line);
    if (!m) throw new LabelFileError(`line ${i + 1}: expected IDX R G B A VIS MSH "LABEL", got: ${line.slice(0, 80)}`);
    const value = Number(m[1]);
    const rgb = [Number(m[2]), Number(m[3]), Number(m[4])] as [number, number, number];
    const alpha = Number(m[5]);
    if (value > MAX_LABEL) throw new LabelFileError(`line ${i + 1}: label ${value} is above ${MAX_LABEL}`);
    if (rgb.some((c) => c > 255) || !(alpha >= 0 && alpha <= 1)) throw new LabelFileError(`line ${i + 1}: colour components must be 0…255 and alpha 0…1`);
    if (value === 0) return;
    out.push({ value, name: m[8], color: rgb, opacity: alpha, visible: m[6] !== '0', visible3D: m[7] !== '0' });
  });
  return withEntries([], out);
}

const HEADER = [
  '################################################',
  '# ITK-SnAP Label Description File',
  '# File format: ',
  '# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL',
  '# Fields: ',
  '#    IDX:   Zero-based index ',
  '#    -R-:   Red color component (0..255)',
  '#    -G-:   Green color component (0..255)',
  '#    -B-:   Blue color component (0..255)',
  '#    -A-:   Label transparency (0.00 .. 1.00)',
  '#    VIS:   Label visibility (0 or 1)',
  '#    IDX:   Label mesh visibility (0 or 1)',
  '#  LABEL:   Label description ',
  '################################################',
];

/** Writes the table in ITK-SNAP's format (with the clear label first, as ITK-SNAP does). */
export function writeItkSnapLabels(table: readonly LabelEntry[]): string {
  const rows = [defaultLabel(0), ...table.filter((l) => l.value > 0)].map((l) => {
    const alpha = l.value === 0 ? '0' : String(+l.opacity.toFixed(2));
    const name = l.name.replace(/"/g, "'");
    return `${String(l.value).padStart(5)} ${l.color.map((c) => String(c).padStart(5)).join('')} ${alpha.padStart(8)}  ${l.visible ? 1 : 0}  ${(l.visible3D ?? l.visible) ? 1 : 0}    "${name}"`;
  });
  return [...HEADER, ...rows, ''].join('\n');
}

// ---- JSON sidecar ------------------------------------------------------------------------------

/** The label-name sidecar written next to a label NIfTI (name.nii.gz → name.labels.json). */
export interface LabelSidecar {
  LatticeLabels: 1;
  labels: { value: number; name: string; color: string; opacity: number; visible: boolean }[];
}

export function labelSidecar(table: readonly LabelEntry[]): LabelSidecar {
  return { LatticeLabels: 1, labels: table.map((l) => ({ value: l.value, name: l.name, color: rgbToHex(l.color), opacity: l.opacity, visible: l.visible })) };
}

export function parseLabelSidecar(json: unknown): LabelEntry[] {
  const o = json as Partial<LabelSidecar> | null;
  if (!o || typeof o !== 'object' || !Array.isArray(o.labels)) throw new LabelFileError('not a Lattice label sidecar (no "labels" list)');
  return withEntries(
    [],
    o.labels.map((l, i) => {
      const value = Number(l?.value);
      if (!Number.isInteger(value) || value < 0 || value > MAX_LABEL) throw new LabelFileError(`labels[${i}]: value must be an integer 0…${MAX_LABEL}`);
      const d = defaultLabel(value);
      return {
        value,
        name: typeof l.name === 'string' ? l.name : d.name,
        color: typeof l.color === 'string' ? hexToRgb(l.color) : d.color,
        opacity: typeof l.opacity === 'number' ? Math.max(0, Math.min(1, l.opacity)) : 1,
        visible: l.visible !== false,
      };
    }),
  );
}

/** The sidecar path of a label NIfTI: x.nii.gz / x.nii → x.labels.json. */
export function sidecarPathFor(niftiPath: string): string {
  return niftiPath.replace(/\.nii(\.gz)?$/i, '') + '.labels.json';
}
