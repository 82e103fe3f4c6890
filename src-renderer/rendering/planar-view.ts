/**
 * A one-slice image (a PNG, a single DICOM slice, a 2D registration result) has only one
 * view worth showing: the one whose plane contains the image. The other two would show a
 * one-pixel line. The layout then gives that view the whole left column (App.vue).
 */
import type { ImageGeometry } from '../../src-shared/image/volume';
import { VIEW_NAMES, closestIndexAxis, viewAxes, type ViewName } from './slice-geometry';

/** The view showing the image's plane, when the image has exactly one slice along some axis; else null. */
export function planarView(g: Pick<ImageGeometry, 'dims' | 'direction' | 'spacing' | 'origin'> | null | undefined): ViewName | null {
  if (!g) return null;
  const flat = [0, 1, 2].filter((a) => g.dims[a] === 1);
  if (flat.length !== 1) return null;
  // The view whose normal is closest to the flat index axis.
  for (const v of VIEW_NAMES) if (closestIndexAxis(g as ImageGeometry, viewAxes(v).normal).axis === flat[0]) return v;
  return 'axial';
}
