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

function args() {
  const a = process.argv.slice(2)
  const opt = { keys: 200000, rounds: 5, nodes: [10, 100, 1000] }
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--keys') opt.keys = Number(a[++i])
    else if (a[i] === '--rounds') opt.rounds = Number(a[++i])
    else if (a[i] === '--nodes') {
      opt.nodes = []
      while (i + 1 < a.length && !a[i + 1].startsWith('--')) opt.nodes.push(Number(a[++i]))
    } else throw new RangeError(`unknown argument ${a[i]}`)
  }
  return opt
}

function median(xs) {
  const s = [...xs].sort((x, y) => x - y)
  return s[Math.floor(s.length / 2)]
}

function rate(fn, n) {
  const t = process.hrtime.bigint()
  fn()
  return n / (Number(process.hrtime.bigint() - t) / 1e9)
}

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
  // Warm-up (JIT, caches), then alternating timed rounds.
  for (const fn of Object.values(contenders)) fn()
  const rates = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]))
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(contenders)) rates[name].push(rate(fn, keys.length))
  }
  if (sink < 0) console.log(sink)
  return Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, median(v)]))
}

function main() {
  const opt = args()
  const keys = Array.from({ length: opt.keys }, (_, i) =>
    `key-${shoal.splitmix64(BigInt(i)).toString(16).padStart(16, '0')}`,
  )
  console.log(
    `ring lookups/s, median of ${opt.rounds} alternating rounds of ${opt.keys} keys; ` +
      `Node ${process.version}, ${process.arch}`,
  )
  console.log(' nodes  contender                              lookups/s  vs hashring')
  for (const n of opt.nodes) {
    const r = bench(n, keys, opt.rounds)
    const anchor = r['hashring get']
    for (const [name, v] of Object.entries(r)) {
      console.log(
        `${String(n).padStart(6)}  ${name.padEnd(34)} ${Math.round(v).toLocaleString('en-US').padStart(14)}  ${(v / anchor).toFixed(1).padStart(9)}x`,
      )
    }
  }
}

main()
