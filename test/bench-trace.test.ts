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

  test('builds the mixed shapes: phases, a moving hot set, scans through a Zipf core, a loop beside a Zipf core', () => {
    const n = 1000
    // phases: by turns a Zipf core below n/2, and a sliding window of n/10 keys through [n/2, n/2 + 2n).
    const phases = syntheticTrace('phases', n, 16_000).keys
    expect(Math.max(...phases.subarray(0, 2000))).toBeLessThan(n / 2)
    const recency = phases.subarray(2000, 4000)
    expect(Math.min(...recency)).toBeGreaterThanOrEqual(n / 2)
    expect(Math.max(...recency)).toBeLessThan(n / 2 + 2 * n)
    // The window slides: the first 100 requests of the phase and the last 100 share no key.
    const first = new Set(recency.subarray(0, 100))
    expect(recency.subarray(1900).some((k) => first.has(k))).toBe(false)
    // hotshift: about 80% of each phase's requests on n/20 neighbouring keys, another range in the next phase.
    const hotshift = syntheticTrace('hotshift', n, 16_000).keys
    const inRange = (from: number, to: number, start: number): number =>
      hotshift.subarray(from, to).filter((k) => k >= start && k < start + n / 20).length / (to - from)
    expect(inRange(0, 1000, 0)).toBeGreaterThan(0.75)
    expect(inRange(1000, 2000, 0)).toBeLessThan(0.1)
    expect(inRange(1000, 2000, (7 * n) / 20)).toBeGreaterThan(0.75)
    // zipfscan: every third request is the next key of a scan through [n/2, n/2 + 4n); the rest stay below n/2.
    const zipfscan = syntheticTrace('zipfscan', n, 9000).keys
    expect(Array.from(zipfscan.filter((_, i) => i % 3 === 2).subarray(0, 3))).toEqual([500, 501, 502])
    expect(Math.max(...zipfscan.filter((_, i) => i % 3 !== 2))).toBeLessThan(n / 2)
    // loopmix: even requests loop over 550 keys, odd ones are Zipf over the 450 others.
    const loopmix = syntheticTrace('loopmix', n, 4000)
    expect(Array.from(loopmix.keys.filter((_, i) => i % 2 === 0).subarray(548, 552))).toEqual([548, 549, 0, 1])
    expect(Math.min(...loopmix.keys.filter((_, i) => i % 2 === 1))).toBeGreaterThanOrEqual(550)
    expect(loopmix.distinct).toBeLessThanOrEqual(n)
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
    expect([...new Set(j.traces.map((c) => c.trace))]).toEqual(['small', 'zipf', 'loop', 'scan', 'shift', 'phases', 'hotshift', 'zipfscan', 'loopmix'])
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
