// The arenakv command line: the demo runs to completion and explains its memory; bench argument handling.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ensureDist } from './helpers/dist.js'
import { run as runProcess, type RunResult } from './helpers/run.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const cli = join(root, 'dist/cli/arenakv.js')

function run(args: string[]): Promise<RunResult> {
  return runProcess(process.execPath, [cli, ...args], { cwd: root, timeout: 60_000 })
}

beforeAll(() => ensureDist(), 120_000)

/** Words that speak of the project's history rather than the product: users have no issue tracker or design doc. */
const PROJECT_HISTORY = /\bissues?\b|DESIGN|§|not available yet|older (binar|build|engine)/i

describe('arenakv demo', () => {
  let out: RunResult

  beforeAll(async () => {
    out = await run(['demo', '--scale', 'tiny'])
  }, 60_000)

  test('runs to completion with plain progress lines when stdout is not a terminal', () => {
    expect(out.stderr).toBe('')
    expect(out.status).toBe(0)
    expect(out.stdout).toMatch(/^arenakv demo: (jemalloc|tcmalloc|libc) \S+, maxmemory 12mb, allkeys-lru/)
    for (let step = 1; step <= 6; step++) expect(out.stdout).toMatch(new RegExp(`^${step}/6 .+…$`, 'm'))
    expect(out.stdout).not.toContain('\r')
    expect(out.stdout).not.toContain('\x1b[')
    expect(out.stdout).not.toMatch(PROJECT_HISTORY)
  })

  test('prints the INFO memory section with Redis field names', () => {
    expect(out.stdout).toMatch(/^# Memory$/m)
    for (const field of ['used_memory', 'used_memory_rss', 'used_memory_peak', 'maxmemory', 'maxmemory_policy', 'mem_allocator', 'mem_fragmentation_ratio', 'allocator_frag_ratio']) {
      expect(out.stdout).toMatch(new RegExp(`^${field}:\\S+$`, 'm'))
    }
    expect(out.stdout).toMatch(/^maxmemory:12582912$/m)
    expect(out.stdout).toMatch(/^maxmemory_policy:allkeys-lru$/m)
  })

  test("prints MEMORY DOCTOR's verdict", () => {
    const doctor = /^# Doctor\n([\s\S]+?)\n\n# What happened/m.exec(out.stdout)
    expect(doctor).not.toBeNull()
    expect(doctor?.[1].trim().length).toBeGreaterThan(20)
    expect(doctor?.[1]).not.toContain('not available')
  })

  test('the workload evicted, expired, and purged, and the table says so', () => {
    const figure = (name: string): number => {
      const m = new RegExp(`^${name}\\s+([\\d,.]+)`, 'm').exec(out.stdout)
      expect(m, name).not.toBeNull()
      return Number(m![1].replace(/,/g, ''))
    }
    expect(figure('evicted_keys')).toBeGreaterThan(0)
    expect(figure('expired_keys')).toBeGreaterThan(0)
    expect(figure("'expired' events")).toBe(figure('expired_keys'))
    expect(figure('keyspace_hits')).toBeGreaterThan(0)
    expect(out.stdout).toMatch(/^RSS before purge\s+[\d.]+ MB$/m)
    expect(out.stdout).toMatch(/^RSS after purge\s+[\d.]+ MB$/m)
  })
})

describe('arenakv bench arguments', () => {
  test('--list names every suite', async () => {
    const r = await run(['bench', '--list'])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^alloc\s+/m)
  })

  test('an unknown suite, allocator, scale or run count is refused before anything runs', async () => {
    const suite = await run(['bench', 'nosuch', '--scale', 'tiny', '--allocators', 'jemalloc'])
    expect(suite.status).not.toBe(0)
    expect(suite.stderr).toContain("unknown bench suite 'nosuch'")
    const alloc = await run(['bench', 'alloc', '--allocators', 'nosuchmalloc'])
    expect(alloc.status).not.toBe(0)
    expect(alloc.stderr).toContain("unknown allocator 'nosuchmalloc'")
    const scale = await run(['bench', 'alloc', '--scale', 'huge'])
    expect(scale.status).not.toBe(0)
    expect(scale.stderr).toMatch(/argument 'huge' is invalid. Allowed choices are tiny, small, full/)
    for (const runs of ['0', '1.5', 'three', '100']) {
      const r = await run(['bench', 'churn', '--scale', 'tiny', '--runs', runs])
      expect(r.status, runs).not.toBe(0)
      expect(r.stderr, runs).toContain('--runs takes a whole number from 1 to 99')
    }
  })

  describe('--out is checked before any suite runs', () => {
    let dir: string
    let file: string
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'arenakv-cli-out-'))
      file = join(dir, 'results.txt')
      writeFileSync(file, 'not a directory\n')
    })
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    const bench = (out: string) => run(['bench', 'expiry', '--allocators', 'jemalloc', '--scale', 'tiny', '--out', out])

    test('a regular file: refused at once, nothing run, the file untouched', async () => {
      const r = await bench(file)
      expect(r.status).toBe(1)
      expect(r.stderr).toBe(`arenakv: --out ${file}: not a directory (it is a file)\n`)
      expect(r.stdout).toBe('')
      expect(readFileSync(file, 'utf8')).toBe('not a directory\n')
    })

    test('a path under a regular file: refused at once, naming the file in the way', async () => {
      const r = await bench(join(file, 'sub', 'dir'))
      expect(r.status).toBe(1)
      expect(r.stderr).toBe(
        `arenakv: --out ${join(file, 'sub', 'dir')}: cannot create the directory: ${file} is a file, not a directory\n`,
      )
      expect(r.stdout).toBe('')
    })
  })

  test('--help describes both commands', async () => {
    const r = await run(['--help'])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('demo')
    expect(r.stdout).toContain('bench')
    for (const command of ['demo', 'bench']) {
      const help = await run([command, '--help'])
      expect(help.status).toBe(0)
      expect(help.stdout).toContain('--scale')
      expect(help.stdout).not.toMatch(PROJECT_HISTORY)
    }
    expect(r.stdout).not.toMatch(PROJECT_HISTORY)
  })
})
