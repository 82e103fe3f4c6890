/**
 * Draws one orthogonal view into a 2D canvas: the resliced plane (slice-extract.ts), the
 * crosshairs, with zoom and pan.
 *
 * Design (measured under headless Chromium + SwiftShader, see bench/viewer.bench.mjs):
 * the displayed plane is computed on the CPU in patient axes and drawn with Canvas 2D
 * drawImage. vtk.js's 3D-texture reslice mapper needs the whole volume on the GPU (2–3 s
 * upload for 512×512×175 under SwiftShader), and its 2D vtkImageMapper cannot show an
 * oblique volume in patient orientation. The CPU plane path is one code path for oblique and
 * straight images, reads the one voxel array in place, and costs a few ms per view per change;
 * a window/level change re-maps only the cached plane, an in-plane cursor move only redraws.
 * vtk.js stays available for the 3D view and surface rendering of later issues.
 */
import type { Vec3, Volume } from '../../src-shared/image/volume';
import { type SliceGrid, gridToWorld, sliceGrid, worldToGrid, type Convention, type ViewName } from './slice-geometry';
import { extractSlice, windowLevelToRgba } from './slice-extract';

export interface DrawState {
  volume: Volume;
  view: ViewName;
  convention: Convention;
  /** World position of the 3D cursor (a voxel centre of the main image). */
  cursor: Vec3;
  window: number;
  level: number;
  zoom: number;
  panX: number;
  panY: number;
  showCrosshair: boolean;
}

/** Mapping between CSS pixels of the canvas and raster pixels of the grid. */
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
  private readonly plane = document.createElement('canvas');
  private readonly planeCtx: CanvasRenderingContext2D;
  private grid: SliceGrid | null = null;
  private values: Float32Array | null = null;
  private rgba: ImageData | null = null;
  private keyVolume: Volume | null = null;
  private keyConvention: Convention | null = null;
  private keyDepth = NaN;
  private keyWindow = NaN;
  private keyLevel = NaN;
  screen: ScreenMap = { sx: 1, sy: 1, ox: 0, oy: 0 };

  constructor(private readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext('2d', { alpha: false });
    const pctx = this.plane.getContext('2d');
    if (!ctx || !pctx) throw new Error('Canvas 2D is not available');
    this.ctx = ctx;
    this.planeCtx = pctx;
  }

  get sliceGrid(): SliceGrid | null {
    return this.grid;
  }

  /** Renders; returns the time spent in ms (for the bench and the debug overlay). */
  draw(s: DrawState): number {
    const t0 = performance.now();
    const v = s.volume;
    if (this.keyVolume !== v || this.keyConvention !== s.convention || !this.grid || this.grid.view !== s.view) {
      this.grid = sliceGrid(v, s.view, s.convention);
      this.values = new Float32Array(this.grid.width * this.grid.height);
      this.rgba = new ImageData(this.grid.width, this.grid.height);
      this.plane.width = this.grid.width;
      this.plane.height = this.grid.height;
      this.keyVolume = v;
      this.keyConvention = s.convention;
      this.keyDepth = NaN;
    }
    const grid = this.grid;
    const n = grid.axes.normal;
    const depth = s.cursor[0] * n[0] + s.cursor[1] * n[1] + s.cursor[2] * n[2];
    let remap = false;
    if (depth !== this.keyDepth) {
      extractSlice(v, grid, s.cursor, this.values!);
      this.keyDepth = depth;
      remap = true;
    }
    if (remap || s.window !== this.keyWindow || s.level !== this.keyLevel) {
      windowLevelToRgba(this.values!, v.rescaleSlope, v.rescaleIntercept, s.window, s.level, this.rgba!.data);
      this.planeCtx.putImageData(this.rgba!, 0, 0);
      this.keyWindow = s.window;
      this.keyLevel = s.level;
    }
    this.compose(s);
    return performance.now() - t0;
  }

  private compose(s: DrawState) {
    const grid = this.grid!;
    const canvas = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const cw = canvas.clientWidth;
    const ch = canvas.clientHeight;
    if (canvas.width !== Math.round(cw * dpr) || canvas.height !== Math.round(ch * dpr)) {
      canvas.width = Math.round(cw * dpr);
      canvas.height = Math.round(ch * dpr);
    }
    const ctx = this.ctx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, cw, ch);
    // Physical size (mm) → fit into the view, keep the aspect ratio of real millimetres.
    const wmm = grid.width * grid.pixelRight;
    const hmm = grid.height * grid.pixelDown;
    const fit = Math.min(cw / wmm, ch / hmm) * 0.95;
    const pxPerMm = fit * s.zoom;
    const sx = grid.pixelRight * pxPerMm;
    const sy = grid.pixelDown * pxPerMm;
    const ox = cw / 2 - (wmm * pxPerMm) / 2 + s.panX;
    const oy = ch / 2 - (hmm * pxPerMm) / 2 + s.panY;
    this.screen = { sx, sy, ox, oy };
    // Nearest-neighbour magnification, like ITK-SNAP's default: voxels stay visible as voxels.
    ctx.imageSmoothingEnabled = sx < 1 || sy < 1;
    ctx.drawImage(this.plane, ox, oy, grid.width * sx, grid.height * sy);

    if (s.showCrosshair) {
      const [c, r] = worldToGrid(grid, s.cursor);
      const x = Math.round(ox + (c + 0.5) * sx) + 0.5;
      const y = Math.round(oy + (r + 0.5) * sy) + 0.5;
      ctx.strokeStyle = 'rgba(80, 160, 255, 0.9)';
      ctx.lineWidth = 1;
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.moveTo(0, y);
      ctx.lineTo(cw, y);
      ctx.moveTo(x, 0);
      ctx.lineTo(x, ch);
      ctx.stroke();
    }
  }

  /** World point under a CSS pixel position of the canvas, on the current plane. */
  screenToWorld(x: number, y: number, cursor: Vec3): Vec3 | null {
    if (!this.grid) return null;
    const { sx, sy, ox, oy } = this.screen;
    return gridToWorld(this.grid, (x - ox) / sx - 0.5, (y - oy) / sy - 0.5, cursor);
  }
}
