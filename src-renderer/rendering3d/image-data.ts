/**
 * A Lattice Volume as a vtkImageData (no copy of the voxels: the scalars view the volume's
 * array) with LPS world geometry; see geometry.ts for why the direction is transposed.
 */
import vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData';
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray';
import type { Volume } from '../../src-shared/image/volume';
import { imageDataParams } from './geometry';

export function toVtkImageData(vol: Volume, frame = 0) {
  const p = imageDataParams(vol, frame);
  const image = vtkImageData.newInstance();
  image.setDimensions(p.dimensions);
  image.setSpacing(p.spacing);
  image.setOrigin(p.origin);
  // vtk.js types this as a Float32Array mat3; it stores the numbers in a Float64Array.
  image.setDirection(p.direction as unknown as Float32Array);
  image.getPointData().setScalars(vtkDataArray.newInstance({ name: 'scalars', values: p.values, numberOfComponents: 1 }));
  return image;
}
