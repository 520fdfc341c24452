// Which cached commands a Redis key backs (see ARCHITECTURE.md "Near cache"). For each Redis key with cached
// replies the engine holds one key entry, named by the key itself (see keyEntryName): a token (a number never reused by this cache), then
// its members. A command with that one key (GET, HGETALL …) is a member holding its reply (and, with a ttl, its
// expire time) inline, so a hit is one
// lookup, and eviction or invalidation takes the key's replies all at once. A command of several keys (MGET …) is
// an entry of its own, listed by name in each of its keys' entries and carrying their tokens.
//
// It all lives in the same engine, so its bytes count in used_memory and maxmemory bounds them. Eviction may take
// a key entry and leave a multi-key entry behind, unlisted: a hit therefore checks that entry's tokens, and one
// whose key entry was evicted (or dropped and made again with a new token) is a miss. Losing the index can cost
// hits, never coherence.
import { engineInternals, type Engine, type EngineInternalAccess } from '../engine.js'

/** Multi-key entries are named NUL 'm' + their arguments (cacheKeyOf); key entries never start so. */
export const MULTI_PREFIX = '\u0000m'

/**
 * The name of a Redis key's entry: the key itself, so the engine hashes the caller's string as it is (no copy
 * per hit); a key that starts with NUL gets a second NUL in front, so it cannot look like a multi-key entry.
 */
export function keyEntryName(key: string): string {
  return key.charCodeAt(0) === 0 ? '\u0000\u0000' + key : key
}

/** Bytes of the token at the head of a key entry and of each token in a multi-key entry's header. */
export const TOKEN_BYTES = 8

/** Member kinds. */
const REF = 0
const INLINE = 1
/** After an inline member's name: its expire time (unix ms as a double, 0 for none), then the reply's length. */
const INLINE_META = 12

/** Whether an engine key is a key entry (else a multi-key entry). */
export function isIndexName(name: string): boolean {
  return !(name.charCodeAt(0) === 0 && name.charCodeAt(1) === 0x6d)
}

/** Where `find` left the reply it found: bytes [start, end) of the buffer it returned. */
export interface Found {
  buf: Buffer
  start: number
  end: number
}

export class InvalidationIndex {
  readonly #engine: Engine
  readonly #ttl: number
  readonly #internals: EngineInternalAccess
  #nextToken = 1
  /** Key entries now in the engine (kept by the cache from create/drop and the engine's events). */
  count = 0

  /** @param ttl ms a key entry lives after its last change (0: no TTL), the cache's entry TTL. */
  constructor(engine: Engine, ttl: number) {
    this.#engine = engine
    this.#internals = engineInternals(engine)
    this.#ttl = ttl
  }

  /** The token of `key`'s entry, or 0 when it has none. */
  token(key: string): number {
    const n = this.#internals.readScratch(keyEntryName(key))
    return n < TOKEN_BYTES ? 0 : this.#internals.scratch.readDoubleLE(0)
  }

  /**
   * The inline reply of the command `args` under `key`, into `out`, or false. One engine lookup that leaves the
   * entry in the engine's scratch buffer (no copy, no string made): `out` is valid until the next engine call.
   */
  find(key: string, args: readonly (string | Uint8Array)[], out: Found): boolean {
    const name = keyEntryName(key)
    let n = this.#internals.readScratch(name)
    if (n < 0) return false
    let buf = this.#internals.scratch
    if (n > buf.length) {
      // Larger than the scratch buffer (64 KiB): read again, as a Buffer of its own.
      const full = this.#engine.get(name)
      if (full === undefined) return false
      buf = full
      n = full.length
    }
    let pos = TOKEN_BYTES
    while (pos + 5 <= n) {
      const kind = buf[pos]
      const nameEnd = pos + 5 + u32(buf, pos + 1)
      if (kind !== INLINE) {
        pos = nameEnd
        continue
      }
      const replyStart = nameEnd + INLINE_META
      if (replyStart > n) return false
      const replyEnd = replyStart + u32(buf, nameEnd + 8)
      if (replyEnd > n) return false
      if (argsMatch(buf, pos + 5, nameEnd, args, key)) {
        // A reply past the cache's ttl is a miss, though its key entry lives on for younger replies.
        if (this.#ttl > 0) {
          const expiresAt = buf.readDoubleLE(nameEnd)
          if (expiresAt !== 0 && expiresAt <= Date.now()) return false
        }
        out.buf = buf
        out.start = replyStart
        out.end = replyEnd
        return true
      }
      pos = replyEnd
    }
    return false
  }

  /**
   * Stores `reply` inline under `key` for the command `args` (replacing an older reply of the same command).
   * @throws ArenaKVError ERR_OOM when the engine cannot make room (the caller then does not cache).
   */
  putInline(key: string, args: readonly (string | Uint8Array)[], reply: Uint8Array): void {
    const name = keyEntryName(key)
    const cur = this.#engine.get(name)
    const nameBytes = argsBytes(args, key)
    // Most puts make a new entry: written in one buffer, with no intermediate copies.
    const kept = cur === undefined || cur.length < TOKEN_BYTES ? null : without(cur, INLINE, encodeArgs(args, key))
    const headLength = kept === null ? TOKEN_BYTES : kept.length
    const value = Buffer.allocUnsafe(headLength + 5 + nameBytes + INLINE_META + reply.length)
    if (kept === null) value.writeDoubleLE(this.#nextToken++, 0)
    else kept.copy(value, 0)
    let pos = headLength
    value[pos] = INLINE
    value.writeUInt32LE(nameBytes, pos + 1)
    pos = writeArgs(value, pos + 5, args, key)
    value.writeDoubleLE(this.#ttl > 0 ? Date.now() + this.#ttl : 0, pos)
    value.writeUInt32LE(reply.length, pos + 8)
    value.set(reply, pos + INLINE_META)
    this.#engine.set(name, value, this.#ttl > 0 ? { px: this.#ttl } : undefined)
    if (cur === undefined) this.count++
  }

  /**
   * Records that the multi-key entry `cacheKey` is backed by `key`, creating the key entry when there is none.
   * @returns the entry's token, which the multi-key entry stores.
   * @throws ArenaKVError ERR_OOM when the engine cannot make room (the caller then does not cache).
   */
  link(key: string, cacheKey: string): number {
    const name = keyEntryName(key)
    const opts = this.#ttl > 0 ? { px: this.#ttl } : undefined
    const cur = this.#engine.get(name)
    const member = Buffer.from(cacheKey, 'utf8')
    if (cur === undefined || cur.length < TOKEN_BYTES) {
      const token = this.#nextToken++
      this.#engine.set(name, Buffer.concat([newHead(token), refMember(member)]), opts)
      if (cur === undefined) this.count++
      return token
    }
    const token = cur.readDoubleLE(0)
    if (findMember(cur, REF, member) < 0) this.#engine.set(name, Buffer.concat([cur, refMember(member)]), opts)
    else if (opts) this.#engine.pexpire(name, this.#ttl)
    return token
  }

  /** Removes `key`'s entry (its inline replies with it). @returns the multi-key entries it listed (the caller deletes them). */
  drop(key: string): string[] {
    const cur = this.#engine.getdel(keyEntryName(key))
    if (cur === undefined) return []
    this.count--
    return refNames(cur)
  }

  /** The engine was flushed: no key entry is left. */
  reset(): void {
    this.count = 0
  }
}

/**
 * A command's arguments as an inline member's name: per argument 's' (string, as UTF-8), 'b' (bytes) or 'k' (the
 * entry's own key, no bytes: the engine lookup has matched it already), a u32 length, the bytes.
 */
export function encodeArgs(args: readonly (string | Uint8Array)[], key: string): Buffer {
  const out = Buffer.allocUnsafe(argsBytes(args, key))
  writeArgs(out, 0, args, key)
  return out
}

function argsBytes(args: readonly (string | Uint8Array)[], key: string): number {
  let n = 0
  for (const a of args) n += 5 + (a === key ? 0 : typeof a === 'string' ? Buffer.byteLength(a, 'utf8') : a.length)
  return n
}

/** Writes encodeArgs(args, key) at `pos`; returns the end. */
function writeArgs(out: Buffer, pos: number, args: readonly (string | Uint8Array)[], key: string): number {
  for (const a of args) {
    if (a === key) {
      out[pos] = ARG_KEY
      out.writeUInt32LE(0, pos + 1)
      pos += 5
    } else if (typeof a === 'string') {
      out[pos] = ARG_STRING
      const n = out.write(a, pos + 5, 'utf8')
      out.writeUInt32LE(n, pos + 1)
      pos += 5 + n
    } else {
      out[pos] = ARG_BYTES
      out.writeUInt32LE(a.length, pos + 1)
      out.set(a, pos + 5)
      pos += 5 + a.length
    }
  }
  return pos
}

const ARG_STRING = 0x73
const ARG_BYTES = 0x62
const ARG_KEY = 0x6b

/** A little-endian u32 at `pos` (the caller has checked the bounds). */
function u32(buf: Uint8Array, pos: number): number {
  return (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16)) + buf[pos + 3] * 0x1000000
}

/** Whether bytes [start, end) are encodeArgs(args, key), compared in place: ASCII strings char by char, no copy. */
export function argsMatch(buf: Uint8Array, start: number, end: number, args: readonly (string | Uint8Array)[], key: string): boolean {
  let pos = start
  for (let j = 0; j < args.length; j++) {
    const a = args[j]
    if (pos + 5 > end) return false
    const type = buf[pos]
    const n = u32(buf, pos + 1)
    pos += 5
    if (pos + n > end) return false
    if (a === key) {
      // node-redis passes the key and the argument as one string: the comparison is by identity.
      if (type !== ARG_KEY || n !== 0) return false
    } else if (typeof a === 'string') {
      if (type !== ARG_STRING || n < a.length) return false
      if (n === a.length) {
        // As many bytes as units: equal only if every unit is ASCII and the same byte (a non-ASCII unit takes
        // two or more UTF-8 bytes).
        for (let i = 0; i < n; i++) {
          const c = a.charCodeAt(i)
          if (c >= 0x80 || buf[pos + i] !== c) return false
        }
      } else if (Buffer.compare(Buffer.from(a, 'utf8'), buf.subarray(pos, pos + n)) !== 0) {
        return false
      }
    } else {
      if (type !== ARG_BYTES || n !== a.length) return false
      for (let i = 0; i < n; i++) if (buf[pos + i] !== a[i]) return false
    }
    pos += n
  }
  return pos === end
}

function newHead(token: number): Buffer {
  const b = Buffer.allocUnsafe(TOKEN_BYTES)
  b.writeDoubleLE(token, 0)
  return b
}

function refMember(member: Buffer): Buffer {
  const b = Buffer.allocUnsafe(5 + member.length)
  b[0] = REF
  b.writeUInt32LE(member.length, 1)
  member.copy(b, 5)
  return b
}

/** Calls `each(kind, nameStart, nameEnd, memberEnd)` for every well-formed member; stops at the first bad one. */
function forEachMember(entry: Buffer, each: (kind: number, nameStart: number, nameEnd: number, memberEnd: number) => boolean | void): void {
  let pos = TOKEN_BYTES
  while (pos + 5 <= entry.length) {
    const kind = entry[pos]
    const nameStart = pos + 5
    const nameEnd = nameStart + entry.readUInt32LE(pos + 1)
    if (nameEnd > entry.length) return
    let end = nameEnd
    if (kind === INLINE) {
      if (nameEnd + INLINE_META > entry.length) return
      end = nameEnd + INLINE_META + entry.readUInt32LE(nameEnd + 8)
      if (end > entry.length) return
    }
    if (each(kind, nameStart, nameEnd, end) === true) return
    pos = end
  }
}

/** The offset of the member of this kind and name, or -1. */
function findMember(entry: Buffer, kind: number, member: Buffer): number {
  let at = -1
  forEachMember(entry, (k, s, e) => {
    if (k === kind && e - s === member.length && entry.compare(member, 0, member.length, s, e) === 0) {
      at = s - 5
      return true
    }
  })
  return at
}

/** The entry without its member of this kind and name (the entry itself when it has none). */
function without(entry: Buffer, kind: number, member: Buffer): Buffer {
  const at = findMember(entry, kind, member)
  if (at < 0) return entry
  let end = at
  forEachMember(entry, (_k, s, _e, memberEnd) => {
    if (s - 5 === at) {
      end = memberEnd
      return true
    }
  })
  return Buffer.concat([entry.subarray(0, at), entry.subarray(end)])
}

/** The multi-key entries a key entry lists. */
export function refNames(entry: Buffer): string[] {
  const out: string[] = []
  forEachMember(entry, (kind, s, e) => {
    if (kind === REF) out.push(entry.toString('utf8', s, e))
  })
  return out
}

/** Every member's name and kind (tests, tools). */
export function members(entry: Buffer): { name: string; inline: boolean }[] {
  const out: { name: string; inline: boolean }[] = []
  forEachMember(entry, (kind, s, e) => {
    out.push({ name: entry.toString('utf8', s, e), inline: kind === INLINE })
  })
  return out
}
