// The 3D view's geometry (src-renderer/rendering3d): a Lattice volume handed to vtk.js puts every
// voxel where Lattice says it is (oblique direction, anisotropic spacing), a layer's registration
// transform moves its actor to the display world, the coarse LOD copy keeps blocks centred on
// the same world points, and a mask's marching-cubes surface lands on the mask in world space.
import { describe, expect, it } from 'vitest';
import vtkActor from '@kitware/vtk.js/Rendering/Core/Actor';
import type { Mat3, Mat4, Vec3, Volume } from '../src-shared/image/volume';
import { indexToWorld } from '../src-shared/geometry/geometry';
import { mat4Invert, mat4TransformPoint } from '../src-shared/geometry/mat';
import { toVtkImageData } from '../src-renderer/rendering3d/image-data';
import { layerActorMatrix, realToStored, vtkDirection } from '../src-renderer/rendering3d/geometry';
import { downsampleVolume, lodFactors } from '../src-renderer/rendering3d/downsample';
import { labelSurface, labelSurfaces, labelValues } from '../src-renderer/rendering3d/surface';
import { colorMapTransfer, presetTransfer, asMip } from '../src-renderer/rendering3d/transfer-presets';
import { resolveColorMap } from '../src-renderer/colormaps';
import { axisRotation } from './registration-helpers';

function volumeOf(dims: Vec3, spacing: Vec3, origin: Vec3, direction: Mat3, value: (ijk: Vec3) => number, type: 'int16' | 'uint8' = 'int16'): Volume {
  const data = type === 'uint8' ? new Uint8Array(dims[0] * dims[1] * dims[2]) : new Int16Array(dims[0] * dims[1] * dims[2]);
  let o = 0;
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) data[o++] = value([i, j, k]);
  return { dims, spacing, origin, direction, data, voxelType: type, frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

const R = axisRotation([0.3, -1, 0.5], 0.4);
const vol = volumeOf([20, 16, 9], [0.8, 1.3, 3.1], [-40, 12.5, 7], R, ([i, j, k]) => i + 20 * j + 320 * k);

describe('vtkImageData from a Lattice volume', () => {
  it('maps voxel (i,j,k) to the same LPS point as Lattice (oblique, anisotropic)', () => {
    const img = toVtkImageData(vol);
    for (const ijk of [[0, 0, 0], [19, 0, 0], [0, 15, 0], [0, 0, 8], [7, 11, 5], [19, 15, 8]] as Vec3[]) {
      const a = img.indexToWorld(ijk, [0, 0, 0]);
      const b = indexToWorld(vol, ijk);
      for (let c = 0; c < 3; c++) expect(a[c]).toBeCloseTo(b[c], 9);
    }
    // The scalars are the volume's own array (no copy), read at voxel i + nx·j + nx·ny·k.
    expect(img.getPointData().getScalars().getData()).toBe(vol.data);
    const [ii, jj, kk] = [7, 11, 5];
    const w = indexToWorld(vol, [ii, jj, kk]);
    const back = img.worldToIndex(w, [0, 0, 0]);
    expect(back.map((x: number) => Math.round(x))).toEqual([ii, jj, kk]);
    expect(vol.data[ii + 20 * jj + 320 * kk]).toBe(ii + 20 * jj + 320 * kk);
  });

  it('direction is handed over column by column (the i axis first)', () => {
    const d = vtkDirection(R);
    expect([d[0], d[1], d[2]]).toEqual([R[0], R[3], R[6]]);
    expect([d[6], d[7], d[8]]).toEqual([R[2], R[5], R[8]]);
  });

  it('a layer actor with a registration transform shows its points where the pull-back sends them from', () => {
    // Pull-back T: display world → layer world (a rotation about a point plus a shift).
    const rot = axisRotation([1, 2, -0.5], 0.3);
    const T: Mat4 = [rot[0], rot[1], rot[2], 5, rot[3], rot[4], rot[5], -3, rot[6], rot[7], rot[8], 11, 0, 0, 0, 1];
    const actor = vtkActor.newInstance();
    actor.setUserMatrix(layerActorMatrix(T)! as unknown as Float32Array);
    const m = Array.from(actor.getMatrix() as ArrayLike<number>); // row-major (VTK convention)
    const layerPoint: Vec3 = [12, -7, 30];
    const shown = mat4TransformPoint(m, layerPoint);
    const expected = mat4TransformPoint(mat4Invert(T), layerPoint);
    for (let c = 0; c < 3; c++) expect(shown[c]).toBeCloseTo(expected[c], 9);
    // …and pulling the shown point back lands on the layer point again.
    const again = mat4TransformPoint(T, shown);
    for (let c = 0; c < 3; c++) expect(again[c]).toBeCloseTo(layerPoint[c], 9);
    expect(layerActorMatrix(undefined)).toBeNull();
  });

  it('real → stored values for transfer functions', () => {
    expect(realToStored({ rescaleSlope: 2, rescaleIntercept: -1024 }, 0)).toBe(512);
  });
});

describe('coarse copy for interaction (LOD)', () => {
  it('halves the largest axes until under budget', () => {
    expect(lodFactors([512, 512, 300], 2_500_000)).toEqual([4, 4, 2]);
    expect(lodFactors([64, 64, 30], 2_500_000)).toEqual([1, 1, 1]);
  });

  it('keeps each block centred on the world point of its source voxels, values are block means', () => {
    const small = downsampleVolume(vol, [2, 2, 3]);
    expect(small.dims).toEqual([10, 8, 3]);
    expect(small.spacing).toEqual([1.6, 2.6, 3.1 * 3]);
    // Block (I,J,K) covers source voxels 2I..2I+1, 2J..2J+1, 3K..3K+2: centre index (2I+0.5, 2J+0.5, 3K+1).
    for (const [I, J, K] of [[0, 0, 0], [4, 5, 2], [9, 7, 1]] as Vec3[]) {
      const a = indexToWorld(small, [I, J, K]);
      const b = indexToWorld(vol, [2 * I + 0.5, 2 * J + 0.5, 3 * K + 1]);
      for (let c = 0; c < 3; c++) expect(a[c]).toBeCloseTo(b[c], 9);
      // The value is linear in the index: its mean is the value at the centre index.
      expect(small.data[I + 10 * J + 80 * K]).toBe(Math.round(2 * I + 0.5 + 20 * (2 * J + 0.5) + 320 * (3 * K + 1)));
    }
  });
});

describe('mask surface (marching cubes + windowed sinc)', () => {
  // A ball of radius 9 mm in an oblique, anisotropic grid, label 3; a second label 5 elsewhere.
  const g = { dims: [40, 36, 24] as Vec3, spacing: [0.9, 1.1, 1.4] as Vec3, origin: [-30, -20, -25] as Vec3, direction: axisRotation([0.4, 1, 0.2], -0.35) };
  const centre = indexToWorld(g, [20, 18, 12]);
  const mask = volumeOf(g.dims, g.spacing, g.origin, g.direction, (ijk) => {
    const p = indexToWorld(g, ijk);
    if (Math.hypot(p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]) <= 9) return 3;
    return ijk[0] < 3 && ijk[1] < 3 && ijk[2] < 3 ? 5 : 0;
  }, 'uint8');

  it('finds the labels', () => {
    expect(labelValues(mask)).toEqual([3, 5]);
  });

  it('puts the smoothed surface on the ball in world space (centroid and radius)', () => {
    const s = labelSurface(mask, 3)!;
    expect(s.polys.length).toBeGreaterThan(300);
    const n = s.points.length / 3;
    let cx = 0, cy = 0, cz = 0;
    for (let p = 0; p < s.points.length; p += 3) {
      cx += s.points[p];
      cy += s.points[p + 1];
      cz += s.points[p + 2];
    }
    const c: Vec3 = [cx / n, cy / n, cz / n];
    for (let a = 0; a < 3; a++) expect(Math.abs(c[a] - centre[a])).toBeLessThan(0.5);
    const radii: number[] = [];
    for (let p = 0; p < s.points.length; p += 3) radii.push(Math.hypot(s.points[p] - centre[0], s.points[p + 1] - centre[1], s.points[p + 2] - centre[2]));
    const mean = radii.reduce((a, b) => a + b, 0) / radii.length;
    expect(Math.abs(mean - 9)).toBeLessThan(0.8);
    expect(Math.max(...radii) - Math.min(...radii)).toBeLessThan(3);
    expect(s.normals?.length).toBe(s.points.length);
  });

  it('closes a label that touches the image border and makes one mesh per label', () => {
    const all = labelSurfaces(mask);
    expect(all.map((m) => m.label)).toEqual([3, 5]);
    // Label 5 is the corner block 0..2: its surface reaches half a voxel beyond voxel 0.
    const corner = all[1];
    expect(corner.polys.length).toBeGreaterThan(0);
  });
});

describe('transfer functions', () => {
  it("a layer's colour map becomes nodes along its window", () => {
    const tf = colorMapTransfer(resolveColorMap('hot'), 200, 100);
    expect(tf.points[0].value).toBe(0);
    expect(tf.points[tf.points.length - 1].value).toBe(200);
    expect(tf.points[1].value).toBeCloseTo(75, 9);
    expect(tf.points[1].r).toBe(1);
  });
  it('presets are in real units (CT bone opaque above bone HU) and MIP is a MIP', () => {
    const bone = presetTransfer('ct-bone', [0, 1]);
    expect(bone.points.find((p) => p.value >= 600)!.a).toBeGreaterThan(0.5);
    expect(bone.points.find((p) => p.value <= -16 && p.value > -100)!.a).toBe(0);
    expect(presetTransfer('pet-hot-mip', [0, 10]).blend).toBe('mip');
    expect(asMip(bone, 400, 40).blend).toBe('mip');
  });
});
