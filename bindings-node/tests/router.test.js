// Router: keyed payloads to their owners — through the bus to members on this host
// (by a Ring or PartitionTable), over TCP between Nodes with acknowledgements — and
// the errors of each path.
//
// Nodes bind 127.0.0.1 port 0; every test has a time bound and closes its nodes and
// buses.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { Bus, Node, PartitionTable, Ring, Router, release } = require('..')

const BOUND = { timeout: 60_000 }
const KEYS = Array.from({ length: 200 }, (_, i) => `order-${i}`)

let buses = 0
/** A fresh bus, closed after the test. */
function busFor(t) {
  buses += 1
  const bus = Bus.create(`test-router-node-${process.pid}-${buses}`)
  t.after(() => bus.close())
  return bus
}

async function eventually(what, ok, ms = 15_000) {
  const end = Date.now() + ms
  for (;;) {
    if (await ok()) return
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Two nodes a and b that see each other and place alike; closed after the test. */
async function pair(t, options = {}) {
  const a = await Node.start({ id: 'a', protocol: 'fast', ...options })
  t.after(() => a.close())
  const b = await Node.start({ id: 'b', seeds: [a.address], protocol: 'fast', ...options })
  t.after(() => b.close())
  await eventually('a and b see each other', () => a.members().length === 2 && b.members().length === 2)
  await eventually('one placement', () => a.placementDigest() === b.placementDigest())
  return [a, b]
}

function ringOf(...ids) {
  const ring = new Ring()
  for (const id of ids) ring.add(id)
  return ring
}

/** `n` messages from `receiver` as strings (each Buffer released); then checks that
 * nothing more is waiting. */
async function drain(receiver, n) {
  const got = []
  for (let i = 0; i < n; i++) {
    const buf = await receiver.recv({ timeout: 10_000 })
    got.push(buf.toString())
    release(buf)
  }
  assert.equal(receiver.tryRecv(), null)
  return got
}

test('destination follows the ring and the local list', BOUND, (t) => {
  const bus = busFor(t)
  const ring = ringOf('a', 'b', 'c')
  const router = new Router(bus, { placement: ring, local: ['a', 'b'] })
  for (const k of KEYS) {
    const d = router.destination(k)
    assert.equal(d.owner, ring.locate(k))
    assert.equal(d.isLocal, d.owner === 'a' || d.owner === 'b')
  }
  assert.ok(router.isLocal('a') && !router.isLocal('c'))
  // The router reads the ring at each route: later changes apply.
  ring.remove('c')
  assert.deepEqual(new Set(KEYS.map((k) => router.destination(k).owner)), new Set(['a', 'b']))
  assert.ok(KEYS.every((k) => router.destination(k).isLocal))
  router.addLocal('c')
  assert.ok(router.isLocal('c') && router.removeLocal('c') && !router.removeLocal('c'))
  assert.equal(router.destination(Buffer.from('raw-bytes-key')).owner, ring.locate('raw-bytes-key'))
  assert.equal(router.endpointOf('a'), 'a')
  assert.equal(router.node, null)
  assert.deepEqual(router.stats(), { local: 0, remote: 0, failed: 0 })
  assert.equal(new Router(bus, { placement: new Ring() }).destination('k'), null)
})

test('destination by a partition table', BOUND, (t) => {
  const bus = busFor(t)
  const table = new PartitionTable([{ id: 'a', weight: 1 }, { id: 'b', weight: 2 }], { partitions: 64 })
  const router = new Router(bus, { placement: table, local: ['a'], prefix: 'agent/' })
  for (const k of KEYS.slice(0, 50)) {
    const d = router.destination(k)
    assert.deepEqual([d.owner, d.isLocal], [table.locate(k), table.locate(k) === 'a'])
  }
  assert.equal(router.endpointOf('b'), 'agent/b')
})

test('a ring router delivers to local endpoints through the bus', BOUND, async (t) => {
  const bus = busFor(t)
  const ring = ringOf('a', 'b', 'c')
  const inbox = Object.fromEntries(['a', 'b', 'c'].map((i) => [i, bus.endpoint(`agent/${i}`)]))
  const router = new Router(bus, { placement: ring, local: ['a', 'b', 'c'], prefix: 'agent/' })
  const expected = { a: [], b: [], c: [] }
  for (const k of KEYS) {
    const d = router.route(k, Buffer.from(k))
    assert.ok(d.isLocal)
    assert.equal(d.owner, ring.locate(k))
    expected[d.owner].push(k)
  }
  assert.ok(Object.values(expected).every((v) => v.length > 0))
  assert.deepEqual(router.stats(), { local: KEYS.length, remote: 0, failed: 0 })
  for (const [id, r] of Object.entries(inbox)) {
    assert.deepEqual(await drain(r, expected[id].length), expected[id])
  }
  // Strings, Uint8Arrays and empty payloads too.
  router.route('k', 'text')
  router.route('k', new Uint8Array([104, 105]))
  router.route('k', Buffer.alloc(0))
  const owner = ring.locate('k')
  assert.deepEqual(await drain(inbox[owner], 3), ['text', 'hi', ''])
  await router.flush(100) // no node: nothing is ever pending
})

test('route errors name the key and owner', BOUND, (t) => {
  const bus = busFor(t)
  assert.throws(() => new Router(bus, { placement: new Ring() }).route('k', 'v'), {
    name: 'Error', code: 'ERR_SHOAL_EMPTY',
  })
  const ring = ringOf('here', 'there')
  const router = new Router(bus, { placement: ring, local: ['here'], prefix: 'agent/' })
  const keyHere = KEYS.find((k) => ring.locate(k) === 'here')
  const keyThere = KEYS.find((k) => ring.locate(k) === 'there')
  // No consumer on the local owner's endpoint.
  assert.throws(() => router.route(keyHere, 'v'), (e) =>
    e.code === 'ERR_SHOAL_BUS_NOT_FOUND' && e.message.includes('agent/here') && e.message.includes(keyHere))
  // A remote owner and no node to reach it.
  assert.throws(() => router.route(keyThere, 'v'), (e) =>
    e.code === 'ERR_SHOAL_NET' && /no node/.test(e.message) && e.message.includes('"there"'))
  assert.deepEqual(router.stats(), { local: 0, remote: 0, failed: 2 })
  const type = { name: 'TypeError', code: 'ERR_SHOAL_INVALID_TYPE' }
  assert.throws(() => router.route(keyHere, 42), type)
  assert.throws(() => router.route(3.5, 'v'), type)
  assert.throws(() => router.flush(-1), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
})

test('router construction errors', BOUND, async (t) => {
  const bus = busFor(t)
  const n = await Node.start({ id: 'n' })
  t.after(() => n.close())
  const invalid = { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' }
  assert.throws(() => new Router(bus, {}), invalid)
  assert.throws(() => new Router(bus, { placement: { a: 1 } }), invalid)
  assert.throws(() => new Router(bus, 'a node'), invalid)
  assert.throws(() => new Router(bus, { placement: new Ring() }, { prefix: 'x' }), invalid)
  for (const bad of [{ retryAfterMs: -1 }, { sendTimeoutMs: NaN }, { connectTimeoutMs: Infinity }]) {
    assert.throws(() => new Router(bus, n, bad), invalid)
  }
  assert.throws(() => new Router('not a bus', { placement: new Ring() }), TypeError)
  const closed = Bus.create(`test-router-node-${process.pid}-closed`)
  closed.close()
  assert.throws(() => new Router(closed, { placement: new Ring() }), { code: 'ERR_SHOAL_CLOSED' })
})

test('a node router sends remote keys over TCP; refused until a receiver exists', BOUND, async (t) => {
  const bus = busFor(t)
  const [a, b] = await pair(t)
  const router = new Router(bus, a, { prefix: 'agent/' })
  assert.equal(router.node, a)
  assert.ok(router.isLocal('a') && !router.isLocal('b'))
  const remote = KEYS.filter((k) => a.locate(k) === 'b').slice(0, 20)
  for (const k of remote) {
    assert.deepEqual(router.route(k, k), { owner: 'b', isLocal: false })
  }
  // b takes routed payloads for its endpoint, which has no receiver yet: it refuses
  // them, and they stay pending on a's side.
  b.serveRoutes(bus, 'agent/')
  await eventually('b refuses', () => b.status().routes_refused > 0n)
  await assert.rejects(router.flush(300), (e) => e.code === 'ERR_SHOAL_TIMEOUT' && /unacknowledged/.test(e.message))
  const s = router.stats()
  assert.deepEqual([s.remote, s.sent, s.acked, s.pending], [20, 20, 0, 20])
  assert.ok(s.refused > 0)
  assert.equal(b.status().routes_delivered, 0n)
  // Once the receiver exists, the resent payloads arrive, in order.
  const inbox = bus.endpoint('agent/b')
  await router.flush(15_000)
  assert.deepEqual(await drain(inbox, remote.length), remote)
  assert.ok(router.stats().resent > 0)
})

test('a node router delivers to each owner\'s endpoint, with acknowledgements', BOUND, async (t) => {
  const bus = busFor(t)
  const [a, b] = await pair(t)
  const inbox = { a: bus.endpoint('agent/a'), b: bus.endpoint('agent/b') }
  a.serveRoutes(bus, 'agent/')
  b.serveRoutes(bus, 'agent/')
  const router = new Router(bus, a, { prefix: 'agent/' })
  const expected = { a: [], b: [] }
  for (const k of KEYS) {
    const d = router.route(k, k)
    assert.equal(d.owner, a.locate(k))
    assert.equal(d.owner, b.locate(k))
    assert.equal(d.isLocal, d.owner === 'a')
    expected[d.owner].push(k)
  }
  await router.flush(15_000)
  const s = router.stats()
  const remote = expected.b.length
  assert.ok(remote > 0 && remote < KEYS.length)
  assert.deepEqual([s.local, s.remote, s.failed], [KEYS.length - remote, remote, 0])
  assert.deepEqual([s.sent, s.acked, s.pending], [remote, remote, 0])
  assert.deepEqual(await drain(inbox.a, expected.a.length), expected.a)
  assert.deepEqual(await drain(inbox.b, remote), expected.b)
  await eventually('b counts its deliveries', () => b.status().routes_delivered === BigInt(remote))
  assert.equal(a.status().routes_delivered, 0n)
  b.stopServingRoutes()
})

test('the router of a closed node throws ERR_SHOAL_CLOSED', BOUND, async (t) => {
  const bus = busFor(t)
  const [a] = await pair(t)
  const router = new Router(bus, a)
  await a.close()
  const closed = { name: 'Error', code: 'ERR_SHOAL_CLOSED' }
  assert.throws(() => router.route('k', 'v'), closed)
  assert.throws(() => router.destination('k'), closed)
  assert.throws(() => new Router(bus, a), closed)
  assert.throws(() => a.serveRoutes(bus), closed)
})
