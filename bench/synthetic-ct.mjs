// The 512×512×300 int16 synthetic CT of the processing benchmarks (processing*.bench.mjs).
export const NX = 512, NY = 512, NZ = Number(process.env.BENCH_NZ ?? 300);
export const N = NX * NY * NZ;

/** CT-like: air −1000 around an elliptic body (soft tissue ~40 HU), lungs, a spine, noise. */
export function syntheticCt() {
  const d = new Int16Array(N);
  let seed = 12345;
  const noise = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 41) - 20;
  for (let z = 0; z < NZ; z++) {
    for (let y = 0; y < NY; y++) {
      const base = (z * NY + y) * NX;
      for (let x = 0; x < NX; x++) {
        const bx = (x - 256) / 200, by = (y - 250) / 140;
        const body = bx * bx + by * by;
        let v = -1000;
        if (body < 1) {
          v = 40;
          const lx = (Math.abs(x - 256) - 90) / 60, ly = (y - 230) / 80;
          if (z > 60 && z < 240 && lx * lx + ly * ly < 1) v = -820;
          const sx = (x - 256) / 25, sy = (y - 340) / 25;
          if (sx * sx + sy * sy < 1) v = 700;
        } else if (y > 400 && y < 410 && x > 60 && x < 452) v = 200; // table
        d[base + x] = v + noise();
      }
    }
  }
  return { dims: [NX, NY, NZ], spacing: [0.9765625, 0.9765625, 2], origin: [-250, -250, -300], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data: d, voxelType: 'int16', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

