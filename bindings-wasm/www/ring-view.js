// Draws a placement as a circle on a canvas: vnode ticks (or partition arcs) coloured
// per node, and sample keys as dots at their hash position coloured by owner, with the
// keys that just moved drawn larger and outlined. One Path2D per colour, no DOM.

import { CanvasView, fitCanvas } from './canvas.js';

const TAU = Math.PI * 2;

export class RingView extends CanvasView {
  constructor(canvas, palette) {
    super(canvas, palette);
    this.unit = null; // cached unit-circle coordinates of the key dots
  }

  // setData(data), data: {nodes: string[], points?: {positions, owners}, partitionOwners?: Uint32Array,
  //  keyPos?: Float64Array (fractions), keyOwners?: Uint32Array (node indices),
  //  moved?: Uint8Array, caption?: string[]}

  dotGeometry(keyPos) {
    if (this.unit && this.unit.keyPos === keyPos) return this.unit;
    const n = keyPos.length;
    const x = new Float32Array(n);
    const y = new Float32Array(n);
    const r = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const a = keyPos[i] * TAU - Math.PI / 2;
      x[i] = Math.cos(a);
      y[i] = Math.sin(a);
      // spread keys over a band so dots do not sit on one line; fixed per key
      r[i] = 0.5 + 0.36 * ((i * 0.6180339887498949) % 1);
    }
    this.unit = { keyPos, x, y, r };
    return this.unit;
  }

  draw() {
    const { ctx, w, h } = fitCanvas(this.canvas);
    ctx.clearRect(0, 0, w, h);
    const d = this.data;
    const cx = w / 2;
    const cy = h / 2;
    const R = Math.min(w, h) / 2 - 16;
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#c8ccd4';
    ctx.beginPath();
    ctx.arc(cx, cy, R, 0, TAU);
    ctx.stroke();
    if (!d || R <= 0) return;
    const colors = this.palette.colors(d.nodes);
    const n = d.nodes.length;

    if (d.points && d.points.positions.length) this.drawTicks(ctx, cx, cy, R, d.points, colors);
    if (d.partitionOwners && d.partitionOwners.length) this.drawArcs(ctx, cx, cy, R, d.partitionOwners, colors);
    if (d.keyPos && d.keyOwners && d.keyOwners.length) this.drawKeys(ctx, cx, cy, R, d, colors, n);

    if (d.caption) {
      ctx.fillStyle = '#1f2430';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      const lines = d.caption;
      lines.forEach((line, i) => {
        ctx.font = i === 0 ? '600 15px system-ui, sans-serif' : '12px system-ui, sans-serif';
        ctx.fillText(line, cx, cy + (i - (lines.length - 1) / 2) * 18);
      });
    }
  }

  drawTicks(ctx, cx, cy, R, points, colors) {
    const { positions, owners } = points;
    const paths = colors.map(() => new Path2D());
    const many = positions.length > 4000;
    const inner = R - (many ? 7 : 10);
    const outer = R + (many ? 7 : 10);
    for (let i = 0; i < positions.length; i++) {
      const a = positions[i] * TAU - Math.PI / 2;
      const c = Math.cos(a);
      const s = Math.sin(a);
      const p = paths[owners[i]];
      if (!p) continue;
      p.moveTo(cx + c * inner, cy + s * inner);
      p.lineTo(cx + c * outer, cy + s * outer);
    }
    ctx.lineWidth = many ? 1 : 1.5;
    for (let k = 0; k < paths.length; k++) {
      ctx.strokeStyle = colors[k];
      ctx.stroke(paths[k]);
    }
  }

  drawArcs(ctx, cx, cy, R, owners, colors) {
    const P = owners.length;
    const paths = colors.map(() => new Path2D());
    let start = 0;
    for (let p = 1; p <= P; p++) {
      if (p === P || owners[p] !== owners[start]) {
        const a0 = (start / P) * TAU - Math.PI / 2;
        const a1 = (p / P) * TAU - Math.PI / 2;
        const path = paths[owners[start]];
        if (path) {
          path.moveTo(cx + Math.cos(a0) * R, cy + Math.sin(a0) * R);
          path.arc(cx, cy, R, a0, a1);
        }
        start = p;
      }
    }
    ctx.lineWidth = 12;
    ctx.lineCap = 'butt';
    for (let k = 0; k < paths.length; k++) {
      ctx.strokeStyle = colors[k];
      ctx.stroke(paths[k]);
    }
  }

  drawKeys(ctx, cx, cy, R, d, colors, n) {
    const g = this.dotGeometry(d.keyPos);
    const owners = d.keyOwners;
    const moved = d.moved;
    const count = Math.min(owners.length, g.x.length);
    const still = colors.map(() => new Path2D());
    const hot = colors.map(() => new Path2D());
    let anyHot = false;
    for (let i = 0; i < count; i++) {
      const o = owners[i];
      if (o >= n) continue;
      const rr = R * g.r[i];
      const x = cx + g.x[i] * rr;
      const y = cy + g.y[i] * rr;
      if (moved && moved[i]) {
        hot[o].rect(x - 2, y - 2, 4, 4);
        anyHot = true;
      } else {
        still[o].rect(x - 1, y - 1, 2, 2);
      }
    }
    ctx.globalAlpha = moved ? 0.35 : 0.75;
    for (let k = 0; k < n; k++) {
      ctx.fillStyle = colors[k];
      ctx.fill(still[k]);
    }
    ctx.globalAlpha = 1;
    if (anyHot) {
      ctx.lineWidth = 0.75;
      ctx.strokeStyle = 'rgba(0, 0, 0, 0.7)';
      for (let k = 0; k < n; k++) {
        ctx.stroke(hot[k]);
        ctx.fillStyle = colors[k];
        ctx.fill(hot[k]);
      }
    }
  }
}
