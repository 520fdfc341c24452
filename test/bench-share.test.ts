// The share bench suite end to end at tiny scale, from dist/: 1, 2 and 4 threads over one shared engine and over
// private engines of the same total maxmemory, each configuration in a fresh process.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureDist } from './helpers/dist.js'
import { runOk } from './helpers/run.js'

const root = fileURLToPath(new URL('..', import.meta.url))

interface Median {
  mode: 'shared' | 'private'
  threads: number
  opsPerSec: number
  threadOpsPerSec: number
  hitRatio: number
  rssAfter: number
  keys: number
}

describe('arenakv bench share --scale tiny', () => {
  let out: string
  let stdout: string
  beforeAll(async () => {
    await ensureDist()
    out = mkdtempSync(join(tmpdir(), 'arenakv-share-'))
    // jemalloc: the mimalloc build cannot share an engine, and one build is enough for this suite.
    stdout = await runOk(process.execPath, [join(root, 'dist/cli/arenakv.js'), 'bench', 'share', '--allocators', 'jemalloc', '--out', out, '--scale', 'tiny'], {
      cwd: root,
      timeout: 240_000,
    })
  }, 300_000)
  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true })
  })

  test('measures every thread count shared and private, with finite figures, and reports the per-operation cost', () => {
    const json = JSON.parse(readFileSync(join(out, 'share.json'), 'utf8')) as {
      suite: string
      perOpCost: number
      plan: { maxmemory: number }
      medians: Median[]
      runs: unknown[]
      lockWaits: { writers: number; gets: number; p50Us: number; p99Us: number; maxMs: number; maxStepsPerHold: number }[]
    }
    expect(json.suite).toBe('share')
    expect(json.medians.map((m) => `${m.threads} ${m.mode}`)).toEqual(['1 private', '1 shared', '2 private', '2 shared', '4 private', '4 shared'])
    expect(json.runs).toHaveLength(6)
    for (const m of json.medians) {
      expect(Number.isFinite(m.opsPerSec) && m.opsPerSec > 0).toBe(true)
      expect(Number.isFinite(m.threadOpsPerSec) && m.threadOpsPerSec > 0).toBe(true)
      expect(m.hitRatio).toBeGreaterThan(0)
      expect(m.hitRatio).toBeLessThan(1)
      expect(m.rssAfter).toBeGreaterThan(json.plan.maxmemory)
      expect(m.keys).toBeGreaterThan(0)
    }
    // The main thread's lock waits beside 1, 2 and 4 writers: percentiles in order, every figure finite.
    expect(json.lockWaits.map((w) => w.writers)).toEqual([1, 2, 4])
    for (const w of json.lockWaits) {
      expect(w.gets).toBeGreaterThan(0)
      expect(w.p50Us).toBeGreaterThanOrEqual(0)
      expect(w.p99Us).toBeGreaterThanOrEqual(w.p50Us)
      expect(w.maxMs * 1000).toBeGreaterThanOrEqual(w.p99Us)
      expect(Number.isFinite(w.maxMs)).toBe(true)
      // One write evicts a handful of keys here (100 B values): never more than a shared eviction batch.
      expect(w.maxStepsPerHold).toBeLessThanOrEqual(64)
    }
    expect(stdout).toMatch(/lock wait/i)
    const at = (mode: string, threads: number) => json.medians.find((m) => m.mode === mode && m.threads === threads) as Median
    // One thread: the same workload and bound, so the same hit ratio within sampling noise.
    expect(Math.abs(at('shared', 1).hitRatio - at('private', 1).hitRatio)).toBeLessThan(0.02)
    // Four private engines of a quarter each hold the hot keys four times over: one shared engine holds them once.
    expect(at('shared', 4).hitRatio).toBeGreaterThan(at('private', 4).hitRatio + 0.05)
    expect(json.perOpCost).toBeCloseTo(at('private', 1).threadOpsPerSec / at('shared', 1).threadOpsPerSec, 10)
    expect(stdout).toMatch(/^• Goal: one thread's per-operation cost on a shared engine, uncontended, ≤ 1\.3 × a private engine's \(measured \d+\.\d\d×/m)
    expect(stdout).toMatch(/This machine has \d+ cores?/)
    const md = readFileSync(join(out, 'report.md'), 'utf8')
    expect(md).toContain('(share.json)')
  })
})
