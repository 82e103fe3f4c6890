/**
 * The Registration panel's state (Tools → Registration): fixed = the main image, moving = any
 * other layer; a manual rigid transform edited through six numbers (and drags in the views),
 * automatic rigid/affine registration as a host job, and saving the transform.
 *
 * The moving layer's registration transform lives in the layer model (images store:
 * `worldTransform`, pull-back: fixed/display world → moving world). Every edit here writes
 * it at once; the views resample only the displayed planes, so the image moves live.
 *
 * Manual parameters (see ../registration/rigid.ts): translations in LPS mm and rotations in
 * degrees about the world L/P/S axes through the FIXED IMAGE'S CENTRE, saying how the moving
 * image moves on screen. They act on top of a `base` matrix: identity, or an automatic result
 * that is not rigid (affine); a rigid result is taken into the six numbers, so the user can go
 * on adjusting it by hand. Layer transform = base · pullBack(params).
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef, watch } from 'vue';
import type { Mat4, Vec3, Volume } from '../../src-shared/image/volume';
import { mat4Identity, mat4Invert, mat4Multiply } from '../../src-shared/geometry/mat';
import { formatItkAffine } from '../../src-shared/registration/itk-transform';
import { IDENTITY_PARAMS, type RigidParams, imageCentre, paramsFromPullBack, pullBackMatrix } from '../registration/rigid';
import { layerTitle, useImagesStore } from './images';

export interface RegistrationJob {
  done: Promise<{ volumes: { id: string; name?: string }[]; result?: Record<string, unknown> }>;
  cancel(): Promise<void>;
}

export interface RegistrationBackend {
  startJob(kind: string, args: Record<string, unknown>, inputs: string[], onProgress: (fraction: number | null, message: string) => void): Promise<RegistrationJob>;
  /** Frees host copies the store no longer needs (old resliced results). */
  releaseVolumes(ids: string[]): Promise<unknown>;
  /** Voxels of a host volume (a resliced result, to add it as a layer). */
  getVolume(id: string): Promise<Volume>;
  /** Writes text to a path on the host (IPC 'transform.save'), atomically. */
  saveText?(path: string, text: string, overwrite: boolean): Promise<{ path: string; bytes: number }>;
}

export type AutoKind = 'rigid' | 'affine';
export type AutoMetric = 'msd' | 'ncc' | 'mi';
export type CompareMode = 'moving' | 'fixed' | 'blend' | 'checker';

const IDENTITY: Mat4 = mat4Identity();

/** "metric 0.012345" in the job's progress message → the number. */
export function metricFromMessage(m: string): number | null {
  const r = /(?:metric|MSD)\s+(-?[0-9.eE+-]+)/.exec(m);
  return r ? Number(r[1]) : null;
}

/** A 4×4 as four text lines (the matrix file next to the ITK transform). */
export function formatMatrix4(m: Mat4): string {
  return [0, 1, 2, 3].map((r) => m.slice(r * 4, r * 4 + 4).map((v) => String(v)).join(' ')).join('\n') + '\n';
}

export const useRegistrationStore = defineStore('registration', () => {
  const images = useImagesStore();
  const open = ref(false);
  const movingId = ref<string | null>(null);
  const params = reactive<RigidParams>({ ...IDENTITY_PARAMS });
  const base = shallowRef<Mat4 | null>(null);
  const compare = ref<CompareMode>('moving');
  /** Side of the checkerboard's squares (mm). */
  const checkerMm = ref(16);
  /** Role/opacity of the moving layer before 'blend' made it an overlay. */
  let saved: { id: string; role: 'additional' | 'overlay'; opacity: number } | null = null;

  const autoKind = ref<AutoKind>('rigid');
  const autoMetric = ref<AutoMetric>('ncc');
  const running = ref<{ fraction: number | null; message: string; metric: number | null } | null>(null);
  const error = ref<string | null>(null);
  const note = ref<string | null>(null);
  /** Host id of the last automatic result's resliced moving image (on the fixed grid). */
  const reslicedHostId = ref<string | null>(null);
  let job: RegistrationJob | null = null;
  let backend: RegistrationBackend | null = null;
  function setBackend(b: RegistrationBackend) {
    backend = b;
  }

  const fixed = computed(() => images.main);
  const candidates = computed(() => images.images.filter((l) => l.role !== 'main'));
  const moving = computed(() => (movingId.value ? images.layer(movingId.value) ?? null : null));
  const centre = computed<Vec3>(() => (fixed.value ? imageCentre(fixed.value.volume) : [0, 0, 0]));
  /** The moving layer's current pull-back (identity when none). */
  const matrix = computed<Mat4>(() => moving.value?.worldTransform ?? IDENTITY);

  function openPanel() {
    open.value = true;
    if (!moving.value && candidates.value.length) selectMoving(candidates.value[candidates.value.length - 1].id);
  }

  /** Picks the moving layer; its existing transform is loaded into the fields. */
  function selectMoving(id: string | null) {
    restoreCompare();
    movingId.value = id;
    error.value = null;
    note.value = null;
    const l = id ? images.layer(id) : null;
    loadMatrix(l?.worldTransform ?? null);
    if (l) setCompare(compare.value);
  }

  function loadMatrix(m: Mat4 | null) {
    const p = m ? paramsFromPullBack(m, centre.value) : { ...IDENTITY_PARAMS };
    if (p) {
      Object.assign(params, p);
      base.value = null;
    } else {
      Object.assign(params, IDENTITY_PARAMS);
      base.value = m;
    }
  }

  /** Writes base · pullBack(params) to the moving layer. */
  function apply() {
    const l = moving.value;
    if (!l) return;
    const p = pullBackMatrix(params, centre.value);
    const m = base.value ? (p ? mat4Multiply(base.value, p) : base.value) : p;
    images.updateLayer(l.id, { worldTransform: m });
  }

  function setParam(key: keyof RigidParams, value: number) {
    if (!Number.isFinite(value)) return;
    params[key] = value;
    apply();
  }

  /** Adds to the translation (mm), e.g. from a drag in a view. */
  function translateBy(d: Vec3) {
    params.tx += d[0];
    params.ty += d[1];
    params.tz += d[2];
    apply();
  }

  /**
   * Rotates the moving image on screen by `degrees` about the axis `axis` (unit, world)
   * through the world point `p` (e.g. the cursor, in a drag): F' = Rot_p ∘ F, so the manual
   * pull-back becomes P · Rot_p⁻¹, and is written back into the six numbers.
   */
  function rotateAbout(axis: Vec3, degrees: number, p: Vec3) {
    if (!moving.value || !Number.isFinite(degrees) || degrees === 0) return;
    const rot = axisAngleAbout(axis, degrees, p);
    const P = pullBackMatrix(params, centre.value) ?? IDENTITY;
    const next = paramsFromPullBack(mat4Multiply(P, mat4Invert(rot)), centre.value);
    if (!next) return;
    Object.assign(params, next);
    apply();
  }

  function reset() {
    Object.assign(params, IDENTITY_PARAMS);
    base.value = null;
    apply();
  }

  /** How to judge the alignment: the moving image shown, the fixed one, or a 50 % blend. */
  function setCompare(mode: CompareMode) {
    compare.value = mode;
    const l = moving.value;
    if (!l) return;
    if (mode === 'blend' || mode === 'checker') {
      // Drawn over the fixed image as an overlay (the checkerboard: opaque squares).
      if (!saved || saved.id !== l.id) {
        saved = { id: l.id, role: l.role === 'overlay' ? 'overlay' : 'additional', opacity: l.opacity };
        if (images.shownId === l.id) images.setShown(null);
      }
      images.updateLayer(l.id, { role: 'overlay', opacity: mode === 'blend' ? 0.5 : 1, visible: true });
      return;
    }
    restoreCompare();
    const cur = moving.value!;
    if (mode === 'moving') {
      if (cur.role === 'overlay') images.updateLayer(cur.id, { visible: true });
      else images.setShown(cur.id);
    } else {
      images.setShown(null);
      if (cur.role === 'overlay') images.updateLayer(cur.id, { visible: false });
    }
  }

  function restoreCompare() {
    if (!saved) return;
    const l = images.layer(saved.id);
    if (l) images.updateLayer(l.id, { role: saved.role, opacity: saved.opacity });
    saved = null;
  }

  /** Automatic rigid/affine registration from the current transform; the result becomes the layer's transform. */
  async function runAutomatic(): Promise<boolean> {
    const f = fixed.value;
    const l = moving.value;
    error.value = null;
    note.value = null;
    if (!f || !l) {
      error.value = 'Choose a moving image first.';
      return false;
    }
    if (!backend) {
      error.value = 'No connection to the Lattice host.';
      return false;
    }
    if (running.value) return false;
    const label = `${autoKind.value === 'rigid' ? 'Rigid' : 'Affine'} registration of ${layerTitle(l)} to ${layerTitle(f)}`;
    running.value = { fraction: 0, message: 'Starting…', metric: null };
    let cancelled = false;
    const id = l.id;
    try {
      const inputs = await Promise.all([images.hostVolumeId(f.id), images.hostVolumeId(id)]);
      job = await backend.startJob(
        'registration.affine',
        { transform: autoKind.value, metric: autoMetric.value, initialMatrix: [...matrix.value] },
        inputs,
        (fraction, message) => {
          if (running.value) running.value = { fraction, message, metric: metricFromMessage(message) ?? running.value.metric };
        },
      );
      const stop = job;
      cancelHook = () => {
        cancelled = true;
        void stop.cancel();
      };
      const r = await job.done;
      const m = r.result?.matrixLps as number[] | undefined;
      if (!m || m.length !== 16) throw new Error('the job returned no matrix');
      if (!images.layer(id) || movingId.value !== id) throw new Error('the moving image changed while it ran; the result was dropped');
      images.updateLayer(id, { worldTransform: m as Mat4 });
      loadMatrix(m as Mat4);
      const old = reslicedHostId.value;
      reslicedHostId.value = r.volumes[0]?.id ?? null;
      if (old) void backend.releaseVolumes([old]).catch(() => undefined);
      const metrics = r.result?.metrics as { before?: number; after?: number } | undefined;
      note.value = metrics && typeof metrics.after === 'number' ? `${label}: metric ${fmt(metrics.before)} → ${fmt(metrics.after)}` : `${label}: done`;
      return true;
    } catch (e) {
      error.value = cancelled ? `${label}: cancelled.` : `${label} failed: ${e instanceof Error ? e.message : String(e)}`;
      return false;
    } finally {
      job = null;
      cancelHook = null;
      running.value = null;
    }
  }
  let cancelHook: (() => void) | null = null;

  /**
   * The moving image resliced on the fixed grid through its current transform (manual or
   * automatic; host job 'processing.resample' with the pull-back), added as an additional
   * image "… on fixed grid" — File ▸ Export layer saves it as NIfTI.
   */
  async function resliceToFixed(): Promise<string | null> {
    const f = fixed.value;
    const l = moving.value;
    error.value = null;
    note.value = null;
    if (!f || !l || !backend) {
      error.value = !backend ? 'No connection to the Lattice host.' : 'Choose a moving image first.';
      return null;
    }
    if (running.value) return null;
    const label = `Reslice ${layerTitle(l)} on the fixed grid`;
    running.value = { fraction: 0, message: 'Starting…', metric: null };
    let cancelled = false;
    try {
      const inputs = await Promise.all([images.hostVolumeId(l.id), images.hostVolumeId(f.id)]);
      const b = backend;
      job = await b.startJob(
        'processing.resample',
        { interpolation: l.isLabel ? 'nearest' : 'linear', fill: 0, worldTransform: [...matrix.value] },
        inputs,
        (fraction, message) => {
          if (running.value) running.value = { fraction, message, metric: null };
        },
      );
      const stop = job;
      cancelHook = () => {
        cancelled = true;
        void stop.cancel();
      };
      const r = await job.done;
      const hostId = r.volumes[0]?.id;
      if (!hostId) throw new Error('the job returned no image');
      const vol = await b.getVolume(hostId);
      const id = images.addLayer(vol, { role: l.role === 'overlay' ? 'overlay' : 'additional', name: `${layerTitle(l)} on fixed grid`, hostId, isLabel: l.isLabel, modality: l.modality, colormap: l.colormap });
      note.value = `${label}: added as a layer (File ▸ Export layer… saves it).`;
      return id;
    } catch (e) {
      error.value = cancelled ? `${label}: cancelled.` : `${label} failed: ${e instanceof Error ? e.message : String(e)}`;
      return null;
    } finally {
      job = null;
      cancelHook = null;
      running.value = null;
    }
  }
  function cancel() {
    cancelHook?.();
  }

  /** The transform as ITK text (AffineTransform_double_3_3, LPS) and as a 4×4 matrix. */
  function itkText(): string {
    return formatItkAffine(matrix.value);
  }
  function matrixText(): string {
    return formatMatrix4(matrix.value);
  }

  /**
   * Saves the transform at `path` on the host: 'itk' = ITK AffineTransform text (LPS, the
   * pull-back as ITK/Slicer/ITK-SNAP read it), 'matrix' = the 4×4 pull-back matrix (LPS).
   */
  async function saveTransform(path: string, format: 'itk' | 'matrix', overwrite = false): Promise<boolean> {
    error.value = null;
    note.value = null;
    if (!moving.value) {
      error.value = 'Choose a moving image first.';
      return false;
    }
    if (!backend?.saveText) {
      error.value = 'No connection to the Lattice host.';
      return false;
    }
    try {
      const r = await backend.saveText(path.trim(), format === 'itk' ? itkText() : matrixText(), overwrite);
      note.value = `Saved ${format === 'itk' ? 'the ITK transform' : 'the 4×4 matrix'} to ${r.path}`;
      return true;
    } catch (e) {
      error.value = `Saving the transform failed: ${e instanceof Error ? e.message : String(e)}`;
      return false;
    }
  }

  // Another main image: a new session.
  watch(
    () => images.main?.id ?? null,
    () => {
      saved = null;
      movingId.value = null;
      Object.assign(params, IDENTITY_PARAMS);
      base.value = null;
      reslicedHostId.value = null;
    },
  );
  // The moving layer was removed.
  watch(
    () => (movingId.value ? !!images.layer(movingId.value) : true),
    (ok) => {
      if (!ok) {
        saved = null;
        movingId.value = null;
      }
    },
  );

  return {
    open,
    movingId,
    params,
    base,
    compare,
    checkerMm,
    autoKind,
    autoMetric,
    running,
    error,
    note,
    reslicedHostId,
    fixed,
    candidates,
    moving,
    centre,
    matrix,
    setBackend,
    openPanel,
    selectMoving,
    setParam,
    translateBy,
    rotateAbout,
    reset,
    setCompare,
    runAutomatic,
    resliceToFixed,
    cancel,
    itkText,
    matrixText,
    saveTransform,
  };
});

/** Forward rotation by `degrees` about the unit axis `u` through `p` (Rodrigues), as a 4×4. */
export function axisAngleAbout(u: Vec3, degrees: number, p: Vec3): Mat4 {
  const n = Math.hypot(u[0], u[1], u[2]) || 1;
  const [x, y, z] = [u[0] / n, u[1] / n, u[2] / n];
  const t = (degrees * Math.PI) / 180;
  const c = Math.cos(t), s = Math.sin(t), C = 1 - c;
  const R = [c + x * x * C, x * y * C - z * s, x * z * C + y * s, y * x * C + z * s, c + y * y * C, y * z * C - x * s, z * x * C - y * s, z * y * C + x * s, c + z * z * C];
  const m: Mat4 = new Array(16).fill(0);
  for (let r = 0; r < 3; r++) {
    m[r * 4] = R[r * 3];
    m[r * 4 + 1] = R[r * 3 + 1];
    m[r * 4 + 2] = R[r * 3 + 2];
    m[r * 4 + 3] = p[r] - (R[r * 3] * p[0] + R[r * 3 + 1] * p[1] + R[r * 3 + 2] * p[2]);
  }
  m[15] = 1;
  return m;
}

function fmt(v: number | undefined): string {
  return typeof v === 'number' ? v.toPrecision(4) : '?';
}
