import { EventEmitter } from 'node:events'
import { markAsUntransferable } from 'node:worker_threads'
import { allocator } from './allocator.js'
import { checkConfigSetArgs, configField, configGet, configSet, resolveOptions, type EngineConfig, type EngineOptions } from './config.js'
import { ActiveDefrag, defragTarget } from './defrag.js'
import { closedError, oomError, syntaxError, unsupportedError, valueTooLargeError } from './errors.js'
import { EVICT_FAIL, Evictor, estimateUsableSize, isLfuPolicy } from './evict.js'
import {
  ActiveExpire,
  absoluteExpire,
  expireFlagsAllow,
  isExpired,
  parseExpireFlags,
  ttlSeconds,
  type ExpireFlag,
  type ExpireStats,
} from './expire.js'
import { globMatch } from './glob.js'
import { Keyspace, NO_EXPIRE, REPLACE_EXPIRED } from './keyspace.js'
import { estimateIdleTime, lfuDecrAndReturn, lfuInit, lfuTouch, lruClock } from './lru.js'
import { Reporter, checkUsageSamples, engineArenaResident, keyModelBytes } from './report.js'
import { native } from './native.js'
import { HANDLE_INDEX_MASK, MAX_VALUE_BYTES, createStore, type SlotStore } from './store.js'

export type Value = string | Uint8Array
export type { ExpireFlag } from './expire.js'

export interface SetOptions {
  ex?: number
  px?: number
  exat?: number
  pxat?: number
  nx?: boolean
  xx?: boolean
  keepttl?: boolean
}

export interface GetExOptions {
  ex?: number
  px?: number
  exat?: number
  pxat?: number
  persist?: boolean
}

export interface ScanOptions {
  match?: string
  count?: number
}

/** Counters with Redis's INFO names. */
export interface EngineStats extends ExpireStats {
  evicted_keys: number
  keyspace_hits: number
  keyspace_misses: number
}

/** Internal hooks for tests and the reporting layer: a store factory and a clock (unix ms). */
export interface EngineInternals {
  createStore?: () => SlotStore
  now?: () => number
}

type EngineEvents = { evicted: [key: string]; expired: [key: string] }

/**
 * The addon's clock: clockTick() writes the time in whole ms (as Date.now) into CLOCK_CELL, a view of the
 * environment's one native clock cell (every copy of this module reads the same one). Date.now() returns a freshly
 * allocated heap number in optimized code, 16 bytes of garbage per operation, and that garbage alone grew V8's
 * young generation by megabytes during a fill (RSS the cache is charged for). Absent from older binaries (then
 * Date.now is used).
 */
const nativeClock = native as Partial<Pick<typeof native, 'clockCell' | 'clockTick'>>
const HAS_CLOCK_CELL = nativeClock.clockCell !== undefined && nativeClock.clockTick !== undefined
const CLOCK_CELL = HAS_CLOCK_CELL ? new Float64Array(nativeClock.clockCell!(), 0, 1) : new Float64Array(1)
// Native code owns the cell, so a transfer cannot harm it; refusing transfers keeps this view reading the clock.
markAsUntransferable(CLOCK_CELL.buffer)
/**
 * Date.now as loaded: the native clock stands in for it only while it is still the real one, so fake timers
 * installed later (which replace Date) still apply.
 */
const REAL_DATE_NOW = Date.now
const NATIVE_CLOCK = HAS_CLOCK_CELL && /\[native code\]/.test(Function.prototype.toString.call(REAL_DATE_NOW))

/** Writes the current time to CLOCK_CELL[0] (callers read it there: no number is returned, so none is boxed). */
function tickClock(): void {
  nativeClock.clockTick!()
}

const SCAN_DEFAULT_COUNT = 10
/** Bytes of a slot beyond its key and value (the native SlotHeader). */
const SLOT_HEADER_BYTES = 8

const LFU_IDLETIME_ERROR =
  'An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between ' +
  'policies at runtime LRU and LFU data will take some time to adjust.'
const LFU_FREQ_ERROR =
  'An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching ' +
  'between policies at runtime LRU and LFU data will take some time to adjust.'

/** Active defragmentation needs jemalloc's utilization hints (DESIGN §4); other builds refuse to turn it on. */
const DEFRAG_SUPPORTED = allocator.capabilities.defragHints

function assertDefragSupported(): void {
  if (!DEFRAG_SUPPORTED) throw unsupportedError('activedefrag (active defragmentation needs jemalloc)')
}

/** Keys up to this many UTF-16 units are within 512 MB whatever they hold (a unit encodes to at most 3 bytes). */
const KEY_UNITS_ALWAYS_FIT = Math.floor(MAX_VALUE_BYTES / 3)

/**
 * A key is a string of at most 512 MB encoded (Redis's proto-max-bulk-len), checked here for every command, as the
 * native store checks the keys it is given: reads of an absent key never reach it. Buffer.byteLength counts a lone
 * surrogate as 3 bytes, as WTF-8 (the stored form) does.
 */
function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new TypeError('key must be a string')
  if (key.length > KEY_UNITS_ALWAYS_FIT && Buffer.byteLength(key) > MAX_VALUE_BYTES) throw valueTooLargeError('key')
}

/** What lib/report.ts and tests may reach inside an engine; users cannot (the accessor is not in lib/index.ts). */
export interface EngineInternalAccess {
  /** The native store (MEMORY USAGE, allocator statistics). */
  readonly slotStore: SlotStore
  /** A key's handle without touching it or its statistics, or undefined. */
  peekHandle(key: string): number | undefined
}

let internalAccess: (db: Engine) => EngineInternalAccess

/** The engine's internals, kept off the instance so that nothing a user holds reveals them. */
export function engineInternals(db: Engine): EngineInternalAccess {
  return internalAccess(db)
}

function checkValue(value: unknown): asserts value is Value {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw new TypeError('value must be a string or a Uint8Array')
  }
}

/**
 * The keyspace API of DESIGN §5 with Redis 7's semantics. Each method is a few lines over the keyspace (table and
 * metadata), the evictor (maxmemory) and the active expire cycle.
 */
export class Engine extends EventEmitter<EngineEvents> {
  static {
    internalAccess = (db) => ({
      get slotStore() {
        db.assertOpen()
        return db.store
      },
      peekHandle: (key) => db.#peekHandle(key),
    })
  }

  private store: SlotStore
  private scratch: Buffer
  private readonly ks: Keyspace
  private readonly cfg: EngineConfig
  private readonly evictor: Evictor
  private readonly activeExpire: ActiveExpire
  private readonly defrag: ActiveDefrag
  private readonly reporter: Reporter
  private readonly makeStore: () => SlotStore
  /** The clock (unix ms) every expire time and LRU stamp is read from. */
  readonly now: () => number
  readonly stats: EngineStats = {
    expired_keys: 0,
    expired_stale_perc: 0,
    expired_time_cap_reached_count: 0,
    avg_ttl: 0,
    evicted_keys: 0,
    keyspace_hits: 0,
    keyspace_misses: 0,
  }
  private lfu: boolean
  /**
   * True when `now` is the default clock and the addon has the native clock: hot paths then read the time from
   * CLOCK_CELL, never as a returned double (boxed: a heap number per operation when the call is not inlined).
   * Each use also checks Date.now is still the real one, so fake timers installed after construction apply.
   */
  private readonly systemClock: boolean
  private closed = false
  /** The hash of the key the last lookupRead probed. */
  private lastHash = 0

  /**
   * Opens an engine: its keys and values live in a jemalloc arena of its own, which {@link Engine.close}
   * destroys (the engine's native memory goes back at once, and the arena's index is free for the next engine).
   *
   * Limit: jemalloc has 4095 arena indices per process and keeps some for its automatic arenas (by default
   * 4 per CPU, plus one for huge allocations: 4086 are left on 2 CPUs, 3838 on 64). Each open engine, and each
   * arena from `allocator.createArena()` not yet destroyed, holds one; opening an engine past that throws an
   * `ArenaKVError` with code `ERR_ARENA_LIMIT` whose message gives this process's limit. Close engines
   * you no longer use: one dropped without close() holds its arena until the garbage collector gets to it.
   * Builds without jemalloc (tcmalloc, libc) have no arenas and no such limit.
   *
   * @param options Redis's configuration knobs in camelCase (see {@link EngineOptions}); TypeError for an
   *   argument that is not an object or an unknown option, RangeError for a value out of Redis's range.
   * @throws `ArenaKVError` with code `ERR_ARENA_LIMIT` when every jemalloc arena index is taken.
   */
  constructor(options?: EngineOptions, internals: EngineInternals = {}) {
    super()
    this.cfg = resolveOptions(options)
    this.makeStore = internals.createStore ?? (() => createStore())
    this.now = internals.now ?? (() => Date.now())
    this.systemClock = internals.now === undefined && NATIVE_CLOCK
    this.store = this.makeStore()
    this.scratch = Buffer.from(this.store.scratch.buffer, this.store.scratch.byteOffset, this.store.scratch.byteLength)
    this.ks = new Keyspace(this.store)
    this.lfu = isLfuPolicy(this.cfg.maxmemoryPolicy)
    const host = {
      ks: this.ks,
      cfg: this.cfg,
      stats: this.stats,
      now: this.now,
      // An int32, never boxed; the native clock for the reason systemClock gives.
      lruStamp: () => {
        if (this.systemClock && Date.now === REAL_DATE_NOW) {
          tickClock()
          return lruClock(CLOCK_CELL[0]) | 0
        }
        return lruClock(this.now()) | 0
      },
      usedMemory: () => this.usedMemory(),
      evictKey: (handle: number, hash: number) => this.removeWithEvent(handle, hash, 'evicted'),
      expireKey: (handle: number, hash: number) => this.removeWithEvent(handle, hash, 'expired'),
      afterStep: () => this.flushEvents(),
    }
    this.evictor = new Evictor(host)
    this.ks.growAllowed = (extra) => this.cfg.maxmemory === 0 || this.usedMemory() + extra <= this.cfg.maxmemory
    if (this.cfg.activedefrag) assertDefragSupported()
    this.defrag = new ActiveDefrag({ cfg: this.cfg, target: () => defragTarget(this.store, DEFRAG_SUPPORTED) })
    this.reporter = new Reporter({
      cfg: this.cfg,
      stats: this.stats,
      defrag: this.defrag,
      usedMemory: () => this.usedMemory(),
      keyCount: () => this.ks.count,
      volatileCount: () => this.ks.volatileCount,
      storeBytes: () => this.store.usedBytes(),
      slotsIssued: () => this.ks.highIndex,
      arenaResident: () => engineArenaResident(this.store),
      storePeak: () => this.storePeak(),
      arrayBytes: () => {
        const ks = this.ks
        const expires = ks.volatileHandles.byteLength + ks.volatileHashes.byteLength + ks.volatileExpires.byteLength
        return { main: ks.arrayBytes - expires, expires, fixed: this.evictor.arrayBytes + this.store.scratchUsable }
      },
      now: this.now,
    })
    // One timer, as Redis's serverCron: rehash steps, active defrag and the peak sample ride on the expire cycle's.
    const cron = () => {
      this.ks.cron()
      this.defrag.cycle()
      this.reporter.cron()
    }
    this.activeExpire = new ActiveExpire(host, this.cfg.activeExpireEffort, this.cfg.hz, cron)
    this.activeExpire.start()
  }

  // ---- strings ----

  set(key: string, value: Value, opts?: SetOptions): boolean {
    this.assertOpen()
    checkKey(key)
    checkValue(value)
    let now: number
    if (this.systemClock && Date.now === REAL_DATE_NOW) {
      tickClock()
      now = CLOCK_CELL[0]
    } else now = this.now()
    let when = NO_EXPIRE
    let nx = false
    let xx = false
    let keepttl = false
    if (opts !== undefined) {
      if (typeof opts !== 'object' || opts === null) throw new TypeError('set options must be an object')
      const expires = +(opts.ex !== undefined) + +(opts.px !== undefined) + +(opts.exat !== undefined) +
        +(opts.pxat !== undefined)
      nx = opts.nx === true
      xx = opts.xx === true
      keepttl = opts.keepttl === true
      if (expires + +keepttl > 1 || (nx && xx)) throw syntaxError()
      if (opts.ex !== undefined) when = absoluteExpire(opts.ex, 1000, now, true, 'set')
      else if (opts.px !== undefined) when = absoluteExpire(opts.px, 1, now, true, 'set')
      else if (opts.exat !== undefined) when = absoluteExpire(opts.exat, 1000, 0, true, 'set')
      else if (opts.pxat !== undefined) when = absoluteExpire(opts.pxat, 1, 0, true, 'set')
    }
    const ks = this.ks
    const hash = ks.hashKey(key)
    if (this.cfg.maxmemory !== 0) this.reserve(this.slotEstimate(ks.ascii ? key.length : -1, key, value))
    if (!nx && (when === NO_EXPIRE || when > now)) {
      // The common case: overwrite in place with one native call per fingerprint match, or insert a key known
      // to be absent (no second probe). An expired match takes the general path below, which expires it first.
      const arrays = ks.arrayBytes
      const high = ks.highIndex
      ks.replaceNow[0] = now
      let handle = ks.replaceExisting(key, hash, value)
      if (handle !== REPLACE_EXPIRED) {
        if (handle !== 0) {
          // An overwrite is an access; LFU keeps the key's counter (Redis's dbSetValue copies the old lru). The
          // LRU stamp is written here rather than through touchKey: a double passed to a call that is not
          // inlined is boxed, a heap number per write.
          if (this.lfu) this.touchKey(handle, now)
          else ks.lru[handle & HANDLE_INDEX_MASK] = lruClock(now)
        } else {
          if (xx) {
            this.flushEvents()
            return false
          }
          handle = ks.insert(key, hash, value)
          ks.lru[handle & HANDLE_INDEX_MASK] = this.lfu ? lfuInit(now) : lruClock(now)
        }
        if (when !== NO_EXPIRE) ks.setExpire(handle, hash, when)
        else if (!keepttl) ks.clearExpire(handle)
        if (this.cfg.maxmemory !== 0) this.settle(arrays, high)
        this.flushEvents()
        return true
      }
    }
    let handle = this.lookupWrite(key, hash, now)
    if ((nx && handle !== 0) || (xx && handle === 0)) {
      this.flushEvents()
      return false
    }
    if (when !== NO_EXPIRE && when <= now) {
      // Already expired (Redis's checkAlreadyExpired): the key is deleted rather than written.
      if (handle !== 0) this.ks.remove(handle, hash)
      this.flushEvents()
      return true
    }
    const arrays = this.ks.arrayBytes
    const high = this.ks.highIndex
    handle = this.writeValue(key, hash, value, handle, now)
    if (when !== NO_EXPIRE) this.ks.setExpire(handle, hash, when)
    else if (!keepttl) this.ks.clearExpire(handle)
    if (this.cfg.maxmemory !== 0) this.settle(arrays, high)
    this.flushEvents()
    return true
  }

  get(key: string): Buffer | undefined {
    this.assertOpen()
    checkKey(key)
    const handle = this.lookupRead(key)
    if (handle !== 0) return this.copyValue(handle)
    // Only a miss can have expired the key.
    this.flushEvents()
    return undefined
  }

  getString(key: string): string | undefined {
    this.assertOpen()
    checkKey(key)
    const ks = this.ks
    const hash = ks.hashKey(key)
    const handle = ks.findString(key, hash)
    if (handle === 0) {
      this.stats.keyspace_misses++
      return undefined
    }
    if (this.liveForRead(handle, hash)) return ks.readString
    this.flushEvents()
    return undefined
  }

  getInto(key: string, target: Uint8Array): number {
    this.assertOpen()
    checkKey(key)
    if (!(target instanceof Uint8Array)) throw new TypeError('target must be a Uint8Array')
    const handle = this.lookupRead(key)
    if (handle === 0) {
      this.flushEvents()
      return -1
    }
    const length = this.ks.readLength
    if (length > this.scratch.length) return this.store.readInto(handle, target)
    target.set(this.scratchView(Math.min(length, target.length)))
    return length
  }

  mget(keys: readonly string[]): (Buffer | undefined)[] {
    this.assertOpen()
    if (!Array.isArray(keys)) throw new TypeError('keys must be an array of strings')
    for (const key of keys) checkKey(key)
    const out = new Array<Buffer | undefined>(keys.length)
    for (let i = 0; i < keys.length; i++) {
      const handle = this.lookupRead(keys[i])
      out[i] = handle === 0 ? undefined : this.copyValue(handle)
    }
    this.flushEvents()
    return out
  }

  mset(entries: Iterable<readonly [string, Value]>): void {
    this.assertOpen()
    const list = [...entries]
    let incoming = 0
    for (const entry of list) {
      if (!Array.isArray(entry) || entry.length < 2) throw new TypeError('mset entries must be [key, value] pairs')
      checkKey(entry[0])
      checkValue(entry[1])
      if (this.cfg.maxmemory !== 0) incoming += this.slotEstimate(-1, entry[0], entry[1])
    }
    if (this.cfg.maxmemory !== 0) this.reserve(incoming)
    const now = this.now()
    const arrays = this.ks.arrayBytes
    const high = this.ks.highIndex
    for (const [key, value] of list) {
      const hash = this.ks.hashKey(key)
      const handle = this.writeValue(key, hash, value, this.lookupWrite(key, hash, now), now)
      this.ks.clearExpire(handle)
    }
    if (this.cfg.maxmemory !== 0) this.settle(arrays, high)
    this.flushEvents()
  }

  getdel(key: string): Buffer | undefined {
    this.assertOpen()
    checkKey(key)
    const handle = this.lookupRead(key)
    if (handle === 0) {
      this.flushEvents()
      return undefined
    }
    const value = this.copyValue(handle)
    this.ks.remove(handle, this.lastHash)
    return value
  }

  getex(key: string, opts?: GetExOptions): Buffer | undefined {
    this.assertOpen()
    checkKey(key)
    const now = this.now()
    let when = NO_EXPIRE
    let persist = false
    if (opts !== undefined) {
      if (typeof opts !== 'object' || opts === null) throw new TypeError('getex options must be an object')
      persist = opts.persist === true
      const n = +(opts.ex !== undefined) + +(opts.px !== undefined) + +(opts.exat !== undefined) +
        +(opts.pxat !== undefined) + +persist
      if (n > 1) throw syntaxError()
      if (opts.ex !== undefined) when = absoluteExpire(opts.ex, 1000, now, true, 'getex')
      else if (opts.px !== undefined) when = absoluteExpire(opts.px, 1, now, true, 'getex')
      else if (opts.exat !== undefined) when = absoluteExpire(opts.exat, 1000, 0, true, 'getex')
      else if (opts.pxat !== undefined) when = absoluteExpire(opts.pxat, 1, 0, true, 'getex')
    }
    const handle = this.lookupRead(key)
    if (handle === 0) {
      this.flushEvents()
      return undefined
    }
    const value = this.copyValue(handle)
    const hash = this.lastHash
    if (when !== NO_EXPIRE) {
      if (when <= now) this.ks.remove(handle, hash)
      else this.ks.setExpire(handle, hash, when)
    } else if (persist) {
      this.ks.clearExpire(handle)
    }
    return value
  }

  // ---- generic keyspace ----

  del(...keys: string[]): number {
    this.assertOpen()
    for (const key of keys) checkKey(key)
    const now = this.now()
    let removed = 0
    for (const key of keys) {
      const hash = this.ks.hashKey(key)
      const handle = this.lookupWrite(key, hash, now)
      if (handle !== 0 && this.ks.remove(handle, hash)) removed++
    }
    this.flushEvents()
    return removed
  }

  /** DEL that frees lazily in Redis; freeing here is one native call per key, so it is DEL. */
  unlink(...keys: string[]): number {
    return this.del(...keys)
  }

  exists(...keys: string[]): number {
    this.assertOpen()
    for (const key of keys) checkKey(key)
    let n = 0
    for (const key of keys) if (this.lookupNoTouch(key) !== 0) n++
    this.flushEvents()
    return n
  }

  touch(...keys: string[]): number {
    this.assertOpen()
    for (const key of keys) checkKey(key)
    let n = 0
    for (const key of keys) {
      const handle = this.lookupNoTouch(key)
      if (handle !== 0) {
        this.touchKey(handle, this.now())
        n++
      }
    }
    this.flushEvents()
    return n
  }

  dbsize(): number {
    this.assertOpen()
    return this.ks.count
  }

  flushall(): void {
    this.assertOpen()
    // The peak the store recorded goes with it: carry it over first.
    this.reporter.updatePeak(Math.max(this.usedMemory(), this.storePeak()))
    this.store = this.replaceStore()
    this.scratch = Buffer.from(this.store.scratch.buffer, this.store.scratch.byteOffset, this.store.scratch.byteLength)
    this.viewLength = -1
    this.ks.reset(this.store)
    this.evictor.resetPool()
  }

  /**
   * A fresh store for FLUSHALL, opened before the old one closes so a failure (every arena index taken) leaves the
   * engine whole. With no index to spare, the old store's is freed first and taken again at once.
   */
  private replaceStore(): SlotStore {
    let fresh: SlotStore
    try {
      fresh = this.makeStore()
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_ARENA_LIMIT') throw error
      this.store.close()
      try {
        return this.makeStore()
      } catch (reopen) {
        // Another thread took the index meanwhile: the engine has no store left, so it is closed.
        this.closed = true
        this.activeExpire.stop()
        this.evictor.stop()
        this.ks.release()
        throw reopen
      }
    }
    this.store.close()
    return fresh
  }

  // ---- expire family ----

  expire(key: string, seconds: number, flag?: ExpireFlag | readonly ExpireFlag[]): boolean {
    return this.expireGeneric(key, seconds, 1000, false, flag, 'expire')
  }

  pexpire(key: string, milliseconds: number, flag?: ExpireFlag | readonly ExpireFlag[]): boolean {
    return this.expireGeneric(key, milliseconds, 1, false, flag, 'pexpire')
  }

  expireat(key: string, unixSeconds: number, flag?: ExpireFlag | readonly ExpireFlag[]): boolean {
    return this.expireGeneric(key, unixSeconds, 1000, true, flag, 'expireat')
  }

  pexpireat(key: string, unixMs: number, flag?: ExpireFlag | readonly ExpireFlag[]): boolean {
    return this.expireGeneric(key, unixMs, 1, true, flag, 'pexpireat')
  }

  persist(key: string): boolean {
    this.assertOpen()
    checkKey(key)
    const hash = this.ks.hashKey(key)
    const now = this.now()
    const handle = this.lookupWrite(key, hash, now)
    if (handle === 0) {
      this.flushEvents()
      return false
    }
    this.touchKey(handle, now)
    return this.ks.clearExpire(handle)
  }

  ttl(key: string): number {
    const left = this.msLeft(key)
    return left < 0 ? left : ttlSeconds(left)
  }

  pttl(key: string): number {
    return this.msLeft(key)
  }

  expiretime(key: string): number {
    const when = this.expireTimeOf(key)
    return when < 0 ? when : Math.floor(when / 1000)
  }

  pexpiretime(key: string): number {
    return this.expireTimeOf(key)
  }

  // ---- scan ----

  scan(cursor: number, opts: ScanOptions = {}): [next: number, keys: string[]] {
    this.assertOpen()
    if (!Number.isInteger(cursor)) throw new TypeError('cursor must be an integer')
    if (cursor < 0 || cursor > 0xffffffff) throw new RangeError('cursor out of range')
    const count = opts.count ?? SCAN_DEFAULT_COUNT
    if (!Number.isInteger(count) || count < 1) throw new RangeError('count must be a positive integer')
    const match = opts.match
    if (match !== undefined && typeof match !== 'string') throw new TypeError('match must be a string')
    const usePattern = match !== undefined && match !== '*'
    const handles: number[] = []
    const hashes: number[] = []
    let next = cursor
    let maxIterations = count * 10
    do {
      next = this.ks.scanStep(next, handles, hashes)
    } while (next !== 0 && maxIterations-- > 0 && handles.length < count)
    const now = this.now()
    const keys: string[] = []
    for (let i = 0; i < handles.length; i++) {
      if (isExpired(this.ks, handles[i], now)) {
        this.removeWithEvent(handles[i], hashes[i], 'expired')
        continue
      }
      const key = this.store.key(handles[i])
      if (!usePattern || globMatch(match, key)) keys.push(key)
    }
    this.flushEvents()
    return [next, keys]
  }

  *scanIterator(opts: ScanOptions = {}): IterableIterator<string> {
    let cursor = 0
    do {
      const [next, keys] = this.scan(cursor, opts)
      yield* keys
      cursor = next
    } while (cursor !== 0)
  }

  // ---- object ----

  objectIdletime(key: string): number | undefined {
    this.assertOpen()
    checkKey(key)
    const handle = this.lookupNoTouch(key)
    if (handle === 0) {
      this.flushEvents()
      return undefined
    }
    if (this.lfu) throw syntaxError(LFU_IDLETIME_ERROR)
    const idleMs = estimateIdleTime(lruClock(this.now()), this.ks.lru[handle & HANDLE_INDEX_MASK])
    return Math.floor(idleMs / 1000)
  }

  objectFreq(key: string): number | undefined {
    this.assertOpen()
    checkKey(key)
    const handle = this.lookupNoTouch(key)
    if (handle === 0) {
      this.flushEvents()
      return undefined
    }
    if (!this.lfu) throw syntaxError(LFU_FREQ_ERROR)
    return lfuDecrAndReturn(this.ks.lru[handle & HANDLE_INDEX_MASK], this.now(), this.cfg.lfuDecayTime)
  }

  // ---- config ----

  configGet(pattern: string): Record<string, string> {
    this.assertOpen()
    return configGet(this.cfg, pattern)
  }

  configSet(name: string, value: string | number): void {
    this.assertOpen()
    checkConfigSetArgs(name, value)
    const before = this.cfg.maxmemoryPolicy
    if (configField(name) === 'activedefrag' && String(value).toLowerCase() === 'yes') assertDefragSupported()
    const changed = configSet(this.cfg, name, value)
    if (changed === 'maxmemory' || changed === 'maxmemoryPolicy') {
      if (changed === 'maxmemoryPolicy') this.policyChanged(before)
      this.evictor.performEvictions(0)
      this.flushEvents()
    } else if (changed === 'hz' || changed === 'activeExpireEffort') {
      this.activeExpire.configure(this.cfg.activeExpireEffort, this.cfg.hz)
    }
  }

  // ---- internal accessors for reporting (issue 4) ----

  /** The resolved configuration (live: CONFIG SET changes it). */
  get config(): Readonly<EngineConfig> {
    return this.cfg
  }

  /** Bytes maxmemory bounds: the store's usable bytes plus every typed array the keyspace and evictor hold. */
  usedMemory(): number {
    this.assertOpen()
    return this.store.usedBytes() + this.ks.arrayBytes + this.evictor.arrayBytes
  }

  /** Keys with an expire time (Redis's INFO keyspace `expires`). */
  volatileCount(): number {
    this.assertOpen()
    return this.ks.volatileCount
  }

  /** A key's handle without touching it or its statistics, or undefined (for MEMORY USAGE). */
  #peekHandle(key: string): number | undefined {
    this.assertOpen()
    checkKey(key)
    const hash = this.ks.hashKey(key)
    const handle = this.ks.find(key, hash)
    return handle === 0 || isExpired(this.ks, handle, this.now()) ? undefined : handle
  }

  // ---- reporting: INFO and MEMORY (lib/report.ts) ----

  info(section?: string): string {
    this.assertOpen()
    return this.reporter.info(section)
  }

  infoObject(section?: string): Record<string, string | number> {
    this.assertOpen()
    return this.reporter.infoObject(section)
  }

  /** The slot's usable bytes plus the key model (DESIGN §3); undefined for a missing or expired key. */
  memoryUsage(key: string, opts?: { samples?: number }): number | undefined {
    checkUsageSamples(opts)
    const handle = this.#peekHandle(key)
    if (handle === undefined) return undefined
    return this.store.usableSize(handle) + keyModelBytes(this.ks.volatilePos[handle & HANDLE_INDEX_MASK] !== 0)
  }

  memoryStats(): Record<string, number | Record<string, number>> {
    this.assertOpen()
    return this.reporter.memoryStats()
  }

  memoryDoctor(): string {
    this.assertOpen()
    return this.reporter.memoryDoctor()
  }

  memoryPurge(): void {
    this.assertOpen()
    this.reporter.memoryPurge()
  }

  // ---- lifetime ----

  close(): void {
    if (this.closed) return
    this.closed = true
    this.activeExpire.stop()
    this.evictor.stop()
    this.store.close()
    this.ks.release()
  }

  [Symbol.dispose](): void {
    this.close()
  }

  // ---- private: lookups (Redis's lookupKey with its flags) ----

  private assertOpen(): void {
    if (this.closed) throw closedError()
  }

  /** The store's high-water mark of usedMemory(): it holds everything but the evictor's fixed arrays. */
  private storePeak(): number {
    return this.store.peakBytes() + this.evictor.arrayBytes
  }

  /** Read lookup: lazy expiry, hit/miss statistics, access clock; the value is read in the same native call. */
  private lookupRead(key: string): number {
    const ks = this.ks
    const hash = ks.hashKey(key)
    this.lastHash = hash
    const handle = ks.findRead(key, hash)
    if (handle === 0) {
      this.stats.keyspace_misses++
      return 0
    }
    return this.liveForRead(handle, hash) ? handle : 0
  }

  private liveForRead(handle: number, hash: number): boolean {
    const ks = this.ks
    let now: number
    if (this.systemClock && Date.now === REAL_DATE_NOW) {
      tickClock()
      now = CLOCK_CELL[0]
    } else now = this.now()
    const index = handle & HANDLE_INDEX_MASK
    const p = ks.volatilePos[index]
    if (p !== 0 && now > ks.volatileExpires[p - 1]) {
      this.removeWithEvent(handle, hash, 'expired')
      this.stats.keyspace_misses++
      return false
    }
    // The LRU stamp inline (not through touchKey): `now` passed to a call that is not inlined would be boxed.
    if (this.lfu) this.touchKey(handle, now)
    else ks.lru[index] = lruClock(now)
    this.stats.keyspace_hits++
    return true
  }

  /** LOOKUP_NOTOUCH: lazy expiry and statistics, but the access clock is left alone (EXISTS, TTL, OBJECT). */
  private lookupNoTouch(key: string): number {
    const hash = this.ks.hashKey(key)
    let handle = this.ks.find(key, hash)
    if (handle !== 0 && isExpired(this.ks, handle, this.now())) {
      this.removeWithEvent(handle, hash, 'expired')
      handle = 0
    }
    if (handle === 0) this.stats.keyspace_misses++
    else this.stats.keyspace_hits++
    return handle
  }

  /** LOOKUP_WRITE: lazy expiry, no statistics, no access clock. */
  private lookupWrite(key: string, hash: number, now: number): number {
    const handle = this.ks.find(key, hash)
    if (handle !== 0 && isExpired(this.ks, handle, now)) {
      this.removeWithEvent(handle, hash, 'expired')
      return 0
    }
    return handle
  }

  private touchKey(handle: number, now: number): void {
    const index = handle & HANDLE_INDEX_MASK
    const lru = this.ks.lru
    lru[index] = this.lfu
      ? lfuTouch(lru[index], now, this.cfg.lfuLogFactor, this.cfg.lfuDecayTime, Math.random())
      : lruClock(now)
  }

  /** Writes a value over `handle` (0 = a new key) and stamps the access clock; returns the key's handle. */
  private writeValue(key: string, hash: number, value: Value, handle: number, now: number): number {
    if (handle !== 0) {
      this.store.replace(handle, value)
      // An overwrite is an access; LFU keeps the key's counter (Redis's dbSetValue copies the old lru).
      this.touchKey(handle, now)
      return handle
    }
    handle = this.ks.insert(key, hash, value)
    this.ks.lru[handle & HANDLE_INDEX_MASK] = this.lfu ? lfuInit(now) : lruClock(now)
    return handle
  }

  private copyValue(handle: number): Buffer {
    const length = this.ks.readLength
    const out = Buffer.allocUnsafe(length)
    if (length > this.scratch.length) this.store.readInto(handle, out)
    else out.set(this.scratchView(length))
    return out
  }

  /**
   * The first `length` bytes of scratch as a view, reused while lengths repeat (values of one size are the common
   * case): Buffer#copy and subarray allocate a view per call, ~90 bytes of garbage per read.
   */
  private scratchView(length: number): Uint8Array {
    if (length !== this.viewLength) {
      this.view = this.scratch.subarray(0, length)
      this.viewLength = length
    }
    return this.view
  }
  private view: Uint8Array = new Uint8Array(0)
  private viewLength = 0

  /**
   * Deletes a key evicted or expired by the engine itself. Its event is queued, not emitted: listeners run once
   * the command (or timer step) that caused it has finished (ARCHITECTURE.md, "Events").
   */
  private removeWithEvent(handle: number, hash: number, event: 'evicted' | 'expired'): void {
    const key = this.listenerCount(event) > 0 ? this.store.key(handle) : undefined
    if (!this.ks.remove(handle, hash)) return
    if (event === 'evicted') this.stats.evicted_keys++
    else this.stats.expired_keys++
    if (key !== undefined) {
      this.queuedEvents.push(event)
      this.queuedKeys.push(key)
    }
  }

  /** Delivers the queued events when there are any; called as every command and timer step ends. */
  private flushEvents(): void {
    if (this.queuedKeys.length !== 0) this.deliverEvents()
  }

  /**
   * Emits the queued events in order, including those queued meanwhile by commands the listeners run; a nested
   * call (a listener's own command ending) leaves them to this loop. Every event is delivered even when a
   * listener throws; then the first error is thrown (an AggregateError for several), after the command's effect.
   */
  private deliverEvents(): void {
    if (this.delivering) return
    this.delivering = true
    let errors: unknown[] | undefined
    try {
      for (let i = 0; i < this.queuedKeys.length; i++) {
        try {
          this.emit(this.queuedEvents[i], this.queuedKeys[i])
        } catch (error) {
          ;(errors ??= []).push(error)
        }
      }
    } finally {
      this.queuedEvents.length = 0
      this.queuedKeys.length = 0
      this.delivering = false
    }
    if (errors !== undefined) {
      throw errors.length === 1 ? errors[0] : new AggregateError(errors, `${errors.length} event listeners threw`)
    }
  }

  private readonly queuedEvents: Array<'evicted' | 'expired'> = []
  private readonly queuedKeys: string[] = []
  private delivering = false

  // ---- private: memory ----

  /**
   * Estimated usable bytes a new slot for key + value takes (sizes the eviction before the write). keyBytes is
   * known without a scan when the hashing loop found the key ASCII; -1 asks for a count.
   */
  private slotEstimate(keyBytes: number, key: string, value: Value): number {
    if (keyBytes < 0) keyBytes = Buffer.byteLength(key)
    const valueBytes = typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength
    return estimateUsableSize(SLOT_HEADER_BYTES + keyBytes + valueBytes)
  }

  /** Evicts to make room for `incoming` bytes; the OOM error when that is impossible. */
  private reserve(incoming: number): void {
    if (this.evictor.performEvictions(incoming) !== EVICT_FAIL) return
    // The refused command is over: what it evicted is reported before the OOM error, which takes precedence.
    const oom = oomError()
    try {
      this.flushEvents()
    } catch (error) {
      oom.cause = error
    }
    throw oom
  }

  /**
   * After a write: the reservation was exact for the slot, but a typed array or the store's own slot table may have
   * grown with it; evict again only then (a store table grows only when a new highest slot index is issued).
   */
  private settle(arraysBefore: number, highBefore: number): void {
    if (this.ks.arrayBytes !== arraysBefore || this.ks.highIndex !== highBefore) this.evictor.performEvictions(0)
  }

  private policyChanged(before: EngineConfig['maxmemoryPolicy']): void {
    this.evictor.resetPool()
    const lfu = isLfuPolicy(this.cfg.maxmemoryPolicy)
    if (lfu === isLfuPolicy(before)) return
    // The lru field changes meaning; restart every key's clock rather than read one kind as the other.
    const now = this.now()
    this.ks.lru.fill(lfu ? lfuInit(now) : lruClock(now))
    this.lfu = lfu
  }

  // ---- private: expire family ----

  private expireGeneric(
    key: string,
    value: number,
    unitMs: number,
    absolute: boolean,
    flag: ExpireFlag | readonly ExpireFlag[] | undefined,
    command: string,
  ): boolean {
    this.assertOpen()
    checkKey(key)
    const bits = parseExpireFlags(flag)
    const now = this.now()
    const when = absoluteExpire(value, unitMs, absolute ? 0 : now, false, command)
    const hash = this.ks.hashKey(key)
    const handle = this.lookupWrite(key, hash, now)
    if (handle === 0) {
      this.flushEvents()
      return false
    }
    // lookupKeyWrite is an access in Redis (it updates the LRU/LFU clock).
    this.touchKey(handle, now)
    if (!expireFlagsAllow(bits, this.ks.getExpire(handle), when)) return false
    // A time already past deletes the key, as Redis does (a DEL, not an expiry).
    if (when <= now) this.ks.remove(handle, hash)
    else this.ks.setExpire(handle, hash, when)
    return true
  }

  private msLeft(key: string): number {
    const when = this.expireTimeOf(key)
    if (when < 0) return when
    return Math.max(0, when - this.now())
  }

  /** Unix ms of the key's expiry, -1 without one, -2 when missing (a NOTOUCH lookup, as TTL's). */
  private expireTimeOf(key: string): number {
    this.assertOpen()
    checkKey(key)
    const handle = this.lookupNoTouch(key)
    if (handle === 0) {
      this.flushEvents()
      return -2
    }
    return this.ks.getExpire(handle)
  }
}
