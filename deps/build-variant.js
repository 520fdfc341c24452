#!/usr/bin/env node
// Builds the addon for one allocator into build-variants/<name>/arenakv.node, so the contract suite and the
// allocator comparison bench can load every build side by side (ARENAKV_BINARY). build/ is left holding the
// default (jemalloc) build afterwards unless --keep is given.
// Usage: node deps/build-variant.js jemalloc|tcmalloc|libc|asan|ubsan [...more]
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
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
  execFileSync(cmd, [...pre, 'rebuild'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...clean, ...env } })
  mkdirSync(dirname(variantPath(name)), { recursive: true })
  copyFileSync(join(root, 'build', 'Release', 'arenakv.node'), variantPath(name))
  process.stderr.write(`[build-variant] ${name} → ${variantPath(name)}\n`)
}

const args = process.argv.slice(2).filter((a) => a !== '--keep')
if (args.length) {
  for (const name of args) buildVariant(name)
  if (!process.argv.includes('--keep') && args.at(-1) !== 'jemalloc') buildVariant('jemalloc')
}
