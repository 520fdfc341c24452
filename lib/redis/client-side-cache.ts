// arenakv as node-redis's client-side cache (see ARCHITECTURE.md "Near cache"). node-redis asks the server for
// CLIENT TRACKING on every connection that has a cache (trackingOn), routes each RESP3 `invalidate` push to
// invalidate(key) (null when the server flushed or reset its tracking table), calls onError/onClose when a
// connection fails or closes, and sends every cacheable command of the default type mapping through handleCache.
// It recognises a provider with instanceof, and pools, clusters and sentinels accept one only if it is a
// PooledClientSideCacheProvider, whose sole public subclass is BasicPooledClientSideCache: so this class extends
// that one and replaces every hook it calls, leaving the base's own maps empty.
import { BasicPooledClientSideCache, VerbatimString } from 'redis'
import { Engine } from '../engine.js'
import type { EngineOptions } from '../config.js'
import { ArenaKVError } from '../errors.js'
import { decodeRange, decodeReply, ReplyEncoder, type VerbatimFactory } from './reply-codec.js'
import { InvalidationIndex, isIndexName, MULTI_PREFIX, TOKEN_BYTES, type Found } from './invalidation-index.js'
import { CacheStatsSnapshot } from './stats.js'

type HandleCache = BasicPooledClientSideCache['handleCache']
type CachingClient = Parameters<HandleCache>[0]
type CommandParser = Parameters<HandleCache>[1]
type CommandFn = Parameters<HandleCache>[2]
type TransformReply = NonNullable<Parameters<HandleCache>[3]>
type TypeMapping = NonNullable<Parameters<HandleCache>[4]>
type RedisArgument = CommandParser['keys'][number]

/** Options: an engine's (maxmemory, maxmemoryPolicy, samples, hz …) plus the entries' time to live. */
export interface ArenaKVClientSideCacheOptions extends EngineOptions {
  /** ms a cached reply may be served for, even without an invalidation; 0 (the default) for no limit. */
  ttl?: number
}

/** Why the cache was emptied, in the `'flush'` event. */
export type FlushReason = 'server' | 'error' | 'close' | 'clear'

/** A load in flight: concurrent misses on the same command wait for it; an invalidation of one of its keys marks it. */
interface Pending {
  readonly cacheKey: string
  readonly keys: readonly string[]
  readonly epoch: number
  invalidated: boolean
  waiters: number
  promise: Promise<Loaded>
}

interface Loaded {
  value: unknown
  /** The reply's encoding, copied for waiters to decode their own copy (undefined when it could not be encoded). */
  encoded: Buffer | undefined
}

const MISS: unique symbol = Symbol('miss')

const DEFAULT_MAXMEMORY = '64mb'
/** Entries up to this size are read with one lookup into the cache's scratch buffer. */
const SCRATCH_BYTES = 64 * 1024

const verbatim: VerbatimFactory = (format, value) => new VerbatimString(format, value)

/**
 * The cache key of a command, and the engine name of a multi-key command's entry: every argument with its type and
 * length, so distinct argument lists never share a key (node-redis's own joins the arguments' text, which Buffers
 * with the same UTF-8 rendering would), after NUL 'm', which no key entry's name starts with.
 */
export function cacheKeyOf(args: readonly RedisArgument[]): string {
  let key = MULTI_PREFIX
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (typeof a === 'string') key += 's' + a.length + ':' + a
    else key += 'b' + a.length + ':' + a.toString('latin1')
  }
  return key
}

function keyText(key: RedisArgument): string {
  return typeof key === 'string' ? key : key.toString()
}

function checkTtl(ttl: unknown): number {
  if (ttl === undefined) return 0
  if (typeof ttl !== 'number') throw new TypeError(`ttl must be a number of milliseconds, got ${typeof ttl}`)
  if (!Number.isSafeInteger(ttl) || ttl < 0) throw new RangeError(`ttl must be a non-negative integer of milliseconds, got ${ttl}`)
  return ttl
}

/**
 * node-redis's client-side cache kept in an arenakv {@link Engine}: replies are stored as bytes, bounded by
 * `maxmemory` with Redis's eviction policies, and coherent through the server's invalidations. Pass it as
 * `clientSideCache` to `createClient`, `createClientPool`, `createCluster` or `createSentinel` (with `RESP: 3`).
 *
 * Reads may be stale for as long as an invalidation takes to arrive; after a disconnect, an error or a server
 * flush the cache is empty before any later read is served from it.
 */
export class ArenaKVClientSideCache extends BasicPooledClientSideCache {
  /** The engine holding the entries: INFO, MEMORY STATS, `'evicted'` events. */
  readonly engine: Engine
  readonly #ttl: number
  readonly #index: InvalidationIndex
  readonly #encoder = new ReplyEncoder(4096)
  #scratch: Buffer = Buffer.allocUnsafe(4096)
  readonly #found: Found = { buf: Buffer.alloc(0), start: 0, end: 0 }
  readonly #pending = new Map<string, Pending>()
  readonly #pendingByKey = new Map<string, Set<Pending>>()
  /** Bumped by every flush: a load begun before it is not stored. */
  #epoch = 0
  #off = false
  #closed = false
  #hits = 0
  #misses = 0
  #invalidations = 0
  #flushes = 0
  #evictions = 0
  #loads = 0
  #loadFailures = 0
  #loadTime = 0

  constructor(options: ArenaKVClientSideCacheOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('ArenaKVClientSideCache options must be an object')
    const { ttl, ...engineOptions } = options
    const ttlMs = checkTtl(ttl)
    super({ ttl: ttlMs, maxEntries: 0, recordStats: false })
    this.engine = new Engine({ maxmemory: DEFAULT_MAXMEMORY, maxmemoryPolicy: 'allkeys-lru', ...engineOptions })
    this.#ttl = ttlMs
    this.#index = new InvalidationIndex(this.engine, ttlMs)
    const gone = (name: string): void => {
      if (isIndexName(name)) this.#index.count--
    }
    this.engine.on('evicted', (name) => {
      if (isIndexName(name)) this.#index.count--
      this.#evictions++
    })
    this.engine.on('expired', gone)
  }

  /** node-redis: the command a connection sends at handshake to have the server track what it reads. */
  override trackingOn(): string[] {
    return ['CLIENT', 'TRACKING', 'ON']
  }

  /**
   * node-redis: serves a cacheable command from the cache, or sends it and caches the reply. A hit is answered
   * synchronously, with the value itself rather than a promise of it: node-redis's one caller (the client's
   * `_executeCommand`) awaits what this returns, and an await takes a value as it takes a promise, so a hit
   * skips an async frame and its promise. A miss returns a promise.
   */
  override handleCache(
    _client: CachingClient,
    parser: CommandParser,
    fn: CommandFn,
    transformReply?: TransformReply,
    typeMapping?: TypeMapping,
  ): Promise<unknown> {
    const keys = parser.keys
    if (keys.length > 0 && !this.#off && !this.#closed) {
      let hit: unknown
      try {
        hit = keys.length === 1 ? this.#lookupOne(keyText(keys[0]), parser.redisArgs) : this.#lookupMulti(parser.redisArgs, keys.map(keyText))
      } catch (err) {
        // As an async method would: an error reaches the caller as a rejection, never thrown synchronously.
        return Promise.reject(err)
      }
      if (hit !== MISS) {
        this.#hits++
        // A decoded reply is never a thenable with a callable `then` (the codec makes no functions).
        return hit as Promise<unknown>
      }
    }
    return this.#handleSlow(parser, fn, transformReply, typeMapping)
  }

  async #handleSlow(parser: CommandParser, fn: CommandFn, transformReply: TransformReply | undefined, typeMapping: TypeMapping | undefined): Promise<unknown> {
    // A command of no key could never be invalidated: never cached.
    if (this.#off || this.#closed || parser.keys.length === 0) {
      const reply = await fn()
      return transformReply ? transformReply(reply, parser.preserve, typeMapping) : reply
    }
    const keys = parser.keys.length === 1 ? [keyText(parser.keys[0])] : parser.keys.map(keyText)
    // handleCache has looked it up: a miss.
    this.#misses++
    const cacheKey = cacheKeyOf(parser.redisArgs)
    const inFlight = this.#pending.get(cacheKey)
    if (inFlight !== undefined) {
      inFlight.waiters++
      const loaded = await inFlight.promise
      return loaded.encoded !== undefined ? decodeReply(loaded.encoded, 0, loaded.encoded.length, verbatim) : structuredClone(loaded.value)
    }
    const p: Pending = { cacheKey, keys, epoch: this.#epoch, invalidated: false, waiters: 0, promise: undefined as unknown as Promise<Loaded> }
    this.#pending.set(cacheKey, p)
    for (const k of keys) {
      let set = this.#pendingByKey.get(k)
      if (set === undefined) this.#pendingByKey.set(k, (set = new Set()))
      set.add(p)
    }
    p.promise = this.#load(p, cacheKey, parser, fn, transformReply, typeMapping)
    return (await p.promise).value
  }

  async #load(
    p: Pending,
    cacheKey: string,
    parser: CommandParser,
    fn: CommandFn,
    transformReply: TransformReply | undefined,
    typeMapping: TypeMapping | undefined,
  ): Promise<Loaded> {
    const start = performance.now()
    let value: unknown
    try {
      const reply = await fn()
      this.#loads++
      this.#loadTime += performance.now() - start
      value = transformReply ? transformReply(reply, parser.preserve, typeMapping) : reply
    } catch (err) {
      this.#loadFailures++
      this.#loadTime += performance.now() - start
      throw err
    } finally {
      this.#forget(p, cacheKey)
    }
    const header = p.keys.length === 1 ? 0 : 4 + TOKEN_BYTES * p.keys.length
    let bytes: Buffer
    try {
      bytes = this.#encoder.encode(value, header)
    } catch (err) {
      if (err instanceof TypeError || err instanceof RangeError) return { value, encoded: undefined }
      throw err
    }
    // Not stored when an invalidation of one of its keys, or a flush, came while the reply was on its way: the
    // reply may predate the write the invalidation reports.
    if (!p.invalidated && p.epoch === this.#epoch && !this.#off && !this.#closed) this.#store(cacheKey, parser.redisArgs, p.keys, bytes, header)
    return { value, encoded: p.waiters > 0 ? Buffer.from(bytes.subarray(header)) : undefined }
  }

  #forget(p: Pending, cacheKey: string): void {
    if (this.#pending.get(cacheKey) === p) this.#pending.delete(cacheKey)
    for (const k of p.keys) {
      const set = this.#pendingByKey.get(k)
      if (set === undefined) continue
      set.delete(p)
      if (set.size === 0) this.#pendingByKey.delete(k)
    }
  }

  /**
   * A one-key command's reply goes inline into its key's entry; another's into an entry of its own, linked under
   * each of its keys, with their tokens in its header.
   */
  #store(cacheKey: string, args: readonly RedisArgument[], keys: readonly string[], bytes: Buffer, header: number): void {
    try {
      if (keys.length === 1) {
        this.#index.putInline(keys[0], args, bytes.subarray(header))
        return
      }
      bytes.writeUInt32LE(keys.length, 0)
      for (let i = 0; i < keys.length; i++) bytes.writeDoubleLE(this.#index.link(keys[i], cacheKey), 4 + TOKEN_BYTES * i)
      this.engine.set(cacheKey, bytes, this.#ttl > 0 ? { px: this.#ttl } : undefined)
    } catch (err) {
      // No room (noeviction, or volatile-* with nothing volatile) or over 512 MB: the reply is just not cached.
      if (!(err instanceof ArenaKVError)) throw err
    }
  }

  /** A one-key command's cached reply decoded into a new value, or MISS. */
  #lookupOne(key: string, args: readonly RedisArgument[]): unknown {
    const f = this.#found
    if (!this.#index.find(key, args, f)) return MISS
    try {
      // Decoded straight from the engine's scratch buffer, before any other engine call can reuse it.
      return decodeRange(f.buf, f.start, f.end, verbatim)
    } catch (err) {
      if (!(err instanceof ArenaKVError)) throw err
      this.#dropKey(key)
      return MISS
    }
  }

  /** A multi-key command's cached reply decoded into a new value, or MISS (also when a key entry is gone). */
  #lookupMulti(args: readonly RedisArgument[], keys: readonly string[]): unknown {
    const cacheKey = cacheKeyOf(args)
    let buf: Buffer = this.#scratch
    let n = this.engine.getInto(cacheKey, buf)
    if (n < 0) return MISS
    if (n > buf.length) {
      const full = this.engine.get(cacheKey)
      if (full === undefined) return MISS
      buf = full
      n = full.length
      if (n <= SCRATCH_BYTES) this.#scratch = Buffer.allocUnsafe(Math.max(n, this.#scratch.length * 2))
    }
    const header = 4 + TOKEN_BYTES * keys.length
    let valid = n >= header && buf.readUInt32LE(0) === keys.length
    for (let i = 0; valid && i < keys.length; i++) valid = this.#index.token(keys[i]) === buf.readDoubleLE(4 + TOKEN_BYTES * i)
    if (valid) {
      try {
        return decodeReply(buf, header, n, verbatim)
      } catch (err) {
        if (!(err instanceof ArenaKVError)) throw err
      }
    }
    // A key entry was evicted (or remade) since: the entry can no longer be invalidated, so it goes.
    this.engine.del(cacheKey)
    return MISS
  }

  /** node-redis: the server reports `key` changed, expired or was evicted; null when it dropped every key. */
  override invalidate(key: RedisArgument | null): void {
    if (key === null) {
      this.#flush('server')
    } else {
      const k = keyText(key)
      // A load in flight may carry the old value: it is not stored, and a later miss starts a load of its own
      // rather than wait for it.
      const loads = this.#pendingByKey.get(k)
      if (loads !== undefined) {
        for (const p of loads) {
          p.invalidated = true
          if (this.#pending.get(p.cacheKey) === p) this.#pending.delete(p.cacheKey)
        }
      }
      if (!this.#closed) this.#dropKey(k)
    }
    this.#invalidations++
    this.emit('invalidate', key)
  }

  /** Removes the key's entry, its inline replies with it, and the multi-key entries it lists. */
  #dropKey(key: string): void {
    const names = this.#index.drop(key)
    for (let i = 0; i < names.length; i += 1024) this.engine.del(...names.slice(i, i + 1024))
  }

  #flush(reason: FlushReason): void {
    this.#epoch++
    this.#forgetLoads()
    this.#flushes++
    if (!this.#closed) this.engine.flushall()
    this.#index.reset()
    this.emit('flush', reason)
  }

  /** Empties the cache; with `resetStats` (the default, as node-redis's) the counters start over. */
  override clear(resetStats = true): void {
    this.#flush('clear')
    if (resetStats) {
      this.#hits = this.#misses = this.#invalidations = this.#flushes = this.#evictions = 0
      this.#loads = this.#loadFailures = this.#loadTime = 0
    }
  }

  /** node-redis: a connection failed. Its invalidations may be lost, so nothing cached can be trusted. */
  override onError(): void {
    this.#flush('error')
  }

  /** node-redis: a connection closed (or was destroyed). */
  override onClose(): void {
    this.#flush('close')
  }

  /** node-redis: the pool, cluster or sentinel closed. */
  override onPoolClose(): void {
    this.#flush('close')
  }

  /** node-redis (cluster, while it rediscovers the topology): serve nothing from the cache, store nothing. */
  override disable(): void {
    this.#off = true
    this.#epoch++
    this.#forgetLoads()
  }

  /** Loads in flight finish for their callers, unstored; later misses do not wait for them. */
  #forgetLoads(): void {
    for (const p of this.#pending.values()) p.invalidated = true
    this.#pending.clear()
    this.#pendingByKey.clear()
  }

  override enable(): void {
    this.#off = false
  }

  /**
   * Entries in the engine: one per Redis key with cached one-key commands (GET, HGETALL … of that key, kept
   * together), plus one per cached multi-key command (MGET …).
   */
  override size(): number {
    return !this.#closed ? this.engine.dbsize() : 0
  }

  /** Whether a multi-key command with this cache key ({@link cacheKeyOf}) has an entry (tokens not checked). */
  override has(cacheKey: string): boolean {
    return !this.#closed && this.engine.exists(cacheKey) === 1
  }

  /**
   * Whether the command (its arguments as sent, e.g. `['GET', 'k']`, and its keys) would be served from the cache
   * now. Counts nothing and decodes nothing.
   */
  isCached(args: readonly RedisArgument[], keys: readonly RedisArgument[]): boolean {
    if (this.#closed || this.#off || keys.length === 0) return false
    const k = keys.map(keyText)
    if (k.length === 1) return this.#index.find(k[0], args, this.#found)
    const buf = this.engine.get(cacheKeyOf(args))
    if (buf === undefined || buf.length < 4 + TOKEN_BYTES * k.length || buf.readUInt32LE(0) !== k.length) return false
    return k.every((key, i) => this.#index.token(key) === buf.readDoubleLE(4 + TOKEN_BYTES * i))
  }

  override stats(): CacheStatsSnapshot {
    return new CacheStatsSnapshot({
      hitCount: this.#hits,
      missCount: this.#misses,
      loadSuccessCount: this.#loads,
      loadFailureCount: this.#loadFailures,
      totalLoadTime: this.#loadTime,
      evictionCount: this.#evictions,
      invalidationCount: this.#invalidations,
      flushCount: this.#flushes,
    })
  }

  /** Closes the engine (its memory goes back at once); the cache then serves nothing and stores nothing. */
  close(): void {
    this.#off = true
    this.#epoch++
    this.#forgetLoads()
    if (!this.#closed) this.engine.close()
    this.#closed = true
  }
}
