/**
 * Transform files in the Registration panel: load an ITK transform (.txt/.tfm/.mat/.h5) onto
 * the moving layer (its worldTransform, the same pull-back the manual and automatic
 * registration edit), save the current one as ITK .txt/.tfm/.mat/.h5, or apply a displacement
 * field image (NIfTI/NRRD/MHA vectors) to the moving layer, which adds the warped layer
 * (job 'processing.warpField' on the host, on the field's grid).
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { Mat4, Volume } from '../../src-shared/image/volume';
import { imageFormatOf } from '../../src-shared/image/file-formats';
import { layerTitle, useImagesStore } from './images';
import { useRegistrationStore } from './registration';

export interface TransformFileBackend {
  loadTransform(path: string): Promise<{ matrixLps: number[]; description: string }>;
  writeTransform(path: string, m: number[], overwrite: boolean): Promise<{ path: string; bytes: number }>;
  /** Opens an image file on the host (the field): its host id and voxels. */
  openImage(path: string): Promise<{ hostId: string; volume: Volume }>;
  startJob(kind: string, args: Record<string, unknown>, inputs: string[]): Promise<{ done: Promise<{ volumes: { id: string }[] }> }>;
  getVolume(id: string): Promise<Volume>;
  releaseVolumes(ids: string[]): Promise<unknown>;
}

const TRANSFORM = /\.(txt|tfm|mat|h5|hdf5)$/i;

export const useTransformFileStore = defineStore('transform-file', () => {
  const images = useImagesStore();
  const reg = useRegistrationStore();
  const busy = ref(false);
  const note = ref<string | null>(null);
  const error = ref<string | null>(null);
  let backend: TransformFileBackend | null = null;
  function setBackend(b: TransformFileBackend) {
    backend = b;
  }

  /** Loads `path` onto the moving layer: a transform file sets its transform, a field image adds the warped layer. */
  async function applyFile(path: string): Promise<boolean> {
    note.value = null;
    error.value = null;
    const p = path.trim();
    const l = reg.moving;
    if (!backend || !l) {
      error.value = !backend ? 'No connection to the Lattice host.' : 'Choose a moving image first.';
      return false;
    }
    const isField = !!imageFormatOf(p) && !TRANSFORM.test(p);
    if (!isField && !TRANSFORM.test(p)) {
      error.value = 'Give an ITK transform (.txt, .tfm, .mat, .h5) or a displacement field image (.nii, .nii.gz, .nrrd, .mha).';
      return false;
    }
    busy.value = true;
    try {
      if (!isField) {
        const r = await backend.loadTransform(p);
        images.updateLayer(l.id, { worldTransform: r.matrixLps as Mat4 });
        reg.selectMoving(l.id); // the panel's fields follow the new transform
        note.value = `Applied ${r.description} transform from ${p} to ${layerTitle(l)}.`;
        return true;
      }
      const field = await backend.openImage(p);
      try {
        if (field.volume.frames !== 3) throw new Error(`${p} is not a displacement field (a 3-component vector image)`);
        const input = await images.hostVolumeId(l.id);
        const job = await backend.startJob('processing.warpField', { interpolation: l.isLabel ? 'nearest' : 'linear', ...(l.worldTransform ? { worldTransform: [...l.worldTransform] } : {}) }, [input, field.hostId]);
        const out = (await job.done).volumes[0];
        if (!out) throw new Error('the job returned no image');
        const vol = await backend.getVolume(out.id);
        const name = p.split(/[\\/]/).pop()!;
        images.addLayer(vol, { role: 'additional', name: `${layerTitle(l)} · warped by ${name}`, hostId: out.id, isLabel: l.isLabel, modality: l.modality, colormap: l.colormap });
        note.value = `Warped ${layerTitle(l)} by the field ${p}: added as a layer.`;
        return true;
      } finally {
        void backend.releaseVolumes([field.hostId]).catch(() => undefined);
      }
    } catch (e) {
      error.value = `Loading ${p} failed: ${e instanceof Error ? e.message : String(e)}`;
      return false;
    } finally {
      busy.value = false;
    }
  }

  /** Saves the moving layer's transform as an ITK affine file (format by extension). */
  async function save(path: string, overwrite = false): Promise<boolean> {
    note.value = null;
    error.value = null;
    const p = path.trim();
    if (!backend) return (error.value = 'No connection to the Lattice host.'), false;
    if (!TRANSFORM.test(p)) return (error.value = 'Save the transform as .txt, .tfm, .mat or .h5.'), false;
    try {
      const r = await backend.writeTransform(p, [...reg.matrix], overwrite);
      note.value = `Saved the ITK transform to ${r.path}`;
      return true;
    } catch (e) {
      error.value = `Saving ${p} failed: ${e instanceof Error ? e.message : String(e)}`;
      return false;
    }
  }

  return { busy, note, error, setBackend, applyFile, save };
});
