import { describe, expect, it } from 'vitest'
import { arcHits } from '../bench/sim/arc.js'
import { lruHits } from '../bench/sim/lru.js'
import { optHits } from '../bench/sim/opt.js'
import { wtinylfuHits } from '../bench/sim/wtinylfu.js'
import { syntheticTrace } from '../bench/traces.js'

const t = (...keys: number[]): Uint32Array => Uint32Array.from(keys)

describe('reference simulators on hand-computed traces', () => {
  // 1 2 3 4 1 2 5 1 2 3 4 5 with 3 keys: the textbook sequence (Belady's anomaly example).
  const seq = t(1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5)

  it('exact LRU', () => {
    // LRU with 3: misses everywhere but 1 2 after 5 (positions 7, 8): 2 hits. With 4: 1 2 at 4, 5 and 1 2 at 7, 8: 4.
    expect(lruHits(seq, 3)).toBe(2)
    expect(lruHits(seq, 4)).toBe(4)
    expect(lruHits(t(1, 1, 1), 1)).toBe(2)
    expect(lruHits(t(1, 2, 1), 0)).toBe(0)
    // Counting from an index leaves the warm-up out.
    expect(lruHits(seq, 4, 6)).toBe(2)
  })

  it("OPT (Belady): 5 hits with 3 keys on the textbook sequence, and a loop's n-1 of every n+... bound", () => {
    // 1 2 3 | 4 evicts 3 (next at 9) | 1 2 hit | 5 evicts 4 (next at 10) ... | 1 2 hit | 3 evicts 1 or 2 | 4 miss | 5 hit.
    expect(optHits(seq, 3)).toBe(5)
    expect(optHits(seq, 4)).toBe(6)
    // A loop of 4 keys through 3 places: after the first pass, OPT misses once every 3 requests... 1 2 3 4 1 2 3 4:
    // 4 evicts 3 (1 and 2 come first); 1 hit, 2 hit, 3 evicts 1 or 2 (4 is next): misses 3, then 4 hits.
    expect(optHits(t(1, 2, 3, 4, 1, 2, 3, 4), 3)).toBe(3)
    // Never worse than LRU, on a longer trace.
    const z = syntheticTrace('zipf', 300, 5000).keys
    for (const c of [10, 50, 150]) expect(optHits(z, c)).toBeGreaterThanOrEqual(lruHits(z, c))
  })

  it('ARC: equal to LRU on a pure recency trace, resists a one-pass scan', () => {
    expect(arcHits(seq, 3)).toBe(2)
    expect(arcHits(t(1, 1, 2, 2, 3, 3), 1)).toBe(3)
    // A hot pair requested twice (so in T2), then a scan of 10 new keys through 4 places: the pair survives in T2.
    const trace = t(1, 2, 1, 2, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 1, 2)
    expect(arcHits(trace, 4)).toBe(4)
    expect(lruHits(trace, 4)).toBe(2)
  })

  it('W-TinyLFU (fixed window): frequent keys survive a scan, and the loop is held near OPT', () => {
    const trace = t(1, 2, 1, 2, 1, 2, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 1, 2)
    // 1 and 2 hit 4 times before the scan and again after it: the newcomers (frequency 1) are refused.
    expect(wtinylfuHits(trace, 4)).toBe(6)
    expect(lruHits(trace, 4)).toBe(4)
    const loop = syntheticTrace('loop', 200, 20_000).keys
    expect(lruHits(loop, 100)).toBe(0)
    expect(wtinylfuHits(loop, 100) / loop.length).toBeGreaterThan(0.4)
    expect(optHits(loop, 100)).toBeGreaterThanOrEqual(wtinylfuHits(loop, 100))
  })
})
