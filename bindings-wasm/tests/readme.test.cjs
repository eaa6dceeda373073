// The README's JavaScript example runs as written, against bindings-wasm/pkg-node.
'use strict'

const test = require('node:test')
const fs = require('node:fs')
const path = require('node:path')

test('README example runs', () => {
  const text = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')
  const blocks = [...text.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])
  if (blocks.length === 0) throw new Error('no js example in README.md')
  const pkg = require(path.join(__dirname, '..', 'pkg-node', 'shoal_wasm.js'))
  const req = (id) => {
    if (id !== 'shoal-wasm') throw new Error(`unexpected require(${id})`)
    return pkg
  }
  const lines = []
  for (const code of blocks) new Function('require', 'console', code)(req, { log: (s) => lines.push(s) })
  if (!lines.some((l) => /% of keys move$/.test(l))) throw new Error(`output: ${lines}`)
  if (!lines.some((l) => /detected failed after \d+ ms/.test(l))) throw new Error(`output: ${lines}`)
})
