/**
 * What the segmentation tools draw over a view (on the view's overlay canvas, after the
 * crosshairs): the polygon being drawn (vertices and edges) and the active contour's seed
 * bubbles (circles where the bubble's sphere cuts the plane).
 */
import type { Vec3 } from '../../src-shared/image/volume';
import type { ViewName } from '../rendering/slice-geometry';

export interface SegOverlayInput {
  view: ViewName;
  /** World → CSS pixel of the view. */
  toScreen: (p: Vec3) => [number, number];
  /** CSS pixels per mm on this view. */
  pxPerMm: number;
  /** Plane normal (LPS) and the plane's offset along it (mm). */
  normal: Vec3;
  depth: number;
  polygon: { view: ViewName; points: Vec3[] } | null;
  bubbles: { center: Vec3; radius: number }[];
  color: string;
  /** Brush footprint under the mouse: centre, size along screen right/down (mm), shape. */
  brush?: { center: Vec3; mm: [number, number]; shape: 'round' | 'square' } | null;
}

export function drawSegmentationOverlay(ctx: CanvasRenderingContext2D, o: SegOverlayInput): number {
  let drawn = 0;
  if (o.polygon && o.polygon.view === o.view && o.polygon.points.length) {
    const pts = o.polygon.points.map(o.toScreen);
    ctx.strokeStyle = o.color;
    ctx.fillStyle = o.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    pts.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.stroke();
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(...pts[pts.length - 1]);
    ctx.lineTo(...pts[0]);
    ctx.stroke();
    ctx.setLineDash([]);
    for (const [x, y] of pts) ctx.fillRect(x - 2.5, y - 2.5, 5, 5);
    drawn += pts.length;
  }
  for (const b of o.bubbles) {
    const d = b.center[0] * o.normal[0] + b.center[1] * o.normal[1] + b.center[2] * o.normal[2] - o.depth;
    if (Math.abs(d) >= b.radius) continue;
    const r = Math.sqrt(b.radius * b.radius - d * d) * o.pxPerMm;
    const [x, y] = o.toScreen(b.center);
    ctx.strokeStyle = '#ffd84a';
    ctx.fillStyle = 'rgba(255, 216, 74, 0.25)';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(x, y, Math.max(2, r), 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    drawn++;
  }
  if (o.brush) {
    const [x, y] = o.toScreen(o.brush.center);
    const rx = (o.brush.mm[0] / 2) * o.pxPerMm;
    const ry = (o.brush.mm[1] / 2) * o.pxPerMm;
    ctx.strokeStyle = o.color;
    ctx.lineWidth = 1;
    ctx.beginPath();
    if (o.brush.shape === 'round') ctx.ellipse(x, y, Math.max(1, rx), Math.max(1, ry), 0, 0, 2 * Math.PI);
    else ctx.rect(x - rx, y - ry, 2 * rx, 2 * ry);
    ctx.stroke();
    drawn++;
  }
  return drawn;
}
