// The RESP endpoint's short way for the commands a cache serves most (GET, SET key value, INCR, MGET): the request
// is recognised in the input bytes where it lies, with no argument array, no Buffer per argument and no command
// name string, then run with the same Engine call and reply as its table entry (commands-strings.ts). Anything
// else (another command or shape, a request not whole yet, a byte the general parser would read differently, an
// unauthenticated client) returns -1 and takes the general path (resp-parser.ts, commands.ts), so what a client
// sees is the same either way. ARCHITECTURE.md "The RESP endpoint".
import type { Engine } from '../engine.js'
import { decodeKey } from './keys.js'
import type { RespWriter } from './resp-writer.js'

const CR = 13
const LF = 10
/** Bulks longer than this take the general path (which collects big ones on their own). */
const MAX_FAST_BULK = 16 * 1024
/** MGETs with more keys than this take the general path. */
const MAX_FAST_KEYS = 256

export const FAST_GET = 1
export const FAST_SET = 2
export const FAST_INCR = 3
export const FAST_MGET = 4

/**
 * The request matchFast recognised: its command, and its arguments as [start, end) positions in the input.
 * One instance, reused: a request is matched and run before the next is looked at.
 */
class FastRequest {
  command = 0
  /** start, end of each argument after the command name. */
  readonly bounds: number[] = []
  argc = 0
}

const request = new FastRequest()
/** Where the bulk bulkAt read ends (after its CRLF). */
let bulkEnd = 0

/**
 * The bulk `$<len>\r\n<bytes>\r\n` at p, whole before `limit`: the start of its bytes, or -1. Only the plain form
 * is taken (digits without a leading zero, CRLF after the length and after the bytes): every such bulk reads the
 * same in the general parser, which handles the rest.
 */
function bulkAt(buf: Buffer, p: number, limit: number): number {
  if (p + 5 > limit || buf[p] !== 36) return -1
  let i = p + 1
  let c = buf[i]
  if (c < 48 || c > 57 || (c === 48 && buf[i + 1] !== CR)) return -1
  let n = 0
  for (; i < limit; i++) {
    c = buf[i]
    if (c === CR) break
    if (c < 48 || c > 57) return -1
    n = n * 10 + (c - 48)
    if (n > MAX_FAST_BULK) return -1
  }
  if (i + 1 >= limit || buf[i + 1] !== LF) return -1
  const start = i + 2
  const end = start + n
  if (end + 2 > limit || buf[end] !== CR || buf[end + 1] !== LF) return -1
  bulkEnd = end + 2
  return start
}

/** Whether the bytes at p, lower-cased, spell the lower-case ASCII `word` (letters only). */
function isName(buf: Buffer, p: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if ((buf[p + i] | 0x20) !== word.charCodeAt(i)) return false
  return true
}

/**
 * Recognises a whole GET / SET key value / INCR / MGET request at `pos`: returns where it ends (and fills
 * `request`), or -1 for the general path.
 */
export function matchFast(buf: Buffer, pos: number): number {
  const limit = buf.length
  if (pos + 4 > limit || buf[pos] !== 42) return -1
  let argc = buf[pos + 1] - 48
  let p = pos + 2
  if (argc < 1 || argc > 9) return -1
  if (buf[p] !== CR) {
    // Two digits at most (MGET of up to 99 arguments).
    const d = buf[p] - 48
    if (d < 0 || d > 9) return -1
    argc = argc * 10 + d
    p++
  }
  if (p + 1 >= limit || buf[p] !== CR || buf[p + 1] !== LF) return -1
  p += 2
  const nameStart = bulkAt(buf, p, limit)
  if (nameStart < 0) return -1
  const nameLen = bulkEnd - 2 - nameStart
  let command = 0
  if (nameLen === 3 && argc === 2 && isName(buf, nameStart, 'get')) command = FAST_GET
  else if (nameLen === 3 && argc === 3 && isName(buf, nameStart, 'set')) command = FAST_SET
  else if (nameLen === 4 && argc === 2 && isName(buf, nameStart, 'incr')) command = FAST_INCR
  else if (nameLen === 4 && argc >= 2 && argc - 1 <= MAX_FAST_KEYS && isName(buf, nameStart, 'mget')) command = FAST_MGET
  else return -1
  p = bulkEnd
  const bounds = request.bounds
  for (let i = 1; i < argc; i++) {
    const start = bulkAt(buf, p, limit)
    if (start < 0) return -1
    bounds[2 * i - 2] = start
    bounds[2 * i - 1] = bulkEnd - 2
    p = bulkEnd
  }
  request.command = command
  request.argc = argc
  return p
}

type Latin1Slicer = { latin1Slice?: (start: number, end: number) => string }
const latin1Slice = (Buffer.prototype as unknown as Latin1Slicer).latin1Slice

/** The key at [start, end) as the engine's string (keys.ts): ASCII straight from the input, the rest decoded. */
function keyAt(buf: Buffer, start: number, end: number): string {
  for (let i = start; i < end; i++) if (buf[i] >= 0x80) return decodeKey(buf.subarray(start, end))
  return latin1Slice !== undefined ? latin1Slice.call(buf, start, end) : buf.toString('latin1', start, end)
}

/** What running a matched request needs: the connection's engine, the batch's writer, the client's `command`. */
export interface FastContext {
  readonly engine: Engine
  readonly w: RespWriter
  readonly client: { command: string }
}

/**
 * Runs the request matchFast recognised in `buf`, as its table entry would (commands-strings.ts): the same
 * Engine call, the same reply; an error thrown is the command's error reply, as from dispatch.
 */
export function runFast(c: FastContext, buf: Buffer): void {
  const b = request.bounds
  const w = c.w
  switch (request.command) {
    case FAST_GET: {
      c.client.command = 'get'
      const value = c.engine.get(keyAt(buf, b[0], b[1]))
      if (value === undefined) w.nil()
      else w.bulk(value)
      return
    }
    case FAST_SET:
      c.client.command = 'set'
      // The value is a view into the input: the engine copies it into its slot.
      if (c.engine.set(keyAt(buf, b[0], b[1]), buf.subarray(b[2], b[3]))) w.ok()
      else w.nil()
      return
    case FAST_INCR: {
      c.client.command = 'incr'
      const key = keyAt(buf, b[0], b[1])
      let n: number | bigint
      try {
        // A counter within ±2^53 is counted in numbers (no BigInt); beyond, incr refuses before writing (a
        // RangeError) and incrbyBig gives the exact int64 the table entry replies.
        n = c.engine.incr(key)
      } catch (error) {
        if (!(error instanceof RangeError)) throw error
        n = c.engine.incrbyBig(key, 1)
      }
      w.integer(n)
      return
    }
    case FAST_MGET: {
      c.client.command = 'mget'
      const count = request.argc - 1
      const keys = new Array<string>(count)
      for (let i = 0; i < count; i++) keys[i] = keyAt(buf, b[2 * i], b[2 * i + 1])
      const values = c.engine.mget(keys)
      w.array(count)
      for (const v of values) {
        if (v === undefined) w.nil()
        else w.bulk(v)
      }
      return
    }
  }
}
