// node-gyp-build's install check (package.json "prebuild.test"): `npm install` skips the source build when this
// loads. It loads what a program would, through the same loader (lib/binaries.ts): the default allocator's
// prebuild, or ARENAKV_MALLOC's. node-gyp-build's own check would load any one of the prebuilds, and all of them
// match its tags alike. On failure node-gyp-build builds from source.
const { join } = require('node:path')
const { pathToFileURL } = require('node:url')

import(pathToFileURL(join(__dirname, '..', 'dist', 'lib', 'native.js')).href).catch((err) => {
  process.stderr.write(`arenakv: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
