// The shared sample keys (key i = sampleKey(i), the same strings as every binding's
// tests and the vectors) and their positions on the circle, cached per hash scheme.

const TWO64 = 2 ** 64;

export class Samples {
  constructor(shoal) {
    this.shoal = shoal;
    this.keys = [];
    this.index = new Map(); // key string → i
    this.positions = new Map(); // hash name → Float64Array
  }

  /** The first `count` sample keys (strings). */
  keyList(count) {
    for (let i = this.keys.length; i < count; i++) {
      const k = this.shoal.sampleKey(i);
      this.keys.push(k);
      this.index.set(k, i);
    }
    return this.keys.length === count ? this.keys : this.keys.slice(0, count);
  }

  /** i if `key` is sample key number i (< count seen so far), else -1. */
  indexOf(key) {
    return this.index.get(key) ?? -1;
  }

  /** Position (fraction of the circle) of the first `count` keys under a hash scheme;
   *  `hasher` is any object with keyHash(key) → bigint for that scheme (a Ring). */
  positionsFor(hashName, hasher, count) {
    let p = this.positions.get(hashName);
    if (p && p.length >= count) return p.length === count ? p : p.subarray(0, count);
    const keys = this.keyList(count);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = Number(hasher.keyHash(keys[i])) / TWO64;
    this.positions.set(hashName, out);
    return out;
  }
}
