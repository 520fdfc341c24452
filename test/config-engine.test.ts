// CONFIG GET / CONFIG SET through the engine: every knob round-trips, bad values are refused with Redis's replies
// and change nothing, and the changes act at once (maxmemory lowered evicts now; a new policy drives the next
// write; hz re-times the cycles). activedefrag on builds without jemalloc's hints: test/contract/engine.contract.ts.
import { afterEach, describe, expect, it } from 'vitest'
import { allocator } from '../lib/allocator.js'
import { CONFIG_NAMES, type EngineOptions, type MaxmemoryPolicy } from '../lib/config.js'
import { Engine } from '../lib/engine.js'
import { ArenaKVError } from '../lib/errors.js'

const open: Engine[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})
function engine(...args: ConstructorParameters<typeof Engine>): Engine {
  const db = new Engine(...args)
  open.push(db)
  return db
}
function configError(fn: () => void): ArenaKVError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(ArenaKVError)
    return e as ArenaKVError
  }
  throw new Error('expected an error')
}

// A good value for every knob, as CONFIG SET takes it, and what CONFIG GET prints back.
const GOOD: Array<[string, string | number, string]> = [
  ['maxmemory', '100mb', String(100 * 1024 * 1024)],
  ['maxmemory-policy', 'ALLKEYS-LFU', 'allkeys-lfu'],
  ['maxmemory-samples', 10, '10'],
  ['maxmemory-eviction-tenacity', '50', '50'],
  ['lfu-log-factor', '20', '20'],
  ['lfu-decay-time', '0', '0'],
  ['hz', '100', '100'],
  ['active-expire-effort', '7', '7'],
  ['activedefrag', 'yes', 'yes'],
  ['active-defrag-ignore-bytes', '2mb', String(2 * 1024 * 1024)],
  ['active-defrag-threshold-lower', '5', '5'],
  ['active-defrag-threshold-upper', '50', '50'],
  ['active-defrag-cycle-min', '2', '2'],
  ['active-defrag-cycle-max', '60', '60'],
]

// A bad value per knob and the reply Redis 7 gives for it.
const BAD: Array<[string, string, string]> = [
  ['maxmemory', '-1', 'argument must be a memory value'],
  ['maxmemory', '12parsecs', 'argument must be a memory value'],
  [
    'maxmemory-policy',
    'lru',
    'argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, ' +
      'allkeys-lru, allkeys-lfu, allkeys-random, noeviction, allkeys-adaptive, volatile-adaptive',
  ],
  ['maxmemory-samples', '0', 'argument must be between 1 and 64 inclusive'],
  ['maxmemory-eviction-tenacity', '101', 'argument must be between 0 and 100 inclusive'],
  ['lfu-log-factor', '1.5', "argument couldn't be parsed into an integer"],
  ['lfu-decay-time', '-1', 'argument must be between 0 and 2147483647 inclusive'],
  ['hz', 'fast', "argument couldn't be parsed into an integer"],
  ['active-expire-effort', '11', 'argument must be between 1 and 10 inclusive'],
  ['activedefrag', 'maybe', "argument must be 'yes' or 'no'"],
  ['active-defrag-ignore-bytes', '0', 'argument must be between 1 and 9007199254740991 inclusive'],
  ['active-defrag-threshold-lower', '1001', 'argument must be between 0 and 1000 inclusive'],
  ['active-defrag-threshold-upper', '-5', 'argument must be between 0 and 1000 inclusive'],
  ['active-defrag-cycle-min', '0', 'argument must be between 1 and 99 inclusive'],
  ['active-defrag-cycle-max', '100', 'argument must be between 1 and 99 inclusive'],
]

describe('CONFIG GET / SET on an engine (jemalloc)', () => {
  it('lists every knob with Redis names, by glob and by exact name', () => {
    const db = engine({ maxmemory: '64mb', activeDefragCycleMax: 30 })
    const all = db.configGet('*')
    expect(Object.keys(all)).toEqual([...CONFIG_NAMES])
    expect(all.maxmemory).toBe(String(64 * 1024 * 1024))
    expect(all['maxmemory-policy']).toBe('noeviction')
    expect(all.activedefrag).toBe('no')
    expect(db.configGet('active-defrag-*')).toEqual({
      'active-defrag-ignore-bytes': String(100 * 1024 * 1024),
      'active-defrag-threshold-lower': '10',
      'active-defrag-threshold-upper': '100',
      'active-defrag-cycle-min': '1',
      'active-defrag-cycle-max': '30',
    })
    expect(db.configGet('MAXMEMORY')).toEqual({ MAXMEMORY: String(64 * 1024 * 1024) })
    expect(db.configGet('no-such-thing')).toEqual({})
  })

  it('round-trips a good value for every knob', () => {
    expect(allocator.name).toBe('jemalloc')
    const db = engine()
    expect(GOOD.map(([name]) => name).sort()).toEqual([...CONFIG_NAMES].sort())
    for (const [name, value, printed] of GOOD) {
      db.configSet(name, value)
      expect(db.configGet(name), name).toEqual({ [name]: printed })
    }
    expect(db.infoObject('server').hz).toBe(100)
    expect(db.infoObject('memory').maxmemory_policy).toBe('allkeys-lfu')
    expect(db.infoObject('memory').maxmemory_human).toBe('100.00M')
  })

  it("refuses bad values with Redis's reply and leaves the setting as it was", () => {
    const db = engine()
    const before = db.configGet('*')
    for (const [name, value, reason] of BAD) {
      const e = configError(() => db.configSet(name, value))
      expect(e.code, `${name} ${value}`).toBe('ERR_CONFIG')
      expect(e.message).toBe(`CONFIG SET failed (possibly related to argument '${name}') - ${reason}`)
    }
    expect(configError(() => db.configSet('maxmemory-police', 'noeviction')).message).toBe(
      "Unknown option or number of arguments for CONFIG SET - 'maxmemory-police'",
    )
    expect(db.configGet('*')).toEqual(before)
  })

  it('evicts at once when maxmemory is lowered (all of it within CONFIG SET at tenacity 100)', () => {
    const db = engine({ maxmemoryPolicy: 'allkeys-lru', maxmemoryEvictionTenacity: 100 })
    for (let i = 0; i < 50_000; i++) db.set(`k${i}`, 'x'.repeat(100))
    const target = Math.floor(db.usedMemory() / 2)
    db.configSet('maxmemory', String(target))
    expect(db.usedMemory()).toBeLessThanOrEqual(target)
    expect(db.infoObject('stats').evicted_keys as number).toBeGreaterThan(10_000)
  })

  it('starts evicting within CONFIG SET and finishes on the timer at the default tenacity', async () => {
    const db = engine({ maxmemoryPolicy: 'allkeys-lru' })
    for (let i = 0; i < 50_000; i++) db.set(`k${i}`, 'x'.repeat(100))
    const target = Math.floor(db.usedMemory() / 2)
    db.configSet('maxmemory', String(target))
    expect(db.infoObject('stats').evicted_keys as number).toBeGreaterThan(0)
    const deadline = Date.now() + 10_000
    while (db.usedMemory() > target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(db.usedMemory()).toBeLessThanOrEqual(target)
  })

  it('applies a new policy on the next write', () => {
    const db = engine({ maxmemory: '4mb' })
    let i = 0
    const write = () => db.set(`k${i++}`, 'x'.repeat(200))
    expect(() => {
      for (;;) write()
    }).toThrow(expect.objectContaining({ code: 'ERR_OOM' }))
    const keys = db.dbsize()
    db.configSet('maxmemory-policy', 'allkeys-random')
    write()
    expect(db.infoObject('stats').evicted_keys as number).toBeGreaterThan(0)
    expect(db.dbsize()).toBeLessThanOrEqual(keys)
    db.configSet('maxmemory-policy', 'noeviction')
    expect(() => write()).toThrow(expect.objectContaining({ code: 'ERR_OOM' }))
  })

  it('turns active defragmentation on and off', () => {
    const db = engine({ activedefrag: true })
    expect(db.configGet('activedefrag')).toEqual({ activedefrag: 'yes' })
    db.configSet('activedefrag', 'no')
    db.configSet('ACTIVEDEFRAG', 'YES')
    expect(db.configGet('activedefrag')).toEqual({ activedefrag: 'yes' })
  })
})

describe('CONFIG GET / SET and options given the wrong types', () => {
  // Whatever a caller passes, the answer is a TypeError or RangeError that names the argument: never a crash
  // inside the lookup (null.replace) or in turning the value into text (String of a prototype-less object).
  const NOT_STRINGS: unknown[] = [null, undefined, 42, true, 1n, Symbol('s'), {}, [], Object.create(null), () => 'maxmemory']

  it('configSet refuses a name that is not a string', () => {
    const db = engine()
    for (const name of NOT_STRINGS) {
      expect(() => db.configSet(name as string, 1), String(typeof name)).toThrow(TypeError)
      expect(() => db.configSet(name as string, 1)).toThrow(/^name must be a string, got /)
    }
  })

  it('configSet refuses a value that is neither a string nor a number, for every name', () => {
    const db = engine()
    const before = db.configGet('*')
    const values = NOT_STRINGS.filter((v) => typeof v !== 'number')
    for (const name of [...CONFIG_NAMES, 'no-such-name']) {
      for (const value of values) {
        expect(() => db.configSet(name, value as string), `${name} ${typeof value}`).toThrow(TypeError)
        expect(() => db.configSet(name, value as string)).toThrow(/^value must be a string or a number, got /)
      }
    }
    expect(db.configGet('*')).toEqual(before)
  })

  it('configGet refuses a pattern that is not a string', () => {
    const db = engine()
    for (const pattern of NOT_STRINGS) {
      expect(() => db.configGet(pattern as string), String(typeof pattern)).toThrow(TypeError)
      expect(() => db.configGet(pattern as string)).toThrow(/^pattern must be a string, got /)
    }
  })

  it('the constructor refuses options that are not a plain object, and option values of the wrong type', () => {
    for (const options of [null, 42, 'maxmemory', true, 1n, Symbol('o'), [], () => ({})]) {
      expect(() => engine(options as EngineOptions), String(typeof options)).toThrow(TypeError)
      expect(() => engine(options as EngineOptions)).toThrow(/^options must be an object, got /)
    }
    for (const value of [Symbol('v'), {}, 1n, null, [1]]) {
      expect(() => engine({ maxmemory: value as number })).toThrow(TypeError)
      expect(() => engine({ maxmemoryPolicy: value as MaxmemoryPolicy })).toThrow(TypeError)
      expect(() => engine({ hz: value as number })).toThrow(TypeError)
      expect(() => engine({ activedefrag: value as boolean })).toThrow(TypeError)
    }
    expect(() => engine({ maxmemory: NaN })).toThrow(RangeError)
    expect(() => engine({ hz: Infinity })).toThrow(RangeError)
  })
})


describe('CONFIG RESETSTAT', () => {
  it("zeroes INFO's stats counters as resetServerStats does, and keeps the keys and the peak", () => {
    const db = engine({ maxmemory: '1mb', maxmemoryPolicy: 'allkeys-lru' })
    const value = Buffer.alloc(1000, 1)
    for (let i = 0; i < 3000; i++) db.set(`k${i}`, value)
    db.get('k2999')
    db.get('missing')
    db.set('short', 'v', { px: 1 })
    const until = Date.now() + 20
    while (Date.now() < until) {
      // wait past the key's expire time
    }
    expect(db.get('short')).toBeUndefined()
    const before = db.infoObject('stats', 'memory')
    for (const f of ['evicted_keys', 'expired_keys', 'keyspace_hits', 'keyspace_misses']) expect(before[f], f).toBeGreaterThan(0)
    const keys = db.dbsize()
    db.configResetstat()
    const after = db.infoObject('stats', 'memory')
    for (const f of ['evicted_keys', 'expired_keys', 'keyspace_hits', 'keyspace_misses', 'expired_stale_perc', 'active_defrag_hits', 'total_active_defrag_time']) {
      expect(after[f], f).toBe(0)
    }
    expect(db.dbsize()).toBe(keys)
    expect(after.used_memory_peak).toBe(before.used_memory_peak)
    db.get('k2999')
    expect(db.infoObject('stats').keyspace_hits).toBe(1)
    db.close()
    expect(() => db.configResetstat()).toThrow(ArenaKVError)
  })
})
