// Bar chart of a count per node (keys per node, or live traffic per owner) on a canvas,
// with the mean as a dashed line; reports peak/mean for the page's readout.

import { CanvasView, fitCanvas } from './canvas.js';

/** {total, mean, peak, peakToMean, peakId} of counts aligned with ids. */
export function balance(ids, counts) {
  let total = 0;
  let peak = 0;
  let peakId = null;
  for (let i = 0; i < ids.length; i++) {
    total += counts[i];
    if (counts[i] > peak || peakId === null) {
      peak = counts[i];
      peakId = ids[i];
    }
  }
  const mean = ids.length ? total / ids.length : 0;
  return { total, mean, peak, peakId, peakToMean: mean > 0 ? peak / mean : null };
}

export class Histogram extends CanvasView {
  // setData(data), data: {ids: string[], counts: ArrayLike<number>, expected?: ArrayLike<number>}

  draw() {
    const { ctx, w, h } = fitCanvas(this.canvas);
    ctx.clearRect(0, 0, w, h);
    const d = this.data;
    if (!d || !d.ids.length) return;
    const n = d.ids.length;
    const b = balance(d.ids, d.counts);
    let max = b.peak;
    if (d.expected) for (let i = 0; i < n; i++) max = Math.max(max, d.expected[i]);
    if (max <= 0) max = 1;
    const padL = 36;
    const padB = n <= 24 ? 34 : 8;
    const plotW = w - padL - 4;
    const plotH = h - padB - 8;
    const bw = plotW / n;
    const colors = this.palette.colors(d.ids);
    for (let i = 0; i < n; i++) {
      const bh = (d.counts[i] / max) * plotH;
      ctx.fillStyle = colors[i];
      ctx.fillRect(padL + i * bw + (bw > 3 ? 0.5 : 0), 8 + plotH - bh, Math.max(1, bw - (bw > 3 ? 1 : 0)), bh);
    }
    if (d.expected) {
      ctx.strokeStyle = '#1f2430';
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let i = 0; i < n; i++) {
        const y = 8 + plotH - (d.expected[i] / max) * plotH;
        ctx.moveTo(padL + i * bw, y);
        ctx.lineTo(padL + (i + 1) * bw, y);
      }
      ctx.stroke();
    }
    const my = 8 + plotH - (b.mean / max) * plotH;
    ctx.setLineDash([4, 3]);
    ctx.strokeStyle = '#d33';
    ctx.beginPath();
    ctx.moveTo(padL, my);
    ctx.lineTo(w - 4, my);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#555';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.fillText(String(Math.round(max)), padL - 4, 8);
    ctx.fillText('0', padL - 4, 8 + plotH);
    ctx.fillStyle = '#d33';
    ctx.fillText('mean', padL - 4, my);
    if (n <= 24) {
      ctx.save();
      ctx.fillStyle = '#333';
      ctx.textAlign = 'right';
      for (let i = 0; i < n; i++) {
        ctx.save();
        ctx.translate(padL + (i + 0.5) * bw, 8 + plotH + 4);
        ctx.rotate(-Math.PI / 4);
        ctx.fillText(d.ids[i].length > 14 ? d.ids[i].slice(0, 13) + '…' : d.ids[i], 0, 0);
        ctx.restore();
      }
      ctx.restore();
    }
  }
}
