/**
 * Shows one orthogonal view: the resliced plane in a canvas the size of the plane's raster,
 * placed and scaled on screen with a CSS transform, plus crosshair lines as two thin
 * elements moved with transforms.
 *
 * Design, measured under headless Chromium + SwiftShader (bench/viewer.bench.mjs):
 * - The displayed plane is computed on the CPU in patient axes (slice-extract.ts). vtk.js's
 *   3D-texture reslice mapper needs the whole volume on the GPU (2–3 s upload for
 *   512×512×175 under SwiftShader: too slow for the 1.5 s target), and its 2D vtkImageMapper
 *   cannot show an oblique volume in patient orientation. The CPU plane is one code path for
 *   oblique and straight images, reads the one voxel array in place, and costs ~3 ms per
 *   512×512 plane.
 * - Only what changed is redone: a slice change re-extracts one plane and uploads it
 *   (putImageData, no scaling); a window/level change only re-maps the cached plane; zoom,
 *   pan and an in-plane cursor move change CSS transforms only, which the compositor applies
 *   without repainting anything. Repainting whole scaled canvases every frame (drawImage)
 *   measured 2–4× slower per frame under SwiftShader.
 * vtk.js stays for the 3D view and surfaces of later issues.
 */
import type { Vec3, Volume } from '../../src-shared/image/volume';
import { type SliceGrid, gridToWorld, sliceGrid, worldToGrid, type Convention, type ViewName } from './slice-geometry';
import { extractSlice, windowLevelToRgba } from './slice-extract';

export interface PlaneState {
  volume: Volume;
  view: ViewName;
  convention: Convention;
  /** World position of the 3D cursor (a voxel centre of the main image). */
  cursor: Vec3;
  window: number;
  level: number;
}

export interface CameraState {
  /** CSS size of the view. */
  width: number;
  height: number;
  zoom: number;
  panX: number;
  panY: number;
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
  private keyWindow = NaN;
  private keyLevel = NaN;
  screen: ScreenMap = { sx: 1, sy: 1, ox: 0, oy: 0 };

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly hLine: HTMLElement,
    private readonly vLine: HTMLElement,
  ) {
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('Canvas 2D is not available');
    this.ctx = ctx;
    canvas.style.transformOrigin = '0 0';
  }

  get sliceGrid(): SliceGrid | null {
    return this.grid;
  }

  /** Brings the plane up to date; returns the ms spent (0 when nothing had to be redone). */
  updatePlane(s: PlaneState): number {
    const t0 = performance.now();
    const v = s.volume;
    if (this.keyVolume !== v || this.keyConvention !== s.convention || this.keyView !== s.view) {
      this.grid = sliceGrid(v, s.view, s.convention);
      this.values = new Float32Array(this.grid.width * this.grid.height);
      this.rgba = new ImageData(this.grid.width, this.grid.height);
      this.canvas.width = this.grid.width;
      this.canvas.height = this.grid.height;
      this.canvas.style.width = `${this.grid.width}px`;
      this.canvas.style.height = `${this.grid.height}px`;
      this.keyVolume = v;
      this.keyConvention = s.convention;
      this.keyView = s.view;
      this.keyDepth = NaN;
    }
    const grid = this.grid!;
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
      this.ctx.putImageData(this.rgba!, 0, 0);
      this.keyWindow = s.window;
      this.keyLevel = s.level;
      return performance.now() - t0;
    }
    return 0;
  }

  /** Places the plane (zoom, pan, fit) and the crosshairs; CSS transforms only. */
  place(cam: CameraState, cursor: Vec3, showCrosshair: boolean) {
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
    this.screen = { sx, sy, ox, oy };
    this.canvas.style.transform = `translate(${ox}px, ${oy}px) scale(${sx}, ${sy})`;
    // Magnified voxels stay crisp squares (ITK-SNAP's default); minified images are smoothed.
    this.canvas.style.imageRendering = sx >= 1 && sy >= 1 ? 'pixelated' : 'auto';

    const [c, r] = worldToGrid(grid, cursor);
    const x = Math.round(ox + (c + 0.5) * sx);
    const y = Math.round(oy + (r + 0.5) * sy);
    this.hLine.style.transform = `translateY(${y}px)`;
    this.vLine.style.transform = `translateX(${x}px)`;
    this.hLine.style.display = this.vLine.style.display = showCrosshair ? '' : 'none';
  }

  /** World point under a CSS pixel position of the view, on the current plane. */
  screenToWorld(x: number, y: number, cursor: Vec3): Vec3 | null {
    if (!this.grid) return null;
    const { sx, sy, ox, oy } = this.screen;
    return gridToWorld(this.grid, (x - ox) / sx - 0.5, (y - oy) / sy - 0.5, cursor);
  }
}
