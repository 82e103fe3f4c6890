// The bare NiiVue page of bench/viewer.bench.mjs (bundled locally with esbuild, no CDN): the
// same NIfTI file as Lattice, in the same headless Chromium. window.niivueOpen(url, mode) loads it
// ('multiplanar': axial/coronal/sagittal like Lattice's 2D views; 'render': NiiVue's 3D volume
// render) and resolves with the ms from the call to the first frame on screen (GPU finished:
// one pixel read back). window.niivueStep(dz) moves the crosshair one voxel through the axial
// slices (NiiVue redraws in moveCrosshairInVox).
import { Niivue } from '@niivue/niivue';

let nv = null;

window.niivueOpen = async (url, mode) => {
  const canvas = document.getElementById('gl');
  const t0 = performance.now();
  nv = new Niivue({ multiplanarShowRender: 0 /* NEVER: three 2D views, like Lattice's */, show3Dcrosshair: false, isResizeCanvas: true, logLevel: 'error', backColor: [0, 0, 0, 1] });
  await nv.attachToCanvas(canvas);
  nv.setSliceType(mode === 'render' ? nv.sliceTypeRender : nv.sliceTypeMultiplanar);
  await nv.loadVolumes([{ url, colormap: 'gray' }]);
  nv.drawScene();
  const gl = nv.gl;
  gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
  return performance.now() - t0;
};

window.niivueStep = (dz) => nv.moveCrosshairInVox(0, 0, dz);
window.niivueDrawMs = () => {
  const t = performance.now();
  nv.drawScene();
  const gl = nv.gl;
  gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
  return performance.now() - t;
};
