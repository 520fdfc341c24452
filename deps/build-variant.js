#!/usr/bin/env node
// Builds the addon for one allocator into build-variants/<name>/arenakv.node, so the contract suite and the
// allocator comparison bench can load every build side by side (ARENAKV_BINARY). build/ is left holding the
// default (jemalloc) build afterwards unless --keep is given.
// Usage: node deps/build-variant.js [--if-stale] [--keep] jemalloc|tcmalloc|libc|asan|ubsan [...more]
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const VARIANTS = {
  jemalloc: { ARENAKV_MALLOC: 'jemalloc' },
  tcmalloc: { ARENAKV_MALLOC: 'tcmalloc' },
  libc: { ARENAKV_MALLOC: 'libc' },
  asan: { ARENAKV_SANITIZER: 'address' },
  ubsan: { ARENAKV_SANITIZER: 'undefined' },
}

export function variantPath(name) {
  return join(root, 'build-variants', name, 'arenakv.node')
}

function nodeGyp() {
  // The project's own node-gyp (a devDependency), else the one npm names when it runs a script.
  try {
    return [process.execPath, createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js')]
  } catch {
    return [process.execPath, process.env.npm_config_node_gyp ?? 'node-gyp']
  }
}

export function buildVariant(name) {
  const env = VARIANTS[name]
  if (!env) throw new Error(`unknown variant '${name}' (one of ${Object.keys(VARIANTS).join(', ')})`)
  const [cmd, ...pre] = nodeGyp()
  // Build against the running Node's own headers when npm has not named a nodedir (no download needed).
  const prefix = join(dirname(process.execPath), '..')
  if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
    pre.push(`--nodedir=${prefix}`)
  }
  // node-gyp turns npm_config_* into gyp variables, so a stray npm_config_arenakv_malloc would override ours.
  const clean = { ...process.env }
  for (const k of ['ARENAKV_MALLOC', 'ARENAKV_SANITIZER', 'npm_config_arenakv_malloc', 'npm_config_arenakv_sanitizer']) {
    delete clean[k]
  }
  execFileSync(cmd, [...pre, '--loglevel=error', 'rebuild'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...clean, ...env } })
  mkdirSync(dirname(variantPath(name)), { recursive: true })
  copyFileSync(join(root, 'build', 'Release', 'arenakv.node'), variantPath(name))
  process.stderr.write(`[build-variant] ${name} → ${variantPath(name)}\n`)
}

// A variant is stale when any native source, the gyp files or the jemalloc pin is newer than it.
function stale(name) {
  if (!existsSync(variantPath(name))) return true
  const built = statSync(variantPath(name)).mtimeMs
  const inputs = ['binding.gyp', 'deps/jemalloc/jemalloc.gyp', 'deps/jemalloc/version.json',
    ...readdirSync(join(root, 'native')).map((f) => `native/${f}`)]
  return inputs.some((f) => statSync(join(root, f)).mtimeMs > built)
}

const flags = new Set(process.argv.slice(2).filter((a) => a.startsWith('--')))
const names = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const todo = (flags.has('--if-stale') ? names.filter(stale) : names).sort((a, b) => (a === 'jemalloc') - (b === 'jemalloc'))
for (const name of todo) buildVariant(name)
// node-gyp builds in build/: leave the default allocator there, as `npm run build` would.
if (todo.length && !flags.has('--keep') && todo.at(-1) !== 'jemalloc') buildVariant('jemalloc')
