// The package as users get it: packed with a prebuild per allocator, installed into a fresh project with
// --omit=dev, no compiler on PATH and PREBUILDS_ONLY=1, then installed again with --build-from-source and a
// compiler. Both must load, store and read a value, and report their allocator; the prebuilt one must pick each
// allocator by ARENAKV_MALLOC and run `arenakv bench` without building anything or any devDependency.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
// The one list of allocators: every one of them must ship as a prebuild.
import { ALLOCATORS } from '../deps/select-malloc.js'
import { run, runOk } from './helpers/run.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'arenakv-install-'))
const platformDir = `${process.platform}-${process.arch}`
const prebuildFile = (allocator: string): string => `arenakv.${allocator}.glibc.node`
let tarball = ''

const quietNpm = { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' }

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return runOk(cmd, args, { cwd, env: { ...env, ...quietNpm } })
}

// Pack from a copy of the sources so building the prebuilds never touches the build/ other tests load. The
// variant builds come along with their times kept, so `npm run prebuilds` rebuilds only the stale ones.
beforeAll(async () => {
  const stage = join(work, 'stage')
  mkdirSync(stage)
  for (const f of ['package.json', 'binding.gyp', 'CMakeLists.txt', 'README.md', 'tsconfig.json', 'native', 'lib', 'bench', 'cli', 'deps', 'build-variants']) {
    if (existsSync(join(root, f))) {
      cpSync(join(root, f), join(stage, f), { recursive: true, preserveTimestamps: true, filter: (src) => !src.includes('/deps/jemalloc/src') })
    }
  }
  symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'))
  await sh('npm', ['run', 'prebuilds'], stage)
  expect(readdirSync(join(stage, 'prebuilds', platformDir)).sort()).toEqual(ALLOCATORS.map(prebuildFile).sort())
  const out = await sh('npm', ['pack', '--json', '--pack-destination', work], stage)
  const packed = JSON.parse(out.slice(out.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>
  tarball = join(work, packed[0].filename)
  const files = packed[0].files.map((f) => f.path)
  for (const a of ALLOCATORS) expect(files).toContain(`prebuilds/${platformDir}/${prebuildFile(a)}`)
  expect(files).toContain('dist/lib/index.js')
  expect(files).toContain('dist/lib/index.d.ts')
  expect(files).toContain('dist/cli/arenakv.js')
  expect(files).toContain('dist/bench/alloc.js')
  expect(files).toContain('deps/install-check.cjs')
  expect(files).toContain('binding.gyp')
  expect(files).toContain('deps/jemalloc/fetch.js')
  expect(files.filter((f) => f.startsWith('test/') || f.includes('jemalloc-5.3.0') || f.startsWith('deps/jemalloc/src'))).toEqual([])
}, 600_000)

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

/** A stack trace's frame line: what a user must never see for bad input. */
const STACK_FRAME = /^\s+at /m

describe('installed from the tarball with --omit=dev, no compiler on PATH and PREBUILDS_ONLY=1', () => {
  let dir = ''
  let env: NodeJS.ProcessEnv = {}
  const installedPrebuilds = (): string => join(dir, 'node_modules', 'arenakv', 'prebuilds', platformDir)

  beforeAll(async () => {
    dir = project('prebuilt-user')
    // A PATH with node, npm, npx and sh and nothing else: no cc, g++, make or python for a source build to find,
    // and no redis-server.
    const bin = join(work, 'bin-no-compiler')
    mkdirSync(bin)
    for (const tool of ['node', 'npm', 'npx', 'sh']) symlinkSync(execFileSync('which', [tool], { encoding: 'utf8' }).trim(), join(bin, tool))
    env = { ...process.env, PATH: bin, PREBUILDS_ONLY: '1', ARENAKV_MALLOC: '', ARENAKV_BINARY: '' }
    expect(() => execFileSync('sh', ['-c', 'command -v g++ || command -v cc || command -v make'], { env })).toThrow()
    await sh('npm', ['install', '--omit=dev', tarball], dir, env)
  }, 300_000)

  test('loads the default allocator\'s prebuild; nothing was built, no devDependency installed', async () => {
    expect(existsSync(join(dir, 'node_modules', 'arenakv', 'build'))).toBe(false)
    for (const dev of ['vega', 'vega-lite', 'lru-cache', 'mnemonist', 'typescript']) expect(existsSync(join(dir, 'node_modules', dev)), dev).toBe(false)
    expect(readdirSync(installedPrebuilds()).sort()).toEqual(ALLOCATORS.map(prebuildFile).sort())
    expect((await sh('node', ['main.js'], dir, env)).trim()).toBe('jemalloc')
  })

  test('ARENAKV_MALLOC picks each allocator\'s prebuild at load time', async () => {
    for (const a of ALLOCATORS) {
      const out = await sh('node', ['main.js'], dir, { ...env, ARENAKV_MALLOC: a })
      expect(out.trim(), a).toBe(a)
      const version = await sh('node', ['--input-type=module', '-e', "import { allocator } from 'arenakv'; console.log(allocator.version)"], dir, { ...env, ARENAKV_MALLOC: a })
      expect(version.trim(), a).toMatch(/^\d+\.\d+/)
    }
  })

  test('an unknown allocator is refused in one line, with a typed error for programs', async () => {
    const cli = await run('npx', ['arenakv', 'demo', '--scale', 'tiny'], { cwd: dir, env: { ...env, ...quietNpm, ARENAKV_MALLOC: 'nosuch' } })
    expect(cli.status).toBe(1)
    expect(cli.stdout).toBe('')
    expect(cli.stderr).toBe(`arenakv: ARENAKV_MALLOC=nosuch is not an allocator arenakv has (one of ${ALLOCATORS.join(', ')})\n`)
    const program = "import('arenakv').then(() => console.log('loaded'), (e) => console.log(e.name, e.code))"
    const typed = await sh('node', ['--input-type=module', '-e', program], dir, { ...env, ARENAKV_MALLOC: 'nosuch' })
    expect(typed.trim()).toBe('ArenaKVError ERR_CONFIG')
  })

  test('an allocator with no prebuild and no local build is refused in one line naming the command that builds it', async () => {
    const missing = ALLOCATORS[ALLOCATORS.length - 1]
    const file = join(installedPrebuilds(), prebuildFile(missing))
    const aside = join(work, prebuildFile(missing))
    renameSync(file, aside)
    try {
      const r = await run('npx', ['arenakv', 'demo', '--scale', 'tiny'], { cwd: dir, env: { ...env, ...quietNpm, ARENAKV_MALLOC: missing } })
      expect(r.status).toBe(1)
      expect(r.stderr.split('\n')).toHaveLength(2)
      expect(r.stderr).toMatch(new RegExp(`^arenakv: no ${missing} build of arenakv: `))
      expect(r.stderr).toContain(`\`ARENAKV_MALLOC=${missing} npm rebuild arenakv --build-from-source\`\n`)
      expect(r.stderr).not.toMatch(STACK_FRAME)
    } finally {
      renameSync(aside, file)
    }
  })

  test('`npx arenakv bench alloc --scale tiny` compares every allocator the package ships, without compiling', async () => {
    const out = join(work, 'bench-alloc')
    const r = await run('npx', ['arenakv', 'bench', 'alloc', '--scale', 'tiny', '--out', out], { cwd: dir, env: { ...env, ...quietNpm }, timeout: 240_000 })
    expect(r.stderr).not.toMatch(STACK_FRAME)
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).not.toMatch(/building|node-gyp/i)
    for (const a of ALLOCATORS) {
      expect(r.stdout).toMatch(new RegExp(`^allocator \\[${a}\\]: ${a} \\d+\\.\\d+`, 'm'))
      expect(r.stdout).toMatch(new RegExp(`^${a}\\s+[\\d,]+\\s`, 'm'))
    }
    const json = JSON.parse(readFileSync(join(out, 'alloc.json'), 'utf8')) as { allocators: { name: string }[]; figures: Record<string, unknown> }
    expect(json.allocators.map((a) => a.name)).toEqual(ALLOCATORS)
    expect(Object.keys(json.figures)).toEqual(ALLOCATORS)
    // vega and vega-lite are optional: without them the report says charts were skipped and what adds them.
    const skipped = 'Charts skipped: vega and vega-lite are not installed (`npm install vega vega-lite` adds them).'
    expect(r.stdout).toContain(skipped)
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain(skipped)
    expect(readdirSync(out).filter((f) => f.endsWith('.svg'))).toEqual([])
  }, 300_000)

  test('peer suites leave out the peers that are missing and name the command that adds each', async () => {
    const r = await run('npx', ['arenakv', 'bench', 'throughput', 'expiry', '--scale', 'tiny'], { cwd: dir, env: { ...env, ...quietNpm }, timeout: 120_000 })
    expect(r.stderr).not.toMatch(STACK_FRAME)
    expect(r.status, r.stderr).toBe(0)
    for (const command of ['npm install lru-cache', 'npm install mnemonist', 'apt-get install redis-server']) {
      expect(r.stdout).toContain(`(\`${command}\` adds it)`)
    }
    expect(r.stdout).toMatch(/^90% GET \/ 10% SET\s+arenakv get\s+[\d,]+\s/m)
    expect(r.stdout).not.toMatch(/^workload .*÷ (lru-cache|mnemonist)/m)
    expect(r.stdout).not.toMatch(/NaN/)
    expect(r.stdout).not.toMatch(/^redis-server\s+[\d,]/m)
    expect(r.stdout).not.toMatch(/\s(lru-cache|mnemonist)\s+[\d,]{2,}\s/)
    expect(r.stdout).toMatch(/^arenakv\s+[\d.]+\s/m)
  }, 180_000)
})

describe('installing the packed tarball from source', () => {
  test('builds from source with --build-from-source', async () => {
    const dir = project('source-user')
    // The tarball CI already fetched and verified, so the source build does not fetch it again.
    const env = { ...process.env, JEMALLOC_TARBALL: join(root, 'deps', 'jemalloc', 'jemalloc-5.3.0.tar.bz2') }
    await sh('npm', ['install', tarball, '--build-from-source'], dir, env)
    expect(existsSync(join(dir, 'node_modules', 'arenakv', 'build', 'Release', 'arenakv.node'))).toBe(true)
    expect((await sh('node', ['main.js'], dir, env)).trim()).toBe('jemalloc')
  }, 600_000)
})
