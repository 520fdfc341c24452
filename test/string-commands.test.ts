// The string and key commands beyond SET / GET: Redis's replies at the edges its own tests check (type/string.tcl,
// type/incr.tcl, bitops.tcl, keyspace.tcl, expire.tcl), and the accounting every write goes through.
import { describe, expect, it } from 'vitest'
import { Engine, engineInternals } from '../lib/engine.js'
import { string2ld, addLongDouble, ld2stringHuman } from '../lib/strconv.js'
import { engineWithClock } from './helpers/engine.js'

function code(f: () => unknown): string | undefined {
  try {
    f()
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).name
  }
  return undefined
}

describe('INCR family', () => {
  it('counts over the whole int64 range exactly with incrbyBig, and refuses overflow', () => {
    using db = new Engine()
    db.set('n', '9223372036854775806')
    expect(db.incrbyBig('n', 1n)).toBe(9223372036854775807n)
    expect(code(() => db.incrbyBig('n', 1n))).toBe('ERR_OVERFLOW')
    expect(db.getString('n')).toBe('9223372036854775807')
    db.set('m', '-9223372036854775808')
    expect(code(() => db.decr('m'))).toBe('ERR_OVERFLOW')
    expect(code(() => db.decrby('x', -9223372036854775808n))).toBe('ERR_OVERFLOW')
  })

  it('never returns an inexact number: a result past 2^53 is a RangeError and nothing is written', () => {
    using db = new Engine()
    db.set('n', String(Number.MAX_SAFE_INTEGER))
    expect(code(() => db.incr('n'))).toBe('RangeError')
    expect(db.getString('n')).toBe(String(Number.MAX_SAFE_INTEGER))
    expect(db.decr('n')).toBe(Number.MAX_SAFE_INTEGER - 1)
  })

  it("parses as Redis's string2ll: no spaces, '+', leading zeros or values over 20 bytes", () => {
    using db = new Engine()
    for (const v of [' 1', '1 ', '+1', '01', '-0', '1.0', '', 'x', '123456789012345678901', '9223372036854775808']) {
      db.set('k', v)
      expect(code(() => db.incr('k')), v).toBe('ERR_NOT_INTEGER')
      expect(db.getString('k')).toBe(v)
    }
    expect(code(() => db.incrby('k', 1.5))).toBe('ERR_NOT_INTEGER')
    expect(code(() => db.incrby('k', '+1'))).toBe('ERR_NOT_INTEGER')
    expect(db.incrby('new', '-12')).toBe(-12)
  })

  it('keeps the TTL and writes the decimal text into a small slot', () => {
    using db = new Engine()
    db.set('n', '5', { ex: 100 })
    expect(db.incrby('n', 10)).toBe(15)
    expect(db.ttl('n')).toBe(100)
    const { slotStore, peekHandle } = engineInternals(db)
    expect(slotStore.valueLength(peekHandle('n') as number)).toBe(2)
  })

  it("INCRBYFLOAT computes in Redis's long double and prints as %.17Lf trimmed", () => {
    using db = new Engine()
    expect(db.incrbyfloat('f', '0.1')).toBe('0.1')
    expect(db.incrbyfloat('f', 0.2)).toBe('0.3')
    db.set('g', '10.5')
    expect(db.incrbyfloat('g', '0.1')).toBe('10.6')
    db.set('h', '5.0e3')
    expect(db.incrbyfloat('h', '2.0e2')).toBe('5200')
    expect(db.incrbyfloat('z', '1e-30')).toBe('0')
    expect(db.incrbyfloat('x', '1e20')).toBe('100000000000000000000')
    expect(db.incrbyfloat('hex', '0x1p3')).toBe('8')
    for (const bad of [' 1', '1 ', 'abc', 'nan', '1e', '']) expect(code(() => db.incrbyfloat('f', bad)), bad).toBe('ERR_NOT_FLOAT')
    expect(code(() => db.incrbyfloat('f', Number.NaN))).toBe('ERR_NOT_FLOAT')
    expect(code(() => db.incrbyfloat('f', '1e5000'))).toBe('ERR_NOT_FLOAT')
    db.set('inf', 'inf')
    expect(code(() => db.incrbyfloat('inf', '1'))).toBe('ERR_OVERFLOW')
    expect(db.getString('f')).toBe('0.3')
  })

  it("passes the edge cases of Redis's type/incr.tcl", () => {
    using db = new Engine()
    db.set('n', '17179869184')
    expect(db.incrby('n', 17179869184)).toBe(34359738368)
    expect(db.decrby('n', 34359738369)).toBe(-1)
    db.set('f', '17179869184')
    expect(db.incrbyfloat('f', 1.5)).toBe('17179869185.5')
    db.set('f', '1')
    expect(db.incrbyfloat('f', -1.1)).toBe('-0.1')
    db.set('f', '0')
    expect(code(() => db.incrbyfloat('f', '+inf'))).toBe('ERR_OVERFLOW')
    // 'string to double with null terminator'
    db.set('f', '1')
    db.setrange('f', 2, '2')
    expect(code(() => db.incrbyfloat('f', 1))).toBe('ERR_NOT_FLOAT')
    // 'No negative zero': Tcl's double(1)/41 and double(-1)/41
    db.incrbyfloat('z', '0.024390243902439025')
    expect(db.incrbyfloat('z', '-0.024390243902439025')).toBe('0')
    expect(db.getString('z')).toBe('0')
  })

  it('rounds sums to a 64-bit significand, ties to even', () => {
    const sum = (a: string, b: string): string => ld2stringHuman(addLongDouble(string2ld(a)!, string2ld(b)!))
    // 2^64 + 1 is not a long double: it rounds to 2^64 (the tie goes to the even significand).
    expect(sum('18446744073709551616', '1')).toBe('18446744073709551616')
    expect(sum('18446744073709551616', '3')).toBe('18446744073709551620')
    expect(sum('1.1', '2.2')).toBe('3.3')
  })
})

describe('APPEND, GETRANGE, SETRANGE', () => {
  it('answers as Redis for negative ranges, offsets past the end and empty writes', () => {
    using db = new Engine()
    expect(db.append('k', 'foo')).toBe(3)
    expect(db.append('k', 'bar')).toBe(6)
    expect(db.getrange('k', 0, -1).toString()).toBe('foobar')
    expect(db.getrange('k', -3, -1).toString()).toBe('bar')
    expect(db.getrange('k', -1, -5).toString()).toBe('')
    expect(db.getrange('k', 5, 3).toString()).toBe('')
    expect(db.getrange('k', -100, 100).toString()).toBe('foobar')
    expect(db.getrange('missing', 0, -1).length).toBe(0)
    expect(db.setrange('k', 8, 'x')).toBe(9)
    expect([...(db.get('k') as Buffer)]).toEqual([...Buffer.from('foobar\0\0x')])
    expect(db.setrange('k', 0, '')).toBe(9)
    expect(db.setrange('none', 5, '')).toBe(0)
    expect(db.exists('none')).toBe(0)
    expect(db.setrange('new', 2, 'ab')).toBe(4)
    expect(db.get('new')).toEqual(Buffer.from('\0\0ab'))
    expect(code(() => db.setrange('k', -1, 'x'))).toBe('ERR_OUT_OF_RANGE')
    expect(code(() => db.setrange('k', 512 * 1024 * 1024, 'x'))).toBe('ERR_VALUE_TOO_LARGE')
    expect(db.strlen('k')).toBe(9)
    expect(db.strlen('missing')).toBe(0)
  })

  it('grows a value in its slot: the handle stays, used memory follows the slot exactly', () => {
    using db = new Engine()
    db.set('k', 'x'.repeat(100), { ex: 50 })
    const { slotStore, peekHandle } = engineInternals(db)
    const handle = peekHandle('k') as number
    for (let i = 0; i < 200; i++) db.append('k', 'y'.repeat(37))
    expect(peekHandle('k')).toBe(handle)
    expect(db.strlen('k')).toBe(100 + 200 * 37)
    expect(db.ttl('k')).toBe(50)
    expect(db.getString('k')).toBe('x'.repeat(100) + 'y'.repeat(200 * 37))
    const before = db.usedMemory()
    const usable = slotStore.usableSize(handle)
    db.del('k')
    expect(before - db.usedMemory()).toBe(usable)
  })

  it('under noeviction at the limit, APPEND and SETRANGE are refused and write nothing', () => {
    using db = new Engine({ maxmemory: 2 * 1024 * 1024 })
    db.set('k', 'v')
    let i = 0
    while (code(() => db.set(`fill${i++}`, 'x'.repeat(1000))) === undefined);
    expect(code(() => db.append('k', 'x'.repeat(10000)))).toBe('ERR_OOM')
    expect(code(() => db.setrange('k', 100000, 'x'))).toBe('ERR_OOM')
    expect(code(() => db.setbit('bits', 1_000_000, 1))).toBe('ERR_OOM')
    expect(db.getString('k')).toBe('v')
    expect(db.exists('bits')).toBe(0)
    // What still fits is written: this engine refuses a write only when its slot would pass maxmemory.
    expect(db.incr('counter')).toBe(1)
  })

  it('evicts under allkeys-lru to make room for a growing value', () => {
    using db = new Engine({ maxmemory: 2 * 1024 * 1024, maxmemoryPolicy: 'allkeys-lru' })
    for (let i = 0; i < 3000; i++) db.set(`fill${i}`, 'x'.repeat(1000))
    for (let i = 0; i < 100; i++) db.append('big', 'y'.repeat(10000))
    expect(db.strlen('big')).toBe(1_000_000)
    expect(db.usedMemory()).toBeLessThanOrEqual(2 * 1024 * 1024)
    expect(db.stats.evicted_keys).toBeGreaterThan(0)
  })
})

describe('bits', () => {
  it('SETBIT / GETBIT / BITCOUNT / BITPOS as Redis', () => {
    using db = new Engine()
    expect(db.getbit('none', 100)).toBe(0)
    expect(db.bitcount('none')).toBe(0)
    expect(db.bitpos('none', 0)).toBe(0)
    expect(db.bitpos('none', 1)).toBe(-1)
    expect(db.setbit('b', 7, 1)).toBe(0)
    expect(db.setbit('b', 7, 1)).toBe(1)
    expect(db.get('b')).toEqual(Buffer.from([1]))
    expect(db.setbit('b', 20, 1)).toBe(0)
    expect(db.get('b')).toEqual(Buffer.from([1, 0, 8]))
    expect(db.bitcount('b')).toBe(2)
    expect(db.bitcount('b', { start: 1, end: -1 })).toBe(1)
    expect(db.bitcount('b', { start: 5, end: 30, unit: 'BIT' })).toBe(2)
    expect(db.bitcount('b', { start: 8, end: 20, unit: 'bit' })).toBe(1)
    expect(db.bitcount('b', { start: -1, end: -2 })).toBe(0)
    expect(db.bitpos('b', 1)).toBe(7)
    expect(db.bitpos('b', 1, { start: 1 })).toBe(20)
    expect(db.bitpos('b', 1, { start: 8, end: 19, unit: 'BIT' })).toBe(-1)
    db.set('ones', Buffer.from([0xff, 0xff]))
    expect(db.bitpos('ones', 0)).toBe(16)
    expect(db.bitpos('ones', 0, { start: 0, end: -1 })).toBe(-1)
    expect(code(() => db.setbit('b', -1, 1))).toBe('ERR_OUT_OF_RANGE')
    expect(code(() => db.setbit('b', 2 ** 32, 1))).toBe('ERR_OUT_OF_RANGE')
    expect(code(() => db.setbit('b', 1, 2 as 1))).toBe('ERR_OUT_OF_RANGE')
    expect(code(() => db.bitpos('b', 2 as 1))).toBe('ERR_OUT_OF_RANGE')
    expect(code(() => db.bitcount('b', { start: 0 } as { start: number; end: number }))).toBe('ERR_SYNTAX')
    expect(code(() => db.bitcount('b', { start: 0, end: 1, unit: 'BOTH' as 'BIT' }))).toBe('ERR_SYNTAX')
  })
})

describe('LCS', () => {
  it("gives Redis's match, length and ranges", () => {
    using db = new Engine()
    db.mset([['a', 'ohmytext'], ['b', 'mynewtext']])
    expect(db.lcs('a', 'b').toString()).toBe('mytext')
    expect(db.lcs('a', 'b', { len: true })).toBe(6)
    expect(db.lcs('a', 'b', { idx: true })).toEqual({ matches: [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], len: 6 })
    expect(db.lcs('a', 'b', { idx: true, minmatchlen: 4, withmatchlen: true })).toEqual({ matches: [[[4, 7], [5, 8], 4]], len: 6 })
    expect(db.lcs('a', 'missing').length).toBe(0)
    expect(code(() => db.lcs('a', 'b', { idx: true, len: true } as { idx: true }))).toBe('ERR_SYNTAX')
  })
})

describe('SET variants', () => {
  it('SETNX, SETEX, PSETEX, GETSET, SET … GET with NX / XX, MSETNX', () => {
    using db = new Engine()
    expect(db.setnx('k', 'a')).toBe(true)
    expect(db.setnx('k', 'b')).toBe(false)
    db.setex('k', 10, 'c')
    expect(db.ttl('k')).toBe(10)
    expect(db.getset('k', 'd')?.toString()).toBe('c')
    expect(db.ttl('k')).toBe(-1)
    db.psetex('p', 1500, 'v')
    expect(db.pttl('p')).toBeGreaterThan(1000)
    expect(code(() => db.setex('k', 0, 'v'))).toBe('ERR_INVALID_EXPIRE')
    expect(code(() => db.psetex('k', -1, 'v'))).toBe('ERR_INVALID_EXPIRE')
    expect(db.setGet('k', 'e', { nx: true })?.toString()).toBe('d')
    expect(db.getString('k')).toBe('d')
    expect(db.setGet('none', 'e', { xx: true })).toBeUndefined()
    expect(db.exists('none')).toBe(0)
    expect(db.setGet('k', 'f', { xx: true, ex: 5 })?.toString()).toBe('d')
    expect(db.ttl('k')).toBe(5)
    expect(code(() => db.setGet('k', 'g', { nx: true, xx: true }))).toBe('ERR_SYNTAX')
    expect(db.getString('k')).toBe('f')
    expect(db.msetnx([['x', '1'], ['k', '2']])).toBe(false)
    expect(db.exists('x')).toBe(0)
    expect(db.msetnx([['x', '1'], ['y', '2']])).toBe(true)
    expect(db.mget(['x', 'y']).map(String)).toEqual(['1', '2'])
  })
})

describe('key commands', () => {
  it('RENAME and RENAMENX carry the value and TTL; onto itself is a no-op', () => {
    using db = new Engine()
    db.set('a', '1', { ex: 100 })
    db.set('b', '2')
    db.rename('a', 'a')
    expect(db.getString('a')).toBe('1')
    expect(db.renamenx('a', 'a')).toBe(false)
    expect(db.renamenx('a', 'b')).toBe(false)
    db.rename('a', 'b')
    expect(db.exists('a')).toBe(0)
    expect(db.getString('b')).toBe('1')
    expect(db.ttl('b')).toBe(100)
    expect(db.renamenx('b', 'c')).toBe(true)
    expect(db.ttl('c')).toBe(100)
    expect(code(() => db.rename('a', 'z'))).toBe('ERR_NO_SUCH_KEY')
    expect(db.dbsize()).toBe(1)
    expect(db.volatileCount()).toBe(1)
  })

  it('RENAME rewrites the key in its slot: the handle, value, TTL and memory accounting follow', () => {
    using db = new Engine()
    const value = 'v'.repeat(100_000)
    db.set('a', value, { ex: 100 })
    for (let i = 0; i < 100; i++) db.set(`other${i}`, String(i))
    const { slotStore, peekHandle } = engineInternals(db)
    const handle = peekHandle('a')
    const long = 'κ'.repeat(300)
    db.rename('a', long)
    expect(peekHandle(long)).toBe(handle)
    expect(db.getString(long)).toBe(value)
    db.rename(long, 'b')
    expect(peekHandle('b')).toBe(handle)
    expect(db.getString('b')).toBe(value)
    expect(db.ttl('b')).toBe(100)
    expect(db.keys('*').length).toBe(101)
    const before = db.usedMemory()
    const usable = slotStore.usableSize(handle as number)
    db.del('b')
    expect(before - db.usedMemory()).toBe(usable)
  })

  it('COPY with and without REPLACE, the TTL copied', () => {
    using db = new Engine()
    db.set('a', 'v', { ex: 100 })
    db.set('b', 'w')
    expect(db.copy('a', 'b')).toBe(false)
    expect(db.copy('a', 'b', { replace: true })).toBe(true)
    expect(db.getString('b')).toBe('v')
    expect(db.ttl('b')).toBe(100)
    expect(db.copy('missing', 'c')).toBe(false)
    expect(code(() => db.copy('a', 'a'))).toBe('ERR_SAME_OBJECT')
    expect(code(() => db.copy('a', 'c', { db: 1 }))).toBe('ERR_OUT_OF_RANGE')
    expect(db.copy('a', 'c', { db: 0 })).toBe(true)
    expect(db.volatileCount()).toBe(3)
  })

  it('COPY duplicates the slot: used memory grows by the copy, the source is untouched', () => {
    using db = new Engine()
    const value = Buffer.alloc(200_000, 7)
    db.set('a', value)
    const { slotStore, peekHandle } = engineInternals(db)
    const before = db.usedMemory()
    expect(db.copy('a', 'b')).toBe(true)
    expect(db.usedMemory() - before).toBe(slotStore.usableSize(peekHandle('b') as number))
    expect(db.get('b')).toEqual(value)
    db.append('b', 'x')
    expect(db.get('a')).toEqual(value)
  })

  it("delivers a lookup's expiry event even when the command then fails", () => {
    const { db, clock } = engineWithClock()
    using _ = db
    const expired: string[] = []
    db.on('expired', (key) => expired.push(key))
    db.set('src', '1', { px: 10 })
    db.set('n', 'x', { px: 10 })
    clock.advance(20)
    expect(code(() => db.rename('src', 'dst'))).toBe('ERR_NO_SUCH_KEY')
    expect(expired).toEqual(['src'])
    // An expired non-integer is missing to INCR: no error, and its event.
    expect(db.incr('n')).toBe(1)
    expect(expired).toEqual(['src', 'n'])
  })

  it('KEYS, RANDOMKEY, TYPE, SCAN TYPE, OBJECT ENCODING', () => {
    using db = new Engine()
    expect(db.randomkey()).toBeUndefined()
    db.mset([['user:1', '12'], ['user:2', 'x'.repeat(44)], ['other', 'x'.repeat(45)]])
    expect(db.keys('user:*').sort()).toEqual(['user:1', 'user:2'])
    expect(db.keys('*').length).toBe(3)
    expect(['user:1', 'user:2', 'other']).toContain(db.randomkey())
    expect(db.type('user:1')).toBe('string')
    expect(db.type('nope')).toBe('none')
    expect(db.scan(0, { count: 100, type: 'list' })[1]).toEqual([])
    expect(db.scan(0, { count: 100, type: 'String' })[1].length).toBe(3)
    expect(db.objectEncoding('user:1')).toBe('int')
    expect(db.objectEncoding('user:2')).toBe('embstr')
    expect(db.objectEncoding('other')).toBe('raw')
    expect(db.objectEncoding('nope')).toBeUndefined()
  })
})

describe('expire times over int64', () => {
  it("takes Redis's boundaries: far future, far past, and overflow errors", () => {
    using db = new Engine()
    db.set('k', 'v')
    expect(db.pexpireat('k', 9223372036854770000n)).toBe(true)
    expect(db.exists('k')).toBe(1)
    expect(db.ttl('k')).toBeGreaterThan(1e15)
    expect(db.pexpireat('k', -9223372036854770000n)).toBe(true)
    expect(db.exists('k')).toBe(0)
    db.set('k', 'v')
    expect(db.expire('k', -9223372036854775n)).toBe(true)
    expect(db.exists('k')).toBe(0)
    db.set('k', 'v')
    expect(code(() => db.expire('k', -9223372036854776n))).toBe('ERR_INVALID_EXPIRE')
    expect(code(() => db.expire('k', 9223372036854775n))).toBe('ERR_INVALID_EXPIRE')
    expect(code(() => db.pexpire('k', 9223372036854775807n))).toBe('ERR_INVALID_EXPIRE')
    expect(db.set('k', 'v', { pxat: 9223372036854775807n })).toBe(true)
    expect(db.pexpiretime('k')).toBe(Number(9223372036854775807n))
  })
})

describe("expire.tcl's int64 boundaries", () => {
  it('refuses what overflows, takes what Redis takes', () => {
    using db = new Engine()
    db.set('foo', 'bar')
    for (const secs of [9223370399119966n, 9223372036854776n, 10000000000000000n, 18446744073709561n, -9223372036854776n, -9999999999999999n]) {
      expect(code(() => db.expire('foo', secs)), String(secs)).toBe('ERR_INVALID_EXPIRE')
    }
    expect(code(() => db.expire('foo', -9223372036854775808n))).toBe('ERR_INVALID_EXPIRE')
    expect(code(() => db.pexpire('foo', 9223372036854770000n))).toBe('ERR_INVALID_EXPIRE')
    expect(db.ttl('foo')).toBe(-1)
    for (const ex of [10000000000000000n, -9999999999999999n]) {
      expect(code(() => db.set('foo', 'bar', { ex }))).toBe('ERR_INVALID_EXPIRE')
      expect(code(() => db.getex('foo', { ex }))).toBe('ERR_INVALID_EXPIRE')
    }
    expect(db.pexpireat('foo', 9223372036854770000)).toBe(true)
    expect(db.pexpireat('foo', -9223372036854770000)).toBe(true)
    expect(db.ttl('foo')).toBe(-2)
  })
})

describe('INFO', () => {
  it('takes several sections, in Redis order, and default / all / everything', () => {
    using db = new Engine()
    expect(db.info('stats', 'memory').match(/^# \w+/gm)).toEqual(['# Memory', '# Stats'])
    expect(db.info('keyspace', 'KEYSPACE').match(/^# \w+/gm)).toEqual(['# Keyspace'])
    for (const s of ['default', 'all', 'everything']) {
      expect(db.info('memory', s).match(/^# \w+/gm)).toEqual(['# Server', '# Memory', '# Stats', '# Keyspace'])
    }
    expect(Object.keys(db.infoObject('memory', 'stats'))).toContain('keyspace_hits')
  })
})
