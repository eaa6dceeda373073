// What one call into the addon costs, by kind of call: ns per call (median of 5
// passes over 200 000 calls). Used to see where single-lookup time goes.
//
//   node bindings-node/bench/calls.js
'use strict'

const shoal = require('..')

const ring = new shoal.Ring()
for (let i = 0; i < 100; i++) ring.add(`10.0.0.${i}:11211`)
const keys = Array.from({ length: 200000 }, (_, i) => `key-${i.toString(16).padStart(16, '0')}`)
let sink = 0
const calls = {
  'ring.size (getter, no argument)': () => {
    for (let i = 0; i < keys.length; i++) sink += ring.size
  },
  'keyHash(k) (free function, string in, bigint out)': () => {
    for (const k of keys) sink += shoal.keyHash(k) > 0n ? 1 : 0
  },
  'ring.has(k) (method, string in, bool out)': () => {
    for (const k of keys) sink += ring.has(k) ? 1 : 0
  },
  'ring.locate(k) (method, string in, string out)': () => {
    for (const k of keys) sink += ring.locate(k).length
  },
  'Buffer.byteLength(k) (JS built-in, for scale)': () => {
    for (const k of keys) sink += Buffer.byteLength(k)
  },
}
const times = Object.fromEntries(Object.keys(calls).map((k) => [k, []]))
for (let pass = 0; pass < 6; pass++) {
  for (const [name, fn] of Object.entries(calls)) {
    const t = process.hrtime.bigint()
    fn()
    if (pass > 0) times[name].push(Number(process.hrtime.bigint() - t) / keys.length)
  }
}
for (const [name, v] of Object.entries(times)) {
  v.sort((a, b) => a - b)
  console.log(`${v[2].toFixed(0).padStart(6)} ns  ${name}`)
}
if (sink < 0) console.log(sink)
