import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cronTimeLimitUs } from '../lib/cron.js'
import { Engine } from '../lib/engine.js'
import { ArenaKVError } from '../lib/errors.js'
import {
  ActiveExpire,
  CYCLE_FAST,
  CYCLE_SLOW,
  expireCycleConfig,
  ttlSeconds,
  updateAvgTtl,
  type ExpireStats,
} from '../lib/expire.js'
import { Keyspace } from '../lib/keyspace.js'
import { createStore, type SlotStore } from '../lib/store.js'
import { ManualClock, engineWithClock } from './helpers/engine.js'

const open: Engine[] = []
const stores: SlotStore[] = []
function nativeKeyspace(): Keyspace {
  const store = createStore()
  stores.push(store)
  return new Keyspace(store)
}
function engine(options?: ConstructorParameters<typeof Engine>[0]): { db: Engine; clock: ManualClock } {
  const made = engineWithClock(options)
  open.push(made.db)
  return made
}
afterEach(() => {
  for (const db of open.splice(0)) db.close()
  for (const store of stores.splice(0)) store.close()
  vi.useRealTimers()
})

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof ArenaKVError ? err.code : (err as Error).name
  }
  return undefined
}

describe('TTL family', () => {
  it('returns -2 for a missing key and -1 for a key without expiry', () => {
    const { db } = engine()
    expect(db.ttl('k')).toBe(-2)
    expect(db.pttl('k')).toBe(-2)
    expect(db.expiretime('k')).toBe(-2)
    expect(db.pexpiretime('k')).toBe(-2)
    db.set('k', 'v')
    expect(db.ttl('k')).toBe(-1)
    expect(db.pttl('k')).toBe(-1)
    expect(db.expiretime('k')).toBe(-1)
    expect(db.pexpiretime('k')).toBe(-1)
  })

  it('rounds TTL as (ms + 500) / 1000', () => {
    const { db, clock } = engine()
    db.set('k', 'v', { px: 1499 })
    expect(db.ttl('k')).toBe(1)
    expect(db.pttl('k')).toBe(1499)
    clock.t -= 1 // 1500 ms left
    expect(db.ttl('k')).toBe(2)
    clock.advance(1001) // 499 ms left
    expect(db.ttl('k')).toBe(0)
    expect(ttlSeconds(500)).toBe(1)
    expect(ttlSeconds(499)).toBe(0)
  })

  it('reports absolute expire times', () => {
    const { db, clock } = engine()
    db.set('k', 'v', { pxat: clock.t + 12_345 })
    expect(db.pexpiretime('k')).toBe(clock.t + 12_345)
    expect(db.expiretime('k')).toBe(Math.floor((clock.t + 12_345) / 1000))
    db.set('s', 'v', { exat: 2_000_000_000 })
    expect(db.expiretime('s')).toBe(2_000_000_000)
  })
})

describe('SET expiry options', () => {
  it('EX, PX, EXAT and PXAT set the TTL', () => {
    const { db, clock } = engine()
    db.set('a', 'v', { ex: 10 })
    db.set('b', 'v', { px: 2500 })
    db.set('c', 'v', { exat: Math.floor(clock.t / 1000) + 100 })
    db.set('d', 'v', { pxat: clock.t + 777 })
    expect(db.ttl('a')).toBe(10)
    expect(db.pttl('b')).toBe(2500)
    expect(db.ttl('c')).toBeGreaterThanOrEqual(99)
    expect(db.pttl('d')).toBe(777)
  })

  it('SET clears the TTL unless KEEPTTL', () => {
    const { db } = engine()
    db.set('k', 'v', { ex: 100 })
    db.set('k', 'w', { keepttl: true })
    expect(db.ttl('k')).toBe(100)
    db.set('k', 'x')
    expect(db.ttl('k')).toBe(-1)
    expect(db.getString('k')).toBe('x')
    expect(db.volatileCount()).toBe(0)
  })

  it('refuses zero, negative, fractional and overflowing expire times', () => {
    const { db } = engine()
    // Redis's getExpireMillisecondsOrReply: not positive, seconds past LLONG_MAX / 1000, or a deadline past int64.
    for (const opts of [{ ex: 0 }, { px: -5 }, { exat: 0 }, { ex: 9223372036854776n }, { px: 2n ** 63n - 1n }]) {
      expect(code(() => db.set('k', 'v', opts))).toBe('ERR_INVALID_EXPIRE')
    }
    // getLongLongFromObjectOrReply: not an int64 at all.
    for (const opts of [{ ex: 1.5 }, { px: Number.NaN }, { ex: Infinity }, { px: 2n ** 63n }, { px: 2 ** 63 }]) {
      expect(code(() => db.set('k', 'v', opts))).toBe('ERR_NOT_INTEGER')
    }
    expect(db.exists('k')).toBe(0)
    const err = (() => {
      try {
        db.set('k', 'v', { ex: -1 })
      } catch (e) {
        return e as ArenaKVError
      }
    })()
    expect(err?.message).toBe("invalid expire time in 'set' command")
  })

  it('a PXAT already past deletes the key instead of writing it', () => {
    const { db, clock } = engine()
    db.set('k', 'v')
    expect(db.set('k', 'w', { pxat: clock.t - 1 })).toBe(true)
    expect(db.exists('k')).toBe(0)
    expect(db.set('n', 'w', { exat: 1 })).toBe(true)
    expect(db.exists('n')).toBe(0)
  })
})

describe('EXPIRE family', () => {
  it('sets TTLs in seconds or ms, relative or absolute', () => {
    const { db, clock } = engine()
    db.mset([['a', '1'], ['b', '2'], ['c', '3'], ['d', '4']])
    expect(db.expire('a', 100)).toBe(true)
    expect(db.pexpire('b', 1500)).toBe(true)
    expect(db.expireat('c', Math.floor(clock.t / 1000) + 50)).toBe(true)
    expect(db.pexpireat('d', clock.t + 99)).toBe(true)
    expect(db.ttl('a')).toBe(100)
    expect(db.pttl('b')).toBe(1500)
    expect(db.pttl('d')).toBe(99)
    expect(db.expire('missing', 100)).toBe(false)
  })

  it('EXPIRE in the past, or negative, deletes the key', () => {
    const { db, clock } = engine()
    db.mset([['a', '1'], ['b', '2'], ['c', '3']])
    expect(db.expire('a', -10)).toBe(true)
    expect(db.pexpireat('b', clock.t - 1)).toBe(true)
    expect(db.expireat('c', 0)).toBe(true)
    expect(db.dbsize()).toBe(0)
    // A deletion by EXPIRE is a DEL in Redis, not an expiry.
    expect(db.stats.expired_keys).toBe(0)
  })

  it('NX and XX look at whether a TTL exists', () => {
    const { db } = engine()
    db.set('k', 'v')
    expect(db.expire('k', 100, 'XX')).toBe(false)
    expect(db.ttl('k')).toBe(-1)
    expect(db.expire('k', 100, 'NX')).toBe(true)
    expect(db.expire('k', 200, 'NX')).toBe(false)
    expect(db.expire('k', 300, 'XX')).toBe(true)
    expect(db.ttl('k')).toBe(300)
  })

  it('GT on a key without TTL fails and LT applies (no TTL counts as infinite)', () => {
    const { db } = engine()
    db.set('k', 'v')
    expect(db.expire('k', 100, 'GT')).toBe(false)
    expect(db.ttl('k')).toBe(-1)
    expect(db.expire('k', 100, 'LT')).toBe(true)
    expect(db.ttl('k')).toBe(100)
    expect(db.expire('k', 200, 'LT')).toBe(false)
    expect(db.expire('k', 50, 'GT')).toBe(false)
    expect(db.expire('k', 200, 'GT')).toBe(true)
    expect(db.ttl('k')).toBe(200)
    expect(db.expire('k', 300, ['XX', 'GT'])).toBe(true)
    expect(db.expire('k', 10, 'lt')).toBe(true)
    expect(db.ttl('k')).toBe(10)
  })

  it('refuses conflicting or unknown flags and invalid times', () => {
    const { db } = engine()
    db.set('k', 'v')
    expect(code(() => db.expire('k', 10, ['NX', 'XX']))).toBe('ERR_SYNTAX')
    expect(code(() => db.expire('k', 10, ['GT', 'LT']))).toBe('ERR_SYNTAX')
    expect(code(() => db.expire('k', 10, 'ZZ' as 'NX'))).toBe('ERR_SYNTAX')
    expect(code(() => db.expire('k', 1.5))).toBe('ERR_NOT_INTEGER')
    expect(code(() => db.expire('k', 9223372036854776n))).toBe('ERR_INVALID_EXPIRE')
    expect(code(() => db.pexpire('k', 2n ** 63n - 1n))).toBe('ERR_INVALID_EXPIRE')
    expect(code(() => db.pexpireat('k', 2 ** 64))).toBe('ERR_NOT_INTEGER')
    expect(code(() => db.expire('k', 2n ** 70n))).toBe('ERR_NOT_INTEGER')
    expect(code(() => db.expire('k', '10' as unknown as number))).toBe('TypeError')
    expect(db.ttl('k')).toBe(-1)
  })

  it('PERSIST removes a TTL', () => {
    const { db } = engine()
    db.set('k', 'v', { ex: 10 })
    expect(db.persist('k')).toBe(true)
    expect(db.persist('k')).toBe(false)
    expect(db.persist('missing')).toBe(false)
    expect(db.ttl('k')).toBe(-1)
  })
})

describe('lazy expiry', () => {
  it('every access to an expired key deletes it first', () => {
    const { db, clock } = engine()
    const expired: string[] = []
    db.on('expired', (key) => expired.push(key))
    db.set('a', '1', { px: 100 })
    db.set('b', '2', { px: 100 })
    db.set('c', '3', { px: 100 })
    db.set('d', '4', { px: 100 })
    clock.advance(100)
    expect(db.getString('a')).toBe('1') // now == when: not yet expired (Redis: now > when)
    clock.advance(1)
    expect(db.get('a')).toBeUndefined()
    expect(db.exists('b')).toBe(0)
    expect(db.ttl('c')).toBe(-2)
    expect(db.set('d', 'new', { nx: true })).toBe(true)
    expect(db.ttl('d')).toBe(-1)
    expect(expired.sort()).toEqual(['a', 'b', 'c', 'd'])
    expect(db.stats.expired_keys).toBe(4)
    expect(db.dbsize()).toBe(1)
  })

  it('SCAN skips and deletes expired keys', () => {
    const { db, clock } = engine()
    for (let i = 0; i < 100; i++) db.set(`k${i}`, 'v', i < 50 ? { px: 10 } : undefined)
    clock.advance(11)
    const keys = [...db.scanIterator()]
    expect(keys.length).toBe(50)
    expect(db.dbsize()).toBe(50)
  })
})

describe('active expire cycle', () => {
  it('scales with active-expire-effort as Redis does', () => {
    expect(expireCycleConfig(1)).toEqual({ keysPerLoop: 20, fastDurationUs: 1000, slowTimePerc: 25, acceptableStale: 10 })
    expect(expireCycleConfig(10)).toEqual({ keysPerLoop: 65, fastDurationUs: 3250, slowTimePerc: 43, acceptableStale: 1 })
    expect(cronTimeLimitUs(25, 10)).toBe(25_000)
    expect(cronTimeLimitUs(25, 500)).toBe(500)
    expect(updateAvgTtl(0, 1234)).toBe(1234)
    expect(updateAvgTtl(5000, 10_000)).toBe(100 * 49 + 200)
  })

  it('removes expired keys without any access, emitting events', () => {
    vi.useFakeTimers()
    const db = new Engine({ hz: 10 })
    open.push(db)
    const expired: string[] = []
    db.on('expired', (key) => expired.push(key))
    for (let i = 0; i < 1000; i++) db.set(`t${i}`, 'v', { px: 500 + i })
    for (let i = 0; i < 100; i++) db.set(`p${i}`, 'v')
    vi.advanceTimersByTime(3000)
    expect(db.dbsize()).toBe(100)
    expect(db.volatileCount()).toBe(0)
    expect(expired.length).toBe(1000)
    expect(db.stats.expired_keys).toBe(1000)
  })

  it('runs fast cycles while the stale share is above the acceptable one (percent vs percent)', () => {
    const ks = nativeKeyspace()
    const clock = new ManualClock()
    const stats: ExpireStats = { expired_keys: 0, expired_stale_perc: 0, expired_time_cap_reached_count: 0, avg_ttl: 0 }
    const host = {
      ks,
      stats,
      now: clock.now,
      afterStep: () => {},
      expireKey: (handle: number, hash: number) => {
        ks.remove(handle, hash)
        stats.expired_keys++
      },
    }
    const cycle = new ActiveExpire(host, 1, 10)
    // 20% of the volatile keys stale: a fast cycle must run (Redis's fraction-vs-percent test never lets it).
    for (let i = 0; i < 1000; i++) {
      const key = `k${i}`
      const hash = ks.hashKey(key)
      const h = ks.insert(key, hash, 'v')
      ks.setExpire(h, hash, clock.t + (i % 5 === 0 ? 10 : 1_000_000))
    }
    clock.advance(20)
    // Below the acceptable share (and no time cap hit), a fast cycle does nothing.
    stats.expired_stale_perc = 5
    expect(cycle.cycle(CYCLE_FAST)).toBe(0)
    expect(stats.expired_keys).toBe(0)
    stats.expired_stale_perc = 20
    expect(cycle.cycle(CYCLE_FAST)).toBeGreaterThan(0)
    // A slow cycle samples 20 keys per loop and repeats while more than 10% of a loop was stale.
    const removed = cycle.cycle(CYCLE_SLOW)
    expect(stats.expired_keys).toBeGreaterThan(0)
    expect(removed).toBeGreaterThanOrEqual(0)
    expect(stats.avg_ttl).toBeGreaterThan(0)
    expect(stats.expired_stale_perc).toBeGreaterThan(0)
  })

  it('stops a cycle at its time limit and counts it', () => {
    const ks = nativeKeyspace()
    const clock = new ManualClock()
    const stats: ExpireStats = { expired_keys: 0, expired_stale_perc: 0, expired_time_cap_reached_count: 0, avg_ttl: 0 }
    const host = {
      ks,
      stats,
      now: clock.now,
      afterStep: () => {},
      expireKey: (handle: number, hash: number) => {
        // A slow deletion, so the 1 µs budget of hz 1M... is exceeded well within 16 loops.
        const until = performance.now() + 0.05
        while (performance.now() < until);
        ks.remove(handle, hash)
        stats.expired_keys++
      },
    }
    const cycle = new ActiveExpire(host, 1, 500)
    for (let i = 0; i < 2000; i++) {
      const key = `k${i}`
      const hash = ks.hashKey(key)
      ks.setExpire(ks.insert(key, hash, 'v'), hash, clock.t + 1)
    }
    clock.advance(10)
    cycle.cycle(CYCLE_SLOW)
    expect(stats.expired_time_cap_reached_count).toBe(1)
    expect(stats.expired_keys).toBeGreaterThan(0)
    expect(ks.volatileCount).toBeGreaterThan(0)
    // The time cap makes the next fast cycle eligible even at a low stale share.
    stats.expired_stale_perc = 0
    expect(cycle.cycle(CYCLE_FAST)).toBeGreaterThan(0)
  })

  it('its timers never keep the process alive', () => {
    const refTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    const before = refTimers()
    const db = new Engine({ hz: 100, maxmemory: 2 * 1024 * 1024, maxmemoryPolicy: 'allkeys-lru' })
    open.push(db)
    for (let i = 0; i < 1000; i++) db.set(`k${i}`, 'v', { px: 5 })
    expect(refTimers()).toBe(before)
  })

  it('its timers do not keep an engine dropped without close() from being collected', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    let collected = false
    const registry = new FinalizationRegistry(() => {
      collected = true
    })
    ;(() => {
      const db = new Engine({ hz: 100 })
      for (let i = 0; i < 100; i++) db.set(`k${i}`, 'v', { px: 1 + i })
      registry.register(db, 'engine')
    })()
    for (let round = 0; round < 50 && !collected; round++) {
      gc()
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(collected).toBe(true)
  })
})
