// The bytes a cached reply is stored as (see ARCHITECTURE.md "Near cache"). A reply from node-redis, after its
// transformReply, is a tree of strings, Buffers, numbers, bigints, booleans, nulls, arrays, plain objects, Maps,
// Sets and verbatim strings (String objects carrying a `format`); it is written once, as a version byte then one
// tagged item, and decoded into a fresh tree on every hit, so each caller owns what it gets and nothing pays a
// structuredClone. A reply holding anything else (an Error, a class instance) is refused with a TypeError and is
// simply not cached.
import { ArenaKVError } from '../errors.js'

/** The first byte of every encoding; decode refuses any other. */
export const REPLY_CODEC_VERSION = 1

/** Nesting deeper than this is refused (replies are trees; a cycle would otherwise recurse forever). */
export const MAX_DEPTH = 256

const enum Tag {
  Null = 0,
  Undefined = 1,
  True = 2,
  False = 3,
  String = 4,
  Buffer = 5,
  Int = 6,
  Double = 7,
  BigInt = 8,
  Array = 9,
  Object = 10,
  Map = 11,
  Set = 12,
  Verbatim = 13,
}

/** Flag of Tag.Object: the object was made with a null prototype (node-redis's tuple replies are). */
const OBJECT_NULL_PROTO = 1

/** A string object with Redis's verbatim format ("txt", "mkd"), as node-redis's VerbatimString is. */
export type VerbatimFactory = (format: string, value: string) => unknown

const defaultVerbatim: VerbatimFactory = (format, value) => Object.assign(new String(value), { format })

function corrupt(detail: string): ArenaKVError {
  return new ArenaKVError('ERR_CORRUPT', `cached reply is corrupt: ${detail}`)
}

/**
 * Writes replies into one growing buffer, reused from call to call; `encode` returns a view of it that is valid
 * until the next call (the engine copies it on SET).
 */
export class ReplyEncoder {
  #buf: Buffer
  #view: DataView
  #pos = 0

  constructor(initialBytes = 1024) {
    this.#buf = Buffer.allocUnsafe(initialBytes)
    this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength)
  }

  /**
   * Encodes `value` after `header` bytes the caller fills in afterwards (the cache's entry header).
   * @throws TypeError for a value of a type no reply has; RangeError for nesting deeper than {@link MAX_DEPTH}.
   */
  encode(value: unknown, header = 0): Buffer {
    this.#pos = 0
    this.#ensure(header + 1)
    this.#pos = header
    this.#buf[this.#pos++] = REPLY_CODEC_VERSION
    this.#item(value, 0)
    return this.#buf.subarray(0, this.#pos)
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return
    let size = this.#buf.length * 2
    while (size < this.#pos + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.#buf.copy(next, 0, 0, this.#pos)
    this.#buf = next
    this.#view = new DataView(next.buffer, next.byteOffset, next.byteLength)
  }

  #varint(n: number): void {
    this.#ensure(8)
    while (n >= 0x80) {
      this.#buf[this.#pos++] = (n & 0x7f) | 0x80
      n = Math.floor(n / 128)
    }
    this.#buf[this.#pos++] = n
  }

  #bytes(src: Uint8Array): void {
    this.#varint(src.length)
    this.#ensure(src.length)
    this.#buf.set(src, this.#pos)
    this.#pos += src.length
  }

  #string(s: string): void {
    // Short strings: the UTF-8 length fits the one-byte varint, so write the bytes first and the length after.
    if (s.length <= 42) {
      this.#ensure(1 + s.length * 3)
      const n = this.#buf.write(s, this.#pos + 1, 'utf8')
      this.#buf[this.#pos] = n
      this.#pos += 1 + n
      return
    }
    const n = Buffer.byteLength(s, 'utf8')
    this.#varint(n)
    this.#ensure(n)
    this.#buf.write(s, this.#pos, n, 'utf8')
    this.#pos += n
  }

  #tag(tag: Tag): void {
    this.#ensure(1)
    this.#buf[this.#pos++] = tag
  }

  #item(v: unknown, depth: number): void {
    if (depth > MAX_DEPTH) throw new RangeError(`reply nests deeper than ${MAX_DEPTH} levels`)
    switch (typeof v) {
      case 'string':
        this.#tag(Tag.String)
        this.#string(v)
        return
      case 'number':
        if (Number.isInteger(v) && Math.abs(v) <= 0x3fffffff && !Object.is(v, -0)) {
          this.#tag(Tag.Int)
          this.#varint(v >= 0 ? v * 2 : -v * 2 - 1) // zigzag
        } else {
          this.#tag(Tag.Double)
          this.#ensure(8)
          this.#view.setFloat64(this.#pos, v, true)
          this.#pos += 8
        }
        return
      case 'bigint':
        this.#tag(Tag.BigInt)
        this.#string(v.toString())
        return
      case 'boolean':
        this.#tag(v ? Tag.True : Tag.False)
        return
      case 'undefined':
        this.#tag(Tag.Undefined)
        return
      case 'object':
        break
      default:
        throw new TypeError(`a reply cannot hold a ${typeof v}`)
    }
    if (v === null) return this.#tag(Tag.Null)
    if (v instanceof Uint8Array) {
      this.#tag(Tag.Buffer)
      return this.#bytes(v)
    }
    if (Array.isArray(v)) {
      this.#tag(Tag.Array)
      this.#varint(v.length)
      for (let i = 0; i < v.length; i++) this.#item(v[i], depth + 1)
      return
    }
    if (v instanceof Map) {
      this.#tag(Tag.Map)
      this.#varint(v.size)
      for (const [k, x] of v) {
        this.#item(k, depth + 1)
        this.#item(x, depth + 1)
      }
      return
    }
    if (v instanceof Set) {
      this.#tag(Tag.Set)
      this.#varint(v.size)
      for (const x of v) this.#item(x, depth + 1)
      return
    }
    if (v instanceof String) {
      const format: unknown = (v as { format?: unknown }).format
      if (typeof format !== 'string') throw new TypeError('a String object in a reply must be a verbatim string (with a format)')
      this.#tag(Tag.Verbatim)
      this.#string(format)
      this.#string(v.valueOf())
      return
    }
    const proto: unknown = Object.getPrototypeOf(v)
    if (proto !== null && proto !== Object.prototype) {
      throw new TypeError(`a reply cannot hold a ${(v as object).constructor?.name ?? 'class instance'}`)
    }
    const keys = Object.keys(v)
    this.#tag(Tag.Object)
    this.#ensure(1)
    this.#buf[this.#pos++] = proto === null ? OBJECT_NULL_PROTO : 0
    this.#varint(keys.length)
    for (const k of keys) {
      this.#string(k)
      this.#item((v as Record<string, unknown>)[k], depth + 1)
    }
  }
}

/** Reads one encoding; every read is bounds-checked, so bad bytes give ERR_CORRUPT, never a wrong value or a crash. */
class Reader {
  pos: number

  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
    readonly verbatim: VerbatimFactory,
  ) {
    this.pos = start
  }

  byte(): number {
    if (this.pos >= this.end) throw corrupt('truncated')
    return this.buf[this.pos++]
  }

  varint(): number {
    let n = 0
    let mul = 1
    for (let i = 0; i < 8; i++) {
      const b = this.byte()
      n += (b & 0x7f) * mul
      if (b < 0x80) return n
      mul *= 128
    }
    throw corrupt('length too long')
  }

  span(): number {
    const n = this.varint()
    if (n > this.end - this.pos) throw corrupt('truncated')
    return n
  }

  string(): string {
    const n = this.span()
    const s = this.buf.toString('utf8', this.pos, this.pos + n)
    this.pos += n
    return s
  }

  count(): number {
    // Every item takes at least one byte: a count beyond the bytes left is corrupt (and would allocate for nothing).
    const n = this.varint()
    if (n > this.end - this.pos) throw corrupt('count beyond the end')
    return n
  }

  item(depth: number): unknown {
    if (depth > MAX_DEPTH) throw corrupt('nested too deep')
    const tag = this.byte()
    switch (tag) {
      case Tag.Null:
        return null
      case Tag.Undefined:
        return undefined
      case Tag.True:
        return true
      case Tag.False:
        return false
      case Tag.String:
        return this.string()
      case Tag.Buffer: {
        const n = this.span()
        const out = Buffer.allocUnsafe(n)
        this.buf.copy(out, 0, this.pos, this.pos + n)
        this.pos += n
        return out
      }
      case Tag.Int: {
        const z = this.varint()
        return z % 2 === 0 ? z / 2 : -(z + 1) / 2
      }
      case Tag.Double: {
        if (this.end - this.pos < 8) throw corrupt('truncated')
        const d = this.buf.readDoubleLE(this.pos)
        this.pos += 8
        return d
      }
      case Tag.BigInt: {
        const s = this.string()
        if (!/^-?\d+$/.test(s)) throw corrupt('bad big number')
        return BigInt(s)
      }
      case Tag.Array: {
        const n = this.count()
        const out = new Array<unknown>(n)
        for (let i = 0; i < n; i++) out[i] = this.item(depth + 1)
        return out
      }
      case Tag.Object: {
        const flags = this.byte()
        if (flags > OBJECT_NULL_PROTO) throw corrupt('bad object flags')
        const n = this.count()
        const out: Record<string, unknown> = flags === OBJECT_NULL_PROTO ? Object.create(null) : {}
        for (let i = 0; i < n; i++) {
          const k = this.string()
          // defineProperty, not assignment: a key named "__proto__" stays a plain key.
          Object.defineProperty(out, k, { value: this.item(depth + 1), enumerable: true, writable: true, configurable: true })
        }
        return out
      }
      case Tag.Map: {
        const n = this.count()
        const out = new Map<unknown, unknown>()
        for (let i = 0; i < n; i++) {
          const k = this.item(depth + 1)
          out.set(k, this.item(depth + 1))
        }
        return out
      }
      case Tag.Set: {
        const n = this.count()
        const out = new Set<unknown>()
        for (let i = 0; i < n; i++) out.add(this.item(depth + 1))
        return out
      }
      case Tag.Verbatim: {
        const format = this.string()
        return this.verbatim(format, this.string())
      }
      default:
        throw corrupt(`unknown tag ${tag}`)
    }
  }
}

/**
 * Decodes the encoding in `buf[start, end)` into a new value tree.
 * @throws ArenaKVError `ERR_CORRUPT` for another version, truncated bytes, an unknown tag or trailing bytes.
 */
export function decodeReply(buf: Buffer, start = 0, end = buf.length, verbatim: VerbatimFactory = defaultVerbatim): unknown {
  if (!Buffer.isBuffer(buf)) throw new TypeError('decodeReply expects a Buffer')
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > buf.length || start > end) {
    throw new RangeError(`decodeReply range [${start}, ${end}) is outside the buffer (${buf.length} bytes)`)
  }
  return decodeRange(buf, start, end, verbatim)
}

/** Node's Buffer#utf8Slice: toString('utf8', …) without the argument handling (~10 ns a call). */
type Utf8Slicer = Buffer & { utf8Slice?: (start: number, end: number) => string }

/**
 * decodeReply for a range the caller has checked (the cache's own buffers): the same bytes give the same value
 * or the same ERR_CORRUPT.
 */
export function decodeRange(buf: Buffer, start: number, end: number, verbatim: VerbatimFactory = defaultVerbatim): unknown {
  if (start === end) throw corrupt('empty')
  const version = buf[start]
  if (version !== REPLY_CODEC_VERSION) throw corrupt(`version ${version}, expected ${REPLY_CODEC_VERSION}`)
  // The common hit, a string (GET) with a length of one or two varint bytes, without a Reader.
  if (buf[start + 1] === Tag.String && end - start >= 3) {
    let n = buf[start + 2]
    let at = start + 3
    if (n >= 0x80) n = at < end && buf[at] < 0x80 ? (n & 0x7f) + buf[at++] * 128 : -1
    if (n >= 0 && at + n === end) {
      const b = buf as Utf8Slicer
      return b.utf8Slice !== undefined ? b.utf8Slice(at, end) : buf.toString('utf8', at, end)
    }
  }
  const r = new Reader(buf, start + 1, end, verbatim)
  const value = r.item(0)
  if (r.pos !== end) throw corrupt(`${end - r.pos} trailing bytes`)
  return value
}

/** One-shot encoding into a new Buffer (tests, tools); the cache reuses a {@link ReplyEncoder}. */
export function encodeReply(value: unknown): Buffer {
  return Buffer.from(new ReplyEncoder(64).encode(value))
}
