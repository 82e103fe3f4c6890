/**
 * A small DICOM dictionary (the tags people look for in a Metadata tab) and the
 * "GGGG,EEEE Name: value" listing of a file's header, pixel data excluded.
 */
import type dicomParser from 'dicom-parser';
import { parseDataSet } from './read-header';

const NAMES: Record<string, string> = {
  '00020002': 'MediaStorageSOPClassUID', '00020003': 'MediaStorageSOPInstanceUID', '00020010': 'TransferSyntaxUID', '00020012': 'ImplementationClassUID', '00020013': 'ImplementationVersionName',
  '00080005': 'SpecificCharacterSet', '00080008': 'ImageType', '00080012': 'InstanceCreationDate', '00080013': 'InstanceCreationTime', '00080016': 'SOPClassUID', '00080018': 'SOPInstanceUID',
  '00080020': 'StudyDate', '00080021': 'SeriesDate', '00080022': 'AcquisitionDate', '00080023': 'ContentDate', '0008002a': 'AcquisitionDateTime', '00080030': 'StudyTime', '00080031': 'SeriesTime',
  '00080032': 'AcquisitionTime', '00080033': 'ContentTime', '00080050': 'AccessionNumber', '00080060': 'Modality', '00080064': 'ConversionType', '00080070': 'Manufacturer', '00080080': 'InstitutionName',
  '00080081': 'InstitutionAddress', '00080090': 'ReferringPhysicianName', '00081010': 'StationName', '00081030': 'StudyDescription', '0008103e': 'SeriesDescription', '00081040': 'InstitutionalDepartmentName',
  '00081050': 'PerformingPhysicianName', '00081070': 'OperatorsName', '00081090': 'ManufacturerModelName', '00100010': 'PatientName', '00100020': 'PatientID', '00100030': 'PatientBirthDate',
  '00100040': 'PatientSex', '00101010': 'PatientAge', '00101020': 'PatientSize', '00101030': 'PatientWeight', '00180010': 'ContrastBolusAgent', '00180015': 'BodyPartExamined', '00180020': 'ScanningSequence',
  '00180021': 'SequenceVariant', '00180022': 'ScanOptions', '00180023': 'MRAcquisitionType', '00180024': 'SequenceName', '00180050': 'SliceThickness', '00180060': 'KVP', '00180080': 'RepetitionTime',
  '00180081': 'EchoTime', '00180082': 'InversionTime', '00180083': 'NumberOfAverages', '00180084': 'ImagingFrequency', '00180085': 'ImagedNucleus', '00180086': 'EchoNumbers', '00180087': 'MagneticFieldStrength',
  '00180088': 'SpacingBetweenSlices', '00180091': 'EchoTrainLength', '00180093': 'PercentSampling', '00180094': 'PercentPhaseFieldOfView', '00180095': 'PixelBandwidth', '00181000': 'DeviceSerialNumber',
  '00181020': 'SoftwareVersions', '00181030': 'ProtocolName', '00181060': 'TriggerTime', '00181100': 'ReconstructionDiameter', '00181110': 'DistanceSourceToDetector', '00181111': 'DistanceSourceToPatient',
  '00181120': 'GantryDetectorTilt', '00181130': 'TableHeight', '00181140': 'RotationDirection', '00181150': 'ExposureTime', '00181151': 'XRayTubeCurrent', '00181152': 'Exposure', '00181160': 'FilterType',
  '00181170': 'GeneratorPower', '00181190': 'FocalSpots', '00181210': 'ConvolutionKernel', '00181250': 'ReceiveCoilName', '00181251': 'TransmitCoilName', '00181310': 'AcquisitionMatrix',
  '00181312': 'InPlanePhaseEncodingDirection', '00181314': 'FlipAngle', '00181316': 'SAR', '00185100': 'PatientPosition', '00189005': 'PulseSequenceName', '0020000d': 'StudyInstanceUID',
  '0020000e': 'SeriesInstanceUID', '00200010': 'StudyID', '00200011': 'SeriesNumber', '00200012': 'AcquisitionNumber', '00200013': 'InstanceNumber', '00200032': 'ImagePositionPatient',
  '00200037': 'ImageOrientationPatient', '00200052': 'FrameOfReferenceUID', '00200100': 'TemporalPositionIdentifier', '00201040': 'PositionReferenceIndicator', '00201041': 'SliceLocation',
  '00280002': 'SamplesPerPixel', '00280004': 'PhotometricInterpretation', '00280008': 'NumberOfFrames', '00280010': 'Rows', '00280011': 'Columns', '00280030': 'PixelSpacing', '00280100': 'BitsAllocated',
  '00280101': 'BitsStored', '00280102': 'HighBit', '00280103': 'PixelRepresentation', '00281050': 'WindowCenter', '00281051': 'WindowWidth', '00281052': 'RescaleIntercept', '00281053': 'RescaleSlope',
  '00281054': 'RescaleType', '00541001': 'Units', '00541102': 'DecayCorrection', '00540016': 'RadiopharmaceuticalInformationSequence', '52009229': 'SharedFunctionalGroupsSequence',
  '52009230': 'PerFrameFunctionalGroupsSequence', '00291010': 'CSAImageHeaderInfo', '00291020': 'CSASeriesHeaderInfo',
};

const TEXT_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UI', 'UT', 'UC', 'UR']);

function valueText(ds: dicomParser.DataSet, tag: string, el: dicomParser.Element): string {
  if (el.items) return `<sequence of ${el.items.length} item${el.items.length === 1 ? '' : 's'}>`;
  if (el.length === 0) return '';
  const vr = el.vr;
  if (vr === 'US' && el.length >= 2) return String(ds.uint16(tag));
  if (vr === 'SS' && el.length >= 2) return String(ds.int16(tag));
  if (vr === 'UL' && el.length >= 4) return String(ds.uint32(tag));
  if (vr === 'SL' && el.length >= 4) return String(ds.int32(tag));
  if (vr === 'FL' && el.length >= 4) return String(ds.float(tag));
  if (vr === 'FD' && el.length >= 8) return String(ds.double(tag));
  if (vr && !TEXT_VRS.has(vr)) return `<${el.length} bytes>`;
  if (el.length > 1024) return `<${el.length} bytes>`;
  const b = ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length);
  // Implicit VR: show as text when printable.
  for (const c of b) if (c !== 0 && (c < 0x20 || c > 0x7e) && c < 0xa0) return `<${el.length} bytes>`;
  return (ds.string(tag) ?? '').trim();
}

/** 'GGGG,EEEE Name: value' for every top-level element of the file's header. */
export function dicomTagLines(_file: string, bytes: Uint8Array): string[] {
  let ds: dicomParser.DataSet;
  try {
    ds = parseDataSet(bytes, true);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const tag of Object.keys(ds.elements).sort()) {
    if (tag === 'x7fe00010') continue;
    const el = ds.elements[tag];
    const g = tag.slice(1, 5).toUpperCase();
    const e = tag.slice(5, 9).toUpperCase();
    const name = NAMES[tag.slice(1)] ?? (parseInt(g, 16) % 2 === 1 ? 'Private' : 'Unknown');
    let v: string;
    try {
      v = valueText(ds, tag, el);
    } catch {
      v = '<unreadable>';
    }
    out.push(`${g},${e} ${name}: ${v}`);
  }
  return out;
}
