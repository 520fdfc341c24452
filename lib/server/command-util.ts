// What every part of the RESP endpoint's command table shares: the command and context types, and the small
// helpers that turn arguments into engine calls and engine results into replies. ARCHITECTURE.md "The RESP endpoint".
import type { Engine } from '../engine.js'
import type { CommandMeta } from './command-docs.js'
import { decodeKey, encodeKey } from './keys.js'
import type { RespWriter } from './resp-writer.js'
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

/** ACL categories most containers and connection commands carry. */
export const S = '@slow'
export const CONN = '@slow @connection'

// ---- argument helpers ----

export const key = decodeKey

export function keysFrom(argv: Buffer[], start: number): string[] {
  const out = new Array<string>(argv.length - start)
  for (let i = start; i < argv.length; i++) out[i - start] = decodeKey(argv[i])
  return out
}

export function bulkOrNil(w: RespWriter, value: Uint8Array | undefined): void {
  if (value === undefined) w.nil()
  else w.bulk(value)
}

export function writeKey(w: RespWriter, k: string): void {
  w.bulk(encodeKey(k))
}

/** An argument as the string form the engine's int64 / float parameters take (Redis's string2ll / string2ld). */
export function numArg(arg: Buffer): string {
  return arg.toString('latin1')
}

export function helpReply(c: CommandContext, container: string, lines: readonly string[]): void {
  const all = [`${container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`, ...lines, 'HELP', '    Print this help.']
  c.w.array(all.length)
  for (const l of all) c.w.simple(l)
}
