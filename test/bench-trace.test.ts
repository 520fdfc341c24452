import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { readTraceFile, syntheticTrace } from '../bench/traces.js'
import { ensureDist } from './helpers/dist.js'
import { runOk } from './helpers/run.js'

const root = fileURLToPath(new URL('..', import.meta.url))

describe('trace files and shapes', () => {
  test('a trace file is one key per line, gzip or not; keys become dense ids in order of appearance', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arenakv-trace-'))
    try {
      writeFileSync(join(dir, 'a.trace'), 'x\ny\n\nx\nz\n')
      writeFileSync(join(dir, 'b.trace.gz'), gzipSync('x\ny\n\nx\nz\n'))
      for (const file of ['a.trace', 'b.trace.gz']) {
        const t = readTraceFile(join(dir, file))
        expect(Array.from(t.keys)).toEqual([0, 1, 0, 2])
        expect(t.distinct).toBe(3)
      }
      expect(readTraceFile(join(dir, 'b.trace.gz')).name).toBe('b')
      writeFileSync(join(dir, 'empty'), '\n\n')
      expect(() => readTraceFile(join(dir, 'empty'))).toThrow(RangeError)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('synthetic shapes are deterministic and have their shape', () => {
    expect(Array.from(syntheticTrace('loop', 3, 7).keys)).toEqual([0, 1, 2, 0, 1, 2, 0])
    expect(syntheticTrace('zipf', 100, 1000, 3).keys).toEqual(syntheticTrace('zipf', 100, 1000, 3).keys)
    const scan = syntheticTrace('scan', 100, 2000)
    // Hot keys below 50, scanned keys from 50 up, in runs of 50 after each 200 hot requests.
    expect(Math.max(...scan.keys.subarray(0, 200))).toBeLessThan(50)
    expect(Array.from(scan.keys.subarray(200, 203))).toEqual([50, 51, 52])
  })
})

describe('arenakv bench hitratio --trace', () => {
  let out: string
  let dir: string
  let stdout: string

  beforeAll(async () => {
    await ensureDist()
    dir = mkdtempSync(join(tmpdir(), 'arenakv-trace-'))
    out = join(dir, 'out')
    // A small looping trace: 200 keys, 4,000 requests.
    const lines: string[] = []
    for (let i = 0; i < 4000; i++) lines.push(`k${i % 200}`)
    writeFileSync(join(dir, 'small.trace.gz'), gzipSync(lines.join('\n')))
    stdout = await runOk(
      process.execPath,
      [join(root, 'dist/cli/arenakv.js'), 'bench', 'hitratio', '--scale', 'tiny', '--allocators', 'jemalloc', '--out', out, '--trace', join(dir, 'small.trace.gz')],
      { cwd: root, timeout: 170_000 },
    )
  }, 200_000)

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('replays the file and every shape at three capacities, every policy beside OPT, LRU, ARC and W-TinyLFU', () => {
    expect(stdout).toMatch(/Hit % by trace and capacity/)
    type Cell = { trace: string; capacity: number; opt: number; lru: number; arc: number; wtinylfu: number; engine: { runs: { policy: string; hitRatio: number }[] } }
    const j = JSON.parse(readFileSync(join(out, 'hitratio.json'), 'utf8')) as { traces: Cell[] }
    expect([...new Set(j.traces.map((c) => c.trace))]).toEqual(['small', 'zipf', 'loop', 'scan', 'shift'])
    const small = j.traces.filter((c) => c.trace === 'small')
    expect(small.map((c) => c.capacity)).toEqual([20, 50, 100])
    for (const c of j.traces) {
      expect(c.engine.runs.map((r) => r.policy)).toEqual(['allkeys-lru', 'allkeys-lru', 'allkeys-lfu', 'allkeys-lfu', 'allkeys-adaptive'])
      // The engine's capacity is a byte bound (it may hold a few keys more or less than the simulators).
      for (const r of c.engine.runs) expect(r.hitRatio).toBeGreaterThanOrEqual(0)
      for (const r of c.engine.runs) expect(r.hitRatio).toBeLessThan(1)
      expect(c.lru).toBeLessThanOrEqual(c.opt)
      expect(c.arc).toBeLessThanOrEqual(c.opt)
      expect(c.wtinylfu).toBeLessThanOrEqual(c.opt)
    }
    // One loop of 200 keys: exact LRU never hits below 200 keys, OPT does.
    for (const c of small) {
      expect(c.lru).toBe(0)
      expect(c.opt).toBeGreaterThan(0)
    }
  })
})
