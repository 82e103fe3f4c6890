/**
 * What makes our NIfTI files interchangeable with dcm2niix's (v1.0.2022x):
 * - voxel order: rows stored bottom-up (dcm2niix flips the DICOM row axis), and MR 3D
 *   acquisitions reoriented to the closest RAS orientation (dcm2niix's nii_setOrtho);
 * - scaling: Philips "precise" values (private scale slope 2005,100E), as dcm2niix's
 *   default -p y (philips-scaling.ts; applied by the assembler / streamer);
 * - file names (%f_%p_%t_%s plus split suffixes), descrip and a JSON sidecar.
 */
import { basename, dirname } from 'node:path';
import { flipAxisGeometry } from '../../src-shared/geometry/geometry';
import { VOXEL_ARRAY, componentsOf, type Mat3, type Vec3, type Volume, type VoxelArray } from '../../src-shared/image/volume';
import { scalingSidecarFields } from './philips-scaling';
import type { VolumeGroup } from './split';

/** Flips the row axis (j) of every slice in place and updates the geometry. */
export function flipRowsInPlace(v: Volume): Volume {
  const [nx0, ny, nz] = v.dims;
  const nx = nx0 * componentsOf(v); // samples per row
  const data = v.data;
  const tmp = new (data.constructor as { new (n: number): VoxelArray })(nx);
  const slices = nz * v.frames;
  for (let s = 0; s < slices; s++) {
    const base = s * nx * ny;
    for (let y = 0; y < ny >> 1; y++) {
      const a = base + y * nx;
      const b = base + (ny - 1 - y) * nx;
      tmp.set(data.subarray(a, a + nx));
      data.copyWithin(a, b, b + nx);
      data.set(tmp, b);
    }
  }
  const g = flipAxisGeometry(v, 1);
  return { ...v, origin: g.origin, direction: g.direction };
}

/**
 * dcm2niix's nii_setOrtho: permute and flip the axes so that the RAS affine is as
 * close as possible to a positive diagonal. Returns a new volume (one copy).
 */
export function reorientToRas(v: Volume): Volume {
  // RAS columns of the index axes: LPS → RAS negates x and y.
  const col = (a: number): Vec3 => [-v.direction[a], -v.direction[3 + a], v.direction[6 + a]];
  const perms: Vec3[] = [
    [0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0],
  ];
  let best: Vec3 = [0, 1, 2];
  let bestScore = -1;
  for (const p of perms) {
    const s = Math.abs(col(p[0])[0]) + Math.abs(col(p[1])[1]) + Math.abs(col(p[2])[2]);
    if (s > bestScore + 1e-9) {
      bestScore = s;
      best = p;
    }
  }
  const flip = [0, 1, 2].map((n) => col(best[n])[n] < 0);
  if (best[0] === 0 && best[1] === 1 && best[2] === 2 && !flip.some(Boolean)) return v;
  const inDims = v.dims;
  const outDims: Vec3 = [inDims[best[0]], inDims[best[1]], inDims[best[2]]];
  const inStride = [1, inDims[0], inDims[0] * inDims[1]];
  // Output index n maps to input axis best[n], reversed when flip[n].
  const step = [0, 1, 2].map((n) => (flip[n] ? -1 : 1) * inStride[best[n]]);
  let start = 0;
  for (let n = 0; n < 3; n++) if (flip[n]) start += (outDims[n] - 1) * inStride[best[n]];
  const nvox = inDims[0] * inDims[1] * inDims[2];
  const nc = componentsOf(v);
  const out = new VOXEL_ARRAY[v.voxelType](nvox * v.frames * nc);
  for (let t = 0; t < v.frames; t++) {
    const src = v.data.subarray(t * nvox * nc, (t + 1) * nvox * nc);
    let o = t * nvox * nc;
    for (let k = 0; k < outDims[2]; k++)
      for (let j = 0; j < outDims[1]; j++) {
        let p = start + k * step[2] + j * step[1];
        if (nc === 1) for (let i = 0; i < outDims[0]; i++, p += step[0]) out[o++] = src[p];
        else for (let i = 0; i < outDims[0]; i++, p += step[0]) for (let c = 0; c < nc; c++) out[o++] = src[p * nc + c];
      }
  }
  // Geometry: world of output (0,0,0) is the input voxel at `start`.
  const startIdx: Vec3 = [0, 0, 0];
  for (let n = 0; n < 3; n++) if (flip[n]) startIdx[best[n]] = outDims[n] - 1;
  const D = v.direction;
  const origin: Vec3 = [0, 1, 2].map((r) => v.origin[r] + D[r * 3] * v.spacing[0] * startIdx[0] + D[r * 3 + 1] * v.spacing[1] * startIdx[1] + D[r * 3 + 2] * v.spacing[2] * startIdx[2]) as Vec3;
  const direction = [0, 0, 0, 0, 0, 0, 0, 0, 0] as Mat3;
  for (let n = 0; n < 3; n++) for (let r = 0; r < 3; r++) direction[r * 3 + n] = (flip[n] ? -1 : 1) * D[r * 3 + best[n]] + 0; // + 0: no -0
  return { ...v, data: out, dims: outDims, spacing: [v.spacing[best[0]], v.spacing[best[1]], v.spacing[best[2]]], origin, direction };
}

/**
 * Volume in dcm2niix's voxel order and scaling (the data may be modified in place).
 * `rowsFlipped`: the volume was assembled with flipRows (rows already bottom-up).
 */
export function toDcm2niixLayout(v: Volume, group: VolumeGroup, rowsFlipped = false): Volume {
  let out = rowsFlipped ? v : flipRowsInPlace(v);
  const r = group.records[0];
  if (r.modality === 'MR' && r.mrAcquisitionType === '3D' && out.dims[2] > 1 && out.frames === 1) out = reorientToRas(out);
  // Scaling (Philips precise values …) is chosen when assembling: see philips-scaling.ts.
  return out;
}

/** dcm2niix's file-name cleaning: illegal characters and spaces become '_', runs collapse. */
export function cleanNamePart(s: string): string {
  return s
    .replace(/[^A-Za-z0-9._=+\-]/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** %f_%p_%t_%s + split suffix, e.g. "ct_head_6.9_Colonoscopy_20030417104607_2". */
export function dcm2niixBaseName(group: VolumeGroup): string {
  const r = group.records[0];
  const folder = basename(dirname(r.file));
  let protocol = r.protocolName || r.seriesDescription;
  if (!protocol && !/siemens/i.test(r.manufacturer)) protocol = r.sequenceName;
  // dcm2niix rounds the study time to whole seconds (105619.7 → 105620).
  const st = Number(r.meta.StudyTime ?? '');
  let time = `${r.meta.StudyDate ?? ''}${r.meta.StudyTime && Number.isFinite(st) ? String(Math.round(st)).padStart(6, '0') : ''}`;
  // dcm2niix prints its date-time number, 0 when the files have neither date nor time.
  if (!time) time = '0';
  const parts = [folder, protocol, time, r.seriesNumber != null ? String(r.seriesNumber) : ''].map(cleanNamePart).filter(Boolean);
  return (parts.join('_') || 'dicom') + group.suffix;
}

/** dcm2niix-style descrip: "TE=30;Time=134935.305". */
export function dcm2niixDescription(group: VolumeGroup): string {
  const r = group.records[0];
  const parts: string[] = [];
  if (r.echoTime != null) parts.push(`TE=${Number(r.echoTime.toPrecision(2))}`);
  const t = r.acquisitionTime || r.meta.AcquisitionDateTime?.slice(8) || '';
  if (t) parts.push(`Time=${Number(t).toFixed(3)}`);
  return parts.join(';');
}

const num = (s: string | undefined): number | string | undefined => {
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
};

/** Key acquisition fields, BIDS names and units (times in seconds), no patient identifiers. */
export function sidecar(group: VolumeGroup, v: Volume, warnings: string[], version: string): Record<string, unknown> {
  const r = group.records[0];
  const m = r.meta;
  const sec = (x: string | number | null | undefined) => (x === undefined || x === null || x === '' ? undefined : Number(x) / 1000);
  const j: Record<string, unknown> = {
    Modality: r.modality || undefined,
    MagneticFieldStrength: num(m.MagneticFieldStrength),
    ImagingFrequency: num(m.ImagingFrequency),
    Manufacturer: r.manufacturer || undefined,
    ManufacturersModelName: m.ManufacturersModelName,
    InstitutionName: m.InstitutionName,
    StationName: m.StationName,
    DeviceSerialNumber: m.DeviceSerialNumber,
    SoftwareVersions: m.SoftwareVersions,
    BodyPartExamined: m.BodyPartExamined,
    PatientPosition: m.PatientPosition,
    ProtocolName: r.protocolName || undefined,
    SeriesDescription: r.seriesDescription || undefined,
    ScanningSequence: m.ScanningSequence,
    SequenceVariant: m.SequenceVariant,
    ScanOptions: m.ScanOptions,
    SequenceName: r.sequenceName || undefined,
    MRAcquisitionType: r.mrAcquisitionType || undefined,
    ImageType: r.imageType.length ? r.imageType : undefined,
    SeriesNumber: r.seriesNumber ?? undefined,
    AcquisitionTime: r.acquisitionTime || undefined,
    AcquisitionNumber: r.acquisitionNumber ?? undefined,
    SliceThickness: r.sliceThickness ?? undefined,
    SpacingBetweenSlices: group.frames >= 1 && group.dims[2] > 1 ? Number(group.spacing[2].toFixed(6)) : undefined,
    EchoTime: sec(r.echoTime),
    RepetitionTime: sec(r.repetitionTime),
    InversionTime: sec(m.InversionTime),
    FlipAngle: num(m.FlipAngle),
    PixelBandwidth: num(m.PixelBandwidth),
    ReceiveCoilName: m.ReceiveCoilName,
    KVP: num(m.KVP),
    XRayTubeCurrent: num(m.XRayTubeCurrent),
    ExposureTime: sec(m.ExposureTime),
    ConvolutionKernel: m.ConvolutionKernel,
    ReconstructionDiameter: num(m.ReconstructionDiameter),
    Units: m.Units,
    DecayCorrection: m.DecayCorrection,
    RescaleSlope: r.rescaleSlope !== 1 ? r.rescaleSlope : undefined,
    RescaleIntercept: r.rescaleIntercept !== 0 ? r.rescaleIntercept : undefined,
    ...scalingSidecarFields(r),
    GantryTiltDegrees: group.shearDeg > 0.05 ? Number(group.shearDeg.toFixed(3)) : undefined,
    ImageOrientationPatientDICOM: r.iop ?? undefined,
    NumberOfVolumes: v.frames > 1 ? v.frames : undefined,
    ConversionSoftware: 'lattice',
    ConversionSoftwareVersion: version,
    ConversionWarnings: warnings.length ? warnings : undefined,
  };
  for (const k of Object.keys(j)) if (j[k] === undefined) delete j[k];
  return j;
}
