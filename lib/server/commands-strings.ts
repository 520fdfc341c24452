// The string commands of the RESP endpoint's table (Engine: t_string*.ts, lcs.ts): Redis's argument parsing and
// reply shapes around one Engine call each. ARCHITECTURE.md "The RESP endpoint".
import type { BitRange, LcsIdx } from '../engine.js'
import type { GetExOptions, SetOptions } from '../t_string.js'
import { bulkOrNil, key, keysFrom, numArg, type Command, type CommandContext } from './command-util.js'
import { ReplyError, SYNTAX, arityError, integerArg, isWord } from './reply-error.js'

/** An expire-time argument of SET / GETEX: Redis's getExpireMillisecondsOrReply checks, before the engine's. */
function expireTimeArg(arg: Buffer, command: string): number {
  const n = integerArg(arg)
  if (typeof n === 'bigint' || n <= 0) throw new ReplyError(`ERR invalid expire time in '${command}' command`)
  return n
}

/** SET's and GETEX's options (Redis's parseExtendedStringArgumentsOrReply); `get` is SET's GET flag. */
function parseStringOptions(argv: Buffer[], start: number, command: 'set' | 'getex'): SetOptions & GetExOptions & { get?: boolean } {
  const o: SetOptions & GetExOptions & { get?: boolean } = {}
  let expire = false
  const isSet = command === 'set'
  for (let i = start; i < argv.length; i++) {
    const a = argv[i]
    const hasNext = i + 1 < argv.length
    if (isSet && isWord(a, 'nx') && o.xx !== true) o.nx = true
    else if (isSet && isWord(a, 'xx') && o.nx !== true) o.xx = true
    else if (isSet && isWord(a, 'get')) o.get = true
    else if (isSet && isWord(a, 'keepttl') && !expire) o.keepttl = expire = true
    else if (!isSet && isWord(a, 'persist') && !expire) o.persist = expire = true
    else if (!expire && o.keepttl !== true && hasNext && isWord(a, 'ex')) (o.ex = expireTimeArg(argv[++i], command)), (expire = true)
    else if (!expire && o.keepttl !== true && hasNext && isWord(a, 'px')) (o.px = expireTimeArg(argv[++i], command)), (expire = true)
    else if (!expire && o.keepttl !== true && hasNext && isWord(a, 'exat')) (o.exat = expireTimeArg(argv[++i], command)), (expire = true)
    else if (!expire && o.keepttl !== true && hasNext && isWord(a, 'pxat')) (o.pxat = expireTimeArg(argv[++i], command)), (expire = true)
    else throw new ReplyError(SYNTAX)
  }
  return o
}

const INT64_MIN = -(2n ** 63n)
const BIT_OFFSET_ERROR = 'ERR bit offset is not an integer or out of range'
/** The largest SETBIT / GETBIT offset: the byte must be within proto-max-bulk-len (512 MB). */
const MAX_BIT_OFFSET = 512 * 1024 * 1024 * 8 - 1

/** Redis's getBitOffsetFromArgument: an integer in 0..2^32 - 1, else its own error text. */
function bitOffsetArg(arg: Buffer): number {
  const n = integerArg(arg, BIT_OFFSET_ERROR)
  if (typeof n === 'bigint' || n < 0 || n > MAX_BIT_OFFSET) throw new ReplyError(BIT_OFFSET_ERROR)
  return n
}

/** BITCOUNT's and BITPOS's trailing BYTE | BIT. */
function unitArg(arg: Buffer): BitRange['unit'] {
  if (isWord(arg, 'byte')) return 'BYTE'
  if (isWord(arg, 'bit')) return 'BIT'
  throw new ReplyError(SYNTAX)
}

/** BITCOUNT key [start end [BYTE | BIT]] as Redis 7.0's bitcountCommand parses it. */
function bitcountRange(argv: Buffer[]): BitRange | undefined {
  if (argv.length === 2) return undefined
  if (argv.length !== 4 && argv.length !== 5) throw new ReplyError(SYNTAX)
  const start = integerArg(argv[2])
  const end = integerArg(argv[3])
  return argv.length === 5 ? { start, end, unit: unitArg(argv[4]) } : { start, end }
}

/** BITPOS key bit [start [end [BYTE | BIT]]] as bitposCommand parses it (the bit first). */
function bitposArgs(argv: Buffer[]): [bit: 0 | 1, range: BitRange | undefined] {
  const bit = integerArg(argv[2])
  if (bit !== 0 && bit !== 1) throw new ReplyError('ERR The bit argument must be 1 or 0.')
  if (argv.length === 3) return [bit, undefined]
  if (argv.length > 6) throw new ReplyError(SYNTAX)
  const range: BitRange = { start: integerArg(argv[3]) }
  if (argv.length >= 5) range.end = integerArg(argv[4])
  if (argv.length === 6) range.unit = unitArg(argv[5])
  return [bit, range]
}

function writeLcsIdx(c: CommandContext, r: LcsIdx): void {
  const w = c.w
  w.map(2)
  w.bulkString('matches')
  w.array(r.matches.length)
  for (const m of r.matches) {
    w.array(m.length)
    for (let i = 0; i < 2; i++) {
      const range = m[i] as [number, number]
      w.array(2)
      w.integer(range[0])
      w.integer(range[1])
    }
    if (m.length === 3) w.integer(m[2])
  }
  w.bulkString('len')
  w.integer(r.len)
}

/** LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] (lcsCommand's option loop). */
function lcs(c: CommandContext, argv: Buffer[]): void {
  let len = false
  let idx = false
  let withmatchlen = false
  let minmatchlen: number | bigint = 0
  for (let j = 3; j < argv.length; j++) {
    const a = argv[j]
    if (isWord(a, 'idx')) idx = true
    else if (isWord(a, 'len')) len = true
    else if (isWord(a, 'withmatchlen')) withmatchlen = true
    else if (isWord(a, 'minmatchlen') && j + 1 < argv.length) minmatchlen = integerArg(argv[++j])
    else throw new ReplyError(SYNTAX)
  }
  if (len && idx) throw new ReplyError('ERR If you want both the length and indexes, please just use IDX.')
  const k1 = key(argv[1])
  const k2 = key(argv[2])
  if (idx) writeLcsIdx(c, c.engine.lcs(k1, k2, { idx: true, minmatchlen, withmatchlen }))
  else if (len) c.w.integer(c.engine.lcs(k1, k2, { len: true }))
  else c.w.bulk(c.engine.lcs(k1, k2))
}

const W = '@write @string @fast'
const WS = '@write @string @slow'
const RS = '@read @string @slow'
const ONE = { first: 1, last: 1, step: 1 } as const

export const STRING_COMMANDS: readonly Command[] = [
  { name: 'get', arity: 2, flags: 'readonly fast', acl: '@read @string @fast', keys: { first: 1, last: 1, step: 1, flags: 'RO access' },
    group: 'string', since: '1.0.0', summary: 'Get the value of a key', complexity: 'O(1)', syntax: 'key',
    run: (c, argv) => bulkOrNil(c.w, c.engine.get(key(argv[1]))) },
  { name: 'set', arity: -3, flags: 'write denyoom', acl: '@write @string @slow', keys: { first: 1, last: 1, step: 1, flags: 'RW access update variable_flags' },
    group: 'string', since: '1.0.0', summary: 'Set the string value of a key', complexity: 'O(1)',
    syntax: 'key value [NX | XX] [GET] [EX seconds:integer | PX milliseconds:integer | EXAT unix-time-seconds:unix-time | PXAT unix-time-milliseconds:unix-time | KEEPTTL]',
    run: (c, argv) => {
      const { get, ...opts } = parseStringOptions(argv, 3, 'set')
      const k = key(argv[1])
      // SET … GET is one engine command (setGet): the old value, the write as NX / XX allow.
      if (get === true) bulkOrNil(c.w, c.engine.setGet(k, argv[2], opts))
      else if (c.engine.set(k, argv[2], opts)) c.w.ok()
      else c.w.nil()
    } },
  { name: 'mget', arity: -2, flags: 'readonly fast', acl: '@read @string @fast', keys: { first: 1, last: -1, step: 1, flags: 'RO access' },
    tips: 'request_policy:multi_shard', group: 'string', since: '1.0.0', summary: 'Get the values of all the given keys', complexity: 'O(N) where N is the number of keys to retrieve.', syntax: 'key...',
    run: (c, argv) => {
      const values = c.engine.mget(keysFrom(argv, 1))
      c.w.array(values.length)
      for (const v of values) bulkOrNil(c.w, v)
    } },
  { name: 'mset', arity: -3, flags: 'write denyoom', acl: '@write @string @slow', keys: { first: 1, last: -1, step: 2, flags: 'OW update' },
    tips: 'request_policy:multi_shard response_policy:all_succeeded', group: 'string', since: '1.0.1', summary: 'Set multiple keys to multiple values',
    complexity: 'O(N) where N is the number of keys to set.', syntax: '(key value)...',
    run: (c, argv) => {
      if (argv.length % 2 === 0) throw arityError('mset')
      const entries: [string, Buffer][] = []
      for (let i = 1; i < argv.length; i += 2) entries.push([key(argv[i]), argv[i + 1]])
      c.engine.mset(entries)
      c.w.ok()
    } },
  { name: 'getdel', arity: 2, flags: 'write fast', acl: '@write @string @fast', keys: { first: 1, last: 1, step: 1, flags: 'RW access delete' },
    group: 'string', since: '6.2.0', summary: 'Get the value of a key and delete the key', complexity: 'O(1)', syntax: 'key',
    run: (c, argv) => bulkOrNil(c.w, c.engine.getdel(key(argv[1]))) },
  { name: 'getex', arity: -2, flags: 'write fast', acl: '@write @string @fast', keys: { first: 1, last: 1, step: 1, flags: 'RW access update' },
    group: 'string', since: '6.2.0', summary: 'Get the value of a key and optionally set its expiration', complexity: 'O(1)',
    syntax: 'key [EX seconds:integer | PX milliseconds:integer | EXAT unix-time-seconds:unix-time | PXAT unix-time-milliseconds:unix-time | PERSIST]',
    run: (c, argv) => bulkOrNil(c.w, c.engine.getex(key(argv[1]), parseStringOptions(argv, 2, 'getex'))) },
  { name: 'setex', arity: 4, flags: 'write denyoom', acl: WS, keys: { ...ONE, flags: 'OW update' },
    group: 'string', since: '2.0.0', summary: 'Set the value and expiration of a key', complexity: 'O(1)', syntax: 'key seconds:integer value',
    run: (c, argv) => { c.engine.setex(key(argv[1]), integerArg(argv[2]), argv[3]); c.w.ok() } },
  { name: 'psetex', arity: 4, flags: 'write denyoom', acl: WS, keys: { ...ONE, flags: 'OW update' },
    group: 'string', since: '2.6.0', summary: 'Set the value and expiration in milliseconds of a key', complexity: 'O(1)', syntax: 'key milliseconds:integer value',
    run: (c, argv) => { c.engine.psetex(key(argv[1]), integerArg(argv[2]), argv[3]); c.w.ok() } },
  { name: 'setnx', arity: 3, flags: 'write denyoom fast', acl: W, keys: { ...ONE, flags: 'OW insert' },
    group: 'string', since: '1.0.0', summary: 'Set the value of a key, only if the key does not exist', complexity: 'O(1)', syntax: 'key value',
    run: (c, argv) => c.w.integer(c.engine.setnx(key(argv[1]), argv[2]) ? 1 : 0) },
  { name: 'getset', arity: 3, flags: 'write denyoom fast', acl: W, keys: { ...ONE, flags: 'RW access update' },
    group: 'string', since: '1.0.0', summary: 'Set the string value of a key and return its old value', complexity: 'O(1)', syntax: 'key value',
    run: (c, argv) => bulkOrNil(c.w, c.engine.getset(key(argv[1]), argv[2])) },
  { name: 'msetnx', arity: -3, flags: 'write denyoom', acl: WS, keys: { first: 1, last: -1, step: 2, flags: 'OW insert' },
    tips: 'request_policy:multi_shard response_policy:agg_min', group: 'string', since: '1.0.1', summary: 'Set multiple keys to multiple values, only if none of the keys exist',
    complexity: 'O(N) where N is the number of keys to set.', syntax: '(key value)...',
    run: (c, argv) => {
      if (argv.length % 2 === 0) throw arityError('msetnx')
      const entries: [string, Buffer][] = []
      for (let i = 1; i < argv.length; i += 2) entries.push([key(argv[i]), argv[i + 1]])
      c.w.integer(c.engine.msetnx(entries) ? 1 : 0)
    } },
  { name: 'append', arity: 3, flags: 'write denyoom fast', acl: W, keys: { ...ONE, flags: 'RW insert' },
    group: 'string', since: '2.0.0', summary: 'Append a value to a key', complexity: 'O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.',
    syntax: 'key value',
    run: (c, argv) => c.w.integer(c.engine.append(key(argv[1]), argv[2])) },
  { name: 'strlen', arity: 2, flags: 'readonly fast', acl: '@read @string @fast', keys: { ...ONE, flags: 'RO' },
    group: 'string', since: '2.2.0', summary: 'Get the length of the value stored in a key', complexity: 'O(1)', syntax: 'key',
    run: (c, argv) => c.w.integer(c.engine.strlen(key(argv[1]))) },
  { name: 'getrange', arity: 4, flags: 'readonly', acl: RS, keys: { ...ONE, flags: 'RO access' },
    group: 'string', since: '2.4.0', summary: 'Get a substring of the string stored at a key',
    complexity: 'O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.',
    syntax: 'key start:integer end:integer',
    run: (c, argv) => c.w.bulk(c.engine.getrange(key(argv[1]), integerArg(argv[2]), integerArg(argv[3]))) },
  { name: 'setrange', arity: 4, flags: 'write denyoom', acl: WS, keys: { ...ONE, flags: 'RW update' },
    group: 'string', since: '2.2.0', summary: 'Overwrite part of a string at key starting at the specified offset',
    complexity: 'O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.',
    syntax: 'key offset:integer value',
    run: (c, argv) => c.w.integer(c.engine.setrange(key(argv[1]), integerArg(argv[2]), argv[3])) },
  // The INCR family replies exact int64s: incrbyBig works in bigint over the whole range.
  { name: 'incr', arity: 2, flags: 'write denyoom fast', acl: W, keys: { ...ONE, flags: 'RW access update' },
    group: 'string', since: '1.0.0', summary: 'Increment the integer value of a key by one', complexity: 'O(1)', syntax: 'key',
    run: (c, argv) => c.w.integer(c.engine.incrbyBig(key(argv[1]), 1)) },
  { name: 'decr', arity: 2, flags: 'write denyoom fast', acl: W, keys: { ...ONE, flags: 'RW access update' },
    group: 'string', since: '1.0.0', summary: 'Decrement the integer value of a key by one', complexity: 'O(1)', syntax: 'key',
    run: (c, argv) => c.w.integer(c.engine.incrbyBig(key(argv[1]), -1)) },
  { name: 'incrby', arity: 3, flags: 'write denyoom fast', acl: W, keys: { ...ONE, flags: 'RW access update' },
    group: 'string', since: '1.0.0', summary: 'Increment the integer value of a key by the given amount', complexity: 'O(1)', syntax: 'key increment:integer',
    run: (c, argv) => c.w.integer(c.engine.incrbyBig(key(argv[1]), integerArg(argv[2]))) },
  { name: 'decrby', arity: 3, flags: 'write denyoom fast', acl: W, keys: { ...ONE, flags: 'RW access update' },
    group: 'string', since: '1.0.0', summary: 'Decrement the integer value of a key by the given number', complexity: 'O(1)', syntax: 'key decrement:integer',
    run: (c, argv) => {
      const n = BigInt(integerArg(argv[2]))
      // decrbyCommand: -INT64_MIN does not exist.
      if (n === INT64_MIN) throw new ReplyError('ERR decrement would overflow')
      c.w.integer(c.engine.incrbyBig(key(argv[1]), -n))
    } },
  { name: 'incrbyfloat', arity: 3, flags: 'write denyoom fast', acl: W, keys: { ...ONE, flags: 'RW access update' },
    group: 'string', since: '2.6.0', summary: 'Increment the float value of a key by the given amount', complexity: 'O(1)', syntax: 'key increment:double',
    run: (c, argv) => c.w.bulkString(c.engine.incrbyfloat(key(argv[1]), numArg(argv[2]))) },
  { name: 'setbit', arity: 4, flags: 'write denyoom', acl: '@write @bitmap @slow', keys: { ...ONE, flags: 'RW access update' },
    group: 'bitmap', since: '2.2.0', summary: 'Sets or clears the bit at offset in the string value stored at key', complexity: 'O(1)', syntax: 'key offset:integer value:integer',
    run: (c, argv) => {
      const offset = bitOffsetArg(argv[2])
      const v = argv[3]
      // setbitCommand: getLongFromObjectOrReply with its own text, then only 0 or 1.
      if (v.length !== 1 || (v[0] !== 48 && v[0] !== 49)) throw new ReplyError('ERR bit is not an integer or out of range')
      c.w.integer(c.engine.setbit(key(argv[1]), offset, v[0] === 49 ? 1 : 0))
    } },
  { name: 'getbit', arity: 3, flags: 'readonly fast', acl: '@read @bitmap @fast', keys: { ...ONE, flags: 'RO access' },
    group: 'bitmap', since: '2.2.0', summary: 'Returns the bit value at offset in the string value stored at key', complexity: 'O(1)', syntax: 'key offset:integer',
    run: (c, argv) => c.w.integer(c.engine.getbit(key(argv[1]), bitOffsetArg(argv[2]))) },
  { name: 'bitcount', arity: -2, flags: 'readonly', acl: '@read @bitmap @slow', keys: { ...ONE, flags: 'RO access' },
    group: 'bitmap', since: '2.6.0', summary: 'Count set bits in a string', complexity: 'O(N)', syntax: 'key [start:integer end:integer [BYTE | BIT]]',
    run: (c, argv) => c.w.integer(c.engine.bitcount(key(argv[1]), bitcountRange(argv))) },
  { name: 'bitpos', arity: -3, flags: 'readonly', acl: '@read @bitmap @slow', keys: { ...ONE, flags: 'RO access' },
    group: 'bitmap', since: '2.8.7', summary: 'Find first bit set or clear in a string', complexity: 'O(N)', syntax: 'key bit:integer [start:integer [end:integer [BYTE | BIT]]]',
    run: (c, argv) => {
      const [bit, range] = bitposArgs(argv)
      c.w.integer(c.engine.bitpos(key(argv[1]), bit, range))
    } },
  { name: 'lcs', arity: -3, flags: 'readonly', acl: RS, keys: { first: 1, last: 2, step: 1, flags: 'RO access' },
    group: 'string', since: '7.0.0', summary: 'Find longest common substring', complexity: 'O(N*M) where N and M are the lengths of s1 and s2, respectively',
    syntax: 'key1:key key2:key [LEN] [IDX] [MINMATCHLEN len:integer] [WITHMATCHLEN]',
    run: lcs },
]
