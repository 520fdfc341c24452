// The RESP endpoint's command table: the families' entries (commands-strings.ts, commands-keys.ts,
// commands-server.ts, commands-connection.ts; one entry per command: arity, flags, keys, docs, the Engine call),
// COMMAND, which reads them, and `dispatch`, Redis's processCommand checks (existence, arity, authentication)
// before a command runs. ARCHITECTURE.md "The RESP endpoint".
import { writeCommandDocs, writeCommandInfo } from './command-docs.js'
import { CONN, helpReply, type Command, type CommandContext } from './command-util.js'
import { CONNECTION_COMMANDS } from './commands-connection.js'
import { KEY_COMMANDS } from './commands-keys.js'
import { SERVER_COMMANDS } from './commands-server.js'
import { STRING_COMMANDS } from './commands-strings.js'
import { NOAUTH, ReplyError, arityError, lowerArg, unknownCommandError, unknownSubcommandError } from './reply-error.js'

export { REDIS_VERSION, type ClientView, type Command, type CommandContext, type ServerView } from './command-util.js'

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
const COMMANDS: readonly Command[] = [...STRING_COMMANDS, ...KEY_COMMANDS, ...SERVER_COMMANDS, ...CONNECTION_COMMANDS, COMMAND]

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