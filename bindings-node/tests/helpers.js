// Shared test helpers: the shared vectors and their key rule.
'use strict'

const fs = require('node:fs')
const path = require('node:path')
// SHOAL_TEST_WASM=1 runs the shared test files against the WASM package
// (bindings-wasm/pkg-node, built by `make wasm`) instead of the native addon.
const WASM = Boolean(process.env.SHOAL_TEST_WASM)
const shoal = WASM
  ? require(path.resolve(__dirname, '..', '..', 'bindings-wasm', 'pkg-node', 'shoal_wasm.js'))
  : require('..')

const VECTORS = path.resolve(__dirname, '..', '..', 'tests', 'vectors')

/** A shared vector file, parsed. */
function load(name) {
  return JSON.parse(fs.readFileSync(path.join(VECTORS, `${name}.json`), 'utf8'))
}

/** The vectors' key rule: "key-" + 16 lowercase hex digits of splitmix64(i). */
function key(i) {
  return `key-${shoal.splitmix64(BigInt(i)).toString(16).padStart(16, '0')}`
}

/** `count` keys by the key rule. */
function keys(count) {
  return Array.from({ length: count }, (_, i) => key(i))
}

module.exports = { load, key, keys, VECTORS, shoal, WASM }
