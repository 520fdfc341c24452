// Runs the allocator contract (test/contract) against every build, each in a fresh process: jemalloc (the
// default build), tcmalloc loaded by dlopen and preloaded with LD_PRELOAD, libc, and libc under ASAN.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { ensureDist } from './helpers/dist.js'
import { run } from './helpers/run.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const vitest = createRequire(import.meta.url).resolve('vitest/vitest.mjs')
const variant = (name: string) => `${root}build-variants/${name}/arenakv.node`
const libtcmalloc = '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4'
const libasan = () => execFileSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim()

interface Build {
  name: string
  binary: string
  allocator: string
  env?: () => Record<string, string>
  preloaded?: boolean
}

const builds: Build[] = [
  { name: 'jemalloc', binary: variant('jemalloc'), allocator: 'jemalloc' },
  { name: 'tcmalloc (dlopen)', binary: variant('tcmalloc'), allocator: 'tcmalloc', preloaded: false },
  {
    name: 'tcmalloc (LD_PRELOAD)',
    binary: variant('tcmalloc'),
    allocator: 'tcmalloc',
    preloaded: true,
    env: () => ({ LD_PRELOAD: libtcmalloc }),
  },
  { name: 'libc', binary: variant('libc'), allocator: 'libc' },
  {
    name: 'libc + ASAN',
    binary: variant('asan'),
    allocator: 'libc',
    env: () => ({ LD_PRELOAD: libasan(), ASAN_OPTIONS: 'detect_leaks=0' }),
  },
]

describe('allocator contract per build', () => {
  for (const build of builds) {
    test(build.name, async () => {
      expect(existsSync(build.binary), `${build.binary} is missing: run npm run build:variants`).toBe(true)
      const env: Record<string, string> = {
        ...(process.env as Record<string, string>),
        NO_COLOR: '1',
        FORCE_COLOR: '0',
        ARENAKV_BINARY: build.binary,
        ARENAKV_EXPECT_ALLOCATOR: build.allocator,
        ...(build.preloaded === undefined ? {} : { ARENAKV_EXPECT_PRELOADED: build.preloaded ? '1' : '0' }),
        ...(build.env?.() ?? {}),
      }
      const result = await run(process.execPath, [vitest, 'run', '--config', 'test/contract/vitest.config.ts'], {
        cwd: root,
        env,
        timeout: 240_000,
      })
      const output = `${result.stdout}\n${result.stderr}`
      expect(result.status, output).toBe(0)
      // A run that executed nothing must not pass: every contract test ran and passed.
      expect(output).toMatch(/Tests\s+12 passed \(12\)/)
    }, 300_000)
  }
})

// The scratch-detach script of test/store.test.ts under ASAN: a buffer detached by a BYOB stream read and
// collected must leave native code in memory it owns (any stray access aborts the run).
test('a detached and collected scratch buffer: no stray access under ASAN', async () => {
  await ensureDist()
  const binary = variant('asan')
  expect(existsSync(binary), `${binary} is missing: run npm run build:variants`).toBe(true)
  const r = await run(process.execPath, ['--expose-gc', `${root}test/scripts/scratch-detach.mjs`], {
    cwd: root,
    env: { ...(process.env as Record<string, string>), ARENAKV_BINARY: binary, LD_PRELOAD: libasan(), ASAN_OPTIONS: 'detect_leaks=0' },
    timeout: 240_000,
  })
  const output = `${r.stdout}\n${r.stderr}`
  expect(r.status, output).toBe(0)
  expect(JSON.parse(r.stdout.trim().split('\n').pop() as string), output).toEqual({ detached: true, checked: 9000 })
}, 300_000)
