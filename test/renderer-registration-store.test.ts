// The Registration panel's store: manual parameters write the moving layer's pull-back
// transform (live, through the images store), the cursor value follows; automatic
// registration sends the current transform as the job's initial matrix and takes the result;
// cancel; blend compare mode restores the layer's role.
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { Mat3, Mat4, Vec3, Volume } from '../src-shared/image/volume';
import { mat4TransformPoint } from '../src-shared/geometry/mat';
import { parseItkAffine } from '../src-shared/registration/itk-transform';
import { indexToWorld } from '../src-renderer/rendering/slice-geometry';
import { useImagesStore } from '../src-renderer/stores/images';
import { useRegistrationStore, metricFromMessage, axisAngleAbout, type RegistrationBackend } from '../src-renderer/stores/registration';
import { pullBackMatrix } from '../src-renderer/registration/rigid';
import { layerValueAt } from '../src-renderer/rendering/layer-plane';
import { runProcessingJob } from '../src-shared/processing/jobs';

const f = (p: Vec3) => 3 * p[0] - 2 * p[1] + 0.5 * p[2] + 7;
function vol(dims: Vec3, spacing: Vec3, origin: Vec3, direction: Mat3, value: (p: Vec3) => number): Volume {
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  const g = { dims, spacing, origin, direction };
  let o = 0;
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) data[o++] = value(indexToWorld(g, [i, j, k]));
  return { ...g, data, voxelType: 'float32', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}
const c = Math.cos(0.3), s = Math.sin(0.3);
const fixedVol = vol([20, 18, 10], [1, 1.2, 2.5], [-10, -10, -12], [c, -s, 0, s, c, 0, 0, 0, 1], () => 1);
const movingVol = vol([24, 24, 20], [1.1, 0.9, 1.4], [-14, -12, -14], [1, 0, 0, 0, 1, 0, 0, 0, 1], f);

describe('registration store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  function setup() {
    const images = useImagesStore();
    images.addLayer(fixedVol, { role: 'main', name: 'fixed', hostId: 'h-fixed' });
    const mid = images.addLayer(movingVol, { role: 'additional', name: 'moving', hostId: 'h-moving' });
    const reg = useRegistrationStore();
    reg.openPanel();
    return { images, reg, mid };
  }

  it('opening picks the other layer; a translation in the fields moves the layer and its cursor value as predicted', () => {
    const { images, reg, mid } = setup();
    expect(reg.movingId).toBe(mid);
    reg.setParam('tx', 4);
    reg.setParam('tz', -2.5);
    const M = images.layer(mid)!.worldTransform!;
    const x: Vec3 = [1, 2, 3];
    expect(mat4TransformPoint(M, x).map((v) => +v.toFixed(9))).toEqual([-3, 2, 5.5]);
    const v = layerValueAt(movingVol, x, 'linear', 0, M).value;
    expect(v).toBeCloseTo(f([-3, 2, 5.5]), 3);
    reg.reset();
    expect(images.layer(mid)!.worldTransform).toBeUndefined();
    // ITK text round-trips the matrix.
    reg.setParam('rz', 10);
    const back = parseItkAffine(reg.itkText());
    const cur = images.layer(mid)!.worldTransform!;
    for (let i = 0; i < 16; i++) expect(back[i]).toBeCloseTo(cur[i], 9);
  });

  it('automatic: sends the current transform and metric, takes the result as the layer transform and into the fields', async () => {
    const { images, reg, mid } = setup();
    reg.setParam('ty', 3);
    let seen: { kind: string; args: Record<string, unknown>; inputs: string[] } | null = null;
    const result = pullBackMatrix({ tx: 1, ty: 2, tz: -3, rx: 0, ry: 4, rz: 0 }, reg.centre)!;
    const backend: RegistrationBackend = {
      async startJob(kind, args, inputs, onProgress) {
        seen = { kind, args, inputs };
        onProgress(0.3, 'Affine level 1/3, iteration 4, metric -0.91234');
        expect(reg.running?.metric).toBeCloseTo(-0.91234, 5);
        return { done: Promise.resolve({ volumes: [{ id: 'h-warped' }], result: { matrixLps: result, metrics: { before: -0.5, after: -0.95 } } }), cancel: async () => undefined };
      },
      releaseVolumes: async () => undefined,
      getVolume: async () => movingVol,
    };
    reg.setBackend(backend);
    expect(await reg.runAutomatic()).toBe(true);
    expect(seen!.kind).toBe('registration.affine');
    expect(seen!.inputs).toEqual(['h-fixed', 'h-moving']);
    expect(seen!.args.transform).toBe('rigid');
    const init = seen!.args.initialMatrix as number[];
    expect(mat4TransformPoint(init as Mat4, [0, 0, 0]).map((v) => +v.toFixed(9))).toEqual([0, -3, 0]);
    expect(images.layer(mid)!.worldTransform).toEqual(result);
    expect(reg.params.tx).toBeCloseTo(1, 9);
    expect(reg.params.ry).toBeCloseTo(4, 9);
    expect(reg.reslicedHostId).toBe('h-warped');
    expect(reg.note).toContain('→');
    // Still adjustable by hand on top of the result.
    reg.setParam('tx', 2);
    const want = pullBackMatrix({ tx: 2, ty: 2, tz: -3, rx: 0, ry: 4, rz: 0 }, reg.centre)!;
    const got = images.layer(mid)!.worldTransform!;
    for (let i = 0; i < 16; i++) expect(got[i]).toBeCloseTo(want[i], 9);
  });

  it('cancel reports a cancelled job and leaves the transform', async () => {
    const { images, reg, mid } = setup();
    let reject: (e: Error) => void = () => undefined;
    reg.setBackend({
      startJob: async () => ({
        done: new Promise((_, rej) => (reject = rej)),
        cancel: async () => reject(Object.assign(new Error('cancelled'), { name: 'AbortError' })),
      }),
      releaseVolumes: async () => undefined,
      getVolume: async () => movingVol,
    });
    const p = reg.runAutomatic();
    await new Promise((r) => setTimeout(r, 0));
    expect(reg.running).not.toBeNull();
    reg.cancel();
    expect(await p).toBe(false);
    expect(reg.error).toContain('cancelled');
    expect(reg.running).toBeNull();
    expect(images.layer(mid)!.worldTransform).toBeUndefined();
  });

  it('rotation about a point (a drag about the cursor) keeps that point and turns the rest about it', () => {
    const { images, reg, mid } = setup();
    reg.setParam('tx', 3);
    const M0 = images.layer(mid)!.worldTransform!;
    const p: Vec3 = [4, -3, 2];
    const axis: Vec3 = [0.2, 0.3, 0.93];
    reg.rotateAbout(axis, 25, p);
    const M1 = images.layer(mid)!.worldTransform!;
    const a = mat4TransformPoint(M0, p);
    const b = mat4TransformPoint(M1, p);
    for (let i = 0; i < 3; i++) expect(b[i]).toBeCloseTo(a[i], 9);
    // What was drawn at q is now drawn at Rot_p(q).
    const q: Vec3 = [10, 5, -7];
    const rq = mat4TransformPoint(axisAngleAbout(axis, 25, p), q);
    const c1 = mat4TransformPoint(M1, rq);
    const c0 = mat4TransformPoint(M0, q);
    for (let i = 0; i < 3; i++) expect(c1[i]).toBeCloseTo(c0[i], 9);
    expect(Math.abs(reg.params.rz)).toBeGreaterThan(1);
  });

  it('reslice: processing.resample with the current pull-back on the fixed grid; the result becomes a layer whose voxels follow the transform', async () => {
    const { images, reg, mid } = setup();
    reg.setParam('tx', 2.5);
    reg.setParam('rz', 7);
    let sent: { kind: string; args: Record<string, unknown>; inputs: string[] } | null = null;
    let out: Volume | null = null;
    reg.setBackend({
      async startJob(kind, args, inputs) {
        sent = { kind, args, inputs };
        // The host's job, run here on the same volumes.
        out = runProcessingJob(kind, args, [movingVol, fixedVol]).volumes[0];
        return { done: Promise.resolve({ volumes: [{ id: 'h-resliced' }] }), cancel: async () => undefined };
      },
      releaseVolumes: async () => undefined,
      getVolume: async () => out!,
    });
    const id = await reg.resliceToFixed();
    expect(sent!.kind).toBe('processing.resample');
    expect(sent!.inputs).toEqual(['h-moving', 'h-fixed']);
    const M = images.layer(mid)!.worldTransform!;
    expect(sent!.args.worldTransform).toEqual(M);
    const l = images.layer(id!)!;
    expect(l.hostId).toBe('h-resliced');
    expect(l.volume.dims).toEqual(fixedVol.dims);
    // A voxel of the result = the moving image at M·(voxel's world point).
    for (const ijk of [[5, 6, 4], [12, 9, 6]] as Vec3[]) {
      const x = indexToWorld(fixedVol, ijk);
      const v = l.volume.data[ijk[0] + ijk[1] * fixedVol.dims[0] + ijk[2] * fixedVol.dims[0] * fixedVol.dims[1]] * l.volume.rescaleSlope + l.volume.rescaleIntercept;
      expect(v).toBeCloseTo(f(mat4TransformPoint(M, x)), 2);
    }
  });

  it('save: ITK text or the 4×4 matrix of the current transform goes to the host with the path; failures become a message', async () => {
    const { images, reg, mid } = setup();
    reg.setParam('ty', -4);
    const writes: { path: string; text: string; overwrite: boolean }[] = [];
    reg.setBackend({
      startJob: async () => { throw new Error('unused'); },
      releaseVolumes: async () => undefined,
      getVolume: async () => movingVol,
      async saveText(path, text, overwrite) {
        if (path.endsWith('.tfm')) throw new Error('transform.save: /x/t.tfm already exists');
        writes.push({ path, text, overwrite });
        return { path, bytes: text.length };
      },
    });
    expect(await reg.saveTransform(' /out/t.txt ', 'itk')).toBe(true);
    expect(writes[0].path).toBe('/out/t.txt');
    expect(writes[0].overwrite).toBe(false);
    const M = images.layer(mid)!.worldTransform!;
    const back = parseItkAffine(writes[0].text);
    for (let i = 0; i < 16; i++) expect(back[i]).toBeCloseTo(M[i], 12);
    expect(await reg.saveTransform('/out/m.txt', 'matrix', true)).toBe(true);
    expect(writes[1].overwrite).toBe(true);
    const mat = writes[1].text.trim().split(/\s+/).map(Number);
    expect(mat.length).toBe(16);
    for (let i = 0; i < 16; i++) expect(mat[i]).toBeCloseTo(M[i], 12);
    expect(await reg.saveTransform('/x/t.tfm', 'itk')).toBe(false);
    expect(reg.error).toContain('already exists');
  });

  it('blend makes the moving image a 50 % overlay; another mode restores it', () => {
    const { images, reg, mid } = setup();
    reg.setCompare('blend');
    expect(images.layer(mid)!.role).toBe('overlay');
    expect(images.layer(mid)!.opacity).toBe(0.5);
    reg.setCompare('checker');
    expect(images.layer(mid)!.role).toBe('overlay');
    expect(images.layer(mid)!.opacity).toBe(1);
    reg.setCompare('moving');
    expect(images.layer(mid)!.role).toBe('additional');
    expect(images.layer(mid)!.opacity).toBe(1);
    expect(images.shown?.id).toBe(mid);
    reg.setCompare('fixed');
    expect(images.shown?.id).toBe(images.main!.id);
    expect(metricFromMessage('Demons level 1/3, iteration 2, MSD 12.5')).toBe(12.5);
  });
});
