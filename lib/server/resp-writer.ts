// RESP2/RESP3 replies on the wire: the reply encoder (addReply* in networking.c). ARCHITECTURE.md
// "The RESP endpoint".

import type { Socket } from 'node:net'

const CR = 13
const LF = 10

/** Redis's addReplyDouble: '%.17g' (inf and -inf spelled so). */
export function formatDouble(x: number): string {
  if (x === Infinity) return 'inf'
  if (x === -Infinity) return '-inf'
  if (Number.isNaN(x)) return 'nan'
  if (x === 0) return Object.is(x, -0) ? '-0' : '0'
  const exp = Math.floor(Math.log10(Math.abs(x)))
  let text: string
  if (exp < -4 || exp >= 17) {
    const [mantissa, e] = x.toExponential(16).split('e')
    const m = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa
    const ev = Number(e)
    text = `${m}e${ev < 0 ? '-' : '+'}${String(Math.abs(ev)).padStart(2, '0')}`
  } else {
    text = x.toPrecision(17)
    if (text.includes('.')) text = text.replace(/0+$/, '').replace(/\.$/, '')
  }
  return text
}

/** Values this long or longer are written as their own chunk rather than copied into the batch buffer. */
const DIRECT_WRITE = 16 * 1024
const INITIAL_CAPACITY = 16 * 1024

/**
 * Encodes the replies of one batch of requests. Small pieces are encoded into one reusable buffer; `take`
 * copies what was written out (a pooled Buffer for small batches) so the connection does one write per batch,
 * and big values travel as their own chunks without a copy.
 */
export class RespWriter {
  private buf = Buffer.allocUnsafe(INITIAL_CAPACITY)
  private len = 0
  private chunks: Buffer[] = []
  private chunkBytes = 0
  /**
   * Memory the next read overwrites (the listener's read buffer, socket-reader.ts): a big value in it is copied
   * rather than sent as a chunk of its own, which the socket may still hold after this batch.
   */
  borrowed: ArrayBufferLike | null = null
  /** 2 or 3 (HELLO): how maps, nulls, doubles and verbatim strings are written. */
  resp: 2 | 3 = 2

  /** Bytes written since the last take. */
  get size(): number {
    return this.chunkBytes + this.len
  }

  /** The batch's output, in order; the writer is empty afterwards. */
  take(): Buffer[] {
    this.spill()
    const out = this.chunks
    this.chunks = []
    this.chunkBytes = 0
    return out
  }

  /**
   * Writes the batch to `socket` in one write. Small batches leave straight from the reusable buffer when the
   * socket has nothing pending: a write that completes at once (the common case) leaves the buffer free again;
   * one the kernel could not take whole is still held by the socket, so the writer moves on to a new buffer.
   * Behind a pending write, or with big values as chunks of their own, the batch is copied out and corked.
   */
  send(socket: Socket): void {
    if (this.chunks.length === 0) {
      if (this.len === 0) return
      if (socket.writableLength === 0 && socket.writableCorked === 0) {
        const view = this.buf.subarray(0, this.len)
        this.len = 0
        socket.write(view)
        if (socket.writableLength !== 0) this.buf = Buffer.allocUnsafe(this.buf.length)
        return
      }
    }
    const chunks = this.take()
    if (chunks.length === 1) {
      socket.write(chunks[0])
      return
    }
    socket.cork()
    for (const c of chunks) socket.write(c)
    socket.uncork()
  }

  /** Forget what was written (a dropped client). */
  discard(): void {
    this.len = 0
    this.chunks = []
    this.chunkBytes = 0
  }

  private spill(): void {
    if (this.len === 0) return
    const copy = Buffer.allocUnsafe(this.len)
    this.buf.copy(copy, 0, 0, this.len)
    this.chunks.push(copy)
    this.chunkBytes += this.len
    this.len = 0
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return
    this.spill()
    if (n > this.buf.length) {
      let size = this.buf.length
      while (size < n) size *= 2
      this.buf = Buffer.allocUnsafe(size)
    }
  }

  private byte(c: number): void {
    this.buf[this.len++] = c
  }

  private crlf(): void {
    this.buf[this.len++] = CR
    this.buf[this.len++] = LF
  }

  /** A non-negative safe integer in decimal, without making a string. */
  private decimal(n: number): void {
    if (n < 10) {
      this.buf[this.len++] = 48 + n
      return
    }
    let digits = 1
    for (let p = 10; p <= n; p *= 10) digits++
    let i = this.len + digits
    this.len = i
    while (n > 0) {
      const q = Math.floor(n / 10)
      this.buf[--i] = 48 + (n - q * 10)
      n = q
    }
  }

  /** `<marker><n>\r\n` for a length or an integer. */
  private header(marker: number, n: number): void {
    this.ensure(24)
    this.byte(marker)
    if (n < 0) {
      this.byte(45)
      n = -n
    }
    this.decimal(n)
    this.crlf()
  }

  private ascii(text: string): void {
    this.ensure(text.length)
    this.len += this.buf.write(text, this.len, 'latin1')
  }

  /** `+text` (no CR or LF in it). */
  simple(text: string): void {
    this.ensure(Buffer.byteLength(text) + 3)
    this.byte(43)
    this.len += this.buf.write(text, this.len, 'utf8')
    this.crlf()
  }

  ok(): void {
    this.ensure(5)
    this.byte(43)
    this.byte(79)
    this.byte(75)
    this.crlf()
  }

  /** `-text`: the text starts with its code (ERR, NOAUTH, OOM, …); CR and LF become spaces, as Redis does. */
  error(text: string): void {
    const clean = /[\r\n]/.test(text) ? text.replace(/[\r\n]/g, ' ') : text
    this.ensure(Buffer.byteLength(clean) + 3)
    this.byte(45)
    this.len += this.buf.write(clean, this.len, 'utf8')
    this.crlf()
  }

  integer(n: number | bigint): void {
    if (typeof n === 'bigint' || !Number.isSafeInteger(n)) {
      this.ensure(24)
      this.byte(58)
      this.ascii(String(n))
      this.crlf()
      return
    }
    this.header(58, n)
  }

  /** A bulk string of bytes. */
  bulk(value: Uint8Array): void {
    const n = value.length
    this.header(36, n)
    if (n >= DIRECT_WRITE) {
      this.spill()
      if (value.buffer === this.borrowed) this.chunks.push(Buffer.from(value))
      else this.chunks.push(Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, n))
      this.chunkBytes += n
    } else {
      this.ensure(n + 2)
      this.buf.set(value, this.len)
      this.len += n
    }
    this.ensure(2)
    this.crlf()
  }

  /** A bulk string of a JS string's UTF-8. */
  bulkString(text: string): void {
    const n = Buffer.byteLength(text)
    this.header(36, n)
    this.ensure(n + 2)
    this.len += this.buf.write(text, this.len, 'utf8')
    this.crlf()
  }

  /** RESP3's null (`_`); RESP2's null bulk (`$-1`). */
  nil(): void {
    if (this.resp === 3) {
      this.ensure(3)
      this.byte(95)
      this.crlf()
    } else {
      this.header(36, -1)
    }
  }

  /** RESP3's null (`_`); RESP2's null array (`*-1`). */
  nilArray(): void {
    if (this.resp === 3) this.nil()
    else this.header(42, -1)
  }

  array(n: number): void {
    this.header(42, n)
  }

  /** RESP3's map of n pairs; RESP2's flat array of 2n. */
  map(n: number): void {
    if (this.resp === 3) this.header(37, n)
    else this.header(42, 2 * n)
  }

  /** RESP3's set; RESP2's array. */
  set(n: number): void {
    this.header(this.resp === 3 ? 126 : 42, n)
  }

  /** RESP3's double (`,`); RESP2's bulk string of '%.17g'. */
  double(x: number): void {
    const text = formatDouble(x)
    if (this.resp === 3) {
      this.ensure(text.length + 3)
      this.byte(44)
      this.ascii(text)
      this.crlf()
    } else {
      this.bulkString(text)
    }
  }

  /** RESP3's verbatim string (`=N\r\ntxt:…`), RESP2's bulk string, as Redis's addReplyVerbatim. */
  verbatim(text: string): void {
    if (this.resp === 2) {
      this.bulkString(text)
      return
    }
    const n = Buffer.byteLength(text) + 4
    this.header(61, n)
    this.ensure(n + 2)
    this.len += this.buf.write('txt:', this.len, 'latin1')
    this.len += this.buf.write(text, this.len, 'utf8')
    this.crlf()
  }

  /** Bytes already encoded (a key in its wire form, from keys.ts). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length)
    this.buf.set(bytes, this.len)
    this.len += bytes.length
  }
}
