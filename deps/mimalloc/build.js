#!/usr/bin/env node
// Prepares the pinned mimalloc (version.json: Debian's 2.0.9+ds repack of the upstream release) for mimalloc.gyp:
// fetches and verifies the tarball through the fetch order every allocator shares (deps/fetch-source.js) and
// unpacks it into src/. Compiling is left to node-gyp: mimalloc.gyp compiles src/static.c, the one translation
// unit mimalloc provides for a static build.
// Usage: node build.js [--sources]   (--sources prints the unpacked source paths, relative to this folder)
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { readPin, unpackSource } from '../fetch-source.js'

const here = dirname(fileURLToPath(import.meta.url))
export const pin = readPin(here)
export const prepareMimalloc = () => unpackSource('mimalloc', here, pin)

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  prepareMimalloc().then((tree) => {
    if (process.argv[2] === '--sources') {
      for (const s of pin.sources) console.log(relative(here, join(tree, s)))
    }
  }, (err) => {
    process.stderr.write(`[mimalloc build] ${err.message}\n`)
    process.exit(1)
  })
}
