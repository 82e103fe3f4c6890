/**
 * Lattice geometry → vtk.js (pure, no WebGL): the numbers handed to vtkImageData and to a
 * vtkProp3D's user matrix.
 *
 * - Our world is patient LPS mm; vtk.js has no patient frame of its own, so the 3D scene's
 *   world IS LPS mm (x → Left, y → Posterior, z → Superior).
 * - Volume.origin is the centre of voxel (0,0,0) and Volume.direction is row-major with the
 *   i, j, k axes as COLUMNS. vtkImageData uses the same origin/spacing meaning, but stores
 *   direction in gl-matrix (column-major) order: its first three numbers are the i axis.
 *   So the vtk direction is our row-major matrix read column by column (the transpose).
 * - A layer's worldTransform is a PULL-BACK (display world → the layer's own world, row-major).
 *   To show the layer where it lands in the display world its actor needs the inverse
 *   (layer world → display world), as a column-major gl-matrix.
 */
import type { Mat3, Mat4, Vec3, Volume } from '../../src-shared/image/volume';
import { mat4Invert } from '../../src-shared/geometry/mat';

/** The 3D view's camera in the scene's world (LPS mm): what a workspace keeps of it. */
export interface Camera3D {
  position: Vec3;
  focalPoint: Vec3;
  viewUp: Vec3;
  /** Vertical view angle in degrees (perspective projection). */
  viewAngle: number;
}

/** vtkImageData.setDirection argument: column-major (i axis first). */
export function vtkDirection(direction: Mat3): Float64Array {
  const d = direction;
  return Float64Array.from([d[0], d[3], d[6], d[1], d[4], d[7], d[2], d[5], d[8]]);
}

/** Column-major 4×4 (gl-matrix) of a row-major Mat4. */
export function toColumnMajor(m: Mat4): Float64Array {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) out[c * 4 + r] = m[r * 4 + c];
  return out;
}

/**
 * The user matrix (column-major) of a layer's actor: its own world → display world, i.e. the
 * inverse of its pull-back worldTransform; null for the identity.
 */
export function layerActorMatrix(worldTransform: Mat4 | undefined): Float64Array | null {
  if (!worldTransform) return null;
  return toColumnMajor(mat4Invert(worldTransform));
}

/** The parameters of vtkImageData for frame `frame` of a volume (the voxel array is a view, not a copy). */
export function imageDataParams(vol: Volume, frame = 0) {
  const n = vol.dims[0] * vol.dims[1] * vol.dims[2];
  const f = Math.min(Math.max(0, frame), vol.frames - 1);
  return {
    dimensions: [...vol.dims] as Vec3,
    spacing: [...vol.spacing] as Vec3,
    origin: [...vol.origin] as Vec3,
    direction: vtkDirection(vol.direction),
    values: vol.frames > 1 ? vol.data.subarray(f * n, (f + 1) * n) : vol.data,
  };
}

/** Stored value of a real value (real = stored·slope + intercept): transfer functions act on stored values. */
export function realToStored(vol: Pick<Volume, 'rescaleSlope' | 'rescaleIntercept'>, real: number): number {
  const s = vol.rescaleSlope || 1;
  return (real - (vol.rescaleIntercept || 0)) / s;
}

export type StandardView = 'anterior' | 'posterior' | 'left' | 'right' | 'superior' | 'inferior';

/**
 * Camera direction (from the focal point TO the camera) and view-up of the six standard views
 * in LPS, as 3D Slicer names them: "anterior" looks at the patient's face (camera on the
 * anterior side, head up, so the patient's right is on screen left); "superior" looks down
 * from above the head with anterior at the top of the screen.
 */
export const STANDARD_VIEWS: Record<StandardView, { toCamera: Vec3; up: Vec3; label: string }> = {
  anterior: { toCamera: [0, -1, 0], up: [0, 0, 1], label: 'A' },
  posterior: { toCamera: [0, 1, 0], up: [0, 0, 1], label: 'P' },
  left: { toCamera: [1, 0, 0], up: [0, 0, 1], label: 'L' },
  right: { toCamera: [-1, 0, 0], up: [0, 0, 1], label: 'R' },
  superior: { toCamera: [0, 0, 1], up: [0, -1, 0], label: 'S' },
  inferior: { toCamera: [0, 0, -1], up: [0, -1, 0], label: 'I' },
};
