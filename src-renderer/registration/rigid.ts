/**
 * Manual rigid transform of a moving layer, as the Registration panel edits it.
 *
 * Parameters say how the MOVING IMAGE moves on screen: translations t (LPS mm) and rotations
 * (degrees) about the world x, y, z axes, R = Rz·Ry·Rx, about a fixed centre c (the fixed image's
 * centre, so the numbers do not change meaning when the cursor moves). The moving content at
 * its own world point y is drawn at F(y) = R(y − c) + c + t.
 *
 * The layer model stores the PULL-BACK (display/fixed world → moving world), the convention
 * of the engine and of resampleToGeometry's worldTransform: M = F⁻¹, x ↦ Rᵀ(x − c − t) + c.
 */
import type { Mat4, Vec3, ImageGeometry } from '../../src-shared/image/volume';
import { mat4Invert, mat4TransformPoint } from '../../src-shared/geometry/mat';

export interface RigidParams {
  /** mm, LPS. */
  tx: number;
  ty: number;
  tz: number;
  /** degrees about the world L, P, S axes. */
  rx: number;
  ry: number;
  rz: number;
}

export const IDENTITY_PARAMS: RigidParams = { tx: 0, ty: 0, tz: 0, rx: 0, ry: 0, rz: 0 };

/** Row-major 3×3 R = Rz·Ry·Rx (angles in degrees). */
export function rotationMatrix(rx: number, ry: number, rz: number): number[] {
  const [a, b, g] = [rx, ry, rz].map((d) => (d * Math.PI) / 180);
  const [ca, sa, cb, sb, cg, sg] = [Math.cos(a), Math.sin(a), Math.cos(b), Math.sin(b), Math.cos(g), Math.sin(g)];
  return [
    cg * cb, cg * sb * sa - sg * ca, cg * sb * ca + sg * sa,
    sg * cb, sg * sb * sa + cg * ca, sg * sb * ca - cg * sa,
    -sb, cb * sa, cb * ca,
  ];
}

/** Forward map F (moving world → where it is drawn) as a row-major 4×4. */
export function forwardMatrix(p: RigidParams, centre: Vec3): Mat4 {
  const R = rotationMatrix(p.rx, p.ry, p.rz);
  const t: Vec3 = [p.tx, p.ty, p.tz];
  const m: Mat4 = new Array(16).fill(0);
  for (let r = 0; r < 3; r++) {
    let rc = 0;
    for (let c = 0; c < 3; c++) {
      m[r * 4 + c] = R[r * 3 + c];
      rc += R[r * 3 + c] * centre[c];
    }
    m[r * 4 + 3] = centre[r] + t[r] - rc;
  }
  m[15] = 1;
  return m;
}

/** The pull-back the layer model stores (display world → moving world); undefined for identity. */
export function pullBackMatrix(p: RigidParams, centre: Vec3): Mat4 | undefined {
  if (isIdentity(p)) return undefined;
  return mat4Invert(forwardMatrix(p, centre));
}

export function isIdentity(p: RigidParams): boolean {
  return p.tx === 0 && p.ty === 0 && p.tz === 0 && p.rx === 0 && p.ry === 0 && p.rz === 0;
}

/**
 * Parameters of a rigid pull-back M (e.g. a registration result): F = M⁻¹ = [R | d],
 * t = d − c + R·c; angles from R = Rz·Ry·Rx. Returns null when M is not rigid
 * (scaling/shear: affine results are kept as a matrix).
 */
export function paramsFromPullBack(M: Mat4, centre: Vec3, tol = 1e-4): RigidParams | null {
  const F = mat4Invert(M);
  const R = [F[0], F[1], F[2], F[4], F[5], F[6], F[8], F[9], F[10]];
  // RᵀR = I and det R = +1.
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      const d = R[i] * R[j] + R[3 + i] * R[3 + j] + R[6 + i] * R[6 + j];
      if (Math.abs(d - (i === j ? 1 : 0)) > tol) return null;
    }
  const ry = Math.asin(Math.max(-1, Math.min(1, -R[6])));
  const rx = Math.atan2(R[7], R[8]);
  const rz = Math.atan2(R[3], R[0]);
  const Rc = mat4TransformPoint([R[0], R[1], R[2], 0, R[3], R[4], R[5], 0, R[6], R[7], R[8], 0, 0, 0, 0, 1], centre);
  const deg = (r: number) => (r * 180) / Math.PI;
  return { tx: F[3] - centre[0] + Rc[0], ty: F[7] - centre[1] + Rc[1], tz: F[11] - centre[2] + Rc[2], rx: deg(rx), ry: deg(ry), rz: deg(rz) };
}

/** World centre of an image's voxel box (the rotation centre of the manual transform). */
export function imageCentre(g: ImageGeometry): Vec3 {
  const h = [(g.dims[0] - 1) / 2, (g.dims[1] - 1) / 2, (g.dims[2] - 1) / 2];
  const d = g.direction;
  const out: Vec3 = [0, 0, 0];
  for (let r = 0; r < 3; r++) out[r] = g.origin[r] + d[r * 3] * g.spacing[0] * h[0] + d[r * 3 + 1] * g.spacing[1] * h[1] + d[r * 3 + 2] * g.spacing[2] * h[2];
  return out;
}
