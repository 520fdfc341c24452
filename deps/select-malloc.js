#!/usr/bin/env node
// The build-time allocator switch, as Redis's `make MALLOC=...`: ARENAKV_MALLOC (or npm's
// `--arenakv_malloc=...`, seen as npm_config_arenakv_malloc) picks jemalloc (default), tcmalloc, mimalloc or libc;
// ARENAKV_SANITIZER=address|undefined builds with that sanitizer and forces libc, as Redis's Makefile does.
// Usage: node deps/select-malloc.js malloc|sanitizer
// ALLOCATORS is the one list of allocators: the loader (lib/binaries.ts), `npm run prebuilds` and the tests read it.
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const ALLOCATORS = ['jemalloc', 'tcmalloc', 'mimalloc', 'libc']
const SANITIZERS = ['', 'address', 'undefined']

export function selection(env = process.env) {
  const sanitizer = (env.ARENAKV_SANITIZER ?? env.npm_config_arenakv_sanitizer ?? '').trim()
  if (!SANITIZERS.includes(sanitizer)) {
    throw new Error(`ARENAKV_SANITIZER must be one of address, undefined (got '${sanitizer}')`)
  }
  const malloc = (env.ARENAKV_MALLOC ?? env.npm_config_arenakv_malloc ?? 'jemalloc').trim() || 'jemalloc'
  if (!ALLOCATORS.includes(malloc)) {
    throw new Error(`ARENAKV_MALLOC must be one of ${ALLOCATORS.join(', ')} (got '${malloc}')`)
  }
  return { malloc: sanitizer ? 'libc' : malloc, sanitizer: sanitizer || 'none' }
}

// Only as a script: the loader imports this module inside programs whose own arguments may read 'malloc'.
function isMain() {
  try {
    return realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)
  } catch {
    return false
  }
}
const main = isMain()
const what = process.argv[2]
if (main && (what === 'malloc' || what === 'sanitizer')) {
  try {
    console.log(selection()[what])
  } catch (err) {
    process.stderr.write(`arenakv: ${err.message}\n`)
    process.exit(1)
  }
}
