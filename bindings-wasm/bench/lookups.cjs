// Ring lookups per second in Node: the WASM package vs the native addon vs npm
// `hashring`, same nodes, same keys, same run (rounds alternate; medians and ratios
// against hashring).
//
//   node bindings-wasm/bench/lookups.cjs [--keys 200000] [--rounds 5] [--nodes 10 100 1000]
//
// (`make bench-wasm` runs it after `make wasm node`.) hashring comes from the Node
// package's dev dependencies.
'use strict'

const path = require('node:path')
const root = path.join(__dirname, '..', '..')
const HashRing = require(path.join(root, 'bindings-node', 'node_modules', 'hashring'))
const native = require(path.join(root, 'bindings-node'))
const wasm = require(path.join(root, 'bindings-wasm', 'pkg-node', 'shoal_wasm.js'))
const { parseArgs, measure, report } = require(path.join(root, 'bindings-node', 'bench', 'lookup-harness.js'))

function bench(nodes, keys, rounds) {
  const ids = Array.from({ length: nodes }, (_, i) => `10.0.${i >> 8}.${i & 255}:11211`)
  const hr = new HashRing(ids)
  const nr = new native.Ring()
  const wr = new wasm.Ring()
  for (const id of ids) {
    nr.add(id)
    wr.add(id)
  }
  let sink = 0
  const single = (get) => () => {
    for (let i = 0; i < keys.length; i++) sink += get(keys[i]).length
  }
  const contenders = {
    'hashring get': single((k) => hr.get(k)),
    'native locate': single((k) => nr.locate(k)),
    'wasm locate': single((k) => wr.locate(k)),
    'native locateMany(keys)': () => {
      sink += nr.locateMany(keys).length
    },
    'wasm locateMany(keys)': () => {
      sink += wr.locateMany(keys).length
    },
    'wasm sampleOwners (hash+lookup in WASM)': () => {
      sink += wr.sampleOwners(keys.length).length
    },
  }
  const rates = measure(contenders, keys.length, rounds)
  if (sink < 0) console.log(sink)
  return rates
}

function main() {
  const opt = parseArgs()
  const keys = Array.from({ length: opt.keys }, (_, i) => wasm.sampleKey(i))
  report(opt, 'hashring get', (n) => bench(n, keys, opt.rounds))
}

main()
