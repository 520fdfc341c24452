// The cmake-js build (CMakeLists.txt, `npm run build:cmake`) builds the same addon as node-gyp with the same
// allocator switch: each allocator builds into build-cmake/ and loads, only the module's registration symbols are
// exported, the module is marked nodelete, the sources and flags match binding.gyp (both read native/build.json),
// Node's headers come from the running Node (nothing downloaded, no ~/.npmrc needed), and the allocator contract
// passes on the jemalloc build.
// The default (jemalloc) build is done last, so build-cmake/ is left holding it.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, test } from 'vitest'
import { run } from './helpers/run.js'
import { HAS_CMAKE, needs } from './helpers/tools.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const outDir = join(root, 'build-cmake')
const binary = join(outDir, 'Release', 'arenakv.node')
const vitest = createRequire(import.meta.url).resolve('vitest/vitest.mjs')
const EXPORTS = ['napi_register_module_v1', 'node_api_module_get_api_version_v1']

// A fresh HOME stands in for a fresh CI machine: no ~/.npmrc (nodedir) and no ~/.cmake-js header cache.
const home = mkdtempSync(join(tmpdir(), 'arenakv-cmake-home-'))
afterAll(() => rmSync(home, { recursive: true, force: true }))

function buildEnv(select: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, npm_config_update_notifier: 'false', NO_COLOR: '1' }
  for (const k of ['ARENAKV_MALLOC', 'ARENAKV_SANITIZER', 'npm_config_arenakv_malloc', 'npm_config_arenakv_sanitizer',
    'npm_config_nodedir', 'npm_config_userconfig']) delete env[k]
  return { ...env, ...select }
}

// A cold build (jemalloc fetched and configured from scratch) took ~3 min on 2 cores; jemalloc is normally reused.
async function buildCmake(select: Record<string, string>): Promise<string> {
  const result = await run('npm', ['run', 'build:cmake'], { cwd: root, env: buildEnv(select), timeout: 480_000 })
  const output = `${result.stdout}\n${result.stderr}`
  expect(result.status, output).toBe(0)
  expect(output).not.toMatch(/Downloading distribution/i)
  expect(existsSync(join(home, '.cmake-js')), 'cmake-js downloaded Node headers').toBe(false)
  expect(existsSync(binary), output).toBe(true)
  return output
}

interface Loaded {
  name: string
  version: string
  capabilities: Record<string, unknown>
}

function load(env: NodeJS.ProcessEnv = process.env): Loaded {
  const script = `const a = require(${JSON.stringify(binary)});
    console.log(JSON.stringify({ name: a.allocatorName(), version: a.allocatorVersion(), capabilities: a.capabilities() }))`
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' })) as Loaded
}

function exportedSymbols(): string[] {
  return execFileSync('nm', ['-D', '--defined-only', binary], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[2])
    .filter((s): s is string => Boolean(s))
    .sort()
}

// Every file each compile read, as the compiler's -MD dependency output recorded it: ninja keeps it in its deps log,
// make-based generators in *.o.d files.
function compileDeps(): string {
  if (existsSync(join(outDir, 'build.ninja'))) {
    return execFileSync('ninja', ['-C', outDir, '-t', 'deps'], { encoding: 'utf8', maxBuffer: 64 << 20 })
  }
  const depfiles = execFileSync('find', [outDir, '-name', '*.d'], { encoding: 'utf8' }).trim().split('\n')
  return depfiles.filter(Boolean).map((f) => readFileSync(f, 'utf8')).join('\n')
}

function isNodelete(): boolean {
  return /FLAGS_1\).*NODELETE/.test(execFileSync('readelf', ['-d', binary], { encoding: 'utf8' }))
}

// The source list binding.gyp and CMakeLists.txt both read.
function gypSources(): string[] {
  const build = JSON.parse(readFileSync(join(root, 'native', 'build.json'), 'utf8')) as { sources: string[] }
  return [...build.sources].sort()
}

describe.skipIf(!HAS_CMAKE)(needs('cmake-js build (npm run build:cmake)', HAS_CMAKE, 'cmake', 'cmake'), () => {
  test('libc: builds, loads, exports only the registration symbols', async () => {
    await buildCmake({ ARENAKV_MALLOC: 'libc' })
    const a = load()
    expect(a.name).toBe('libc')
    expect(a.capabilities.arenas).toBe(false)
    expect(exportedSymbols()).toEqual(EXPORTS)
    expect(isNodelete()).toBe(true)
  }, 540_000)

  // tcmalloc and mimalloc are compiled from their pinned sources (deps/<name>/build.js --sources), never the
  // system's: every header each compile read (the -MD depfiles, system headers included) is checked.
  for (const [name, version] of [['tcmalloc', '2.10'], ['mimalloc', '2.0.9']] as const) {
    test(`${name}: vendored ${version}, private, reads no system allocator header or library`, async () => {
      await buildCmake({ ARENAKV_MALLOC: name })
      const a = load()
      expect(a.name).toBe(name)
      expect(a.version).toBe(version)
      expect(a.capabilities.arenas).toBe(false)
      expect(exportedSymbols()).toEqual(EXPORTS)
      expect(isNodelete()).toBe(true)
      expect(execFileSync('ldd', [binary], { encoding: 'utf8' })).not.toMatch(/tcmalloc|mimalloc|profiler/)
      const deps = compileDeps()
      expect(deps).toContain('/usr/include/stdlib.h') // system headers are listed: the check below means something
      expect(deps).toContain(`deps/${name}/`)
      expect(deps).not.toMatch(/\/usr\/(local\/)?include\/(gperftools|google|mimalloc)/)
      const commands = readFileSync(join(outDir, 'compile_commands.json'), 'utf8')
      expect(commands).not.toMatch(/-I\/usr\/(local\/)?include\/(gperftools|mimalloc)/)
      const linkFiles = execFileSync('find', [outDir, '-name', 'link.txt', '-o', '-name', 'build.ninja'], { encoding: 'utf8' })
        .trim().split('\n').filter(Boolean)
      for (const f of linkFiles) expect(readFileSync(f, 'utf8')).not.toMatch(/-l(tcmalloc|tcmalloc_minimal|profiler|mimalloc)\b/)
    }, 540_000)
  }

  test('npm config arenakv_malloc selects the allocator too', async () => {
    await buildCmake({ npm_config_arenakv_malloc: 'libc' })
    expect(load().name).toBe('libc')
  }, 540_000)

  test('jemalloc (default): vendored 5.3.0, no allocator symbols leak, same sources and flags as binding.gyp', async () => {
    const output = await buildCmake({})
    expect(output).toMatch(/arenakv: allocator jemalloc, sanitizer none/)
    const a = load()
    expect(a.name).toBe('jemalloc')
    expect(a.version).toBe('5.3.0')
    expect(a.capabilities).toMatchObject({ arenas: true, purge: true, defragHints: true, backgroundThreads: true })
    expect(exportedSymbols()).toEqual(EXPORTS)
    expect(isNodelete()).toBe(true)

    const commands = JSON.parse(readFileSync(join(outDir, 'compile_commands.json'), 'utf8')) as
      { file: string; command: string }[]
    const compiled = commands.map((c) => c.file.slice(root.length)).sort()
    expect(compiled).toEqual(gypSources())
    for (const { command } of commands) {
      for (const flag of ['-std=c++17', '-fexceptions', '-fvisibility=hidden', '-Wall', '-Wextra', '-DNAPI_VERSION=8',
        '-DNODE_ADDON_API_CPP_EXCEPTIONS ', '-DNODE_ADDON_API_CPP_EXCEPTIONS_ALL', '-DUSE_JEMALLOC',
        `-I${process.execPath.replace(/\/bin\/node$/, '')}/include/node`]) {
        expect(command).toContain(flag)
      }
      expect(command).not.toContain('-fsanitize')
    }
  }, 540_000)

  test('the allocator contract passes on the cmake-js jemalloc build', async () => {
    expect(load().name).toBe('jemalloc')
    const result = await run(process.execPath, [vitest, 'run', '--config', 'test/contract/vitest.config.ts'], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ARENAKV_BINARY: binary, ARENAKV_EXPECT_ALLOCATOR: 'jemalloc' },
      timeout: 240_000,
    })
    const output = `${result.stdout}\n${result.stderr}`
    expect(result.status, output).toBe(0)
    // Something ran, and everything that ran passed.
    const summary = output.match(/Tests\s+(\d+) passed \((\d+)\)/)
    expect(summary, output).not.toBeNull()
    expect(Number(summary![1])).toBeGreaterThan(0)
    expect(summary![1]).toBe(summary![2])
  }, 540_000)
})
