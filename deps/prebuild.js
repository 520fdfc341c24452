#!/usr/bin/env node
// `npm run prebuilds`: one prebuild per allocator (deps/select-malloc.js ALLOCATORS), written as
// prebuilds/<platform>-<arch>/arenakv.<allocator>.<libc>.node. node-gyp-build's tags name the platform and libc;
// the allocator is a part of the name node-gyp-build ignores and lib/binaries.ts reads, so ARENAKV_MALLOC picks
// among them at load time. Each prebuild is that allocator's variant build (deps/build-variant.js, rebuilt only
// when older than the native sources), stripped as prebuildify --strip does.
// Usage: node deps/prebuild.js
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ALLOCATORS } from './select-malloc.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
// node-gyp-build's libc detection (its LIBC override, musl on Alpine), so the tag matches what it looks for.
const libc = process.env.LIBC || (existsSync('/etc/alpine-release') ? 'musl' : 'glibc')
const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`)

execFileSync(process.execPath, [join(root, 'deps', 'build-variant.js'), '--if-stale', ...ALLOCATORS], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
})

mkdirSync(dir, { recursive: true })
// Earlier prebuilds of this package (an allocator since dropped, the untagged prebuildify name) would be shipped
// beside the new ones.
for (const f of readdirSync(dir)) if (f.startsWith('arenakv.') && f.endsWith('.node')) rmSync(join(dir, f))
for (const allocator of ALLOCATORS) {
  const to = join(dir, `arenakv.${allocator}.${libc}.node`)
  const tmp = `${to}.${process.pid}.tmp`
  copyFileSync(join(root, 'build-variants', allocator, 'arenakv.node'), tmp)
  execFileSync('strip', ['--strip-all', tmp], { stdio: 'inherit' })
  renameSync(tmp, to)
  process.stderr.write(`[prebuild] ${allocator} → ${to}\n`)
}
