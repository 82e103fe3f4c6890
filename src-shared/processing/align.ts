/**
 * Centre alignment: translate a moving image so that its centre and a fixed image's
 * centre coincide in world space (ITK's CenteredTransformInitializer, GEOMETRY or
 * MOMENTS mode). Only the origin changes; the voxels are shared, not copied.
 */
import { voxelCount, type ImageGeometry, type Vec3, type Volume } from '../image/volume';
import { indexToWorld } from '../geometry/geometry';
import { ProgressTracker, type ProcessingOptions } from './progress';
import { copyGeometry, storedRange } from './volume-utils';

export type CentreMode = 'geometry' | 'mass';

/** World (LPS) centre of the voxel grid: the centre of voxel index (n-1)/2 on each axis. */
export function gridCentre(g: ImageGeometry): Vec3 {
  return indexToWorld(g, [(g.dims[0] - 1) / 2, (g.dims[1] - 1) / 2, (g.dims[2] - 1) / 2]);
}

/**
 * Intensity-weighted centre of the first frame, weights = stored value − minimum (so a CT
 * with −1024 background still weighs air at zero). Falls back to the grid centre for a
 * constant image.
 */
export function massCentre(vol: Volume, opts: ProcessingOptions = {}): Vec3 {
  const [nx, ny, nz] = vol.dims;
  const [mn] = storedRange(vol);
  const d = vol.data;
  const tracker = new ProgressTracker(opts);
  let w = 0;
  let si = 0;
  let sj = 0;
  let sk = 0;
  for (let z = 0; z < nz; z++) {
    tracker.report(0, z / nz, 'Centre of mass');
    let wz = 0;
    for (let y = 0; y < ny; y++) {
      let wy = 0;
      const base = (z * ny + y) * nx;
      for (let x = 0; x < nx; x++) {
        const v = d[base + x] - mn;
        wy += v;
        si += v * x;
      }
      sj += wy * y;
      wz += wy;
    }
    sk += wz * z;
    w += wz;
  }
  if (!(w > 0) || voxelCount(vol) === 0) return gridCentre(vol);
  return indexToWorld(vol, [si / w, sj / w, sk / w]);
}

export interface AlignResult {
  /** The moving image with its origin moved by `translation` (same voxel buffer). */
  volume: Volume;
  /** LPS translation (mm) added to the moving image's origin. */
  translation: Vec3;
}

export function alignCentres(moving: Volume, fixed: Volume | ImageGeometry, mode: CentreMode = 'geometry', opts: ProcessingOptions = {}): AlignResult {
  const centre = (v: Volume | ImageGeometry) => (mode === 'mass' && 'data' in v ? massCentre(v, opts) : gridCentre(v));
  const cf = centre(fixed);
  const cm = centre(moving);
  const translation: Vec3 = [cf[0] - cm[0], cf[1] - cm[1], cf[2] - cm[2]];
  const g = copyGeometry(moving);
  g.origin = [g.origin[0] + translation[0], g.origin[1] + translation[1], g.origin[2] + translation[2]];
  return { volume: { ...moving, ...g, metadata: { ...moving.metadata } }, translation };
}
