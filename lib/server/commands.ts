// The RESP endpoint's command table: one entry per command, mapping its name to Engine calls, with Redis's
// arity, flags, key positions and docs (COMMAND reads them); and `dispatch`, Redis's processCommand checks
// (existence, arity, authentication) before a command runs. ARCHITECTURE.md "The RESP endpoint".
import type { Engine } from '../engine.js'
import { parseExpireFlags, type ExpireFlag } from '../expire.js'
import { globMatch } from '../glob.js'
import type { GetExOptions, SetOptions } from '../t_string.js'
import { writeCommandDocs, writeCommandInfo, type CommandMeta } from './command-docs.js'
import { decodeKey, encodeKey } from './keys.js'
import {
  NOAUTH,
  NOT_INTEGER,
  ReplyError,
  SYNTAX,
  WRONGPASS,
  arityError,
  integerArg,
  isWord,
  lowerArg,
  safeIntegerArg,
  unknownCommandError,
  unknownSubcommandError,
} from './reply-error.js'
import type { RespWriter } from './resp.js'

/** The protocol level the endpoint speaks: HELLO and INFO report it so clients pick the matching features. */
export const REDIS_VERSION = '7.0.15'

/** A connected client as commands see it (connection.ts implements it). */
export interface ClientView {
  readonly id: number
  name: string
  libName: string
  libVer: string
  resp: 2 | 3
  authenticated: boolean
  /** The full name of the command running or last run (CLIENT LIST's `cmd=`). */
  command: string
  /** Set by QUIT: the connection closes once this batch's replies are written. */
  closeAfterReply: boolean
  /** The CLIENT LIST / CLIENT INFO line, without its newline. */
  infoLine(): string
}

/** The listener as commands see it (server.ts implements it). */
export interface ServerView {
  readonly requirepass: string | undefined
  clients(): Iterable<ClientView>
}

export interface CommandContext {
  readonly engine: Engine
  readonly client: ClientView
  readonly server: ServerView
  readonly w: RespWriter
}

export interface Command extends CommandMeta {
  readonly run?: (c: CommandContext, argv: Buffer[]) => void
  readonly subcommands?: readonly Command[]
}

// ---- argument helpers ----

const key = decodeKey

function keysFrom(argv: Buffer[], start: number): string[] {
  const out = new Array<string>(argv.length - start)
  for (let i = start; i < argv.length; i++) out[i - start] = decodeKey(argv[i])
  return out
}

function bulkOrNil(w: RespWriter, value: Uint8Array | undefined): void {
  if (value === undefined) w.nil()
  else w.bulk(value)
}

function writeKey(w: RespWriter, k: string): void {
  w.bulk(encodeKey(k))
}

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
    const when = safeIntegerArg(argv[2], NOT_INTEGER, `ERR invalid expire time in '${method}' command`)
    c.w.integer(c.engine[method](key(argv[1]), when, flags) ? 1 : 0)
  }
}

/** MEMORY STATS fields Redis replies as doubles (addReplyDouble); the rest are integers. */
function isDoubleStat(name: string): boolean {
  return name.endsWith('percentage') || name.endsWith('ratio') || name === 'fragmentation'
}

function writeStats(w: RespWriter, stats: Record<string, number | Record<string, number>>): void {
  const entries = Object.entries(stats)
  w.map(entries.length)
  for (const [name, value] of entries) {
    w.bulkString(name)
    if (typeof value === 'object') writeStats(w, value)
    else if (isDoubleStat(name) || !Number.isInteger(value)) w.double(value)
    else w.integer(value)
  }
}

/** Redis's clientSetNameOrReply check: printable ASCII without spaces. */
function checkClientName(arg: Buffer, what: string): string {
  for (const c of arg) {
    if (c < 33 || c > 126) throw new ReplyError(`ERR ${what} cannot contain spaces, newlines or special characters.`)
  }
  return arg.toString('latin1')
}

/** INFO sections the endpoint adds to the engine's (the engine does not know its clients). */
function clientsSection(c: CommandContext): string {
  let connected = 0
  for (const _ of c.server.clients()) connected++
  return `# Clients\r\nconnected_clients:${connected}\r\nblocked_clients:0\r\ntracking_clients:0\r\n`
}

/** INFO [section …]: the engine's sections, with the endpoint's Clients section and `redis_version` added. */
function infoText(c: CommandContext, argv: Buffer[]): string {
  const asked = argv.length > 1 ? [...new Set(argv.slice(1).map(lowerArg))] : ['default']
  const withVersion = (text: string): string => text.replace('# Server\r\n', `# Server\r\nredis_version:${REDIS_VERSION}\r\n`)
  const all = asked.find((s) => s === 'default' || s === 'all' || s === 'everything')
  if (all !== undefined) {
    // Every section the engine has, with Clients after Server as Redis orders them (sections are separated by an
    // empty line).
    const text = withVersion(c.engine.info(all))
    const end = text.startsWith('# Server') ? text.indexOf('\r\n\r\n# ') : -1
    return end < 0 ? `${clientsSection(c)}\r\n${text}` : `${text.slice(0, end + 2)}\r\n${clientsSection(c)}${text.slice(end + 2)}`
  }
  const parts: string[] = []
  for (const s of asked) {
    const text = s === 'clients' ? clientsSection(c) : c.engine.info(s)
    if (text !== '') parts.push(s === 'server' ? withVersion(text) : text)
  }
  return parts.join('\r\n')
}

function helpReply(c: CommandContext, container: string, lines: readonly string[]): void {
  const all = [`${container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`, ...lines, 'HELP', '    Print this help.']
  c.w.array(all.length)
  for (const l of all) c.w.simple(l)
}

function helloReply(c: CommandContext): void {
  const w = c.w
  w.map(7)
  w.bulkString('server')
  w.bulkString('redis')
  w.bulkString('version')
  w.bulkString(REDIS_VERSION)
  w.bulkString('proto')
  w.integer(c.client.resp)
  w.bulkString('id')
  w.integer(c.client.id)
  w.bulkString('mode')
  w.bulkString('standalone')
  w.bulkString('role')
  w.bulkString('master')
  w.bulkString('modules')
  w.array(0)
}

/** Redis's ACLAuthenticateUser for the default user, with `requirepass` as its only password. */
function authenticate(c: CommandContext, user: Buffer | undefined, pass: Buffer): void {
  const required = c.server.requirepass
  const userOk = user === undefined || user.toString('latin1') === 'default'
  if (userOk && (required === undefined || pass.toString('utf8') === required)) {
    c.client.authenticated = true
    return
  }
  throw new ReplyError(WRONGPASS)
}

const S = '@slow'
const CONN = '@slow @connection'

// ---- the table: one entry per command ----

const OBJECT: Command = {
  name: 'object', arity: -2, flags: '', acl: S, group: 'generic', since: '2.2.3', summary: 'A container for object introspection commands',
  complexity: 'Depends on subcommand.',
  subcommands: [
    { name: 'object|freq', arity: 3, flags: 'readonly', acl: '@keyspace @read @slow', tips: 'nondeterministic_output', keys: { first: 2, last: 2, step: 1, flags: 'RO' },
      group: 'generic', since: '4.0.0', summary: 'Get the logarithmic access frequency counter of a Redis object', complexity: 'O(1)', syntax: 'key',
      run: (c, argv) => { const v = c.engine.objectFreq(key(argv[2])); if (v === undefined) c.w.nil(); else c.w.integer(v) } },
    { name: 'object|idletime', arity: 3, flags: 'readonly', acl: '@keyspace @read @slow', tips: 'nondeterministic_output', keys: { first: 2, last: 2, step: 1, flags: 'RO' },
      group: 'generic', since: '2.2.3', summary: 'Get the time since a Redis object was last accessed', complexity: 'O(1)', syntax: 'key',
      run: (c, argv) => { const v = c.engine.objectIdletime(key(argv[2])); if (v === undefined) c.w.nil(); else c.w.integer(v) } },
    { name: 'object|help', arity: 2, flags: 'loading stale', acl: '@keyspace @slow', group: 'generic', since: '6.2.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)',
      run: (c) => helpReply(c, 'OBJECT', ['FREQ <key>', '    Return the access frequency index of the key <key>.', 'IDLETIME <key>', '    Return the idle time of the key <key>.']) },
  ],
}

const MEMORY: Command = {
  name: 'memory', arity: -2, flags: '', acl: S, group: 'server', since: '4.0.0', summary: 'A container for memory diagnostics commands',
  complexity: 'Depends on subcommand.',
  subcommands: [
    { name: 'memory|doctor', arity: 2, flags: '', acl: S, tips: 'nondeterministic_output request_policy:all_shards response_policy:special',
      group: 'server', since: '4.0.0', summary: 'Outputs memory problems report', complexity: 'O(1)',
      run: (c) => c.w.verbatim(c.engine.memoryDoctor()) },
    { name: 'memory|purge', arity: 2, flags: '', acl: S, tips: 'request_policy:all_shards response_policy:all_succeeded',
      group: 'server', since: '4.0.0', summary: 'Ask the allocator to release memory', complexity: 'Depends on how much memory is allocated, could be slow',
      run: (c) => { c.engine.memoryPurge(); c.w.ok() } },
    { name: 'memory|stats', arity: 2, flags: '', acl: S, tips: 'nondeterministic_output request_policy:all_shards response_policy:special',
      group: 'server', since: '4.0.0', summary: 'Show memory usage details', complexity: 'O(1)',
      run: (c) => writeStats(c.w, c.engine.memoryStats()) },
    { name: 'memory|usage', arity: -3, flags: 'readonly', acl: '@read @slow', keys: { first: 2, last: 2, step: 1, flags: 'RO' },
      group: 'server', since: '4.0.0', summary: 'Estimate the memory usage of a key', complexity: 'O(N) where N is the number of samples.', syntax: 'key [SAMPLES count:integer]',
      run: (c, argv) => {
        let samples: number | undefined
        for (let i = 3; i < argv.length; i++) {
          if (isWord(argv[i], 'samples') && i + 1 < argv.length) {
            const n = safeIntegerArg(argv[++i])
            if (n < 0) throw new ReplyError(SYNTAX)
            samples = n
          } else {
            throw new ReplyError(SYNTAX)
          }
        }
        const v = c.engine.memoryUsage(key(argv[2]), samples === undefined ? undefined : { samples })
        if (v === undefined) c.w.nil()
        else c.w.integer(v)
      } },
    { name: 'memory|help', arity: 2, flags: 'loading stale', acl: S, group: 'server', since: '4.0.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)',
      run: (c) => helpReply(c, 'MEMORY', ['DOCTOR', '    Return memory problems reports.', 'PURGE', '    Attempt to purge dirty pages for reclamation by the allocator.', 'STATS', '    Return information about the memory usage of the server.', 'USAGE <key> [SAMPLES <count>]', '    Return memory in bytes used by <key> and its value.']) },
  ],
}

/**
 * Parameters the endpoint answers for itself, read-only: the engine keeps nothing on disk and has one database.
 * Tools ask for them (redis-benchmark reads `save` and `appendonly` before it starts).
 */
const ENDPOINT_CONFIG: readonly (readonly [string, string])[] = [
  ['save', ''],
  ['appendonly', 'no'],
  ['databases', '1'],
]

const ADMIN = 'admin noscript loading stale'
const ADMIN_ACL = '@admin @slow @dangerous'

const CONFIG: Command = {
  name: 'config', arity: -2, flags: '', acl: S, group: 'server', since: '2.0.0', summary: 'A container for server configuration commands',
  complexity: 'Depends on subcommand.',
  subcommands: [
    { name: 'config|get', arity: -3, flags: ADMIN, acl: ADMIN_ACL, group: 'server', since: '2.0.0', summary: 'Get the values of configuration parameters',
      complexity: 'O(N) when N is the number of configuration parameters provided', syntax: 'parameter...',
      run: (c, argv) => {
        const out: Record<string, string> = {}
        for (let i = 2; i < argv.length; i++) {
          const pattern = argv[i].toString('utf8')
          Object.assign(out, c.engine.configGet(pattern))
          for (const [name, value] of ENDPOINT_CONFIG) if (globMatch(pattern, name, true)) out[name] = value
        }
        const entries = Object.entries(out)
        c.w.map(entries.length)
        for (const [name, value] of entries) {
          c.w.bulkString(name)
          c.w.bulkString(value)
        }
      } },
    { name: 'config|set', arity: -4, flags: ADMIN, acl: ADMIN_ACL, tips: 'request_policy:all_nodes response_policy:all_succeeded', group: 'server', since: '2.0.0',
      summary: 'Set configuration parameters to the given values', complexity: 'O(N) when N is the number of configuration parameters provided',
      syntax: '(parameter value)...',
      run: (c, argv) => {
        if (argv.length % 2 !== 0) throw new ReplyError(SYNTAX)
        for (let i = 2; i < argv.length; i += 2) c.engine.configSet(argv[i].toString('utf8'), argv[i + 1].toString('utf8'))
        c.w.ok()
      } },
    { name: 'config|help', arity: 2, flags: 'loading stale', acl: S, group: 'server', since: '5.0.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)',
      run: (c) => helpReply(c, 'CONFIG', ['GET <pattern>', '    Return parameters matching the glob-like <pattern> and their values.', 'SET <directive> <value>', '    Set the configuration <directive> to <value>.']) },
  ],
}

const CLIENT: Command = {
  name: 'client', arity: -2, flags: '', acl: S, group: 'connection', since: '2.4.0', summary: 'A container for client connection commands',
  complexity: 'Depends on subcommand.',
  subcommands: [
    { name: 'client|id', arity: 2, flags: 'noscript loading stale', acl: CONN, group: 'connection', since: '5.0.0', summary: 'Returns the client ID for the current connection', complexity: 'O(1)',
      run: (c) => c.w.integer(c.client.id) },
    { name: 'client|getname', arity: 2, flags: 'noscript loading stale', acl: CONN, group: 'connection', since: '2.6.9', summary: 'Get the current connection name', complexity: 'O(1)',
      run: (c) => { if (c.client.name === '') c.w.nil(); else c.w.bulkString(c.client.name) } },
    { name: 'client|setname', arity: 3, flags: 'noscript loading stale', acl: CONN, group: 'connection', since: '2.6.9', summary: 'Set the current connection name', complexity: 'O(1)', syntax: 'connection-name',
      run: (c, argv) => { c.client.name = checkClientName(argv[2], 'Client names'); c.w.ok() } },
    { name: 'client|setinfo', arity: 4, flags: 'noscript loading stale', acl: CONN, group: 'connection', since: '7.2.0', summary: 'Set client or connection specific info', complexity: 'O(1)',
      syntax: 'LIB-NAME libname | LIB-VER libver',
      run: (c, argv) => {
        const attr = lowerArg(argv[2])
        if (attr === 'lib-name') c.client.libName = checkClientName(argv[3], 'lib-name')
        else if (attr === 'lib-ver') c.client.libVer = checkClientName(argv[3], 'lib-ver')
        else throw new ReplyError(`ERR Unrecognized option '${argv[2].toString('latin1')}'`)
        c.w.ok()
      } },
    { name: 'client|info', arity: 2, flags: 'noscript loading stale', acl: CONN, tips: 'nondeterministic_output', group: 'connection', since: '6.2.0',
      summary: 'Returns information about the current client connection.', complexity: 'O(1)',
      run: (c) => c.w.verbatim(`${c.client.infoLine()}\n`) },
    { name: 'client|list', arity: -2, flags: ADMIN, acl: '@admin @slow @dangerous @connection', tips: 'nondeterministic_output', group: 'connection', since: '2.4.0',
      summary: 'Get the list of client connections', complexity: 'O(N) where N is the number of client connections',
      syntax: '[TYPE NORMAL | MASTER | REPLICA | PUBSUB] [ID client-id:integer...]',
      run: (c, argv) => {
        let ids: Set<number> | undefined
        let none = false
        for (let i = 2; i < argv.length; i++) {
          if (isWord(argv[i], 'type') && i + 1 < argv.length) {
            const t = lowerArg(argv[++i])
            if (t === 'master' || t === 'replica' || t === 'slave' || t === 'pubsub') none = true
            else if (t !== 'normal') throw new ReplyError(`ERR Unknown client type '${argv[i].toString('latin1')}'`)
          } else if (isWord(argv[i], 'id') && i + 1 < argv.length) {
            ids = new Set()
            for (i++; i < argv.length; i++) {
              const n = integerArg(argv[i], 'ERR Invalid client ID')
              if (typeof n === 'bigint' || n <= 0) throw new ReplyError('ERR Invalid client ID')
              ids.add(n)
            }
          } else {
            throw new ReplyError(SYNTAX)
          }
        }
        let text = ''
        if (!none) for (const cl of c.server.clients()) if (ids === undefined || ids.has(cl.id)) text += `${cl.infoLine()}\n`
        c.w.verbatim(text)
      } },
    { name: 'client|help', arity: 2, flags: 'loading stale', acl: CONN, group: 'connection', since: '5.0.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)',
      run: (c) => helpReply(c, 'CLIENT', ['GETNAME', '    Return the name of the current connection.', 'ID', '    Return the ID of the current connection.', 'INFO', '    Return information about the current client connection.', 'LIST [TYPE <type>] [ID <id> [<id> ...]]', '    Return information about client connections.', 'SETINFO <option> <value>', '    Set client meta attr (LIB-NAME or LIB-VER).', 'SETNAME <name>', '    Assign the name <name> to the current connection.']) },
  ],
}

const COMMAND: Command = {
  name: 'command', arity: -1, flags: 'loading stale', acl: CONN, tips: 'nondeterministic_output_order', group: 'server', since: '2.8.13',
  summary: 'Get array of Redis command details', complexity: 'O(N) where N is the total number of Redis commands',
  run: (c) => {
    c.w.array(TABLE.size)
    for (const cmd of TABLE.values()) writeCommandInfo(c.w, cmd)
  },
  subcommands: [
    { name: 'command|count', arity: 2, flags: 'loading stale', acl: CONN, group: 'server', since: '2.8.13', summary: 'Get total number of Redis commands', complexity: 'O(1)',
      run: (c) => c.w.integer(TABLE.size) },
    { name: 'command|list', arity: -2, flags: 'loading stale', acl: CONN, tips: 'nondeterministic_output_order', group: 'server', since: '7.0.0',
      summary: 'Get an array of Redis command names', complexity: 'O(N) where N is the total number of Redis commands',
      run: (c) => { c.w.array(TABLE.size); for (const name of TABLE.keys()) c.w.bulkString(name) } },
    { name: 'command|info', arity: -2, flags: 'loading stale', acl: CONN, tips: 'nondeterministic_output_order', group: 'server', since: '2.8.13',
      summary: 'Get array of specific Redis command details, or all when no argument is given.', complexity: 'O(N) where N is the number of commands to look up',
      syntax: '[command-name...]',
      run: (c, argv) => {
        if (argv.length === 2) {
          c.w.array(TABLE.size)
          for (const cmd of TABLE.values()) writeCommandInfo(c.w, cmd)
          return
        }
        c.w.array(argv.length - 2)
        for (let i = 2; i < argv.length; i++) {
          const cmd = findCommand(lowerArg(argv[i]))
          if (cmd === undefined) c.w.nil()
          else writeCommandInfo(c.w, cmd)
        }
      } },
    { name: 'command|docs', arity: -2, flags: 'loading stale', acl: CONN, tips: 'nondeterministic_output_order', group: 'server', since: '7.0.0',
      summary: 'Get array of specific Redis command documentation', complexity: 'O(N) where N is the number of commands to look up', syntax: '[command-name...]',
      run: (c, argv) => {
        const list = argv.length === 2 ? [...TABLE.values()] : argv.slice(2).map((a) => findCommand(lowerArg(a))).filter((x): x is Command => x !== undefined)
        c.w.map(list.length)
        for (const cmd of list) {
          c.w.bulkString(cmd.name)
          writeCommandDocs(c.w, cmd)
        }
      } },
    { name: 'command|help', arity: 2, flags: 'loading stale', acl: CONN, group: 'server', since: '5.0.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)',
      run: (c) => helpReply(c, 'COMMAND', ['(no subcommand)', '    Return details about all Redis commands.', 'COUNT', '    Return the total number of commands in this Redis server.', 'LIST', '    Return a list of all commands in this Redis server.', 'INFO [<command-name> ...]', '    Return details about multiple Redis commands.', 'DOCS [<command-name> ...]', '    Return documentation details about multiple Redis commands.']) },
  ],
}

const COMMANDS: readonly Command[] = [
  // strings (Engine: t_string.ts)
  { name: 'get', arity: 2, flags: 'readonly fast', acl: '@read @string @fast', keys: { first: 1, last: 1, step: 1, flags: 'RO access' },
    group: 'string', since: '1.0.0', summary: 'Get the value of a key', complexity: 'O(1)', syntax: 'key',
    run: (c, argv) => bulkOrNil(c.w, c.engine.get(key(argv[1]))) },
  { name: 'set', arity: -3, flags: 'write denyoom', acl: '@write @string @slow', keys: { first: 1, last: 1, step: 1, flags: 'RW access update variable_flags' },
    group: 'string', since: '1.0.0', summary: 'Set the string value of a key', complexity: 'O(1)',
    syntax: 'key value [NX | XX] [GET] [EX seconds:integer | PX milliseconds:integer | EXAT unix-time-seconds:unix-time | PXAT unix-time-milliseconds:unix-time | KEEPTTL]',
    run: (c, argv) => {
      const opts = parseStringOptions(argv, 3, 'set')
      const k = key(argv[1])
      // SET … GET reads the old value first (Redis's getGenericCommand inside setGenericCommand).
      const old = opts.get === true ? c.engine.get(k) : undefined
      const done = c.engine.set(k, argv[2], opts)
      if (opts.get === true) bulkOrNil(c.w, old)
      else if (done) c.w.ok()
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

  // keys (Engine: db.ts)
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
          type = lowerArg(argv[++i])
        } else {
          throw new ReplyError(SYNTAX)
        }
      }
      // Redis reads the cursor with strtoul (a negative one wraps); the engine's table cursor is 32-bit.
      const start = Number(BigInt.asUintN(32, BigInt(cursor)))
      const [next, keys] = c.engine.scan(start, { match, count })
      // Every value is a string: TYPE string keeps every key, any other type none.
      const shown = type === undefined || type === 'string' ? keys : []
      c.w.array(2)
      c.w.bulkString(String(next))
      c.w.array(shown.length)
      for (const k of shown) writeKey(c.w, k)
    } },
  { name: 'dbsize', arity: 1, flags: 'readonly fast', acl: '@keyspace @read @fast', tips: 'request_policy:all_shards response_policy:agg_sum',
    group: 'server', since: '1.0.0', summary: 'Return the number of keys in the selected database', complexity: 'O(1)',
    run: (c) => c.w.integer(c.engine.dbsize()) },
  { name: 'flushall', arity: -1, flags: 'write', acl: '@keyspace @write @slow @dangerous', tips: 'request_policy:all_shards response_policy:all_succeeded',
    group: 'server', since: '1.0.0', summary: 'Remove all keys from all databases', complexity: 'O(N) where N is the total number of keys in all databases', syntax: '[ASYNC | SYNC]',
    run: (c, argv) => flush(c, argv) },
  { name: 'flushdb', arity: -1, flags: 'write', acl: '@keyspace @write @slow @dangerous', tips: 'request_policy:all_shards response_policy:all_succeeded',
    group: 'server', since: '1.0.0', summary: 'Remove all keys from the current database', complexity: 'O(N) where N is the number of keys in the selected database', syntax: '[ASYNC | SYNC]',
    run: (c, argv) => flush(c, argv) },

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

  // introspection (Engine: object.ts, report.ts, doctor.ts, config.ts)
  OBJECT,
  MEMORY,
  CONFIG,
  { name: 'info', arity: -1, flags: 'loading stale', acl: '@slow @dangerous', tips: 'nondeterministic_output request_policy:all_shards response_policy:special',
    group: 'server', since: '1.0.0', summary: 'Get information and statistics about the server', complexity: 'O(1)', syntax: '[section...]',
    run: (c, argv) => c.w.verbatim(infoText(c, argv)) },

  // connection
  { name: 'ping', arity: -1, flags: 'fast', acl: '@fast @connection', tips: 'request_policy:all_shards response_policy:all_succeeded',
    group: 'connection', since: '1.0.0', summary: 'Ping the server', complexity: 'O(1)', syntax: '[message]',
    run: (c, argv) => {
      if (argv.length > 2) throw arityError('ping')
      if (argv.length === 2) c.w.bulk(argv[1])
      else c.w.simple('PONG')
    } },
  { name: 'echo', arity: 2, flags: 'loading stale fast', acl: '@fast @connection', group: 'connection', since: '1.0.0', summary: 'Echo the given string', complexity: 'O(1)', syntax: 'message',
    run: (c, argv) => c.w.bulk(argv[1]) },
  { name: 'hello', arity: -1, flags: 'noscript loading stale fast no_auth allow_busy', acl: '@fast @connection', group: 'connection', since: '6.0.0',
    summary: 'Handshake with Redis', complexity: 'O(1)', syntax: '[protover:integer [AUTH username password] [SETNAME clientname]]',
    run: (c, argv) => {
      let version: 2 | 3 | undefined
      if (argv.length >= 2) {
        const v = integerArg(argv[1], 'ERR Protocol version is not an integer or out of range')
        if (v !== 2 && v !== 3) throw new ReplyError('NOPROTO unsupported protocol version')
        version = v
      }
      let user: Buffer | undefined
      let pass: Buffer | undefined
      let name: Buffer | undefined
      for (let j = 2; j < argv.length; j++) {
        const more = argv.length - 1 - j
        if (isWord(argv[j], 'auth') && more >= 2) {
          user = argv[j + 1]
          pass = argv[j + 2]
          j += 2
        } else if (isWord(argv[j], 'setname') && more >= 1) {
          name = argv[++j]
        } else {
          throw new ReplyError(`ERR Syntax error in HELLO option '${argv[j].toString('latin1')}'`)
        }
      }
      if (pass !== undefined) authenticate(c, user, pass)
      if (!c.client.authenticated) {
        throw new ReplyError(
          'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> ' +
            'option can be used to authenticate the client and select the RESP protocol version at the same time',
        )
      }
      if (name !== undefined) c.client.name = checkClientName(name, 'Client names')
      if (version !== undefined) {
        c.client.resp = version
        c.w.resp = version
      }
      helloReply(c)
    } },
  { name: 'auth', arity: -2, flags: 'noscript loading stale fast no_auth allow_busy', acl: '@fast @connection', group: 'connection', since: '1.0.0',
    summary: 'Authenticate to the server', complexity: 'O(N) where N is the number of passwords defined for the user', syntax: '[username] password',
    run: (c, argv) => {
      if (argv.length > 3) throw new ReplyError(SYNTAX)
      if (argv.length === 2 && c.server.requirepass === undefined) {
        throw new ReplyError(
          'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
        )
      }
      authenticate(c, argv.length === 3 ? argv[1] : undefined, argv[argv.length - 1])
      c.w.ok()
    } },
  CLIENT,
  COMMAND,
  { name: 'select', arity: 2, flags: 'loading stale fast', acl: '@fast @connection', group: 'connection', since: '1.0.0', summary: 'Change the selected database for the current connection',
    complexity: 'O(1)', syntax: 'index:integer',
    run: (c, argv) => {
      // The engine is one keyspace: database 0.
      if (safeIntegerArg(argv[1]) !== 0) throw new ReplyError('ERR DB index is out of range')
      c.w.ok()
    } },
  { name: 'quit', arity: -1, flags: 'noscript loading stale fast no_auth allow_busy', acl: '@fast @connection', group: 'connection', since: '1.0.0',
    summary: 'Close the connection', complexity: 'O(1)',
    run: (c) => {
      c.client.closeAfterReply = true
      c.w.ok()
    } },
  { name: 'time', arity: 1, flags: 'loading stale fast', acl: '@fast', tips: 'nondeterministic_output', group: 'server', since: '2.6.0', summary: 'Return the current server time', complexity: 'O(1)',
    run: (c) => {
      const us = Math.floor((performance.timeOrigin + performance.now()) * 1000)
      c.w.array(2)
      c.w.bulkString(String(Math.floor(us / 1e6)))
      c.w.bulkString(String(us % 1e6))
    } },
]

function flush(c: CommandContext, argv: Buffer[]): void {
  if (argv.length > 2 || (argv.length === 2 && !isWord(argv[1], 'async') && !isWord(argv[1], 'sync'))) throw new ReplyError(SYNTAX)
  c.engine.flushall()
  c.w.ok()
}

/** Top-level commands by lower-case name. */
const TABLE: ReadonlyMap<string, Command> = new Map(COMMANDS.map((cmd) => [cmd.name, cmd]))
/** The names as clients spell them (lower and upper case), so the common lookup makes no lower-case copy. */
const EXACT: ReadonlyMap<string, Command> = new Map(COMMANDS.flatMap((cmd) => [[cmd.name, cmd] as const, [cmd.name.toUpperCase(), cmd] as const]))
const SUBCOMMANDS: ReadonlyMap<string, Command> = new Map(
  COMMANDS.flatMap((cmd) => (cmd.subcommands ?? []).map((s) => [s.name, s] as const)),
)

/** A command or subcommand by its full name ('get', 'client|info'), as COMMAND INFO / DOCS look them up. */
function findCommand(name: string): Command | undefined {
  return TABLE.get(name) ?? SUBCOMMANDS.get(name)
}

/** Every top-level command name the endpoint serves. */
export function commandNames(): string[] {
  return [...TABLE.keys()]
}

/**
 * Runs one request to completion and writes its reply, as Redis's processCommand: the command must exist
 * (subcommands too), the arity must match, then the client must be authenticated unless the command is marked
 * no_auth. A command throws (an error reply) before it writes anything: its handler parses and calls the engine
 * first.
 */
export function dispatch(c: CommandContext, argv: Buffer[]): void {
  const raw = argv[0].toString('latin1')
  let cmd = EXACT.get(raw) ?? TABLE.get(raw.toLowerCase())
  if (cmd === undefined) throw unknownCommandError(argv)
  if (cmd.subcommands !== undefined && argv.length >= 2) {
    const sub = SUBCOMMANDS.get(`${cmd.name}|${lowerArg(argv[1])}`)
    if (sub === undefined) throw unknownSubcommandError(cmd.name, argv[1])
    cmd = sub
  }
  const arity = cmd.arity
  if ((arity > 0 && argv.length !== arity) || argv.length < -arity) throw arityError(cmd.name)
  if (!c.client.authenticated && !cmd.flags.includes('no_auth')) throw new ReplyError(NOAUTH)
  if (cmd.run === undefined) throw unknownSubcommandError(cmd.name, argv[1] ?? argv[0])
  c.client.command = cmd.name
  cmd.run(c, argv)
}
