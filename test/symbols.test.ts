// The addon must export only its registration symbols: a vendored jemalloc (or any allocator symbol) leaking
// from a dlopen'ed module could interpose on another module's malloc.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
// @ts-expect-error plain ESM build script without type declarations
import { selection } from '../deps/select-malloc.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const binaries = ['build/Release/arenakv.node',
  ...['jemalloc', 'tcmalloc', 'mimalloc', 'libc', 'asan'].map((v) => `build-variants/${v}/arenakv.node`)]

describe('exported symbols', () => {
  for (const binary of binaries) {
    test(binary, () => {
      const out = execFileSync('nm', ['-D', '--defined-only', binary], { cwd: root, encoding: 'utf8' })
      const names = out.trim().split('\n').map((l) => l.trim().split(/\s+/).at(-1))
      expect(names.filter((n) => /je_|jemalloc|malloc|free|calloc|realloc|tc_|mi_|_Zn[wa]|_Zd[la]|mmap|sbrk/i.test(n ?? ''))).toEqual([])
      expect(names.sort()).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1'])
    })
  }
})

// The vendored tcmalloc and mimalloc are compiled without their libc and operator new/delete overrides (and
// tcmalloc without its mmap wrappers): not even a local definition exists that calls inside the addon could bind
// to, so memory glibc or libstdc++ hand out is always freed by glibc.
describe('no allocator override inside the vendored builds', () => {
  const overrides = ['malloc', 'free', 'calloc', 'realloc', 'memalign', 'posix_memalign', 'aligned_alloc', 'valloc',
    'pvalloc', 'malloc_usable_size', '__libc_malloc', '__libc_free', '_Znwm', '_Znam', '_ZdlPv', '_ZdaPv', '_ZdlPvm',
    'mmap', 'mmap64', 'munmap', 'mremap', 'sbrk']
  for (const v of ['tcmalloc', 'mimalloc']) {
    test(v, () => {
      const out = execFileSync('nm', ['--defined-only', `build-variants/${v}/arenakv.node`], { cwd: root, encoding: 'utf8' })
      const defined = out.trim().split('\n').map((l) => l.trim().split(/\s+/).at(-1))
      expect(defined.filter((n) => overrides.includes(n ?? ''))).toEqual([])
      // ...while the allocator itself is there, under its own names.
      expect(defined).toContain(v === 'tcmalloc' ? 'tc_malloc' : 'mi_heap_malloc')
    })
  }
})

describe('allocator switch', () => {
  test('defaults to jemalloc, honours ARENAKV_MALLOC and npm config, refuses unknown names', () => {
    expect(selection({})).toEqual({ malloc: 'jemalloc', sanitizer: 'none' })
    expect(selection({ ARENAKV_MALLOC: 'tcmalloc' }).malloc).toBe('tcmalloc')
    expect(selection({ ARENAKV_MALLOC: 'mimalloc' }).malloc).toBe('mimalloc')
    expect(selection({ npm_config_arenakv_malloc: 'libc' }).malloc).toBe('libc')
    expect(() => selection({ ARENAKV_MALLOC: 'snmalloc' })).toThrow(/jemalloc, tcmalloc, mimalloc, libc/)
  })

  test('a sanitizer forces libc, as Redis does', () => {
    expect(selection({ ARENAKV_MALLOC: 'jemalloc', ARENAKV_SANITIZER: 'address' })).toEqual({ malloc: 'libc', sanitizer: 'address' })
    expect(() => selection({ ARENAKV_SANITIZER: 'thread' })).toThrow(/address, undefined/)
  })
})
