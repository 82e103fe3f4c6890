/**
 * Types shared by the DICOM modules. The public ones (DicomScan, DicomSeriesSummary,
 * FileProblem) are re-exported from index.ts; ImageRecord is the internal per-slice
 * (or per-frame) description that scanning produces and assembly consumes.
 */
import type { Vec3 } from '../../src-shared/image/volume';

export interface FileProblem {
  file: string;
  problem: string;
}

/**
 * One series found by a scan. The IPC contract carries it to the renderer unchanged, so it is
 * defined once there (src-shared/ipc/contract.ts, SeriesSummary).
 */
export type { SeriesSummary as DicomSeriesSummary } from '../../src-shared/ipc/contract';
import type { SeriesSummary as DicomSeriesSummary } from '../../src-shared/ipc/contract';

export interface DicomScan {
  series: DicomSeriesSummary[];
  /** Files that could not be used, each with the reason. */
  problems: FileProblem[];
  /** Things skipped on purpose (RTSTRUCT, SR, presentation states, localizers…). */
  notes: string[];
  /** RT structure sets found (listed, not images: they open as label layers on a matching image). */
  structureSets?: StructureSetSummary[];
}

/** An RT structure set found by a scan (see rtstruct.ts); also carried by the IPC contract. */
export interface StructureSetSummary {
  file: string;
  label: string;
  frameOfReferenceUids: string[];
  referencedSeriesUids: string[];
  rois: { number: number; name: string; color?: [number, number, number]; contours: number }[];
}

/** Where and how the pixels of one 2D image (a file or one frame of a file) are stored. */
export interface PixelLocation {
  file: string;
  transferSyntax: string;
  /** Frame index within the file (0 for single-frame files). */
  frame: number;
  numberOfFrames: number;
  /** Byte offset of the PixelData value in the file and its length (undefined length for encapsulated). */
  pixelOffset: number;
  pixelLength: number;
  encapsulated: boolean;
}

/** Everything we need about one 2D image to sort, split, assemble and name. */
export interface ImageRecord extends PixelLocation {
  sopClassUid: string;
  sopInstanceUid: string;
  seriesUid: string;
  seriesNumber: number | null;
  seriesDescription: string;
  protocolName: string;
  sequenceName: string;
  modality: string;
  manufacturer: string;
  imageType: string[];
  /** Per-frame type of enhanced files (FrameType), when present. */
  frameType: string[];
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: number;
  samplesPerPixel: number;
  photometric: string;
  planarConfiguration: number;
  /** ImageOrientationPatient (row direction then column direction), LPS. */
  iop: number[] | null;
  /** ImagePositionPatient of the centre of the first voxel, LPS mm. */
  ipp: Vec3 | null;
  /** PixelSpacing: [between rows, between columns] in mm. */
  pixelSpacing: [number, number] | null;
  sliceThickness: number | null;
  spacingBetweenSlices: number | null;
  rescaleSlope: number;
  rescaleIntercept: number;
  /** Philips private MR scale slope (2005,100E), for dcm2niix-compatible precise scaling. */
  philipsScaleSlope: number | null;
  /** Real World Value Mapping (0040,9096) slope/intercept of the first item, when present. */
  rwvSlope?: number | null;
  rwvIntercept?: number | null;
  echoTime: number | null;
  echoNumber: number | null;
  acquisitionNumber: number | null;
  instanceNumber: number | null;
  temporalPosition: number | null;
  triggerTime: number | null;
  acquisitionTime: string;
  /** Enhanced multi-frame: DimensionIndexValues and in-stack position. */
  dimensionIndex: number[] | null;
  stackPosition: number | null;
  /** Siemens mosaic: number of tiles holding images (0 when not a mosaic). */
  mosaicCount: number;
  /** Siemens CSA SliceNormalVector (LPS), used to order mosaic tiles. */
  sliceNormal: Vec3 | null;
  /** Mosaic tile layout when not Siemens' square grid (UIH grids), see mosaic.ts. */
  mosaicGrid?: { across: number; down: number };
  /** UIH grid: ImagePositionPatient of each tile (the file has no top-level position). */
  tilePositions?: Vec3[];
  /** Set on the per-tile records that split makes of a UIH grid: which tile this is. */
  mosaicTile?: number;
  /** Diffusion weighting of this image, as the vendor stores it (see diffusion.ts). */
  diffusion?: import('./diffusion').DiffusionInfo | null;
  mrAcquisitionType: string;
  gantryTilt: number;
  repetitionTime: number | null;
  /** Tags kept for metadata and sidecars (first record of a series is used). */
  meta: Record<string, string>;
}
