/**
 * Deformable (demons) registration in the app: the parameter form, the running job with its
 * live picture, and the results.
 *
 * Fixed = the main image, moving = the Registration panel's moving layer (stores/
 * registration.ts), started from its current transform (manual or automatic) as the
 * demons' initial transform. The host job 'registration.demons' sends a DemonsPreview (one
 * fixed-grid slice through the cursor: source, target, warped, displacement, update,
 * Jacobian, and the MSD of every iteration) a few times a second; the live view
 * (components/DemonsLiveView.vue) draws it in three panes and a plot.
 *
 * Cancel keeps the last good result (the job stops early and finishes with the field it
 * has); Abort drops it. Results: the warped image (additional image), the Jacobian
 * determinant (overlay, Blue-Clear-Red centred on 1, hidden until asked for), the difference
 * warped − fixed (additional image, Blue-White-Red centred on 0); the displacement field stays
 * on the host (it is 3× the image) and is saved from there, like the warped image.
 * step('source' | 'target' | 'warped') and setDeformation('grid' | 'jacobian') switch what
 * the views and the live panes show (keys S, T, W and G, J in the live view).
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef, watch } from 'vue';
import type { Mat4, Volume } from '../../src-shared/image/volume';
import { mat4Identity } from '../../src-shared/geometry/mat';
import { isDemonsPreview, type DemonsPreview } from '../../src-shared/registration/preview';
import { DEMONS_FORM_DEFAULTS, parseIterations, type DemonsForce } from '../../src-shared/registration/demons-form';
import { axialVoxelAxis } from '../registration/pane-layout';
import { formatMsd, levelMsdLabel, msdByLevel } from '../registration/demons-draw';
import { percentileRange, quantileRange } from '../rendering/slice-extract';
import { layerTitle, useImagesStore } from './images';
import { useRegistrationStore } from './registration';
import { imageFormatOf } from '../../src-shared/image/file-formats';
import { useViewStore } from './view';
import { useLayerUiStore, type SaveProgressFn } from './layer-ui';

export interface DemonsJob {
  done: Promise<{ volumes: { id: string; name?: string }[]; result?: Record<string, unknown> }>;
  cancel(keep?: boolean): Promise<void>;
}

export interface DemonsBackend {
  startJob(
    kind: string,
    args: Record<string, unknown>,
    inputs: string[],
    on: { onProgress: (fraction: number | null, message: string) => void; onPreview: (p: Record<string, unknown>) => void },
  ): Promise<DemonsJob>;
  getVolume(id: string): Promise<Volume>;
  releaseVolumes(ids: string[]): Promise<unknown>;
  /** Writes a host volume as NIfTI (.nii / .nii.gz), atomically. */
  exportVolume(hostId: string, path: string, overwrite: boolean, onProgress?: SaveProgressFn): Promise<{ path: string; bytes: number }>;
}

export type ImagePane = 'source' | 'target' | 'warped';
export type DeformationPane = 'grid' | 'jacobian';

export interface DemonsResult {
  warpedId: string;
  jacobianId: string;
  differenceId: string;
  /** Host ids (for saving): the warped image and the displacement field (RAS mm, 3 frames). */
  warpedHostId: string;
  fieldHostId: string;
  stoppedEarly: boolean;
  metrics: { msdBefore?: number; msdAfter?: number; nccBefore?: number; nccAfter?: number; negativeJacobianFraction?: number; minJacobian?: number; maxJacobian?: number; seconds?: number };
}

const IDENTITY: Mat4 = mat4Identity();
const isIdentity = (m: Mat4) => m.every((v, i) => Math.abs(v - IDENTITY[i]) < 1e-12);

export const useDemonsStore = defineStore('demons', () => {
  const images = useImagesStore();
  const reg = useRegistrationStore();
  const view = useViewStore();

  const form = reactive({
    levels: DEMONS_FORM_DEFAULTS.levels,
    iterations: DEMONS_FORM_DEFAULTS.iterations.join(', '),
    sigmaFluid: DEMONS_FORM_DEFAULTS.sigmaFluid,
    sigmaElastic: DEMONS_FORM_DEFAULTS.sigmaElastic,
    diffeomorphic: DEMONS_FORM_DEFAULTS.diffeomorphic,
    force: DEMONS_FORM_DEFAULTS.force as DemonsForce,
    stopOnPlateau: DEMONS_FORM_DEFAULTS.stopOnPlateau,
    /**
     * Live view: the job sends a picture of one slice every `previewMs`. Costs ~10–20 % of
     * the run's time on a 2-core machine (npm run bench -- demons-live); off = fastest.
     */
    live: true,
    previewMs: 200,
  });

  const running = ref<{ fraction: number | null; message: string } | null>(null);
  /** The last live picture (kept after the run: the panes then show the final state). */
  const preview = shallowRef<DemonsPreview | null>(null);
  /** Previews received in this run (the live panes' frame counter). */
  const previews = ref(0);
  /** Display range of the image panes: from the fixed plane of the current level. */
  const imageRange = ref<[number, number]>([0, 1]);
  const result = shallowRef<DemonsResult | null>(null);
  const error = ref<string | null>(null);
  const note = ref<string | null>(null);
  const imagePane = ref<ImagePane>('warped');
  const deformation = ref<DeformationPane>('grid');
  /** The live view is shown (in the views' fourth cell) once a run started. */
  const liveOpen = ref(false);

  let backend: DemonsBackend | null = null;
  function setBackend(b: DemonsBackend) {
    backend = b;
  }
  let job: DemonsJob | null = null;
  let stopMode: 'keep' | 'discard' | null = null;
  let rangeLevel = -1;

  const canRun = computed(() => !!reg.fixed && !!reg.moving && !running.value && !reg.running);

  function onPreview(p: Record<string, unknown>) {
    if (!isDemonsPreview(p)) return;
    if (p.level !== rangeLevel) {
      rangeLevel = p.level;
      imageRange.value = quantileRange(new Float32Array(p.fixed), 0.01, 0.99);
    }
    preview.value = p;
    previews.value++;
  }

  /** Runs the demons from the moving layer's current transform. Resolves true when a result arrived. */
  async function run(): Promise<boolean> {
    error.value = null;
    note.value = null;
    const f = reg.fixed;
    const l = reg.moving;
    if (!f || !l) {
      error.value = 'Choose a moving image first.';
      return false;
    }
    if (!backend) {
      error.value = 'No connection to the Lattice host.';
      return false;
    }
    if (running.value) return false;
    const levels = Math.round(Number(form.levels));
    if (!Number.isInteger(levels) || levels < 1 || levels > 6) {
      error.value = 'Levels: a whole number from 1 to 6.';
      return false;
    }
    const its = parseIterations(form.iterations, levels);
    if (typeof its === 'string') {
      error.value = its;
      return false;
    }
    for (const [k, v] of [['Sigma fluid', form.sigmaFluid], ['Sigma elastic', form.sigmaElastic]] as const) {
      if (!(Number.isFinite(Number(v)) && Number(v) >= 0 && Number(v) <= 20)) {
        error.value = `${k}: a number of voxels from 0 to 20.`;
        return false;
      }
    }
    const m = l.worldTransform ?? IDENTITY;
    const axis = axialVoxelAxis(f.volume.direction);
    const label = `Demons registration of ${layerTitle(l)} to ${layerTitle(f)}`;
    const args: Record<string, unknown> = {
      levels,
      iterations: its,
      sigmaFluid: Number(form.sigmaFluid),
      sigmaElastic: Number(form.sigmaElastic),
      diffeomorphic: form.diffeomorphic,
      force: form.force,
      stopOnPlateau: form.stopOnPlateau,
      ...(form.live ? { preview: { axis, index: Math.round(view.cursor[axis]), intervalMs: form.previewMs } } : {}),
      ...(isIdentity(m) ? {} : { initialTransform: [...m] }),
    };
    running.value = { fraction: 0, message: 'Starting…' };
    preview.value = null;
    previews.value = 0;
    rangeLevel = -1;
    liveOpen.value = form.live;
    stopMode = null;
    const movingId = l.id;
    try {
      const inputs = await Promise.all([images.hostVolumeId(f.id), images.hostVolumeId(l.id)]);
      job = await backend.startJob('registration.demons', args, inputs, {
        onProgress: (fraction, message) => {
          if (running.value) running.value = { fraction, message };
        },
        onPreview,
      });
      if (stopMode) void job.cancel(stopMode === 'keep');
      const r = await job.done;
      const [warped, field, jacobian, difference] = r.volumes;
      if (!warped || !field || !jacobian || !difference) throw new Error(`the job returned ${r.volumes.length} volumes, expected 4`);
      if (!images.layer(movingId) || images.main?.id !== f.id) {
        void backend.releaseVolumes(r.volumes.map((v) => v.id)).catch(() => undefined);
        throw new Error('the images changed while it ran; the result was dropped');
      }
      await addResults(l.id, { warped: warped.id, field: field.id, jacobian: jacobian.id, difference: difference.id }, r.result ?? {});
      const mt = result.value!.metrics;
      const stopped = result.value!.stoppedEarly ? ' (stopped early; the result so far was kept)' : '';
      // Two kinds of MSD, each named: the result's (full resolution, original images) and the
      // live plot's (per iteration on each level's smoothed, downsampled grid), which differ.
      // (Set by onPreview while the job ran: TypeScript does not see that.)
      const q = preview.value as DemonsPreview | null;
      const plotted = q ? `; plotted per level (on its grid): ${msdByLevel(q.history).map((x) => levelMsdLabel(x, q.levels)).join(', ')}` : '';
      note.value = `${label}${stopped}: full-resolution MSD ${formatMsd(mt.msdBefore)} → ${formatMsd(mt.msdAfter)}${plotted}; Jacobian ${fmt(mt.minJacobian)} … ${fmt(mt.maxJacobian)}`;
      return true;
    } catch (e) {
      error.value = stopMode === 'discard' ? `${label}: aborted, nothing kept.` : `${label} failed: ${e instanceof Error ? e.message : String(e)}`;
      return false;
    } finally {
      job = null;
      running.value = null;
    }
  }

  async function addResults(movingLayerId: string, ids: { warped: string; field: string; jacobian: string; difference: string }, values: Record<string, unknown>) {
    const b = backend!;
    const moving = images.layer(movingLayerId)!;
    const title = layerTitle(moving);
    const [wv, jv, dv] = await Promise.all([b.getVolume(ids.warped), b.getVolume(ids.jacobian), b.getVolume(ids.difference)]);
    const [mw, ml] = images.contrastOf(movingLayerId);
    const warpedId = images.addLayer(wv, { role: 'additional', name: `${title} · demons warped`, hostId: ids.warped, modality: moving.modality, units: moving.units, window: mw, level: ml, colormap: 'grayscale' });
    // Jacobian centred on 1 (see-through where the volume is kept), blue = compression, red =
    // expansion; the window spans the run's largest departure from 1 (at most 0 … 2).
    const m = (values.metrics ?? {}) as DemonsResult['metrics'];
    const dev = Math.max(Math.abs(1 - (m.minJacobian ?? 0.5)), Math.abs((m.maxJacobian ?? 1.5) - 1));
    const jw = Math.min(2, Math.max(0.05, 2 * (Number.isFinite(dev) ? dev : 0.5)));
    const jacobianId = images.addLayer(jv, { role: 'overlay', name: `${title} · Jacobian determinant`, hostId: ids.jacobian, colormap: 'bcr', window: jw, level: 1, opacity: 0.8, isLabel: false, visible: false });
    const [lo, hi] = percentileRange(dv);
    const w = 2 * Math.max(Math.abs(lo), Math.abs(hi), 1e-6);
    const differenceId = images.addLayer(dv, { role: 'additional', name: `${title} · difference (warped − fixed)`, hostId: ids.difference, colormap: 'bwr', window: w, level: 0, isLabel: false });
    const old = result.value;
    result.value = {
      warpedId,
      jacobianId,
      differenceId,
      warpedHostId: ids.warped,
      fieldHostId: ids.field,
      stoppedEarly: values.stoppedEarly === true,
      metrics: (values.metrics ?? {}) as DemonsResult['metrics'],
    };
    // The previous run's field lives only on the host: free it (its layers stay until removed).
    if (old && old.fieldHostId !== ids.field) void b.releaseVolumes([old.fieldHostId]).catch(() => undefined);
    step('warped');
    setDeformation(deformation.value);
  }

  /** Cancel keeping the result so far (the job finishes early); `discard`: drop it. */
  function cancel(discard = false) {
    if (!running.value) return;
    stopMode = discard ? 'discard' : 'keep';
    running.value = { ...running.value, message: discard ? 'Aborting…' : 'Stopping: finishing with the result so far…' };
    if (job) void job.cancel(!discard);
  }

  /** Shows the source (moving, before the demons), the target (fixed) or the warped image in the views and the live pane. */
  function step(which: ImagePane) {
    imagePane.value = which;
    const mv = reg.moving;
    const warped = result.value ? images.layer(result.value.warpedId) : undefined;
    if (which === 'warped' && warped) {
      images.setShown(warped.role === 'overlay' ? null : warped.id);
      if (mv?.role === 'overlay') images.updateLayer(mv.id, { visible: false });
    } else if (which === 'source' && mv) {
      if (mv.role === 'overlay') {
        images.updateLayer(mv.id, { visible: true });
        images.setShown(null);
      } else images.setShown(mv.id);
    } else if (which === 'target') {
      images.setShown(null);
      if (mv?.role === 'overlay') images.updateLayer(mv.id, { visible: false });
    }
  }

  /** The deformation pane shows the grid or the Jacobian; the views show the Jacobian overlay with it. */
  function setDeformation(which: DeformationPane) {
    deformation.value = which;
    const j = result.value ? images.layer(result.value.jacobianId) : undefined;
    if (j) images.updateLayer(j.id, { visible: which === 'jacobian' });
  }

  /** Saves the warped image or the displacement field (RAS mm vectors, 5D NIfTI) on the host. */
  async function save(what: 'warped' | 'field', path: string, overwrite = false): Promise<boolean> {
    error.value = null;
    note.value = null;
    const r = result.value;
    if (!r || !backend) {
      error.value = 'Run the demons registration first.';
      return false;
    }
    const p = path.trim();
    // The field is a vector image: NIfTI, NRRD, MHA (and VTK) hold vectors; pictures (PNG, …) only the warped image.
    const f = imageFormatOf(p);
    if (!f?.writable || (what === 'field' && f.planar)) {
      error.value = what === 'field' ? 'Save the field as .nii, .nii.gz, .nrrd or .mha.' : 'Save as .nii, .nii.gz, .nrrd, .mha (or .png / .tif for a 2D image).';
      return false;
    }
    try {
      const b = backend;
      const hostId = what === 'warped' ? r.warpedHostId : r.fieldHostId;
      // The field is 3× the image (287 MB for a chest CT): the status area shows how far it is.
      const out = await useLayerUiStore().trackSave(`Saving the ${what === 'warped' ? 'warped image' : 'displacement field'}…`, (onProgress) => b.exportVolume(hostId, p, overwrite, onProgress));
      note.value = `Saved the ${what === 'warped' ? 'warped image' : 'displacement field'} to ${out.path}`;
      return true;
    } catch (e) {
      error.value = `Saving the ${what === 'warped' ? 'warped image' : 'displacement field'} failed: ${e instanceof Error ? e.message : String(e)}`;
      return false;
    }
  }

  // A new main image: a new session.
  watch(
    () => images.main?.id ?? null,
    () => {
      if (running.value) cancel(true);
      result.value = null;
      preview.value = null;
      liveOpen.value = false;
      note.value = null;
      error.value = null;
    },
  );

  return {
    form,
    running,
    preview,
    previews,
    imageRange,
    result,
    error,
    note,
    imagePane,
    deformation,
    liveOpen,
    canRun,
    setBackend,
    run,
    cancel,
    step,
    setDeformation,
    save,
  };
});

function fmt(v: number | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toPrecision(4) : '?';
}
