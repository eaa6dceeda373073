// Draws a partition table as a grid on a canvas: one cell per partition (row-major,
// partition 0 top-left) coloured by its owner; partitions whose owner changed in the
// last update get a dark centre mark. One Path2D per colour.

import { CanvasView, fitCanvas } from './canvas.js';

export class TableView extends CanvasView {
  // setData(data), data: {nodes: string[], owners: Uint32Array (member index per partition),
  //  changed?: Uint8Array (1 = owner changed)}

  /** Partition under a CSS-pixel point of the canvas, or -1. */
  partitionAt(x, y) {
    const g = this.geometry;
    if (!g) return -1;
    const col = Math.floor(x / g.cell);
    const row = Math.floor(y / g.cell);
    if (col < 0 || col >= g.cols || row < 0) return -1;
    const p = row * g.cols + col;
    return p < g.P ? p : -1;
  }

  draw() {
    const { ctx, w, h } = fitCanvas(this.canvas);
    ctx.clearRect(0, 0, w, h);
    const d = this.data;
    if (!d || !d.owners || !d.owners.length) {
      this.geometry = null;
      return;
    }
    const P = d.owners.length;
    const cols = Math.ceil(Math.sqrt(P));
    const rows = Math.ceil(P / cols);
    const cell = Math.max(1, Math.min(w / cols, h / rows));
    this.geometry = { P, cols, cell };
    const colors = this.palette.colors(d.nodes);
    const paths = colors.map(() => new Path2D());
    const marks = new Path2D();
    const gap = cell >= 5 ? 0.5 : 0;
    let anyMark = false;
    for (let p = 0; p < P; p++) {
      const x = (p % cols) * cell;
      const y = Math.floor(p / cols) * cell;
      const path = paths[d.owners[p]];
      if (path) path.rect(x, y, cell - gap, cell - gap);
      if (d.changed && d.changed[p]) {
        const m = Math.max(1, cell / 3);
        marks.rect(x + (cell - m) / 2, y + (cell - m) / 2, m, m);
        anyMark = true;
      }
    }
    for (let k = 0; k < paths.length; k++) {
      ctx.fillStyle = colors[k];
      ctx.fill(paths[k]);
    }
    if (anyMark) {
      ctx.fillStyle = '#111';
      ctx.fill(marks);
    }
  }
}
