// The nearcache bench suite end to end at tiny scale, from dist/: three client processes against one redis-server.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { NearcacheResult } from '../bench/nearcache-child.js'
import { ensureDist } from './helpers/dist.js'
import { runOk } from './helpers/run.js'
import { HAS_REDIS_SERVER, needs } from './helpers/tools.js'

const root = fileURLToPath(new URL('..', import.meta.url))

describe.skipIf(!HAS_REDIS_SERVER)(needs('arenakv bench nearcache --scale tiny', HAS_REDIS_SERVER, 'redis-server', 'redis-server'), () => {
  let out: string
  let stdout: string
  beforeAll(async () => {
    await ensureDist()
    out = mkdtempSync(join(tmpdir(), 'arenakv-nearcache-'))
    stdout = await runOk(process.execPath, [join(root, 'dist/cli/arenakv.js'), 'bench', 'nearcache', '--out', out, '--scale', 'tiny'], {
      cwd: root,
      timeout: 240_000,
    })
  }, 300_000)
  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true })
  })

  test('measures arenakv/redis, BasicClientSideCache, the floor and no cache, with finite figures and the bound kept', () => {
    const json = JSON.parse(readFileSync(join(out, 'nearcache.json'), 'utf8')) as {
      suite: string
      plan: { maxmemory: number }
      results: NearcacheResult[]
    }
    expect(json.suite).toBe('nearcache')
    expect(json.results.map((r) => r.mode)).toEqual(['arenakv', 'basic', 'floor', 'none'])
    const [a, b, fl, n] = json.results
    for (const r of json.results) {
      expect(Number.isFinite(r.seqOpsPerSec) && r.seqOpsPerSec > 0).toBe(true)
      expect(Number.isFinite(r.concOpsPerSec) && r.concOpsPerSec > 0).toBe(true)
      expect(Number.isFinite(r.seqCpuNs) && r.seqCpuNs > 0).toBe(true)
      expect(r.seqP99Us).toBeGreaterThanOrEqual(r.seqP50Us)
    }
    // The hot set (80% of what the cache held) is read once before timing: nearly every timed GET is a hit (sampled
    // LRU may still evict a hot key while the pass stores the missing ones).
    expect(a.hitRatio).toBeGreaterThan(0.99)
    expect(b.hitRatio).toBeGreaterThan(0.99)
    expect(n.hitRatio).toBeNull()
    // The floor answers every GET itself: no hit ratio, no invalidations.
    expect(fl.hitRatio).toBeNull()
    expect(fl.invalidationP50Ms).toBeNull()
    expect(a.engineRss).toBeGreaterThan(0)
    expect(a.held).toBeGreaterThan(0)
    expect(b.held).toBe(a.held)
    expect(a.usedMemory).toBeLessThanOrEqual(json.plan.maxmemory)
    expect(a.invalidationP99Ms).toBeGreaterThanOrEqual(a.invalidationP50Ms!)
    expect(stdout).toMatch(/BasicClientSideCache/)
    expect(stdout).toMatch(/× uncached GET throughput/)
    expect(stdout).toMatch(/above the floor/)
  })
})
