// A second Node process for the bus tests.
//
// `node bus_peer.js ROLE BUS [ARGS...]`. Every role prints `ready` once attached,
// reports on stdout (one line per event), and exits by itself within DEADLINE ms
// (tests kill it sooner).
//
// * `echo BUS IN OUT` - consumes endpoint IN and sends every message back to OUT in a
//   loan of the same size (a copy of its bytes, then releases the message), until a
//   message equal to "stop".
// * `send BUS TO COUNT SIZE` - sends COUNT loaned messages of SIZE bytes: message i is
//   filled with the byte i % 256 and starts with i (u32, little-endian) if SIZE >= 4;
//   prints `sent COUNT`.
// * `hold BUS EP LOANS` - loans LOANS buffers of 100 bytes and keeps them, consumes
//   endpoint EP, keeps every message it receives (printing `holding K`), then idles
//   (to be killed).
'use strict'

const { Bus, release } = require('..')

const DEADLINE = 60000
const start = Date.now()
const left = () => Math.max(1, DEADLINE - (Date.now() - start))
const say = (line) => process.stdout.write(`${line}\n`)
const timer = setTimeout(() => process.exit(3), DEADLINE)

async function main([role, busName, ...args]) {
  const bus = Bus.open(busName)
  if (role === 'echo') {
    const rx = bus.endpoint(args[0])
    say('ready')
    const tx = await bus.connect(args[1], { timeout: 10000 })
    for (;;) {
      const m = await rx.recv({ timeout: left() })
      if (m.toString() === 'stop') break
      const out = tx.loan(m.length)
      m.copy(out)
      release(m)
      await tx.send(out)
    }
  } else if (role === 'send') {
    const tx = await bus.connect(args[0], { timeout: 10000 })
    say('ready')
    const [count, size] = [Number(args[1]), Number(args[2])]
    for (let i = 0; i < count; i++) {
      const b = tx.loan(size)
      b.fill(i % 256)
      if (size >= 4) b.writeUInt32LE(i, 0)
      await tx.send(b)
    }
    say(`sent ${count}`)
  } else if (role === 'hold') {
    const loans = Array.from({ length: Number(args[1]) }, () => bus.loan(100))
    const rx = bus.endpoint(args[0])
    say('ready')
    const held = [loans]
    for (;;) {
      held.push(await rx.recv({ timeout: left() }))
      say(`holding ${held.length - 1}`)
    }
  } else {
    throw new Error(`unknown role ${role}`)
  }
  clearTimeout(timer)
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`${e.stack}\n`)
  process.exit(2)
})
