// Node: gossip membership on loopback — convergence, placement agreement with Ring,
// metadata, events (async iterator, timeouts, end on close), a killed member detected,
// keys, errors, and a process that exits by itself with nodes open.
//
// Every node binds 127.0.0.1 port 0 and is closed by its test; every test has a time
// bound (node:test `timeout`), and child processes are killed in `after` hooks.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')
const shoal = require('..')
const { Node, Ring } = shoal
const { keys } = require('./helpers.js')

const PKG = path.resolve(__dirname, '..')
const BOUND = { timeout: 60_000 }
const KEYS = keys(300)

/** Polls `ok()` every 50 ms until it is truthy; fails after `ms`. */
async function eventually(what, ok, ms = 15_000) {
  const end = Date.now() + ms
  for (;;) {
    if (await ok()) return
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Starts nodes and closes them after the test. */
function starter(t) {
  const started = []
  t.after(() => Promise.all(started.map((n) => n.close())))
  return async (options) => {
    const n = await Node.start({ protocol: 'fast', ...options })
    started.push(n)
    return n
  }
}

/** Nodes `specs` = [[id, weight], ...]; the first seeds the others. Waits until every
 * node sees all and they place keys alike. */
async function cluster(start, specs, options = {}) {
  const first = await start({ id: specs[0][0], weight: specs[0][1], ...options })
  const rest = []
  for (const [id, weight] of specs.slice(1)) {
    rest.push(await start({ id, weight, seeds: [first.address], ...options }))
  }
  const everyone = [first, ...rest]
  await eventually('every node sees all', () =>
    everyone.every((n) => n.members().length === specs.length))
  await eventually('one placement', () =>
    new Set(everyone.map((n) => n.placementDigest())).size === 1)
  return everyone
}

/** Reads events until `pred(ev)` holds; returns every event read. */
async function until(events, pred, ms = 15_000) {
  const seen = []
  const end = Date.now() + ms
  while (Date.now() < end) {
    const ev = await events.nextEvent(500)
    if (ev === null) continue
    seen.push(ev)
    if (pred(ev)) return seen
  }
  assert.fail(`no such event within ${ms} ms; saw ${JSON.stringify(seen.map((e) => [e.kind, e.member.id]))}`)
}

test('three nodes converge and place keys like a Ring', BOUND, async (t) => {
  const specs = [['query', 100], ['media', 80], ['insight', 120]]
  const everyone = await cluster(starter(t), specs, { role: 'engine', vnodes: 1 })
  const expected = specs.map(([id, w]) => [id, w, 'alive', 'engine']).sort()
  for (const n of everyone) {
    assert.deepEqual(n.members().map((m) => [m.id, m.weight, m.status, m.role]), expected)
  }
  const ring = new Ring(1)
  for (const [id, weight] of specs) ring.add(id, { weight })
  assert.equal(ring.pointCount, 300)
  assert.equal(everyone[0].placementDigest(), ring.layoutDigest())
  const owners = ring.locateMany(KEYS)
  for (const n of everyone) {
    assert.deepEqual(KEYS.map((k) => n.locate(k)), owners)
  }
  // Bytes keys hash like their string.
  assert.equal(everyone[1].locate(Buffer.from('order-7')), ring.locate('order-7'))
  assert.deepEqual(new Set(KEYS.map((k) => everyone[2].locate(k))), new Set(['query', 'media', 'insight']))
  await eventually('one membership view', () =>
    new Set(everyone.map((n) => n.membershipDigest())).size === 1)
})

test('member records, status counters and updateMeta', BOUND, async (t) => {
  const [a, b] = await cluster(starter(t), [['a', 1], ['b', 2]], { role: 'worker' })
  const me = a.localMember()
  assert.equal(me.id, 'a')
  assert.equal(me.address, a.address)
  assert.equal(me.status, 'alive')
  assert.equal(me.live, true)
  assert.equal(me.role, 'worker')
  assert.equal(me.weight, 1)
  assert.equal(me.zone, undefined)
  assert.equal(typeof me.incarnation, 'bigint')
  assert.equal(a.id, 'a')
  assert.equal(a.address, a.localAddress)
  const [host, port] = a.address.split(':')
  assert.equal(host, '127.0.0.1')
  assert.ok(Number(port) > 0)

  await eventually('packets counted', () => a.status().received_packets > 0n)
  const s = a.status()
  for (const name of ['sent_packets', 'probes', 'placement_rebuilds', 'routes_delivered']) {
    assert.equal(typeof s[name], 'bigint', name)
  }
  assert.equal(s.routes_delivered, 0n)

  const events = b.events()
  const before = b.placementDigest()
  a.updateMeta({ weight: 5, zone: 'z1' })
  const seen = await until(events, (e) => e.kind === 'updated' && e.member.id === 'a')
  const e = seen.at(-1)
  assert.deepEqual([e.member.weight, e.member.zone, e.member.role], [5, 'z1', 'worker'])
  await eventually('placement follows', () => b.placementDigest() !== before)
  const ring = new Ring()
  ring.add('a', { weight: 5, zone: 'z1' })
  ring.add('b', { weight: 2 })
  await eventually('b places like the ring', () => b.placementDigest() === ring.layoutDigest())
  await eventually('a places like the ring', () => a.placementDigest() === ring.layoutDigest())
  // Partial update: the role is kept, "" clears the zone.
  a.updateMeta({ zone: '' })
  await eventually('zone cleared', () => {
    const m = b.members().find((m) => m.id === 'a')
    return m.role === 'worker' && m.weight === 5 && m.zone === undefined
  })
  assert.throws(() => a.updateMeta({ weight: -3 }), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
  assert.throws(() => a.updateMeta({ weight: 1.5 }), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
  events.return()
})

test('events: joined, then left when a node closes; for await ends on close', BOUND, async (t) => {
  const start = starter(t)
  const a = await start({ id: 'a' })
  const events = a.events()
  const b = await start({ id: 'b', seeds: [a.address] })
  const first = await events.nextEvent(15_000)
  assert.deepEqual([first.kind, first.member.id, first.member.address], ['joined', 'b', b.address])
  await b.close()
  assert.equal(b.closed, true)
  const seen = await until(events, (e) => e.kind === 'left')
  const left = seen.at(-1)
  assert.equal(left.member.id, 'b')
  assert.equal(left.member.status, 'left')
  assert.equal(left.member.live, false)
  await eventually('b gone', () => a.members().map((m) => m.id).join() === 'a')
  assert.deepEqual(a.members(false).filter((m) => m.id === 'b').map((m) => m.status), ['left'])

  // A loop over a subscription ends once its node is closed; a wait pending at the
  // close settles with the end.
  const loop = (async () => {
    const kinds = []
    for await (const e of a.events()) kinds.push(e.kind)
    return kinds
  })()
  const pending = events.next()
  await a.close()
  const kinds = await loop
  assert.ok(kinds.every((k) => typeof k === 'string'))
  let step = await pending
  // The node's own goodbye may come first; then the end.
  while (!step.done) step = await events.next()
  assert.equal(step.done, true)
  assert.equal(await events.nextEvent(1000), null)
  assert.equal(events.closed, true)
  assert.throws(() => a.events(), { name: 'Error', code: 'ERR_SHOAL_CLOSED' })
})

test('events: nextEvent times out with null, tryNext never waits, return ends', BOUND, async (t) => {
  const a = await starter(t)({ id: 'a' })
  const events = a.events()
  assert.equal(await events.nextEvent(200), null)
  assert.equal(await events.nextEvent(0), null)
  assert.equal(events.tryNext(), null)
  assert.equal(events.closed, false)
  assert.equal(typeof events[Symbol.asyncIterator], 'function')
  assert.equal(events[Symbol.asyncIterator](), events)
  const pending = events.next()
  assert.deepEqual(await events.return(), { done: true })
  assert.deepEqual(await pending, { done: true })
  assert.equal(events.closed, true)
  assert.throws(() => events.nextEvent(-1), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
  // `break` in a loop ends the subscription too.
  const b = await Node.start({ id: 'b', seeds: [a.address], protocol: 'fast' })
  t.after(() => b.close())
  for await (const e of a.events()) {
    assert.equal(e.member.id, 'b')
    break
  }
})

// A child process running one node; prints its address, then idles until killed.
const VICTIM = `
const { Node } = require(process.argv[1])
Node.start({ id: 'victim', seeds: [process.argv[2]], protocol: 'fast' }).then((n) => {
  console.log(n.address)
  setInterval(() => {}, 1000)
})
`

function run(args, t) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => child.kill('SIGKILL'))
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  return { child, exited }
}

test('a killed member process is detected as failed', BOUND, async (t) => {
  const a = await starter(t)({ id: 'watcher' })
  const events = a.events()
  const { child, exited } = run(['-e', VICTIM, PKG, a.address], t)
  const joined = await until(events, (e) => e.kind === 'joined')
  assert.equal(joined.at(-1).member.id, 'victim')
  child.kill('SIGKILL')
  assert.equal((await exited).signal, 'SIGKILL')
  const seen = await until(events, (e) => e.kind === 'failed', 30_000)
  const failed = seen.at(-1)
  assert.equal(failed.member.id, 'victim')
  assert.equal(failed.member.status, 'dead')
  await eventually('only the watcher is placed', () => a.locate('anything') === 'watcher')
  events.return()
})

// Two open nodes and an open subscription: the process still ends by itself, and a
// pending wait settles when its node closes.
const OPEN = `
const { Node } = require(process.argv[1])
;(async () => {
  const a = await Node.start({ id: 'a' })
  const b = await Node.start({ id: 'b', seeds: [a.address] })
  a.events()
  const c = await Node.start({ id: 'c' })
  const pending = c.events().next()
  await c.close()
  const step = await pending
  console.log(JSON.stringify({ done: step.done, members: b.members().length > 0 }))
})()
`

test('a process with open nodes exits by itself', BOUND, async (t) => {
  const { child, exited } = run(['-e', OPEN, PKG], t)
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  const { code } = await exited
  assert.equal(code, 0)
  const last = JSON.parse(out.trim().split('\n').at(-1))
  assert.equal(last.members, true)
})

test('gossip keys: members sharing a key join; bad keys are refused', BOUND, async (t) => {
  const start = starter(t)
  const k1 = 'ab'.repeat(32)
  const k2 = Buffer.alloc(32, 7)
  const a = await start({ id: 'a', keys: [k1], encrypt: true })
  const b = await start({ id: 'b', keys: [k1, k2], encrypt: true, seeds: [a.address] })
  await eventually('joined with keys', () => a.members().length === 2 && b.members().length === 2)
  // Rotation: add k2 on a, make it primary everywhere, drop k1.
  a.setKeys([k1, k2])
  a.setKeys([k2, k1])
  b.setKeys([k2])
  a.setKeys([k2])
  a.updateMeta({ role: 'rotated' })
  await eventually('gossip still flows', () =>
    b.members().find((m) => m.id === 'a').role === 'rotated')
  for (const bad of [[], ['abc'], [Buffer.alloc(31)]]) {
    assert.throws(() => a.setKeys(bad), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
  }
  await assert.rejects(Node.start({ keys: [Buffer.alloc(5)] }), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
})

test('a table placement agrees across members', BOUND, async (t) => {
  const everyone = await cluster(starter(t), [['a', 1], ['b', 2], ['c', 3]], {
    placement: 'table', partitions: 256, mode: 'balanced',
  })
  const owners = KEYS.slice(0, 100).map((k) => everyone[0].locate(k))
  for (const n of everyone.slice(1)) {
    assert.deepEqual(KEYS.slice(0, 100).map((k) => n.locate(k)), owners)
  }
  assert.deepEqual(new Set(owners), new Set(['a', 'b', 'c']))
})

test('options and closed nodes give typed errors', BOUND, async (t) => {
  const invalid = { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' }
  await assert.rejects(Node.start({ bind: 'not an address' }), invalid)
  await assert.rejects(Node.start({ seeds: ['127.0.0.1'] }), invalid)
  await assert.rejects(Node.start({ weight: -1 }), invalid)
  await assert.rejects(Node.start({ placement: 'tree' }), invalid)
  await assert.rejects(Node.start({ protocol: 'slow' }), invalid)
  await assert.rejects(Node.start({ hash: 'md4' }), invalid)
  await assert.rejects(Node.start({ id: '' }), invalid)
  await assert.rejects(Node.start({ bind: '0.0.0.0:0' }), invalid)
  // A static method: napi-rs's own type errors cannot be rethrown by index.js, so the
  // binding checks the type itself.
  const wrongType = { name: 'TypeError', code: 'ERR_SHOAL_INVALID_TYPE' }
  for (const bad of [5, 'x', [1], true]) assert.throws(() => Node.start(bad), wrongType)
  assert.throws(() => Node.start({ bind: 7 }), wrongType)
  assert.throws(() => Node.start({ seeds: 'a:1' }), wrongType)
  assert.throws(() => new Node())

  const a = await Node.start({ id: 'a' })
  const taken = Node.start({ bind: a.address })
  await assert.rejects(taken, { name: 'Error', code: 'ERR_SHOAL_NET' })
  assert.throws(() => a.locate(5), { name: 'TypeError', code: 'ERR_SHOAL_INVALID_TYPE' })
  const closing = a.close()
  assert.equal(a.closed, true)
  await Promise.all([closing, a.close()])
  await a.close()
  const closed = { name: 'Error', code: 'ERR_SHOAL_CLOSED' }
  for (const call of [
    () => a.members(), () => a.localMember(), () => a.locate('k'), () => a.placementDigest(),
    () => a.membershipDigest(), () => a.status(), () => a.updateMeta({ role: 'x' }),
    () => a.setKeys(['ab'.repeat(32)]), () => a.events(),
  ]) {
    assert.throws(call, closed)
  }
  assert.equal(a.id, 'a')
})
