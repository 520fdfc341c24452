import { afterEach, describe, expect, it } from 'vitest'
import { allocator } from '../lib/allocator.js'
import type { MaxmemoryPolicy } from '../lib/config.js'
import { Engine } from '../lib/engine.js'
import { ArenaKVError, OOM_MESSAGE } from '../lib/errors.js'
import { estimateUsableSize, evictionTimeLimitUs } from '../lib/evict.js'
import { ManualClock, engineWithClock } from './helpers/engine.js'

const MB = 1024 * 1024
const open: Engine[] = []
function engine(options?: ConstructorParameters<typeof Engine>[0], clock?: ManualClock): Engine {
  const { db } = engineWithClock(options, clock)
  open.push(db)
  return db
}
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})

function oom(fn: () => unknown): ArenaKVError | undefined {
  try {
    fn()
  } catch (err) {
    if (err instanceof ArenaKVError) return err
    throw err
  }
  return undefined
}

const VALUE = 'x'.repeat(100)

describe('eviction arithmetic', () => {
  it("bounds eviction time by tenacity as Redis's evictionTimeLimitUs", () => {
    expect(evictionTimeLimitUs(0)).toBe(0)
    expect(evictionTimeLimitUs(10)).toBe(500)
    expect(evictionTimeLimitUs(11)).toBe(575)
    expect(evictionTimeLimitUs(99)).toBe(Math.floor(500 * 1.15 ** 89))
    expect(evictionTimeLimitUs(100)).toBe(Infinity)
  })

  it('estimates jemalloc size classes', () => {
    expect([1, 8, 9, 17, 65, 128, 129, 160, 161, 200, 257, 1025].map(estimateUsableSize))
      .toEqual([8, 8, 16, 24, 80, 128, 160, 160, 192, 224, 320, 1280])
    // Exact against the build's own allocator when it is jemalloc; never an underestimate elsewhere.
    for (let n = 1; n < 70_000; n += n < 4096 ? 1 : 7) {
      if (allocator.name === 'jemalloc') expect(estimateUsableSize(n)).toBe(allocator.goodSize(n))
      else expect(estimateUsableSize(n)).toBeGreaterThanOrEqual(n)
    }
  })
})

describe('noeviction', () => {
  it('refuses writes over maxmemory with the exact OOM text; reads and deletes still work', () => {
    const db = engine({ maxmemory: 4 * MB })
    let err: ArenaKVError | undefined
    let i = 0
    while (err === undefined && i < 1_000_000) err = oom(() => db.set(`k${i++}`, VALUE))
    expect(err?.code).toBe('ERR_OOM')
    expect(err?.message).toBe("OOM command not allowed when used memory > 'maxmemory'.")
    expect(err?.message).toBe(OOM_MESSAGE)
    expect(db.usedMemory()).toBeLessThanOrEqual(4 * MB)
    const n = db.dbsize()
    expect(n).toBe(i - 1)
    expect(db.stats.evicted_keys).toBe(0)
    expect(db.getString('k0')).toBe(VALUE)
    expect(db.exists('k1')).toBe(1)
    expect(oom(() => db.mset([['m', VALUE]]))?.code).toBe('ERR_OOM')
    expect(db.del('k0', 'k1', 'k2', 'k3')).toBe(4)
    expect(db.set('after-delete', VALUE)).toBe(true)
  })
})

describe('allkeys policies', () => {
  for (const policy of ['allkeys-lru', 'allkeys-lfu', 'allkeys-random'] as const) {
    it(`${policy} keeps used memory under maxmemory while writing 10x maxmemory`, () => {
      const maxmemory = 4 * MB
      const db = engine({ maxmemory, maxmemoryPolicy: policy })
      let evictedEvents = 0
      db.on('evicted', () => evictedEvents++)
      let written = 0
      let peak = 0
      for (let i = 0; written < 10 * maxmemory; i++) {
        db.set(`key:${i}`, VALUE)
        written += VALUE.length + 10
        peak = Math.max(peak, db.usedMemory())
      }
      expect(peak).toBeLessThanOrEqual(maxmemory)
      expect(db.dbsize()).toBeGreaterThan(10_000)
      expect(db.stats.evicted_keys).toBeGreaterThan(300_000)
      expect(evictedEvents).toBe(db.stats.evicted_keys)
    })
  }

  it('allkeys-lru keeps the recently used keys', () => {
    const clock = new ManualClock()
    const db = engine({ maxmemory: 4 * MB, maxmemoryPolicy: 'allkeys-lru', maxmemorySamples: 10 }, clock)
    for (let i = 0; i < 100; i++) db.set(`hot${i}`, VALUE)
    for (let i = 0; i < 200_000; i++) {
      clock.advance(1)
      db.set(`cold${i}`, VALUE)
      db.get(`hot${i % 100}`)
    }
    let hot = 0
    for (let i = 0; i < 100; i++) if (db.exists(`hot${i}`)) hot++
    expect(hot).toBe(100)
    expect(db.exists('cold0')).toBe(0)
  })

  it('allkeys-lfu keeps the frequently used keys', () => {
    const clock = new ManualClock()
    const db = engine({ maxmemory: 4 * MB, maxmemoryPolicy: 'allkeys-lfu' }, clock)
    for (let i = 0; i < 100; i++) {
      db.set(`hot${i}`, VALUE)
      for (let j = 0; j < 200; j++) db.get(`hot${i}`)
    }
    for (let i = 0; i < 200_000; i++) db.set(`cold${i}`, VALUE)
    let hot = 0
    for (let i = 0; i < 100; i++) if (db.exists(`hot${i}`)) hot++
    expect(hot).toBeGreaterThanOrEqual(95)
  })
})

describe('volatile policies', () => {
  const volatile: MaxmemoryPolicy[] = ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl']
  for (const policy of volatile) {
    it(`${policy} never removes keys without a TTL, and gives OOM when only those are left`, () => {
      const db = engine({ maxmemory: 4 * MB, maxmemoryPolicy: policy })
      for (let i = 0; i < 5000; i++) db.set(`persistent${i}`, VALUE)
      for (let i = 0; i < 100_000; i++) db.set(`volatile${i}`, VALUE, { ex: 1000 + (i % 100) })
      expect(db.usedMemory()).toBeLessThanOrEqual(4 * MB)
      expect(db.stats.evicted_keys).toBeGreaterThan(0)
      for (let i = 0; i < 5000; i++) expect(db.exists(`persistent${i}`)).toBe(1)
      // With no volatile key left to evict, writes fail.
      let err: ArenaKVError | undefined
      for (let i = 0; err === undefined && i < 200_000; i++) err = oom(() => db.set(`p2:${i}`, VALUE))
      expect(err?.code).toBe('ERR_OOM')
      expect(db.volatileCount()).toBe(0)
      for (let i = 0; i < 5000; i++) expect(db.exists(`persistent${i}`)).toBe(1)
    })
  }

  it('volatile-ttl evicts the keys that expire soonest', () => {
    const db = engine({ maxmemory: 4 * MB, maxmemoryPolicy: 'volatile-ttl', maxmemorySamples: 10 })
    let i = 0
    while (db.stats.evicted_keys === 0) {
      db.set(`k${i}`, VALUE, { ex: 100_000 - i })
      i++
    }
    for (let j = 0; j < 20_000; j++, i++) db.set(`k${i}`, VALUE, { ex: 100_000 - i })
    // Later keys have shorter TTLs: they go first; the earliest (longest TTL) keys survive.
    let early = 0
    for (let j = 0; j < 1000; j++) early += db.exists(`k${j}`)
    expect(early).toBe(1000)
  })
})

describe('policy changes and listeners', () => {
  it('switching between LRU and LFU restarts every key clock', () => {
    const clock = new ManualClock()
    const db = engine({ maxmemoryPolicy: 'allkeys-lru' }, clock)
    db.set('k', 'v')
    clock.advance(5000)
    expect(db.objectIdletime('k')).toBe(5)
    db.configSet('maxmemory-policy', 'allkeys-lfu')
    expect(db.objectFreq('k')).toBe(5)
    db.configSet('maxmemory-policy', 'volatile-lru')
    expect(db.objectIdletime('k')).toBe(0)
    expect(db.configGet('maxmemory-policy')).toEqual({ 'maxmemory-policy': 'volatile-lru' })
  })

  it('an evicted listener may write to the engine', () => {
    const db = engine({ maxmemory: 4 * MB, maxmemoryPolicy: 'allkeys-random' })
    let writes = 0
    db.on('evicted', (key) => {
      if (writes++ < 1000) db.set(`echo:${key}`, 'e')
    })
    for (let i = 0; i < 60_000; i++) db.set(`k${i}`, VALUE)
    expect(writes).toBeGreaterThan(1000)
    expect(db.usedMemory()).toBeLessThanOrEqual(4 * MB)
  })
})

describe('maxmemory changes and tenacity', () => {
  it('lowering maxmemory evicts at once', () => {
    const db = engine({ maxmemoryPolicy: 'allkeys-lru', maxmemoryEvictionTenacity: 100 })
    for (let i = 0; i < 100_000; i++) db.set(`k${i}`, VALUE)
    expect(db.usedMemory()).toBeGreaterThan(8 * MB)
    db.configSet('maxmemory', 4 * MB)
    expect(db.usedMemory()).toBeLessThanOrEqual(4 * MB)
    expect(db.config.maxmemory).toBe(4 * MB)
    expect(db.stats.evicted_keys).toBeGreaterThan(0)
  })

  it('continues on a timer when eviction runs out of time', async () => {
    const db = new Engine({ maxmemoryPolicy: 'allkeys-random', maxmemoryEvictionTenacity: 0 })
    open.push(db)
    for (let i = 0; i < 100_000; i++) db.set(`k${i}`, VALUE)
    db.configSet('maxmemory', '4mb')
    // Tenacity 0 gives a 0 µs budget: the first clock check, after 16 keys, stops the synchronous part.
    expect(db.stats.evicted_keys).toBe(16)
    expect(db.usedMemory()).toBeGreaterThan(4 * MB)
    // Writes are allowed while eviction is running (Redis's EVICT_RUNNING).
    expect(db.set('during', VALUE)).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 0))
    const start = Date.now()
    while (db.usedMemory() > 4 * MB && Date.now() - start < 20_000) await new Promise((r) => setTimeout(r, 5))
    expect(db.usedMemory()).toBeLessThanOrEqual(4 * MB)
  })
})
