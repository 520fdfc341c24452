import { describe, expect, it } from 'vitest'
import { Engine } from '../lib/engine.js'
import { ArenaKVError } from '../lib/errors.js'
import { closedAfterEach, engineWithClock } from './helpers/engine.js'

const { engine, track } = closedAfterEach()

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof ArenaKVError ? err.code : (err as Error).name
  }
  return undefined
}

describe('SET and the GET family', () => {
  it('stores strings as UTF-8 and bytes as given', () => {
    const db = engine()
    expect(db.set('greeting', 'héllo wörld')).toBe(true)
    expect(db.getString('greeting')).toBe('héllo wörld')
    expect(db.get('greeting')).toEqual(Buffer.from('héllo wörld', 'utf8'))
    expect(db.set('bytes', new Uint8Array([0, 1, 2, 255]))).toBe(true)
    expect([...(db.get('bytes') as Buffer)]).toEqual([0, 1, 2, 255])
    expect(db.set('', '')).toBe(true)
    expect(db.get('')).toEqual(Buffer.alloc(0))
    expect(db.get('missing')).toBeUndefined()
    expect(db.getString('missing')).toBeUndefined()
  })

  it('keeps keys that differ only in lone surrogates apart', () => {
    const db = engine()
    db.set('\ud800', 'lone')
    db.set('\ufffd', 'replacement')
    expect(db.getString('\ud800')).toBe('lone')
    expect(db.getString('\ufffd')).toBe('replacement')
    expect(db.dbsize()).toBe(2)
  })

  it('returns copies, not views of native memory', () => {
    const db = engine()
    db.set('k', 'abc')
    const a = db.get('k') as Buffer
    a[0] = 0x7a
    expect(db.getString('k')).toBe('abc')
    const b = db.get('k') as Buffer
    expect(b.toString()).toBe('abc')
    expect(a.toString()).toBe('zbc')
  })

  it('reads values larger than the scratch buffer', () => {
    const db = engine()
    const big = Buffer.alloc(300_000)
    for (let i = 0; i < big.length; i++) big[i] = i & 0xff
    db.set('big', big)
    expect((db.get('big') as Buffer).equals(big)).toBe(true)
    const target = new Uint8Array(1000)
    expect(db.getInto('big', target)).toBe(300_000)
    expect(Buffer.from(target).equals(big.subarray(0, 1000))).toBe(true)
  })

  it('getInto copies what fits and returns the full length, -1 when missing', () => {
    const db = engine()
    db.set('k', 'hello')
    const small = new Uint8Array(3)
    expect(db.getInto('k', small)).toBe(5)
    expect(Buffer.from(small).toString()).toBe('hel')
    const large = new Uint8Array(10)
    expect(db.getInto('k', large)).toBe(5)
    expect(Buffer.from(large.subarray(0, 5)).toString()).toBe('hello')
    expect(db.getInto('nope', large)).toBe(-1)
  })

  it('overwrites in place', () => {
    const db = engine()
    db.set('k', 'short')
    db.set('k', 'a much longer value than before '.repeat(20))
    expect(db.getString('k')).toBe('a much longer value than before '.repeat(20))
    db.set('k', 'x')
    expect(db.getString('k')).toBe('x')
    expect(db.dbsize()).toBe(1)
  })

  it('NX sets only missing keys, XX only existing ones', () => {
    const db = engine()
    expect(db.set('k', '1', { xx: true })).toBe(false)
    expect(db.get('k')).toBeUndefined()
    expect(db.set('k', '1', { nx: true })).toBe(true)
    expect(db.set('k', '2', { nx: true })).toBe(false)
    expect(db.getString('k')).toBe('1')
    expect(db.set('k', '3', { xx: true })).toBe(true)
    expect(db.getString('k')).toBe('3')
  })

  it('refuses conflicting SET options with ERR_SYNTAX', () => {
    const db = engine()
    expect(code(() => db.set('k', 'v', { nx: true, xx: true }))).toBe('ERR_SYNTAX')
    expect(code(() => db.set('k', 'v', { ex: 1, px: 1000 }))).toBe('ERR_SYNTAX')
    expect(code(() => db.set('k', 'v', { exat: 1, pxat: 1000 }))).toBe('ERR_SYNTAX')
    expect(code(() => db.set('k', 'v', { ex: 1, keepttl: true }))).toBe('ERR_SYNTAX')
    expect(db.dbsize()).toBe(0)
  })

  it('refuses wrong argument types', () => {
    const db = engine()
    expect(code(() => db.set(1 as unknown as string, 'v'))).toBe('TypeError')
    expect(code(() => db.set('k', 5 as unknown as string))).toBe('TypeError')
    expect(code(() => db.get(undefined as unknown as string))).toBe('TypeError')
    expect(code(() => db.getInto('k', [] as unknown as Uint8Array))).toBe('TypeError')
    expect(code(() => db.mget('k' as unknown as string[]))).toBe('TypeError')
    expect(code(() => db.set('k', 'v', 'ex' as unknown as object))).toBe('TypeError')
  })

  it('MGET and MSET work in batches', () => {
    const db = engine()
    db.mset([['a', '1'], ['b', new Uint8Array([2])], ['c', '3']])
    const got = db.mget(['a', 'b', 'x', 'c'])
    expect(got.map((b) => b?.toString('latin1'))).toEqual(['1', '\x02', undefined, '3'])
    db.mset(new Map([['a', 'one']]))
    expect(db.getString('a')).toBe('one')
    expect(code(() => db.mset([['ok', 'v'], [3 as unknown as string, 'v']]))).toBe('TypeError')
    expect(db.exists('ok')).toBe(0) // validated before anything is written
  })

  it('GETDEL returns and removes', () => {
    const db = engine()
    db.set('k', 'v')
    expect(db.getdel('k')?.toString()).toBe('v')
    expect(db.exists('k')).toBe(0)
    expect(db.getdel('k')).toBeUndefined()
  })

  it('GETEX sets or removes the TTL while reading', () => {
    const { db, clock } = engineWithClock()
    track(db)
    db.set('k', 'v')
    expect(db.getex('k', { ex: 100 })?.toString()).toBe('v')
    expect(db.ttl('k')).toBe(100)
    expect(db.getex('k', { persist: true })?.toString()).toBe('v')
    expect(db.ttl('k')).toBe(-1)
    db.getex('k', { pxat: clock.t + 50 })
    expect(db.pttl('k')).toBe(50)
    expect(db.getex('k')?.toString()).toBe('v')
    expect(db.pttl('k')).toBe(50)
    expect(code(() => db.getex('k', { ex: 1, persist: true }))).toBe('ERR_SYNTAX')
    expect(code(() => db.getex('k', { ex: 0 }))).toBe('ERR_INVALID_EXPIRE')
    expect(db.getex('missing', { ex: 5 })).toBeUndefined()
    // A time already past deletes the key after returning it.
    expect(db.getex('k', { pxat: clock.t - 1 })?.toString()).toBe('v')
    expect(db.exists('k')).toBe(0)
  })
})

describe('DEL, EXISTS, TOUCH, DBSIZE, FLUSHALL', () => {
  it('DEL and UNLINK count the keys removed', () => {
    const db = engine()
    db.mset([['a', '1'], ['b', '2'], ['c', '3']])
    expect(db.del('a', 'x', 'a')).toBe(1)
    expect(db.unlink('b', 'c')).toBe(2)
    expect(db.dbsize()).toBe(0)
    expect(db.del()).toBe(0)
  })

  it('EXISTS counts repeats, TOUCH counts existing keys', () => {
    const db = engine()
    db.set('a', '1')
    expect(db.exists('a', 'a', 'b')).toBe(2)
    expect(db.touch('a', 'b', 'a')).toBe(2)
  })

  it('FLUSHALL empties the keyspace and the engine stays usable', () => {
    const db = engine()
    for (let i = 0; i < 1000; i++) db.set(`k${i}`, 'v', i % 2 ? { ex: 100 } : undefined)
    const filled = db.usedMemory()
    db.flushall()
    expect(db.dbsize()).toBe(0)
    expect(db.volatileCount()).toBe(0)
    expect(db.get('k1')).toBeUndefined()
    expect(db.usedMemory()).toBeLessThan(filled)
    db.set('again', 'v')
    expect(db.getString('again')).toBe('v')
  })

  it('counts keyspace hits and misses', () => {
    const db = engine()
    db.set('a', '1')
    db.get('a')
    db.get('b')
    db.getString('a')
    db.exists('a', 'c')
    expect(db.stats.keyspace_hits).toBe(3)
    expect(db.stats.keyspace_misses).toBe(2)
  })
})

describe('SCAN', () => {
  it('visits every key with the default count and ends at cursor 0', () => {
    const db = engine()
    for (let i = 0; i < 2500; i++) db.set(`key:${i}`, 'v')
    const seen = new Set<string>()
    let cursor = 0
    let calls = 0
    do {
      const [next, keys] = db.scan(cursor)
      for (const k of keys) seen.add(k)
      cursor = next
      calls++
    } while (cursor !== 0)
    expect(seen.size).toBe(2500)
    expect(calls).toBeGreaterThan(10)
  })

  it('filters with a glob and honours count', () => {
    const db = engine()
    for (let i = 0; i < 300; i++) db.set(i % 3 === 0 ? `user:${i}` : `item:${i}`, 'v')
    const users = [...db.scanIterator({ match: 'user:*', count: 50 })]
    expect(new Set(users).size).toBe(100)
    expect(users.every((k) => k.startsWith('user:'))).toBe(true)
    expect([...db.scanIterator({ match: 'user:1?' })].sort()).toEqual(['user:12', 'user:15', 'user:18'])
    const [, keys] = db.scan(0, { count: 1000 })
    expect(keys.length).toBe(300)
  })

  it('keeps returning every key while keys are added between calls', () => {
    const db = engine()
    for (let i = 0; i < 500; i++) db.set(`old:${i}`, 'v')
    const seen = new Set<string>()
    let cursor = 0
    let n = 0
    do {
      const [next, keys] = db.scan(cursor, { count: 20 })
      for (const k of keys) seen.add(k)
      for (let j = 0; j < 50 && n < 5000; j++) db.set(`new:${n++}`, 'v')
      cursor = next
    } while (cursor !== 0)
    for (let i = 0; i < 500; i++) expect(seen.has(`old:${i}`)).toBe(true)
  })

  it('validates its arguments', () => {
    const db = engine()
    expect(code(() => db.scan(-1))).toBe('RangeError')
    expect(code(() => db.scan(1.5))).toBe('TypeError')
    expect(code(() => db.scan(0, { count: 0 }))).toBe('RangeError')
    expect(code(() => db.scan(0, { match: 3 as unknown as string }))).toBe('TypeError')
  })
})

describe('OBJECT IDLETIME and FREQ', () => {
  it('reports idle seconds from the 1 ms clock; reads that do not touch leave it alone', () => {
    const { db, clock } = engineWithClock()
    track(db)
    db.set('k', 'v')
    clock.advance(2499)
    expect(db.objectIdletime('k')).toBe(2)
    db.exists('k')
    db.ttl('k')
    clock.advance(1000)
    expect(db.objectIdletime('k')).toBe(3)
    db.get('k')
    expect(db.objectIdletime('k')).toBe(0)
    expect(db.objectIdletime('missing')).toBeUndefined()
    expect(code(() => db.objectFreq('k'))).toBe('ERR_SYNTAX')
  })

  it('reports the LFU counter under an LFU policy, and refuses idle time there', () => {
    const { db } = engineWithClock({ maxmemoryPolicy: 'allkeys-lfu' })
    track(db)
    db.set('k', 'v')
    expect(db.objectFreq('k')).toBe(5)
    for (let i = 0; i < 1000; i++) db.get('k')
    // Logarithmic: about 19 expected after 1000 hits at lfu-log-factor 10 (each step up needs ~10 × (c − 5) more
    // hits); the increments are random, so the bounds leave several standard deviations either side.
    const freq = db.objectFreq('k') as number
    expect(freq).toBeGreaterThan(12)
    expect(freq).toBeLessThan(30)
    expect(code(() => db.objectIdletime('k'))).toBe('ERR_SYNTAX')
    expect(db.objectFreq('missing')).toBeUndefined()
  })

  it('decays the LFU counter with time', () => {
    const { db, clock } = engineWithClock({ maxmemoryPolicy: 'volatile-lfu', lfuDecayTime: 1 })
    track(db)
    db.set('k', 'v')
    for (let i = 0; i < 100; i++) db.get('k')
    const before = db.objectFreq('k') as number
    clock.advance(3 * 60_000)
    expect(db.objectFreq('k')).toBe(before - 3)
  })
})

describe('close', () => {
  it('frees everything; later calls throw ERR_CLOSED', () => {
    const db = new Engine()
    db.set('k', 'v')
    db.close()
    db.close()
    expect(code(() => db.get('k'))).toBe('ERR_CLOSED')
    expect(code(() => db.set('k', 'v'))).toBe('ERR_CLOSED')
    expect(code(() => db.dbsize())).toBe('ERR_CLOSED')
    expect(code(() => db.scan(0))).toBe('ERR_CLOSED')
    expect(code(() => db.usedMemory())).toBe('ERR_CLOSED')
  })

  it('closes through Symbol.dispose', () => {
    let escaped: Engine
    {
      using db = new Engine()
      db.set('k', 'v')
      escaped = db
    }
    expect(code(() => escaped.get('k'))).toBe('ERR_CLOSED')
  })
})
