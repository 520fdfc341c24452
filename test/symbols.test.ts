// The addon must export only its registration symbols: a vendored jemalloc (or any allocator symbol) leaking
// from a dlopen'ed module could interpose on another module's malloc.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
// @ts-expect-error plain ESM build script without type declarations
import { selection } from '../deps/select-malloc.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const binaries = ['build/Release/arenakv.node', ...['jemalloc', 'tcmalloc', 'libc'].map((v) => `build-variants/${v}/arenakv.node`)]

describe('exported symbols', () => {
  for (const binary of binaries) {
    test(binary, () => {
      const out = execFileSync('nm', ['-D', '--defined-only', binary], { cwd: root, encoding: 'utf8' })
      const names = out.trim().split('\n').map((l) => l.trim().split(/\s+/).at(-1))
      expect(names.filter((n) => /je_|jemalloc|malloc|free|calloc|realloc|tc_/i.test(n ?? ''))).toEqual([])
      expect(names.sort()).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1'])
    })
  }
})

describe('allocator switch', () => {
  test('defaults to jemalloc, honours ARENAKV_MALLOC and npm config, refuses unknown names', () => {
    expect(selection({})).toEqual({ malloc: 'jemalloc', sanitizer: 'none' })
    expect(selection({ ARENAKV_MALLOC: 'tcmalloc' }).malloc).toBe('tcmalloc')
    expect(selection({ npm_config_arenakv_malloc: 'libc' }).malloc).toBe('libc')
    expect(() => selection({ ARENAKV_MALLOC: 'mimalloc' })).toThrow(/jemalloc, tcmalloc, libc/)
  })

  test('a sanitizer forces libc, as Redis does', () => {
    expect(selection({ ARENAKV_MALLOC: 'jemalloc', ARENAKV_SANITIZER: 'address' })).toEqual({ malloc: 'libc', sanitizer: 'address' })
    expect(() => selection({ ARENAKV_SANITIZER: 'thread' })).toThrow(/address, undefined/)
  })
})
