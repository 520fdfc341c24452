// One engine shared by the worker threads of a process (ARCHITECTURE.md "Sharing"): the native store is
// process-global, the keyspace's arrays live in regions of growable SharedArrayBuffers, and the keyspace's scalars
// (table counters, the expire list's length, statistics, configuration) in a shared header. Each thread keeps its
// own Keyspace, Db and Engine objects, with fixed-length views over the regions; a command takes the engine lock,
// copies the header's scalars into its objects (and rebuilds its views when the layout generation moved), runs as
// on a private engine, copies them back and releases the lock, then delivers its events.
import type { Db } from './db.js'
import type { ActiveExpire } from './expire.js'
import { MAXMEMORY_ACCOUNTINGS, MAXMEMORY_POLICIES, type EngineConfig } from './config.js'
import { releaseArray } from './pages.js'
import { CELL_USED_BYTES, type ShareableStore } from './store.js'
import type { ArraySource, KeyspaceArray, TypedArrayConstructor } from './arrays.js'
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
const W_ARRAYS = 8 // per array field: region index (-1: null), length in elements
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

/** A shared engine's arrays: views over the regions (arrays.ts ArraySource). */
class RegionArrays implements ArraySource {
  constructor(private readonly regions: readonly SharedArrayBuffer[]) {}

  private view<T extends KeyspaceArray>(ctor: TypedArrayConstructor<T>, region: number, length: number): T {
    const sab = this.regions[region]
    const bytes = length * ctor.BYTES_PER_ELEMENT
    if (sab.byteLength < bytes) (sab as GrowableSharedArrayBuffer).grow(bytes)
    return new ctor(sab, 0, length)
  }

  table(length: number, current: Int32Array | null, old: Int32Array | null): Int32Array {
    const region = current?.buffer === this.regions[0] || old?.buffer === this.regions[0] ? 1 : 0
    const table = this.view(Int32Array, region, length)
    table.fill(0)
    return table
  }

  fresh<T extends KeyspaceArray>(ctor: TypedArrayConstructor<T>, length: number, role: number): T {
    const array = this.view(ctor, role, length)
    array.fill(0)
    return array
  }

  resized<T extends KeyspaceArray>(ctor: TypedArrayConstructor<T>, old: T, length: number, role: number): T {
    const array = this.view(ctor, role, length)
    const kept = Math.min(length, old.length)
    // The region past the old length may hold what a larger array left there: zero it.
    if (old.buffer !== array.buffer) array.set(old.subarray(0, kept))
    if (length > kept) array.fill(0, kept)
    return array
  }

  release(array: KeyspaceArray): void {
    if (!(array.buffer instanceof SharedArrayBuffer)) releaseArray(array)
  }

  keep<T extends KeyspaceArray>(array: T): T {
    // The successor is a view over the same region: what it overwrites must be read from a copy.
    return array.buffer instanceof SharedArrayBuffer ? (array.slice() as T) : array
  }
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
  private readonly pulled: (KeyspaceArray | null)[]
  private pulledLfu = false
  private pulledExact = false
  private readonly objects: Scalars[]
  private readonly pullScalars: ScalarCopy
  private readonly pushScalars: ScalarCopy
  private readonly enums: (readonly string[])[]
  private readonly storeCells: Float64Array
  private readonly db: Db

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
    db.timerGuard = (slow, work) => this.timerStep(slow, work)
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

  /** Takes the lock (re-entrant within a thread), then brings this thread's objects up to date. */
  enter(): void {
    if (this.depth++ !== 0) return
    this.db.events.held++
    const words = this.words
    if (Atomics.compareExchange(words, W_LOCK, 0, this.tag) !== 0) this.contended()
    if (Atomics.load(words, W_POISON) !== 0) this.recover()
    else this.pull()
  }

  /** Copies this thread's objects back to the header and releases the lock (the outermost exit only). */
  exit(): void {
    if (--this.depth !== 0) return
    try {
      this.push()
    } finally {
      Atomics.store(this.words, W_LOCK, 0)
      if (Atomics.load(this.words, W_WAITERS) !== 0) Atomics.notify(this.words, W_LOCK, 1)
      this.db.events.held--
    }
  }

  get locked(): boolean {
    return this.depth !== 0
  }

  private contended(): void {
    const words = this.words
    Atomics.add(words, W_WANT, 1)
    let taken = false
    for (let i = 0; i < SPINS && !taken; i++) {
      taken = Atomics.load(words, W_LOCK) === 0 && Atomics.compareExchange(words, W_LOCK, 0, this.tag) === 0
    }
    while (!taken) {
      Atomics.add(words, W_WAITERS, 1)
      const owner = Atomics.load(words, W_LOCK)
      if (owner !== 0) Atomics.wait(words, W_LOCK, owner, WAIT_MS)
      Atomics.sub(words, W_WAITERS, 1)
      taken = Atomics.compareExchange(words, W_LOCK, 0, this.tag) === 0
    }
    Atomics.sub(words, W_WANT, 1)
    // Timer work that let the lock go for this thread (pause) waits to hear that it was taken.
    if (Atomics.load(words, W_HANDOFF) !== 0) {
      Atomics.store(words, W_HANDOFF, 0)
      Atomics.notify(words, W_HANDOFF)
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
    const words = this.words
    if (Atomics.load(words, W_WANT) === 0) return
    this.inTimer = false
    Atomics.store(words, W_HANDOFF, 1)
    this.exit()
    // Sleeping rather than spinning gives the wanting thread the CPU on a loaded machine; it wakes this one once it
    // holds the lock (contended), and HANDOFF_MS bounds the wait should it never come (terminated meanwhile).
    Atomics.wait(words, W_HANDOFF, 1, HANDOFF_MS)
    Atomics.store(words, W_HANDOFF, 0)
    this.enter()
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
    this.pullScalars(cells, this.objects, this.enums)
    this.storeCells[CELL_USED_BYTES] = cells[F_USED]
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
    this.seenPolicy = this.db.cfg.maxmemoryPolicy
    const slots = this.slots
    let changed = this.db.ks.lfu !== this.pulledLfu || this.db.ks.exactStamps !== this.pulledExact
    for (let i = 0; i < slots.length && !changed; i++) changed = slots[i].holder[slots[i].field] !== this.pulled[i]
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
  private timerStep(slow: boolean, work: () => void): void {
    if (this.db.closed) return
    if (slow && Date.now() < this.cells[F_SLOW_DUE]) return
    this.enter()
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
  const seen = new Set(['constructor', ...skip])
  const wrap = (fn: (...args: unknown[]) => unknown) =>
    function (this: unknown, ...args: unknown[]): unknown {
      if (db.closed || sharing.locked) return fn.apply(this, args)
      sharing.enter()
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
  for (let proto = Object.getPrototypeOf(engine) as object | null; proto !== null && proto !== stopAt; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (seen.has(name)) continue
      seen.add(name)
      const d = Object.getOwnPropertyDescriptor(proto, name)
      if (d === undefined) continue
      if (typeof d.value === 'function') {
        Object.defineProperty(engine, name, { value: wrap(d.value as (...args: unknown[]) => unknown), configurable: true, writable: true })
      } else if (d.get !== undefined) {
        const get = wrap(d.get as () => unknown)
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
