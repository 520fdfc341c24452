// The fused hot paths (native/hot_binding.cc): the native store probes the keyspace's tables itself. These tests
// hold it to the TypeScript keyspace it mirrors: the same hash for every string, the right bytes after every change
// of the tables (resize, incremental rehash, shrink, metadata growth, volatile-list growth, FLUSHALL, a policy
// switch, defrag moves), lazy expiry and the access clock as the TypeScript paths do them, and MGETINTO as MGET.
import { afterEach, describe, expect, test } from 'vitest'
import { Engine, engineInternals } from '../lib/engine.js'
import { engineWithClock } from './helpers/engine.js'
import { rng } from './helpers/rng.js'

const open: Engine[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})
function track<T extends Engine>(db: T): T {
  open.push(db)
  return db
}

function randomString(random: () => number): string {
  const length = Math.floor(random() * 24)
  let s = ''
  for (let i = 0; i < length; i++) {
    const r = random()
    if (r < 0.6) s += String.fromCharCode(32 + Math.floor(random() * 95))
    else if (r < 0.75) s += String.fromCharCode(0x80 + Math.floor(random() * 0x700))
    else if (r < 0.85) s += String.fromCharCode(0x800 + Math.floor(random() * 0xd000))
    else if (r < 0.93) s += '\u{1f600}'
    else s += String.fromCharCode(0xd800 + Math.floor(random() * 0x800)) // a lone surrogate
  }
  return s
}

test('the native hash (mgetInto) is the keyspace hash (every write) for every kind of string', () => {
  const db = track(new Engine())
  const random = rng(7)
  const model = new Map<string, string>([['', 'empty']])
  db.set('', 'empty')
  for (let i = 0; i < 20_000; i++) {
    const key = randomString(random)
    db.set(key, `v${i}`)
    model.set(key, `v${i}`)
  }
  // mgetInto hashes in native code and finds every key that TypeScript hashed to place.
  expectAll(db, model)
})

/** Every key written so far reads back right, through get, getInto, getString and mgetInto. */
function expectAll(db: Engine, model: Map<string, string>): void {
  const keys = [...model.keys()]
  for (const key of keys) expect(db.getString(key), key).toBe(model.get(key))
  const total = keys.reduce((n, k) => n + Buffer.byteLength(model.get(k) as string), 0)
  const target = new Uint8Array(total)
  const lengths = new Int32Array(keys.length)
  expect(db.mgetInto(keys, target, lengths)).toBe(keys.length)
  let offset = 0
  keys.forEach((key, i) => {
    const value = Buffer.from(model.get(key) as string)
    expect(lengths[i], key).toBe(value.length)
    expect(Buffer.from(target.subarray(offset, offset + value.length)).equals(value), key).toBe(true)
    offset += value.length
  })
}

describe('reads stay right across every change of the tables', () => {
  test('growth with incremental rehash, metadata and volatile-list growth, then shrinking', () => {
    const { db, clock } = engineWithClock({ maxmemory: '256mb', maxmemoryPolicy: 'allkeys-lru' })
    track(db)
    const model = new Map<string, string>()
    const volatile: string[] = []
    // Checked at every size: while a rehash is under way (two tables bound) and after it ends.
    for (let i = 0; i < 5000; i++) {
      const key = `k:${i}:${'é'.repeat(i % 3)}`
      const value = `v${i}`.repeat(1 + (i % 7))
      db.set(key, value, i % 4 === 0 ? { px: 60_000 } : undefined)
      if (i % 4 === 0) volatile.push(key)
      model.set(key, value)
      if ((i & (i - 1)) === 0 || i % 997 === 0) expectAll(db, model)
    }
    expectAll(db, model)
    // The metadata the native lookups read and write is the keyspace's current one: its LRU stamps (OBJECT
    // IDLETIME reads them in TypeScript) and its expire times.
    clock.advance(30_000)
    expect(db.getString('k:4999:é')).toBe('v4999'.repeat(1 + (4999 % 7)))
    expect(db.objectIdletime('k:4999:é')).toBe(0)
    expect(db.objectIdletime('k:4997:éé')).toBe(30)
    clock.advance(30_001)
    for (const key of volatile) {
      expect(db.get(key), key).toBeUndefined()
      model.delete(key)
    }
    expect(db.infoObject('stats').expired_keys).toBe(volatile.length)
    // Overwrites of every size class, in place and reallocated.
    for (const [key, value] of model) {
      const next = value.length % 2 === 0 ? value + 'x' : value.slice(0, 1)
      db.set(key, next)
      model.set(key, next)
    }
    expectAll(db, model)
    // Deleting shrinks the table (another rehash) and the volatile list.
    let n = 0
    for (const key of [...model.keys()]) {
      if (n++ % 10 !== 0) {
        db.del(key)
        model.delete(key)
      }
      if (n % 500 === 0) expectAll(db, model)
    }
    expectAll(db, model)
    for (const key of ['k:1:é', 'missing', 'k:2:éé', 'k:4999:é']) expect(db.get(key)?.toString()).toBe(model.get(key))
  })

  test('FLUSHALL binds the fresh store; a policy switch to LFU and back keeps reads and the access clock', () => {
    const db = track(new Engine({ maxmemory: '64mb', maxmemoryPolicy: 'allkeys-lru' }))
    const model = new Map<string, string>()
    for (let i = 0; i < 300; i++) db.set(`a${i}`, `x${i}`)
    db.flushall()
    for (let i = 0; i < 300; i++) expect(db.get(`a${i}`)).toBeUndefined()
    for (let i = 0; i < 300; i++) {
      db.set(`b${i}`, `y${i}`)
      model.set(`b${i}`, `y${i}`)
    }
    expectAll(db, model)
    db.configSet('maxmemory-policy', 'allkeys-lfu')
    for (let r = 0; r < 20; r++) expect(db.getString('b1')).toBe('y1')
    expect(db.objectFreq('b1')).toBeGreaterThan(db.objectFreq('b2') as number)
    expectAll(db, model)
    db.configSet('maxmemory-policy', 'allkeys-lru')
    expectAll(db, model)
  })

  test('defragmentation moves leave every value in place', () => {
    const db = track(new Engine())
    const store = engineInternals(db).slotStore
    const model = new Map<string, string>()
    for (let i = 0; i < 20_000; i++) {
      db.set(`d${i}`, 'z'.repeat(24 + (i % 40)))
      model.set(`d${i}`, 'z'.repeat(24 + (i % 40)))
    }
    for (let i = 0; i < 20_000; i += 2) {
      db.del(`d${i}`)
      model.delete(`d${i}`)
    }
    if (store.defragStep !== undefined && engineInternals(db).slotStore.arena >= 0) {
      let cursor = 0
      do cursor = store.defragStep(cursor, 4096)[0]
      while (cursor !== 0)
    }
    expectAll(db, model)
  })
})

describe('lazy expiry and the access clock in the fused lookups', () => {
  test('get, getInto and getString expire a stale key, count a miss and deliver the event after the command', () => {
    const { db, clock } = engineWithClock()
    track(db)
    const expired: string[] = []
    db.on('expired', (key) => expired.push(key))
    db.set('a', 'va', { px: 100 })
    db.set('b', 'vb', { px: 100 })
    db.set('c', 'vc', { px: 100 })
    db.set('keep', 'vk')
    expect(db.getString('a')).toBe('va')
    clock.advance(101)
    expect(db.get('a')).toBeUndefined()
    expect(db.getInto('b', new Uint8Array(4))).toBe(-1)
    expect(db.getString('c')).toBeUndefined()
    expect(expired).toEqual(['a', 'b', 'c'])
    const stats = db.infoObject('stats')
    expect([stats.keyspace_hits, stats.keyspace_misses]).toEqual([1, 3])
    expect(db.dbsize()).toBe(1)
  })

  test('readScratch reads as getInto does, leaving the bytes in the scratch buffer (expiry, counters, events, FLUSHALL)', () => {
    const { db, clock } = engineWithClock()
    track(db)
    const ix = engineInternals(db)
    const expired: string[] = []
    db.on('expired', (key) => expired.push(key))
    db.set('a', 'value of a', { px: 100 })
    db.set('big', Buffer.alloc(ix.scratch.length + 1, 7))
    expect(ix.readScratch('a')).toBe(10)
    expect(ix.scratch.toString('utf8', 0, 10)).toBe('value of a')
    expect(ix.readScratch('missing')).toBe(-1)
    // Longer than the scratch buffer: the length, and the caller reads it another way.
    expect(ix.readScratch('big')).toBe(ix.scratch.length + 1)
    clock.advance(101)
    expect(ix.readScratch('a')).toBe(-1)
    expect(expired).toEqual(['a'])
    expect(() => ix.readScratch(5 as unknown as string)).toThrow(TypeError)
    const stats = db.infoObject('stats')
    expect([stats.keyspace_hits, stats.keyspace_misses]).toEqual([2, 2])
    // FLUSHALL makes a fresh store, and a fresh scratch buffer that `scratch` then returns.
    db.flushall()
    db.set('b', 'after flush')
    expect(ix.readScratch('b')).toBe(11)
    expect(ix.scratch.toString('utf8', 0, 11)).toBe('after flush')
  })

  test('a hit stamps the LRU clock at the time of the call', () => {
    const { db, clock } = engineWithClock({ maxmemory: '64mb', maxmemoryPolicy: 'allkeys-lru' })
    track(db)
    db.set('k', 'v')
    clock.advance(5000)
    expect(db.objectIdletime('k')).toBe(5)
    expect(db.getString('k')).toBe('v')
    expect(db.objectIdletime('k')).toBe(0)
    clock.advance(3000)
    db.mgetInto(['k'], new Uint8Array(1), new Int32Array(1))
    expect(db.objectIdletime('k')).toBe(0)
  })

  test('the lookups see expire times through every change of the volatile-key count they skip the list on', () => {
    // The fused calls skip the expire list while no key has a TTL (the count JS keeps in the cells): every way the
    // count moves must reach them, or a stale key would be served.
    const { db, clock } = engineWithClock()
    track(db)
    const target = new Uint8Array(8)
    const lengths = new Int32Array(1)
    const stale = (key: string): void => {
      clock.advance(11)
      expect(db.getInto(key, target), key).toBe(-1)
    }
    db.set('plain', 'v')
    db.set('a', 'v', { px: 10 })
    stale('a')
    db.set('b', 'v', { px: 10 })
    db.persist('b')
    db.set('c', 'v')
    db.pexpire('c', 10)
    stale('c')
    expect(db.getString('b')).toBe('v')
    db.pexpire('b', 10)
    db.del('b')
    expect(db.getString('plain')).toBe('v')
    db.set('d', 'v', { px: 10 })
    db.flushall()
    db.set('e', 'v')
    db.pexpire('e', 10)
    clock.advance(11)
    expect(db.mgetInto(['e'], target, lengths)).toBe(1)
    expect(lengths[0]).toBe(-1)
    db.set('f', 'v', { px: 10 })
    db.set('f', 'w', { keepttl: true })
    clock.advance(11)
    expect(db.get('f')).toBeUndefined()
    expect(db.volatileCount()).toBe(0)
    db.set('g', 'v')
    clock.advance(11)
    expect(db.getString('g')).toBe('v')
  })

  test('an overwrite of a stale key expires it first (event, count), then writes it anew', () => {
    const { db, clock } = engineWithClock()
    track(db)
    const expired: string[] = []
    db.on('expired', (key) => expired.push(key))
    db.set('k', 'old', { px: 10 })
    clock.advance(11)
    db.set('k', 'new')
    expect(expired).toEqual(['k'])
    expect(db.getString('k')).toBe('new')
    expect(db.pttl('k')).toBe(-1)
    expect(db.infoObject('stats').expired_keys).toBe(1)
  })
})

test('LFU counters grow with hits on the native clock, for keys with and without an expire time', () => {
  const db = track(new Engine({ maxmemory: '64mb', maxmemoryPolicy: 'allkeys-lfu' }))
  const target = new Uint8Array(8)
  const reads: Record<string, (key: string) => unknown> = {
    get: (key) => db.get(key),
    getInto: (key) => db.getInto(key, target),
    getString: (key) => db.getString(key),
    mgetInto: (key) => db.mgetInto([key], target, new Int32Array(1)),
    set: (key) => db.set(key, 'v'),
  }
  for (const [name, read] of Object.entries(reads)) {
    for (const ttl of [undefined, { ex: 1000 }]) {
      const key = `${name}:${ttl === undefined ? 'persistent' : 'volatile'}`
      db.set(key, 'v', ttl)
      // A new key starts at LFU_INIT_VAL (5); 1,000 accesses take the logarithmic counter well past it.
      for (let i = 0; i < 1000; i++) read(key)
      expect(db.objectFreq(key), key).toBeGreaterThan(10)
    }
  }
})

describe('mgetInto', () => {
  test('matches mget over a random keyspace with expiries, on both the native and a hand-driven clock', () => {
    for (const hand of [false, true]) {
      const random = rng(hand ? 11 : 12)
      const { db, clock } = hand ? engineWithClock() : { db: new Engine(), clock: null }
      const twin = hand ? engineWithClock(undefined, clock ?? undefined).db : new Engine()
      track(db)
      track(twin)
      for (let i = 0; i < 2000; i++) {
        const key = `m${Math.floor(random() * 3000)}`
        const value = randomString(random)
        const opts = random() < 0.3 ? { px: hand ? 1 + Math.floor(random() * 50) : 1_000_000 } : undefined
        db.set(key, value, opts)
        twin.set(key, value, opts)
      }
      clock?.advance(25)
      const keys = Array.from({ length: 700 }, () => `m${Math.floor(random() * 3500)}`)
      const want = twin.mget(keys)
      const target = new Uint8Array(1 << 20)
      const lengths = new Int32Array(keys.length)
      expect(db.mgetInto(keys, target, lengths)).toBe(keys.length)
      let offset = 0
      want.forEach((value, i) => {
        if (value === undefined) return expect(lengths[i], keys[i]).toBe(-1)
        expect(lengths[i], keys[i]).toBe(value.length)
        expect(Buffer.from(target.subarray(offset, offset + value.length)).equals(value)).toBe(true)
        offset += value.length
      })
      expect(db.infoObject('stats')).toMatchObject({
        keyspace_hits: twin.infoObject('stats').keyspace_hits,
        keyspace_misses: twin.infoObject('stats').keyspace_misses,
        expired_keys: twin.infoObject('stats').expired_keys,
      })
      expect(db.dbsize()).toBe(twin.dbsize())
    }
  })

  test('stops before the first value that does not fit; the rest is read by a second call', () => {
    const db = track(new Engine())
    db.set('a', 'aaaa')
    db.set('b', 'bbbbbb')
    db.set('c', 'cc')
    const keys = ['a', 'nope', 'b', 'c']
    const target = new Uint8Array(8)
    const lengths = new Int32Array(4)
    expect(db.mgetInto(keys, target, lengths)).toBe(2)
    expect([...lengths.subarray(0, 2)]).toEqual([4, -1])
    expect(Buffer.from(target.subarray(0, 4)).toString()).toBe('aaaa')
    // Only processed keys are counted.
    expect(db.infoObject('stats')).toMatchObject({ keyspace_hits: 1, keyspace_misses: 1 })
    expect(db.mgetInto(keys.slice(2), target, lengths)).toBe(2)
    expect(Buffer.from(target.subarray(0, 8)).toString()).toBe('bbbbbbcc')
  })

  test('LFU policies read key by key with the same results and counters', () => {
    const db = track(new Engine({ maxmemory: '64mb', maxmemoryPolicy: 'allkeys-lfu' }))
    for (let i = 0; i < 50; i++) db.set(`f${i}`, `v${i}`)
    const lengths = new Int32Array(3)
    const target = new Uint8Array(16)
    expect(db.mgetInto(['f1', 'zz', 'f22'], target, lengths)).toBe(3)
    expect([...lengths]).toEqual([2, -1, 3])
    expect(Buffer.from(target.subarray(0, 5)).toString()).toBe('v1v22')
    expect(db.infoObject('stats')).toMatchObject({ keyspace_hits: 2, keyspace_misses: 1 })
  })

  test('bad arguments are typed errors and read nothing', () => {
    const db = track(new Engine())
    db.set('a', 'x')
    const t = new Uint8Array(4)
    expect(() => db.mgetInto('a' as unknown as string[], t, new Int32Array(1))).toThrow(TypeError)
    expect(() => db.mgetInto([1 as unknown as string], t, new Int32Array(1))).toThrow(TypeError)
    expect(() => db.mgetInto(['a'], [] as unknown as Uint8Array, new Int32Array(1))).toThrow(TypeError)
    expect(() => db.mgetInto(['a'], t, new Uint32Array(1) as unknown as Int32Array)).toThrow(TypeError)
    expect(() => db.mgetInto(['a', 'a'], t, new Int32Array(1))).toThrow(RangeError)
    expect(db.infoObject('stats')).toMatchObject({ keyspace_hits: 0, keyspace_misses: 0 })
    db.close()
    expect(() => db.mgetInto(['a'], t, new Int32Array(1))).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  })
})
