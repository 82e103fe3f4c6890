/**
 * Image types mixed in one series (magnitude/phase, real/imaginary, a grey map with its
 * colour copy, several echoes) and how they are named and described. The split itself
 * happens in split.ts (images of different type never share a volume); this module
 * says what each part is, for file names (dcm2niix's suffixes) and for `lattice info`.
 */
import type { ImageRecord } from './types';
import type { VolumeGroup } from './split';

export type ComplexKind = 'magnitude' | 'phase' | 'real' | 'imaginary' | null;

/** Tokens of ImageType and (enhanced) FrameType, upper case. */
function tokens(r: ImageRecord): string[] {
  return [...r.imageType, ...r.frameType];
}

/**
 * Complex component of an MR image: Siemens/GE/Philips put M, P, R or I as the third
 * ImageType value (Philips also M_FFE, R_SE…); enhanced files say MAGNITUDE, PHASE, REAL
 * or IMAGINARY in FrameType / ComplexImageComponent.
 */
export function complexKind(r: ImageRecord): ComplexKind {
  const t = tokens(r);
  const third = r.imageType[2] ?? '';
  const has = (word: string, letter: string) => t.includes(word) || third === letter || third.startsWith(`${letter}_`);
  if (has('PHASE', 'P') || t.includes('P')) return 'phase';
  if (has('REAL', 'R')) return 'real';
  if (has('IMAGINARY', 'I')) return 'imaginary';
  if (has('MAGNITUDE', 'M')) return 'magnitude';
  return null;
}

/**
 * Two series that share a SeriesNumber (different SeriesInstanceUIDs, e.g. a derived
 * map and its colour copy exported together) and differ in echo time are, for dcm2niix,
 * echoes of one series: each gets _e<EchoNumber, or 1>, and the name clash that remains
 * gets a letter (…_e1, …_e1a) when the files are written. Mutates the groups' suffixes.
 */
export function sharedNumberEchoSuffixes(groups: VolumeGroup[]): void {
  const byNumber = new Map<string, VolumeGroup[]>();
  for (const g of groups) {
    const r = g.records[0];
    if (r.seriesNumber == null) continue;
    const k = `${r.meta.StudyInstanceUID ?? ''}|${r.seriesNumber}`;
    let l = byNumber.get(k);
    if (!l) byNumber.set(k, (l = []));
    l.push(g);
  }
  for (const list of byNumber.values()) {
    if (new Set(list.map((g) => g.records[0].seriesUid)).size < 2) continue;
    if (new Set(list.map((g) => g.records[0].echoTime ?? 0)).size < 2) continue;
    for (const g of list) {
      if (/_e\d+/.test(g.suffix)) continue;
      g.suffix = `_e${g.records[0].echoNumber ?? 1}${g.suffix}`;
      g.warnings.push(
        `SeriesNumber ${g.records[0].seriesNumber} is shared with another series (different SeriesInstanceUID and echo time): written as echo '${g.suffix.replace(/^_/, '')}' like dcm2niix`,
      );
    }
  }
}

/** Notes on what kind of image a volume holds (colour, complex component). */
export function describeImageTypes(g: VolumeGroup): string[] {
  const r = g.records[0];
  const notes: string[] = [];
  if (r.samplesPerPixel === 3) {
    notes.push(`colour image (RGB, ${r.photometric}${r.planarConfiguration === 1 ? ', planar' : ''}): written as RGB24 NIfTI and shown as a colour layer`);
  }
  const kind = complexKind(r);
  if (kind && kind !== 'magnitude') notes.push(`${kind} image${kind === 'phase' && /philips/i.test(r.manufacturer) && r.philipsScaleSlope ? ' (values in radians)' : ''}`);
  if (!g.geometryKnown) notes.push('no ImageOrientationPatient/ImagePositionPatient: written without orientation (sform and qform code 0), as dcm2niix');
  return notes;
}
