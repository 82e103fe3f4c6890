/**
 * The coarse copy of a volume that the 3D view renders while the camera moves (pure).
 *
 * Block mean by an integer factor per axis, keeping the block's CENTRE at the same world
 * point: voxel (I,J,K) of the copy covers source voxels f·I … f·I+f−1, whose centre is at
 * index f·I + (f−1)/2, so origin' = origin + D·diag(spacing)·(f−1)/2 and spacing' = f·spacing
 * (direction unchanged). The last block of an axis may be partial; it averages what it has.
 * Stored values stay in the same voxel type (rounded), so slope/intercept still apply.
 */
import { type Vec3, type Volume, VOXEL_ARRAY } from '../../src-shared/image/volume';

/** The factor per axis that brings the volume under `maxVoxels` (1 when it already is). */
export function lodFactors(dims: Vec3, maxVoxels: number): Vec3 {
  const f: Vec3 = [1, 1, 1];
  const count = () => Math.ceil(dims[0] / f[0]) * Math.ceil(dims[1] / f[1]) * Math.ceil(dims[2] / f[2]);
  // Halve the axis with the most samples left until under budget (keeps voxels near-isotropic in count).
  while (count() > maxVoxels) {
    let a = 0;
    for (let b = 1; b < 3; b++) if (dims[b] / f[b] > dims[a] / f[a]) a = b;
    if (dims[a] / f[a] <= 1) break;
    f[a] *= 2;
  }
  return f;
}

export function downsampleVolume(vol: Volume, f: Vec3, frame = 0): Volume {
  const [nx, ny, nz] = vol.dims;
  const [fx, fy, fz] = f;
  const mx = Math.ceil(nx / fx);
  const my = Math.ceil(ny / fy);
  const mz = Math.ceil(nz / fz);
  const src = vol.data;
  const base = Math.min(Math.max(0, frame), vol.frames - 1) * nx * ny * nz;
  const sum = new Float64Array(mx * my * mz);
  // One pass over the source in memory order; each voxel adds to its block.
  for (let k = 0; k < nz; k++) {
    const K = ((k / fz) | 0) * mx * my;
    for (let j = 0; j < ny; j++) {
      const JK = K + ((j / fy) | 0) * mx;
      let o = base + k * nx * ny + j * nx;
      for (let i = 0; i < nx; i++, o++) sum[JK + ((i / fx) | 0)] += src[o];
    }
  }
  const out = new VOXEL_ARRAY[vol.voxelType](mx * my * mz);
  const isFloat = vol.voxelType === 'float32' || vol.voxelType === 'float64';
  for (let K = 0, o = 0; K < mz; K++) {
    const cz = Math.min(fz, nz - K * fz);
    for (let J = 0; J < my; J++) {
      const cy = Math.min(fy, ny - J * fy);
      for (let I = 0; I < mx; I++, o++) {
        const cx = Math.min(fx, nx - I * fx);
        const m = sum[o] / (cx * cy * cz);
        out[o] = isFloat ? m : Math.round(m);
      }
    }
  }
  const d = vol.direction;
  const shift = [((fx - 1) / 2) * vol.spacing[0], ((fy - 1) / 2) * vol.spacing[1], ((fz - 1) / 2) * vol.spacing[2]];
  const origin: Vec3 = [0, 1, 2].map((r) => vol.origin[r] + d[r * 3] * shift[0] + d[r * 3 + 1] * shift[1] + d[r * 3 + 2] * shift[2]) as Vec3;
  return {
    ...vol,
    dims: [mx, my, mz],
    spacing: [vol.spacing[0] * fx, vol.spacing[1] * fy, vol.spacing[2] * fz],
    origin,
    data: out,
    frames: 1,
  };
}
