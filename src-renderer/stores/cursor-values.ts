/**
 * The cursor inspector's data: for every layer, its value at the 3D cursor's world point
 * and the voxel index it came from — the main image at its voxel exactly; other layers
 * resampled there the way they are drawn (trilinear, nearest for labels), with the
 * fractional index.
 */
import { computed } from 'vue';
import type { Vec3 } from '../../src-shared/image/volume';
import { layerValueAt } from '../rendering/layer-plane';
import { voxelValue } from '../rendering/slice-extract';
import { useImagesStore } from './images';
import { useViewStore } from './view';
import { isRgb, rgbChannels } from '../rendering/rgb-plane';

export interface CursorRow {
  id: string;
  title: string;
  role: string;
  /** Real value, NaN outside the layer. */
  value: number;
  /** Voxel index (integers for the main image, fractional for resampled layers). */
  index: Vec3;
  units: string;
  /** Colour layers: R, G, B at the cursor (value is then their mean, for sorting only). */
  rgb?: [number, number, number];
}

export function useCursorValues() {
  const images = useImagesStore();
  const view = useViewStore();
  return computed<CursorRow[]>(() => {
    const p = view.cursorWorld;
    return images.images.map((l) => {
      const frame = Math.min(view.frame, l.volume.frames - 1);
      if (isRgb(l.volume)) {
        const ch = rgbChannels(l.volume);
        const at = (c: (typeof ch)[number]) =>
          l.role === 'main' ? { value: voxelValue(c, view.cursor, frame), index: [...view.cursor] as Vec3 } : layerValueAt(c, p, 'linear', frame, l.worldTransform);
        const rs = ch.map(at);
        const rgb = rs.map((r) => r.value) as [number, number, number];
        return { id: l.id, title: l.nickname || l.name, role: l.role, value: (rgb[0] + rgb[1] + rgb[2]) / 3, index: rs[0].index, units: l.units, rgb };
      }
      if (l.role === 'main') {
        const v = l.volume;
        return { id: l.id, title: l.nickname || l.name, role: l.role, value: voxelValue(v, view.cursor, frame) * v.rescaleSlope + v.rescaleIntercept, index: [...view.cursor] as Vec3, units: l.units };
      }
      const r = layerValueAt(l.volume, p, l.isLabel ? 'nearest' : 'linear', frame, l.worldTransform);
      return { id: l.id, title: l.nickname || l.name, role: l.role, value: r.value, index: r.index, units: l.units };
    });
  });
}
