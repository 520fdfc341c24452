#!/usr/bin/env node
// The build-time allocator switch, as Redis's `make MALLOC=...`: ARENAKV_MALLOC (or npm's
// `--arenakv_malloc=...`, seen as npm_config_arenakv_malloc) picks jemalloc (default), tcmalloc, mimalloc or libc;
// ARENAKV_SANITIZER=address|undefined builds with that sanitizer and forces libc, as Redis's Makefile does.
// Usage: node deps/select-malloc.js malloc|sanitizer
const ALLOCATORS = ['jemalloc', 'tcmalloc', 'mimalloc', 'libc']
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

const what = process.argv[2]
if (what === 'malloc' || what === 'sanitizer') {
  try {
    console.log(selection()[what])
  } catch (err) {
    process.stderr.write(`arenakv: ${err.message}\n`)
    process.exit(1)
  }
}
