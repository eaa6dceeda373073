// A Node process and a Python process on one bus, both directions.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const { Bus, release, bufferInfo } = require('..')
const { busName, cleanup, Peer, PYTHON } = require('./bus_helpers')

const skip = fs.existsSync(PYTHON) ? false : `no Python package at ${PYTHON} (run make python)`

test('Node sends to Python, Python answers over the same bus', { skip }, async () => {
  const name = busName('py-echo')
  const bus = Bus.create(name, { pool: 'small' })
  const back = bus.endpoint('from-python')
  const peer = Peer.python('echo', name, 'to-python', 'from-python')
  try {
    await peer.expect(/^ready$/)
    const tx = await bus.connect('to-python', { timeout: 10000 })
    for (let i = 0; i < 100; i++) {
      const text = `node ${i} → python`
      const b = tx.loan(Buffer.byteLength(text))
      b.write(text)
      await tx.send(b)
      const m = await back.recv({ timeout: 10000 })
      assert.equal(bufferInfo(m).kind, 'message')
      assert.deepEqual(Buffer.from(m), Buffer.from(text).reverse())
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

test('Python sends a stream to Node in order', { skip }, async () => {
  const name = busName('py-send')
  const bus = Bus.create(name, { pool: 'small', laneCapacity: 16 })
  const rx = bus.endpoint('from-python')
  const peer = Peer.python('send', name, 'from-python', '500')
  try {
    await peer.expect(/^ready$/)
    for (let i = 0; i < 500; i++) {
      const m = await rx.recv({ timeout: 10000 })
      assert.equal(m.toString(), `python ${i}`)
      release(m)
    }
    await peer.expect(/^sent 500$/)
    assert.equal((await peer.wait()).code, 0)
  } finally {
    peer.kill()
    bus.close()
    cleanup(name)
  }
})
