/**
 * The 3D cursor shared by all views, and each view's zoom and pan.
 *
 * The cursor is a voxel index of the main image (as in ITK-SNAP): the status bar then shows
 * an exact voxel value, and every view's plane passes through that voxel's centre. Moving
 * one slice = one voxel along the index axis closest to the view's normal.
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef, watch } from 'vue';
import type { Vec3 } from '../../src-shared/image/volume';
import {
  type Convention,
  type ViewName,
  closestIndexAxis,
  indexToWorld,
  viewAxes,
  nearestVoxelIndex,
} from '../rendering/slice-geometry';
import { voxelValue } from '../rendering/slice-extract';
import { useImagesStore } from './images';
import type { Camera3D } from '../rendering3d/geometry';

export interface ViewCamera {
  /** Screen pixels per raster pixel relative to "fit to view" (1 = whole image visible). */
  zoom: number;
  /** Pan in CSS pixels. */
  panX: number;
  panY: number;
}

const fresh = (): ViewCamera => ({ zoom: 1, panX: 0, panY: 0 });
export const useViewStore = defineStore('view', () => {
  const images = useImagesStore();
  const cursor = ref<Vec3>([0, 0, 0]);
  const convention = ref<Convention>('radiological');
  const showCrosshair = ref(true);
  /** Volume shown of a 4D image (0-based). */
  const frame = ref(0);
  const cameras = reactive<Record<ViewName, ViewCamera>>({ axial: fresh(), coronal: fresh(), sagittal: fresh() });
  /** World point under the mouse in a view (null when the mouse is outside the views). */
  const hoverWorld = ref<Vec3 | null>(null);
  /** The views' image strip (switching the shown image) folded to one button. */
  const thumbsCollapsed = ref(false);

  const geometry = computed(() => images.main?.volume ?? null);

  function clampIndex(ijk: Vec3): Vec3 {
    const g = geometry.value;
    if (!g) return [0, 0, 0];
    return [0, 1, 2].map((a) => Math.min(g.dims[a] - 1, Math.max(0, Math.round(ijk[a])))) as Vec3;
  }

  function setCursorIndex(ijk: Vec3) {
    cursor.value = clampIndex(ijk);
  }

  function setCursorWorld(p: Vec3) {
    const g = geometry.value;
    if (g) cursor.value = nearestVoxelIndex(g, p);
  }

  /** Moves the cursor `delta` slices through `view` (positive = toward the view's normal). */
  function stepSlice(view: ViewName, delta: number) {
    const g = geometry.value;
    if (!g) return;
    const { axis, sign } = closestIndexAxis(g, viewAxes(view, convention.value).normal);
    const next = [...cursor.value] as Vec3;
    next[axis] += sign * delta;
    setCursorIndex(next);
  }

  /** Slice number (1-based) and count shown by a view, along its closest index axis. */
  function sliceOf(view: ViewName): { index: number; count: number } {
    const g = geometry.value;
    if (!g) return { index: 0, count: 0 };
    const { axis, sign } = closestIndexAxis(g, viewAxes(view, convention.value).normal);
    const n = g.dims[axis];
    const i = sign > 0 ? cursor.value[axis] : n - 1 - cursor.value[axis];
    return { index: i + 1, count: n };
  }

  const cursorWorld = computed<Vec3>(() => (geometry.value ? indexToWorld(geometry.value, cursor.value) : [0, 0, 0]));

  /** Real value (stored·slope + intercept) of the main image under the cursor. */
  const cursorValue = computed<number | null>(() => {
    const img = images.main;
    if (!img) return null;
    const v = img.volume;
    return voxelValue(v, cursor.value, Math.min(frame.value, v.frames - 1)) * v.rescaleSlope + v.rescaleIntercept;
  });

  function setFrame(f: number) {
    const n = geometry.value?.frames ?? 1;
    frame.value = Math.min(n - 1, Math.max(0, Math.round(f)));
  }

  function zoomBy(view: ViewName, factor: number) {
    const c = cameras[view];
    c.zoom = Math.min(64, Math.max(0.1, c.zoom * factor));
  }

  function panBy(view: ViewName, dx: number, dy: number) {
    cameras[view].panX += dx;
    cameras[view].panY += dy;
  }

  /*
   * The 3D view's camera lives in its vtk.js scene (the interactor moves it, not this store):
   * the view lends a reader while it is mounted, and a camera to restore (a workspace being
   * opened) waits here until the view has put the image it belongs to in its scene.
   */
  let camera3dReader: (() => Camera3D | null) | null = null;
  const camera3dToRestore = shallowRef<Camera3D | null>(null);
  function lendCamera3d(reader: (() => Camera3D | null) | null) {
    camera3dReader = reader;
  }
  /** The 3D camera now; null without a 3D view (no WebGL2). */
  function camera3d(): Camera3D | null {
    return camera3dReader?.() ?? null;
  }
  function restoreCamera3d(c: Camera3D | null) {
    camera3dToRestore.value = c;
  }

  function resetCameras() {
    for (const v of ['axial', 'coronal', 'sagittal'] as ViewName[]) Object.assign(cameras[v], fresh());
  }

  /** Centre the cursor and reset zoom whenever a new main image arrives. */
  watch(
    geometry,
    (g) => {
      if (!g) return;
      cursor.value = [Math.floor(g.dims[0] / 2), Math.floor(g.dims[1] / 2), Math.floor(g.dims[2] / 2)];
      frame.value = 0;
      resetCameras();
    },
    { flush: 'sync' },
  );

  return {
    cursor,
    hoverWorld,
    thumbsCollapsed,
    convention,
    showCrosshair,
    frame,
    setFrame,
    cameras,
    cursorWorld,
    cursorValue,
    setCursorIndex,
    setCursorWorld,
    stepSlice,
    sliceOf,
    zoomBy,
    panBy,
    resetCameras,
    camera3d,
    camera3dToRestore,
    lendCamera3d,
    restoreCamera3d,
  };
});
