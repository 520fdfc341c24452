// One engine's keyspace and what every command family works on, with the lookups and the generic key commands
// (Redis's db.c). The command families (t_string.ts, expire.ts, object.ts) are functions over a Db; engine.ts is
// the public facade that wires them.
import type { Clock } from './clock.js'
import type { EngineConfig, MaxmemoryPolicy } from './config.js'
import { isAdaptivePolicy } from './adaptive.js'
import { closedError, oomError, valueTooLargeError } from './errors.js'
import { EVICT_FAIL, Evictor, estimateUsableSize, isLfuPolicy, isLruPolicy } from './evict.js'
import { globMatch } from './glob.js'
import { Keyspace } from './keyspace.js'
import { lfuInit, lfuTouch, lruClock } from './lru.js'
import type { TimerGuard } from './expire.js'
import type { EventQueue, KeyspaceEvent } from './notify.js'
import {
  CELL_NOW,
  HANDLE_INDEX_MASK,
  I32_HANDLE,
  MAX_VALUE_BYTES,
  SLOT_HEADER_BYTES,
  isFused,
  type FusedStore,
  type SlotStore,
} from './store.js'

export type Value = string | Uint8Array

/** Counters with Redis's INFO names. */
export interface EngineStats {
  expired_keys: number
  /** Running estimate of the share of expired keys among those the active cycle sampled, percent. */
  expired_stale_perc: number
  expired_time_cap_reached_count: number
  avg_ttl: number
  evicted_keys: number
  keyspace_hits: number
  keyspace_misses: number
}

export interface ScanOptions {
  match?: string
  count?: number
  /** Only keys of this type: every key here is a 'string' (any case); another type name matches none. */
  type?: string
}

const SCAN_DEFAULT_COUNT = 10
/** Resident accounting re-reads the arena's stats at least this often (an epoch refresh and a few mallctls). */
const OVERHEAD_SAMPLE_CHECKS = 256
/** Keys up to this many UTF-16 units are within 512 MB whatever they hold (a unit encodes to at most 3 bytes). */
const KEY_UNITS_ALWAYS_FIT = Math.floor(MAX_VALUE_BYTES / 3)

/**
 * A key is a string of at most 512 MB encoded (Redis's proto-max-bulk-len), checked here for every command, as the
 * native store checks the keys it is given: reads of an absent key never reach it. Buffer.byteLength counts a lone
 * surrogate as 3 bytes, as WTF-8 (the stored form) does.
 */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new TypeError('key must be a string')
  if (key.length > KEY_UNITS_ALWAYS_FIT && Buffer.byteLength(key) > MAX_VALUE_BYTES) throw valueTooLargeError('key')
}

export function checkKeys(keys: readonly unknown[]): asserts keys is string[] {
  for (const key of keys) checkKey(key)
}

export class Db {
  store: SlotStore
  /** A Buffer over the store's scratch memory, where reads that fit are copied (ARCHITECTURE.md, "The path of a GET"). */
  scratch: Buffer
  readonly ks: Keyspace
  readonly evictor: Evictor
  readonly stats: EngineStats = {
    expired_keys: 0,
    expired_stale_perc: 0,
    expired_time_cap_reached_count: 0,
    avg_ttl: 0,
    evicted_keys: 0,
    keyspace_hits: 0,
    keyspace_misses: 0,
  }
  /**
   * Whether the lru field holds something other than an LRU stamp (LFU counters under an LFU policy, the adaptive
   * policies' window bits and access clock), so accesses go through touchKey.
   */
  lfu: boolean
  /** The store when it has the fused hot paths (the native one), else null: lookups then probe in TypeScript. */
  fused: FusedStore | null
  closed = false
  /** A shared engine's timer work under its lock (share.ts); null for a private engine. */
  timerGuard: TimerGuard | null = null
  /**
   * A shared engine's pause between bounded steps of timer work (share.ts Sharing.pause: the lock is let go when
   * another thread wants it, and the thread's objects re-read when it is taken back); null for a private engine.
   */
  timerPause: (() => void) | null = null
  /**
   * Keys evicted or expired since a shared engine's lock was last taken or let go (share.ts LockStats.maxSteps: the
   * work one hold of the lock did). Counted on a private engine too, and never read there.
   */
  lockSteps = 0
  /** A shared engine's FLUSHALL of its store, in place (share.ts); null for a private engine. */
  flushShared: (() => void) | null = null
  /** The hash of the key the last lookupRead probed. */
  lastHash = 0
  private view: Uint8Array = new Uint8Array(0)
  private viewLength = 0

  constructor(
    readonly cfg: EngineConfig,
    readonly clock: Clock,
    readonly events: EventQueue,
    private readonly makeStore: () => SlotStore,
  ) {
    this.store = makeStore()
    this.fused = isFused(this.store) ? this.store : null
    this.scratch = scratchBuffer(this.store)
    this.ks = new Keyspace(this.store)
    this.lfu = isLfuPolicy(cfg.maxmemoryPolicy) || isAdaptivePolicy(cfg.maxmemoryPolicy)
    this.ks.lfu = this.lfu
    this.ks.exactStamps = isLruPolicy(cfg.maxmemoryPolicy)
    this.ks.bindTables()
    this.evictor = new Evictor(this)
    this.ks.growAllowed = (extra) => cfg.maxmemory === 0 || this.evictionMemory() + extra <= cfg.maxmemory
  }

  // ---- what the evictor and the active expire cycle call (EvictHost, ExpireHost) ----

  now(): number {
    return this.clock.now()
  }

  /** lruClock(now) as an int32: a small integer, never boxed. */
  lruStamp(): number {
    this.clock.tick()
    return lruClock(this.clock.cell[0]) | 0
  }

  evictKey(handle: number, hash: number): void {
    this.lockSteps++
    this.removeWithEvent(handle, hash, 'evicted')
  }

  expireKey(handle: number, hash: number): void {
    this.lockSteps++
    this.removeWithEvent(handle, hash, 'expired')
  }

  afterStep(): void {
    this.events.flush()
  }

  // ---- memory ----

  /** Bytes maxmemory bounds: the store's usable bytes plus every typed array the keyspace and evictor hold. */
  usedMemory(): number {
    this.assertOpen()
    return this.store.usedBytes() + this.ks.arrayBytes + this.evictor.arrayBytes
  }

  /**
   * usedMemory() as reported (INFO, MEMORY, Engine.usedMemory). A shared store's used-bytes figure reaches this
   * thread's cell on its next native call, so a thread that detached in between (its scratch given back from its
   * own teardown) would still be counted: one call first makes the figure current (ARCHITECTURE.md "Sharing").
   */
  reportedUsedMemory(): number {
    if (this.flushShared !== null) this.store.count()
    return this.usedMemory()
  }

  /**
   * What eviction counts against maxmemory. Under 'resident' accounting: used memory plus what the allocator holds
   * beyond it (partly used slabs, metadata, pages not yet returned), sampled from the arena's stats by the hz timer,
   * every OVERHEAD_SAMPLE_CHECKS checks (writes and evictions churn the arena even while used memory stands still)
   * and whenever used memory has moved by 1/32 of maxmemory, so the figure is never further off than the overhead
   * can change meanwhile (Redis samples RSS from serverCron likewise).
   */
  evictionMemory(): number {
    const used = this.usedMemory()
    if (this.cfg.maxmemoryAccounting === 'allocated') return used
    if (++this.overheadChecks >= OVERHEAD_SAMPLE_CHECKS || Math.abs(used - this.overheadSampledAt) > this.cfg.maxmemory / 32) {
      this.sampleResidentOverhead(used)
    }
    return used + this.residentOverhead
  }

  /** Resident bytes of the engine (its arena's resident pages and its tables) beyond used memory, now. */
  sampleResidentOverhead(used = this.usedMemory()): void {
    const store = this.store
    if (store.heapResident === undefined) return
    const resident = store.heapResident() + this.ks.arrayBytes + this.evictor.arrayBytes + store.scratchUsable
    this.residentOverhead = Math.max(0, resident - used)
    this.overheadSampledAt = used
    this.overheadChecks = 0
  }

  private residentOverhead = 0
  private overheadSampledAt = -Infinity
  private overheadChecks = 0

  /** The store's high-water mark of usedMemory(): it holds everything but the evictor's fixed arrays. */
  storePeak(): number {
    return this.store.peakBytes() + this.evictor.arrayBytes
  }

  /**
   * Estimated usable bytes a new slot for key + value takes (sizes the eviction before the write). keyBytes is
   * known without a scan when the hashing loop found the key ASCII; -1 asks for a count.
   */
  slotEstimate(keyBytes: number, key: string, value: Value): number {
    if (keyBytes < 0) keyBytes = Buffer.byteLength(key)
    const valueBytes = typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength
    return estimateUsableSize(SLOT_HEADER_BYTES + keyBytes + valueBytes)
  }

  /** Evicts to make room for `incoming` bytes; the OOM error when that is impossible. */
  reserve(incoming: number): void {
    if (this.evictor.performEvictions(incoming) !== EVICT_FAIL) return
    // The refused command is over: what it evicted is reported before the OOM error, which takes precedence.
    const oom = oomError()
    try {
      this.events.flush()
    } catch (error) {
      oom.cause = error
    }
    throw oom
  }

  /**
   * After a write: the reservation was exact for the slot, but a typed array or the store's own slot table may have
   * grown with it; evict again only then (a store table grows only when a new highest slot index is issued).
   */
  settle(arraysBefore: number, highBefore: number): void {
    if (this.ks.arrayBytes !== arraysBefore || this.ks.highIndex !== highBefore) this.evictor.performEvictions(0)
  }

  /** CONFIG SET maxmemory-policy: the pool's scores change meaning, and so may every key's lru field. */
  policyChanged(before: MaxmemoryPolicy): void {
    this.evictor.resetPool()
    const policy = this.cfg.maxmemoryPolicy
    const adaptive = isAdaptivePolicy(policy)
    const lfu = isLfuPolicy(policy)
    this.ks.exactStamps = isLruPolicy(policy)
    if (adaptive === isAdaptivePolicy(before) && lfu === isLfuPolicy(before)) {
      this.ks.bindTables()
      return
    }
    // Restart every key's clock rather than read one kind as the other.
    this.evictor.adaptive.deactivate()
    if (adaptive) {
      this.evictor.adaptive.activate()
    } else {
      const now = this.now()
      this.ks.lru.fill(lfu ? lfuInit(now) : lruClock(now))
    }
    // The fused paths leave the lru field to JS unless it holds LRU stamps.
    this.lfu = lfu || adaptive
    this.ks.lfu = this.lfu
    this.ks.bindTables()
  }

  // ---- lookups (Redis's lookupKey with its flags) ----

  assertOpen(): void {
    if (this.closed) throw closedError()
  }

  /** Read lookup: lazy expiry, hit/miss statistics, access clock; the value is read in the same native call. */
  lookupRead(key: string): number {
    const fused = this.fused
    if (fused !== null) {
      // At most one native call: probe, verify, expiry test, LRU stamp and copy (ARCHITECTURE.md, "The path of a
      // GET"); none when no slot has the key's fingerprint.
      const hash = this.ks.hashKey(key)
      this.lastHash = hash
      if (!this.ks.hasFingerprint(hash)) {
        this.stats.keyspace_misses++
        return 0
      }
      const length = fused.get(key, hash, this.clock.prepare(fused.cells))
      const io = fused.cellsI32
      if (length >= 0) {
        const handle = io[I32_HANDLE]
        this.ks.readLength = length
        if (this.lfu) this.touchKey(handle, fused.cells[CELL_NOW], hash)
        this.stats.keyspace_hits++
        return handle
      }
      if (length === -2) this.removeWithEvent(io[I32_HANDLE], hash, 'expired')
      this.stats.keyspace_misses++
      return 0
    }
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

  liveForRead(handle: number, hash: number): boolean {
    const ks = this.ks
    this.clock.tick()
    const now = this.clock.cell[0]
    const index = handle & HANDLE_INDEX_MASK
    const p = ks.volatilePos[index]
    if (p !== 0 && now > ks.volatileExpires[p - 1]) {
      this.removeWithEvent(handle, hash, 'expired')
      this.stats.keyspace_misses++
      return false
    }
    // The LRU stamp inline (not through touchKey): `now` passed to a call that is not inlined would be boxed.
    if (this.lfu) this.touchKey(handle, now, hash)
    else ks.lru[index] = lruClock(now)
    this.stats.keyspace_hits++
    return true
  }

  /** LOOKUP_NOTOUCH: lazy expiry and statistics, but the access clock is left alone (EXISTS, TTL, OBJECT). */
  lookupNoTouch(key: string): number {
    const hash = this.ks.hashKey(key)
    let handle = this.ks.find(key, hash)
    if (handle !== 0 && this.ks.isExpired(handle, this.now())) {
      this.removeWithEvent(handle, hash, 'expired')
      handle = 0
    }
    if (handle === 0) this.stats.keyspace_misses++
    else this.stats.keyspace_hits++
    return handle
  }

  /** lookupNoTouch for a command about one key: on a miss the command is over, so its events go out now. */
  lookupNoTouchOrEnd(key: string): number {
    const handle = this.lookupNoTouch(key)
    if (handle === 0) this.events.flush()
    return handle
  }

  /** LOOKUP_WRITE: lazy expiry, no statistics, no access clock. */
  lookupWrite(key: string, hash: number, now: number): number {
    const handle = this.ks.find(key, hash)
    if (handle !== 0 && this.ks.isExpired(handle, now)) {
      this.removeWithEvent(handle, hash, 'expired')
      return 0
    }
    return handle
  }

  /** A key's handle without expiring it, touching it or counting it, or undefined (MEMORY USAGE). */
  peekHandle(key: string): number | undefined {
    const hash = this.ks.hashKey(key)
    const handle = this.ks.find(key, hash)
    return handle === 0 || this.ks.isExpired(handle, this.now()) ? undefined : handle
  }

  /**
   * Updates the key's access clock. `hash` is the key's: the adaptive policies' sketch counts the access by it
   * (without it only the clock moves).
   */
  touchKey(handle: number, now: number, hash?: number): void {
    if (this.evictor.adaptive.active) return this.evictor.adaptive.accessed(handle, hash)
    const index = handle & HANDLE_INDEX_MASK
    const lru = this.ks.lru
    lru[index] = this.lfu
      ? lfuTouch(lru[index], now, this.cfg.lfuLogFactor, this.cfg.lfuDecayTime, Math.random())
      : lruClock(now)
  }

  /** Writes a value over `handle` (0 = a new key) and stamps the access clock; returns the key's handle. */
  writeValue(key: string, hash: number, value: Value, handle: number, now: number): number {
    if (handle !== 0) {
      this.store.replace(handle, value)
      // An overwrite is an access; LFU keeps the key's counter (Redis's dbSetValue copies the old lru).
      this.touchKey(handle, now, hash)
      return handle
    }
    handle = this.ks.insert(key, hash, value)
    this.ks.lru[handle & HANDLE_INDEX_MASK] = this.lfu ? this.newKeyClock(handle, hash, now) : lruClock(now)
    return handle
  }

  /** The lru field of a key just created when it is not an LRU stamp (LFU's initial counter, or adaptive's). */
  newKeyClock(handle: number, hash: number, now: number): number {
    return this.evictor.adaptive.active ? this.evictor.adaptive.created(handle, hash) : lfuInit(now)
  }

  /** The value lookupRead found, as a new Buffer. */
  copyValue(handle: number): Buffer {
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
  scratchView(length: number): Uint8Array {
    if (length !== this.viewLength) {
      this.view = this.scratch.subarray(0, length)
      this.viewLength = length
    }
    return this.view
  }

  /** Deletes a key evicted or expired by the engine itself; its event waits for the command's end (notify.ts). */
  removeWithEvent(handle: number, hash: number, event: KeyspaceEvent): void {
    const key = this.events.wanted(event) ? this.store.key(handle) : undefined
    if (!this.ks.remove(handle, hash)) return
    if (event === 'evicted') this.stats.evicted_keys++
    else this.stats.expired_keys++
    if (key !== undefined) this.events.push(event, key)
  }

  // ---- lifetime ----

  /**
   * FLUSHALL: a fresh store, opened before the old one closes so a failure (every arena index taken) leaves the
   * engine whole. With no index to spare, the old store's is freed first and taken again at once.
   */
  flush(): void {
    if (this.flushShared !== null) {
      // A shared store is emptied in place: every thread's state over it stays (ARCHITECTURE.md "Sharing").
      this.flushShared()
      this.overheadSampledAt = -Infinity
      this.ks.reset(this.store)
      this.evictor.resetPool()
      this.evictor.adaptive.reset()
      this.stats.avg_ttl = 0
      return
    }
    let fresh: SlotStore
    try {
      fresh = this.makeStore()
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_ARENA_LIMIT') throw error
      this.store.close()
      try {
        fresh = this.makeStore()
      } catch (reopen) {
        // Another thread took the index meanwhile: the engine has no store left, so it is closed.
        this.closed = true
        this.evictor.stop()
        this.ks.release()
        throw reopen
      }
    }
    this.store.close()
    this.store = fresh
    this.fused = isFused(fresh) ? fresh : null
    this.overheadSampledAt = -Infinity
    this.scratch = scratchBuffer(fresh)
    this.viewLength = -1
    this.ks.reset(fresh)
    this.evictor.resetPool()
    this.evictor.adaptive.reset()
    // Redis's emptyDb forgets the keyspace's average TTL with its keys.
    this.stats.avg_ttl = 0
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.evictor.stop()
    this.store.close()
    this.ks.release()
  }
}

function scratchBuffer(store: SlotStore): Buffer {
  return Buffer.from(store.scratch.buffer, store.scratch.byteOffset, store.scratch.byteLength)
}

// ---- generic key commands (db.c) ----

export function delCommand(db: Db, keys: readonly string[]): number {
  db.assertOpen()
  checkKeys(keys)
  const now = db.now()
  let removed = 0
  for (const key of keys) {
    const hash = db.ks.hashKey(key)
    const handle = db.lookupWrite(key, hash, now)
    if (handle !== 0 && db.ks.remove(handle, hash)) removed++
  }
  db.events.flush()
  return removed
}

export function existsCommand(db: Db, keys: readonly string[]): number {
  db.assertOpen()
  checkKeys(keys)
  let n = 0
  for (const key of keys) if (db.lookupNoTouch(key) !== 0) n++
  db.events.flush()
  return n
}

export function touchCommand(db: Db, keys: readonly string[]): number {
  db.assertOpen()
  checkKeys(keys)
  let n = 0
  for (const key of keys) {
    const handle = db.lookupNoTouch(key)
    if (handle !== 0) {
      db.touchKey(handle, db.now(), db.ks.hashKey(key))
      n++
    }
  }
  db.events.flush()
  return n
}

/** Redis's SCAN: a reverse-binary cursor over the table, so keys present throughout are returned at least once. */
export function scanCommand(db: Db, cursor: number, opts: ScanOptions): [next: number, keys: string[]] {
  db.assertOpen()
  if (!Number.isInteger(cursor)) throw new TypeError('cursor must be an integer')
  if (cursor < 0 || cursor > 0xffffffff) throw new RangeError('cursor out of range')
  const count = opts.count ?? SCAN_DEFAULT_COUNT
  if (!Number.isInteger(count) || count < 1) throw new RangeError('count must be a positive integer')
  const match = opts.match
  if (match !== undefined && typeof match !== 'string') throw new TypeError('match must be a string')
  const usePattern = match !== undefined && match !== '*'
  const type = opts.type
  if (type !== undefined && typeof type !== 'string') throw new TypeError('type must be a string')
  const typeMatches = type === undefined || type.toLowerCase() === 'string'
  const handles: number[] = []
  const hashes: number[] = []
  let next = cursor
  let maxIterations = count * 10
  do {
    next = db.ks.scanStep(next, handles, hashes)
  } while (next !== 0 && maxIterations-- > 0 && handles.length < count)
  const now = db.now()
  const keys: string[] = []
  for (let i = 0; i < handles.length; i++) {
    if (db.ks.isExpired(handles[i], now)) {
      db.removeWithEvent(handles[i], hashes[i], 'expired')
      continue
    }
    if (!typeMatches) continue
    const key = db.store.key(handles[i])
    if (!usePattern || globMatch(match, key)) keys.push(key)
  }
  db.events.flush()
  return [next, keys]
}
