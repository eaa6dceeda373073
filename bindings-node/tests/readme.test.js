// The README's JavaScript examples run as written (against this package).
'use strict'

const test = require('node:test')
const fs = require('node:fs')
const path = require('node:path')
const Module = require('node:module')

test('README examples run', () => {
  const text = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')
  const blocks = [...text.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])
  if (blocks.length === 0) throw new Error('no js example in README.md')
  const pkg = path.join(__dirname, '..')
  for (const code of blocks) {
    // `require('shoal')` means this package.
    const m = new Module(path.join(pkg, 'readme-example.js'))
    m.paths = Module._nodeModulePaths(pkg)
    const req = (id) => (id === 'shoal' ? require(pkg) : m.require(id))
    new Function('require', 'console', code)(req, { log() {} })
  }
})
