/**
 * Synthetic test images for the registration tests: an analytic "phantom" P(world) sampled
 * on any grid, so fixed and moving are exact samples and a known transform is the truth.
 */
import type { ImageGeometry, Mat3, Mat4, Vec3, Volume } from '../src-shared/image/volume';
import { gridIndexToWorld, transformPoint4 } from '../src-shared/image/resample';

const deg = Math.PI / 180;

/** Rz(c)·Ry(b)·Rx(a) as a row-major 3×3. */
export function rotationMatrix(a: number, b: number, c: number): Mat3 {
  const ca = Math.cos(a), sa = Math.sin(a), cb = Math.cos(b), sb = Math.sin(b), cc = Math.cos(c), sc = Math.sin(c);
  return [
    cc * cb, cc * sb * sa - sc * ca, cc * sb * ca + sc * sa,
    sc * cb, sc * sb * sa + cc * ca, sc * sb * ca - cc * sa,
    -sb, cb * sa, cb * ca,
  ];
}

/** Rotation by angle t (radians) about the axis u (any length), row-major (Rodrigues). */
export function axisRotation(u: Vec3, t: number): Mat3 {
  const n = Math.hypot(...u);
  const [x, y, z] = u.map((c) => c / n);
  const c = Math.cos(t);
  const s = Math.sin(t);
  const C = 1 - c;
  return [c + x * x * C, x * y * C - z * s, x * z * C + y * s, y * x * C + z * s, c + y * y * C, y * z * C - x * s, z * x * C - y * s, z * y * C + x * s, c + z * z * C];
}

export function rigidMatrix(anglesDeg: Vec3, t: Vec3, centre: Vec3 = [0, 0, 0]): Mat4 {
  const R = rotationMatrix(anglesDeg[0] * deg, anglesDeg[1] * deg, anglesDeg[2] * deg);
  const off = [0, 1, 2].map((r) => t[r] + centre[r] - (R[r * 3] * centre[0] + R[r * 3 + 1] * centre[1] + R[r * 3 + 2] * centre[2]));
  return [R[0], R[1], R[2], off[0], R[3], R[4], R[5], off[1], R[6], R[7], R[8], off[2], 0, 0, 0, 1];
}

/** Smooth step 0→1 across a boundary at s = 0 (width ~1 mm). */
const step = (s: number) => 1 / (1 + Math.exp(-s / 0.7));

/** Tissue memberships of the phantom at an LPS point (body, lungs, spine, a bright organ, texture). */
function tissues(p: Vec3) {
  const [x, y, z] = p;
  const body = step(1 - Math.hypot(x / 70, y / 50, z / 90) ) ;
  const lungL = step(1 - Math.hypot((x - 30) / 22, (y + 5) / 25, (z - 10) / 45));
  const lungR = step(1 - Math.hypot((x + 32) / 20, (y + 5) / 26, (z - 5) / 40));
  const spine = step(1 - Math.hypot(x / 9, (y - 30) / 9, 0));
  const organ = step(1 - Math.hypot((x + 10) / 16, (y - 5) / 14, (z + 35) / 18));
  const blob = step(1 - Math.hypot((x - 15) / 7, (y + 18) / 6, (z + 20) / 8));
  const tex = Math.sin(x * 0.21) * Math.cos(y * 0.17) * Math.sin(z * 0.13 + 1);
  return { body, lung: Math.min(1, lungL + lungR), spine, organ, blob, tex };
}

/** CT-like intensities (HU). */
export function ctPhantom(p: Vec3): number {
  const t = tissues(p);
  let v = -1000 + t.body * (1040 + 25 * t.tex);
  v += t.body * (t.lung * -800 + t.spine * 650 + t.organ * 60 + t.blob * 150);
  return v;
}

/** PET-like intensities of the same anatomy: a different, non-monotonic mapping. */
export function petPhantom(p: Vec3): number {
  const t = tissues(p);
  return t.body * (1.5 + 0.2 * t.tex) + t.body * (t.lung * -1.2 + t.spine * 0.8 + t.organ * 6 + t.blob * 12);
}

export function sampleVolume(g: ImageGeometry, f: (p: Vec3) => number): Volume {
  const [nx, ny, nz] = g.dims;
  const data = new Float32Array(nx * ny * nz);
  const m = gridIndexToWorld(g);
  for (let k = 0, o = 0; k < nz; k++)
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, o++) data[o] = f(transformPoint4(m, [i, j, k]));
  return { ...g, dims: [...g.dims], data, voxelType: 'float32', frames: 1, rescaleSlope: 1, rescaleIntercept: 0, metadata: {} };
}

/** Grid centred on the world origin. */
export function centredGeometry(dims: Vec3, spacing: Vec3, direction: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1]): ImageGeometry {
  const g: ImageGeometry = { dims, spacing, origin: [0, 0, 0], direction };
  const c = transformPoint4(gridIndexToWorld(g), [(dims[0] - 1) / 2, (dims[1] - 1) / 2, (dims[2] - 1) / 2]);
  g.origin = [-c[0], -c[1], -c[2]];
  return g;
}

/** A smooth displacement u(x) (LPS mm): sum of Gaussian bumps, max about `amp` mm. */
export function bumpField(amp: number): (p: Vec3) => Vec3 {
  const bumps: Array<[Vec3, number, Vec3]> = [
    [[20, 0, -20], 30, [0.2, 0.3, -1]],
    [[-25, 5, 10], 28, [0.8, -0.4, 0.3]],
    [[0, -20, 30], 25, [-0.3, 0.9, 0.2]],
  ];
  return (p) => {
    const u: Vec3 = [0, 0, 0];
    for (const [c, s, v] of bumps) {
      const g = Math.exp(-((p[0] - c[0]) ** 2 + (p[1] - c[1]) ** 2 + (p[2] - c[2]) ** 2) / (2 * s * s));
      for (let a = 0; a < 3; a++) u[a] += amp * v[a] * g;
    }
    return u;
  };
}

export function msd(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}
