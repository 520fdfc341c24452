/**
 * Engine options (camelCase, checked like any JavaScript API) and Redis's CONFIG GET / CONFIG SET over the
 * same knobs (Redis names, Redis parsing, Redis's error replies), one table for both.
 *
 * Ranges, defaults and parsing follow Redis's config.c `standardConfig` table; the replies were checked
 * against redis-server 7.0.15. Where we differ, on purpose:
 * - maxmemory-samples is capped at 64, as Redis 8 does (7.x allowed INT_MAX and put that many samples on
 *   the stack);
 * - memory values must be whole numbers of bytes JavaScript can hold exactly (≤ 2^53 − 1): Redis silently
 *   wraps or saturates beyond 2^64, we refuse with the same "between … inclusive" reply;
 * - a memory value needs at least one digit: Redis's memtoull reads '' and 'mb' as 0 bytes, which would
 *   turn a typo into "no limit".
 * Redis does not cross-check active-defrag-cycle-min ≤ -max nor threshold-lower ≤ -upper, and neither do
 * we: the defrag code clamps between them as Redis's computeDefragCycles does.
 */
import { ArenaKVError } from './errors.js'
import { globMatch } from './glob.js'

export type MaxmemoryPolicy =
  | 'noeviction'
  | 'allkeys-lru'
  | 'allkeys-lfu'
  | 'allkeys-random'
  | 'volatile-lru'
  | 'volatile-lfu'
  | 'volatile-random'
  | 'volatile-ttl'
  | 'allkeys-adaptive'
  | 'volatile-adaptive'

/** In the order of Redis's maxmemory_policy_enum, which its CONFIG SET error lists; arenakv's own two last. */
export const MAXMEMORY_POLICIES: readonly MaxmemoryPolicy[] = Object.freeze([
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'noeviction',
  'allkeys-adaptive',
  'volatile-adaptive',
] as const)

/**
 * What eviction counts against maxmemory: `allocated` (Redis's used_memory, the default) or `resident`, the
 * engine's resident memory (its arena's resident pages and its tables), so what the allocator holds beyond what is
 * allocated is bounded too (jemalloc builds only).
 */
export type MaxmemoryAccounting = 'allocated' | 'resident'
export const MAXMEMORY_ACCOUNTINGS: readonly MaxmemoryAccounting[] = Object.freeze(['allocated', 'resident'] as const)

export interface EngineOptions {
  maxmemory?: number | string
  maxmemoryPolicy?: MaxmemoryPolicy
  maxmemoryAccounting?: MaxmemoryAccounting
  maxmemorySamples?: number
  maxmemoryEvictionTenacity?: number
  lfuLogFactor?: number
  lfuDecayTime?: number
  hz?: number
  activeExpireEffort?: number
  activedefrag?: boolean
  activeDefragIgnoreBytes?: number | string
  activeDefragThresholdLower?: number
  activeDefragThresholdUpper?: number
  activeDefragCycleMin?: number
  activeDefragCycleMax?: number
}

/** Every option resolved: memory sizes in bytes, hz already clamped to what the timers use. */
export interface EngineConfig {
  maxmemory: number
  maxmemoryPolicy: MaxmemoryPolicy
  maxmemoryAccounting: MaxmemoryAccounting
  maxmemorySamples: number
  maxmemoryEvictionTenacity: number
  lfuLogFactor: number
  lfuDecayTime: number
  hz: number
  activeExpireEffort: number
  activedefrag: boolean
  activeDefragIgnoreBytes: number
  activeDefragThresholdLower: number
  activeDefragThresholdUpper: number
  activeDefragCycleMin: number
  activeDefragCycleMax: number
}

const INT_MAX = 2147483647
/** server.h: CONFIG_MIN_HZ / CONFIG_MAX_HZ. Redis accepts any hz in 0..INT_MAX and clamps it to these. */
const CONFIG_MIN_HZ = 1
const CONFIG_MAX_HZ = 500
const MAX_BYTES = Number.MAX_SAFE_INTEGER
const LLONG_MAX = 9223372036854775807n
const LLONG_MIN = -9223372036854775808n

type NumericField = {
  [K in keyof EngineConfig]: EngineConfig[K] extends number ? K : never
}[keyof EngineConfig]

interface NumberParam {
  readonly kind: 'int' | 'memory'
  readonly name: string
  readonly field: NumericField
  readonly min: number
  readonly max: number
  readonly defaultValue: number
  /** Applied after validation, as Redis's apply callbacks do (hz). */
  readonly adjust?: (value: number) => number
}

interface EnumParam<F extends 'maxmemoryPolicy' | 'maxmemoryAccounting'> {
  readonly kind: 'enum'
  readonly name: string
  readonly field: F
  /** In the order the CONFIG SET error lists them. */
  readonly values: readonly EngineConfig[F][]
  readonly defaultValue: EngineConfig[F]
  /** An option of arenakv's own, not a Redis parameter: CONFIG GET and SET do not know it. */
  readonly optionOnly?: true
}
type PolicyParam = EnumParam<'maxmemoryPolicy'> | EnumParam<'maxmemoryAccounting'>

interface BoolParam {
  readonly kind: 'bool'
  readonly name: string
  readonly field: 'activedefrag'
  readonly defaultValue: boolean
}

type Param = NumberParam | PolicyParam | BoolParam

const clampHz = (hz: number): number => Math.min(CONFIG_MAX_HZ, Math.max(CONFIG_MIN_HZ, hz))

function int(name: string, field: NumericField, min: number, max: number, defaultValue: number): NumberParam {
  return { kind: 'int', name, field, min, max, defaultValue }
}

// Ranges and defaults from Redis's standardConfig table (config.c), in the order CONFIG GET lists them: the one
// table options, CONFIG GET, CONFIG SET and the defaults are read from.
const PARAMS: readonly Param[] = [
  { kind: 'memory', name: 'maxmemory', field: 'maxmemory', min: 0, max: MAX_BYTES, defaultValue: 0 },
  { kind: 'enum', name: 'maxmemory-policy', field: 'maxmemoryPolicy', values: MAXMEMORY_POLICIES, defaultValue: 'noeviction' },
  int('maxmemory-samples', 'maxmemorySamples', 1, 64, 5),
  int('maxmemory-eviction-tenacity', 'maxmemoryEvictionTenacity', 0, 100, 10),
  int('lfu-log-factor', 'lfuLogFactor', 0, INT_MAX, 10),
  int('lfu-decay-time', 'lfuDecayTime', 0, INT_MAX, 1),
  { ...int('hz', 'hz', 0, INT_MAX, 10), adjust: clampHz },
  int('active-expire-effort', 'activeExpireEffort', 1, 10, 1),
  { kind: 'bool', name: 'activedefrag', field: 'activedefrag', defaultValue: false },
  {
    kind: 'enum',
    name: 'maxmemory-accounting',
    field: 'maxmemoryAccounting',
    values: MAXMEMORY_ACCOUNTINGS,
    defaultValue: 'allocated',
    optionOnly: true,
  },
  {
    kind: 'memory',
    name: 'active-defrag-ignore-bytes',
    field: 'activeDefragIgnoreBytes',
    min: 1,
    max: MAX_BYTES,
    defaultValue: 100 * 1024 * 1024,
  },
  int('active-defrag-threshold-lower', 'activeDefragThresholdLower', 0, 1000, 10),
  int('active-defrag-threshold-upper', 'activeDefragThresholdUpper', 0, 1000, 100),
  int('active-defrag-cycle-min', 'activeDefragCycleMin', 1, 99, 1),
  int('active-defrag-cycle-max', 'activeDefragCycleMax', 1, 99, 25),
]

/** The Redis parameters, those CONFIG GET and CONFIG SET know. */
const CONFIG_PARAMS = PARAMS.filter((p) => !(p.kind === 'enum' && p.optionOnly === true))
const BY_NAME = new Map<string, Param>(CONFIG_PARAMS.map((p) => [p.name, p]))
const BY_FIELD = new Map<string, Param>(PARAMS.map((p) => [p.field, p]))

/** The parameter names CONFIG GET and CONFIG SET know, in the order CONFIG GET lists them. */
export const CONFIG_NAMES: readonly string[] = Object.freeze(CONFIG_PARAMS.map((p) => p.name))

function defaults(): EngineConfig {
  return Object.fromEntries(PARAMS.map((p) => [p.field, p.defaultValue])) as unknown as EngineConfig
}

/** Redis 7's defaults, frozen; resolveOptions hands out a fresh copy. */
export const CONFIG_DEFAULTS: Readonly<EngineConfig> = Object.freeze(defaults())

/** Redis's parameter names are matched with strcasecmp: ASCII case only. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase())
}

// memtoull's units (util.c): k/m/g are powers of 1000, kb/mb/gb powers of 1024.
const MEMORY_UNITS: Readonly<Record<string, bigint>> = {
  '': 1n,
  b: 1n,
  k: 1000n,
  kb: 1024n,
  m: 1000n * 1000n,
  mb: 1024n * 1024n,
  g: 1000n * 1000n * 1000n,
  gb: 1024n * 1024n * 1024n,
}
const MEMORY_SYNTAX = /^([0-9]+)([a-z]*)$/i

/** Bytes as a bigint, or undefined when `text` is not a memory value at all. */
function memoryToBigint(text: string): bigint | undefined {
  const m = MEMORY_SYNTAX.exec(text)
  if (m === null) return undefined
  const mul = MEMORY_UNITS[m[2].toLowerCase()]
  if (mul === undefined) return undefined
  return BigInt(m[1]) * mul
}

const MEMORY_HELP = "a whole number of bytes, optionally with a unit: b, k (1000), kb (1024), m, mb, g or gb"

/**
 * A memory size as Redis's memtoull reads it: digits and an optional case-insensitive unit ('64mb',
 * '1gb', '100kb', '5k'), or a number of bytes. No signs, no fractions, no spaces.
 */
export function parseMemory(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > MAX_BYTES) {
      throw new RangeError(`invalid memory value ${value}: expected a whole number of bytes from 0 to ${MAX_BYTES}`)
    }
    return value
  }
  if (typeof value !== 'string') {
    throw new TypeError(`a memory value must be a number of bytes or a string such as '64mb', got ${typeof value}`)
  }
  const bytes = memoryToBigint(value)
  if (bytes === undefined) throw new RangeError(`invalid memory value '${value}': expected ${MEMORY_HELP}`)
  if (bytes > BigInt(MAX_BYTES)) throw new RangeError(`memory value '${value}' is more than ${MAX_BYTES} bytes`)
  return Number(bytes)
}

function optionLabel(p: Param): string {
  return `${p.field} (Redis '${p.name}')`
}

function resolveNumber(p: NumberParam, value: unknown): number {
  let n: number
  if (p.kind === 'memory') {
    if (typeof value !== 'number' && typeof value !== 'string') {
      throw new TypeError(`${optionLabel(p)} must be a number of bytes or a string such as '64mb', got ${typeof value}`)
    }
    try {
      n = parseMemory(value)
    } catch (e) {
      if (e instanceof RangeError) throw new RangeError(`${optionLabel(p)}: ${e.message}`)
      throw e
    }
  } else {
    if (typeof value !== 'number') throw new TypeError(`${optionLabel(p)} must be a number, got ${typeof value}`)
    if (!Number.isInteger(value)) throw new RangeError(`${optionLabel(p)} must be an integer, got ${value}`)
    n = value
  }
  if (n < p.min || n > p.max) {
    throw new RangeError(`${optionLabel(p)} must be between ${p.min} and ${p.max} inclusive, got ${String(value)}`)
  }
  return p.adjust === undefined ? n : p.adjust(n)
}

/** Sets an enum parameter from text (matched in ASCII case, as Redis's enum configs); false when not a value. */
function setEnum(cfg: EngineConfig, p: PolicyParam, text: string): boolean {
  const lower = asciiLower(text)
  if (p.field === 'maxmemoryPolicy') {
    const value = p.values.find((v) => v === lower)
    if (value !== undefined) cfg.maxmemoryPolicy = value
    return value !== undefined
  }
  const value = p.values.find((v) => v === lower)
  if (value !== undefined) cfg.maxmemoryAccounting = value
  return value !== undefined
}

/**
 * The engine's configuration from user options: Redis 7 defaults for what is left out, TypeError for a
 * wrong type or an unknown option, RangeError for a value outside Redis's range. hz is clamped to 1..500
 * after the range check, as Redis clamps it.
 */
export function resolveOptions(opts?: EngineOptions): EngineConfig {
  const cfg = defaults()
  if (opts === undefined) return cfg
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`options must be an object, got ${typeName(opts)}`)
  }
  const unknown = Object.keys(opts).filter((k) => !BY_FIELD.has(k))
  if (unknown.length > 0) {
    throw new TypeError(
      `unknown option${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} ` +
        `(known: ${PARAMS.map((p) => p.field).join(', ')})`,
    )
  }
  const given = opts as Readonly<Record<string, unknown>>
  for (const p of PARAMS) {
    const value = given[p.field]
    if (value === undefined) continue
    switch (p.kind) {
      case 'int':
      case 'memory':
        cfg[p.field] = resolveNumber(p, value)
        break
      case 'enum':
        if (typeof value !== 'string') throw new TypeError(`${optionLabel(p)} must be a string, got ${typeof value}`)
        if (!setEnum(cfg, p, value)) {
          throw new RangeError(`${optionLabel(p)} must be one of ${p.values.join(', ')}; got '${value}'`)
        }
        break
      case 'bool':
        if (typeof value !== 'boolean') throw new TypeError(`${optionLabel(p)} must be a boolean, got ${typeof value}`)
        cfg.activedefrag = value
        break
    }
  }
  return cfg
}

function configSetError(p: Param, reason: string): ArenaKVError {
  return new ArenaKVError('ERR_CONFIG', `CONFIG SET failed (possibly related to argument '${p.name}') - ${reason}`)
}

/** Redis's string2ll: an optional '-', no '+', no spaces, no leading zeros, within 64 bits. */
const STRICT_INTEGER = /^(?:0|-?[1-9][0-9]*)$/

function parseSetNumber(p: NumberParam, text: string): number {
  let big: bigint | undefined
  if (p.kind === 'memory') {
    big = memoryToBigint(text)
    if (big === undefined) throw configSetError(p, 'argument must be a memory value')
  } else {
    if (STRICT_INTEGER.test(text)) big = BigInt(text)
    if (big === undefined || big > LLONG_MAX || big < LLONG_MIN) {
      throw configSetError(p, "argument couldn't be parsed into an integer")
    }
  }
  if (big < BigInt(p.min) || big > BigInt(p.max)) {
    throw configSetError(p, `argument must be between ${p.min} and ${p.max} inclusive`)
  }
  const n = Number(big)
  return p.adjust === undefined ? n : p.adjust(n)
}

/** `typeof`, except that null and arrays say what they are: for messages about an argument of the wrong type. */
function typeName(value: unknown): string {
  if (value === null) return 'null'
  return Array.isArray(value) ? 'array' : typeof value
}

/**
 * The argument checks of CONFIG SET, for configSet and for the engine, which looks the name up (and reads the
 * value as text) before calling configSet: a TypeError naming the argument, before either is used.
 */
export function checkConfigSetArgs(name: unknown, value: unknown): asserts value is string | number {
  if (typeof name !== 'string') throw new TypeError(`name must be a string, got ${typeName(name)}`)
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new TypeError(`value must be a string or a number, got ${typeName(value)}`)
  }
}

/** The EngineConfig field behind a Redis parameter name (any ASCII case), or undefined. */
export function configField(name: string): keyof EngineConfig | undefined {
  if (typeof name !== 'string') throw new TypeError(`name must be a string, got ${typeName(name)}`)
  return BY_NAME.get(asciiLower(name))?.field
}

/**
 * CONFIG SET name value: Redis's parsing, ranges and error replies (ArenaKVError 'ERR_CONFIG'). `cfg` is
 * changed only when the value is valid. Returns the field set, so the engine can react (evict at once when
 * maxmemory goes down, re-time its cycles when hz changes).
 */
export function configSet(cfg: EngineConfig, name: string, value: string | number): keyof EngineConfig {
  checkConfigSetArgs(name, value)
  const p = BY_NAME.get(asciiLower(name))
  if (p === undefined) {
    throw new ArenaKVError('ERR_CONFIG', `Unknown option or number of arguments for CONFIG SET - '${name}'`)
  }
  const text = typeof value === 'number' ? String(value) : value
  switch (p.kind) {
    case 'int':
    case 'memory':
      cfg[p.field] = parseSetNumber(p, text)
      break
    case 'enum':
      if (!setEnum(cfg, p, text)) throw configSetError(p, `argument(s) must be one of the following: ${p.values.join(', ')}`)
      break
    case 'bool': {
      const yn = asciiLower(text)
      if (yn !== 'yes' && yn !== 'no') throw configSetError(p, "argument must be 'yes' or 'no'")
      cfg.activedefrag = yn === 'yes'
      break
    }
  }
  return p.field
}

function formatValue(cfg: EngineConfig, p: Param): string {
  switch (p.kind) {
    case 'int':
    case 'memory':
      return String(cfg[p.field])
    case 'enum':
      return cfg[p.field]
    case 'bool':
      return cfg.activedefrag ? 'yes' : 'no'
  }
}

const GLOB_CHARS = /[[*?]/

/**
 * CONFIG GET pattern: parameters whose Redis name matches the glob (case-insensitive), values as Redis
 * prints them (memory in plain bytes, yes/no, policy names). As in Redis, a name without glob characters
 * is looked up directly and echoed back as it was given ('MAXMEMORY' → { MAXMEMORY: '0' }).
 */
export function configGet(cfg: EngineConfig, pattern: string): Record<string, string> {
  if (typeof pattern !== 'string') throw new TypeError(`pattern must be a string, got ${typeName(pattern)}`)
  const out: Record<string, string> = {}
  if (!GLOB_CHARS.test(pattern)) {
    const p = BY_NAME.get(asciiLower(pattern))
    if (p !== undefined) out[pattern] = formatValue(cfg, p)
    return out
  }
  for (const p of CONFIG_PARAMS) {
    if (globMatch(pattern, p.name, true)) out[p.name] = formatValue(cfg, p)
  }
  return out
}
