// 64-byte round trip between two Node processes: the shoal bus vs a Unix socket
// (`net`) vs child_process IPC, in one run, rounds alternating between transports so
// machine noise hits all three alike. Prints p50/p90/p99 per transport and each
// one's p50 relative to the zero-copy bus row.
//
//   node bindings-node/bench/roundtrip.js [--rounds 5] [--count 2000] [--size 64]
//
// Bus, two ways: zero copy both ways (`loan`, write in place, `sendSync`), and a
// 64-byte `sendCopySync` (no loan Buffer to create and detach; the receiver still
// reads the message in place). Either way the pinging side then polls `tryRecv()`;
// the echo side answers the same way and, once idle for a while, parks in
// `await recv()` so it does not spin while the other transports are measured.
// Received Buffers are `release()`d at once. Socket and IPC use their usual
// callbacks.
'use strict'

const { fork } = require('node:child_process')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const fs = require('node:fs')
const { Bus, release } = require('..')

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : dflt
}

const ROUNDS = arg('rounds', 5)
const COUNT = arg('count', 2000)
const SIZE = arg('size', 64)
const WARMUP = 200
const IDLE_SPINS = 200000

// ---- children -------------------------------------------------------------------

async function busEcho(name) {
  const bus = Bus.open(name)
  const rx = bus.endpoint('ping')
  process.send('ready')
  const tx = await bus.connect('pong', { timeout: 10000 })
  for (;;) {
    let m = null
    for (let i = 0; i < IDLE_SPINS && m === null; i++) m = rx.tryRecv()
    if (m === null) m = await rx.recv()
    if (m.length === 0) break
    if (m[4] === 1) {
      // Zero copy both ways: a loan, written in place.
      const out = tx.loan(m.length)
      m.copy(out)
      release(m)
      tx.sendSync(out)
    } else {
      tx.sendCopySync(m)
      release(m)
    }
  }
  process.exit(0)
}

function socketEcho(sockPath) {
  const server = net.createServer((c) => {
    c.setNoDelay(true)
    c.on('data', (d) => c.write(d))
  })
  server.listen(sockPath, () => process.send('ready'))
  process.on('disconnect', () => process.exit(0))
}

function ipcEcho() {
  process.on('message', (m) => process.send(m))
  process.send('ready')
}

// ---- measuring ------------------------------------------------------------------

function ready(child) {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))))
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)))
  })
}

function busRound(ctx, n, loaned) {
  const { tx, rx } = ctx
  const out = new Float64Array(n)
  const scratch = Buffer.alloc(SIZE)
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint()
    if (loaned) {
      const b = tx.loan(SIZE)
      b.writeUInt32LE(i, 0)
      b[4] = 1
      tx.sendSync(b)
    } else {
      scratch.writeUInt32LE(i, 0)
      tx.sendCopySync(scratch)
    }
    let m = null
    while (m === null) m = rx.tryRecv()
    const t1 = process.hrtime.bigint()
    if (m.readUInt32LE(0) !== i) throw new Error('bus: wrong echo')
    release(m)
    out[i] = Number(t1 - t0) / 1000
  }
  return out
}

function socketRound(sock, n) {
  return new Promise((resolve) => {
    const out = new Float64Array(n)
    const payload = Buffer.alloc(SIZE, 7)
    let i = 0
    let got = 0
    let t0
    const onData = (d) => {
      got += d.length
      if (got < SIZE) return
      got -= SIZE
      out[i] = Number(process.hrtime.bigint() - t0) / 1000
      i += 1
      if (i === n) {
        sock.off('data', onData)
        resolve(out)
        return
      }
      t0 = process.hrtime.bigint()
      sock.write(payload)
    }
    sock.on('data', onData)
    t0 = process.hrtime.bigint()
    sock.write(payload)
  })
}

function ipcRound(child, n) {
  return new Promise((resolve) => {
    const out = new Float64Array(n)
    const payload = 'x'.repeat(SIZE)
    let i = 0
    let t0
    const onMessage = () => {
      out[i] = Number(process.hrtime.bigint() - t0) / 1000
      i += 1
      if (i === n) {
        child.off('message', onMessage)
        resolve(out)
        return
      }
      t0 = process.hrtime.bigint()
      child.send(payload)
    }
    child.on('message', onMessage)
    t0 = process.hrtime.bigint()
    child.send(payload)
  })
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function main() {
  const name = `bench-rt-${process.pid}`
  const sockPath = path.join(os.tmpdir(), `shoal-bench-${process.pid}.sock`)
  const bus = Bus.create(name)
  const pong = bus.endpoint('pong', { wait: 'spin' })
  const children = []
  try {
    const busChild = fork(__filename, ['--child', 'bus', name])
    const sockChild = fork(__filename, ['--child', 'socket', sockPath])
    const ipcChild = fork(__filename, ['--child', 'ipc'])
    children.push(busChild, sockChild, ipcChild)
    await Promise.all(children.map(ready))
    const tx = await bus.connect('ping', { timeout: 10000 })
    const sock = net.createConnection(sockPath)
    sock.setNoDelay(true)
    await new Promise((resolve) => sock.once('connect', resolve))

    const transports = {
      'bus (loan, send)': () => busRound({ tx, rx: pong }, WARMUP + COUNT, true),
      'bus (sendCopy)': () => busRound({ tx, rx: pong }, WARMUP + COUNT, false),
      'unix socket': () => socketRound(sock, WARMUP + COUNT),
      'child_process IPC': () => ipcRound(ipcChild, WARMUP + COUNT),
    }
    const samples = Object.fromEntries(Object.keys(transports).map((k) => [k, []]))
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, run] of Object.entries(transports)) {
        const s = await run()
        samples[k].push(...s.subarray(WARMUP))
      }
    }

    console.log(
      `${SIZE} B round trip between two Node processes, ${ROUNDS} alternating rounds x ${COUNT} ` +
        `(node ${process.version}, ${os.cpus().length} CPUs)`
    )
    console.log('transport              p50 µs   p90 µs   p99 µs   p50 vs bus')
    const busP50 = pct(Float64Array.from(samples['bus (loan, send)']).sort(), 50)
    for (const [k, s] of Object.entries(samples)) {
      const sorted = Float64Array.from(s).sort()
      const [p50, p90, p99] = [50, 90, 99].map((p) => pct(sorted, p))
      console.log(
        `${k.padEnd(22)} ${p50.toFixed(2).padStart(7)}  ${p90.toFixed(2).padStart(7)}  ` +
          `${p99.toFixed(2).padStart(7)}   ${(p50 / busP50).toFixed(1)}x`
      )
    }
    tx.sendCopySync(Buffer.alloc(0)) // stops the bus child
    sock.destroy()
  } finally {
    for (const c of children) {
      if (c.connected) c.disconnect()
      setTimeout(() => c.kill('SIGKILL'), 2000).unref()
    }
    bus.close()
    try {
      fs.unlinkSync(sockPath)
    } catch {}
  }
}

if (process.argv[2] === '--child') {
  const [role, param] = process.argv.slice(3)
  if (role === 'bus') busEcho(param)
  else if (role === 'socket') socketEcho(param)
  else ipcEcho()
} else {
  main().catch((e) => {
    console.error(e)
    process.exitCode = 1
  })
}
