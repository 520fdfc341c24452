// Which addon file ARENAKV_MALLOC picks (lib/binaries.ts), on package layouts made in a temporary directory:
// a development checkout and an installed package, with placeholder files where the builds would be (nothing is
// loaded here; test/install.test.ts loads the real prebuilds).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { allocatorNames, buildLayout, resolveBinary, type BuildLayout } from '../lib/binaries.js'
import { ArenaKVError } from '../lib/errors.js'
import { ALLOCATORS } from '../deps/select-malloc.js'

const work = mkdtempSync(join(tmpdir(), 'arenakv-binaries-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))
const platformDir = `${process.platform}-${process.arch}`

function layoutWith(root: string, files: string[]): BuildLayout {
  for (const f of files) {
    mkdirSync(dirname(join(root, f)), { recursive: true })
    writeFileSync(join(root, f), '')
  }
  return buildLayout(root)
}

function refusal(fn: () => unknown): ArenaKVError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ArenaKVError)
    return err as ArenaKVError
  }
  throw new Error('expected a refusal')
}

test('the allocator list is deps/select-malloc.js ALLOCATORS, default first', () => {
  expect(allocatorNames).toEqual(ALLOCATORS)
  expect(allocatorNames[0]).toBe('jemalloc')
})

describe('a development checkout', () => {
  const root = join(work, 'checkout')
  const at = layoutWith(root, [
    'build/Release/arenakv.node',
    'build-variants/tcmalloc/arenakv.node',
    `prebuilds/${platformDir}/arenakv.tcmalloc.glibc.node`,
    `prebuilds/${platformDir}/arenakv.libc.glibc.node`,
    // A prebuild for another libc: node-gyp-build's tags rule it out here.
    `prebuilds/${platformDir}/arenakv.jemalloc.musl.node`,
  ])
  const none = {}

  test('is not an installed package', () => {
    expect(at.installed).toBe(false)
  })

  test('without ARENAKV_MALLOC, the source build in build/Release', () => {
    expect(resolveBinary(undefined, none, at)).toEqual({ path: join(root, 'build/Release/arenakv.node'), expect: null })
    expect(resolveBinary('  ', none, at)).toEqual({ path: join(root, 'build/Release/arenakv.node'), expect: null })
  })

  test('with ARENAKV_MALLOC: the variant build, then the prebuild, then build/Release checked once loaded', () => {
    expect(resolveBinary('tcmalloc', none, at)).toEqual({ path: join(root, 'build-variants/tcmalloc/arenakv.node'), expect: null })
    expect(resolveBinary('libc', none, at)).toEqual({ path: join(root, `prebuilds/${platformDir}/arenakv.libc.glibc.node`), expect: null })
    expect(resolveBinary('jemalloc', none, at)).toEqual({ path: join(root, 'build/Release/arenakv.node'), expect: 'jemalloc' })
  })

  test('PREBUILDS_ONLY=1 considers prebuilds alone', () => {
    const only = { PREBUILDS_ONLY: '1' }
    expect(resolveBinary('tcmalloc', only, at).path).toBe(join(root, `prebuilds/${platformDir}/arenakv.tcmalloc.glibc.node`))
    const err = refusal(() => resolveBinary(undefined, only, at))
    expect(err.code).toBe('ERR_NO_BUILD')
    expect(err.message).toBe(
      `no jemalloc build of arenakv: prebuilds for ${platformDir} of tcmalloc, libc only, no build-variants/jemalloc build; ` +
        'build it with `node deps/build-variant.js jemalloc`',
    )
  })

  test('a name that is no allocator is refused in one line, whatever builds there are', () => {
    const err = refusal(() => resolveBinary('mallocx', {}, at))
    expect(err.code).toBe('ERR_CONFIG')
    expect(err.message).toBe(`ARENAKV_MALLOC=mallocx is not an allocator arenakv has (one of ${ALLOCATORS.join(', ')})`)
  })
})

describe('an installed package', () => {
  const root = join(work, 'project', 'node_modules', 'arenakv')
  const at = layoutWith(root, [
    `prebuilds/${platformDir}/arenakv.jemalloc.glibc.node`,
    // Another platform's prebuild is never this platform's.
    'prebuilds/nosuchos-x64/arenakv.libc.glibc.node',
  ])

  test('loads its prebuilds, and says how to build an allocator it lacks', () => {
    expect(at.installed).toBe(true)
    expect(resolveBinary(undefined, {}, at)).toEqual({ path: join(root, `prebuilds/${platformDir}/arenakv.jemalloc.glibc.node`), expect: null })
    const err = refusal(() => resolveBinary('libc', {}, at))
    expect(err.code).toBe('ERR_NO_BUILD')
    expect(err.message).toBe(
      `no libc build of arenakv: prebuilds for ${platformDir} of jemalloc only, no local build; ` +
        'build it with `ARENAKV_MALLOC=libc npm rebuild arenakv --build-from-source`',
    )
    expect(err.message).not.toContain('\n')
  })
})
