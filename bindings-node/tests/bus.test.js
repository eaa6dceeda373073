// The bus in one process: API, errors, zero copy, pub/sub, Promise calls, release.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const { Bus, Sender, Receiver, release, bufferInfo } = require('..')
const { busName, cleanup, mappings, segment } = require('./bus_helpers')

/** Runs `fn(bus, name)` on a fresh small bus, then closes and removes it. */
function withBus(fn, options = { pool: 'small' }) {
  return async () => {
    const name = busName()
    const bus = Bus.create(name, options)
    try {
      await fn(bus, name)
    } finally {
      bus.close()
      cleanup(name)
    }
  }
}

function code(c, cls = Error) {
  return (e) => e instanceof cls && e.code === c
}

test('create, open, close and their errors', withBus(async (bus, name) => {
  assert.equal(bus.name, name)
  assert.equal(bus.closed, false)
  assert.ok(fs.existsSync(segment(name)))
  const other = Bus.open(name)
  assert.equal(other.name, name)
  assert.throws(() => Bus.create(name), code('ERR_SHOAL_BUS_EXISTS'))
  assert.throws(() => Bus.open(busName('missing')), code('ERR_SHOAL_BUS_NOT_FOUND'))
  assert.throws(() => Bus.create('bad name!'), code('ERR_SHOAL_INVALID_ARGUMENT', RangeError))
  assert.throws(() => Bus.create(42), code('ERR_SHOAL_INVALID_TYPE', TypeError))
  assert.throws(() => Bus.open(null), code('ERR_SHOAL_INVALID_TYPE', TypeError))
  assert.throws(() => Bus.create(busName(), 3), code('ERR_SHOAL_INVALID_TYPE', TypeError))
  assert.throws(() => Bus.create(busName(), { pool: 'huge' }), code('ERR_SHOAL_INVALID_ARGUMENT', RangeError))
  assert.throws(() => Bus.create(busName(), { laneCapacity: -1 }), code('ERR_SHOAL_INVALID_ARGUMENT', RangeError))
  assert.throws(() => Bus.create(busName(), { laneCapacity: 'x' }), code('ERR_SHOAL_INVALID_TYPE', TypeError))
  other.close()
  other.close()
  assert.equal(other.closed, true)
  assert.throws(() => other.endpoint('e'), code('ERR_SHOAL_CLOSED'))
  assert.throws(() => other.loan(8), code('ERR_SHOAL_CLOSED'))
  assert.throws(() => other.stats(), code('ERR_SHOAL_CLOSED'))
}))

test('argument errors are TypeError / RangeError with codes', withBus(async (bus) => {
  const rx = bus.endpoint('e')
  const tx = bus.sender('e')
  assert.throws(() => bus.endpoint(3), code('ERR_SHOAL_INVALID_TYPE', TypeError))
  assert.throws(() => bus.endpoint('e'), code('ERR_SHOAL_BUS_EXISTS'))
  assert.throws(() => bus.endpoint('x', { backpressure: 'later' }), code('ERR_SHOAL_INVALID_ARGUMENT', RangeError))
  assert.throws(() => bus.endpoint('x', { wait: 'spin', spins: 3 }), code('ERR_SHOAL_INVALID_ARGUMENT', RangeError))
  assert.throws(() => bus.sender('nobody'), code('ERR_SHOAL_BUS_NOT_FOUND'))
  for (const n of [-1, 1.5, NaN, Infinity]) {
    assert.throws(() => tx.loan(n), code('ERR_SHOAL_INVALID_ARGUMENT', RangeError), String(n))
  }
  assert.throws(() => tx.loan(0), code('ERR_SHOAL_INVALID_ARGUMENT', RangeError))
  assert.throws(() => tx.loan('8'), code('ERR_SHOAL_INVALID_TYPE', TypeError))
  assert.throws(() => tx.sendSync(Buffer.from('not a loan')), code('ERR_SHOAL_INVALID_ARGUMENT', RangeError))
  assert.throws(() => tx.sendSync('text'), code('ERR_SHOAL_INVALID_TYPE', TypeError))
  assert.throws(() => tx.sendSync(new Uint16Array(4)), code('ERR_SHOAL_INVALID_TYPE', TypeError))
  const b = tx.loan(8)
  assert.throws(() => tx.sendSync(b.subarray(1)), code('ERR_SHOAL_INVALID_ARGUMENT', RangeError))
  assert.throws(() => tx.sendSync(b, 9), code('ERR_SHOAL_INVALID_ARGUMENT', RangeError))
  assert.throws(() => tx.sendCopySync(12), code('ERR_SHOAL_INVALID_TYPE', TypeError))
  await assert.rejects(async () => rx.recv({ timeout: -5 }), code('ERR_SHOAL_INVALID_ARGUMENT', RangeError))
  // A refused send leaves the loan usable.
  b.write('still ok')
  tx.sendSync(b)
  assert.equal(rx.tryRecv().toString(), 'still ok')
}))

test('zero copy: the receiver reads the loaned memory, inside the mapped segment', withBus(async (bus, name) => {
  const rx = bus.endpoint('e')
  const tx = bus.sender('e')
  const b = tx.loan(64)
  const loanInfo = bufferInfo(b)
  assert.equal(loanInfo.kind, 'loan')
  assert.equal(loanInfo.length, 64)
  b.write('in place')
  tx.sendSync(b)
  assert.equal(b.length, 0, 'a sent loan is detached: JavaScript cannot write into it any more')
  assert.equal(bufferInfo(b).kind, undefined)

  const m = rx.tryRecv()
  const info = bufferInfo(m)
  assert.equal(info.kind, 'message')
  assert.equal(info.address, loanInfo.address, 'the message is the loaned memory, not a copy')
  assert.equal(info.offset, loanInfo.offset)
  const ranges = mappings(name)
  assert.ok(ranges.length > 0, 'the bus segment is mapped')
  assert.ok(ranges.some(([lo, hi]) => lo <= info.address && info.address + 64n <= hi), 'the Buffer points into the segment')
  assert.equal(m.subarray(0, 8).toString(), 'in place')
  assert.equal(release(m), true)
  assert.equal(m.length, 0)
  assert.equal(release(m), false)
  assert.equal(release(Buffer.from('x')), false)
  assert.throws(() => release('x'), code('ERR_SHOAL_INVALID_TYPE', TypeError))
  assert.equal(bufferInfo(Buffer.from('x')).kind, undefined)
}))

test('send a prefix: length argument and subarray(0, n)', withBus(async (bus) => {
  const rx = bus.endpoint('e')
  const tx = bus.sender('e')
  const a = tx.loan(16)
  a.write('abcdefghijklmnop')
  tx.sendSync(a, 3)
  const b = tx.loan(16)
  b.write('ABCDEFGHIJKLMNOP')
  tx.sendSync(b.subarray(0, 5))
  assert.equal(b.length, 0)
  assert.equal(rx.tryRecv().toString(), 'abc')
  assert.equal(rx.tryRecv().toString(), 'ABCDE')
  assert.equal(rx.tryRecv(), null)
}))

test('copies, strings, batches and empty messages', withBus(async (bus) => {
  const rx = bus.endpoint('e')
  const tx = bus.sender('e')
  tx.sendCopySync('héllo')
  tx.sendCopySync(new Uint8Array([1, 2, 3]))
  tx.sendCopySync(Buffer.alloc(0))
  await tx.sendCopy('async copy')
  for (let i = 0; i < 10; i++) tx.sendBatched(`b${i}`)
  tx.flush()
  assert.equal(rx.tryRecv().toString(), 'héllo')
  assert.deepEqual([...rx.tryRecv()], [1, 2, 3])
  assert.equal(rx.tryRecv().length, 0)
  assert.equal(rx.tryRecv().toString(), 'async copy')
  for (let i = 0; i < 10; i++) {
    const m = rx.tryRecv()
    assert.equal(m.toString(), `b${i}`)
    assert.equal(bufferInfo(m).batched, true)
  }
  assert.equal(rx.tryRecv(), null)
}))

test('Promise calls: recv waits off the event loop, in call order, with timeouts', withBus(async (bus) => {
  const rx = bus.endpoint('e')
  const tx = bus.sender('e')
  const first = rx.recv({ timeout: 5000 })
  const second = rx.recv({ timeout: 5000 })
  assert.equal(rx.tryRecv(), null, 'tryRecv yields to pending recv calls')
  // The event loop keeps running while both wait.
  let ticks = 0
  await new Promise((resolve) => {
    const iv = setInterval(() => {
      ticks += 1
      if (ticks === 3) {
        clearInterval(iv)
        resolve()
      }
    }, 5)
  })
  const one = tx.loan(3)
  one.write('one')
  await tx.send(one)
  await tx.sendCopy('two')
  const [a, b] = await Promise.all([first, second])
  assert.equal(a.toString(), 'one')
  assert.equal(b.toString(), 'two')
  await assert.rejects(rx.recv({ timeout: 10 }), code('ERR_SHOAL_TIMEOUT'))
}))

test('Promise sends keep their order, wait off the event loop, and refuse overtaking sync sends', withBus(async (bus) => {
  const rx = bus.endpoint('e')
  const tx = bus.sender('e')
  const sends = []
  // More than the lane holds: the later sends wait for room on a worker.
  for (let i = 0; i < 50; i++) sends.push(tx.sendCopy(`m${i}`))
  assert.throws(() => tx.sendCopySync('overtake'), code('ERR_SHOAL_BUS'))
  for (let i = 0; i < 50; i++) assert.equal((await rx.recv({ timeout: 5000 })).toString(), `m${i}`)
  await Promise.all(sends)
  tx.sendCopySync('now fine')
  assert.equal(rx.tryRecv()?.toString(), 'now fine')
}, { pool: 'small', laneCapacity: 8 }))

test('an object is free for sync calls as soon as its Promise call settled', withBus(async (bus) => {
  // Regression: the Promise used to settle before the call stopped counting as
  // pending, so a sync call right after `await` was refused (sendSync: "busy";
  // tryRecv: null although a message was there) a few times in a hundred.
  const rx = bus.endpoint('e')
  const tx = bus.sender('e')
  for (let i = 0; i < 200; i++) {
    await tx.sendCopy(`p${i}`)
    tx.sendCopySync(`s${i}`)
    const p = await rx.recv({ timeout: 5000 })
    assert.equal(p.toString(), `p${i}`)
    const q = rx.tryRecv()
    assert.equal(q?.toString(), `s${i}`, `round ${i}`)
    release(p)
    release(q)
  }
  assert.equal(bus.stats().allocatedSlots, 0)
}))

test('close: pending recv rejects, senders see the endpoint gone, loans come back', withBus(async (bus) => {
  const rx = bus.endpoint('e')
  const tx = bus.sender('e')
  const pending = rx.recv()
  rx.close()
  rx.close()
  assert.equal(rx.closed, true)
  await assert.rejects(pending, code('ERR_SHOAL_CLOSED'))
  assert.throws(() => rx.tryRecv(), code('ERR_SHOAL_CLOSED'))
  const b = tx.loan(4)
  assert.throws(() => tx.sendSync(b), code('ERR_SHOAL_ENDPOINT_GONE'))
  assert.equal(b.length, 4, 'a failed sync send leaves the loan usable')
  const c = tx.loan(4)
  c.write('back')
  const err = await tx.send(c).then(() => null, (e) => e)
  assert.equal(err.code, 'ERR_SHOAL_ENDPOINT_GONE')
  assert.equal(c.length, 0)
  assert.equal(err.loan.toString(), 'back', 'a failed Promise send hands the loan back as err.loan')
  const rx2 = bus.endpoint('e')
  assert.equal(rx2.name, 'e')
  tx.close()
  assert.throws(() => tx.loan(1), code('ERR_SHOAL_CLOSED'))
  release(b)
  release(err.loan)
  assert.equal(bus.stats().allocatedSlots, 0)
}))

test('backpressure "error" refuses a full lane; "dropOldest" keeps the newest', withBus(async (bus) => {
  const rx = bus.endpoint('full', { backpressure: 'error' })
  const tx = bus.sender('full')
  let sent = 0
  let err
  for (;;) {
    try {
      tx.sendCopySync('x')
      sent += 1
    } catch (e) {
      err = e
      break
    }
    if (sent > 10000) break
  }
  assert.equal(err.code, 'ERR_SHOAL_BUS_FULL')
  assert.equal(sent, 8) // the lane capacity chosen below
  rx.close()
  const drop = bus.endpoint('drop', { backpressure: 'dropOldest' })
  const td = bus.sender('drop')
  for (let i = 0; i < 20; i++) td.sendCopySync(`d${i}`)
  const got = []
  for (let m; (m = drop.tryRecv()); ) got.push(m.toString())
  assert.equal(got.at(-1), 'd19')
  assert.equal(got.length, 8)
  assert.ok(bus.stats().dropped >= 12)
}, { pool: 'small', laneCapacity: 8 }))

test('pub/sub: one write, every subscriber reads the same bytes', withBus(async (bus) => {
  const pub = bus.publisher('news')
  assert.equal(pub.topic, 'news')
  assert.equal(pub.subscriberCount(), 0)
  const buf0 = pub.loan(4)
  assert.equal(pub.publishSync(buf0), 0)
  const s1 = bus.subscribe('news')
  const s2 = bus.subscribe('news')
  assert.equal(s1.subscription, true)
  assert.equal(pub.subscriberCount(), 2)
  const b = pub.loan(5)
  b.write('hello')
  const at = bufferInfo(b).address
  assert.equal(await pub.publish(b), 2)
  const m1 = s1.tryRecv()
  const m2 = s2.tryRecv()
  assert.equal(m1.toString(), 'hello')
  assert.equal(bufferInfo(m1).address, at)
  assert.equal(bufferInfo(m2).address, at)
  assert.equal(await pub.publishCopy('copy'), 2)
  assert.equal(pub.publishCopySync('sync'), 2)
  assert.equal((await s1.recv({ timeout: 1000 })).toString(), 'copy')
  assert.equal((await s2.recv({ timeout: 1000 })).toString(), 'copy')
  s2.close()
  assert.equal(pub.publishCopySync('one'), 1)
  pub.close()
  assert.throws(() => pub.loan(1), code('ERR_SHOAL_CLOSED'))
}))

test('connect waits for the endpoint off the event loop, or times out', withBus(async (bus) => {
  await assert.rejects(bus.connect('later', { timeout: 30 }), code('ERR_SHOAL_BUS_NOT_FOUND'))
  const pending = bus.connect('later', { timeout: 5000 })
  setTimeout(() => bus.endpoint('later'), 20)
  const tx = await pending
  assert.ok(tx instanceof Sender)
  assert.equal(tx.endpoint, 'later')
}))

test('received Buffers go back to the pool on release or garbage collection', withBus(async (bus) => {
  const rx = bus.endpoint('e')
  assert.ok(rx instanceof Receiver)
  const tx = bus.sender('e')
  for (let i = 0; i < 5; i++) tx.sendCopySync('gc me')
  for (let m; (m = rx.tryRecv()); );
  if (typeof global.gc === 'function') {
    global.gc()
    await new Promise((resolve) => setImmediate(resolve))
    global.gc()
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(bus.stats().allocatedSlots, 0)
  }
  const keep = []
  for (let i = 0; i < 5; i++) tx.sendCopySync('release me')
  for (let m; (m = rx.tryRecv()); ) keep.push(m)
  for (const m of keep) assert.equal(release(m), true)
  if (typeof global.gc !== 'function') return
  assert.equal(bus.stats().allocatedSlots, 0)
}))

test('stats and reclaim', withBus(async (bus) => {
  const s = bus.stats()
  assert.equal(s.processes, 1)
  assert.equal(s.endpoints, 0)
  assert.ok(s.totalSlots > 0)
  assert.ok(Array.isArray(s.classes) && s.classes[0].slotSize > 0)
  const r = bus.reclaim()
  assert.equal(r.deadProcesses, 0)
}))
