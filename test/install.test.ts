// The package as users get it: packed with its prebuild, installed into a fresh project with no compiler on
// PATH and PREBUILDS_ONLY=1, then installed again with --build-from-source and a compiler. Both must load,
// store and read a value, and report their allocator.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { runOk } from './helpers/run.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'arenakv-install-'))
let tarball = ''

const quietNpm = { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' }

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return runOk(cmd, args, { cwd, env: { ...env, ...quietNpm } })
}

// Pack from a copy of the sources so building the prebuild never touches the build/ other tests load.
beforeAll(async () => {
  const stage = join(work, 'stage')
  mkdirSync(stage)
  for (const f of ['package.json', 'binding.gyp', 'CMakeLists.txt', 'README.md', 'tsconfig.json', 'native', 'lib', 'bench', 'deps']) {
    if (existsSync(join(root, f))) cpSync(join(root, f), join(stage, f), { recursive: true, filter: (src) => !src.includes('/deps/jemalloc/src') })
  }
  symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'))
  await sh('npm', ['run', 'prebuild'], stage)
  expect(readdirSync(join(stage, 'prebuilds', 'linux-x64'))).toContain('arenakv.glibc.node')
  const out = await sh('npm', ['pack', '--json', '--pack-destination', work], stage)
  const packed = JSON.parse(out.slice(out.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>
  tarball = join(work, packed[0].filename)
  const files = packed[0].files.map((f) => f.path)
  expect(files).toContain('prebuilds/linux-x64/arenakv.glibc.node')
  expect(files).toContain('dist/lib/index.js')
  expect(files).toContain('dist/lib/index.d.ts')
  expect(files).toContain('binding.gyp')
  expect(files).toContain('deps/jemalloc/fetch.js')
  expect(files.filter((f) => f.startsWith('test/') || f.includes('jemalloc-5.3.0') || f.startsWith('deps/jemalloc/src'))).toEqual([])
}, 300_000)

afterAll(() => rmSync(work, { recursive: true, force: true }))

const consumer = `
import { Engine, allocator } from 'arenakv'
const db = new Engine({ maxmemory: '16mb', maxmemoryPolicy: 'allkeys-lru' })
db.set('greeting', 'hello from arenakv')
if (db.getString('greeting') !== 'hello from arenakv') throw new Error('value lost')
db.close()
console.log(allocator.name)
`

function project(name: string): string {
  const dir = join(work, name)
  mkdirSync(dir)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', private: true }))
  writeFileSync(join(dir, 'main.js'), consumer)
  return dir
}

describe('installing the packed tarball', () => {
  test('uses the prebuild with no compiler on PATH', async () => {
    const dir = project('prebuilt-user')
    // A PATH with node, npm and sh and nothing else: no cc, g++, make or python for a source build to find.
    const bin = join(work, 'bin-no-compiler')
    mkdirSync(bin)
    for (const tool of ['node', 'npm', 'sh']) symlinkSync(execFileSync('which', [tool], { encoding: 'utf8' }).trim(), join(bin, tool))
    const env = { ...process.env, PATH: bin, PREBUILDS_ONLY: '1' }
    expect(() => execFileSync('sh', ['-c', 'command -v g++ || command -v cc || command -v make'], { env })).toThrow()
    await sh('npm', ['install', tarball], dir, env)
    expect(existsSync(join(dir, 'node_modules', 'arenakv', 'build'))).toBe(false)
    expect((await sh('node', ['main.js'], dir, env)).trim()).toBe('jemalloc')
  }, 300_000)

  test('builds from source with --build-from-source', async () => {
    const dir = project('source-user')
    // The tarball CI already fetched and verified, so the source build does not fetch it again.
    const env = { ...process.env, JEMALLOC_TARBALL: join(root, 'deps', 'jemalloc', 'jemalloc-5.3.0.tar.bz2') }
    await sh('npm', ['install', tarball, '--build-from-source'], dir, env)
    expect(existsSync(join(dir, 'node_modules', 'arenakv', 'build', 'Release', 'arenakv.node'))).toBe(true)
    expect((await sh('node', ['main.js'], dir, env)).trim()).toBe('jemalloc')
  }, 600_000)
})
