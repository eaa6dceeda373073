// Canvas sizing shared by the views: backing store = CSS size × devicePixelRatio, and a
// context scaled so views draw in CSS pixels. Redraw requests are coalesced into one
// requestAnimationFrame callback.

export function fitCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth || canvas.width));
  const h = Math.max(1, Math.round(canvas.clientHeight || canvas.height));
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, w, h };
}

/** Returns a function that calls `draw` once on the next animation frame however
 *  often it is called before then. */
export function frameScheduler(draw) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  };
}

/** Redraw when the canvas's CSS size changes. */
export function onResize(canvas, redraw) {
  if (typeof ResizeObserver === 'undefined') return;
  let last = '';
  new ResizeObserver(() => {
    const now = `${canvas.clientWidth}x${canvas.clientHeight}`;
    if (now !== last) {
      last = now;
      redraw();
    }
  }).observe(canvas);
}

/** What every canvas view shares: its canvas and palette, the data to draw
 *  (`setData`), and `schedule()` to redraw on the next frame (also on resize).
 *  Subclasses implement `draw()`. */
export class CanvasView {
  constructor(canvas, palette) {
    this.canvas = canvas;
    this.palette = palette;
    this.data = null;
    this.schedule = frameScheduler(() => this.draw());
    onResize(canvas, this.schedule);
  }

  setData(data) {
    this.data = data;
  }
}
