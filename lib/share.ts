// One engine shared by the worker threads of a process (ARCHITECTURE.md "Sharing"): the native store is
// process-global, the keyspace's arrays live in regions of growable SharedArrayBuffers, and the keyspace's scalars
// (table counters, the expire list's length, statistics, configuration) in a shared header. Each thread keeps its
// own Keyspace, Db and Engine objects, with fixed-length views over the regions; a command takes the engine lock,
// copies the header's scalars into its objects (and rebuilds its views when the layout generation moved), runs as
// on a private engine, copies them back and releases the lock, then delivers its events.
import type { Db } from './db.js'
import type { ActiveExpire, TimerWork } from './expire.js'
import { MAXMEMORY_ACCOUNTINGS, MAXMEMORY_POLICIES, type EngineConfig } from './config.js'
import { releaseArray } from './pages.js'
import { native } from './native.js'
import { CELL_USED_BYTES, type ShareableStore } from './store.js'
import type { ArraySource, KeyspaceArray, TypedArrayConstructor } from './arrays.js'
import { SLOW_MS, addSlow, newLockStats, schedClock, waitBucket, type LockStats, type LockTrace } from './lock_stats.js'
import type { MaxmemoryPolicy } from './config.js'

/**
 * What `Engine.share()` returns and `Engine.attach()` takes: SharedArrayBuffers and numbers only, so it crosses
 * `postMessage` (and `workerData`) to any worker of the process. Opaque to users.
 */
export interface SharedEngineDescriptor {
  readonly arenakvSharedEngine: 1
  /** The native store's token (process-global, native/store_binding.cc share). */
  readonly token: number
  readonly header: SharedArrayBuffer
  readonly regions: readonly SharedArrayBuffer[]
  /** The configuration when shared (attach starts from it; the header's copy is current). */
  readonly config: Readonly<EngineConfig>
  readonly seed: number
  readonly scratchBytes: number
  readonly scratchUsable: number
}

// ---- the header: Int32 words, then Float64 cells ----

const W_LOCK = 0 // the owner's tag, 0 when free
const W_POISON = 1 // a thread died holding the lock: the next locker rebuilds the keyspace
const W_GEN = 2 // the arrays' layout generation
const W_TAGS = 3 // lock tags handed out
const W_WAITERS = 4 // threads waiting in Atomics.wait
const W_WANT = 5 // threads spinning or waiting for the lock: timer work lets it go between its steps while non-zero
const W_HANDOFF = 6 // 1 while timer work waits for a wanting thread to take the lock it let go
const W_RECOVERIES = 7 // keyspaces rebuilt after a thread died holding the lock (sharedEngineRecoveries)
const W_ACQUIRES = 8 // times the lock was taken (wraps): a waiter learns how many holds it waited through
const W_OP = 9 // what the holder is doing (an index into opNames), for waiters' statistics
const W_TURN_NEXT = 10 // the next turn a thread that waited STARVE_MS takes (contended)
const W_TURN_SERVING = 11 // the turn the lock goes to next; equal to W_TURN_NEXT when no thread waits for its turn
const W_LAST = 12 // the tag of the thread that last copied its objects into the header (push)
const W_ARRAYS = 13 // per shared array: region index (-1: null), length in elements (two words each, to F_USED * 2)
const F_USED = 32 // used bytes (the last locker's store cell)
const F_SLOW_DUE = 33 // when the next slow cycle is due (unix ms): the thread whose timer claims it runs it
const F_SCALARS = 34
const HEADER_BYTES = 4096
const MAX_SCALARS = HEADER_BYTES / 8 - F_SCALARS

/** Spins before waiting: a spin costs ~0.1 µs, a wait and its wake-up ~60 µs on the machine this was measured on. */
const SPINS = 200
/** Waits are timed: a dying thread's cleanup releases the lock but cannot wake waiters (it runs no JavaScript). */
const WAIT_MS = 1
/**
 * The longest timer work that let the lock go waits for a wanting thread to take it (it is woken as soon as one
 * does): a waiter woken by Atomics.notify runs again ~60 µs later on an idle machine, much later on a loaded one.
 */
const HANDOFF_MS = 2
/** A thread that has waited this long for the lock takes a turn: the lock goes to turns in order, before others. */
const STARVE_MS = 0.5
/** How long the lock may lie free for a turn before the others skip it (its thread may have been terminated). */
const TURN_MS = 4

/**
 * What a lock holder does, by index (W_OP): the timer work's kinds first, then every locked method in the order
 * lockMethods meets them, the same in every thread (one Engine class). Statistics only.
 */
const opNames: string[] = ['(attach)', 'slow cycle', 'fast cycle', 'eviction continuation']
const opIds = new Map(opNames.map((name, i) => [name, i]))
function opId(name: string): number {
  let id = opIds.get(name)
  if (id === undefined) {
    id = opNames.push(name) - 1
    opIds.set(name, id)
  }
  return id
}

// The arrays: keyspace field, element type, and region. Regions 0 and 1 take the table and the table being
// rehashed away, in turn; each other field has its region. A region is reserved at its field's largest size
// (2^26 slots: the store's limit) and committed only as it is touched.
const ARRAY_FIELDS = ['hashes', 'oldHashes', 'lru', 'volatilePos', 'volatileHandles', 'volatileHashes', 'volatileExpires'] as const
const ARRAY_CTORS: readonly TypedArrayConstructor<KeyspaceArray>[] = [
  Int32Array, Int32Array, Uint32Array, Uint32Array, Uint32Array, Int32Array, Float64Array,
]
const MAX_KEYS = 2 ** 26
// Then the adaptive policies' arrays (adaptive.ts sharedState, regions 7-11 by arrays.ts role): the sketch (a word
// per key at most), the two ghosts (2 × 8 bits per key at most, and a minimum), the window queue's handles and
// hashes (up to about twice the keys while queued keys are deleted, and a quarter more as the ring grows).
const REGION_MAX_BYTES = [
  MAX_KEYS * 4 * 8, MAX_KEYS * 4 * 8, MAX_KEYS * 4, MAX_KEYS * 4, MAX_KEYS * 4, MAX_KEYS * 4, MAX_KEYS * 8,
  MAX_KEYS * 4, MAX_KEYS * 2 + 4096, MAX_KEYS * 2 + 4096, MAX_KEYS * 4 * 4, MAX_KEYS * 4 * 4,
]
/** The region of each array field other than the tables (field index → region). */
const FIELD_REGION = [-1, -1, 2, 3, 4, 5, 6]

/**
 * One shared array: the object holding it, its field, element type and region (-1: the table's, which alternates
 * between regions 0 and 1), and whether the field may be null (the keyspace's) rather than an empty view.
 */
interface ArraySlot {
  readonly holder: Record<string, KeyspaceArray | null>
  readonly field: string
  readonly ctor: TypedArrayConstructor<KeyspaceArray>
  readonly region: number
}

/**
 * A function comparing every slot's array with the one last published, generated once per engine with each field
 * named in its code: a loop reading `holder[field]` by a variable name is a keyed lookup per slot on every push.
 */
function slotsMovedCheck(slots: readonly ArraySlot[]): (holders: readonly object[], pulled: readonly (KeyspaceArray | null)[]) => boolean {
  const terms = slots.map(({ field }, i) => `h[${i}][${JSON.stringify(field)}] !== p[${i}]`)
  return new Function('h', 'p', `'use strict';\nreturn ${terms.join(' ||\n  ')}`) as (h: readonly object[], p: readonly (KeyspaceArray | null)[]) => boolean
}

/** Node 20 has resizable SharedArrayBuffers (ES2024); the compiler's lib predates them. */
type GrowableSharedArrayBuffer = SharedArrayBuffer & { grow(bytes: number): void; readonly growable: boolean }
const GrowableSAB = SharedArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => GrowableSharedArrayBuffer

type KeyspaceViews = { hashes: Int32Array; oldHashes: Int32Array | null; handles: Uint32Array; oldHandles: Uint32Array | null }
type Scalars = Record<string, unknown>
type ScalarCopy = (cells: Float64Array, objects: readonly Scalars[], enums: readonly (readonly string[])[]) => void

/** Scalars of the keyspace mirrored in the header, per object: [object index, field]. */
const KS_FIELDS = ['mask', 'fill', 'oldMask', 'oldFill', 'rehashIdx', 'volatileCount', 'arrayBytes', 'highIndex', 'lfu', 'exactStamps']
const DB_FIELDS = ['lfu', 'residentOverhead', 'overheadSampledAt', 'overheadChecks']
const EXPIRE_FIELDS = ['cursor', 'timelimitExit']

/** The values an enum configuration field takes (stored as its index). */
const CONFIG_ENUMS: Readonly<Record<string, readonly string[]>> = {
  maxmemoryPolicy: MAXMEMORY_POLICIES,
  maxmemoryAccounting: MAXMEMORY_ACCOUNTINGS,
}

/**
 * The two copy functions, generated once per engine: one load or store per scalar with the field names written out,
 * so V8 compiles them to straight-line code (a loop over names would be a keyed access per field, several times
 * slower, and this runs twice per command).
 */
function scalarCopies(objects: readonly Scalars[], fields: readonly (readonly string[])[]): {
  pull: ScalarCopy
  push: ScalarCopy
  enums: (readonly string[])[]
} {
  const pull: string[] = []
  const push: string[] = []
  const enums: (readonly string[])[] = []
  let cell = F_SCALARS
  objects.forEach((object, o) => {
    for (const key of fields[o]) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || !(key in object)) throw new Error(`share: no field ${key}`)
      const value = object[key]
      const ref = `o[${o}].${key}`
      if (typeof value === 'number') {
        pull.push(`${ref} = f[${cell}]`)
        push.push(`f[${cell}] = ${ref}`)
      } else if (typeof value === 'boolean') {
        pull.push(`${ref} = f[${cell}] !== 0`)
        push.push(`f[${cell}] = ${ref} ? 1 : 0`)
      } else if (typeof value === 'string' && CONFIG_ENUMS[key] !== undefined) {
        enums.push(CONFIG_ENUMS[key])
        const e = enums.length - 1
        pull.push(`${ref} = e[${e}][f[${cell}]]`)
        push.push(`f[${cell}] = e[${e}].indexOf(${ref})`)
      } else {
        throw new Error(`share: no shared form for ${key}`)
      }
      cell++
    }
  })
  if (cell - F_SCALARS > MAX_SCALARS) throw new Error('share: too many scalars for the header')
  // Generated from the engine's own field names (checked identifiers, never user input), see the comment above.
  const make = (body: string[]) => new Function('f', 'o', 'e', `'use strict';\n${body.join('\n')}`) as ScalarCopy
  return { pull: make(pull), push: make(push), enums }
}

/**
 * A shared engine's arrays: views over the regions (arrays.ts ArraySource). A region never shrinks (a growable
 * SharedArrayBuffer cannot), so what an array no longer covers goes back to the kernel instead: the tail past a
 * shrunk array, and the whole of a table region the rehash has left (native pages.discard, whole pages). Those
 * bytes read as zeros after, and every array is zeroed past what it keeps before use anyway.
 */
class RegionArrays implements ArraySource {
  constructor(private readonly regions: readonly SharedArrayBuffer[]) {}

  private view<T extends KeyspaceArray>(ctor: TypedArrayConstructor<T>, region: number, length: number): T {
    const sab = this.regions[region]
    const bytes = length * ctor.BYTES_PER_ELEMENT
    if (sab.byteLength < bytes) (sab as GrowableSharedArrayBuffer).grow(bytes)
    else discardFrom(sab, bytes)
    return new ctor(sab, 0, length)
  }

  table(length: number, current: Int32Array | null, old: Int32Array | null): Int32Array {
    const region = current?.buffer === this.regions[0] || old?.buffer === this.regions[0] ? 1 : 0
    const table = this.view(Int32Array, region, length)
    zero(table)
    return table
  }

  fresh<T extends KeyspaceArray>(ctor: TypedArrayConstructor<T>, length: number, role: number): T {
    const array = this.view(ctor, role, length)
    zero(array)
    return array
  }

  resized<T extends KeyspaceArray>(ctor: TypedArrayConstructor<T>, old: T, length: number, role: number): T {
    const array = this.view(ctor, role, length)
    const kept = Math.min(length, old.length)
    // The region past the old length may hold what a larger array left there: zero it.
    if (old.buffer !== array.buffer) array.set(old.subarray(0, kept))
    if (length > kept) zero(array.subarray(kept))
    return array
  }

  release(array: KeyspaceArray): void {
    if (!(array.buffer instanceof SharedArrayBuffer)) releaseArray(array)
  }

  moved(table: Int32Array): void {
    // The other table region holds the table now (see table()); under the lock, so no thread reads this one.
    if (table.buffer === this.regions[0] || table.buffer === this.regions[1]) discardFrom(table.buffer as SharedArrayBuffer, 0)
    else this.release(table)
  }

  keep<T extends KeyspaceArray>(array: T): T {
    // The successor is a view over the same region: what it overwrites must be read from a copy.
    return array.buffer instanceof SharedArrayBuffer ? (array.slice() as T) : array
  }
}

/** Regions' tails smaller than this stay: a syscall saves less than it costs. */
const DISCARD_MIN_BYTES = 64 * 1024

/** Arrays at least this large are zeroed by handing their pages back (zero), not by writing every byte. */
const ZERO_BY_DISCARD_MIN_BYTES = 1024 * 1024
/** What discard leaves at each end of a view: its partial pages, one page at most (4 KiB; 64 KiB on some arm64). */
const DISCARD_EDGE_BYTES = 64 * 1024

/**
 * Zeroes a region's array. A large one (a new table at millions of keys: tens of MB) by handing its whole pages
 * back, which read as zeros after, and writing only its ends: a few µs under the lock instead of milliseconds, the
 * pages faulting in as they are used, as a private engine's fresh kernel pages do.
 */
function zero(array: KeyspaceArray): void {
  const bytes = array.byteLength
  if (bytes < ZERO_BY_DISCARD_MIN_BYTES) {
    array.fill(0)
    return
  }
  const view = new Uint8Array(array.buffer, array.byteOffset, bytes)
  if (native.pages.discard(view) < 0) {
    array.fill(0)
    return
  }
  view.fill(0, 0, DISCARD_EDGE_BYTES)
  view.fill(0, bytes - DISCARD_EDGE_BYTES)
}

/** The region's bytes from `from` on go back to the kernel (whole pages). */
function discardFrom(sab: SharedArrayBuffer, from: number): void {
  if (sab.byteLength - from >= DISCARD_MIN_BYTES) native.pages.discard(new Uint8Array(sab, from, sab.byteLength - from))
}

export interface SharingHost {
  readonly db: Db
  readonly expire: ActiveExpire
  readonly store: ShareableStore
}

/** One thread's side of a shared engine: the lock, the copies in and out, the timer claim. */
export class Sharing {
  readonly words: Int32Array
  readonly cells: Float64Array
  private readonly tag: number
  private depth = 0
  /** Set while this thread's timer work holds the lock (timerStep): only it may pause. */
  private inTimer = false
  private seenGen = -1
  /** The policy this thread's evictor pool was filled under: another thread's CONFIG SET empties it. */
  private seenPolicy: MaxmemoryPolicy
  private readonly slots: readonly ArraySlot[]
  private readonly slotHolders: readonly Record<string, KeyspaceArray | null>[]
  /** Whether any slot's array differs from the one `pulled` lists (slotsMovedCheck). */
  private readonly slotsMoved: (holders: readonly object[], pulled: readonly (KeyspaceArray | null)[]) => boolean
  private readonly pulled: (KeyspaceArray | null)[]
  private pulledLfu = false
  private pulledExact = false
  private readonly objects: Scalars[]
  private readonly pullScalars: ScalarCopy
  private readonly pushScalars: ScalarCopy
  private readonly enums: (readonly string[])[]
  private readonly storeCells: Float64Array
  private readonly db: Db
  /** This thread's lock statistics (sharedLockStats). */
  stats: LockStats = newLockStats()
  /** What the current hold does (opNames), and when it began (tracing only). */
  private op = 0
  private holdStart = 0
  /** Sched tracing: this thread's run-queue time when the hold began. */
  private holdRunqueue = 0

  constructor(
    host: SharingHost,
    readonly descriptor: SharedEngineDescriptor,
  ) {
    const { db, expire, store } = host
    this.db = db
    this.words = new Int32Array(descriptor.header, 0, F_USED * 2)
    this.cells = new Float64Array(descriptor.header)
    this.tag = Atomics.add(this.words, W_TAGS, 1) + 1
    this.storeCells = (store as unknown as { cells: Float64Array }).cells
    const adaptive = db.evictor.adaptive.sharedState()
    this.objects = [db.ks, db, db.stats, db.cfg, expire, ...adaptive.scalars.map(([object]) => object)] as unknown as Scalars[]
    const copies = scalarCopies(this.objects, [
      KS_FIELDS,
      DB_FIELDS,
      Object.keys(db.stats),
      Object.keys(db.cfg),
      EXPIRE_FIELDS,
      ...adaptive.scalars.map(([, fields]) => fields),
    ])
    const ks = db.ks as unknown as Record<string, KeyspaceArray | null>
    this.slots = [
      ...ARRAY_FIELDS.map((field, i) => ({ holder: ks, field, ctor: ARRAY_CTORS[i], region: FIELD_REGION[i] })),
      ...adaptive.arrays.map(({ holder, field, ctor, role }) => ({
        holder: holder as Record<string, KeyspaceArray | null>, field, ctor, region: role,
      })),
    ]
    if (W_ARRAYS + 2 * this.slots.length > F_USED * 2) throw new Error('share: too many arrays for the header')
    this.pulled = this.slots.map(() => null)
    this.slotHolders = this.slots.map(({ holder }) => holder)
    this.slotsMoved = slotsMovedCheck(this.slots)
    this.seenPolicy = db.cfg.maxmemoryPolicy
    this.pullScalars = copies.pull
    this.pushScalars = copies.push
    this.enums = copies.enums
    db.ks.seed = descriptor.seed
    const arrays = new RegionArrays(descriptor.regions)
    db.ks.arrays = arrays
    db.evictor.adaptive.useArrays(arrays)
    store.setLock(this.words, W_LOCK, W_POISON, this.tag)
    db.flushShared = () => store.reopen()
    db.timerGuard = (slow, work, what) => this.timerStep(slow, work, what)
    const pause = () => this.pause()
    db.timerPause = pause
    db.ks.timerPause = pause
  }

  /** The sharer's first step: its arrays into the regions, its scalars into the header. */
  publish(): void {
    const ks = this.db.ks as unknown as KeyspaceViews
    const regions = this.descriptor.regions
    this.slots.forEach(({ holder, field, ctor, region }, i) => {
      const array = holder[field]
      if (array === null) return
      const sab = regions[region < 0 ? i : region]
      if (sab.byteLength < array.byteLength) (sab as GrowableSharedArrayBuffer).grow(array.byteLength)
      const view = new ctor(sab, 0, array.length)
      view.set(array)
      holder[field] = view
      releaseArray(array)
    })
    ks.handles = new Uint32Array(ks.hashes!.buffer, 0, ks.hashes!.length)
    ks.oldHandles = ks.oldHashes === null ? null : new Uint32Array(ks.oldHashes.buffer, 0, ks.oldHashes.length)
    this.db.ks.bindTables()
    this.depth = 1
    this.db.events.held++
    Atomics.store(this.words, W_LOCK, this.tag)
    this.cells[F_SLOW_DUE] = 0
    this.writeArrays()
    this.exit()
  }

  // ---- the lock ----

  /**
   * Takes the lock (re-entrant within a thread), then brings this thread's objects up to date. `op` says what the
   * hold is for (opNames; statistics only).
   */
  enter(op = 0): void {
    if (this.depth++ !== 0) return
    this.db.events.held++
    const words = this.words
    this.stats.acquisitions++
    if (Atomics.load(words, W_TURN_NEXT) !== Atomics.load(words, W_TURN_SERVING) || Atomics.compareExchange(words, W_LOCK, 0, this.tag) !== 0) {
      this.contended()
    } else if (this.stats.waitHistogram !== null) {
      this.beginHold(performance.now())
    }
    // Plain accesses: the lock orders them; waiters read them atomically, for statistics only.
    words[W_ACQUIRES] = (words[W_ACQUIRES] + 1) | 0
    words[W_OP] = op
    this.op = op
    this.db.lockSteps = 0
    if (Atomics.load(words, W_POISON) !== 0) this.recover()
    else this.pull()
  }

  /** Copies this thread's objects back to the header and releases the lock (the outermost exit only). */
  exit(): void {
    if (--this.depth !== 0) return
    this.recordHold()
    try {
      this.push()
    } finally {
      const words = this.words
      Atomics.store(words, W_LOCK, 0)
      // A thread whose turn is due (see contended) is woken whatever its place among the waiters.
      if (Atomics.load(words, W_WAITERS) !== 0) {
        Atomics.notify(words, W_LOCK, Atomics.load(words, W_TURN_NEXT) === Atomics.load(words, W_TURN_SERVING) ? 1 : Infinity)
      }
      this.db.events.held--
    }
  }

  get locked(): boolean {
    return this.depth !== 0
  }

  /** The hold ending now into this thread's statistics: its keys evicted or expired, and its duration when tracing. */
  private recordHold(): void {
    this.recordSteps()
    const stats = this.stats
    const byOp = stats.holdsByOp
    if (byOp === null) return
    const ms = performance.now() - this.holdStart
    const figures = (byOp[opNames[this.op]] ??= { holds: 0, totalMs: 0, maxMs: 0 })
    figures.holds++
    figures.totalMs += ms
    if (ms > figures.maxMs) figures.maxMs = ms
    if (stats.slowHolds !== null && ms >= SLOW_MS) addSlow(stats.slowHolds, ms, schedClock()!.runqueueMs() - this.holdRunqueue)
  }

  /** The keys evicted or expired since the hold began or the last pause point (LockStats.maxSteps). */
  private recordSteps(): void {
    const stats = this.stats
    const steps = this.db.lockSteps
    if (steps > stats.maxSteps) {
      stats.maxSteps = steps
      stats.maxStepsOp = opNames[this.op]
    }
  }

    /** Tracing: a hold begins. */
  private beginHold(now: number): void {
    this.holdStart = now
    if (this.stats.slowHolds !== null) this.holdRunqueue = schedClock()!.runqueueMs()
  }

  private contended(): void {
    const words = this.words
    const t0 = performance.now()
    const holdsBefore = Atomics.load(words, W_ACQUIRES)
    // What the holder does, read once the spin is over: a holder writes it just after its compare-exchange.
    let holder = -1
    const stats = this.stats
    const runqueue0 = stats.slowWaits === null ? 0 : schedClock()!.runqueueMs()
    Atomics.add(words, W_WANT, 1)
    const tag = this.tag
    let taken = false
    for (let i = 0; i < SPINS && !taken; i++) {
      taken = Atomics.load(words, W_TURN_NEXT) === Atomics.load(words, W_TURN_SERVING) && Atomics.load(words, W_LOCK) === 0 &&
        Atomics.compareExchange(words, W_LOCK, 0, tag) === 0
    }
    // Threads that keep taking the lock back between their commands could otherwise starve this one (each release
    // wakes it, but it runs tens of µs later and finds the lock taken again): once it has waited STARVE_MS it takes
    // a turn (W_TURN_NEXT), and while turns are pending the lock goes to the thread whose turn is served
    // (W_TURN_SERVING), in order; the others leave it alone. A turn is skipped once the lock has lain free for
    // TURN_MS while it was due, so a thread terminated while waiting for its turn holds nobody up for longer.
    // The counters wrap (int32): a turn is compared by difference.
    let hasTurn = false
    let turn = 0
    let freeSince = -1
    while (!taken) {
      const now = performance.now()
      let serving = Atomics.load(words, W_TURN_SERVING)
      if (hasTurn && ((serving - turn) | 0) > 0) hasTurn = false // skipped meanwhile: take a new one
      if (!hasTurn && now - t0 >= STARVE_MS) {
        turn = Atomics.add(words, W_TURN_NEXT, 1)
        hasTurn = true
        serving = Atomics.load(words, W_TURN_SERVING)
        stats.turnsTaken++
      }
      const due = hasTurn ? serving === turn : Atomics.load(words, W_TURN_NEXT) === serving
      if (due) {
        if (Atomics.compareExchange(words, W_LOCK, 0, tag) === 0) {
          taken = true
          break
        }
        freeSince = -1
      } else if (Atomics.load(words, W_LOCK) !== 0) {
        freeSince = -1
      } else if (freeSince < 0) {
        freeSince = now
      } else if (now - freeSince > TURN_MS) {
        Atomics.compareExchange(words, W_TURN_SERVING, serving, (serving + 1) | 0)
        freeSince = -1
        continue
      }
      if (holder < 0) holder = Atomics.load(words, W_OP)
      Atomics.add(words, W_WAITERS, 1)
      // While the lock is free for a turn, this waits on 0 until a release wakes it (or the timeout).
      Atomics.wait(words, W_LOCK, Atomics.load(words, W_LOCK), WAIT_MS)
      Atomics.sub(words, W_WAITERS, 1)
    }
    // This turn is served: the next one is due at the next release.
    if (hasTurn) Atomics.compareExchange(words, W_TURN_SERVING, turn, (turn + 1) | 0)
    Atomics.sub(words, W_WANT, 1)
    // Timer work that let the lock go for this thread (pause) waits to hear that it was taken.
    if (Atomics.load(words, W_HANDOFF) !== 0) {
      Atomics.store(words, W_HANDOFF, 0)
      Atomics.notify(words, W_HANDOFF)
    }
    const now = performance.now()
    const waited = now - t0
    stats.contended++
    if (waited > stats.maxWaitMs) {
      stats.maxWaitMs = waited
      stats.maxWaitHolds = (words[W_ACQUIRES] - holdsBefore) | 0
      stats.maxWaitHolder = holder < 0 ? '(spin)' : (opNames[holder] ?? '?')
    }
    if (stats.waitHistogram !== null) {
      stats.waitHistogram[waitBucket(waited)]++
      if (stats.slowWaits !== null && waited >= SLOW_MS) addSlow(stats.slowWaits, waited, schedClock()!.runqueueMs() - runqueue0)
      this.beginHold(now)
    }
  }

  /**
   * Between two bounded steps of timer work (a loop of the active expire cycle, a rehash or defrag step): when
   * another thread wants the lock, lets it go (its scalars written back), waits for the other thread to take it
   * (HANDOFF_MS at most), then takes it again and re-reads everything, as a new command would. So no thread waits for more than
   * one step of another's timer work. Nothing else of this thread runs meanwhile (no JavaScript of its own, no
   * event: they stay queued until the step's end).
   */
  pause(): void {
    if (!this.inTimer || this.depth !== 1) return
    // Every pause point ends a stretch of work, handed off or not: LockStats.maxSteps is the most one stretch did.
    this.recordSteps()
    this.db.lockSteps = 0
    const words = this.words
    if (Atomics.load(words, W_WANT) === 0) return
    this.inTimer = false
    this.stats.handoffs++
    const op = this.op
    Atomics.store(words, W_HANDOFF, 1)
    this.exit()
    // Sleeping rather than spinning gives the wanting thread the CPU on a loaded machine; it wakes this one once it
    // holds the lock (contended), and HANDOFF_MS bounds the wait should it never come (terminated meanwhile).
    Atomics.wait(words, W_HANDOFF, 1, HANDOFF_MS)
    Atomics.store(words, W_HANDOFF, 0)
    this.enter(op)
    this.inTimer = true
  }

  /**
   * A thread died holding the lock (native/store_state.cc poisons the engine as its environment is torn down): its
   * command may have left the tables torn, so the keyspace is rebuilt empty. Cached data is lost; a wrong answer
   * is never given.
   */
  private recover(): void {
    this.pull()
    this.db.flush()
    this.db.evictor.adaptive.rebuild()
    Atomics.store(this.words, W_POISON, 0)
    Atomics.add(this.words, W_RECOVERIES, 1)
    this.writeArrays()
  }

  private pull(): void {
    const cells = this.cells
    // The header's scalars change only through push: while the last push was this thread's own, its objects hold
    // them already (the common case of a thread taking the lock again uncontended), and the copy is skipped.
    if (this.words[W_LAST] !== this.tag) {
      this.pullScalars(cells, this.objects, this.enums)
      this.storeCells[CELL_USED_BYTES] = cells[F_USED]
    }
    if (this.words[W_GEN] !== this.seenGen) this.rebuildViews()
    const policy = this.db.cfg.maxmemoryPolicy
    if (policy !== this.seenPolicy) {
      // Another thread's CONFIG SET: this thread's pool holds scores of the old policy's meaning.
      this.seenPolicy = policy
      this.db.evictor.resetPool()
    }
  }

  private push(): void {
    const cells = this.cells
    this.pushScalars(cells, this.objects, this.enums)
    cells[F_USED] = this.storeCells[CELL_USED_BYTES]
    this.words[W_LAST] = this.tag
    this.seenPolicy = this.db.cfg.maxmemoryPolicy
    const changed = this.db.ks.lfu !== this.pulledLfu || this.db.ks.exactStamps !== this.pulledExact ||
      this.slotsMoved(this.slotHolders, this.pulled)
    if (changed) this.writeArrays()
  }

  /** The arrays' regions and lengths into the header, under a new layout generation. */
  private writeArrays(): void {
    const regions = this.descriptor.regions
    const words = this.words
    this.slots.forEach(({ holder, field }, i) => {
      const array = holder[field]
      const region = array === null ? -1 : regions.indexOf(array.buffer as SharedArrayBuffer)
      if (array !== null && region < 0) throw new Error(`share: ${field} is not in a shared region`)
      words[W_ARRAYS + 2 * i] = region
      words[W_ARRAYS + 2 * i + 1] = array === null ? 0 : array.length
      this.pulled[i] = array
    })
    this.pulledLfu = this.db.ks.lfu
    this.pulledExact = this.db.ks.exactStamps
    this.seenGen = words[W_GEN] + 1
    words[W_GEN] = this.seenGen
  }

  /** Fixed-length views over the regions as the header describes them, bound for the fused native lookups. */
  private rebuildViews(): void {
    const ks = this.db.ks as unknown as KeyspaceViews
    const regions = this.descriptor.regions
    const words = this.words
    this.slots.forEach(({ holder, field, ctor }, i) => {
      const region = words[W_ARRAYS + 2 * i]
      const view = region < 0 ? null : new ctor(regions[region], 0, words[W_ARRAYS + 2 * i + 1])
      const local = holder[field]
      holder[field] = view
      this.pulled[i] = view
      // An attaching thread's own first arrays go back now (never a region's).
      if (local !== null && !(local.buffer instanceof SharedArrayBuffer)) releaseArray(local)
    })
    ks.handles = new Uint32Array(ks.hashes!.buffer, 0, ks.hashes!.length)
    ks.oldHandles = ks.oldHashes === null ? null : new Uint32Array(ks.oldHashes.buffer, 0, ks.oldHashes.length)
    this.pulledLfu = this.db.ks.lfu
    this.pulledExact = this.db.ks.exactStamps
    this.seenGen = words[W_GEN]
    this.db.ks.bindTables()
  }

  // ---- timers ----

  /**
   * A timer's step under the lock. A slow cycle runs once per period for the whole process, in whichever thread's
   * timer claims it first (the due time is in the header); fast cycles and eviction continuations run where armed.
   * Events are delivered after the lock is released.
   */
  private timerStep(slow: boolean, work: () => void, what: TimerWork): void {
    if (this.db.closed) return
    if (slow && Date.now() < this.cells[F_SLOW_DUE]) return
    this.enter(opId(what))
    try {
      if (slow) {
        const now = Date.now()
        if (now < this.cells[F_SLOW_DUE]) return
        this.cells[F_SLOW_DUE] = now + Math.max(1, Math.round(1000 / this.db.cfg.hz)) - 1
      }
      this.inTimer = true
      work()
    } finally {
      this.inTimer = false
      this.exit()
    }
    this.db.events.flush()
  }
}

/**
 * How many times the shared engine's keyspace was rebuilt because a thread died holding its lock (see Sharing,
 * "Dead owners"): each is a worker terminated mid-command, its cached data lost. For tests and diagnostics.
 */
export function sharedEngineRecoveries(descriptor: SharedEngineDescriptor): number {
  return Atomics.load(new Int32Array(descriptor.header, 0, F_USED * 2), W_RECOVERIES)
}

/** A new shared header and regions for an engine being shared. */
export function newSharedMemory(): { header: SharedArrayBuffer; regions: SharedArrayBuffer[] } {
  const header = new SharedArrayBuffer(HEADER_BYTES)
  const regions = REGION_MAX_BYTES.map((max) => new GrowableSAB(0, { maxByteLength: max }))
  return { header, regions }
}

/** Whether a value is a descriptor `share()` made (its shape; the native token is checked on attach). */
export function isSharedEngineDescriptor(value: unknown): value is SharedEngineDescriptor {
  if (value === null || typeof value !== 'object') return false
  const d = value as Record<string, unknown>
  return d.arenakvSharedEngine === 1 && typeof d.token === 'number' && d.header instanceof SharedArrayBuffer &&
    d.header.byteLength === HEADER_BYTES && Array.isArray(d.regions) && d.regions.length === REGION_MAX_BYTES.length &&
    d.regions.every((r) => r instanceof SharedArrayBuffer && (r as GrowableSharedArrayBuffer).growable) && typeof d.seed === 'number' &&
    typeof d.config === 'object' && d.config !== null && typeof d.scratchBytes === 'number' && typeof d.scratchUsable === 'number'
}

/**
 * Puts every public method and getter of a shared engine behind the lock: each call takes it, runs the private
 * engine's method, releases it, then delivers the events the call queued (no lock is held across a listener). A
 * call made while the lock is held (a method calling another) runs as it is; a closed engine's calls throw
 * ERR_CLOSED without locking. Getters return a snapshot (the live objects are this thread's copies).
 */
export function lockMethods(engine: object, stopAt: object, sharing: Sharing, db: Db, skip: readonly string[]): void {
  sharings.set(engine, sharing)
  const seen = new Set(['constructor', ...skip])
  const wrap = (fn: (...args: unknown[]) => unknown, name: string) => {
    const op = opId(name)
    return function (this: unknown, ...args: unknown[]): unknown {
      if (db.closed || sharing.locked) return fn.apply(this, args)
      sharing.enter(op)
      let result: unknown
      try {
        result = fn.apply(this, args)
      } catch (error) {
        sharing.exit()
        try {
          db.events.flush()
        } catch (listenerError) {
          if (error instanceof Error && error.cause === undefined) error.cause = listenerError
        }
        throw error
      }
      sharing.exit()
      db.events.flush()
      return result
    }
  }
  for (let proto = Object.getPrototypeOf(engine) as object | null; proto !== null && proto !== stopAt; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (seen.has(name)) continue
      seen.add(name)
      const d = Object.getOwnPropertyDescriptor(proto, name)
      if (d === undefined) continue
      if (typeof d.value === 'function') {
        Object.defineProperty(engine, name, { value: wrap(d.value as (...args: unknown[]) => unknown, name), configurable: true, writable: true })
      } else if (d.get !== undefined) {
        const get = wrap(d.get as () => unknown, name)
        Object.defineProperty(engine, name, {
          configurable: true,
          get(this: unknown) {
            const value = get.call(this)
            return value !== null && typeof value === 'object' ? Object.freeze({ ...value }) : value
          },
        })
      }
    }
  }
}

/** Where the lock's turn counters are in the header's Int32 words (for tests that play a thread dying in line). */
export const TURN_WORDS = { next: W_TURN_NEXT, serving: W_TURN_SERVING } as const

/** Each shared engine's side of its lock in this thread (lockMethods registers it). */
const sharings = new WeakMap<object, Sharing>()

/**
 * A copy of this thread's statistics of a shared engine's lock (LockStats), or null for a private engine. For
 * tests, the bench and diagnostics (not exported by the package).
 */
export function sharedLockStats(engine: object): LockStats | null {
  const sharing = sharings.get(engine)
  if (sharing === undefined) return null
  const s = sharing.stats
  return {
    ...s,
    waitHistogram: s.waitHistogram === null ? null : [...s.waitHistogram],
    holdsByOp: s.holdsByOp === null ? null : Object.fromEntries(Object.entries(s.holdsByOp).map(([k, v]) => [k, { ...v }])),
    slowHolds: s.slowHolds === null ? null : { ...s.slowHolds },
    slowWaits: s.slowWaits === null ? null : { ...s.slowWaits },
  }
}

/**
 * Starts this thread's statistics of a shared engine's lock afresh: `'waits'` traces every wait and hold (two clock
 * reads per command), `'sched'` adds the run-queue time of slow ones (a read of /proc per command: a diagnostic,
 * never for production). Returns false for a private engine.
 */
export function resetSharedLockStats(engine: object, trace: LockTrace): boolean {
  const sharing = sharings.get(engine)
  if (sharing === undefined) return false
  sharing.stats = newLockStats(trace)
  return true
}
