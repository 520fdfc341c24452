// The connection commands of the RESP endpoint's table: PING, ECHO, HELLO, AUTH, CLIENT, SELECT, QUIT.
// ARCHITECTURE.md "The RESP endpoint".
import { CONN, REDIS_VERSION, S, helpReply, type Command, type CommandContext } from './command-util.js'
import { ReplyError, SYNTAX, WRONGPASS, arityError, integerArg, isWord, lowerArg, safeIntegerArg } from './reply-error.js'

/** Redis's clientSetNameOrReply check: printable ASCII without spaces. */
function checkClientName(arg: Buffer, what: string): string {
  for (const c of arg) {
    if (c < 33 || c > 126) throw new ReplyError(`ERR ${what} cannot contain spaces, newlines or special characters.`)
  }
  return arg.toString('latin1')
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


const ADMIN = 'admin noscript loading stale'

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

export const CONNECTION_COMMANDS: readonly Command[] = [
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
]
