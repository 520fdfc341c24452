// The public face of arenakv: an Engine is one keyspace with Redis 7's semantics. Each method delegates to the
// command family Redis keeps it in (t_string.ts, db.ts, expire.ts, object.ts, report.ts, doctor.ts); this file
// only constructs, wires, and closes (ARCHITECTURE.md).
import { EventEmitter } from 'node:events'
import { allocator } from './allocator.js'
import { Clock } from './clock.js'
import { checkConfigSetArgs, configField, configGet, configSet, resolveOptions, type EngineConfig, type EngineOptions } from './config.js'
import { Db, delCommand, existsCommand, scanCommand, touchCommand, type EngineStats, type ScanOptions, type Value } from './db.js'
import { ActiveDefrag, defragTarget, type DefragHost } from './defrag.js'
import { bindEngineDb } from './engine_base.js'
import { KeyCommands } from './engine_keys.js'
import { memoryDoctor } from './doctor.js'
import { unsupportedError } from './errors.js'
import {
  ActiveExpire,
  expireCommand,
  persistCommand,
  pexpiretimeCommand,
  pttlCommand,
  ttlSeconds,
  type ExpireFlag,
} from './expire.js'
import { EventQueue } from './notify.js'
import { memoryUsageCommand, objectFreqCommand, objectIdletimeCommand } from './object.js'
import { Reporter, engineArenaStats, engineHeapResident } from './report.js'
import { listen, type ListenOptions, type RespListener } from './server/server.js'
import { Sharing, isSharedEngineDescriptor, lockMethods, newSharedMemory, type SharedEngineDescriptor } from './share.js'
import { attachStore, createStore, isShareable, type SlotStore } from './store.js'
import {
  getCommand,
  getdelCommand,
  getexCommand,
  getIntoCommand,
  readScratchCommand,
  getStringCommand,
  mgetCommand,
  msetCommand,
  setCommand,
  type GetExOptions,
  type SetOptions,
} from './t_string.js'
import { mgetIntoCommand } from './t_string_batch.js'

export type { EngineStats, ScanOptions, Value } from './db.js'
export type { ExpireFlag } from './expire.js'
export type { GetExOptions, SetOptions } from './t_string.js'
export type { BitRange, Int64, LcsIdx, LcsMatch, LcsOptions } from './engine_strings.js'
export type { CopyOptions, StringEncoding } from './engine_keys.js'
export type { ListenAddress, ListenOptions, RespListener } from './server/server.js'
export type { SharedEngineDescriptor } from './share.js'

/** Hooks for tests: a store factory and a clock (unix ms) of their own. */
export interface EngineInternals {
  createStore?: () => SlotStore
  now?: () => number
  /** Engine.attach's: the shared engine this one joins. */
  attach?: SharedEngineDescriptor
}

/** What tests and arenakv/redis may reach inside an engine; users cannot (the accessor is not in lib/index.ts). */
export interface EngineInternalAccess {
  /** The native store. */
  readonly slotStore: SlotStore
  /** A key's handle without expiring, touching or counting it, or undefined. */
  peekHandle(key: string): number | undefined
  /**
   * GET without the copy (arenakv/redis's hit path): the value's length, or -1 when absent; when the length is at
   * most `scratch.length` the bytes are `scratch[0, length)`, valid until the next call on the engine. Expiry, the
   * access clock, counters and events as {@link Engine.getInto}.
   */
  readScratch(key: string): number
  /** The buffer readScratch leaves values in (replaced by a flush: read it after each call). */
  readonly scratch: Buffer
}

let internalAccess: (db: Engine) => EngineInternalAccess

/** The engine's internals, kept off the instance so that nothing a user holds reveals them. */
export function engineInternals(db: Engine): EngineInternalAccess {
  return internalAccess(db)
}

type ExpireFlags = ExpireFlag | readonly ExpireFlag[]

/** Active defragmentation needs jemalloc's utilization hints; other builds refuse to turn it on. */
const DEFRAG_SUPPORTED = allocator.capabilities.defragHints

function assertDefragSupported(): void {
  if (!DEFRAG_SUPPORTED) throw unsupportedError('activedefrag (active defragmentation needs jemalloc)')
}

/**
 * Resident accounting reads the engine's heap: its jemalloc arena, or its share of the private mimalloc heap.
 * glibc's heap is the whole process's, so the libc build refuses it; tcmalloc's resident memory does not fall when
 * eviction frees memory under churn, so counting it would starve the dataset (ARCHITECTURE.md "Memory").
 */
function assertResidentSupported(): void {
  if (allocator.capabilities.residentAccounting) return
  if (allocator.capabilities.heapResident) {
    throw unsupportedError(
      "maxmemoryAccounting 'resident' on tcmalloc (its resident memory stays up when eviction frees objects inside partly used spans, so " +
        'counting it held a third of the data under churn; use the jemalloc or mimalloc build)',
    )
  }
  throw unsupportedError(
    "maxmemoryAccounting 'resident' (the engine's resident memory needs a private allocator, jemalloc or mimalloc; glibc's heap is the whole process's)",
  )
}

/**
 * A keyspace of string keys and binary or string values in native memory, bounded by `maxmemory` with Redis's
 * eviction policies, expired lazily and actively, and reported as Redis reports memory.
 *
 * Events: `'evicted'` and `'expired'` (the key) are emitted once the command or timer step that removed the key
 * has finished; a listener's error is thrown to the command's caller after every event is delivered.
 */
export class Engine extends KeyCommands {
  static {
    internalAccess = (engine) => ({
      get slotStore() {
        engine.#db.assertOpen()
        return engine.#db.store
      },
      peekHandle: (key) => {
        engine.#db.assertOpen()
        return engine.#db.peekHandle(key)
      },
      readScratch: (key) => readScratchCommand(engine.#db, key),
      get scratch() {
        return engine.#db.scratch
      },
    })
  }

  readonly #db: Db
  readonly #activeExpire: ActiveExpire
  readonly #defrag: ActiveDefrag
  /** What the defrag run calls back; a shared engine sets its pause (share.ts). */
  readonly #defragHost: DefragHost
  readonly #reporter: Reporter
  /** The RESP endpoints serving this engine (close() closes them). */
  readonly #listeners = new Set<() => Promise<void>>()
  /** This thread's side of a shared engine (share.ts), or null while private. */
  #sharing: Sharing | null = null

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
    const cfg = resolveOptions(options)
    if (cfg.activedefrag) assertDefragSupported()
    if (cfg.maxmemoryAccounting === 'resident') assertResidentSupported()
    const clock = new Clock(internals.now, internals.now !== undefined)
    const joining = internals.attach
    const makeStore = joining !== undefined
      ? () => attachStore(joining.token, joining.scratchBytes, joining.scratchUsable)
      : internals.createStore ?? (() => createStore())
    const db = new Db(cfg, clock, new EventQueue(this), makeStore)
    this.#db = db
    bindEngineDb(this, db)
    this.#defragHost = { cfg, target: () => defragTarget(db.store, DEFRAG_SUPPORTED), pause: null }
    this.#defrag = new ActiveDefrag(this.#defragHost)
    this.#reporter = new Reporter({
      cfg,
      stats: db.stats,
      defrag: this.#defrag,
      usedMemory: () => db.reportedUsedMemory(),
      keyCount: () => db.ks.count,
      volatileCount: () => db.ks.volatileCount,
      storeBytes: () => db.store.usedBytes(),
      slotsIssued: () => db.ks.highIndex,
      arenaStats: () => engineArenaStats(db.store),
      heapResident: () => engineHeapResident(db.store),
      storePeak: () => db.storePeak(),
      arrayBytes: () => {
        const ks = db.ks
        const expires = ks.volatileHandles.byteLength + ks.volatileHashes.byteLength + ks.volatileExpires.byteLength
        return { main: ks.arrayBytes - expires, expires, fixed: db.evictor.arrayBytes + db.store.scratchUsable }
      },
      now: () => db.now(),
      adaptiveInfo: () => db.evictor.adaptive.info(),
    })
    // One timer, as Redis's serverCron: rehash steps, active defrag and the peak sample ride on the expire cycle's.
    const cron = () => {
      if (cfg.maxmemoryAccounting === 'resident') db.sampleResidentOverhead()
      db.ks.cron()
      this.#defrag.cycle()
      this.#reporter.cron()
    }
    this.#activeExpire = new ActiveExpire(db, cfg.activeExpireEffort, cfg.hz, cron)
    this.#activeExpire.start()
    if (joining !== undefined) {
      const sharing = new Sharing({ db, expire: this.#activeExpire, store: db.store as never }, joining)
      sharing.enter()
      sharing.exit()
      this.#shareMethods(sharing)
    }
  }

  // ---- sharing between worker threads (share.ts, ARCHITECTURE.md "Sharing") ----

  /**
   * Shares this engine with the other threads of the process: returns a descriptor (SharedArrayBuffers and numbers)
   * to send to a worker (`postMessage`, `workerData`), where {@link Engine.attach} opens an engine over the same
   * keyspace. From then on every call takes the engine's lock, in every thread; events are delivered in the thread
   * whose call (or timer) caused them. Sharing again returns the same descriptor.
   * @throws `ERR_UNSUPPORTED` on the mimalloc build (its heap is per thread) or for an engine made with a test
   *   store; `ERR_CLOSED` once closed.
   */
  share(): SharedEngineDescriptor {
    if (this.#sharing !== null) return this.#sharing.descriptor
    const db = this.#db
    db.assertOpen()
    const store = db.store
    if (!isShareable(store)) throw unsupportedError('sharing an engine made with a test store')
    if (allocator.name === 'mimalloc') throw unsupportedError('sharing an engine (mimalloc heaps are per thread)')
    const { header, regions } = newSharedMemory()
    const descriptor: SharedEngineDescriptor = {
      arenakvSharedEngine: 1,
      token: store.share(),
      header,
      regions,
      config: { ...db.cfg },
      seed: db.ks.seed,
      scratchBytes: store.scratch.byteLength,
      scratchUsable: store.scratchUsable,
    }
    const sharing = new Sharing({ db, expire: this.#activeExpire, store }, descriptor)
    sharing.publish()
    this.#shareMethods(sharing)
    return descriptor
  }

  /**
   * Opens an engine over the keyspace a descriptor from {@link Engine.share} names, in this thread. It behaves
   * as the sharer does; `close()` detaches this thread only, and the memory is freed when the last engine over
   * it closes.
   * @throws TypeError for anything but a descriptor; `ERR_CLOSED` when every engine over it has closed.
   */
  static attach(descriptor: SharedEngineDescriptor): Engine {
    if (!isSharedEngineDescriptor(descriptor)) throw new TypeError('descriptor must be what Engine.share() returned')
    return new Engine({ ...descriptor.config }, { attach: descriptor })
  }

  #shareMethods(sharing: Sharing): void {
    this.#sharing = sharing
    this.#defragHost.pause = this.#db.timerPause
    lockMethods(this, EventEmitter.prototype, sharing, this.#db, ['close', 'share', 'listen'])
  }

  /** INFO stats counters (`evicted_keys`, `expired_keys`, `keyspace_hits`, …), live. */
  get stats(): Readonly<EngineStats> {
    return this.#db.stats
  }

  /** The resolved configuration (live: CONFIG SET changes it). */
  get config(): Readonly<EngineConfig> {
    return this.#db.cfg
  }

  // ---- strings (t_string.ts) ----

  /**
   * SET: stores `value` under `key`, evicting first when `maxmemory` requires.
   * @param opts `ex`/`px` (relative s/ms), `exat`/`pxat` (unix s/ms), `nx` (only if absent), `xx` (only if present),
   *   `keepttl`; at most one time, not both nx and xx (`ERR_SYNTAX`); times are int64s (`ERR_NOT_INTEGER`
   *   otherwise, a bigint where a number cannot carry one), positive and with a deadline within int64 ms
   *   (`ERR_INVALID_EXPIRE`).
   * @returns false when NX or XX refused the write.
   * @throws `ERR_OOM` when nothing can be evicted; `ERR_VALUE_TOO_LARGE` over 512 MB; TypeError for other types.
   */
  set(key: string, value: Value, opts?: SetOptions): boolean {
    return setCommand(this.#db, key, value, opts)
  }

  /** GET: a copy of the value, or undefined when the key is missing or expired. */
  get(key: string): Buffer | undefined {
    return getCommand(this.#db, key)
  }

  /** GET decoded as UTF-8. */
  getString(key: string): string | undefined {
    return getStringCommand(this.#db, key)
  }

  /**
   * GET into the caller's buffer (no allocation): copies min(length, target.length) bytes.
   * @returns the value's full length, or -1 when the key is missing.
   */
  getInto(key: string, target: Uint8Array): number {
    return getIntoCommand(this.#db, key, target)
  }

  /** MGET: one entry per key, undefined where missing. */
  mget(keys: readonly string[]): (Buffer | undefined)[] {
    return mgetCommand(this.#db, keys)
  }

  /**
   * A batch read into one buffer: the values of `keys` back to back in `target`, in key order, `lengths[i]` each
   * value's length or -1 for a missing key. Stops before the first value that does not fit (call again with the
   * rest). Expiry, the access clock and the hit/miss counters as MGET. On the native store the lookups of a batch
   * overlap their cache misses, so it reads many keys faster than as many `getInto` calls.
   * @returns how many keys were processed (`keys.length` when every value fit).
   */
  mgetInto(keys: readonly string[], target: Uint8Array, lengths: Int32Array): number {
    return mgetIntoCommand(this.#db, keys, target, lengths)
  }

  /** MSET: writes every pair, clearing their TTLs; room for all is made first (`ERR_OOM` writes none). */
  mset(entries: Iterable<readonly [string, Value]>): void {
    msetCommand(this.#db, entries)
  }

  /** GETDEL: the value, and the key deleted. */
  getdel(key: string): Buffer | undefined {
    return getdelCommand(this.#db, key)
  }

  /**
   * GETEX: the value, setting (`ex`/`px`/`exat`/`pxat`) or removing (`persist`) its expire time; one option at most.
   */
  getex(key: string, opts?: GetExOptions): Buffer | undefined {
    return getexCommand(this.#db, key, opts)
  }

  // ---- keys (db.ts) ----

  /** DEL: the number of keys removed (an expired key counts as missing). */
  del(...keys: string[]): number {
    return delCommand(this.#db, keys)
  }

  /** UNLINK: Redis frees lazily; freeing here is one native call per key, so it is DEL. */
  unlink(...keys: string[]): number {
    return delCommand(this.#db, keys)
  }

  /** EXISTS: how many of the keys exist, repeats counted. */
  exists(...keys: string[]): number {
    return existsCommand(this.#db, keys)
  }

  /** TOUCH: marks the keys accessed; how many exist. */
  touch(...keys: string[]): number {
    return touchCommand(this.#db, keys)
  }

  /** DBSIZE: keys held, including expired ones not yet removed (as Redis). */
  dbsize(): number {
    this.#db.assertOpen()
    return this.#db.ks.count
  }

  /** FLUSHALL: removes every key at once (no events) and hands the engine's memory back. */
  flushall(): void {
    const db = this.#db
    db.assertOpen()
    // The peak the store recorded goes with it: carry it over first.
    this.#reporter.updatePeak(Math.max(db.reportedUsedMemory(), db.storePeak()))
    try {
      db.flush()
    } finally {
      if (db.closed) this.close()
    }
  }

  /**
   * SCAN: a page of keys from `cursor` (0 starts); the next cursor is 0 after the last page. Keys present for the
   * whole iteration are returned at least once.
   * @param opts `match` (a Redis glob pattern), `count` (the page size hint, default 10), `type` ('string' keeps
   *   every key, another type name none).
   */
  scan(cursor: number, opts: ScanOptions = {}): [next: number, keys: string[]] {
    return scanCommand(this.#db, cursor, opts)
  }

  /** Every key, through SCAN pages. */
  *scanIterator(opts: ScanOptions = {}): IterableIterator<string> {
    let cursor = 0
    do {
      const [next, keys] = this.scan(cursor, opts)
      yield* keys
      cursor = next
    } while (cursor !== 0)
  }

  // ---- expiry (expire.ts) ----

  /**
   * EXPIRE: sets the key's time to live in seconds; a time not in the future deletes it. Times are int64s as Redis
   * takes them (a bigint where a number cannot carry one): `ERR_NOT_INTEGER` outside int64, `ERR_INVALID_EXPIRE`
   * when the deadline in ms would leave int64; a deadline past 2^53 ms is kept rounded to a double.
   * @param flag 'NX' (only without a TTL), 'XX' (only with one), 'GT' / 'LT' (only a later / earlier time).
   * @returns false when the key is missing or a flag refused.
   */
  expire(key: string, seconds: number | bigint, flag?: ExpireFlags): boolean {
    return expireCommand(this.#db, key, seconds, 1000, false, flag, 'expire')
  }

  /** PEXPIRE: as {@link Engine.expire}, in milliseconds. */
  pexpire(key: string, milliseconds: number | bigint, flag?: ExpireFlags): boolean {
    return expireCommand(this.#db, key, milliseconds, 1, false, flag, 'pexpire')
  }

  /** EXPIREAT: as {@link Engine.expire}, at a unix time in seconds. */
  expireat(key: string, unixSeconds: number | bigint, flag?: ExpireFlags): boolean {
    return expireCommand(this.#db, key, unixSeconds, 1000, true, flag, 'expireat')
  }

  /** PEXPIREAT: as {@link Engine.expire}, at a unix time in milliseconds. */
  pexpireat(key: string, unixMs: number | bigint, flag?: ExpireFlags): boolean {
    return expireCommand(this.#db, key, unixMs, 1, true, flag, 'pexpireat')
  }

  /** PERSIST: removes the key's expire time; false when missing or without one. */
  persist(key: string): boolean {
    return persistCommand(this.#db, key)
  }

  /** TTL in seconds (rounded as Redis), -1 without an expire time, -2 when missing. */
  ttl(key: string): number {
    const left = pttlCommand(this.#db, key)
    return left < 0 ? left : ttlSeconds(left)
  }

  /** PTTL in milliseconds, -1 without an expire time, -2 when missing. */
  pttl(key: string): number {
    return pttlCommand(this.#db, key)
  }

  /** EXPIRETIME: the unix time in seconds the key expires at (rounded as TTL), -1 without one, -2 when missing. */
  expiretime(key: string): number {
    const when = pexpiretimeCommand(this.#db, key)
    // Redis's ttlGenericCommand rounds the absolute time as it rounds TTL: (ms + 500) / 1000.
    return when < 0 ? when : ttlSeconds(when)
  }

  /** PEXPIRETIME: the unix time in milliseconds the key expires at, -1 without one, -2 when missing. */
  pexpiretime(key: string): number {
    return pexpiretimeCommand(this.#db, key)
  }

  // ---- object and memory (object.ts, report.ts, doctor.ts) ----

  /** OBJECT IDLETIME in seconds; `ERR_SYNTAX` under an LFU policy. */
  objectIdletime(key: string): number | undefined {
    return objectIdletimeCommand(this.#db, key)
  }

  /** OBJECT FREQ, the LFU counter; `ERR_SYNTAX` unless an LFU policy is set. */
  objectFreq(key: string): number | undefined {
    return objectFreqCommand(this.#db, key)
  }

  /** MEMORY USAGE: bytes the key costs (its allocation and its share of the tables), or undefined when missing. */
  memoryUsage(key: string, opts?: { samples?: number }): number | undefined {
    return memoryUsageCommand(this.#db, key, opts)
  }

  /** Bytes `maxmemory` bounds (INFO's `used_memory`): every native allocation and typed array the engine holds. */
  usedMemory(): number {
    return this.#db.reportedUsedMemory()
  }

  /** Keys with an expire time (INFO keyspace `expires`). */
  volatileCount(): number {
    this.#db.assertOpen()
    return this.#db.ks.volatileCount
  }

  /**
   * INFO text for the sections named (`server`, `memory`, `stats`, `keyspace`; several at once, in Redis's order;
   * `default` / `all` / `everything` or none for all): `# Memory\r\n…`.
   */
  info(...sections: string[]): string {
    this.#db.assertOpen()
    return this.#reporter.info(...sections)
  }

  /** INFO as an object: field name to number or string. */
  infoObject(...sections: string[]): Record<string, string | number> {
    this.#db.assertOpen()
    return this.#reporter.infoObject(...sections)
  }

  /** MEMORY STATS with Redis's keys (`peak.allocated`, `total.allocated`, `keys.count`, `fragmentation`, …). */
  memoryStats(): Record<string, number | Record<string, number>> {
    this.#db.assertOpen()
    return this.#reporter.memoryStats()
  }

  /** MEMORY DOCTOR: Redis's checks (peak, fragmentation, RSS overhead) in plain words. */
  memoryDoctor(): string {
    this.#db.assertOpen()
    return memoryDoctor(this.#reporter)
  }

  /** MEMORY PURGE: the allocator's free pages go back to the OS now. */
  memoryPurge(): void {
    this.#db.assertOpen()
    this.#reporter.memoryPurge()
  }

  // ---- config (config.ts) ----

  /** CONFIG GET: every parameter whose Redis name matches the glob `pattern`, as strings. */
  configGet(pattern: string): Record<string, string> {
    this.#db.assertOpen()
    return configGet(this.#db.cfg, pattern)
  }

  /**
   * CONFIG SET with Redis's names, ranges and error texts (`ERR_CONFIG`). Lowering `maxmemory` or changing the
   * policy evicts at once (then on the following event-loop turns if the time budget runs out).
   */
  configSet(name: string, value: string | number): void {
    const db = this.#db
    db.assertOpen()
    checkConfigSetArgs(name, value)
    const before = db.cfg.maxmemoryPolicy
    if (configField(name) === 'activedefrag' && String(value).toLowerCase() === 'yes') assertDefragSupported()
    const changed = configSet(db.cfg, name, value)
    if (changed === 'maxmemory' || changed === 'maxmemoryPolicy') {
      if (changed === 'maxmemoryPolicy') db.policyChanged(before)
      db.evictor.performEvictions(0)
      db.events.flush()
    } else if (changed === 'hz' || changed === 'activeExpireEffort') {
      this.#activeExpire.configure(db.cfg.activeExpireEffort, db.cfg.hz)
    }
  }

  /**
   * CONFIG RESETSTAT: zeroes the INFO stats counters Redis's resetServerStats resets (expired, evicted, keyspace
   * hits and misses, the active expire cycle's stale estimate and time-cap count, active defrag's counters and
   * time). The peak and the keyspace's avg_ttl are not stats counters and stay.
   */
  configResetstat(): void {
    const db = this.#db
    db.assertOpen()
    const st = db.stats
    st.expired_keys = 0
    st.expired_stale_perc = 0
    st.expired_time_cap_reached_count = 0
    st.evicted_keys = 0
    st.keyspace_hits = 0
    st.keyspace_misses = 0
    const ds = this.#defrag.stats
    ds.active_defrag_hits = 0
    ds.active_defrag_misses = 0
    ds.active_defrag_key_hits = 0
    ds.active_defrag_key_misses = 0
    ds.totalTimeUs = 0
  }

  // ---- the RESP endpoint (server/) ----

  /**
   * Serves this engine over RESP2 and RESP3 (`HELLO 3`) on TCP or a Unix socket, so redis-cli, Redis clients
   * and exporters can inspect and tune it live (ARCHITECTURE.md "The RESP endpoint"). Commands run one at a time,
   * to completion, between the application's own calls.
   * @param options `{ port, host }` (host defaults to 127.0.0.1; a non-loopback host needs `requirepass`) or
   *   `{ path }` (a Unix socket, mode 0600); `requirepass`, `clientOutputBufferLimit`, `maxclients`.
   * @returns the listener once bound: its `address` (the port chosen for port 0) and `close()`. Closing the
   *   engine closes it too.
   */
  listen(options: ListenOptions): Promise<RespListener> {
    try {
      this.#db.assertOpen()
    } catch (error) {
      return Promise.reject(error)
    }
    return listen(this, options, (close) => {
      this.#listeners.add(close)
      return () => this.#listeners.delete(close)
    })
  }

  // ---- lifetime ----

  /**
   * Frees every native byte, stops the timers and closes the RESP listeners (dropping their clients); later calls
   * throw `ERR_CLOSED`. Closing twice is harmless.
   */
  close(): void {
    for (const close of [...this.#listeners]) void close()
    this.#listeners.clear()
    this.#activeExpire.stop()
    this.#db.close()
  }

  [Symbol.dispose](): void {
    this.close()
  }
}
