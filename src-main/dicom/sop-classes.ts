/** SOP classes that are not images: we skip them with a note naming what they are. */
const NON_IMAGE: Array<[RegExp, string]> = [
  [/^1\.2\.840\.10008\.5\.1\.4\.1\.1\.481\.3$/, 'RT Structure Set (RTSTRUCT)'],
  [/^1\.2\.840\.10008\.5\.1\.4\.1\.1\.481\.5$/, 'RT Plan'],
  [/^1\.2\.840\.10008\.5\.1\.4\.1\.1\.481\.8$/, 'RT Ion Plan'],
  [/^1\.2\.840\.10008\.5\.1\.4\.1\.1\.481\.2$/, 'RT Dose'],
  [/^1\.2\.840\.10008\.5\.1\.4\.1\.1\.481\.4$/, 'RT Beams Treatment Record'],
  [/^1\.2\.840\.10008\.5\.1\.4\.1\.1\.88\./, 'Structured Report (SR)'],
  [/^1\.2\.840\.10008\.5\.1\.4\.1\.1\.11\./, 'Presentation State'],
  [/^1\.2\.840\.10008\.5\.1\.4\.1\.1\.66/, 'Segmentation/Registration/Spatial object'],
  [/^1\.2\.840\.10008\.5\.1\.4\.1\.1\.104\./, 'Encapsulated document (PDF/CDA)'],
  [/^1\.2\.840\.10008\.5\.1\.4\.1\.1\.9\./, 'Waveform'],
  [/^1\.2\.840\.10008\.1\.3\.10$/, 'DICOMDIR (media directory)'],
  [/^1\.2\.840\.10008\.5\.1\.4\.1\.1\.4\.2$/, 'MR Spectroscopy'],
  [/^1\.2\.840\.10008\.5\.1\.4\.1\.1\.5\.1\.4\.1\.1\.9/, 'Waveform'],
  [/^1\.2\.840\.10008\.5\.1\.4\.1\.1\.7(\.\d)?$/, ''], // Secondary capture: an image, not skipped here
];
const MODALITY_NON_IMAGE: Record<string, string> = {
  RTSTRUCT: 'RT Structure Set (RTSTRUCT)',
  RTPLAN: 'RT Plan',
  RTDOSE: 'RT Dose',
  RTRECORD: 'RT Treatment Record',
  SR: 'Structured Report (SR)',
  PR: 'Presentation State',
  KO: 'Key Object Selection',
  SEG: 'Segmentation',
  REG: 'Registration',
  DOC: 'Encapsulated document',
};

const memo = new Map<string, string>();

/** What the object is when it is not an image we convert, else ''. (Memoised: called per file.) */
export function nonImageKind(sopClassUid: string, modality: string): string {
  const key = `${sopClassUid}|${modality}`;
  let kind = memo.get(key);
  if (kind === undefined) {
    kind = NON_IMAGE.find(([re]) => re.test(sopClassUid))?.[1] ?? MODALITY_NON_IMAGE[modality.toUpperCase()] ?? '';
    memo.set(key, kind);
  }
  return kind;
}
