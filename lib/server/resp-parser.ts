// RESP2/RESP3 requests on the wire: the incremental request parser (Redis's processMultibulkBuffer and
// processInlineBuffer in networking.c) and string2ll for integer arguments. ARCHITECTURE.md "The RESP endpoint".

/** Redis's PROTO_INLINE_MAX_SIZE: an inline request, or a `*`/`$` header line, longer than this is refused. */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024
/** Redis's proto-max-bulk-len default: 512 MB. */
export const PROTO_MAX_BULK_LEN = 512 * 1024 * 1024
/** Bulks at least this long are collected into their own buffer as chunks arrive (Redis's PROTO_MBULK_BIG_ARG). */
const BIG_ARG = 32 * 1024
const INT_MAX = 2 ** 31 - 1
const CR = 13
const LF = 10
const EMPTY = Buffer.alloc(0)

/** A request the protocol cannot parse: the connection answers `-ERR Protocol error: …` and is closed. */
export class ProtocolError extends Error {
  constructor(detail: string) {
    super(`Protocol error: ${detail}`)
    this.name = 'ProtocolError'
  }
}

/**
 * Redis's string2ll: an optional '-', then digits without leading zeros, within a signed 64-bit integer.
 * Returns a number when it is a safe integer, a bigint otherwise, null when the text is not such an integer.
 */
export function parseInteger(buf: Uint8Array, start = 0, end = buf.length): number | bigint | null {
  const len = end - start
  if (len === 0 || len > 20) return null
  let i = start
  const negative = buf[i] === 45
  if (negative) {
    i++
    if (i === end) return null
  }
  if (buf[i] === 48) return i + 1 === end && !negative ? 0 : null
  let n = 0
  for (let j = i; j < end; j++) {
    const d = buf[j] - 48
    if (d < 0 || d > 9) return null
    n = n * 10 + d
  }
  if (Number.isSafeInteger(n)) return negative ? -n : n
  let big = 0n
  for (let j = i; j < end; j++) big = big * 10n + BigInt(buf[j] - 48)
  if (negative) big = -big
  if (big > 0x7fffffffffffffffn || big < -0x8000000000000000n) return null
  return big
}

/** A request: its arguments as bytes, and the buffer they were sliced from (kept alive by them). */
export type Request = Buffer[]

/**
 * The incremental request parser. `feed` appends what the socket read; `next` returns the next complete
 * request, null when more bytes are needed, and throws ProtocolError (the connection must then be closed, as
 * Redis's setProtocolError does). Arguments are views into the input, except big bulks, which are copied into
 * a buffer of their own as they arrive so a 100 MB value is never concatenated chunk by chunk.
 */
export class RespParser {
  private buf: Buffer = EMPTY
  private pos = 0
  /** Arguments still expected in the current multibulk request (0: between requests). */
  private argsLeft = 0
  private args: Buffer[] = []
  /** A big bulk being filled, and how much of it is. */
  private big: Buffer | null = null
  private bigFill = 0
  /** Bytes to drop before parsing goes on (the CRLF after a big bulk). */
  private skip = 0
  /** Before AUTH, Redis refuses requests of more than 10 arguments or bulks over 16 KB. */
  authenticated = true

  /** Bytes buffered and not parsed yet (the query buffer). */
  get pending(): number {
    return this.buf.length - this.pos + (this.big === null ? 0 : this.bigFill)
  }

  /** Between requests, nothing half-parsed: the fast path (fast-path.ts) may read the input directly. */
  get idle(): boolean {
    return this.argsLeft === 0 && this.big === null && this.skip === 0 && this.args.length === 0
  }

  /** The unparsed input: `input` from `offset` on (the fast path reads it in place). */
  get input(): Buffer {
    return this.buf
  }

  get offset(): number {
    return this.pos
  }

  /** The fast path took the request ending at `end`. */
  consume(end: number): void {
    if (end >= this.buf.length) {
      this.buf = EMPTY
      this.pos = 0
    } else {
      this.pos = end
    }
  }

  /**
   * Copies out what the parser keeps of `borrowed` memory (the listener's shared read buffer, socket-reader.ts),
   * which the next read overwrites: the input not parsed yet and the arguments of a request not whole yet.
   */
  detach(borrowed: ArrayBufferLike): void {
    if (this.pos >= this.buf.length) {
      this.buf = EMPTY
      this.pos = 0
    } else if (this.buf.buffer === borrowed) {
      this.buf = Buffer.from(this.buf.subarray(this.pos))
      this.pos = 0
    }
    const args = this.args
    for (let i = 0; i < args.length; i++) if (args[i].buffer === borrowed) args[i] = Buffer.from(args[i])
  }

  feed(chunk: Buffer): void {
    if (this.big !== null) {
      const take = Math.min(chunk.length, this.big.length - this.bigFill)
      chunk.copy(this.big, this.bigFill, 0, take)
      this.bigFill += take
      if (this.bigFill < this.big.length) return
      this.args.push(this.big)
      this.argsLeft--
      this.big = null
      this.skip = 2
      chunk = chunk.subarray(take)
    }
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length)
      this.skip -= n
      chunk = chunk.subarray(n)
    }
    if (chunk.length === 0) return
    if (this.pos >= this.buf.length) {
      this.buf = chunk
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk])
    }
    this.pos = 0
  }

  next(): Request | null {
    for (;;) {
      if (this.big !== null || this.skip > 0) return null
      if (this.argsLeft === 0 && this.args.length > 0) {
        // A request whose last argument was a big bulk, completed by feed().
        const request = this.args
        this.args = []
        return request
      }
      if (this.argsLeft === 0) {
        if (this.pos >= this.buf.length) return null
        if (this.buf[this.pos] !== 42 /* '*' */) {
          const request = this.inline()
          if (request === null) return null
          if (request.length === 0) continue
          return request
        }
        const count = this.headerLine(42, 'too big mbulk count string')
        if (count === null) return null
        if (count === false || count > INT_MAX) throw new ProtocolError('invalid multibulk length')
        if (!this.authenticated && count > 10) throw new ProtocolError('unauthenticated multibulk length')
        if (count <= 0) continue
        this.argsLeft = count
        this.args = []
      }
      while (this.argsLeft > 0) {
        if (this.pos >= this.buf.length) return null
        if (this.buf[this.pos] !== 36 /* '$' */) {
          if (this.buf.indexOf(CR, this.pos) < 0) {
            if (this.buf.length - this.pos > PROTO_INLINE_MAX_SIZE) throw new ProtocolError('too big bulk count string')
            return null
          }
          throw new ProtocolError(`expected '$', got '${String.fromCharCode(this.buf[this.pos])}'`)
        }
        const len = this.headerLine(36, 'too big bulk count string')
        if (len === null) return null
        if (len === false || len < 0 || len > PROTO_MAX_BULK_LEN) throw new ProtocolError('invalid bulk length')
        if (!this.authenticated && len > 16384) throw new ProtocolError('unauthenticated bulk length')
        const available = this.buf.length - this.pos
        if (available < len + 2) {
          if (len >= BIG_ARG && available < len) {
            // Collect the bulk in a buffer of its own; feed() fills it, then drops its CRLF.
            const big = Buffer.allocUnsafe(len)
            this.buf.copy(big, 0, this.pos, this.buf.length)
            this.bigFill = available
            this.big = big
            this.buf = EMPTY
            this.pos = 0
            return null
          }
          // Wait for the rest; the header is parsed again then (cheap: a few bytes).
          this.pos = this.headerStart
          return null
        }
        this.args.push(this.buf.subarray(this.pos, this.pos + len))
        this.pos += len + 2
        this.argsLeft--
      }
      const request = this.args
      this.args = []
      if (this.pos >= this.buf.length) {
        this.buf = EMPTY
        this.pos = 0
      }
      return request
    }
  }

  private headerStart = 0

  /**
   * A `*N\r\n` or `$N\r\n` line at pos: N, null when the line is not complete yet, false when N is not an
   * integer. As Redis, the line ends at the first CR, and the byte after it must have arrived.
   */
  private headerLine(marker: number, tooBig: string): number | null | false {
    const buf = this.buf
    // Header lines are a few bytes: a JS scan beats a native indexOf call; long ones fall back to it.
    let cr = -1
    const stop = Math.min(buf.length, this.pos + 24)
    for (let i = this.pos; i < stop; i++) {
      if (buf[i] === CR) {
        cr = i
        break
      }
    }
    if (cr < 0 && stop < buf.length) cr = buf.indexOf(CR, stop)
    if (cr < 0 || cr + 1 >= buf.length) {
      if (buf.length - this.pos > PROTO_INLINE_MAX_SIZE) throw new ProtocolError(tooBig)
      return null
    }
    if (buf[this.pos] !== marker) return false
    const n = parseInteger(buf, this.pos + 1, cr)
    this.headerStart = this.pos
    this.pos = cr + 2
    if (n === null) return false
    return typeof n === 'bigint' ? (n > 0n ? Number.MAX_SAFE_INTEGER : -1) : n
  }

  /** An inline request (telnet, `redis-cli` piping plain lines): words split as sdssplitargs does. */
  private inline(): Request | null {
    const buf = this.buf
    const nl = buf.indexOf(LF, this.pos)
    if (nl < 0) {
      if (buf.length - this.pos > PROTO_INLINE_MAX_SIZE) throw new ProtocolError('too big inline request')
      return null
    }
    let end = nl
    if (end > this.pos && buf[end - 1] === CR) end--
    const args = splitArgs(buf, this.pos, end)
    this.pos = nl + 1
    if (this.pos >= buf.length) {
      this.buf = EMPTY
      this.pos = 0
    }
    if (args === null) throw new ProtocolError('unbalanced quotes in request')
    return args
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/**
 * Redis's sdssplitargs: words separated by spaces; "double quotes" with \n \r \t \b \a \\ \" and \xHH escapes;
 * 'single quotes' with \' only; a closing quote must be followed by a space or the end. Null for unbalanced quotes.
 */
export function splitArgs(buf: Uint8Array, start: number, end: number): Buffer[] | null {
  const out: Buffer[] = []
  let i = start
  for (;;) {
    while (i < end && isSpace(buf[i])) i++
    if (i >= end) return out
    const word: number[] = []
    let inDouble = false
    let inSingle = false
    let done = false
    while (!done) {
      if (inDouble) {
        if (i >= end) return null
        const c = buf[i]
        if (c === 92 && i + 3 < end && buf[i + 1] === 120 && hexValue(buf[i + 2]) >= 0 && hexValue(buf[i + 3]) >= 0) {
          word.push(hexValue(buf[i + 2]) * 16 + hexValue(buf[i + 3]))
          i += 3
        } else if (c === 92 && i + 1 < end) {
          i++
          const e = buf[i]
          word.push(e === 110 ? 10 : e === 114 ? 13 : e === 116 ? 9 : e === 98 ? 8 : e === 97 ? 7 : e)
        } else if (c === 34) {
          if (i + 1 < end && !isSpace(buf[i + 1])) return null
          done = true
        } else {
          word.push(c)
        }
      } else if (inSingle) {
        if (i >= end) return null
        const c = buf[i]
        if (c === 92 && i + 1 < end && buf[i + 1] === 39) {
          i++
          word.push(39)
        } else if (c === 39) {
          if (i + 1 < end && !isSpace(buf[i + 1])) return null
          done = true
        } else {
          word.push(c)
        }
      } else {
        if (i >= end) break
        const c = buf[i]
        if (isSpace(c)) done = true
        else if (c === 34) inDouble = true
        else if (c === 39) inSingle = true
        else word.push(c)
      }
      if (i < end) i++
    }
    out.push(Buffer.from(word))
  }
}
