import { describe, expect, it } from 'vitest'
import type { MaxmemoryPolicy } from '../lib/config.js'
import { syntheticTrace } from '../bench/traces.js'
import { Adaptive, REF_BIT, type AdaptiveHost } from '../lib/adaptive.js'
import { Engine } from '../lib/engine.js'
import { ArenaKVError } from '../lib/errors.js'
import { closedAfterEach } from './helpers/engine.js'

const { engine } = closedAfterEach()

const VALUE = 'v'.repeat(100)

/** maxmemory that holds about `keys` keys of VALUE (measured on an engine holding exactly that many). */
function maxmemoryFor(keys: number): number {
  const probe = new Engine()
  for (let i = 0; i < keys; i++) probe.set(`key:${i}`, VALUE)
  const bytes = probe.usedMemory()
  probe.close()
  return bytes
}

function adaptiveInfo(db: Engine): Record<string, string | number> {
  return Object.fromEntries(Object.entries(db.infoObject('memory')).filter(([k]) => k.startsWith('adaptive_')))
}

describe('allkeys-adaptive', () => {
  it('keeps a hot set through a scan that flushes it under allkeys-lru', () => {
    const maxmemory = maxmemoryFor(1000)
    const hitsAfterScan = (policy: MaxmemoryPolicy): number => {
      const db = engine({ maxmemory, maxmemoryPolicy: policy })
      const access = (key: string): boolean => {
        if (db.get(key) !== undefined) return true
        db.set(key, VALUE)
        return false
      }
      for (let round = 0; round < 10; round++) for (let i = 0; i < 500; i++) access(`hot:${i}`)
      for (let i = 0; i < 5000; i++) access(`scan:${i}`)
      let hits = 0
      for (let i = 0; i < 500; i++) if (access(`hot:${i}`)) hits++
      return hits
    }
    const adaptive = hitsAfterScan('allkeys-adaptive')
    const lru = hitsAfterScan('allkeys-lru')
    expect(lru).toBeLessThan(50)
    expect(adaptive).toBeGreaterThan(400)
  })

  it('ranks a protected key before a probation key only when read 8 × the keys held accesses earlier', () => {
    // The main region's pool scores (higher goes first): protection lasts while the key is read now and then, so a
    // hot set that moved does not leave stale protected keys holding out the keys admitted after it.
    const ks = { count: 100, lru: new Uint32Array(4) }
    const host = { ks, cfg: { maxmemory: 0 }, usedMemory: () => 0 } as unknown as AdaptiveHost
    const ad = new Adaptive(host)
    ad.accessed(1, undefined) // protected, read at tick 0
    const stale = ks.lru[1]
    expect(stale & REF_BIT).not.toBe(0)
    for (let i = 0; i < 799; i++) ad.accessed(2, undefined)
    const recent = (ks.lru[2] & ~REF_BIT) >>> 0 // on probation, read at tick 799: less than 8 × 100 later
    expect(ad.mainScore(recent)).toBeGreaterThan(ad.mainScore(stale))
    ad.accessed(2, undefined)
    ad.accessed(2, undefined)
    const later = (ks.lru[2] & ~REF_BIT) >>> 0 // read at tick 801: more than that
    expect(ad.mainScore(stale)).toBeGreaterThan(ad.mainScore(later))
    // Among probation keys, and among protected ones, the least recently read goes first.
    expect(ad.mainScore(recent)).toBeGreaterThan(ad.mainScore(later))
    expect(ad.mainScore(stale)).toBeGreaterThan(ad.mainScore(ks.lru[2]))
    // With fewer keys held, protection lasts fewer accesses.
    ks.count = 10
    expect(ad.mainScore(stale)).toBeGreaterThan(ad.mainScore(recent))
  })

  it("does not grow the window on its ghosts' false positives: a stream of keys never read again leaves it small", () => {
    // No evicted key ever comes back, so every ghost hit is a Bloom filter's false positive (about 10% of misses in
    // the window's ghost, which remembers as many keys as the main region holds); they must not move the share.
    const db = engine({ maxmemory: maxmemoryFor(1000), maxmemoryPolicy: 'allkeys-adaptive' })
    for (let i = 0; i < 50_000; i++) db.set(`stream:${i}`, VALUE)
    expect(db.stats.evicted_keys).toBeGreaterThan(45_000)
    expect(Number(adaptiveInfo(db).adaptive_window_share_perc)).toBeLessThan(20)
  })

  it('sizes its ghosts for a quarter of the keys whatever the window, which grows when recency pays', () => {
    const db = engine({ maxmemory: maxmemoryFor(500), maxmemoryPolicy: 'allkeys-adaptive' })
    for (let i = 0; i < 20_000; i++) db.set(`stream:${i}`, VALUE)
    const before = adaptiveInfo(db)
    expect(Number(before.adaptive_ghost_bytes)).toBeGreaterThan(0)
    expect(6 * Number(before.adaptive_ghost_bytes)).toBeLessThanOrEqual(Number(before.adaptive_sketch_bytes))
    // Frequency and recency phases by turns: in the recency phases each key is read often for a short while, then
    // not again until much later, so a larger window pays and the ghosts say so.
    const trace = syntheticTrace('phases', 1000, 40_000).keys
    for (const k of trace) if (db.get(`p${k}`) === undefined) db.set(`p${k}`, VALUE)
    const after = adaptiveInfo(db)
    expect(Number(after.adaptive_window_share_perc)).toBeGreaterThan(25)
    // A ghost as large as the window would measure hits far from the margin (ARCHITECTURE.md, "The adaptive
    // policies"): each still remembers a quarter of the keys, two 8-bit-per-key generations of half that, so both
    // take half a byte per key (twice that once the keys outgrew the sizing), not the window's share of them.
    expect(Number(after.adaptive_ghost_bytes)).toBeLessThanOrEqual(Number(after.adaptive_sketch_keys))
    expect(Number(after.adaptive_ghost_bytes)).toBeLessThanOrEqual(2 * Number(before.adaptive_ghost_bytes))
  })

  it('holds the sketch to 2% of maxmemory when keys are small, and sizes it by the keys when they are not', () => {
    const small = 'v'.repeat(8)
    const probe = new Engine()
    for (let i = 0; i < 5000; i++) probe.set(`key:${i}`, small)
    const maxmemory = probe.usedMemory()
    probe.close()
    const db = engine({ maxmemory, maxmemoryPolicy: 'allkeys-adaptive' })
    for (let i = 0; i < 20_000; i++) db.set(`key:${i}`, small)
    const info = adaptiveInfo(db)
    // One 4-byte word per key would be more than 2% of what a key of 8-byte values costs.
    expect(4 * Number(info.adaptive_sketch_keys)).toBeGreaterThan(0.02 * maxmemory)
    expect(Number(info.adaptive_sketch_bytes)).toBeLessThanOrEqual(0.02 * maxmemory)
    expect(Number(info.adaptive_sketch_bytes)).toBeGreaterThan(0.015 * maxmemory)
    // 1,000-byte values: one word per key (in whole 64-byte blocks), far under the budget.
    const big = engine({ maxmemory: maxmemoryFor(500), maxmemoryPolicy: 'allkeys-adaptive' })
    for (let i = 0; i < 3000; i++) big.set(`key:${i}`, VALUE.repeat(10))
    const bigInfo = adaptiveInfo(big)
    expect(Number(bigInfo.adaptive_sketch_bytes)).toBe(64 * Math.ceil(Number(bigInfo.adaptive_sketch_keys) / 16))
  })

  it('counts the sketch and window in used_memory and reports them in INFO memory', () => {
    const maxmemory = maxmemoryFor(2000)
    const lru = engine({ maxmemory, maxmemoryPolicy: 'allkeys-lru' })
    const db = engine({ maxmemory, maxmemoryPolicy: 'allkeys-adaptive' })
    expect(adaptiveInfo(lru)).toEqual({})
    // Empty, the policy holds no array (nothing to size them by): the two engines use the same memory.
    expect(Number(adaptiveInfo(db).adaptive_sketch_bytes)).toBe(0)
    expect(db.usedMemory()).toBe(lru.usedMemory())
    for (let i = 0; i < 20_000; i++) db.set(`k${i}`, VALUE)
    expect(db.usedMemory()).toBeLessThanOrEqual(maxmemory)
    const after = adaptiveInfo(db)
    expect(Object.keys(after).sort()).toEqual([
      'adaptive_admissions_refused', 'adaptive_admitted', 'adaptive_ghost_bytes', 'adaptive_sketch_bytes', 'adaptive_sketch_keys', 'adaptive_sketch_resets',
      'adaptive_window_adjustments', 'adaptive_window_bytes', 'adaptive_window_queued', 'adaptive_window_share_perc', 'adaptive_window_target_keys',
    ])
    // Sized from maxmemory and the average key: about the keys maxmemory holds.
    expect(Number(after.adaptive_sketch_keys)).toBeGreaterThan(db.dbsize() * 0.75)
    expect(Number(after.adaptive_sketch_keys)).toBeLessThan(db.dbsize() * 1.5)
    expect(Number(after.adaptive_admissions_refused) + Number(after.adaptive_admitted)).toBeGreaterThan(0)
    expect(db.info('memory')).toMatch(/^adaptive_window_share_perc:\d+\.\d\d\r$/m)
    // Switching away releases exactly the arrays INFO reported.
    const arrays = ['adaptive_sketch_bytes', 'adaptive_ghost_bytes', 'adaptive_window_bytes'].reduce((n, k) => n + Number(after[k]), 0)
    expect(arrays).toBeGreaterThan(Number(after.adaptive_sketch_keys) * 4 - 1)
    const used = db.usedMemory()
    db.configSet('maxmemory-policy', 'allkeys-lru')
    expect(used - db.usedMemory()).toBe(arrays)
  })

  it('resizes the sketch when maxmemory changes, and counts the new size', () => {
    const db = engine({ maxmemory: maxmemoryFor(1000), maxmemoryPolicy: 'allkeys-adaptive' })
    for (let i = 0; i < 3000; i++) db.set(`k${i}`, VALUE)
    const bytes = (info: Record<string, string | number>) => Number(info.adaptive_sketch_bytes) + Number(info.adaptive_ghost_bytes)
    const before = adaptiveInfo(db)
    const used = db.usedMemory()
    db.configSet('maxmemory', String(maxmemoryFor(4000)))
    const after = adaptiveInfo(db)
    expect(Number(after.adaptive_sketch_bytes)).toBeGreaterThan(2 * Number(before.adaptive_sketch_bytes))
    expect(db.usedMemory() - used).toBe(bytes(after) - bytes(before))
  })

  it('never fails a write for admission; OOM only when nothing can be evicted', () => {
    const db = engine({ maxmemory: maxmemoryFor(200), maxmemoryPolicy: 'allkeys-adaptive' })
    for (let i = 0; i < 5000; i++) expect(db.set(`k${i % 700}`, VALUE)).toBe(true)
    // The newest write is always readable right after it: a refused candidate is an older key.
    for (let i = 0; i < 500; i++) {
      db.set(`new${i}`, VALUE)
      expect(db.get(`new${i}`)).toBeDefined()
    }
    const events: string[] = []
    db.on('evicted', (k) => events.push(k))
    db.set('one-more', VALUE)
    expect(events.length).toBeGreaterThan(0)
    expect(db.stats.evicted_keys).toBeGreaterThan(0)
  })

  it("never refuses a write because of its own arrays, even when maxmemory holds a single key", () => {
    for (const keys of [1, 3]) {
      const db = engine({ maxmemory: maxmemoryFor(keys), maxmemoryPolicy: 'allkeys-adaptive' })
      for (let i = 0; i < 2000; i++) expect(db.set(`k${i % 300}`, VALUE)).toBe(true)
      expect(db.dbsize()).toBeGreaterThan(0)
    }
  })

  it('a key renamed or copied while in the window stays evictable', () => {
    const db = engine({ maxmemory: maxmemoryFor(50), maxmemoryPolicy: 'allkeys-adaptive' })
    const evicted = new Set<string>()
    db.on('evicted', (k) => evicted.add(k))
    db.set('a', VALUE)
    db.rename('a', 'b')
    db.copy('b', 'c')
    for (let i = 0; i < 5000; i++) db.set(`k${i}`, VALUE)
    expect(evicted.has('b')).toBe(true)
    expect(evicted.has('c')).toBe(true)
  })

  it('OBJECT FREQ reads the sketch; OBJECT IDLETIME is refused', () => {
    const db = engine({ maxmemory: maxmemoryFor(100), maxmemoryPolicy: 'allkeys-adaptive' })
    db.set('a', VALUE)
    for (let i = 0; i < 5; i++) db.get('a')
    expect(db.objectFreq('a')).toBe(6)
    let err: unknown
    try {
      db.objectIdletime('a')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ArenaKVError)
    expect((err as ArenaKVError).message).toMatch(/adaptive maxmemory policy/)
  })
})

describe('volatile-adaptive', () => {
  it('evicts only keys with a TTL, and refuses with OOM when none is left', () => {
    const db = engine({ maxmemory: maxmemoryFor(300), maxmemoryPolicy: 'volatile-adaptive' })
    for (let i = 0; i < 150; i++) db.set(`keep${i}`, VALUE)
    const evicted: string[] = []
    db.on('evicted', (k) => evicted.push(k))
    let oom: unknown
    try {
      for (let i = 0; i < 5000; i++) db.set(`ttl${i}`, VALUE, { ex: 1000 })
    } catch (e) {
      oom = e
    }
    expect(oom).toBeUndefined()
    expect(evicted.length).toBeGreaterThan(1000)
    expect(evicted.every((k) => k.startsWith('ttl'))).toBe(true)
    for (let i = 0; i < 150; i++) expect(db.get(`keep${i}`)).toBeDefined()
    let err: unknown
    try {
      for (let i = 0; i < 1000; i++) db.set(`more${i}`, VALUE)
    } catch (e) {
      err = e
    }
    expect((err as ArenaKVError).code).toBe('ERR_OOM')
    for (let i = 0; i < 150; i++) expect(db.get(`keep${i}`)).toBeDefined()
  })
})

describe('CONFIG SET maxmemory-policy to and from adaptive', () => {
  it('switches both ways at run time, keeps evicting, and counts the arrays only while selected', () => {
    const maxmemory = maxmemoryFor(500)
    const db = engine({ maxmemory, maxmemoryPolicy: 'allkeys-lru' })
    for (let i = 0; i < 2000; i++) db.set(`k${i}`, VALUE)
    const order: MaxmemoryPolicy[] = ['allkeys-adaptive', 'volatile-adaptive', 'allkeys-adaptive', 'allkeys-lfu', 'allkeys-adaptive', 'noeviction', 'allkeys-lru']
    for (const policy of order) {
      db.configSet('maxmemory-policy', policy)
      expect(db.configGet('maxmemory-policy')['maxmemory-policy']).toBe(policy)
      const adaptive = policy.endsWith('-adaptive')
      expect(db.infoObject('memory').adaptive_sketch_bytes !== undefined).toBe(adaptive)
      if (policy === 'noeviction' || policy === 'volatile-adaptive') continue
      const evictedBefore = db.stats.evicted_keys
      for (let i = 0; i < 1000; i++) db.set(`${policy}:${i}`, VALUE)
      expect(db.stats.evicted_keys).toBeGreaterThan(evictedBefore)
      expect(db.usedMemory()).toBeLessThanOrEqual(maxmemory)
      // The newest write is kept (under adaptive, a refused candidate is an older window key).
      expect(db.get(`${policy}:999`)).toBeDefined()
    }
    // Back on allkeys-lru: nothing adaptive is counted any more.
    const lru = engine({ maxmemory, maxmemoryPolicy: 'allkeys-lru' })
    expect(db.infoObject('memory').adaptive_sketch_bytes).toBeUndefined()
    for (let i = 0; i < 2000; i++) lru.set(`k${i}`, VALUE)
    expect(Math.abs(db.usedMemory() - lru.usedMemory())).toBeLessThan(maxmemory / 20)
    expect(() => db.configSet('maxmemory-policy', 'allkeys-adaptiv')).toThrow(ArenaKVError)
  })

  it('FLUSHALL empties the window', () => {
    const db = engine({ maxmemory: maxmemoryFor(300), maxmemoryPolicy: 'allkeys-adaptive' })
    for (let i = 0; i < 1000; i++) db.set(`k${i}`, VALUE)
    db.flushall()
    expect(db.infoObject('memory').adaptive_window_queued).toBe(0)
    for (let i = 0; i < 1000; i++) db.set(`k${i}`, VALUE)
    expect(db.dbsize()).toBeGreaterThan(200)
  })
})
