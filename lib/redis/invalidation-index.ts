// Which cached commands a Redis key backs (see ARCHITECTURE.md "Near cache"). For each Redis key with cached
// replies the engine holds one index entry, named NUL + the key: a token (a number never reused by this cache)
// then the cache keys of the entries it backs. It lives in the same engine as the entries, so its bytes count in
// used_memory and maxmemory bounds it with them.
//
// Eviction may take an index entry and leave its entries behind. Each entry therefore records, per Redis key, the
// token it was linked under, and a hit checks them: an entry whose index entry was evicted (or dropped and made
// again with a new token) no longer matches and is a miss. So losing the index can cost hits, never coherence.
import type { Engine } from '../engine.js'

/** Index entries are named NUL + key; cache keys never start with NUL (see cacheKeyOf). */
export const INDEX_PREFIX = '\u0000'

/** Bytes of the token at the head of an index entry and of each token in an entry's header. */
export const TOKEN_BYTES = 8

export function isIndexName(name: string): boolean {
  return name.charCodeAt(0) === 0
}

export class InvalidationIndex {
  readonly #engine: Engine
  readonly #ttl: number
  readonly #tokenBuf = Buffer.alloc(TOKEN_BYTES)
  #nextToken = 1
  /** Index entries now in the engine (kept by the cache from create/drop and the engine's events). */
  count = 0

  /** @param ttl ms an index entry lives after its last link (0: no TTL), the cache's entry TTL. */
  constructor(engine: Engine, ttl: number) {
    this.#engine = engine
    this.#ttl = ttl
  }

  /** The token of `key`'s index entry, or 0 when it has none. */
  token(key: string): number {
    const n = this.#engine.getInto(INDEX_PREFIX + key, this.#tokenBuf)
    return n < TOKEN_BYTES ? 0 : this.#tokenBuf.readDoubleLE(0)
  }

  /**
   * Records that `cacheKey` is backed by `key`, creating the index entry when there is none.
   * @returns the entry's token, which the cached entry stores.
   * @throws ArenaKVError ERR_OOM when the engine cannot make room (the caller then does not cache).
   */
  link(key: string, cacheKey: string): number {
    const name = INDEX_PREFIX + key
    const opts = this.#ttl > 0 ? { px: this.#ttl } : undefined
    const cur = this.#engine.get(name)
    const member = Buffer.from(cacheKey, 'utf8')
    if (cur === undefined || cur.length < TOKEN_BYTES) {
      const token = this.#nextToken++
      const value = Buffer.allocUnsafe(TOKEN_BYTES + 4 + member.length)
      value.writeDoubleLE(token, 0)
      value.writeUInt32LE(member.length, TOKEN_BYTES)
      member.copy(value, TOKEN_BYTES + 4)
      this.#engine.set(name, value, opts)
      if (cur === undefined) this.count++
      return token
    }
    const token = cur.readDoubleLE(0)
    if (!listHas(cur, member)) {
      const value = Buffer.allocUnsafe(cur.length + 4 + member.length)
      cur.copy(value, 0)
      value.writeUInt32LE(member.length, cur.length)
      member.copy(value, cur.length + 4)
      this.#engine.set(name, value, opts)
    } else if (opts) {
      this.#engine.pexpire(name, this.#ttl)
    }
    return token
  }

  /** Removes `key`'s index entry. @returns the cache keys it listed (the caller deletes them). */
  drop(key: string): string[] {
    const cur = this.#engine.getdel(INDEX_PREFIX + key)
    if (cur === undefined) return []
    this.count--
    return listMembers(cur)
  }

  /** The engine was flushed: no index entry is left. */
  reset(): void {
    this.count = 0
  }
}

function listHas(entry: Buffer, member: Buffer): boolean {
  let pos = TOKEN_BYTES
  while (pos + 4 <= entry.length) {
    const n = entry.readUInt32LE(pos)
    pos += 4
    if (n === member.length && entry.compare(member, 0, n, pos, pos + n) === 0) return true
    pos += n
  }
  return false
}

/** The cache keys an index entry lists. */
export function listMembers(entry: Buffer): string[] {
  const out: string[] = []
  let pos = TOKEN_BYTES
  while (pos + 4 <= entry.length) {
    const n = entry.readUInt32LE(pos)
    pos += 4
    if (pos + n > entry.length) break
    out.push(entry.toString('utf8', pos, pos + n))
    pos += n
  }
  return out
}
