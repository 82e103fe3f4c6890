// vtk.js modules that ship without TypeScript declarations (used through their documented API).
declare module '@kitware/vtk.js/Filters/General/ImageMarchingCubes' {
  const m: { newInstance(init?: Record<string, unknown>): any };
  export default m;
}
declare module '@kitware/vtk.js/Filters/General/WindowedSincPolyDataFilter' {
  const m: { newInstance(init?: Record<string, unknown>): any };
  export default m;
}
declare module '@kitware/vtk.js/Filters/Core/PolyDataNormals' {
  const m: { newInstance(init?: Record<string, unknown>): any };
  export default m;
}
declare module '@kitware/vtk.js/Rendering/OpenGL/Profiles/Volume';
declare module '@kitware/vtk.js/Rendering/OpenGL/Profiles/Geometry';
