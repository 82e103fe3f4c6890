/**
 * How a demons preview slice (x = fixed voxel axis axes[0], y = axes[1]) is laid out on
 * screen so the pane shows the patient the way the slice views do: the in-plane world axis
 * L/R horizontal (patient left on the right in the radiological convention, on the left in
 * the neurological one), anterior at the top for an axial slice, superior at the top for a
 * coronal or sagittal one, posterior on the right of a sagittal one... as in slice-geometry.
 */
import type { Mat3 } from '../../src-shared/image/volume';
import { closestWorldAxes } from '../../src-shared/geometry/geometry';

export interface PaneLayout {
  /** Preview x runs vertically on screen (and y horizontally). */
  transpose: boolean;
  /** Mirror the screen's horizontal / vertical axis. */
  flipH: boolean;
  flipV: boolean;
}

/** The fixed voxel axis closest to the patient's S axis: its slices are the axial preview. */
export function axialVoxelAxis(direction: Mat3): 0 | 1 | 2 {
  return closestWorldAxes(direction).axis.indexOf(2) as 0 | 1 | 2;
}

/**
 * Screen layout of preview axes [ax, ay]. Screen right = world +x (L) in the radiological
 * convention (−x in the neurological), screen down = world +y (P) when y is shown vertically,
 * −z (I) when z is; for a sagittal slice (y and z in plane) screen right = +y (P).
 */
export function paneLayout(direction: Mat3, axes: readonly [number, number, number], convention: 'radiological' | 'neurological' = 'radiological'): PaneLayout {
  const { axis, sign } = closestWorldAxes(direction);
  const wx = axis[axes[0]], wy = axis[axes[1]];
  // Which world axis goes across the screen: x if in plane, else y (sagittal).
  const across = wx === 0 || wy === 0 ? 0 : 1;
  const transpose = wy === across;
  const hAxis = transpose ? axes[1] : axes[0];
  const vAxis = transpose ? axes[0] : axes[1];
  const hWorld = axis[hAxis], vWorld = axis[vAxis];
  // +1: screen right/down should follow the world axis' positive direction.
  const wantH = hWorld === 0 ? (convention === 'radiological' ? 1 : -1) : 1;
  const wantV = vWorld === 2 ? -1 : 1;
  return { transpose, flipH: sign[hAxis] !== wantH, flipV: sign[vAxis] !== wantV };
}
