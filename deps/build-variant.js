#!/usr/bin/env node
// Builds the addon for one allocator into build-variants/<name>/arenakv.node, so the contract suite and the
// allocator comparison bench can load every build side by side (ARENAKV_BINARY). The jemalloc variant is the
// default build in build/; every other variant is built in a scratch copy of the sources, so build/ (which
// running tests and programs load) is never replaced by another allocator's build.
// Usage: node deps/build-variant.js [--if-stale] jemalloc|tcmalloc|mimalloc|libc|asan|ubsan [...more]
import { execFileSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const VARIANTS = {
  jemalloc: { ARENAKV_MALLOC: 'jemalloc' },
  tcmalloc: { ARENAKV_MALLOC: 'tcmalloc' },
  mimalloc: { ARENAKV_MALLOC: 'mimalloc' },
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
  if (name === 'jemalloc' && defaultBuildIsFreshJemalloc()) {
    mkdirSync(dirname(variantPath(name)), { recursive: true })
    install(join(root, 'build', 'Release', 'arenakv.node'), variantPath(name))
    process.stderr.write(`[build-variant] ${name} → ${variantPath(name)} (copied from build/Release)\n`)
    return
  }
  const cwd = name === 'jemalloc' ? root : stage()
  try {
    execFileSync(cmd, [...pre, '--loglevel=error', 'rebuild'], { cwd, stdio: ['ignore', 'ignore', 'inherit'], env: { ...clean, ...env } })
    mkdirSync(dirname(variantPath(name)), { recursive: true })
    install(join(cwd, 'build', 'Release', 'arenakv.node'), variantPath(name))
    recordBuildDeps(join(cwd, 'build'), join(dirname(variantPath(name)), 'build-deps.txt'))
  } finally {
    if (cwd !== root) rmSync(cwd, { recursive: true, force: true })
  }
  process.stderr.write(`[build-variant] ${name} → ${variantPath(name)}\n`)
}

// What the build read and ran: make's dependency files (every header each compile included, as gcc -MMD reports
// it, and the exact compile and link commands), kept beside the variant so a test can check that no system
// allocator header or library went into it.
function recordBuildDeps(buildDir, to) {
  const depsDir = join(buildDir, 'Release', '.deps')
  if (!existsSync(depsDir)) return
  const files = readdirSync(depsDir, { recursive: true }).map(String).filter((f) => f.endsWith('.d')).sort()
  writeFileSync(to, files.map((f) => `## ${f}\n${readFileSync(join(depsDir, f), 'utf8')}`).join('\n'))
}

// Copy then rename: a process that has the old build loaded keeps its (unlinked) file intact, where copying
// over it in place would rewrite the code under its feet.
function install(from, to) {
  mkdirSync(dirname(to), { recursive: true })
  const tmp = `${to}.${process.pid}.tmp`
  copyFileSync(from, tmp)
  renameSync(tmp, to)
}

// What a non-jemalloc build reads: binding.gyp, the sources, the switch, the vendored allocators' folders
// (linked, so their verified tarballs and unpacked sources are fetched once and reused), and node-addon-api
// (via node_modules).
const VENDORED = ['deps/tcmalloc', 'deps/mimalloc']
function stage() {
  const dir = mkdtempSync(join(tmpdir(), 'arenakv-variant-'))
  for (const f of ['binding.gyp', 'native', 'deps/select-malloc.js', 'deps/fetch-source.js']) {
    cpSync(join(root, f), join(dir, f), { recursive: true })
  }
  for (const d of ['node_modules', ...VENDORED]) symlinkSync(join(root, d), join(dir, d))
  return dir
}

// A build is stale when any native source, the gyp files, an allocator's pin or build files are newer than it.
function staleFile(file) {
  if (!existsSync(file)) return true
  const built = statSync(file).mtimeMs
  const inputs = ['binding.gyp', 'deps/fetch-source.js', 'deps/jemalloc/jemalloc.gyp', 'deps/jemalloc/version.json',
    ...VENDORED.flatMap((d) => readdirSync(join(root, d), { withFileTypes: true })
      .filter((e) => e.isFile() && /\.(gyp|json|js|h|cc)$/.test(e.name)).map((e) => `${d}/${e.name}`)),
    ...readdirSync(join(root, 'native')).map((f) => `native/${f}`)]
  return inputs.some((f) => statSync(join(root, f)).mtimeMs > built)
}
const stale = (name) => staleFile(variantPath(name))

// `npm install` has usually just built the default allocator into build/: reuse it rather than rebuild.
function defaultBuildIsFreshJemalloc() {
  const file = join(root, 'build', 'Release', 'arenakv.node')
  if (staleFile(file)) return false
  const probe = `process.stdout.write(require(${JSON.stringify(file)}).allocatorName())`
  try {
    return execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' }) === 'jemalloc'
  } catch {
    return false
  }
}

const flags = new Set(process.argv.slice(2).filter((a) => a.startsWith('--')))
const names = process.argv.slice(2).filter((a) => !a.startsWith('--'))
for (const name of flags.has('--if-stale') ? names.filter(stale) : names) buildVariant(name)
