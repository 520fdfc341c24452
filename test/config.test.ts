import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  CONFIG_DEFAULTS,
  CONFIG_NAMES,
  MAXMEMORY_POLICIES,
  configField,
  configGet,
  configSet,
  parseMemory,
  resolveOptions,
  type EngineConfig,
  type EngineOptions,
} from '../lib/config.js'
import { ArenaKVError } from '../lib/errors.js'

interface RedisConfigFixture {
  defaults: Record<string, string>
  replies: string[]
  /** [name, value, index into replies, CONFIG GET value afterwards] */
  cases: Array<[string, string, number, string]>
  extra: Array<['set', string, string, string] | ['get', string, Record<string, string>]>
}

// Recorded from redis-server 7.0.15 (Debian): CONFIG SET <name> <value> then CONFIG GET <name>, with the
// defaults restored between cases; the replies keep Redis's 'ERR ' prefix, which our messages leave out.
const redis = JSON.parse(
  readFileSync(new URL('./fixtures/config-redis-7.0.15.json', import.meta.url), 'utf8'),
) as RedisConfigFixture

const MAX_SAFE = Number.MAX_SAFE_INTEGER
const MB = 1024 * 1024

function setResult(cfg: EngineConfig, name: string, value: string | number): string {
  try {
    configSet(cfg, name, value)
    return 'OK'
  } catch (e) {
    if (!(e instanceof ArenaKVError)) throw e
    expect(e.code).toBe('ERR_CONFIG')
    return `ERR ${e.message}`
  }
}

/**
 * What we answer where we chose to differ from Redis 7.0.15 (each documented in lib/config.ts); every
 * other case must match Redis's reply and resulting value exactly.
 */
function ourExpectation(name: string, value: string, reply: string, after: string): [string, string] {
  const between = (min: number, max: number): string =>
    `ERR CONFIG SET failed (possibly related to argument '${name}') - argument must be between ${min} and ${max} inclusive`
  const memoryValue = `ERR CONFIG SET failed (possibly related to argument '${name}') - argument must be a memory value`
  const isMemory = name === 'maxmemory' || name === 'active-defrag-ignore-bytes'
  const defaultValue = redis.defaults[name]
  if (name === 'maxmemory-samples') {
    // Capped at 64 as in Redis 8.
    if (reply === 'OK' && Number(after) > 64) return [between(1, 64), defaultValue]
    if (reply.includes('between 1 and 2147483647')) return [between(1, 64), defaultValue]
  }
  if (isMemory) {
    // memtoull reads '' and 'mb' as 0; a typo should not mean "unlimited".
    if (value === '' || value === 'mb') return [memoryValue, defaultValue]
    const min = name === 'maxmemory' ? 0 : 1
    if (reply === 'OK' && BigInt(after) > BigInt(MAX_SAFE)) return [between(min, MAX_SAFE), defaultValue]
    if (reply.includes('9223372036854775807')) return [between(min, MAX_SAFE), defaultValue]
  }
  // Debian's redis-server is built without active defrag; our jemalloc build has it (the engine refuses it
  // on other allocators).
  if (name === 'activedefrag' && reply.includes('Active defragmentation cannot be enabled')) return ['OK', 'yes']
  // arenakv's two adaptive policies follow Redis's eight in the list of accepted values.
  if (name === 'maxmemory-policy' && reply.endsWith('allkeys-random, noeviction')) return [`${reply}, allkeys-adaptive, volatile-adaptive`, after]
  return [reply, after]
}

describe('defaults', () => {
  it('are Redis 7 defaults', () => {
    expect(resolveOptions()).toEqual({
      maxmemory: 0,
      maxmemoryPolicy: 'noeviction',
      maxmemorySamples: 5,
      maxmemoryEvictionTenacity: 10,
      lfuLogFactor: 10,
      lfuDecayTime: 1,
      hz: 10,
      activeExpireEffort: 1,
      activedefrag: false,
      activeDefragIgnoreBytes: 100 * MB,
      activeDefragThresholdLower: 10,
      activeDefragThresholdUpper: 100,
      activeDefragCycleMin: 1,
      activeDefragCycleMax: 25,
      maxmemoryAccounting: 'allocated',
    })
    expect(resolveOptions({})).toEqual(CONFIG_DEFAULTS)
    expect(Object.isFrozen(CONFIG_DEFAULTS)).toBe(true)
  })

  it('print as a fresh redis-server 7 prints them', () => {
    expect(configGet(resolveOptions(), '*')).toEqual(redis.defaults)
  })

  it('give a fresh object every time', () => {
    const a = resolveOptions()
    a.maxmemory = 1
    expect(resolveOptions().maxmemory).toBe(0)
    expect(CONFIG_DEFAULTS.maxmemory).toBe(0)
  })
})

describe('parseMemory', () => {
  it('reads memtoull units: k/m/g are 1000s, kb/mb/gb 1024s, any case', () => {
    expect(parseMemory('64mb')).toBe(64 * MB)
    expect(parseMemory('1gb')).toBe(1024 * MB)
    expect(parseMemory('100kb')).toBe(102_400)
    expect(parseMemory('5k')).toBe(5000)
    expect(parseMemory('5K')).toBe(5000)
    expect(parseMemory('64MB')).toBe(64 * MB)
    expect(parseMemory('1G')).toBe(1e9)
    expect(parseMemory('3m')).toBe(3e6)
    expect(parseMemory('10b')).toBe(10)
    expect(parseMemory('10B')).toBe(10)
    expect(parseMemory('123')).toBe(123)
    expect(parseMemory('0')).toBe(0)
    expect(parseMemory('007')).toBe(7)
    expect(parseMemory(1048576)).toBe(1048576)
    expect(parseMemory(0)).toBe(0)
    expect(parseMemory(MAX_SAFE)).toBe(MAX_SAFE)
  })

  it.each(['', 'mb', '-1', '-5mb', '+5', ' 5', '5 ', '1.5mb', '5kib', '1e3', '0x10', 'abc', '5 mb', '1tb'])(
    'rejects %j with a RangeError',
    (text) => {
      expect(() => parseMemory(text)).toThrow(RangeError)
      expect(() => parseMemory(text)).toThrow(/memory value/)
    },
  )

  it('rejects negative, fractional, non-finite and too-large numbers with a RangeError', () => {
    for (const n of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_SAFE + 1, 2 ** 64]) {
      expect(() => parseMemory(n)).toThrow(RangeError)
    }
    expect(() => parseMemory('9007199254740992')).toThrow(RangeError)
    expect(() => parseMemory('8388608gb')).toThrow(/more than 9007199254740991 bytes/)
  })

  it('rejects other types with a TypeError', () => {
    for (const v of [null, undefined, true, {}, [], 10n]) {
      expect(() => parseMemory(v as unknown as string)).toThrow(TypeError)
    }
  })
})

describe('resolveOptions', () => {
  it('accepts every option in its JavaScript form', () => {
    const cfg = resolveOptions({
      maxmemory: '64mb',
      maxmemoryPolicy: 'allkeys-lfu',
      maxmemorySamples: 10,
      maxmemoryEvictionTenacity: 100,
      lfuLogFactor: 0,
      lfuDecayTime: 0,
      hz: 100,
      activeExpireEffort: 10,
      activedefrag: true,
      activeDefragIgnoreBytes: '1mb',
      activeDefragThresholdLower: 0,
      activeDefragThresholdUpper: 1000,
      activeDefragCycleMin: 99,
      activeDefragCycleMax: 1,
      maxmemoryAccounting: 'resident',
    })
    expect(cfg).toEqual({
      maxmemory: 64 * MB,
      maxmemoryPolicy: 'allkeys-lfu',
      maxmemorySamples: 10,
      maxmemoryEvictionTenacity: 100,
      lfuLogFactor: 0,
      lfuDecayTime: 0,
      hz: 100,
      activeExpireEffort: 10,
      activedefrag: true,
      activeDefragIgnoreBytes: MB,
      activeDefragThresholdLower: 0,
      activeDefragThresholdUpper: 1000,
      activeDefragCycleMin: 99,
      activeDefragCycleMax: 1,
      maxmemoryAccounting: 'resident',
    })
  })

  it('takes maxmemoryAccounting as allocated or resident, an option CONFIG does not know', () => {
    expect(resolveOptions({ maxmemoryAccounting: 'resident' }).maxmemoryAccounting).toBe('resident')
    expect(() => resolveOptions({ maxmemoryAccounting: 'rss' as 'resident' })).toThrow(RangeError)
    expect(() => resolveOptions({ maxmemoryAccounting: 1 as unknown as 'resident' })).toThrow(TypeError)
    expect(configGet(resolveOptions(), '*')).not.toHaveProperty('maxmemory-accounting')
    expect(() => configSet(resolveOptions(), 'maxmemory-accounting', 'resident')).toThrow(/Unknown option/)
  })

  it('takes memory sizes as bytes or strings', () => {
    expect(resolveOptions({ maxmemory: 1_000_000 }).maxmemory).toBe(1_000_000)
    expect(resolveOptions({ maxmemory: '1gb' }).maxmemory).toBe(1024 * MB)
    expect(resolveOptions({ activeDefragIgnoreBytes: 4096 }).activeDefragIgnoreBytes).toBe(4096)
  })

  it('treats undefined as "use the default"', () => {
    expect(resolveOptions({ maxmemory: undefined, hz: undefined })).toEqual(CONFIG_DEFAULTS)
  })

  it('clamps hz to 1..500 as Redis does, after checking 0..INT_MAX', () => {
    expect(resolveOptions({ hz: 0 }).hz).toBe(1)
    expect(resolveOptions({ hz: 1000 }).hz).toBe(500)
    expect(resolveOptions({ hz: 2147483647 }).hz).toBe(500)
    expect(() => resolveOptions({ hz: -1 })).toThrow(/between 0 and 2147483647 inclusive/)
    expect(() => resolveOptions({ hz: 2147483648 })).toThrow(RangeError)
  })

  it('reads policy names case-insensitively, as Redis does, and stores the canonical name', () => {
    expect(resolveOptions({ maxmemoryPolicy: 'ALLKEYS-LRU' as 'allkeys-lru' }).maxmemoryPolicy).toBe('allkeys-lru')
    for (const policy of MAXMEMORY_POLICIES) expect(resolveOptions({ maxmemoryPolicy: policy }).maxmemoryPolicy).toBe(policy)
  })

  it.each<[EngineOptions, RegExp]>([
    [{ maxmemorySamples: 0 }, /maxmemorySamples \(Redis 'maxmemory-samples'\) must be between 1 and 64 inclusive, got 0/],
    [{ maxmemorySamples: 65 }, /between 1 and 64 inclusive/],
    [{ maxmemoryEvictionTenacity: 101 }, /between 0 and 100 inclusive/],
    [{ maxmemoryEvictionTenacity: -1 }, /between 0 and 100 inclusive/],
    [{ lfuLogFactor: -1 }, /between 0 and 2147483647 inclusive/],
    [{ lfuDecayTime: 2 ** 31 }, /between 0 and 2147483647 inclusive/],
    [{ activeExpireEffort: 0 }, /between 1 and 10 inclusive/],
    [{ activeExpireEffort: 11 }, /between 1 and 10 inclusive/],
    [{ activeDefragThresholdLower: 1001 }, /between 0 and 1000 inclusive/],
    [{ activeDefragThresholdUpper: -1 }, /between 0 and 1000 inclusive/],
    [{ activeDefragCycleMin: 0 }, /between 1 and 99 inclusive/],
    [{ activeDefragCycleMax: 100 }, /between 1 and 99 inclusive/],
    [{ activeDefragIgnoreBytes: 0 }, /between 1 and 9007199254740991 inclusive/],
    [{ maxmemory: -1 }, /maxmemory \(Redis 'maxmemory'\): invalid memory value -1/],
    [{ maxmemory: '1.5gb' }, /invalid memory value '1.5gb'/],
    [{ maxmemorySamples: 5.5 }, /must be an integer, got 5.5/],
    [{ hz: Number.NaN }, /must be an integer/],
    [{ maxmemoryPolicy: 'lru' as 'allkeys-lru' }, /must be one of volatile-lru, .*noeviction, allkeys-adaptive, volatile-adaptive; got 'lru'/],
  ])('rejects %j with a RangeError', (opts, message) => {
    expect(() => resolveOptions(opts)).toThrow(RangeError)
    expect(() => resolveOptions(opts)).toThrow(message)
  })

  it.each<[Record<string, unknown>, RegExp]>([
    [{ maxmemorySamples: '5' }, /maxmemorySamples \(Redis 'maxmemory-samples'\) must be a number, got string/],
    [{ hz: null }, /must be a number, got object/],
    [{ maxmemory: true }, /must be a number of bytes or a string/],
    [{ activeDefragIgnoreBytes: {} }, /must be a number of bytes or a string/],
    [{ maxmemoryPolicy: 1 }, /must be a string, got number/],
    [{ activedefrag: 'yes' }, /activedefrag \(Redis 'activedefrag'\) must be a boolean, got string/],
    [{ activedefrag: 1 }, /must be a boolean/],
  ])('rejects %j with a TypeError', (opts, message) => {
    expect(() => resolveOptions(opts as EngineOptions)).toThrow(TypeError)
    expect(() => resolveOptions(opts as EngineOptions)).toThrow(message)
  })

  it('names unknown options in a TypeError, including Redis-style spellings', () => {
    const bad = { maxMemory: 1, 'maxmemory-policy': 'allkeys-lru' } as unknown as EngineOptions
    expect(() => resolveOptions(bad)).toThrow(TypeError)
    expect(() => resolveOptions(bad)).toThrow(/unknown options: maxMemory, maxmemory-policy/)
    expect(() => resolveOptions({ nope: 1 } as unknown as EngineOptions)).toThrow(/unknown option: nope \(known: maxmemory, /)
  })

  it('rejects options that are not an object', () => {
    for (const v of [null, 5, 'maxmemory', [], true]) {
      expect(() => resolveOptions(v as unknown as EngineOptions)).toThrow(TypeError)
    }
  })
})

describe('configSet', () => {
  it(`answers as redis-server 7.0.15 on ${redis.cases.length} name × value cases`, () => {
    const mismatches: string[] = []
    for (const [name, value, replyIndex, after] of redis.cases) {
      const [wantReply, wantAfter] = ourExpectation(name, value, redis.replies[replyIndex], after)
      const cfg = resolveOptions()
      const reply = setResult(cfg, name, value)
      const got = configGet(cfg, name)[name]
      if (reply !== wantReply || got !== wantAfter) {
        mismatches.push(`${name} ${JSON.stringify(value)}: got ${reply} / ${got}, want ${wantReply} / ${wantAfter}`)
      }
    }
    expect(mismatches).toEqual([])
    expect(redis.cases.length).toBe(CONFIG_NAMES.length * 53)
  })

  it('quotes Redis wording exactly for each kind of bad value', () => {
    const cfg = resolveOptions()
    const prefix = (name: string): string => `CONFIG SET failed (possibly related to argument '${name}') - `
    expect(() => configSet(cfg, 'maxmemory', '10 mb')).toThrow(prefix('maxmemory') + 'argument must be a memory value')
    expect(() => configSet(cfg, 'maxmemory-samples', '100')).toThrow(
      prefix('maxmemory-samples') + 'argument must be between 1 and 64 inclusive',
    )
    expect(() => configSet(cfg, 'hz', 'ten')).toThrow(prefix('hz') + "argument couldn't be parsed into an integer")
    expect(() => configSet(cfg, 'activedefrag', 'on')).toThrow(prefix('activedefrag') + "argument must be 'yes' or 'no'")
    expect(() => configSet(cfg, 'maxmemory-policy', 'lru')).toThrow(
      prefix('maxmemory-policy') +
        'argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, ' +
        'allkeys-lru, allkeys-lfu, allkeys-random, noeviction, allkeys-adaptive, volatile-adaptive',
    )
    expect(() => configSet(cfg, 'no-such-thing', '1')).toThrow(
      "Unknown option or number of arguments for CONFIG SET - 'no-such-thing'",
    )
    // The failed-value reply names the parameter canonically; the unknown-parameter reply echoes it.
    expect(() => configSet(cfg, 'MaxMemory', 'x')).toThrow(prefix('maxmemory'))
    expect(() => configSet(cfg, 'MaxMemoryX', 'x')).toThrow("CONFIG SET - 'MaxMemoryX'")
  })

  it('throws ArenaKVError with code ERR_CONFIG and leaves the config untouched', () => {
    const cfg = resolveOptions({ maxmemory: '1mb', maxmemoryPolicy: 'allkeys-lru' })
    const before = { ...cfg }
    for (const [name, value] of [
      ['maxmemory', '-1'],
      ['maxmemory-policy', 'nope'],
      ['hz', '-5'],
      ['activedefrag', 'maybe'],
      ['unknown', '1'],
    ] as const) {
      let caught: unknown
      try {
        configSet(cfg, name, value)
      } catch (e) {
        caught = e
      }
      expect(caught).toBeInstanceOf(ArenaKVError)
      expect((caught as ArenaKVError).code).toBe('ERR_CONFIG')
      expect(cfg).toEqual(before)
    }
  })

  it('returns the field it changed', () => {
    const cfg = resolveOptions()
    for (const name of CONFIG_NAMES) {
      const value = name === 'maxmemory-policy' ? 'allkeys-lru' : name === 'activedefrag' ? 'no' : '5'
      expect(configSet(cfg, name, value)).toBe(configField(name))
    }
    expect(configSet(cfg, 'MAXMEMORY', '1mb')).toBe('maxmemory')
  })

  it('takes numbers as Redis would take their decimal text', () => {
    const cfg = resolveOptions()
    configSet(cfg, 'maxmemory', 1048576)
    expect(cfg.maxmemory).toBe(MB)
    configSet(cfg, 'maxmemory-samples', 10)
    expect(cfg.maxmemorySamples).toBe(10)
    expect(() => configSet(cfg, 'maxmemory', 1.5)).toThrow('argument must be a memory value')
    expect(() => configSet(cfg, 'hz', 2.5)).toThrow("argument couldn't be parsed into an integer")
    expect(() => configSet(cfg, 'hz', Number.NaN)).toThrow("argument couldn't be parsed into an integer")
    expect(() => configSet(cfg, 'maxmemory', 2 ** 60)).toThrow('argument must be between 0 and 9007199254740991 inclusive')
  })

  it('clamps hz after accepting it, as Redis does', () => {
    const cfg = resolveOptions()
    configSet(cfg, 'hz', '1000')
    expect(cfg.hz).toBe(500)
    expect(configGet(cfg, 'hz')).toEqual({ hz: '500' })
    configSet(cfg, 'hz', 0)
    expect(cfg.hz).toBe(1)
  })

  it('does not cross-check defrag cycle and threshold pairs (Redis does not either)', () => {
    const cfg = resolveOptions()
    configSet(cfg, 'active-defrag-cycle-min', '50')
    configSet(cfg, 'active-defrag-threshold-lower', '200')
    expect(cfg.activeDefragCycleMin).toBeGreaterThan(cfg.activeDefragCycleMax)
    expect(cfg.activeDefragThresholdLower).toBeGreaterThan(cfg.activeDefragThresholdUpper)
  })

  it('rejects wrong argument types with a TypeError', () => {
    const cfg = resolveOptions()
    expect(() => configSet(cfg, 1 as unknown as string, '1')).toThrow(TypeError)
    expect(() => configSet(cfg, 'maxmemory', true as unknown as string)).toThrow(TypeError)
    expect(() => configSet(cfg, 'maxmemory', null as unknown as string)).toThrow(TypeError)
  })
})

describe('every knob round-trips through configSet and configGet', () => {
  const cases: Array<[string, string, string, keyof EngineConfig, EngineConfig[keyof EngineConfig]]> = [
    ['maxmemory', '64mb', String(64 * MB), 'maxmemory', 64 * MB],
    ['maxmemory', '100kb', '102400', 'maxmemory', 102_400],
    ['maxmemory', '5k', '5000', 'maxmemory', 5000],
    ['maxmemory', '0', '0', 'maxmemory', 0],
    ['maxmemory-policy', 'volatile-ttl', 'volatile-ttl', 'maxmemoryPolicy', 'volatile-ttl'],
    ['maxmemory-policy', 'ALLKEYS-RANDOM', 'allkeys-random', 'maxmemoryPolicy', 'allkeys-random'],
    ['maxmemory-samples', '64', '64', 'maxmemorySamples', 64],
    ['maxmemory-eviction-tenacity', '0', '0', 'maxmemoryEvictionTenacity', 0],
    ['lfu-log-factor', '2147483647', '2147483647', 'lfuLogFactor', 2147483647],
    ['lfu-decay-time', '0', '0', 'lfuDecayTime', 0],
    ['hz', '100', '100', 'hz', 100],
    ['active-expire-effort', '10', '10', 'activeExpireEffort', 10],
    ['activedefrag', 'yes', 'yes', 'activedefrag', true],
    ['activedefrag', 'NO', 'no', 'activedefrag', false],
    ['active-defrag-ignore-bytes', '1gb', String(1024 * MB), 'activeDefragIgnoreBytes', 1024 * MB],
    ['active-defrag-threshold-lower', '0', '0', 'activeDefragThresholdLower', 0],
    ['active-defrag-threshold-upper', '1000', '1000', 'activeDefragThresholdUpper', 1000],
    ['active-defrag-cycle-min', '99', '99', 'activeDefragCycleMin', 99],
    ['active-defrag-cycle-max', '1', '1', 'activeDefragCycleMax', 1],
  ]
  it.each(cases)('%s %s', (name, value, printed, field, stored) => {
    const cfg = resolveOptions()
    expect(configSet(cfg, name, value)).toBe(field)
    expect(cfg[field]).toBe(stored)
    expect(configGet(cfg, name)).toEqual({ [name]: printed })
    // What CONFIG GET prints, CONFIG SET takes back unchanged.
    const again = resolveOptions()
    configSet(again, name, printed)
    expect(again).toEqual(cfg)
  })

  it('covers every name', () => {
    expect(new Set(cases.map((c) => c[0]))).toEqual(new Set(CONFIG_NAMES))
  })
})

describe('configGet', () => {
  it('answers as redis-server 7.0.15 on the recorded session (names any case, glob patterns)', () => {
    const cfg = resolveOptions()
    for (const step of redis.extra) {
      if (step[0] === 'set') {
        const [, name, value, reply] = step
        expect(setResult(cfg, name, value)).toBe(reply)
      } else {
        const [, pattern, want] = step
        expect(configGet(cfg, pattern)).toEqual(want)
      }
    }
  })

  it('matches maxmemory* and *defrag*', () => {
    const cfg = resolveOptions({ maxmemory: '64mb' })
    expect(configGet(cfg, 'maxmemory*')).toEqual({
      maxmemory: String(64 * MB),
      'maxmemory-policy': 'noeviction',
      'maxmemory-samples': '5',
      'maxmemory-eviction-tenacity': '10',
    })
    expect(Object.keys(configGet(cfg, '*defrag*'))).toEqual([
      'activedefrag',
      'active-defrag-ignore-bytes',
      'active-defrag-threshold-lower',
      'active-defrag-threshold-upper',
      'active-defrag-cycle-min',
      'active-defrag-cycle-max',
    ])
    expect(configGet(cfg, '*DEFRAG-CYCLE*')).toEqual({ 'active-defrag-cycle-min': '1', 'active-defrag-cycle-max': '25' })
  })

  it('lists every parameter for *, in CONFIG_NAMES order', () => {
    expect(Object.keys(configGet(resolveOptions(), '*'))).toEqual([...CONFIG_NAMES])
  })

  it('echoes a plain name as given, and returns {} for names it does not know', () => {
    const cfg = resolveOptions()
    expect(configGet(cfg, 'Maxmemory-Samples')).toEqual({ 'Maxmemory-Samples': '5' })
    expect(configGet(cfg, 'save')).toEqual({})
    expect(configGet(cfg, 'maxmemory-clients')).toEqual({})
    expect(configGet(cfg, '')).toEqual({})
    expect(configGet(cfg, 'x*')).toEqual({})
  })

  it('rejects a non-string pattern', () => {
    expect(() => configGet(resolveOptions(), 5 as unknown as string)).toThrow(TypeError)
  })
})

describe('configField', () => {
  it('maps Redis names, any ASCII case, to fields', () => {
    expect(configField('maxmemory')).toBe('maxmemory')
    expect(configField('ACTIVE-DEFRAG-CYCLE-MAX')).toBe('activeDefragCycleMax')
    expect(configField('maxmemory-clients')).toBeUndefined()
    // strcasecmp folds ASCII only: the Kelvin sign is not 'k'.
    expect(configField('active-defrag-cycle-ma\u212a')).toBeUndefined()
  })

  it('refuses a name that is not a string with a TypeError naming it', () => {
    for (const name of [null, undefined, 5, {}]) {
      expect(() => configField(name as unknown as string)).toThrow(/^name must be a string, got /)
    }
  })
})
