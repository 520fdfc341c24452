#!/usr/bin/env node
// Builds the pinned jemalloc as a static PIC archive for linking into the addon. The configure flags live in
// version.json, the one place node-gyp (deps/jemalloc/jemalloc.gyp) and cmake-js (CMakeLists.txt) both read.
// A finished build is reused: out/stamp.json records what it was built from.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { fetchJemalloc, pin } from './fetch.js'

const here = dirname(fileURLToPath(import.meta.url))
export const outDir = join(here, 'out')
export const archive = join(outDir, 'lib', 'libjemalloc_pic.a')
export const includeDir = join(outDir, 'include')
const log = (msg) => process.stderr.write(`[jemalloc build] ${msg}\n`)

export async function buildJemalloc() {
  const stamp = JSON.stringify({ version: pin.version, sha256: pin.sha256, configure: pin.configure })
  const stampFile = join(outDir, 'stamp.json')
  if (existsSync(archive) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    log(`reusing ${archive}`)
    return
  }
  const tarball = await fetchJemalloc()
  const srcRoot = join(here, 'src')
  const src = join(srcRoot, `jemalloc-${pin.version}`)
  rmSync(srcRoot, { recursive: true, force: true })
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(srcRoot, { recursive: true })
  mkdirSync(outDir, { recursive: true })
  log(`extracting ${tarball}`)
  execFileSync('tar', ['-xjf', tarball, '-C', srcRoot], { stdio: 'inherit' })
  const run = (cmd, args) => execFileSync(cmd, args, { cwd: outDir, stdio: ['ignore', 'ignore', 'inherit'] })
  log(`configure ${pin.configure.join(' ')}`)
  // The addon is a dlopen'ed shared object: everything must be position independent.
  run(join(src, 'configure'), [...pin.configure, 'CFLAGS=-O2 -fPIC -fvisibility=hidden'])
  log('make lib/libjemalloc_pic.a')
  run('make', [`-j${availableParallelism()}`, 'lib/libjemalloc_pic.a'])
  if (!existsSync(archive)) throw new Error(`the build did not produce ${archive}`)
  writeFileSync(stampFile, stamp)
  log(`built ${archive}`)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const print = process.argv[2]
  buildJemalloc().then(() => {
    if (print === '--include-dir') console.log(includeDir)
    else if (print === '--archive') console.log(archive)
  }, (err) => {
    process.stderr.write(`[jemalloc build] ${err.message}\n`)
    process.exit(1)
  })
}
