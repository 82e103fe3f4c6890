/**
 * Shows one orthogonal view with two canvases: the resliced plane in a canvas the size of the
 * plane's raster, placed and scaled on screen with a CSS transform, and a view-sized overlay
 * canvas with the crosshairs, the orientation letters and the caption.
 *
 * Design, measured under headless Chromium + SwiftShader (bench/viewer.bench.mjs):
 * - The displayed plane is computed on the CPU in patient axes (slice-extract.ts). vtk.js's
 *   3D-texture reslice mapper needs the whole volume on the GPU (2–3 s upload for
 *   512×512×175 under SwiftShader: too slow for the 1.5 s target), and its 2D vtkImageMapper
 *   cannot show an oblique volume in patient orientation. The CPU plane is one code path for
 *   oblique and straight images, reads the one voxel array in place, and costs ~3 ms per
 *   512×512 plane.
 * - Only what changed is redone: a slice change re-extracts one plane and uploads it
 *   (putImageData, no scaling); a window/level change only re-maps the cached plane; zoom
 *   and pan change a CSS transform only, which the compositor applies without repainting.
 * - Text and lines go into one overlay canvas, not DOM elements over the plane: DOM overlays
 *   on a composited canvas become many layers (or squashed view-sized layers) that Chromium
 *   re-rasterizes through SwiftShader every frame; measured 12–16 fps with DOM letters,
 *   captions and crosshair lines versus 40–60 fps without them (bench, 2 busy cores).
 * vtk.js stays for the 3D view and surfaces of later issues.
 */
import type { Mat4, Vec3, Volume } from '../../src-shared/image/volume';
import { type SliceGrid, gridToWorld, sliceGrid, worldToGrid, type Convention, type ViewName } from './slice-geometry';
import { extractSlice, windowLevelToRgba } from './slice-extract';
import { blendLayer, checkerLayer, lutToRgba, samplePlane } from './layer-plane';
import { isRgb, rgbChannels, rgbToRgba } from './rgb-plane';
import { labelOutline } from './label-outline';

/** One non-main layer (or the main image with a colour map) to draw on the plane. */
export interface PlaneLayer {
  volume: Volume;
  /** Real-value window/level. */
  window: number;
  level: number;
  /** RGBA LUT of its colour map (reused object while the map is unchanged). */
  lut: Uint8ClampedArray;
  opacity: number;
  /** Nearest-neighbour sampling, 0 = transparent background. */
  isLabel: boolean;
  /** Registration transform (pull-back: display world → layer world); absent = identity. */
  worldTransform?: Mat4;
  /** Checkerboard compare: drawn opaque on every other square of this side (mm) instead of blended. */
  checkerMm?: number;
  /**
   * A mask in the layer's own space (a masked image's mask): where it is 0 the layer counts
   * as outside (NaN: black when shown, transparent as an overlay) under any window/level.
   */
  clip?: Volume;
  /** Label layers: draw only the boundaries of the labels (ITK-SNAP's contour display). */
  outline?: boolean;
  /** Bumped when the voxels were edited in place (forces a new sample of the plane). */
  version?: number;
}

export interface PlaneState {
  volume: Volume;
  view: ViewName;
  convention: Convention;
  /** World position of the 3D cursor (a voxel centre of the main image). */
  cursor: Vec3;
  window: number;
  level: number;
  /** Volume of a 4D image (0 for 3D). */
  frame: number;
  /**
   * What the plane shows instead of the main image in grey levels: the main image with a
   * colour map (same volume), or an additional image resampled in world space. Absent: the
   * main image, grey levels, `window`/`level`.
   */
  base?: PlaneLayer;
  /** Overlays blended on top, bottom first. */
  overlays?: PlaneLayer[];
}

export interface CameraState {
  /** CSS size of the view. */
  width: number;
  height: number;
  zoom: number;
  panX: number;
  panY: number;
}

export interface OverlayState {
  /** CSS size of the view. */
  width: number;
  height: number;
  cursor: Vec3 | null;
  showCrosshair: boolean;
  letters: { left: string; right: string; top: string; bottom: string } | null;
  caption: string;
}

/** Mapping between CSS pixels of the view and raster pixels of the plane. */
export interface ScreenMap {
  /** CSS pixels per raster pixel along x and y. */
  sx: number;
  sy: number;
  /** CSS position of the raster's top-left corner. */
  ox: number;
  oy: number;
}

export class SliceRenderer {
  private readonly ctx: CanvasRenderingContext2D;
  private grid: SliceGrid | null = null;
  private values: Float32Array | null = null;
  private rgba: ImageData | null = null;
  private keyVolume: Volume | null = null;
  private keyConvention: Convention | null = null;
  private keyView: ViewName | null = null;
  private keyDepth = NaN;
  private keyFrame = -1;
  private keyPlace = '';
  private keyLook = '';
  private gridVersion = 0;
  /** Resampled planes of non-main layers, by volume (buffers reused). */
  private samples = new Map<Volume, { values: Float32Array; key: string; rgb?: Float32Array[] }>();
  /** R, G, B planes of a colour main image (null for scalar images). */
  private rgbValues: Float32Array[] | null = null;
  private readonly lutIds = new WeakMap<Uint8ClampedArray, number>();
  private readonly clipIds = new WeakMap<Volume, number>();
  private clipBuf: Float32Array | undefined;
  private outlineScratch: Float32Array | undefined;
  private nextLutId = 1;
  /** Pixels the overlays coloured in the last composite (for tests and the status). */
  overlayPixels = 0;
  screen: ScreenMap = { sx: 1, sy: 1, ox: 0, oy: 0 };

  private readonly octx: CanvasRenderingContext2D;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly overlay: HTMLCanvasElement,
  ) {
    const ctx = canvas.getContext('2d', { alpha: false });
    const octx = overlay.getContext('2d');
    if (!ctx || !octx) throw new Error('Canvas 2D is not available');
    this.ctx = ctx;
    this.octx = octx;
    canvas.style.transformOrigin = '0 0';
  }

  get sliceGrid(): SliceGrid | null {
    return this.grid;
  }

  /** The raster for this image, view and convention (recomputed only when one changes). */
  ensureGrid(v: Volume, view: ViewName, convention: Convention): SliceGrid {
    if (this.keyVolume !== v || this.keyConvention !== convention || this.keyView !== view || !this.grid) {
      this.grid = sliceGrid(v, view, convention);
      this.values = new Float32Array(this.grid.width * this.grid.height);
      this.rgba = new ImageData(this.grid.width, this.grid.height);
      this.canvas.width = this.grid.width;
      this.canvas.height = this.grid.height;
      this.canvas.style.width = `${this.grid.width}px`;
      this.canvas.style.height = `${this.grid.height}px`;
      this.keyVolume = v;
      this.keyConvention = convention;
      this.keyView = view;
      this.keyDepth = NaN;
      this.keyPlace = '';
      this.gridVersion++;
    }
    return this.grid;
  }

  /** Brings the plane up to date; returns the ms spent (0 when nothing had to be redone). */
  updatePlane(s: PlaneState): number {
    const t0 = performance.now();
    const v = s.volume;
    this.ensureGrid(v, s.view, s.convention);
    const grid = this.grid!;
    const n = grid.axes.normal;
    const depth = s.cursor[0] * n[0] + s.cursor[1] * n[1] + s.cursor[2] * n[2];
    let remap = false;
    const baseIsMain = !s.base || s.base.volume === v;
    if (depth !== this.keyDepth || s.frame !== this.keyFrame || (isRgb(v) && !this.rgbValues)) {
      if (isRgb(v)) {
        // Colour: the three channel planes (drawn directly, no LUT).
        const ch = rgbChannels(v);
        const n = grid.width * grid.height;
        if (!this.rgbValues || this.rgbValues[0].length !== n) this.rgbValues = [this.values!, new Float32Array(n), new Float32Array(n)];
        this.rgbValues[0] = this.values!;
        ch.forEach((c, i) => extractSlice(c, grid, s.cursor, this.rgbValues![i], s.frame));
      } else {
        this.rgbValues = null;
        extractSlice(v, grid, s.cursor, this.values!, s.frame);
      }
      this.keyDepth = depth;
      this.keyFrame = s.frame;
      remap = true;
    }
    // Non-main layers: resample the plane in world space when the plane or the layer changed.
    const others = [...(s.base && !baseIsMain ? [s.base] : []), ...(s.overlays ?? [])];
    const planeKey = `${this.gridVersion} ${s.view} ${s.convention} ${depth} ${s.frame} ${grid.width}x${grid.height}`;
    const keep = new Set<Volume>();
    for (const l of others) {
      keep.add(l.volume);
      const key = `${planeKey} ${l.isLabel ? 'n' : 'l'} ${l.worldTransform ? l.worldTransform.join(',') : 'id'} ${l.clip ? this.clipId(l.clip) : ''} v${l.version ?? 0}`;
      let e = this.samples.get(l.volume);
      if (e && e.key === key) continue;
      const values = samplePlane(isRgb(l.volume) ? rgbChannels(l.volume)[0] : l.volume, grid, s.cursor, l.isLabel ? 'nearest' : 'linear', s.frame, e?.values, l.worldTransform);
      // Colour layers: G and B planes too.
      const rgb = isRgb(l.volume) ? [values, ...[1, 2].map((c) => samplePlane(rgbChannels(l.volume)[c], grid, s.cursor, 'linear', s.frame, e?.rgb?.[c], l.worldTransform))] : undefined;
      if (l.clip) {
        // Outside the clipping mask: NaN, drawn as nothing (black/transparent) under any window.
        const m = (this.clipBuf = samplePlane(l.clip, grid, s.cursor, 'nearest', 0, this.clipBuf, l.worldTransform));
        for (const plane of rgb ?? [values]) for (let i = 0; i < plane.length; i++) if (!(m[i] !== 0 && m[i] === m[i])) plane[i] = NaN;
      }
      e = { values, key, rgb };
      this.samples.set(l.volume, e);
      remap = true;
    }
    for (const k of [...this.samples.keys()]) if (!keep.has(k)) this.samples.delete(k);
    const look = (l: PlaneLayer) => `${l.window},${l.level},${this.lutId(l.lut)},${l.opacity},${l.isLabel},${l.checkerMm ?? ''},${l.outline ? 'o' : ''},${this.samples.get(l.volume)?.key ?? 'main'}`;
    const lookKey = `${s.window} ${s.level} | ${s.base ? look(s.base) : 'grey'} | ${(s.overlays ?? []).map(look).join(' ; ')}`;
    if (remap || lookKey !== this.keyLook) {
      const rgba = this.rgba!.data;
      const baseRgb = s.base && !baseIsMain ? this.samples.get(s.base.volume)?.rgb : undefined;
      if (this.rgbValues && (!s.base || baseIsMain)) {
        rgbToRgba(this.rgbValues[0], this.rgbValues[1], this.rgbValues[2], rgba);
      } else if (baseRgb) {
        rgbToRgba(baseRgb[0], baseRgb[1], baseRgb[2], rgba);
      } else if (!s.base) {
        windowLevelToRgba(this.values!, v.rescaleSlope, v.rescaleIntercept, s.window, s.level, rgba);
      } else if (baseIsMain) {
        lutToRgba(this.values!, { slope: v.rescaleSlope, intercept: v.rescaleIntercept, window: s.base.window, level: s.base.level, lut: s.base.lut }, rgba);
      } else {
        const b = s.base;
        lutToRgba(this.samples.get(b.volume)!.values, { slope: 1, intercept: 0, window: b.window, level: b.level, lut: b.lut }, rgba);
      }
      let touched = 0;
      for (const o of s.overlays ?? []) {
        if (o.checkerMm) {
          const tile = o.checkerMm / Math.max(grid.pixelRight, 1e-6);
          touched += checkerLayer(this.samples.get(o.volume)!.values, { slope: 1, intercept: 0, window: o.window, level: o.level, lut: o.lut }, grid.width, tile, rgba);
          continue;
        }
        if (o.opacity <= 0) continue;
        const orgb = this.samples.get(o.volume)!.rgb;
        if (orgb) {
          touched += rgbToRgba(orgb[0], orgb[1], orgb[2], rgba, Math.min(o.opacity, 0.999));
          continue;
        }
        const vals = o.outline ? labelOutline(this.samples.get(o.volume)!.values, grid.width, grid.height, this.outlineScratch) : this.samples.get(o.volume)!.values;
        if (o.outline) this.outlineScratch = vals;
        touched += blendLayer(vals, { slope: 1, intercept: 0, window: o.window, level: o.level, lut: o.lut }, o.opacity, o.isLabel, rgba);
      }
      this.overlayPixels = touched;
      this.ctx.putImageData(this.rgba!, 0, 0);
      this.keyLook = lookKey;
      return performance.now() - t0;
    }
    return 0;
  }

  private clipId(v: Volume): number {
    let id = this.clipIds.get(v);
    if (id === undefined) {
      id = this.nextLutId++;
      this.clipIds.set(v, id);
    }
    return id;
  }

  private lutId(l: Uint8ClampedArray): number {
    let id = this.lutIds.get(l);
    if (id === undefined) {
      id = this.nextLutId++;
      this.lutIds.set(l, id);
    }
    return id;
  }

  /** Places the plane (zoom, pan, fit): a CSS transform only. */
  place(cam: CameraState) {
    const grid = this.grid;
    if (!grid) return;
    // Physical size (mm) → fit into the view keeping real-millimetre aspect.
    const wmm = grid.width * grid.pixelRight;
    const hmm = grid.height * grid.pixelDown;
    const fit = Math.min(cam.width / wmm, cam.height / hmm) * 0.95;
    const pxPerMm = fit * cam.zoom;
    const sx = grid.pixelRight * pxPerMm;
    const sy = grid.pixelDown * pxPerMm;
    const ox = cam.width / 2 - (wmm * pxPerMm) / 2 + cam.panX;
    const oy = cam.height / 2 - (hmm * pxPerMm) / 2 + cam.panY;
    const key = `${sx} ${sy} ${ox} ${oy}`;
    this.screen = { sx, sy, ox, oy };
    if (key === this.keyPlace) return;
    this.keyPlace = key;
    this.canvas.style.transform = `translate(${ox}px, ${oy}px) scale(${sx}, ${sy})`;
    // Magnified voxels stay crisp squares (ITK-SNAP's default); minified images are smoothed.
    this.canvas.style.imageRendering = sx >= 1 && sy >= 1 ? 'pixelated' : 'auto';
  }

  /** Redraws the overlay: crosshairs through the cursor, edge letters, caption. */
  drawOverlay(o: OverlayState) {
    const c = this.overlay;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(o.width * dpr));
    const h = Math.max(1, Math.round(o.height * dpr));
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
    }
    const ctx = this.octx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, o.width, o.height);
    if (this.grid && o.cursor && o.showCrosshair) {
      const { sx, sy, ox, oy } = this.screen;
      const [gc, gr] = worldToGrid(this.grid, o.cursor);
      const x = Math.round(ox + (gc + 0.5) * sx) + 0.5;
      const y = Math.round(oy + (gr + 0.5) * sy) + 0.5;
      ctx.strokeStyle = 'rgba(80, 160, 255, 0.9)';
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(0, y);
      ctx.lineTo(o.width, y);
      ctx.moveTo(x, 0);
      ctx.lineTo(x, o.height);
      ctx.stroke();
    }
    ctx.textBaseline = 'middle';
    if (o.letters) {
      ctx.font = '600 14px system-ui, sans-serif';
      ctx.fillStyle = '#ffd84a';
      const L = o.letters;
      ctx.textAlign = 'center';
      ctx.fillText(L.top, o.width / 2, 12);
      ctx.fillText(L.bottom, o.width / 2, o.height - 12);
      ctx.textAlign = 'left';
      ctx.fillText(L.left, 5, o.height / 2);
      ctx.textAlign = 'right';
      ctx.fillText(L.right, o.width - 5, o.height / 2);
    }
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillStyle = '#ccc';
    ctx.textAlign = 'left';
    ctx.fillText(o.caption, 6, 12);
  }

  /** World point under a CSS pixel position of the view, on the current plane. */
  screenToWorld(x: number, y: number, cursor: Vec3): Vec3 | null {
    if (!this.grid) return null;
    const { sx, sy, ox, oy } = this.screen;
    return gridToWorld(this.grid, (x - ox) / sx - 0.5, (y - oy) / sy - 0.5, cursor);
  }
}
