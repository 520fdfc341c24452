#!/usr/bin/env node
// Prepares the pinned gperftools (version.json) for tcmalloc.gyp: fetches and verifies the tarball through the
// fetch order every allocator shares (deps/fetch-source.js), unpacks it into src/, and writes the one header
// gperftools' configure would generate, out/include/gperftools/tcmalloc.h (from its tcmalloc.h.in). Compiling is
// left to node-gyp: tcmalloc.gyp lists the sources (version.json's "sources", the "minimal" set).
// Usage: node build.js [--sources]   (--sources prints the unpacked source paths, relative to this folder)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { readPin, unpackSource } from '../fetch-source.js'

const here = dirname(fileURLToPath(import.meta.url))
export const pin = readPin(here)
export const header = join(here, 'out', 'include', 'gperftools', 'tcmalloc.h')

export async function prepareTcmalloc() {
  const tree = await unpackSource('tcmalloc', here, pin)
  const [major, minor] = pin.version.split('.')
  // What configure substitutes on Linux with glibc: struct mallinfo and std::align_val_t both exist.
  const text = readFileSync(join(tree, 'src', 'gperftools', 'tcmalloc.h.in'), 'utf8')
    .replaceAll('@TC_VERSION_MAJOR@', major)
    .replaceAll('@TC_VERSION_MINOR@', minor)
    .replaceAll('@TC_VERSION_PATCH@', '')
    .replaceAll('@ac_cv_have_struct_mallinfo@', '1')
    .replaceAll('@ac_cv_have_std_align_val_t@', '1')
  if (/@[A-Za-z_]+@/.test(text)) throw new Error(`tcmalloc.h.in has a substitution this script does not know: ${text.match(/@[A-Za-z_]+@/)[0]}`)
  mkdirSync(dirname(header), { recursive: true })
  // Rewritten only when it changes, so make does not rebuild what includes it.
  let old = null
  try { old = readFileSync(header, 'utf8') } catch {}
  if (old !== text) writeFileSync(header, text)
  return tree
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  prepareTcmalloc().then((tree) => {
    if (process.argv[2] === '--sources') {
      for (const s of pin.sources) console.log(relative(here, join(tree, s)))
    }
  }, (err) => {
    process.stderr.write(`[tcmalloc build] ${err.message}\n`)
    process.exit(1)
  })
}
