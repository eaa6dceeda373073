// The fast paths of `ring.locate` and `ring.locateMany(strings)` (fast.js and
// src/fast/) must give exactly what the regular napi-rs methods give: same owners for
// every kind of key, fresh answers after every change, the same errors.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const v8 = require('node:v8')
const vm = require('node:vm')
const shoal = require('..')
const native = require('../native.js')
const { keys } = require('./helpers.js')

// The owner computed without the fast paths: through the key's hash.
function slowOwner(ring, key) {
  return ring.locateHash(ring.keyHash(key))
}

function ring(n, hash) {
  const r = new shoal.Ring(undefined, hash)
  for (let i = 0; i < n; i++) r.add(`node-${i}`)
  return r
}

// Keys that exercise every way a string reaches native code: ASCII, Latin-1 (one-byte
// in V8 but two bytes in UTF-8), two-byte, astral, lone surrogates, empty, and keys
// at and past the 251 bytes the 256-byte stack buffer surely holds.
const ODD_KEYS = [
  '',
  'a',
  'é',
  'caf\u00e9-\u00ff',
  '\u4e2d\u6587',
  '\u{1F600}',
  'lone \uD800 surrogate',
  '\uDC00',
  'x'.repeat(250),
  'x'.repeat(251),
  'x'.repeat(252),
  'x'.repeat(255),
  'x'.repeat(256),
  '\u00e9'.repeat(125),
  '\u00e9'.repeat(126),
  '\u00e9'.repeat(200),
  'x' + '\u{1F600}'.repeat(63),
  '\u{1F600}'.repeat(64),
  'k'.repeat(5000),
]

test('locate and locateMany agree with the hash path for every kind of key', () => {
  for (const hash of ['xxh3', 'ketama']) {
    const r = ring(50, hash)
    const all = [...ODD_KEYS, ...keys(300)]
    for (const k of all) assert.equal(r.locate(k), slowOwner(r, k), JSON.stringify(k))
    const expected = all.map((k) => slowOwner(r, k))
    // 313 keys: the serialized batch path; 10 keys: the per-key path.
    assert.deepEqual(r.locateMany(all), expected)
    assert.deepEqual(r.locateMany(ODD_KEYS.slice(0, 10)), expected.slice(0, 10))
    // Bytes keys (not handled by the fast path) give the same owners.
    assert.deepEqual(
      r.locateMany(all.map((k) => Buffer.from(k))),
      expected,
    )
  }
})

test('answers follow every change of the ring', () => {
  const r = ring(10)
  const ks = keys(500)
  const check = () => {
    const expected = ks.map((k) => slowOwner(r, k))
    assert.deepEqual(ks.map((k) => r.locate(k)), expected)
    assert.deepEqual(r.locateMany(ks), expected)
    assert.deepEqual(r.locateMany(ks.slice(0, 20)), expected.slice(0, 20))
  }
  check()
  r.add('node-new')
  check()
  assert.ok(ks.some((k) => r.locate(k) === 'node-new'))
  r.setWeight('node-new', 3)
  check()
  r.remove('node-0')
  check()
  assert.ok(!ks.some((k) => r.locate(k) === 'node-0'))
  for (let i = 1; i < 10; i++) r.remove(`node-${i}`)
  check()
  r.remove('node-new')
  assert.equal(r.locate('k'), null)
  assert.throws(() => r.locateMany(ks), { name: 'Error', code: 'ERR_SHOAL_EMPTY' })
  assert.throws(() => r.locateMany(['k']), { name: 'Error', code: 'ERR_SHOAL_EMPTY' })
  r.add('back')
  assert.equal(r.locate('k'), 'back')
  assert.deepEqual(r.locateMany(ks), ks.map(() => 'back'))
})

test('copies and snapshots answer for themselves', () => {
  const a = ring(20)
  const ks = keys(200)
  const before = a.locateMany(ks)
  const b = a.copy()
  const c = shoal.Ring.fromSnapshot(a.snapshot())
  b.add('only-in-b')
  assert.deepEqual(a.locateMany(ks), before)
  assert.deepEqual(c.locateMany(ks), before)
  assert.deepEqual(b.locateMany(ks), ks.map((k) => slowOwner(b, k)))
  assert.notDeepEqual(b.locateMany(ks), before)
})

test('arrays the serialized path does not take still work', () => {
  const r = ring(30)
  const ks = keys(300)
  const expected = ks.map((k) => slowOwner(r, k))
  // An extra property, a mixed array, a holey array, a non-string.
  const extra = [...ks]
  extra.note = 'x'
  assert.deepEqual(r.locateMany(extra), expected)
  const mixed = ks.map((k, i) => (i % 2 ? Buffer.from(k) : k))
  assert.deepEqual(r.locateMany(mixed), expected)
  const holey = new Array(300)
  assert.throws(() => r.locateMany(holey), { name: 'TypeError', code: 'ERR_SHOAL_INVALID_TYPE' })
  assert.throws(() => r.locateMany([...ks, 7]), { name: 'TypeError', code: 'ERR_SHOAL_INVALID_TYPE' })
  assert.throws(() => r.locateMany([...ks.slice(0, 5), {}]), {
    name: 'TypeError',
    code: 'ERR_SHOAL_INVALID_TYPE',
  })
  assert.throws(() => r.locate(12), { name: 'TypeError', code: 'ERR_SHOAL_INVALID_TYPE' })
  assert.throws(() => r.locate(), { name: 'TypeError', code: 'ERR_SHOAL_INVALID_TYPE' })
})

test('raw calls reject what they do not know and are not exported', () => {
  assert.ok(!Object.keys(shoal).some((k) => k.startsWith('_')))
  const r = ring(3)
  // An unknown handle or a wrong argument is a fallback status, never a crash.
  assert.equal(native._ringLocate(4294967295, 0, 'k'), -3)
  assert.equal(native._ringLocate('x', 0, 'k'), -3)
  assert.equal(native._ringLocate(), -3)
  const h = r._handle()
  assert.equal(native._ringLocate(h, r._generation(), 5), -3)
  assert.equal(native._ringLocate(h, r._generation() + 1, 'k'), -1)
  assert.equal(native._ringLocateSerialized(h, r._generation(), v8.serialize(['a']), new Uint32Array(2)), -3)
  assert.equal(native._ringLocateSerialized(h, r._generation(), Buffer.from('junk'), new Uint32Array(1)), -3)
  assert.equal(native._ringLocateSerialized(h, r._generation(), v8.serialize(['a']), new Int32Array(1)), -3)
  // Hand-made buffers in V8's format: what v8.serialize(['ab', 'é', '😀', '\uD800'])
  // writes on Node 20 (with a padding byte before a two-byte string) is read; a number
  // element, a hole, a sparse array, a truncated buffer and trailing bytes are not.
  const g = r._generation()
  const good = [0xff, 0x0f, 0x41, 4, 0x22, 2, 0x61, 0x62, 0x22, 1, 0xe9, 0x00, 0x63, 4, 0x3d, 0xd8,
    0x00, 0xde, 0x63, 2, 0x00, 0xd8, 0x24, 0, 4]
  const four = new Uint32Array(4)
  assert.equal(native._ringLocateSerialized(h, g, Buffer.from(good), four), 4)
  assert.deepEqual([...four].map((i) => r.nodes[i]), ['ab', 'é', '\u{1F600}', '\uD800'].map((k) => slowOwner(r, k)))
  for (const bad of [
    [0xff, 0x0f, 0x41, 1, 0x49, 2, 0x24, 0, 1],
    [0xff, 0x0f, 0x41, 1, 0x2d, 0x24, 0, 1],
    [0xff, 0x0f, 0x61, 1, 0x40, 0, 1],
    [0xff, 0x0f, 0x41, 1, 0x22, 5, 0x61],
    [0xff, 0x0f, 0x41, 1, 0x22, 1, 0x61, 0x24, 0, 1, 0],
    [0xff, 0x09, 0x41, 1, 0x22, 1, 0x61, 0x24, 0, 1],
  ]) {
    assert.equal(native._ringLocateSerialized(h, g, Buffer.from(bad), new Uint32Array(1)), -3, String(bad))
  }
  const out = new Uint32Array(2)
  assert.equal(native._ringLocateSerialized(h, r._generation(), v8.serialize(['a', 'b']), out), 2)
  assert.deepEqual([...out].map((i) => r.nodes[i]), ['a', 'b'].map((k) => slowOwner(r, k)))
})

test('handles of collected rings are recycled safely', async () => {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc')
  const ks = keys(50)
  for (let round = 0; round < 5; round++) {
    const rings = Array.from({ length: 200 }, (_, i) => ring(1 + (i % 7)))
    for (const r of rings) assert.deepEqual(r.locateMany(ks), ks.map((k) => slowOwner(r, k)))
    rings.length = 0
    await new Promise((resolve) => setImmediate(resolve))
    gc()
  }
  const r = ring(5)
  assert.deepEqual(ks.map((k) => r.locate(k)), ks.map((k) => slowOwner(r, k)))
})
