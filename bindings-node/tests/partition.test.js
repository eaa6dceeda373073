// PartitionTable and simulate: API behaviour and errors.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const shoal = require('..')

test('balanced mode reaches the ideal peak/mean; movement on join is small', () => {
  const ids = Array.from({ length: 10 }, (_, i) => `m${i}`)
  const t = new shoal.PartitionTable(ids, { partitions: 4096, mode: 'balanced' })
  const s = t.stats()
  assert.ok(s.peakToMean <= s.idealPeakToMean + 0.02, `${s.peakToMean} vs ${s.idealPeakToMean}`)
  const t2 = shoal.PartitionTable.fromSnapshot(t.snapshot())
  t2.add('m10')
  const moves = t.diff(t2)
  const toNew = moves.filter((m) => m.to === 'm10').length
  assert.ok(Math.abs(toNew - 4096 / 11) < 2, `${toNew} partitions went to the new member`)
  assert.ok(moves.length < 1.25 * (4096 / 11), `${moves.length} partitions moved`)
})

test('lookups agree: locate, partitionOf + owner, locateHash', () => {
  const t = new shoal.PartitionTable(['a', 'b', { id: 'c', weight: 2 }])
  for (let i = 0; i < 100; i++) {
    const k = `k${i}`
    assert.equal(t.locate(k), t.owner(t.partitionOf(k)))
    assert.equal(t.locateHash(shoal.keyHash(k)), t.locate(k))
  }
  assert.equal(new shoal.PartitionTable().locate('k'), null)
})

test('table errors', () => {
  const t = new shoal.PartitionTable(['a'], { partitions: 16 })
  assert.throws(() => t.owner(16), { name: 'RangeError', code: 'ERR_SHOAL_INVALID_ARGUMENT' })
  assert.throws(() => t.remove('zz'), { name: 'RangeError', code: 'ERR_SHOAL_UNKNOWN_NODE' })
  assert.throws(() => new shoal.PartitionTable([], { mode: 'x' }), { name: 'RangeError' })
  assert.throws(() => t.diff(new shoal.PartitionTable(['a'], { partitions: 32 })), { name: 'RangeError' })
  assert.throws(() => shoal.PartitionTable.fromSnapshot('[]'), { code: 'ERR_SHOAL_SNAPSHOT' })
  for (const bad of [5, {}, null]) {
    assert.throws(() => shoal.PartitionTable.fromSnapshot(bad), { name: 'TypeError', code: 'ERR_SHOAL_INVALID_TYPE' })
  }
  assert.throws(() => new shoal.PartitionTable([5]), { name: 'TypeError', code: 'ERR_SHOAL_INVALID_TYPE' })
})

test('simulate is deterministic and runs off the main thread', async () => {
  let ticks = 0
  const timer = setInterval(() => ticks++, 1)
  const a = await shoal.simulate({ nodes: 200, scenario: 'crash', seed: 7n })
  clearInterval(timer)
  const b = shoal.simulateSync({ nodes: 200, scenario: 'crash', seed: 7n })
  assert.deepEqual(a, b)
  assert.equal(a.scenario, 'crash')
  assert.ok(a.detection.all > 0)
  assert.equal(a.falseFailures, 0)
  assert.ok(ticks > 0, 'the event loop ran while the simulation did')
})

test('simulate rejects bad options with the option name', () => {
  for (const [options, field] of [
    [{ nodes: 1 }, 'nodes'],
    [{ scenario: 'explode' }, 'scenario'],
    [{ protocol: 'raft' }, 'protocol'],
    [{ loss: 1.5 }, 'loss'],
    [{ fanout: 0 }, 'fanout'],
    [{ duration: Infinity }, 'duration'],
    [{ latencyMs: [50, 10] }, 'latencyMs'],
    [{ latencyMs: [1] }, 'latencyMs'],
    [{ churnInterval: 0 }, 'churnInterval'],
  ]) {
    assert.throws(() => shoal.simulate(options), (e) => {
      assert.equal(e.name, 'RangeError')
      assert.equal(e.code, 'ERR_SHOAL_INVALID_ARGUMENT')
      assert.ok(e.message.startsWith(field), e.message)
      return true
    })
  }
})
