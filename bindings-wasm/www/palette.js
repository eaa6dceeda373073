// One colour per node id, stable for the page's lifetime: the n-th id seen gets the
// n-th hue of a golden-angle sequence, so neighbours in order are far apart in colour.

export class Palette {
  constructor() {
    this.byId = new Map();
  }

  /** CSS colour for a node id. */
  color(id) {
    let c = this.byId.get(id);
    if (c === undefined) {
      const n = this.byId.size;
      const hue = (n * 137.508) % 360;
      const light = [48, 60, 40][n % 3];
      const sat = [70, 60, 80][Math.floor(n / 3) % 3];
      c = `hsl(${hue.toFixed(1)}, ${sat}%, ${light}%)`;
      this.byId.set(id, c);
    }
    return c;
  }

  /** Colours for a list of ids, index-aligned. */
  colors(ids) {
    return ids.map((id) => this.color(id));
  }
}
