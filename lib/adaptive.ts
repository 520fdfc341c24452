import { ROLE_GHOST_MAIN, ROLE_GHOST_WINDOW, ROLE_RING_HANDLES, ROLE_RING_HASHES, ROLE_SKETCH, type ArrayRole, type ArraySource, type KeyspaceArray, type TypedArrayConstructor } from './arrays.js'
import type { EngineConfig, MaxmemoryPolicy } from './config.js'
import { GhostFilter } from './ghost.js'
import type { Keyspace } from './keyspace.js'
import { HandleRing } from './ring.js'
import { FrequencySketch } from './sketch.js'
import { HANDLE_INDEX_MASK } from './store.js'

// The state of allkeys-adaptive / volatile-adaptive (ARCHITECTURE.md, "The adaptive policies"): a window TinyLFU
// fitted to sampled eviction. New keys enter a recency window, a FIFO queue with a second chance for keys read while
// queued (CLOCK, close to LRU). When the window holds more than its share, its oldest key is a candidate for the
// main region and is compared with the main region's victim, which the evictor samples into its pool; the frequency
// sketch decides which of the two is evicted. The main region is a segmented LRU made to sample: a key read after it
// was admitted is protected, and a protected key is the victim only when the pool holds no probation key.
//
// The window's share adapts on ghost hits, as ARC's target does: a key that misses after it was refused admission
// would have hit in a larger window, one evicted from the main region in a larger main region. A window ghost hit
// counts only when the returning key is at least a quarter as frequent as the main region's recent victims: otherwise
// a larger window would have kept it at the cost of a more valuable key (Zipf traces, where refused keys come back
// often but are worth less than what they would displace). Both ghosts remember the same number of keys, and each
// hit is taken net of its filter's false-positive rate (ghostCheck); with both, a bar of half the victims' frequency
// (the earlier one) held the window back on moving hot sets, and none at all let it grow a little on Zipf.
//
// The per-key `lru` field holds, under these policies: bit 31, the key is in the window; bit 30, a window key was
// read since it entered the queue (its second chance), or a main-region key is protected; bits 0..29, a logical
// access clock (one tick per access), so keys read within the same millisecond are still ordered.

export const WINDOW_BIT = 0x80000000
/** In the window: read since queued. In the main region: protected. */
export const REF_BIT = 0x40000000
export const CLOCK_MASK = 0x3fffffff

/** The window's share of the keys when the policy starts (Caffeine's 1%), and its bound. */
const INITIAL_SHARE = 0.01
const MAX_SHARE = 0.8
/** A window ghost hit counts when the key's frequency is at least this share of the victims' mean. */
const GHOST_FREQUENCY_SHARE = 0.25
/**
 * The sketch's share of maxmemory at most: one word per key is about 2.2% of it with 100-byte values, so the budget
 * only narrows the table a little for small values.
 */
const SKETCH_BUDGET = 0.02
/** Each ghost remembers at least this share of the keys (both the same number: see ghostCheck). */
const GHOST_SHARE = 0.25
/** Weight of one admission in the running mean of the victims' frequency. */
const VICTIM_FREQUENCY_EWMA = 0.01
/** The sketch's size is checked every this many accesses (a power of two). */
const SIZE_CHECK_PERIOD = 1024
/** Candidates at least this frequent are admitted at random 1 time in 128 (a hash-flooding guard, as Caffeine). */
const ADMIT_RANDOM_THRESHOLD = 6
/** The window queue holds at least this many keys before overflowing into the main region without pressure. */
const MIN_WINDOW_QUEUE = 16
/** A probation key's score is raised by this: any probation key goes before any protected one. */
const PROBATION_BONUS = 2 ** 52

/** INFO's view of the adaptive state (the memory section, while an adaptive policy is selected). */
export interface AdaptiveInfo {
  windowShare: number
  windowTarget: number
  windowQueued: number
  windowBytes: number
  sketchKeys: number
  sketchBytes: number
  ghostBytes: number
  sketchResets: number
  admitted: number
  refused: number
  adjustments: number
}

export function isAdaptivePolicy(policy: MaxmemoryPolicy): boolean {
  return policy === 'allkeys-adaptive' || policy === 'volatile-adaptive'
}

/** Keys a store holds at most (its handle's index bits): the sketch is never sized past them. */
const MAX_KEYS = HANDLE_INDEX_MASK + 1

/**
 * The adaptive state as a shared engine keeps it (share.ts, ARCHITECTURE.md "Sharing"): each object's scalars, copied
 * through the header, and its typed arrays, kept in regions by role.
 */
export interface AdaptiveSharedState {
  readonly scalars: readonly (readonly [object: object, fields: readonly string[]])[]
  readonly arrays: readonly {
    readonly holder: object
    readonly field: string
    readonly ctor: TypedArrayConstructor<KeyspaceArray>
    readonly role: ArrayRole
  }[]
}

/** What the adaptive state reads from the engine. */
export interface AdaptiveHost {
  readonly ks: Keyspace
  readonly cfg: EngineConfig
  usedMemory(): number
}

export class Adaptive {
  active = false
  /** The sketch, ghosts and window live as long as the engine; their arrays are empty while the policy is not selected. */
  readonly sketch = new FrequencySketch(0)
  /** Keys the window lost (refused candidates) and keys the main region lost (its victims). */
  private readonly ghostWindow = new GhostFilter(0, ROLE_GHOST_WINDOW)
  private readonly ghostMain = new GhostFilter(0, ROLE_GHOST_MAIN)
  private readonly window = new HandleRing()
  /** The window's target share of the keys, 0..MAX_SHARE. */
  windowShare = INITIAL_SHARE
  /** The logical access clock (30 bits), and the ticks since the policy was selected, unwrapped. */
  private tick = 0
  private ticks = 0
  /** The hash of the key popCandidate or popAny returned. */
  candidateHash = 0
  /** maxmemory the sketch was sized for. */
  private sizedFor = -1
  private victimFrequency = 0
  // INFO counters.
  admitted = 0
  refused = 0
  adjustments = 0

  constructor(private readonly host: AdaptiveHost) {}

  /** A shared engine's arrays come from its regions (share.ts): set before any of them is shared. */
  useArrays(arrays: ArraySource): void {
    this.sketch.arrays = arrays
    this.ghostWindow.arrays = arrays
    this.ghostMain.arrays = arrays
    this.window.arrays = arrays
  }

  /** What a shared engine keeps in shared memory: every field below that outlives a command. */
  sharedState(): AdaptiveSharedState {
    return {
      scalars: [
        [this, ['active', 'windowShare', 'tick', 'ticks', 'sizedFor', 'victimFrequency', 'admitted', 'refused', 'adjustments']],
        [this.sketch, FrequencySketch.SHARED_SCALARS],
        [this.ghostWindow, GhostFilter.SHARED_SCALARS],
        [this.ghostMain, GhostFilter.SHARED_SCALARS],
        [this.window, HandleRing.SHARED_SCALARS],
      ],
      arrays: [
        { holder: this.sketch, field: 'table', ctor: Uint32Array, role: ROLE_SKETCH },
        { holder: this.ghostWindow, field: 'bits', ctor: Uint32Array, role: ROLE_GHOST_WINDOW },
        { holder: this.ghostMain, field: 'bits', ctor: Uint32Array, role: ROLE_GHOST_MAIN },
        { holder: this.window, field: 'handles', ctor: Uint32Array, role: ROLE_RING_HANDLES },
        { holder: this.window, field: 'hashes', ctor: Int32Array, role: ROLE_RING_HASHES },
      ],
    }
  }

  /** Bytes of every typed array held (counted in used_memory with the evictor's). */
  get arrayBytes(): number {
    return this.sketch.byteLength + this.ghostBytes() + this.window.byteLength
  }

  private ghostBytes(): number {
    return this.ghostWindow.byteLength + this.ghostMain.byteLength
  }

  /** The policy was selected: size the sketch, and start every existing key in the main region, on probation. */
  activate(): void {
    if (this.active) return
    this.active = true
    this.sketch.resize(this.capacityKeys(), this.sketchBudget())
    this.ghostWindow.resize(this.ghostCapacity())
    this.ghostMain.resize(this.ghostCapacity())
    this.sizedFor = this.host.cfg.maxmemory
    this.windowShare = INITIAL_SHARE
    this.victimFrequency = 0
    this.host.ks.lru.fill(this.tick)
  }

  /** Another policy was selected: the arrays go (the caller rewrites every lru field). */
  deactivate(): void {
    if (!this.active) return
    this.active = false
    this.releaseArrays()
  }

  private releaseArrays(): void {
    this.sketch.release()
    this.ghostWindow.release()
    this.ghostMain.release()
    this.window.release()
  }

  /**
   * A shared engine rebuilt empty after a thread died holding its lock (share.ts recover): that thread's command may
   * have left the arrays and their scalars torn, so the state starts over as the policy's selection does (the
   * INFO counters stay, as the engine's statistics do).
   */
  rebuild(): void {
    const active = this.active
    this.active = false
    this.releaseArrays()
    if (active) this.activate()
  }

  /**
   * Nothing is left to evict but memory is still over: the policy's own arrays go (they regrow with the keys), so
   * they can never be what refuses a write. True when there was something to release.
   */
  shed(): boolean {
    if (this.arrayBytes === 0) return false
    this.sketch.resize(0)
    this.ghostWindow.resize(0)
    this.ghostMain.resize(0)
    this.window.release()
    this.sizedFor = this.host.cfg.maxmemory
    return true
  }

  /** FLUSHALL: no key is left, in the window or in the ghosts. */
  reset(): void {
    this.window.clear()
    this.ghostWindow.clear()
    this.ghostMain.clear()
  }

  /**
   * Keys maxmemory holds at the current average cost per key (the sketch's size). Before the first key there is no
   * cost to go by, and sizing from a guess could let the arrays alone fill a small maxmemory: the sketch starts at
   * its minimum and grows with the keys (the fixed overheads in the average make it err on the small side).
   */
  capacityKeys(): number {
    const { cfg, ks } = this.host
    if (cfg.maxmemory === 0 || ks.count === 0) return ks.count
    return Math.min(MAX_KEYS, Math.floor(cfg.maxmemory / (this.host.usedMemory() / ks.count)))
  }

  /** Cheap test on every eviction check: has maxmemory changed since the sketch was sized? */
  checkMaxmemory(): void {
    if (this.host.cfg.maxmemory !== this.sizedFor) this.checkSize()
  }

  /** Re-sizes the sketch and ghosts when maxmemory changed or the capacity in keys moved by a quarter. */
  checkSize(): void {
    if (!this.active) return
    const sketch = this.sketch
    const want = this.capacityKeys()
    if (this.host.cfg.maxmemory !== this.sizedFor || Math.abs(want - sketch.capacity) * 4 > sketch.capacity) {
      sketch.resize(want, this.sketchBudget())
      this.resizeGhosts()
      this.sizedFor = this.host.cfg.maxmemory
    }
  }

  /**
   * Keys each ghost is sized for: GHOST_SHARE of the sketch's capacity, or the window's share of it when larger (a
   * ghost sized for every key would cost as much again as the sketch's half).
   */
  private ghostCapacity(): number {
    const keys = this.sketch.capacity
    return Math.ceil(Math.max(GHOST_SHARE, this.windowShare) * keys)
  }

  private resizeGhosts(keys = this.ghostCapacity()): void {
    this.ghostWindow.resize(keys)
    this.ghostMain.resize(keys)
  }

  /** Keys each ghost remembers: as many as the window holds, and at least GHOST_SHARE of all keys. */
  private ghostKeys(): number {
    return Math.max(this.windowTarget(), Math.ceil(GHOST_SHARE * this.host.ks.count))
  }

  /** The sketch's bytes are held to SKETCH_BUDGET of maxmemory (none without maxmemory). */
  private sketchBudget(): number {
    const maxmemory = this.host.cfg.maxmemory
    return maxmemory === 0 ? Infinity : Math.floor(SKETCH_BUDGET * maxmemory)
  }

  private grow(sketch: FrequencySketch): void {
    const want = this.capacityKeys()
    if (want <= sketch.capacity) return
    sketch.resize(Math.min(want, Math.max(2 * sketch.capacity, this.host.ks.count)), this.sketchBudget())
    this.resizeGhosts()
    this.sizedFor = this.host.cfg.maxmemory
  }

  /** The lru field of a key just created (a miss, in a cache): counted, checked against the ghosts, windowed. */
  created(handle: number, hash: number): number {
    // While the keys outnumber what the sketch was sized for (from an empty start, as they come), it doubles, up to
    // what maxmemory holds.
    const sketch = this.sketch
    if (this.host.ks.count > sketch.capacity) this.grow(sketch)
    sketch.increment(hash)
    this.ghostCheck(hash)
    const ks = this.host.ks
    this.window.push(handle, hash)
    // Without memory pressure nothing pops the window: its overflow moves to the main region unexamined.
    const limit = Math.max(MIN_WINDOW_QUEUE, 2 * this.windowTarget())
    while (this.window.length > limit) {
      const h = this.window.headHandle()
      const x = this.window.headHash()
      this.window.shift()
      if (ks.contains(h, x)) ks.lru[h & HANDLE_INDEX_MASK] &= CLOCK_MASK
    }
    return (WINDOW_BIT | this.nextTick()) >>> 0
  }

  /**
   * RENAME kept the handle and the access clock but changed the hash: a window key is queued again under its new
   * hash (the old entry no longer matches and is dropped when it reaches the head).
   */
  renamed(handle: number, hash: number): void {
    if (this.active && (this.host.ks.lru[handle & HANDLE_INDEX_MASK] & WINDOW_BIT) !== 0) this.window.push(handle, hash)
  }

  /** A read or overwrite of an existing key (hash undefined: the clock moves, the sketch does not count it). */
  accessed(handle: number, hash: number | undefined): void {
    if (hash !== undefined) this.sketch.increment(hash)
    const lru = this.host.ks.lru
    const index = handle & HANDLE_INDEX_MASK
    // A window key gets its second chance; a main-region key is protected.
    lru[index] = ((lru[index] & WINDOW_BIT) | REF_BIT | this.nextTick()) >>> 0
  }

  private nextTick(): number {
    const t = this.tick
    this.tick = (t + 1) & CLOCK_MASK
    if ((++this.ticks & (SIZE_CHECK_PERIOD - 1)) === 0) this.checkSize()
    return t
  }

  info(): AdaptiveInfo | null {
    const sketch = this.sketch
    if (!this.active) return null
    return {
      windowShare: this.windowShare,
      windowTarget: this.windowTarget(),
      windowQueued: this.window.length,
      windowBytes: this.window.byteLength,
      sketchKeys: sketch.capacity,
      sketchBytes: sketch.byteLength,
      ghostBytes: this.ghostBytes(),
      sketchResets: sketch.resets,
      admitted: this.admitted,
      refused: this.refused,
      adjustments: this.adjustments,
    }
  }

  /** The estimated recent request count of a key (OBJECT FREQ under these policies). */
  frequency(hash: number): number {
    return this.sketch.estimate(hash)
  }

  windowTarget(): number {
    return Math.floor(this.windowShare * this.host.ks.count)
  }

  /**
   * The window's oldest key when the window is over its share (candidateHash set), or 0. Keys read while queued get
   * a second chance at the tail; keys deleted meanwhile are dropped. With `volatileOnly`, a candidate without a TTL
   * cannot be evicted, so it moves to the main region unexamined.
   */
  popCandidate(volatileOnly: boolean): number {
    return this.popWindow(volatileOnly, this.windowTarget(), true)
  }

  /** The window's oldest live key whatever its share (when the main region has nothing to give), or 0. */
  popAny(volatileOnly: boolean): number {
    return this.popWindow(volatileOnly, 0, false)
  }

  private popWindow(volatileOnly: boolean, target: number, secondChance: boolean): number {
    const ks = this.host.ks
    const lru = ks.lru
    const q = this.window
    while (q.length > target) {
      const h = q.headHandle()
      const x = q.headHash()
      q.shift()
      if (!ks.contains(h, x)) continue
      const index = h & HANDLE_INDEX_MASK
      const v = lru[index]
      if ((v & WINDOW_BIT) === 0) continue
      if (secondChance && (v & REF_BIT) !== 0) {
        lru[index] = (v & ~REF_BIT) >>> 0
        q.push(h, x)
        continue
      }
      if (volatileOnly && ks.volatilePos[index] === 0) {
        lru[index] = v & CLOCK_MASK
        continue
      }
      this.candidateHash = x
      return h
    }
    return 0
  }

  /** TinyLFU's admission: is the candidate estimated more frequent than the victim whose place it would take? */
  admit(candidateHash: number, victimHash: number): boolean {
    if (!this.active) return false
    const sketch = this.sketch
    const c = sketch.estimate(candidateHash)
    const v = sketch.estimate(victimHash)
    this.victimFrequency += (v - this.victimFrequency) * VICTIM_FREQUENCY_EWMA
    let ok = c > v
    if (!ok && c >= ADMIT_RANDOM_THRESHOLD) ok = Math.random() * 128 < 1
    if (ok) this.admitted++
    else this.refused++
    return ok
  }

  /** The admitted candidate joins the main region, on probation. */
  promote(handle: number): void {
    this.host.ks.lru[handle & HANDLE_INDEX_MASK] &= CLOCK_MASK
  }

  /**
   * A refused candidate was evicted. Both ghosts remember the same number of keys (ghostKeys), so a hit in either
   * says the same thing about its region: grown by that many keys, it would have held the key. (ARC sizes each
   * ghost by the other region instead; measured here, that let the window's ghost, as large as the main region,
   * collect hits from loops a little larger than the cache, and the window grew where a larger one only costs.)
   */
  evictedCandidate(hash: number): void {
    if (!this.active) return
    const ghost = this.ghostWindow
    // The window grew past what the ghosts were sized for: they start over, twice as large (so rarely).
    const most = this.sketch.capacity
    if (this.ghostKeys() > ghost.capacity && ghost.capacity < most) {
      this.resizeGhosts(Math.min(most, Math.max(2 * ghost.capacity, this.ghostCapacity())))
    }
    ghost.remember(this.ghostKeys())
    ghost.add(hash)
  }

  /** A main-region victim was evicted. */
  evictedVictim(hash: number): void {
    if (!this.active) return
    const ghost = this.ghostMain
    ghost.remember(this.ghostKeys())
    ghost.add(hash)
  }

  /**
   * A miss: a ghost hit moves the window's share by one key (weighted by the ghosts' sizes, as ARC's target), less
   * what the Bloom filters' false positives would move it by on a miss that hits neither.
   */
  private ghostCheck(hash: number): void {
    const gw = this.ghostWindow
    const gm = this.ghostMain
    if (!this.active || this.host.cfg.maxmemory === 0) return
    const keys = Math.max(1, this.host.ks.count)
    const up = Math.max(1, gm.size / Math.max(1, gw.size)) / keys
    const down = Math.max(1, gw.size / Math.max(1, gm.size)) / keys
    // Each filter's expected false hits are taken back on every miss, so they move the share by nothing on average.
    // Without this the window ghost, which remembers about as many keys as the main region holds while the main
    // ghost remembers only the window's few, reported about 10% of all misses as hits: the window grew on looping
    // and frequency-skewed traces where a larger window only costs (ARCHITECTURE.md, "The adaptive policies").
    let delta = 0
    const windowHit = gw.has(hash)
    if (this.frequency(hash) >= this.victimFrequency * GHOST_FREQUENCY_SHARE) {
      delta += ((windowHit ? 1 : 0) - gw.falsePositiveRate()) * up
    }
    const mainHit = gm.has(hash)
    delta -= ((mainHit ? 1 : 0) - gm.falsePositiveRate()) * down
    this.windowShare = Math.min(MAX_SHARE, Math.max(0, this.windowShare + delta))
    if (windowHit || mainHit) this.adjustments++
  }

  /**
   * The pool score of a sampled main-region key: minus its access stamp, unwrapped (so a key sampled long ago keeps
   * its rank against keys sampled now, which an idle time taken at sampling would not), plus PROBATION_BONUS for a
   * key on probation.
   */
  mainScore(field: number): number {
    const score = ((this.tick - (field & CLOCK_MASK)) & CLOCK_MASK) - this.ticks
    return (field & REF_BIT) === 0 ? score + PROBATION_BONUS : score
  }
}
