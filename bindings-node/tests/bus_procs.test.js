// The bus between Node processes: echo round trips, a stream in order, and a peer
// killed with SIGKILL while it holds loans and messages.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { Bus, release } = require('..')
const { busName, cleanup, Peer, eventually } = require('./bus_helpers')

test('two Node processes exchange messages (echo)', async () => {
  const name = busName('echo')
  const bus = Bus.create(name, { pool: 'small' })
  const back = bus.endpoint('back')
  const peer = Peer.node('echo', name, 'in', 'back')
  try {
    await peer.expect(/^ready$/)
    const tx = await bus.connect('in', { timeout: 10000 })
    for (let i = 0; i < 200; i++) {
      const b = tx.loan(64)
      b.fill(i % 256)
      b.writeUInt32LE(i, 0)
      await tx.send(b)
      const m = await back.recv({ timeout: 10000 })
      assert.equal(m.length, 64)
      assert.equal(m.readUInt32LE(0), i)
      assert.equal(m[63], i % 256)
      release(m)
    }
    tx.sendCopySync('stop')
    assert.equal((await peer.wait()).code, 0)
  } finally {
    peer.kill()
    bus.close()
    cleanup(name)
  }
})

test('a stream from another Node process arrives complete and in order', async () => {
  const name = busName('stream')
  const bus = Bus.create(name, { pool: 'small', laneCapacity: 16 })
  const rx = bus.endpoint('sink')
  const count = 2000
  const peer = Peer.node('send', name, 'sink', String(count), '100')
  try {
    await peer.expect(/^ready$/)
    for (let i = 0; i < count; i++) {
      const m = await rx.recv({ timeout: 10000 })
      assert.equal(m.readUInt32LE(0), i)
      assert.equal(m[99], i % 256)
      release(m)
    }
    await peer.expect(/^sent 2000$/)
    assert.equal((await peer.wait()).code, 0)
  } finally {
    peer.kill()
    bus.close()
    cleanup(name)
  }
})

test('kill -9 of a peer holding loans and messages: its slots and endpoint come back', async () => {
  const name = busName('kill')
  const bus = Bus.create(name, { pool: 'small' })
  const peer = Peer.node('hold', name, 'victim', '5')
  try {
    await peer.expect(/^ready$/)
    const tx = bus.sender('victim')
    for (let i = 0; i < 5; i++) tx.sendCopySync(`held ${i}`)
    await peer.expect(/^holding 5$/)
    assert.ok(bus.stats().allocatedSlots >= 10)
    peer.kill('SIGKILL')
    const { signal } = await peer.wait()
    assert.equal(signal, 'SIGKILL')
    // A send to the dead consumer fails once repair has run.
    const report = await eventually(() => {
      const r = bus.reclaim()
      return r.deadProcesses > 0 || bus.stats().processes === 1 ? r : null
    }, 10000, 'repair')
    assert.ok(report.deadProcesses >= 0)
    await eventually(() => bus.stats().allocatedSlots === 0, 10000, 'slots given back')
    assert.throws(() => tx.sendCopySync('anyone?'), (e) => e.code === 'ERR_SHOAL_ENDPOINT_GONE')
    // The endpoint's name is free again.
    const again = bus.endpoint('victim')
    const tx2 = bus.sender('victim')
    tx2.sendCopySync('alive')
    assert.equal(again.tryRecv().toString(), 'alive')
    assert.equal(bus.stats().processes, 1)
  } finally {
    peer.kill()
    bus.close()
    cleanup(name)
  }
})
