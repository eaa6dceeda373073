// The placement algorithms the page can show, each wrapped around its WASM object with
// one interface: nodes, sampleOwners, locate, replicas, points / partition owners, and
// add / remove / setWeight that call the WASM object (its errors reach the caller).

export const ALGORITHMS = [
  { key: 'ring-xxh3', label: 'Ring (xxh3)', kind: 'ring', hash: 'xxh3', vnodesKey: 'xxh3' },
  { key: 'ring-ketama', label: 'Ring (ketama, MD5)', kind: 'ring', hash: 'ketama', vnodesKey: 'ketama' },
  { key: 'table-classic', label: 'Partition table (classic)', kind: 'table', mode: 'classic', vnodesKey: 'table' },
  { key: 'table-balanced', label: 'Partition table (balanced)', kind: 'table', mode: 'balanced', vnodesKey: 'table' },
  { key: 'bounded', label: 'Bounded-load ring (xxh3 + ε)', kind: 'ring', hash: 'xxh3', bounded: true, vnodesKey: 'xxh3' },
  { key: 'jump', label: 'Jump hash', kind: 'jump' },
  { key: 'rendezvous', label: 'Rendezvous (weighted HRW)', kind: 'rendezvous' },
];

export const DEFAULT_VNODES = { xxh3: 160, ketama: 40, table: 10 };

export function algorithmByKey(key) {
  const a = ALGORITHMS.find((x) => x.key === key);
  if (!a) throw new RangeError(`unknown algorithm ${JSON.stringify(key)}`);
  return a;
}

/** The weight a node counts with for the "ideal movement" of this algorithm. */
export function effectiveWeight(algo, node, vnodesPerWeight) {
  if (algo.kind === 'jump') return 1;
  if (algo.kind === 'ring' && node.vnodes != null && vnodesPerWeight > 0) {
    return node.vnodes / vnodesPerWeight;
  }
  return node.weight;
}

function ringOptions(node) {
  const o = { weight: node.weight };
  if (node.vnodes != null) o.vnodes = node.vnodes;
  if (node.zone != null) o.zone = node.zone;
  return o;
}

/** Builds the placement for `algo` over `nodes` ({id, weight, vnodes?, zone?}) with
 *  `params` = {vnodes, partitions, epsilon}. Throws what the WASM constructors throw. */
export function buildPlacement(shoal, algo, nodes, params) {
  switch (algo.kind) {
    case 'ring':
      return new RingPlacement(shoal, algo, nodes, params);
    case 'table':
      return new TablePlacement(shoal, algo, nodes, params);
    case 'jump':
      return new JumpPlacement(shoal, algo, nodes);
    case 'rendezvous':
      return new RendezvousPlacement(shoal, algo, nodes);
    default:
      throw new RangeError(`unknown algorithm kind ${algo.kind}`);
  }
}

class RingPlacement {
  constructor(shoal, algo, nodes, params) {
    this.algo = algo;
    this.epsilon = params.epsilon;
    this.ring = new shoal.Ring(params.vnodes, algo.hash);
    try {
      for (const n of nodes) this.ring.add(n.id, ringOptions(n));
    } catch (e) {
      this.ring.free();
      throw e;
    }
    this.refresh();
  }
  refresh() {
    this.nodes = this.ring.nodes;
    this._points = null;
  }
  get hashName() {
    return this.algo.hash;
  }
  get hasReplicas() {
    return true;
  }
  get pointCount() {
    return this.points().positions.length;
  }
  keyHash(key) {
    return this.ring.keyHash(key);
  }
  add(node) {
    this.ring.add(node.id, ringOptions(node));
    this.refresh();
  }
  remove(id) {
    this.ring.remove(id);
    this.refresh();
  }
  setWeight(id, weight) {
    this.ring.setWeight(id, weight);
    this.refresh();
  }
  sampleOwners(count) {
    if (this.nodes.length === 0) return new Uint32Array(0);
    return this.algo.bounded
      ? this.ring.sampleOwnersBounded(count, this.epsilon)
      : this.ring.sampleOwners(count);
  }
  locate(key) {
    return this.ring.locate(key);
  }
  locateMany(keys) {
    return this.ring.locateMany(keys);
  }
  replicas(key, n, distinctZones) {
    return this.ring.locateN(key, n, distinctZones);
  }
  /** {positions: Float64Array fractions, owners: Uint32Array}, cached per layout. */
  points() {
    if (!this._points) this._points = this.ring.points();
    return this._points;
  }
  partitionOwners() {
    return null;
  }
  free() {
    this.ring.free();
  }
}

class TablePlacement {
  constructor(shoal, algo, nodes, params) {
    this.algo = algo;
    const members = nodes.map((n) => ({ id: n.id, weight: n.weight }));
    this.table = new shoal.PartitionTable(members, { partitions: params.partitions, vnodes: params.vnodes, mode: algo.mode });
    this.refresh();
  }
  refresh() {
    this.nodes = this.table.members;
    this._owners = null;
  }
  get hashName() {
    return 'xxh3';
  }
  get hasReplicas() {
    return false;
  }
  get partitions() {
    return this.table.partitions;
  }
  add(node) {
    this.table.add(node.id, node.weight);
    this.refresh();
  }
  remove(id) {
    this.table.remove(id);
    this.refresh();
  }
  /** No setWeight on a table: remove and add again (the caller rebuilds on error). */
  setWeight(id, weight) {
    if (!this.table.has(id)) this.table.remove(id); // throws ERR_SHOAL_UNKNOWN_NODE
    this.table.remove(id);
    this.refresh();
    this.table.add(id, weight);
    this.refresh();
  }
  sampleOwners(count) {
    if (this.nodes.length === 0) return new Uint32Array(0);
    return this.table.sampleOwners(count);
  }
  locate(key) {
    return this.table.locate(key);
  }
  locateMany(keys) {
    return keys.map((k) => this.table.locate(k));
  }
  partitionOf(key) {
    return this.table.partitionOf(key);
  }
  replicas() {
    return null;
  }
  points() {
    return null;
  }
  /** Owner member index per partition. */
  partitionOwners() {
    if (!this._owners) this._owners = this.nodes.length ? this.table.ownerIndices() : new Uint32Array(0);
    return this._owners;
  }
  stats() {
    return this.table.stats();
  }
  free() {
    this.table.free();
  }
}

/** What jump and rendezvous share: a WASM object (`this.impl`) that only names owners
 *  (no points on a circle, no replicas, no partitions), hashed with xxh3. */
class OwnersOnlyPlacement {
  get hashName() {
    return 'xxh3';
  }
  get hasReplicas() {
    return false;
  }
  sampleOwners(count) {
    if (this.nodes.length === 0) return new Uint32Array(0);
    return this.impl.sampleOwners(count);
  }
  locate(key) {
    return this.impl.locate(key);
  }
  locateMany(keys) {
    return keys.map((k) => this.impl.locate(k));
  }
  replicas() {
    return null;
  }
  points() {
    return null;
  }
  partitionOwners() {
    return null;
  }
  free() {
    this.impl.free();
  }
}

class JumpPlacement extends OwnersOnlyPlacement {
  constructor(shoal, algo, nodes) {
    super();
    this.shoal = shoal;
    this.algo = algo;
    this.impl = new shoal.JumpHash();
    try {
      for (const n of nodes) this.impl.push(n.id);
    } catch (e) {
      this.impl.free();
      throw e;
    }
    this.nodes = this.impl.nodes;
    this.note = null;
  }
  add(node) {
    this.impl.push(node.id);
    this.nodes = this.impl.nodes;
    this.note = null;
  }
  /** Jump hash can only drop its last bucket; removing another node means a new
   *  bucket list where every later node shifts down one bucket (and its keys move). */
  remove(id) {
    const at = this.nodes.indexOf(id);
    if (at === this.nodes.length - 1) {
      this.impl.pop();
      this.note = null;
    } else {
      const rest = this.nodes.filter((x) => x !== id);
      const j = new this.shoal.JumpHash();
      for (const x of rest) j.push(x);
      this.impl.free();
      this.impl = j;
      this.note =
        at < 0
          ? null
          : `jump hash can only remove its last bucket: removing ${id} (bucket ${at}) renumbered every later node`;
    }
    this.nodes = this.impl.nodes;
  }
  setWeight() {
    throw new RangeError('jump hash has no weights (every bucket gets an equal share)');
  }
}

class RendezvousPlacement extends OwnersOnlyPlacement {
  constructor(shoal, algo, nodes) {
    super();
    this.algo = algo;
    this.impl = new shoal.Rendezvous();
    this.weights = new Map();
    try {
      for (const n of nodes) {
        this.impl.add(n.id, n.weight);
        this.weights.set(n.id, n.weight);
      }
    } catch (e) {
      this.impl.free();
      throw e;
    }
    this.nodes = this.impl.nodes;
  }
  add(node) {
    this.impl.add(node.id, node.weight);
    this.weights.set(node.id, node.weight);
    this.nodes = this.impl.nodes;
  }
  remove(id) {
    this.impl.remove(id);
    this.weights.delete(id);
    this.nodes = this.impl.nodes;
  }
  /** No setWeight in the API: remove and add again (the caller rebuilds on error). */
  setWeight(id, weight) {
    if (!this.weights.has(id)) {
      this.impl.remove(id); // throws ERR_SHOAL_UNKNOWN_NODE
    }
    this.impl.remove(id);
    this.weights.delete(id);
    this.nodes = this.impl.nodes;
    this.impl.add(id, weight);
    this.weights.set(id, weight);
    this.nodes = this.impl.nodes;
  }
}
