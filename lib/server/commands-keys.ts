// The generic key commands of the RESP endpoint's table (Engine: db.ts, keys.ts, expire.ts, object.ts): DEL /
// EXISTS / SCAN, KEYS / RENAME / COPY / TYPE, the expire family and OBJECT. ARCHITECTURE.md "The RESP endpoint".
import { parseExpireFlags, type ExpireFlag } from '../expire.js'
import { S, helpReply, key, keysFrom, writeKey, type Command } from './command-util.js'
import { decodeKey } from './keys.js'
import { ReplyError, SYNTAX, integerArg, isWord, safeIntegerArg } from './reply-error.js'

/** EXPIRE's optional flags, checked before its time as Redis does (parseExtendedExpireArgumentsOrReply). */
function expireFlagsArg(argv: Buffer[]): ExpireFlag[] | undefined {
  if (argv.length <= 3) return undefined
  const flags = argv.slice(3).map((a) => a.toString('latin1') as ExpireFlag)
  try {
    parseExpireFlags(flags)
  } catch (error) {
    throw new ReplyError(`ERR ${(error as Error).message}`)
  }
  return flags
}

function expireCommand(method: 'expire' | 'pexpire' | 'expireat' | 'pexpireat'): Command['run'] {
  return (c, argv) => {
    const flags = expireFlagsArg(argv)
    // Any int64 (a bigint beyond 2^53): the engine checks the deadline as Redis does.
    const when = integerArg(argv[2])
    c.w.integer(c.engine[method](key(argv[1]), when, flags) ? 1 : 0)
  }
}

const OBJECT: Command = {
  name: 'object', arity: -2, flags: '', acl: S, group: 'generic', since: '2.2.3', summary: 'A container for object introspection commands',
  complexity: 'Depends on subcommand.',
  subcommands: [
    { name: 'object|encoding', arity: 3, flags: 'readonly', acl: '@keyspace @read @slow', tips: 'nondeterministic_output', keys: { first: 2, last: 2, step: 1, flags: 'RO' },
      group: 'generic', since: '2.2.3', summary: 'Inspect the internal encoding of a Redis object', complexity: 'O(1)', syntax: 'key',
      run: (c, argv) => { const v = c.engine.objectEncoding(key(argv[2])); if (v === undefined) c.w.nil(); else c.w.bulkString(v) } },
    { name: 'object|freq', arity: 3, flags: 'readonly', acl: '@keyspace @read @slow', tips: 'nondeterministic_output', keys: { first: 2, last: 2, step: 1, flags: 'RO' },
      group: 'generic', since: '4.0.0', summary: 'Get the logarithmic access frequency counter of a Redis object', complexity: 'O(1)', syntax: 'key',
      run: (c, argv) => { const v = c.engine.objectFreq(key(argv[2])); if (v === undefined) c.w.nil(); else c.w.integer(v) } },
    { name: 'object|idletime', arity: 3, flags: 'readonly', acl: '@keyspace @read @slow', tips: 'nondeterministic_output', keys: { first: 2, last: 2, step: 1, flags: 'RO' },
      group: 'generic', since: '2.2.3', summary: 'Get the time since a Redis object was last accessed', complexity: 'O(1)', syntax: 'key',
      run: (c, argv) => { const v = c.engine.objectIdletime(key(argv[2])); if (v === undefined) c.w.nil(); else c.w.integer(v) } },
    { name: 'object|help', arity: 2, flags: 'loading stale', acl: '@keyspace @slow', group: 'generic', since: '6.2.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)',
      run: (c) => helpReply(c, 'OBJECT', ['ENCODING <key>', '    Return the kind of internal representation used in order to store the value', '    associated with a <key>.', 'FREQ <key>', '    Return the access frequency index of the key <key>.', 'IDLETIME <key>', '    Return the idle time of the key <key>.']) },
  ],
}

const KS = '@keyspace @write @slow'

export const KEY_COMMANDS: readonly Command[] = [
  { name: 'del', arity: -2, flags: 'write', acl: '@keyspace @write @slow', keys: { first: 1, last: -1, step: 1, flags: 'RM delete' },
    tips: 'request_policy:multi_shard response_policy:agg_sum', group: 'generic', since: '1.0.0', summary: 'Delete a key',
    complexity: 'O(N) where N is the number of keys that will be removed.', syntax: 'key...',
    run: (c, argv) => c.w.integer(c.engine.del(...keysFrom(argv, 1))) },
  { name: 'unlink', arity: -2, flags: 'write fast', acl: '@keyspace @write @fast', keys: { first: 1, last: -1, step: 1, flags: 'RM delete' },
    tips: 'request_policy:multi_shard response_policy:agg_sum', group: 'generic', since: '4.0.0', summary: 'Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.',
    complexity: 'O(1) for each key removed regardless of its size.', syntax: 'key...',
    run: (c, argv) => c.w.integer(c.engine.unlink(...keysFrom(argv, 1))) },
  { name: 'exists', arity: -2, flags: 'readonly fast', acl: '@keyspace @read @fast', keys: { first: 1, last: -1, step: 1, flags: 'RO' },
    tips: 'request_policy:multi_shard response_policy:agg_sum', group: 'generic', since: '1.0.0', summary: 'Determine if a key exists',
    complexity: 'O(N) where N is the number of keys to check.', syntax: 'key...',
    run: (c, argv) => c.w.integer(c.engine.exists(...keysFrom(argv, 1))) },
  { name: 'touch', arity: -2, flags: 'readonly fast', acl: '@keyspace @read @fast', keys: { first: 1, last: -1, step: 1, flags: 'RO' },
    tips: 'request_policy:multi_shard response_policy:agg_sum', group: 'generic', since: '3.2.1', summary: 'Alters the last access time of a key(s). Returns the number of existing keys specified.',
    complexity: 'O(N) where N is the number of keys that will be touched.', syntax: 'key...',
    run: (c, argv) => c.w.integer(c.engine.touch(...keysFrom(argv, 1))) },
  { name: 'scan', arity: -2, flags: 'readonly', acl: '@keyspace @read @slow', tips: 'nondeterministic_output request_policy:special',
    group: 'generic', since: '2.8.0', summary: 'Incrementally iterate the keys space',
    complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.',
    syntax: 'cursor:integer [MATCH pattern] [COUNT count:integer] [TYPE type]',
    run: (c, argv) => {
      const cursor = integerArg(argv[1], 'ERR invalid cursor')
      let match: string | undefined
      let count: number | undefined
      let type: string | undefined
      for (let i = 2; i < argv.length; i++) {
        if (i + 1 >= argv.length) throw new ReplyError(SYNTAX)
        if (isWord(argv[i], 'count')) {
          count = safeIntegerArg(argv[++i])
          if (count < 1) throw new ReplyError(SYNTAX)
        } else if (isWord(argv[i], 'match')) {
          match = decodeKey(argv[++i])
        } else if (isWord(argv[i], 'type')) {
          type = argv[++i].toString('latin1')
        } else {
          throw new ReplyError(SYNTAX)
        }
      }
      // Redis reads the cursor with strtoul (a negative one wraps); the engine's table cursor is 32-bit.
      const start = Number(BigInt.asUintN(32, BigInt(cursor)))
      const [next, keys] = c.engine.scan(start, { match, count, type })
      c.w.array(2)
      c.w.bulkString(String(next))
      c.w.array(keys.length)
      for (const k of keys) writeKey(c.w, k)
    } },
  // expiry (Engine: expire.ts)
  { name: 'expire', arity: -3, flags: 'write fast', acl: '@keyspace @write @fast', keys: { first: 1, last: 1, step: 1, flags: 'RW update' },
    group: 'generic', since: '1.0.0', summary: "Set a key's time to live in seconds", complexity: 'O(1)', syntax: 'key seconds:integer [NX | XX | GT | LT]',
    run: expireCommand('expire') },
  { name: 'pexpire', arity: -3, flags: 'write fast', acl: '@keyspace @write @fast', keys: { first: 1, last: 1, step: 1, flags: 'RW update' },
    group: 'generic', since: '2.6.0', summary: "Set a key's time to live in milliseconds", complexity: 'O(1)', syntax: 'key milliseconds:integer [NX | XX | GT | LT]',
    run: expireCommand('pexpire') },
  { name: 'expireat', arity: -3, flags: 'write fast', acl: '@keyspace @write @fast', keys: { first: 1, last: 1, step: 1, flags: 'RW update' },
    group: 'generic', since: '1.2.0', summary: 'Set the expiration for a key as a UNIX timestamp', complexity: 'O(1)', syntax: 'key unix-time-seconds:unix-time [NX | XX | GT | LT]',
    run: expireCommand('expireat') },
  { name: 'pexpireat', arity: -3, flags: 'write fast', acl: '@keyspace @write @fast', keys: { first: 1, last: 1, step: 1, flags: 'RW update' },
    group: 'generic', since: '2.6.0', summary: 'Set the expiration for a key as a UNIX timestamp specified in milliseconds', complexity: 'O(1)',
    syntax: 'key unix-time-milliseconds:unix-time [NX | XX | GT | LT]',
    run: expireCommand('pexpireat') },
  { name: 'ttl', arity: 2, flags: 'readonly fast', acl: '@keyspace @read @fast', keys: { first: 1, last: 1, step: 1, flags: 'RO access' }, tips: 'nondeterministic_output',
    group: 'generic', since: '1.0.0', summary: 'Get the time to live for a key in seconds', complexity: 'O(1)', syntax: 'key',
    run: (c, argv) => c.w.integer(c.engine.ttl(key(argv[1]))) },
  { name: 'pttl', arity: 2, flags: 'readonly fast', acl: '@keyspace @read @fast', keys: { first: 1, last: 1, step: 1, flags: 'RO access' }, tips: 'nondeterministic_output',
    group: 'generic', since: '2.6.0', summary: 'Get the time to live for a key in milliseconds', complexity: 'O(1)', syntax: 'key',
    run: (c, argv) => c.w.integer(c.engine.pttl(key(argv[1]))) },
  { name: 'expiretime', arity: 2, flags: 'readonly fast', acl: '@keyspace @read @fast', keys: { first: 1, last: 1, step: 1, flags: 'RO access' },
    group: 'generic', since: '7.0.0', summary: 'Get the expiration Unix timestamp for a key', complexity: 'O(1)', syntax: 'key',
    run: (c, argv) => c.w.integer(c.engine.expiretime(key(argv[1]))) },
  { name: 'pexpiretime', arity: 2, flags: 'readonly fast', acl: '@keyspace @read @fast', keys: { first: 1, last: 1, step: 1, flags: 'RO access' },
    group: 'generic', since: '7.0.0', summary: 'Get the expiration Unix timestamp for a key in milliseconds', complexity: 'O(1)', syntax: 'key',
    run: (c, argv) => c.w.integer(c.engine.pexpiretime(key(argv[1]))) },
  { name: 'persist', arity: 2, flags: 'write fast', acl: '@keyspace @write @fast', keys: { first: 1, last: 1, step: 1, flags: 'RW update' },
    group: 'generic', since: '2.2.0', summary: 'Remove the expiration from a key', complexity: 'O(1)', syntax: 'key',
    run: (c, argv) => c.w.integer(c.engine.persist(key(argv[1])) ? 1 : 0) },
  { name: 'keys', arity: 2, flags: 'readonly', acl: '@keyspace @read @slow @dangerous', tips: 'request_policy:all_shards nondeterministic_output_order',
    group: 'generic', since: '1.0.0', summary: 'Find all keys matching the given pattern',
    complexity: 'O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.',
    syntax: 'pattern:pattern',
    run: (c, argv) => {
      const keys = c.engine.keys(decodeKey(argv[1]))
      c.w.array(keys.length)
      for (const k of keys) writeKey(c.w, k)
    } },
  { name: 'rename', arity: 3, flags: 'write', acl: KS, keys: { first: 1, last: 2, step: 1, flags: '', specs: ['RW access delete', 'OW update'] },
    group: 'generic', since: '1.0.0', summary: 'Rename a key', complexity: 'O(1)', syntax: 'key newkey:key@1',
    run: (c, argv) => { c.engine.rename(key(argv[1]), key(argv[2])); c.w.ok() } },
  { name: 'renamenx', arity: 3, flags: 'write fast', acl: '@keyspace @write @fast', keys: { first: 1, last: 2, step: 1, flags: '', specs: ['RW access delete', 'OW insert'] },
    group: 'generic', since: '1.0.0', summary: 'Rename a key, only if the new key does not exist', complexity: 'O(1)', syntax: 'key newkey:key@1',
    run: (c, argv) => c.w.integer(c.engine.renamenx(key(argv[1]), key(argv[2])) ? 1 : 0) },
  { name: 'copy', arity: -3, flags: 'write denyoom', acl: KS, keys: { first: 1, last: 2, step: 1, flags: '', specs: ['RO access', 'OW update'] },
    group: 'generic', since: '6.2.0', summary: 'Copy a key', complexity: 'O(N) worst case for collections, where N is the number of nested items. O(1) for string values.',
    syntax: 'source:key destination:key@1 [DB destination-db:integer] [REPLACE]',
    run: (c, argv) => {
      let replace = false
      let db: number | undefined
      // copyCommand's option loop; then the database (this engine has db 0 only) and the same-key check.
      for (let j = 3; j < argv.length; j++) {
        if (isWord(argv[j], 'replace')) replace = true
        else if (isWord(argv[j], 'db') && j + 1 < argv.length) db = safeIntegerArg(argv[++j])
        else throw new ReplyError(SYNTAX)
      }
      if (db !== undefined && db !== 0) throw new ReplyError('ERR DB index is out of range')
      c.w.integer(c.engine.copy(key(argv[1]), key(argv[2]), { replace }) ? 1 : 0)
    } },
  { name: 'randomkey', arity: 1, flags: 'readonly', acl: '@keyspace @read @slow', tips: 'request_policy:all_shards nondeterministic_output',
    group: 'generic', since: '1.0.0', summary: 'Return a random key from the keyspace', complexity: 'O(1)',
    run: (c) => { const k = c.engine.randomkey(); if (k === undefined) c.w.nil(); else writeKey(c.w, k) } },
  { name: 'type', arity: 2, flags: 'readonly fast', acl: '@keyspace @read @fast', keys: { first: 1, last: 1, step: 1, flags: 'RO' },
    group: 'generic', since: '1.0.0', summary: 'Determine the type stored at key', complexity: 'O(1)', syntax: 'key',
    run: (c, argv) => c.w.simple(c.engine.type(key(argv[1]))) },
  OBJECT,
]
