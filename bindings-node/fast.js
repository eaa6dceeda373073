// Fast paths for `Ring.prototype.locate` and `Ring.prototype.locateMany(strings)`.
//
// A regular napi-rs method call costs ~500 ns here (receiver type-tag check, borrow
// registration, a fresh String per key). The raw calls in `src/fast/` take a small
// integer handle for the ring, read the key into a stack buffer and return the
// owner's index into `ring.nodes`, which is cached here per ring together with the
// ring's change counter (generation). Anything unusual — a bytes key, a key over 251
// bytes, an empty ring, a stale cache, an array that is not all strings — comes back
// as a negative status, and the regular (guarded) method does the call, so results
// and errors are the same as without this file.
'use strict'

const v8 = require('node:v8')

const STALE = -1
// Below this many keys, one raw call per key beats serializing the array (measured:
// v8.serialize costs ~2 µs a call, a raw lookup ~60 ns a key).
const SERIALIZE_FROM = 128
const STATE = Symbol('shoal.ringFastState')

function install(Ring, native) {
  const rawLocate = native._ringLocate
  const rawMany = native._ringLocateSerialized
  if (typeof rawLocate !== 'function' || typeof rawMany !== 'function') return
  const slowLocate = Ring.prototype.locate
  const slowMany = Ring.prototype.locateMany

  function refresh(ring, s) {
    s.generation = ring._generation()
    s.nodes = ring.nodes
  }

  // The per-ring cache, made on first use: handle, generation and the node ids of
  // that generation.
  function state(ring) {
    const s = { handle: ring._handle(), generation: 0, nodes: null }
    refresh(ring, s)
    Object.defineProperty(ring, STATE, { value: s })
    return s
  }

  function locate(key) {
    const s = this[STATE] ?? state(this)
    let i = rawLocate(s.handle, s.generation, key)
    if (i === STALE) {
      refresh(this, s)
      i = rawLocate(s.handle, s.generation, key)
    }
    return i >= 0 ? s.nodes[i] : slowLocate.call(this, key)
  }

  function locateMany(keys) {
    if (!Array.isArray(keys) || keys.length === 0) return slowMany.call(this, keys)
    const s = this[STATE] ?? state(this)
    if (keys.length < SERIALIZE_FROM) return locateEach(this, s, keys)
    const serialized = v8.serialize(keys)
    const out = new Uint32Array(keys.length)
    let n = rawMany(s.handle, s.generation, serialized, out)
    if (n === STALE) {
      refresh(this, s)
      n = rawMany(s.handle, s.generation, serialized, out)
    }
    if (n !== keys.length) return slowMany.call(this, keys)
    const nodes = s.nodes
    const owners = new Array(n)
    for (let i = 0; i < n; i++) owners[i] = nodes[out[i]]
    return owners
  }

  // Small batches: one raw call per key; any status but an index hands the whole
  // batch to the regular method (which throws for an empty ring or a bad key).
  function locateEach(ring, s, keys) {
    if (rawLocate(s.handle, s.generation, keys[0]) === STALE) refresh(ring, s)
    const nodes = s.nodes
    const owners = new Array(keys.length)
    for (let i = 0; i < keys.length; i++) {
      const j = rawLocate(s.handle, s.generation, keys[i])
      if (j < 0) return slowMany.call(ring, keys)
      owners[i] = nodes[j]
    }
    return owners
  }

  for (const [name, fn] of [['locate', locate], ['locateMany', locateMany]]) {
    const d = Object.getOwnPropertyDescriptor(Ring.prototype, name)
    Object.defineProperty(fn, 'length', { value: d.value.length })
    Object.defineProperty(Ring.prototype, name, { ...d, value: fn })
  }
}

module.exports = { install }
