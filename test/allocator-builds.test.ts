// Runs the allocator contract (test/contract) against every build, each in a fresh process: jemalloc (the
// default build), tcmalloc, mimalloc, libc, and libc under ASAN. jemalloc, tcmalloc and mimalloc are pinned,
// vendored private heaps linked into the addon (deps/<name>/version.json): each is loaded by dlopen like any addon
// and never replaces the process's malloc, so no build is run preloaded. Also checks that no build reads a system
// gperftools or mimalloc header or links a system allocator library.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { ensureDist } from './helpers/dist.js'
import { run } from './helpers/run.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const vitest = createRequire(import.meta.url).resolve('vitest/vitest.mjs')
const variant = (name: string) => `${root}build-variants/${name}/arenakv.node`
const libasan = () => execFileSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim()

interface Build {
  name: string
  binary: string
  allocator: string
  env?: () => Record<string, string>
}

const builds: Build[] = [
  { name: 'jemalloc', binary: variant('jemalloc'), allocator: 'jemalloc' },
  { name: 'tcmalloc', binary: variant('tcmalloc'), allocator: 'tcmalloc' },
  { name: 'mimalloc', binary: variant('mimalloc'), allocator: 'mimalloc' },
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
      expect(output).toMatch(/Tests\s+16 passed \(16\)/)
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

// The vendored allocators come from their pinned source only: each variant's record of what make compiled and
// linked (build-variants/<name>/build-deps.txt, written by deps/build-variant.js from gcc's dependency files)
// shows zmalloc.cc reading the unpacked allocator's headers, and no link step naming a system allocator library;
// the loaded .node needs none either (ldd).
describe('vendored allocators read no system allocator header or library', () => {
  const vendored = {
    tcmalloc: ['deps/tcmalloc/out/include/gperftools/tcmalloc.h', 'src/gperftools/malloc_extension_c.h', 'src/gperftools/nallocx.h'],
    mimalloc: ['deps/mimalloc/src/mimalloc-2.0.9+ds/include/mimalloc.h'],
  } as const
  for (const [name, headers] of Object.entries(vendored)) {
    test(name, () => {
      const depsFile = `${root}build-variants/${name}/build-deps.txt`
      expect(existsSync(depsFile), `${depsFile} is missing: run npm run build:variants`).toBe(true)
      const deps = readFileSync(depsFile, 'utf8')
      const zmalloc = deps.split('\n## ').find((section) => /zmalloc\.o\.d\n/.test(section.split('\n')[0] + '\n'))
      expect(zmalloc, 'no dependency record for native/zmalloc.cc').toBeDefined()
      for (const h of headers) expect(zmalloc).toContain(h)
      expect(deps).not.toMatch(/\/usr\/(local\/)?include\/(gperftools|google|mimalloc)/)
      expect(deps).not.toMatch(/-l(tcmalloc|tcmalloc_minimal|profiler|mimalloc)\b|lib(tcmalloc|mimalloc)[\w.-]*\.(so|a)\b/)
      const link = deps.split('\n').find((l) => l.startsWith('cmd_Release/obj.target/arenakv.node := '))
      expect(link, 'no link command recorded').toBeDefined()
      expect(link).toMatch(new RegExp(`obj\\.target/deps/${name}/${name}\\.a|lib${name}\\.a|/${name}\\.a`))
      const ldd = execFileSync('ldd', [variant(name)], { encoding: 'utf8' })
      expect(ldd).not.toMatch(/tcmalloc|mimalloc|jemalloc|profiler/)
    })
  }
  test('no variant needs a system allocator library', () => {
    for (const name of ['jemalloc', 'tcmalloc', 'mimalloc', 'libc']) {
      expect(execFileSync('ldd', [variant(name)], { encoding: 'utf8' }), name).not.toMatch(/tcmalloc|mimalloc|jemalloc|profiler/)
    }
  })
})
