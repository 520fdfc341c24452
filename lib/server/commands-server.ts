// The server commands of the RESP endpoint's table (Engine: report.ts, doctor.ts, config.ts): MEMORY, CONFIG,
// INFO, DBSIZE, FLUSHALL / FLUSHDB, TIME. ARCHITECTURE.md "The RESP endpoint".
import { globMatch } from '../glob.js'
import { REDIS_VERSION, S, helpReply, key, type Command, type CommandContext } from './command-util.js'
import { ReplyError, SYNTAX, isWord, lowerArg, safeIntegerArg } from './reply-error.js'
import type { RespWriter } from './resp-writer.js'

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


/** INFO's Clients section: the endpoint adds it to the engine's (the engine does not know its clients). */
function clientsSection(c: CommandContext): string {
  let connected = 0
  for (const _ of c.server.clients()) connected++
  return `# Clients\r\nconnected_clients:${connected}\r\nblocked_clients:0\r\ntracking_clients:0\r\n`
}

/**
 * INFO [section …]: the engine's sections through one info(...sections) call, in Redis's order whatever the
 * arguments' order, with the endpoint's Clients section after Server (genRedisInfoString's order) and
 * `redis_version` added to Server. Sections are separated by an empty line.
 */
function infoText(c: CommandContext, argv: Buffer[]): string {
  const asked = argv.slice(1).map(lowerArg)
  const all = asked.length === 0 || asked.some((s) => s === 'default' || s === 'all' || s === 'everything')
  const engineSections = all ? [] : asked.filter((s) => s !== 'clients')
  let text = all || engineSections.length > 0 ? c.engine.info(...engineSections) : ''
  text = text.replace('# Server\r\n', `# Server\r\nredis_version:${REDIS_VERSION}\r\n`)
  if (!all && !asked.includes('clients')) return text
  const clients = clientsSection(c)
  if (!text.startsWith('# Server')) return text === '' ? clients : `${clients}\r\n${text}`
  const end = text.indexOf('\r\n\r\n# ')
  return end < 0 ? `${text}\r\n${clients}` : `${text.slice(0, end + 2)}\r\n${clients}${text.slice(end + 2)}`
}

function flush(c: CommandContext, argv: Buffer[]): void {
  if (argv.length > 2 || (argv.length === 2 && !isWord(argv[1], 'async') && !isWord(argv[1], 'sync'))) throw new ReplyError(SYNTAX)
  c.engine.flushall()
  c.w.ok()
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
      run: (c) => helpReply(c, 'CONFIG', ['GET <pattern>', '    Return parameters matching the glob-like <pattern> and their values.', 'SET <directive> <value>', '    Set the configuration <directive> to <value>.', 'RESETSTAT', '    Reset statistics reported by the INFO command.']) },
    { name: 'config|resetstat', arity: 2, flags: ADMIN, acl: ADMIN_ACL, group: 'server', since: '2.0.0',
      summary: 'Reset the stats returned by INFO', complexity: 'O(1)',
      run: (c) => { c.engine.configResetstat(); c.w.ok() } },
  ],
}

export const SERVER_COMMANDS: readonly Command[] = [
  MEMORY,
  CONFIG,
  { name: 'info', arity: -1, flags: 'loading stale', acl: '@slow @dangerous', tips: 'nondeterministic_output request_policy:all_shards response_policy:special',
    group: 'server', since: '1.0.0', summary: 'Get information and statistics about the server', complexity: 'O(1)', syntax: '[section...]',
    run: (c, argv) => c.w.verbatim(infoText(c, argv)) },
  { name: 'dbsize', arity: 1, flags: 'readonly fast', acl: '@keyspace @read @fast', tips: 'request_policy:all_shards response_policy:agg_sum',
    group: 'server', since: '1.0.0', summary: 'Return the number of keys in the selected database', complexity: 'O(1)',
    run: (c) => c.w.integer(c.engine.dbsize()) },
  { name: 'flushall', arity: -1, flags: 'write', acl: '@keyspace @write @slow @dangerous', tips: 'request_policy:all_shards response_policy:all_succeeded',
    group: 'server', since: '1.0.0', summary: 'Remove all keys from all databases', complexity: 'O(N) where N is the total number of keys in all databases', syntax: '[ASYNC | SYNC]',
    run: (c, argv) => flush(c, argv) },
  { name: 'flushdb', arity: -1, flags: 'write', acl: '@keyspace @write @slow @dangerous', tips: 'request_policy:all_shards response_policy:all_succeeded',
    group: 'server', since: '1.0.0', summary: 'Remove all keys from the current database', complexity: 'O(N) where N is the number of keys in the selected database', syntax: '[ASYNC | SYNC]',
    run: (c, argv) => flush(c, argv) },
  { name: 'time', arity: 1, flags: 'loading stale fast', acl: '@fast', tips: 'nondeterministic_output', group: 'server', since: '2.6.0', summary: 'Return the current server time', complexity: 'O(1)',
    run: (c) => {
      const us = Math.floor((performance.timeOrigin + performance.now()) * 1000)
      c.w.array(2)
      c.w.bulkString(String(Math.floor(us / 1e6)))
      c.w.bulkString(String(us % 1e6))
    } },
]
