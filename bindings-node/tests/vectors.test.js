// Every shared vector in tests/vectors/ holds in Node: the same keys get the same
// owners, replicas, partitions and digests as in Rust and Python. With
// SHOAL_TEST_WASM=1 the same file checks the WASM package (`make test-wasm`).
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { load, key, keys, shoal } = require('./helpers.js')

test('splitmix64 matches the reference algorithm', () => {
  const M = (1n << 64n) - 1n
  const reference = (i) => {
    let z = (i + 0x9e3779b97f4a7c15n) & M
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M
    return z ^ (z >> 31n)
  }
  for (const i of [0n, 1n, 2n, 12345n, 1n << 63n, M]) {
    assert.equal(shoal.splitmix64(i), reference(i))
  }
})

function buildRing(doc, c) {
  const ring = new shoal.Ring(c.vnodes, doc.hash)
  for (const n of c.nodes) {
    ring.add(n.id, { weight: n.weight ?? 1, vnodes: n.vnodes ?? undefined, zone: n.zone ?? undefined })
  }
  return ring
}

for (const name of ['ring_xxh3', 'ring_ketama']) {
  test(`ring vectors: ${name}`, () => {
    const doc = load(name)
    const probe = new shoal.Ring(undefined, doc.hash)
    for (const kp of doc.key_positions) {
      assert.equal(probe.keyHash(kp.input), BigInt(kp.position), kp.input)
      assert.equal(probe.keyHash(Buffer.from(kp.input)), BigInt(kp.position), kp.input)
    }
    const ks = keys(doc.keys)
    for (const c of doc.cases) {
      const ring = buildRing(doc, c)
      const ids = c.nodes.map((n) => n.id)
      assert.equal(ring.layoutDigest(), BigInt(c.layout_digest), c.name)
      assert.deepEqual(ids.map((i) => ring.node(i).vnodes), c.vnode_counts, c.name)
      const expected = c.owners.map((o) => ids[o])
      assert.deepEqual(ks.map((k) => ring.locate(k)), expected, c.name)
      // The batch paths: an array of keys, and a BigUint64Array of key hashes giving
      // indices into ring.nodes.
      assert.deepEqual(ring.locateMany(ks), expected, c.name)
      const idx = ring.locateMany(BigUint64Array.from(ks, (k) => ring.keyHash(k)))
      assert.ok(idx instanceof Uint32Array)
      const nodes = ring.nodes
      assert.deepEqual(Array.from(idx, (i) => nodes[i]), expected, c.name)
      c.replicas3.forEach((rep, i) => {
        assert.deepEqual(ring.locateN(ks[i], 3), rep.map((r) => ids[r]), `${c.name} ${i}`)
      })
      c.replicas3_distinct_zones.forEach((rep, i) => {
        assert.deepEqual(ring.locateN(ks[i], 3, true), rep.map((r) => ids[r]), `${c.name} ${i}`)
      })
    }
  })
}

test('the key rule matches the vectors', () => {
  const inputs = new Set(load('ring_xxh3').key_positions.map((kp) => kp.input))
  assert.ok(inputs.has(key(0)))
})

test('ketama agrees with uhashring on every vector key', () => {
  const doc = load('ketama_uhashring')
  const ring = new shoal.Ring(doc.vnodes, 'ketama')
  for (const s of doc.servers) ring.add(s.name, { weight: s.weight })
  const names = doc.servers.map((s) => s.name)
  assert.deepEqual(names.map((n) => ring.node(n).points), doc.points_per_server)
  for (const s of doc.sample) assert.equal(ring.locate(s.key), s.owner)
  assert.deepEqual(ring.locateMany(keys(doc.owners.length)), doc.owners.map((o) => names[o]))
})

for (const name of ['partition_classic', 'partition_balanced']) {
  test(`partition vectors: ${name}`, () => {
    const doc = load(name)
    const ks = keys(doc.keys)
    for (const c of doc.cases) {
      const members = c.members.map((m) => ({ id: m.id, weight: m.weight ?? 1 }))
      const options = { partitions: c.partitions, vnodes: c.vnodes, mode: c.mode }
      const table = new shoal.PartitionTable(members, options)
      const ids = members.map((m) => m.id)
      assert.equal(table.digest(), BigInt(c.digest), c.name)
      assert.deepEqual(table.owners(), c.owners.map((o) => ids[o]), c.name)
      assert.deepEqual(ks.map((k) => table.partitionOf(k)), c.key_partitions, c.name)
      const stats = table.stats()
      assert.deepEqual(ids.map((i) => stats.counts[i]), c.counts, c.name)
      assert.equal(stats.claims, c.claims)
      assert.equal(stats.collisions, c.collisions)
      // Any join order gives the same table.
      const shuffled = new shoal.PartitionTable([...members].reverse(), options)
      assert.equal(shuffled.digest(), table.digest())
    }
  })
}

test('bounded-load vectors: keys assigned in order under the MTZ capacity', () => {
  const doc = load('placement_alternatives').bounded_load
  const ring = new shoal.Ring(doc.vnodes, doc.hash)
  for (const n of doc.nodes) ring.add(n.id, { weight: n.weight })
  const ids = doc.nodes.map((n) => n.id)
  const loads = new Map(ids.map((id) => [id, 0]))
  const owners = keys(doc.owners.length).map((k) => {
    const owner = ring.locateBounded(k, Object.fromEntries(loads), doc.epsilon)
    loads.set(owner, loads.get(owner) + 1)
    return owner
  })
  assert.deepEqual(owners, doc.owners.map((o) => ids[o]))
})

// Jump and rendezvous are the browser's comparison algorithms (the WASM package);
// the Node addon does not carry them.
test('jump and rendezvous vectors', { skip: !shoal.JumpHash && 'no JumpHash in this package' }, () => {
  const doc = load('placement_alternatives')
  const ks = keys(doc.jump.owners.length)
  const jump = new shoal.JumpHash()
  for (const id of doc.jump.nodes) jump.push(id)
  assert.deepEqual(ks.map((k) => jump.locate(k)), doc.jump.owners.map((o) => doc.jump.nodes[o]))
  const rv = new shoal.Rendezvous()
  for (const n of doc.rendezvous.nodes) rv.add(n.id, n.weight)
  const rvIds = doc.rendezvous.nodes.map((n) => n.id)
  assert.deepEqual(ks.map((k) => rv.locate(k)), doc.rendezvous.owners.map((o) => rvIds[o]))
})
