// Error replies with Redis's exact texts (server.c's shared objects and the command implementations'
// addReplyError calls), and the argument parsers that raise them.
import { ArenaKVError } from '../errors.js'
import { parseInteger } from './resp-parser.js'

/** An error reply: `text` starts with its code (`ERR …`, `NOAUTH …`, `WRONGPASS …`). */
export class ReplyError extends Error {
  constructor(readonly text: string) {
    super(text)
    this.name = 'ReplyError'
  }
}

export const NOT_INTEGER = 'ERR value is not an integer or out of range'
export const SYNTAX = 'ERR syntax error'
export const NOAUTH = 'NOAUTH Authentication required.'
export const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.'

/** Redis's wrong-arity text: the full name is `client|setname` for a subcommand. */
export function arityError(fullName: string): ReplyError {
  return new ReplyError(`ERR wrong number of arguments for '${fullName}' command`)
}

/** Redis's commandCheckExistence text: the first 128 bytes of each argument, quoted, a trailing space each. */
export function unknownCommandError(argv: readonly Buffer[]): ReplyError {
  let args = ''
  for (let i = 1; i < argv.length && args.length < 128; i++) {
    args += `'${argv[i].subarray(0, 128 - args.length).toString('latin1')}' `
  }
  const name = argv[0].subarray(0, 128).toString('latin1')
  return new ReplyError(`ERR unknown command '${name}', with args beginning with: ${args}`)
}

/** A subcommand the container does not have: `ERR unknown subcommand 'foo'. Try OBJECT HELP.` */
export function unknownSubcommandError(container: string, sub: Buffer): ReplyError {
  return new ReplyError(`ERR unknown subcommand '${sub.subarray(0, 128).toString('latin1')}'. Try ${container.toUpperCase()} HELP.`)
}

/** An argument as a signed 64-bit integer (Redis's getLongLongFromObjectOrReply). */
export function integerArg(arg: Buffer, error = NOT_INTEGER): number | bigint {
  const n = parseInteger(arg)
  if (n === null) throw new ReplyError(error)
  return n
}

/** An argument as a safe integer; beyond ±2^53 Redis's range checks would refuse it anyway, so `error` is given. */
export function safeIntegerArg(arg: Buffer, error = NOT_INTEGER, tooBig = error): number {
  const n = integerArg(arg, error)
  if (typeof n === 'bigint') throw new ReplyError(tooBig)
  return n
}

/** Case-insensitive comparison of an argument with an ASCII keyword given in lower case. */
export function isWord(arg: Buffer, lower: string): boolean {
  if (arg.length !== lower.length) return false
  for (let i = 0; i < arg.length; i++) {
    let c = arg[i]
    if (c >= 65 && c <= 90) c += 32
    if (c !== lower.charCodeAt(i)) return false
  }
  return true
}

/** An argument's text, lower case (command names, options). */
export function lowerArg(arg: Buffer): string {
  return arg.toString('latin1').toLowerCase()
}

/**
 * The reply for an error an Engine call threw. The engine's ArenaKVError messages are Redis's texts without
 * the code (OOM's carries its own); anything else (a listener's error, a bug) is reported as ERR with its message.
 */
export function errorReplyText(error: unknown): string {
  if (error instanceof ReplyError) return error.text
  if (error instanceof ArenaKVError) {
    if (error.code === 'ERR_OOM') return error.message
    return `ERR ${error.message}`
  }
  if (error instanceof Error) return `ERR ${error.message}`
  return `ERR ${String(error)}`
}
