// Helpers of the bus tests: unique bus names, segment clean-up, the segment's
// mappings in /proc/self/maps, and peer processes whose every wait is bounded.
'use strict'

const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..', '..')
const NODE_PEER = path.join(__dirname, 'bus_peer.js')
const PY_PEER = path.join(__dirname, 'bus_python_peer.py')
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python')

let counter = 0

/** A bus name no other test (or test run) uses. */
function busName(tag = 't') {
  counter += 1
  return `node-${tag}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`
}

/** The segment file of bus `name`. */
function segment(name) {
  return `/dev/shm/shoal-${name}`
}

/** Removes whatever a test left of bus `name` (its segment and large-message ones). */
function cleanup(name) {
  for (const f of fs.readdirSync('/dev/shm')) {
    if (f === `shoal-${name}` || f.startsWith(`shoal-${name}.`)) {
      try {
        fs.unlinkSync(path.join('/dev/shm', f))
      } catch {}
    }
  }
}

/** Address ranges where this process maps the segment of bus `name`. */
function mappings(name) {
  const out = []
  for (const line of fs.readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const fields = line.trim().split(/\s+/)
    if (fields.length >= 6 && fields.slice(5).join(' ') === segment(name)) {
      const [lo, hi] = fields[0].split('-').map((x) => BigInt(`0x${x}`))
      out.push([lo, hi])
    }
  }
  return out
}

/** A peer process that reports one event per stdout line. */
class Peer {
  constructor(command, args) {
    this.proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.lines = []
    this.waiters = []
    this.err = ''
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })))
    let pending = ''
    this.proc.stdout.setEncoding('utf8')
    this.proc.stdout.on('data', (chunk) => {
      pending += chunk
      let i
      while ((i = pending.indexOf('\n')) >= 0) {
        this.lines.push(pending.slice(0, i))
        pending = pending.slice(i + 1)
        this.wake()
      }
    })
    this.proc.stderr.setEncoding('utf8')
    this.proc.stderr.on('data', (chunk) => {
      this.err += chunk
    })
    this.proc.on('exit', () => this.wake())
  }

  static node(...args) {
    return new Peer(process.execPath, [NODE_PEER, ...args])
  }

  static python(...args) {
    return new Peer(PYTHON, [PY_PEER, ...args])
  }

  wake() {
    for (const w of this.waiters.splice(0)) w()
  }

  /** Waits (at most `ms`) for a stdout line matching `re`; returns it. */
  async expect(re, ms = 15000) {
    const until = Date.now() + ms
    for (;;) {
      const i = this.lines.findIndex((l) => re.test(l))
      if (i >= 0) return this.lines.splice(0, i + 1)[i]
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(`peer exited before ${re}: lines ${JSON.stringify(this.lines)}, stderr ${this.err}`)
      }
      const left = until - Date.now()
      if (left <= 0) throw new Error(`peer did not print ${re} within ${ms} ms: stderr ${this.err}`)
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  /** Waits (at most `ms`) for the peer to exit; kills it if it does not. */
  async wait(ms = 15000) {
    let timer
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), ms)
    })
    const r = await Promise.race([this.exited, timeout])
    clearTimeout(timer)
    if (r === null) {
      this.kill()
      throw new Error(`peer did not exit within ${ms} ms: stderr ${this.err}`)
    }
    return r
  }

  kill(signal = 'SIGKILL') {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal)
  }
}

/** Polls `check` (at most `ms`) until it returns a truthy value; returns it. */
async function eventually(check, ms = 10000, what = 'condition') {
  const until = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v) return v
    if (Date.now() > until) throw new Error(`${what} not reached within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

module.exports = { busName, cleanup, mappings, segment, Peer, eventually, PYTHON, ROOT }
