// What the lookup benchmarks share (bench/lookups.js here and
// bindings-wasm/bench/lookups.cjs): options, alternating timed rounds, the table of
// medians with ratios against npm hashring of the same run.
'use strict'

/** `--keys N --rounds N --nodes A B C` from the command line. */
function parseArgs(argv = process.argv.slice(2)) {
  const opt = { keys: 200000, rounds: 5, nodes: [10, 100, 1000] }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--keys') opt.keys = Number(argv[++i])
    else if (argv[i] === '--rounds') opt.rounds = Number(argv[++i])
    else if (argv[i] === '--nodes') {
      opt.nodes = []
      while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) opt.nodes.push(Number(argv[++i]))
    } else throw new RangeError(`unknown argument ${argv[i]}`)
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

/**
 * Runs every contender once to warm up, then `rounds` alternating timed rounds of
 * `n` lookups each; the median lookups/s per contender.
 */
function measure(contenders, n, rounds) {
  for (const fn of Object.values(contenders)) fn()
  const rates = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]))
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(contenders)) rates[name].push(rate(fn, n))
  }
  return Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, median(v)]))
}

/** Prints the header and, per node count, each contender's rate and ratio to `anchor`. */
function report(opt, anchor, bench) {
  console.log(
    `ring lookups/s, median of ${opt.rounds} alternating rounds of ${opt.keys} keys; ` +
      `Node ${process.version}, ${process.arch}`,
  )
  console.log(' nodes  contender                                   lookups/s  vs hashring')
  for (const n of opt.nodes) {
    const r = bench(n)
    for (const [name, v] of Object.entries(r)) {
      console.log(
        `${String(n).padStart(6)}  ${name.padEnd(40)} ${Math.round(v).toLocaleString('en-US').padStart(14)}  ${(v / r[anchor]).toFixed(1).padStart(9)}x`,
      )
    }
  }
}

module.exports = { parseArgs, measure, report }
