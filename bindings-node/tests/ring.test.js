// Ring API behaviour and errors (the shared vectors are in vectors.test.js).
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const shoal = require('..')
const { keys } = require('./helpers.js')

function ring(ids, options) {
  const r = new shoal.Ring()
  for (const id of ids) r.add(id, options)
  return r
}

test('the source agent types: explicit vnode counts and weights', () => {
  const r = new shoal.Ring()
  const agents = { QueryEngine: 100, MediaEngine: 80, InsightEngine: 120, ReportEngine: 60 }
  for (const [id, vnodes] of Object.entries(agents)) r.add(id, { vnodes })
  assert.equal(r.pointCount, 360)
  assert.deepEqual(r.nodes, Object.keys(agents).sort())
  for (const [id, vnodes] of Object.entries(agents)) assert.equal(r.node(id).points, vnodes)
  const share = r.ownership()
  assert.ok(share.InsightEngine > share.ReportEngine)
  assert.ok(Math.abs(Object.values(share).reduce((a, b) => a + b, 0) - 1) < 1e-9)
})

test('string and bytes keys hash alike; locateHash agrees with locate', () => {
  const r = ring(['a', 'b', 'c'])
  for (const k of keys(200)) {
    assert.equal(r.keyHash(k), r.keyHash(Buffer.from(k)))
    assert.equal(r.keyHash(k), shoal.keyHash(k))
    assert.equal(r.locateHash(r.keyHash(k)), r.locate(k))
    assert.equal(r.locate(new TextEncoder().encode(k)), r.locate(k))
  }
})

test('adding a node moves keys only to it; diff reports the same', () => {
  const before = ring(Array.from({ length: 20 }, (_, i) => `n${i}`))
  const after = before.copy()
  after.add('new')
  const ks = keys(20000)
  let moved = 0
  for (const k of ks) {
    const a = before.locate(k)
    const b = after.locate(k)
    if (a !== b) {
      moved++
      assert.equal(b, 'new')
    }
  }
  const plan = before.diff(after)
  assert.ok(plan.moves.every((m) => m.to === 'new' && typeof m.start === 'bigint'))
  assert.ok(Math.abs(plan.fractionBetween(null, 'new') - plan.fractionMoved) < 1e-12)
  assert.ok(Math.abs(moved / ks.length - plan.fractionMoved) < 0.02)
  assert.ok(plan.fractionMoved > 0.02 && plan.fractionMoved < 0.1)
})

test('locateN gives distinct nodes, and distinct zones when asked', () => {
  const r = new shoal.Ring()
  for (const [id, zone] of [['a', 'z1'], ['b', 'z1'], ['c', 'z2'], ['d', 'z3']]) r.add(id, { zone })
  for (const k of keys(100)) {
    const three = r.locateN(k, 3)
    assert.equal(new Set(three).size, 3)
    assert.equal(three[0], r.locate(k))
    const zoned = r.locateN(k, 3, true)
    assert.equal(new Set(zoned.map((id) => r.node(id).zone)).size, 3)
  }
  assert.equal(r.locateN('k', 10).length, 4)
})

test('bounded load skips full nodes; bad loads and epsilon are errors', () => {
  const r = ring(['a', 'b'])
  const k = 'some-key'
  const owner = r.locate(k)
  const other = owner === 'a' ? 'b' : 'a'
  assert.equal(r.locateBounded(k, { [owner]: 100, [other]: 0 }, 0.25), other)
  assert.equal(r.locateBounded(k, [100, 100], 0.25), owner)
  assert.throws(() => r.locateBounded(k, [0, 0], -1), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
  assert.throws(() => r.locateBounded(k, [1], 0.25), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
  assert.throws(() => r.locateBounded(k, [1.5, 0], 0.25), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
})

test('suggestWeights shifts weight away from the loaded node', () => {
  const r = ring(['a', 'b'])
  const w = r.suggestWeights({ a: 300, b: 100 })
  assert.ok(w.a < w.b, JSON.stringify(w))
})

test('snapshots round-trip; broken ones are errors', () => {
  const r = ring(['a', 'b'], { weight: 2 })
  const back = shoal.Ring.fromSnapshot(r.snapshot())
  assert.ok(back instanceof shoal.Ring)
  assert.equal(back.layoutDigest(), r.layoutDigest())
  assert.throws(() => shoal.Ring.fromSnapshot('{'), { name: 'Error', code: 'ERR_SHOAL_SNAPSHOT' })
  for (const bad of [5, {}, null, undefined]) {
    assert.throws(() => shoal.Ring.fromSnapshot(bad), { name: 'TypeError', code: 'ERR_SHOAL_INVALID_TYPE' })
  }
})

test('errors are built-in classes with stable codes', () => {
  const r = ring(['a'])
  assert.throws(() => r.add('a'), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
  assert.throws(() => r.add('x', { weight: -1 }), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
  assert.throws(() => r.remove('zz'), { name: 'RangeError', code: 'ERR_SHOAL_UNKNOWN_NODE' })
  assert.throws(() => r.node('zz'), { name: 'RangeError', code: 'ERR_SHOAL_UNKNOWN_NODE' })
  assert.throws(() => r.setWeight('zz', 2), { name: 'RangeError', code: 'ERR_SHOAL_UNKNOWN_NODE' })
  assert.throws(() => new shoal.Ring(160, 'md5'), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
  assert.throws(() => new shoal.Ring(0), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
  assert.throws(() => new shoal.Ring().locateMany(['k']), { name: 'Error', code: 'ERR_SHOAL_EMPTY' })
  assert.throws(() => r.locateHash(-1n), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
  assert.throws(() => r.locateHash(1n << 64n), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
  // Values of the wrong type, whether napi-rs or shoal notices.
  assert.throws(() => r.locate(5), { name: 'TypeError', code: 'ERR_SHOAL_INVALID_TYPE' })
  assert.throws(() => new shoal.Ring('x'), { name: 'TypeError', code: 'ERR_SHOAL_INVALID_TYPE' })
  assert.throws(() => r.locateMany('k'), { name: 'TypeError', code: 'ERR_SHOAL_INVALID_TYPE' })
  assert.throws(() => r.locateMany([1, 2]), { name: 'TypeError', code: 'ERR_SHOAL_INVALID_TYPE' })
  // A failed call leaves the ring unchanged.
  assert.deepEqual(r.nodes, ['a'])
  assert.equal(new shoal.Ring().locate('k'), null)
})

test('ES module entry exports the same objects', async () => {
  const esm = await import('../index.mjs')
  assert.equal(esm.Ring, shoal.Ring)
  assert.equal(esm.default, shoal)
  for (const name of Object.keys(shoal)) {
    if (name.startsWith('__')) continue
    assert.equal(esm[name], shoal[name], `index.mjs does not export ${name}`)
  }
})
