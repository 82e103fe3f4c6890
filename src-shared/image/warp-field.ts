/**
 * Applying a displacement field to an image: out(x) = src(x + D(x)) on the field's grid.
 * The field is a vector volume (frames = 3, metadata.vectorComponents = 3) in Lattice's
 * displacement convention (README): RAS millimetres, mapping each point of the field's
 * (fixed) grid to its point in the source (moving) image — what the demons write and what
 * ITK/ANTs-style NRRD/MHA fields become when read (src-main/io/itk-image-io.ts turns their
 * LPS vectors into RAS). An optional pull-back 4×4 (LPS) is applied after the field, as
 * when a layer already carries an affine transform.
 */
import { z } from 'zod';
import type { Mat4, Vec3, Volume } from './volume';
import { throwIfAborted, type ProcessingOptions } from '../processing/progress';
import { gridIndexToWorld, gridWorldToIndex, mulMat4, sampleGrid, type Interpolation } from './resample';

export interface WarpFieldOptions {
  interpolation?: Interpolation;
  /** Value outside the source, in real units. */
  fill?: number;
  /** Pull-back LPS 4×4 applied to x + D(x) (source world → the source's own world). */
  worldTransform?: Mat4;
  onRow?(k: number, nz: number): void;
}

export function isDisplacementField(v: Volume): boolean {
  return v.frames === 3 && Number(v.metadata.vectorComponents) === 3;
}

/** Real values of `src` warped by `field`, on the field's grid (Float32). */
export function warpWithField(src: Volume, field: Volume, opts: WarpFieldOptions = {}): Float32Array {
  if (!isDisplacementField(field)) throw new Error(`the field must be a 3-component vector image (it has ${field.frames} volume${field.frames === 1 ? '' : 's'}${field.metadata.vectorComponents ? `, ${field.metadata.vectorComponents} components` : ''})`);
  const [nx, ny, nz] = field.dims;
  const n = nx * ny * nz;
  const out = new Float32Array(n);
  const i2w = gridIndexToWorld(field);
  const w2s = opts.worldTransform ? mulMat4(gridWorldToIndex(src), opts.worldTransform) : gridWorldToIndex(src);
  const fs = field.rescaleSlope || 1;
  const fi = field.rescaleIntercept || 0;
  const slope = src.rescaleSlope || 1;
  const icpt = src.rescaleIntercept || 0;
  const fill = ((opts.fill ?? 0) - icpt) / slope;
  const one = new Float32Array(1);
  // One-point index map, rewritten per voxel: sampleGrid then does the interpolation.
  const m: Mat4 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  const d = field.data;
  const p: Vec3 = [0, 0, 0];
  for (let k = 0, o = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, o++) {
        // x (LPS) + D (RAS → LPS: x and y negated).
        p[0] = i2w[0]! * i + i2w[1]! * j + i2w[2]! * k + i2w[3]! - (d[o]! * fs + fi);
        p[1] = i2w[4]! * i + i2w[5]! * j + i2w[6]! * k + i2w[7]! - (d[n + o]! * fs + fi);
        p[2] = i2w[8]! * i + i2w[9]! * j + i2w[10]! * k + i2w[11]! + (d[2 * n + o]! * fs + fi);
        m[3] = w2s[0]! * p[0] + w2s[1]! * p[1] + w2s[2]! * p[2] + w2s[3]!;
        m[7] = w2s[4]! * p[0] + w2s[5]! * p[1] + w2s[6]! * p[2] + w2s[7]!;
        m[11] = w2s[8]! * p[0] + w2s[9]! * p[1] + w2s[10]! * p[2] + w2s[11]!;
        sampleGrid({ src: src.data, srcDims: src.dims, indexMap: m, outDims: [1, 1, 1], out: one, interpolation: opts.interpolation ?? 'linear', fill, slope, intercept: icpt });
        out[o] = one[0]!;
      }
    opts.onRow?.(k, nz);
  }
  return out;
}

export const warpFieldParams = z.object({
  interpolation: z.enum(['linear', 'nearest']).default('linear'),
  fill: z.number().default(0),
  worldTransform: z.array(z.number().finite()).length(16).optional(),
});

/** The job kind's body: float32 result with the source's metadata (nearest keeps integer labels as they are). */
export function warpFieldJob(p: z.infer<typeof warpFieldParams>, [src, field]: Volume[], opts: ProcessingOptions): { volumes: Volume[] } {
  const data = warpWithField(src!, field!, {
    interpolation: p.interpolation,
    fill: p.fill,
    worldTransform: p.worldTransform as Mat4 | undefined,
    onRow: (k, nz) => {
      throwIfAborted(opts.signal);
      if (k % 8 === 0) opts.onProgress?.(k / nz, 'Applying the displacement field');
    },
  });
  const f = field!;
  const volume: Volume = {
    dims: [...f.dims] as Vec3,
    spacing: [...f.spacing] as Vec3,
    origin: [...f.origin] as Vec3,
    direction: [...f.direction] as Volume['direction'],
    data,
    voxelType: 'float32',
    frames: 1,
    rescaleSlope: 1,
    rescaleIntercept: 0,
    metadata: { ...src!.metadata, vectorComponents: null },
  };
  return { volumes: [volume] };
}
