// Ring lookups per second: shoal vs npm `hashring`, same nodes, same keys, same run.
//
//   node bindings-node/bench/lookups.js [--keys 200000] [--rounds 5] [--nodes 10 100 1000]
//
// (`make bench-node` runs it.) Rounds alternate between contenders so machine noise
// hits all alike; it prints medians and ratios against hashring of the same run.
// * single: a JS loop calling `hashring.get(k)` vs `ring.locate(k)` (xxh3, 160
//   vnodes) and a ketama ring (40 vnodes: the layout hashring and libketama use);
// * batch: `ring.locateMany(arrayOfKeys)` → array of owners, and
//   `ring.locateMany(BigUint64Array of key hashes)` → Uint32Array of node indices.
//   hashring has no batch call, so its column is its single-lookup loop.
'use strict'

const HashRing = require('hashring')
const shoal = require('..')
const { parseArgs, measure, report } = require('./lookup-harness.js')

function bench(nodes, keys, rounds) {
  const ids = Array.from({ length: nodes }, (_, i) => `10.0.${i >> 8}.${i & 255}:11211`)
  const hr = new HashRing(ids)
  const xx = new shoal.Ring()
  const ke = new shoal.Ring(undefined, 'ketama')
  for (const id of ids) {
    xx.add(id)
    ke.add(id)
  }
  const hashes = BigUint64Array.from(keys, (k) => xx.keyHash(k))
  let sink = 0
  const single = (get) => () => {
    for (let i = 0; i < keys.length; i++) sink += get(keys[i]).length
  }
  const contenders = {
    'hashring get': single((k) => hr.get(k)),
    'shoal locate (xxh3)': single((k) => xx.locate(k)),
    'shoal locate (ketama)': single((k) => ke.locate(k)),
    'shoal locateMany(keys)': () => {
      sink += xx.locateMany(keys).length
    },
    'shoal locateMany(BigUint64Array)': () => {
      sink += xx.locateMany(hashes).length
    },
  }
  const rates = measure(contenders, keys.length, rounds)
  if (sink < 0) console.log(sink)
  return rates
}

function main() {
  const opt = parseArgs()
  const keys = Array.from({ length: opt.keys }, (_, i) =>
    `key-${shoal.splitmix64(BigInt(i)).toString(16).padStart(16, '0')}`,
  )
  report(opt, 'hashring get', (n) => bench(n, keys, opt.rounds))
}

main()
