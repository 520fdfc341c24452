// Child of the hit-ratio suite: a Zipf(0.99) trace replayed cache-aside (GET; on a miss, SET) at full speed
// against one eviction policy, and an exact LRU of the same capacity on the same trace for comparison.
import { progressReporter, runChild } from './child.js'
import { Rng } from './rng.js'
import { lruHits } from './sim/lru.js'
import { ZipfSampler } from './zipf.js'

export type HitPolicy = 'allkeys-lru' | 'allkeys-lfu' | 'allkeys-random' | 'allkeys-adaptive'

export interface HitParams {
  policy: HitPolicy
  samples: number
  keys: number
  cacheKeys: number
  requests: number
  valueBytes: number
}

export interface HitResult {
  policy: HitPolicy
  samples: number
  hitRatio: number
  /** Mean keys the engine held over the measured part (its maxmemory is sized to hold about cacheKeys). */
  heldKeys: number
  maxmemory: number
  /** Exact LRU on the same trace: at cacheKeys, and at the engine's mean held keys (the like-for-like figure). */
  exactLru: number
  exactLruAtHeld: number
  opsPerSec: number
}

const progress = progressReporter()
/** The first share of the trace warms the cache up and is not counted. */
const WARMUP_SHARE = 0.2

/** Exact LRU's hit ratio (bench/sim/lru.ts) over the requests from `from` on. */
function exactLru(trace: Uint32Array, capacity: number, from: number): number {
  return lruHits(trace, capacity, from) / (trace.length - from)
}

runChild<HitParams, HitResult>(async (p) => {
  const { Engine } = await import('../lib/engine.js')
  const trace = new ZipfSampler(p.keys, 0.99, new Rng(99)).trace(p.requests)
  const value = Buffer.alloc(p.valueBytes, 0x63)
  // Size maxmemory from an identical engine holding exactly cacheKeys keys, so capacity is counted in keys.
  const probe = new Engine()
  for (let i = 0; i < p.cacheKeys; i++) probe.set(`key:${i}`, value)
  const maxmemory = probe.usedMemory()
  probe.close()

  const db = new Engine({ maxmemory, maxmemoryPolicy: p.policy, maxmemorySamples: p.samples })
  const from = Math.floor(p.requests * WARMUP_SHARE)
  const target = Buffer.allocUnsafe(p.valueBytes)
  let hits = 0
  let heldSum = 0
  let heldSamples = 0
  const t0 = performance.now()
  for (let i = 0; i < trace.length; i++) {
    const key = `key:${trace[i]}`
    if (db.getInto(key, target) >= 0) {
      if (i >= from) hits++
    } else {
      db.set(key, value)
    }
    if ((i & 0x3ff) === 0 && i >= from) {
      heldSum += db.dbsize()
      heldSamples++
    }
    if ((i & 0xffff) === 0) progress(`${p.policy} samples ${p.samples}: ${Math.round((i / trace.length) * 100)}%`)
  }
  const seconds = (performance.now() - t0) / 1000
  db.close()
  const heldKeys = heldSamples > 0 ? heldSum / heldSamples : 0
  return {
    policy: p.policy,
    samples: p.samples,
    hitRatio: hits / (trace.length - from),
    heldKeys,
    maxmemory,
    exactLru: exactLru(trace, p.cacheKeys, from),
    exactLruAtHeld: exactLru(trace, Math.max(1, Math.round(heldKeys)), from),
    opsPerSec: trace.length / seconds,
  }
})
