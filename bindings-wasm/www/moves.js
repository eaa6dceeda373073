// Key movement bookkeeping: which sample keys changed owner between two layouts, and
// the least movement any algorithm could achieve for the same change of weights.

/** Gives every node id a small integer (uid) that stays the same across layouts, so
 *  owner arrays from layouts with different node orders can be compared. */
export class UidTable {
  constructor() {
    this.uids = new Map();
  }
  uid(id) {
    let u = this.uids.get(id);
    if (u === undefined) {
      u = this.uids.size;
      this.uids.set(id, u);
    }
    return u;
  }
  /** Owner node indices (into `nodes`) → owner uids. */
  toUids(nodes, ownerIndices) {
    const map = new Int32Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) map[i] = this.uid(nodes[i]);
    const out = new Int32Array(ownerIndices.length);
    for (let i = 0; i < ownerIndices.length; i++) out[i] = map[ownerIndices[i]];
    return out;
  }
}

/** Compares two uid arrays of the same sample keys: count moved and a 0/1 mask. */
export function compareOwners(prev, next) {
  if (!prev || prev.length !== next.length) return null;
  const mask = new Uint8Array(next.length);
  let moved = 0;
  for (let i = 0; i < next.length; i++) {
    if (prev[i] !== next[i]) {
      mask[i] = 1;
      moved++;
    }
  }
  return { moved, fraction: next.length ? moved / next.length : 0, mask };
}

/** Normalised shares from a Map id → weight. */
export function shares(weights) {
  let total = 0;
  for (const w of weights.values()) total += w;
  const out = new Map();
  for (const [id, w] of weights) out.set(id, total > 0 ? w / total : 0);
  return out;
}

/** The minimum fraction of keys that must move for shares `before` → `after`:
 *  ½·Σ|s'ᵢ − sᵢ| over the union of nodes. */
export function idealMovement(before, after) {
  if (!before) return null;
  let sum = 0;
  const ids = new Set([...before.keys(), ...after.keys()]);
  for (const id of ids) sum += Math.abs((after.get(id) ?? 0) - (before.get(id) ?? 0));
  return sum / 2;
}
