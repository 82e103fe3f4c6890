/// <reference path="./vtk-shims.d.ts" />
/**
 * The 3D view's vtk.js scene (WebGL2): the main image as a volume (composite with a preset or
 * the layer's colour map, or MIP), overlays as second volumes, label/mask layers as smoothed
 * surfaces, the three slice planes through the cursor, the cursor as a crosshair and a point,
 * an L/R/A/P/S/I orientation cube, trackball camera (left: rotate, middle or Shift+left: pan,
 * right or wheel: zoom), reset and the six standard views, and picking (a click on a surface
 * or on the visible volume moves the cursor there).
 *
 * The scene's world is Lattice's LPS mm (see geometry.ts). Only OpenGL implementations are
 * registered (no WebGPU profile) to keep the bundle small.
 *
 * Big volumes (level of detail, measured in bench/viewer.bench.mjs): above LOD_VOXELS the
 * scene also keeps a block-mean copy under LOD_VOXELS voxels (downsample.ts) as a second
 * vtkVolume. The copy is shown for the first frame and whenever the camera moves (vtk.js's
 * interactor animation), the full volume when the camera stops. Both 3D textures stay on the
 * GPU, so switching costs nothing; the full texture is uploaded once, right after the first
 * (coarse) frame is on screen.
 */
import '@kitware/vtk.js/Rendering/OpenGL/Profiles/Volume';
import '@kitware/vtk.js/Rendering/OpenGL/Profiles/Geometry';
import vtkRenderWindow from '@kitware/vtk.js/Rendering/Core/RenderWindow';
import vtkRenderer from '@kitware/vtk.js/Rendering/Core/Renderer';
import vtkOpenGLRenderWindow from '@kitware/vtk.js/Rendering/OpenGL/RenderWindow';
import vtkRenderWindowInteractor from '@kitware/vtk.js/Rendering/Core/RenderWindowInteractor';
import vtkInteractorStyleTrackballCamera from '@kitware/vtk.js/Interaction/Style/InteractorStyleTrackballCamera';
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray';
import vtkPolyData from '@kitware/vtk.js/Common/DataModel/PolyData';
import vtkVolume from '@kitware/vtk.js/Rendering/Core/Volume';
import vtkVolumeMapper from '@kitware/vtk.js/Rendering/Core/VolumeMapper';
import { BlendMode } from '@kitware/vtk.js/Rendering/Core/VolumeMapper/Constants';
import vtkColorTransferFunction from '@kitware/vtk.js/Rendering/Core/ColorTransferFunction';
import vtkPiecewiseFunction from '@kitware/vtk.js/Common/DataModel/PiecewiseFunction';
import vtkImageSlice from '@kitware/vtk.js/Rendering/Core/ImageSlice';
import vtkImageMapper from '@kitware/vtk.js/Rendering/Core/ImageMapper';
import { SlicingMode } from '@kitware/vtk.js/Rendering/Core/ImageMapper/Constants';
import vtkActor from '@kitware/vtk.js/Rendering/Core/Actor';
import vtkMapper from '@kitware/vtk.js/Rendering/Core/Mapper';
import vtkSphereSource from '@kitware/vtk.js/Filters/Sources/SphereSource';
import vtkAnnotatedCubeActor from '@kitware/vtk.js/Rendering/Core/AnnotatedCubeActor';
import vtkOrientationMarkerWidget from '@kitware/vtk.js/Interaction/Widgets/OrientationMarkerWidget';
import vtkCellPicker from '@kitware/vtk.js/Rendering/Core/CellPicker';
import type { Mat4, Vec3, Volume } from '../../src-shared/image/volume';
import { indexToWorld } from '../../src-shared/geometry/geometry';
import { toVtkImageData } from './image-data';
import { layerActorMatrix, realToStored, STANDARD_VIEWS, type Camera3D, type StandardView } from './geometry';
import type { TransferFunction } from './transfer-presets';
import { downsampleVolume, lodFactors } from './downsample';
import type { LabelMesh } from './surface';

/** Above this many voxels a coarse copy is kept for interaction (see the header). */
export const LOD_VOXELS = 8_000_000;
/** The coarse copy's budget. */
export const LOD_TARGET_VOXELS = 2_500_000;

export class WebGL2Unavailable extends Error {}

/** True when this browser can give a WebGL2 context (what the volume mapper needs). */
export function hasWebGL2(): boolean {
  try {
    const c = document.createElement('canvas');
    const gl = c.getContext('webgl2');
    const ok = !!gl;
    (gl?.getExtension('WEBGL_lose_context') as { loseContext(): void } | null)?.loseContext();
    return ok;
  } catch {
    return false;
  }
}

type AnyVtk = any;

interface VolumeEntry {
  source: Volume;
  frame: number;
  image: AnyVtk;
  actor: AnyVtk;
  mapper: AnyVtk;
  lod?: { actor: AnyVtk; mapper: AnyVtk; image: AnyVtk; factors: Vec3 };
  /** Full-resolution actor in the renderer yet (uploaded after the first coarse frame). */
  fullAdded: boolean;
}

export interface SurfaceLayerInput {
  id: string;
  meshes: LabelMesh[];
  /** RGB 0..1 per label value. */
  colorOf(label: number): [number, number, number];
  opacity: number;
  worldTransform?: Mat4;
}

export interface OverlayVolumeInput {
  id: string;
  volume: Volume;
  transfer: TransferFunction;
  opacity: number;
  worldTransform?: Mat4;
}

export class Scene3D {
  readonly renderWindow: AnyVtk;
  readonly renderer: AnyVtk;
  readonly glWindow: AnyVtk;
  readonly interactor: AnyVtk;
  private readonly marker: AnyVtk;
  private readonly picker: AnyVtk;
  private main: VolumeEntry | null = null;
  private sliceSource: Volume | null = null;
  private overlays = new Map<string, VolumeEntry & { key: string }>();
  private surfaces = new Map<string, { actors: AnyVtk[]; meshes: LabelMesh[] }>();
  private slices: AnyVtk[] = [];
  private sliceMappers: AnyVtk[] = [];
  private cursorActor: AnyVtk;
  private cursorPoint: AnyVtk;
  private cursorSphere: AnyVtk;
  private cursorLines: AnyVtk;
  private interacting = false;
  /** Coarse copy held for a while after a 2D cursor move (see holdCoarse). */
  private coarseHold = false;
  private holdTimer = 0;
  /** Show the coarse copy while the camera moves (off: always the full volume, once uploaded). */
  lodWhileMoving = true;
  private fullTimer = 0;
  /** Number of frames rendered, and the ms of the last one (for tests and the bench). */
  renders = 0;
  lastRenderMs = 0;
  onRender: (() => void) | null = null;

  constructor(private readonly container: HTMLElement) {
    if (!hasWebGL2()) throw new WebGL2Unavailable('WebGL2 is not available in this browser');
    this.renderWindow = vtkRenderWindow.newInstance();
    this.renderer = vtkRenderer.newInstance({ background: [0.04, 0.04, 0.05] });
    this.renderWindow.addRenderer(this.renderer);
    this.glWindow = vtkOpenGLRenderWindow.newInstance();
    this.renderWindow.addView(this.glWindow);
    this.glWindow.setContainer(container);
    const gl = this.glWindow.get3DContext();
    if (!gl || !(gl instanceof WebGL2RenderingContext)) throw new WebGL2Unavailable('WebGL2 is not available in this browser');
    this.interactor = vtkRenderWindowInteractor.newInstance();
    this.interactor.setView(this.glWindow);
    this.interactor.initialize();
    this.interactor.bindEvents(container);
    this.interactor.setInteractorStyle(vtkInteractorStyleTrackballCamera.newInstance());
    // Coarse copy while the camera moves, full volume when it stops.
    this.interactor.onStartAnimation(() => this.setInteracting(true));
    this.interactor.onEndAnimation(() => this.setInteracting(false));
    // Every frame, ours or the interactor's (camera drags render from its animation loop).
    this.renderWindow.setInteractor(this.interactor);
    this.interactor.onRenderEvent(() => {
      this.renders++;
      this.onRender?.();
    });

    // Orientation cube: faces named for the LPS axis they face.
    const cube = vtkAnnotatedCubeActor.newInstance();
    cube.setDefaultStyle({ text: '', faceColor: '#3b5b8c', fontColor: 'white', fontStyle: 'bold', edgeThickness: 0.08, edgeColor: 'black', resolution: 128 });
    // Face rotations of vtk.js's 'lps' preset keep the letters upright in the standard views.
    cube.setXPlusFaceProperty({ text: 'L', faceRotation: 90 });
    cube.setXMinusFaceProperty({ text: 'R', faceRotation: -90 });
    cube.setYPlusFaceProperty({ text: 'P', faceRotation: 180, faceColor: '#5b8c3b' });
    cube.setYMinusFaceProperty({ text: 'A', faceRotation: 0, faceColor: '#5b8c3b' });
    cube.setZPlusFaceProperty({ text: 'S', faceRotation: 0, faceColor: '#8c3b3b' });
    cube.setZMinusFaceProperty({ text: 'I', faceRotation: 180, faceColor: '#8c3b3b' });
    this.marker = vtkOrientationMarkerWidget.newInstance({ actor: cube, interactor: this.interactor });
    this.marker.setEnabled(true);
    this.marker.setViewportCorner(vtkOrientationMarkerWidget.Corners.BOTTOM_LEFT);
    this.marker.setViewportSize(0.18);
    this.marker.setMinPixelSize(60);
    this.marker.setMaxPixelSize(140);

    // Cursor: three lines through it along the main image's index axes, and a point.
    this.cursorLines = vtkPolyData.newInstance();
    const lm = vtkMapper.newInstance();
    lm.setInputData(this.cursorLines);
    this.cursorActor = vtkActor.newInstance();
    this.cursorActor.setMapper(lm);
    this.cursorActor.getProperty().setColor(1, 0.85, 0.2);
    this.cursorActor.getProperty().setLighting(false);
    this.cursorActor.getProperty().setLineWidth(2);
    this.cursorActor.setPickable(false);
    this.cursorSphere = vtkSphereSource.newInstance({ radius: 2, thetaResolution: 16, phiResolution: 16 });
    const sm = vtkMapper.newInstance();
    sm.setInputConnection(this.cursorSphere.getOutputPort());
    this.cursorPoint = vtkActor.newInstance();
    this.cursorPoint.setMapper(sm);
    this.cursorPoint.getProperty().setColor(1, 0.85, 0.2);
    this.cursorPoint.setPickable(false);

    this.picker = vtkCellPicker.newInstance();
    this.picker.setPickFromList(true);
    this.picker.setTolerance(0);
    this.picker.setOpacityThreshold(0.05);
  }

  private setInteracting(on: boolean) {
    this.interacting = on;
    this.applyLod();
  }

  /** Shows the coarse or the full volume (both stay on the GPU). */
  private applyLod() {
    const m = this.main;
    if (!m?.lod) return;
    const coarse = ((this.interacting || this.coarseHold) && this.lodWhileMoving) || !m.fullAdded;
    const visible = m.actor.getVisibility() || m.lod.actor.getVisibility();
    m.lod.actor.setVisibility(visible && coarse);
    m.actor.setVisibility(visible && !coarse);
  }

  private makeVolume(vol: Volume, frame: number): { image: AnyVtk; actor: AnyVtk; mapper: AnyVtk } {
    const image = toVtkImageData(vol, frame);
    const mapper = vtkVolumeMapper.newInstance();
    mapper.setInputData(image);
    // One sample per (finest) voxel along the ray; vtk.js caps the samples per ray and
    // coarsens the step while the camera moves (autoAdjustSampleDistances).
    mapper.setSampleDistance(Math.max(0.25, Math.min(...vol.spacing)));
    mapper.setMaximumSamplesPerRay(2000);
    mapper.setAutoAdjustSampleDistances(true);
    const actor = vtkVolume.newInstance();
    actor.setMapper(mapper);
    const prop = actor.getProperty();
    prop.setInterpolationTypeToLinear();
    prop.setScalarOpacityUnitDistance(0, Math.cbrt(vol.spacing[0] * vol.spacing[1] * vol.spacing[2]));
    prop.setAmbient(0.25);
    prop.setDiffuse(0.75);
    prop.setSpecular(0.25);
    prop.setSpecularPower(16);
    return { image, actor, mapper };
  }

  /** Sets (or replaces) the main image. Returns true when the volume changed. */
  setMain(vol: Volume | null, frame = 0): boolean {
    if (this.main && this.main.source === vol && this.main.frame === frame) return false;
    if (this.main) {
      this.renderer.removeVolume(this.main.actor);
      if (this.main.lod) this.renderer.removeVolume(this.main.lod.actor);
      this.main = null;
    }
    window.clearTimeout(this.fullTimer);
    if (!vol) return true;
    const full = this.makeVolume(vol, frame);
    const entry: VolumeEntry = { source: vol, frame, ...full, fullAdded: true };
    const n = vol.dims[0] * vol.dims[1] * vol.dims[2];
    if (n > LOD_VOXELS) {
      const factors = lodFactors(vol.dims, LOD_TARGET_VOXELS);
      const coarse = this.makeVolume(downsampleVolume(vol, factors, frame), 0);
      entry.lod = { ...coarse, factors };
      entry.fullAdded = false;
      this.renderer.addVolume(coarse.actor);
      // The full texture is uploaded by the first render after it joins the scene: do that
      // once the coarse first frame is on screen.
      this.fullTimer = window.setTimeout(() => {
        if (this.main !== entry) return;
        this.renderer.addVolume(entry.actor);
        entry.fullAdded = true;
        this.applyLod();
        this.render();
      }, 50);
    } else {
      this.renderer.addVolume(full.actor);
    }
    this.main = entry;
    const d = Math.hypot(...vol.dims.map((x, a) => x * vol.spacing[a]));
    this.cursorSphere.setRadius(Math.max(0.5, d * 0.008));
    this.applyLod();
    this.resetCamera();
    return true;
  }

  /**
   * The image whose index slices are drawn as the three planes and whose grid the cursor
   * lives on (the main image; the rendered volume may be another shown image).
   */
  setSliceSource(vol: Volume | null) {
    if (this.sliceSource === vol) return;
    for (const s of this.slices) this.renderer.removeActor(s);
    this.renderer.removeActor(this.cursorActor);
    this.renderer.removeActor(this.cursorPoint);
    this.slices = [];
    this.sliceMappers = [];
    this.sliceSource = vol;
    if (!vol) return;
    const image = toVtkImageData(vol, 0);
    for (const mode of [SlicingMode.I, SlicingMode.J, SlicingMode.K]) {
      const mapper = vtkImageMapper.newInstance();
      mapper.setInputData(image);
      mapper.setSlicingMode(mode);
      const slice = vtkImageSlice.newInstance();
      slice.setMapper(mapper);
      slice.getProperty().setInterpolationTypeToLinear();
      slice.setPickable(false);
      this.renderer.addActor(slice);
      this.slices.push(slice);
      this.sliceMappers.push(mapper);
    }
    this.renderer.addActor(this.cursorActor);
    this.renderer.addActor(this.cursorPoint);
  }

  /** Registration transform of the rendered volume (pull-back, as the layer's). */
  setMainTransform(worldTransform: Mat4 | undefined) {
    const m = this.main;
    if (!m) return;
    setUserMatrix(m.actor, worldTransform);
    if (m.lod) setUserMatrix(m.lod.actor, worldTransform);
  }

  /** Transfer function of the main volume (and its coarse copy). */
  setMainTransfer(tf: TransferFunction, visible: boolean) {
    const m = this.main;
    if (!m) return;
    for (const e of [m, m.lod].filter(Boolean) as { actor: AnyVtk; mapper: AnyVtk }[]) applyTransfer(e.actor, e.mapper, m.source, tf, 1);
    m.actor.setVisibility(visible);
    m.lod?.actor.setVisibility(visible);
    this.applyLod();
  }

  /** Slice planes at the cursor voxel; window/level in real values. */
  setSlices(cursor: Vec3, show: boolean, window: number, level: number) {
    const v = this.sliceSource;
    if (!v) return;
    const slope = v.rescaleSlope || 1;
    this.sliceMappers.forEach((mapper, a) => mapper.setSlice(cursor[a]));
    for (const s of this.slices) {
      s.setVisibility(show);
      s.getProperty().setColorWindow(window / Math.abs(slope));
      s.getProperty().setColorLevel(realToStored(v, level));
    }
  }

  /** Crosshair (three lines along the index axes through the cursor voxel) and the point. */
  setCursor(cursor: Vec3, show: boolean) {
    const v = this.sliceSource;
    if (!v) return;
    const pts: number[] = [];
    for (let a = 0; a < 3; a++) {
      const lo = [...cursor] as Vec3;
      const hi = [...cursor] as Vec3;
      lo[a] = -0.5;
      hi[a] = v.dims[a] - 0.5;
      pts.push(...indexToWorld(v, lo), ...indexToWorld(v, hi));
    }
    this.cursorLines.getPoints().setData(Float32Array.from(pts), 3);
    this.cursorLines.getLines().setData(Uint32Array.from([2, 0, 1, 2, 2, 3, 2, 4, 5]));
    this.cursorLines.modified();
    this.cursorSphere.setCenter(...indexToWorld(v, cursor));
    this.cursorActor.setVisibility(show);
    this.cursorPoint.setVisibility(show);
  }

  /** Overlay volumes (non-label overlays), by layer id. */
  setOverlayVolumes(list: OverlayVolumeInput[]) {
    const keep = new Set(list.map((o) => o.id));
    for (const [id, e] of this.overlays) {
      if (!keep.has(id) || list.find((o) => o.id === id)!.volume !== e.source) {
        this.renderer.removeVolume(e.actor);
        this.overlays.delete(id);
      }
    }
    for (const o of list) {
      let e = this.overlays.get(o.id);
      if (!e) {
        const made = this.makeVolume(o.volume, 0);
        e = { source: o.volume, frame: 0, ...made, fullAdded: true, key: '' };
        this.overlays.set(o.id, e);
        this.renderer.addVolume(made.actor);
      }
      applyTransfer(e.actor, e.mapper, o.volume, o.transfer, o.opacity);
      setUserMatrix(e.actor, o.worldTransform);
    }
  }

  /** Label/mask layers as surfaces, by layer id (meshes are replaced when their array changes). */
  setSurfaces(list: SurfaceLayerInput[]) {
    const keep = new Set(list.map((s) => s.id));
    for (const [id, e] of this.surfaces) {
      const next = list.find((s) => s.id === id);
      if (!keep.has(id) || next!.meshes !== e.meshes) {
        for (const a of e.actors) this.renderer.removeActor(a);
        this.surfaces.delete(id);
      }
    }
    for (const s of list) {
      let e = this.surfaces.get(s.id);
      if (!e) {
        e = { meshes: s.meshes, actors: s.meshes.map((m) => meshActor(m)) };
        for (const a of e.actors) this.renderer.addActor(a);
        this.surfaces.set(s.id, e);
      }
      e.actors.forEach((a, i) => {
        a.getProperty().setColor(...s.colorOf(s.meshes[i].label));
        a.getProperty().setOpacity(Math.max(0.05, s.opacity));
        setUserMatrix(a, s.worldTransform);
      });
    }
  }

  /** Camera looking at the whole scene from a standard side. */
  standardView(view: StandardView) {
    const cam = this.renderer.getActiveCamera();
    const fp = cam.getFocalPoint();
    const dist = cam.getDistance();
    const { toCamera, up } = STANDARD_VIEWS[view];
    // View-up first: it must never be parallel to the old view direction while the position moves.
    cam.setViewUp(...up);
    cam.setFocalPoint(...fp);
    cam.setPosition(fp[0] + toCamera[0] * dist, fp[1] + toCamera[1] * dist, fp[2] + toCamera[2] * dist);
    cam.setViewUp(...up);
    this.renderer.resetCamera();
    this.renderer.resetCameraClippingRange();
    this.render();
  }

  /** Anterior view, everything in frame. */
  resetCamera() {
    const cam = this.renderer.getActiveCamera();
    cam.setViewUp(0, 0, 1);
    cam.setFocalPoint(0, 0, 0);
    cam.setPosition(0, -1, 0);
    this.renderer.resetCamera();
    this.standardView('anterior');
  }

  /** The camera as it is now (for a workspace). */
  getCamera(): Camera3D {
    const c = this.renderer.getActiveCamera();
    const v3 = (a: ArrayLike<number>): Vec3 => [a[0], a[1], a[2]];
    return { position: v3(c.getPosition()), focalPoint: v3(c.getFocalPoint()), viewUp: v3(c.getViewUp()), viewAngle: c.getViewAngle() };
  }

  /** Puts the camera where `c` says (a workspace being opened); drawn by the next render(). */
  setCamera(c: Camera3D) {
    const cam = this.renderer.getActiveCamera();
    cam.setFocalPoint(...c.focalPoint);
    cam.setPosition(...c.position);
    cam.setViewUp(...c.viewUp);
    cam.setViewAngle(c.viewAngle);
  }

  /** Rotates the camera about the focal point (degrees), as a mouse drag would. */
  azimuth(deg: number) {
    this.renderer.getActiveCamera().azimuth(deg);
    this.renderer.resetCameraClippingRange();
    this.render();
  }

  /**
   * The world point (LPS) under a CSS pixel of the container, on a surface or on the visible
   * volume; null when nothing is there.
   */
  pick(x: number, y: number): Vec3 | null {
    const list: AnyVtk[] = [];
    for (const e of this.surfaces.values()) list.push(...e.actors);
    if (this.main) list.push(this.main.fullAdded ? this.main.actor : this.main.lod!.actor);
    if (!list.length) return null;
    this.picker.setPickList(list);
    const r = this.container.getBoundingClientRect();
    const [w, h] = this.glWindow.getSize();
    const px = (x / r.width) * w;
    const py = (1 - y / r.height) * h;
    this.picker.pick([px, py, 0], this.renderer);
    if (!this.picker.getActors().length) return null;
    const p = this.picker.getPickPosition();
    return [p[0], p[1], p[2]];
  }

  resize() {
    const r = this.container.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.floor(r.width * dpr));
    const h = Math.max(1, Math.floor(r.height * dpr));
    const [cw, ch] = this.glWindow.getSize();
    if (cw === w && ch === h) return;
    this.glWindow.setSize(w, h);
    this.marker.updateViewport?.();
    this.render();
  }

  render() {
    const t = performance.now();
    this.renderer.resetCameraClippingRange();
    this.renderWindow.render();
    this.lastRenderMs = performance.now() - t;
  }

  /** Waits for the GPU to finish the last frame (reads one pixel back), for timing. */
  finish() {
    const gl = this.glWindow.get3DContext() as WebGL2RenderingContext;
    const px = new Uint8Array(4);
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
  }

  /** Whether the full-resolution volume (not its coarse copy) is on screen. */
  get showingFull(): boolean {
    return !!this.main && this.main.fullAdded && (!(this.interacting || this.coarseHold) || !this.lodWhileMoving || !this.main.lod);
  }

  /**
   * The next frames (cursor moved in 2D) use the coarse copy; the full volume is drawn once
   * `ms` pass without another call.
   */
  holdCoarse(ms: number) {
    if (!this.main?.lod || !this.lodWhileMoving) return;
    this.coarseHold = true;
    this.applyLod();
    window.clearTimeout(this.holdTimer);
    this.holdTimer = window.setTimeout(() => {
      this.coarseHold = false;
      this.applyLod();
      this.render();
    }, ms);
  }

  setLodWhileMoving(on: boolean) {
    this.lodWhileMoving = on;
    this.applyLod();
  }

  get lodFactors(): Vec3 | null {
    return this.main?.lod?.factors ?? null;
  }

  dispose() {
    window.clearTimeout(this.fullTimer);
    window.clearTimeout(this.holdTimer);
    this.marker.setEnabled(false);
    this.interactor.unbindEvents();
    this.glWindow.setContainer(null);
    this.renderWindow.delete();
  }
}

function setUserMatrix(actor: AnyVtk, worldTransform: Mat4 | undefined) {
  const m = layerActorMatrix(worldTransform);
  actor.setUserMatrix(m ?? Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]));
}

function applyTransfer(actor: AnyVtk, mapper: AnyVtk, vol: Volume, tf: TransferFunction, opacity: number) {
  const ctf = vtkColorTransferFunction.newInstance();
  const pwf = vtkPiecewiseFunction.newInstance();
  for (const p of tf.points) {
    const s = realToStored(vol, p.value);
    ctf.addRGBPoint(s, p.r, p.g, p.b);
    pwf.addPoint(s, Math.min(1, Math.max(0, p.a * opacity)));
  }
  const prop = actor.getProperty();
  prop.setRGBTransferFunction(0, ctf);
  prop.setScalarOpacity(0, pwf);
  prop.setShade(tf.shade);
  mapper.setBlendMode(tf.blend === 'mip' ? BlendMode.MAXIMUM_INTENSITY_BLEND : BlendMode.COMPOSITE_BLEND);
}

function meshActor(m: LabelMesh): AnyVtk {
  const pd = vtkPolyData.newInstance();
  pd.getPoints().setData(m.points, 3);
  pd.getPolys().setData(m.polys);
  if (m.normals) pd.getPointData().setNormals(vtkDataArray.newInstance({ name: 'Normals', values: m.normals, numberOfComponents: 3 }));
  const mapper = vtkMapper.newInstance();
  mapper.setInputData(pd);
  mapper.setScalarVisibility(false);
  const actor = vtkActor.newInstance();
  actor.setMapper(mapper);
  actor.getProperty().setSpecular(0.3);
  actor.getProperty().setSpecularPower(20);
  return actor;
}
