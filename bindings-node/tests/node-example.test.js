// The TypeScript example service (examples/node/service.ts) compiles with tsc against
// the package's declarations and runs to completion by itself: every topic answered
// by its owner on the ring. Compiled into a temporary folder whose node_modules/shoal
// links to this package, and killed if it outlives its time bound.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')

const PKG = path.resolve(__dirname, '..')
const EXAMPLE = path.resolve(PKG, '..', 'examples', 'node')
const TSC = path.join(PKG, 'node_modules', 'typescript', 'bin', 'tsc')

/** Runs `node args` in `cwd`; resolves with the exit code and output, or kills it
 * after `ms`. */
function run(args, ms, t) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { err += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), ms)
    t.after(() => { clearTimeout(timer); child.kill('SIGKILL') })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, out, err })
    })
  })
}

test('the TypeScript example compiles and runs to completion', { timeout: 120_000 }, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-node-example-'))
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }))
  fs.mkdirSync(path.join(tmp, 'node_modules'))
  fs.symlinkSync(PKG, path.join(tmp, 'node_modules', 'shoal'), 'dir')
  const out = path.join(tmp, 'out')

  const tsc = await run([TSC, '-p', EXAMPLE, '--noEmit', 'false', '--outDir', out], 60_000, t)
  assert.equal(tsc.code, 0, tsc.out + tsc.err)

  const service = await run([path.join(out, 'service.js')], 45_000, t)
  assert.equal(service.signal, null, 'the example did not stop by itself')
  assert.equal(service.code, 0, service.out + service.err)
  assert.match(service.out, /placement agrees with the ring/)
  assert.match(service.out, /routed 8 over tcp, 8 acknowledged, 0 misplaced/)
  assert.match(service.out, /done: 8 topics answered by their owners/)
})
