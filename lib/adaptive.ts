import type { EngineConfig, MaxmemoryPolicy } from './config.js'
import type { Keyspace } from './keyspace.js'
import { allocArray, releaseArray } from './pages.js'
import { FrequencySketch } from './sketch.js'
import { HANDLE_INDEX_MASK } from './store.js'

// The state of allkeys-adaptive / volatile-adaptive (ARCHITECTURE.md, "Eviction"): a window-TinyLFU fitted to
// sampled eviction. New keys enter a small recency window, a FIFO queue of handles with a second chance for keys
// read while in it (CLOCK, close to LRU). When the window holds more than its share, its oldest key becomes a
// candidate for the main region and is compared with the main region's victim, which the evictor picks by sampling
// as allkeys-lru does; the frequency sketch decides which of the two is evicted. The window's share adapts by hill
// climbing on the hit rate observed between samples.
//
// The main region is a segmented LRU made to sample: a key read after its admission is protected, and the victim is
// the sampled probation key idle longest (a protected one only when the samples hold none). Protected keys are
// capped near PROTECTED_SHARE of the main region, estimated from the samples: above it, the protected key idle
// longest in a sample is demoted to probation.
//
// The per-key `lru` field holds, under these policies: bit 31, the key is in the window; bit 30, a window key was
// read since it entered the queue (its second chance), or a main key is protected; bits 0..29, a logical access
// clock (one tick per access), so keys read within the same millisecond are still ordered.

export const WINDOW_BIT = 0x80000000
export const REF_BIT = 0x40000000
/** In the main region, bit 30 marks a protected key (read since it was admitted), as a segmented LRU's. */
export const PROTECTED_BIT = 0x40000000
export const CLOCK_MASK = 0x3fffffff

/** The window's share of the keys when the policy starts (Caffeine's 1%). */
const INITIAL_SHARE = 0.01
const MAX_SHARE = 0.8
/** Hill climbing: step as a share of the keys (Caffeine's is 6.25%; 3% measured steadier here), restart threshold on
 * the hit rate, decay of the step. */
const STEP = 0.03
const RESTART_THRESHOLD = 0.05
const STEP_DECAY = 0.98
/** Requests between two climbing steps, per key of capacity. */
const PERIOD_FACTOR = 4
const MIN_PERIOD = 1024
/** A key's cost before any key is known, for sizing the sketch from maxmemory. */
const DEFAULT_KEY_COST = 128
/** Candidates at least this frequent are admitted at random 1 time in 128 (a hash-flooding guard, as Caffeine). */
const ADMIT_RANDOM_THRESHOLD = 6
const MIN_QUEUE = 16
/** The protected segment's target share of the main region (Caffeine's 80%). */
const PROTECTED_SHARE = 0.8
/** Weight of one sample in the running estimate of the protected share. */
const SHARE_EWMA = 0.01
/** A probation key's score is its idle time plus this: any probation key goes before any protected one. */
const PROBATION_BONUS = CLOCK_MASK + 1

/** INFO's view of the adaptive state (the memory section, while an adaptive policy is selected). */
export interface AdaptiveInfo {
  windowShare: number
  windowTarget: number
  windowQueued: number
  sketchKeys: number
  sketchBytes: number
  sketchResets: number
  admitted: number
  refused: number
  climbs: number
}

export function isAdaptivePolicy(policy: MaxmemoryPolicy): boolean {
  return policy === 'allkeys-adaptive' || policy === 'volatile-adaptive'
}

/** What the adaptive state reads from the engine. */
export interface AdaptiveHost {
  readonly ks: Keyspace
  readonly cfg: EngineConfig
  readonly stats: { readonly keyspace_hits: number; readonly keyspace_misses: number }
  usedMemory(): number
}

export class Adaptive {
  sketch: FrequencySketch | null = null
  active = false
  /** The window's target share of the keys, 0..MAX_SHARE. */
  windowShare = INITIAL_SHARE
  /** The logical access clock (30 bits). */
  tick = 0
  // The window queue: a ring of (handle, hash), oldest at head.
  private qHandles = new Uint32Array(0)
  private qHashes = new Int32Array(0)
  private qHead = 0
  qLen = 0
  /** The hash of the key popCandidate returned. */
  candidateHash = 0
  // Hill climbing.
  private requests = 0
  private lastHits = 0
  private lastMisses = 0
  private prevHitRate = -1
  private step = STEP
  /** maxmemory the sketch was sized for. */
  private sizedFor = -1
  // INFO counters.
  admitted = 0
  refused = 0
  climbs = 0

  constructor(private readonly host: AdaptiveHost) {}

  get arrayBytes(): number {
    return (this.sketch === null ? 0 : this.sketch.byteLength) + this.qHandles.byteLength + this.qHashes.byteLength
  }

  /** The policy was selected: size the sketch, and start every existing key in the main region. */
  activate(): void {
    if (this.active) return
    this.active = true
    this.sketch = new FrequencySketch(this.capacityKeys())
    this.sizedFor = this.host.cfg.maxmemory
    this.growQueue(MIN_QUEUE)
    this.windowShare = INITIAL_SHARE
    this.step = STEP
    this.prevHitRate = -1
    this.requests = 0
    this.host.ks.lru.fill(this.tick)
  }

  /** Another policy was selected: the arrays go (the caller rewrites every lru field). */
  deactivate(): void {
    if (!this.active) return
    this.active = false
    this.sketch?.release()
    this.sketch = null
    releaseArray(this.qHandles)
    releaseArray(this.qHashes)
    this.qHandles = new Uint32Array(0)
    this.qHashes = new Int32Array(0)
    this.qHead = 0
    this.qLen = 0
  }

  /** FLUSHALL: no key is left in the window. */
  reset(): void {
    this.qHead = 0
    this.qLen = 0
  }

  /** Keys maxmemory holds at the current average cost per key (the sketch's size). */
  capacityKeys(): number {
    const { cfg, ks } = this.host
    if (cfg.maxmemory === 0) return ks.count
    const cost = ks.count > 64 ? this.host.usedMemory() / ks.count : DEFAULT_KEY_COST
    return Math.floor(cfg.maxmemory / cost)
  }

  /** Cheap test on every eviction check: has maxmemory changed since the sketch was sized? */
  checkMaxmemory(): void {
    if (this.host.cfg.maxmemory !== this.sizedFor) this.checkSize()
  }

  /** Re-sizes the sketch when maxmemory changed or the key count drifted far from what it was sized for. */
  checkSize(): void {
    const sketch = this.sketch
    if (sketch === null) return
    const want = this.capacityKeys()
    // A quarter off is worth starting the counts over: the sketch is a few percent of the memory it serves, and
    // too small a one merges keys' counts.
    if (this.host.cfg.maxmemory !== this.sizedFor || Math.abs(want - sketch.capacity) * 4 > sketch.capacity) {
      sketch.resize(want)
      this.sizedFor = this.host.cfg.maxmemory
    }
  }

  /** The lru field of a key just created: into the window, counted once. */
  created(handle: number, hash: number): number {
    this.sketch?.increment(hash)
    this.push(handle, hash)
    // Without memory pressure nothing pops the window: its overflow moves to the main region unexamined.
    const limit = Math.max(MIN_QUEUE, 2 * this.windowTarget())
    while (this.qLen > limit) {
      const h = this.qHandles[this.qHead]
      const x = this.qHashes[this.qHead]
      this.pop()
      if (this.host.ks.contains(h, x)) this.host.ks.lru[h & HANDLE_INDEX_MASK] &= CLOCK_MASK
    }
    this.countRequest()
    const t = this.tick
    this.tick = (t + 1) & CLOCK_MASK
    return (WINDOW_BIT | t) >>> 0
  }

  /** A read or overwrite of an existing key. */
  accessed(handle: number, hash: number | undefined): void {
    if (hash !== undefined) this.sketch?.increment(hash)
    const lru = this.host.ks.lru
    const index = handle & HANDLE_INDEX_MASK
    const t = this.tick
    this.tick = (t + 1) & CLOCK_MASK
    // A window key gets its second chance; a main key is protected.
    lru[index] = ((lru[index] & WINDOW_BIT) | REF_BIT | t) >>> 0
    this.countRequest()
  }

  info(): AdaptiveInfo | null {
    const sketch = this.sketch
    if (!this.active || sketch === null) return null
    return {
      windowShare: this.windowShare,
      windowTarget: this.windowTarget(),
      windowQueued: this.qLen,
      sketchKeys: sketch.capacity,
      sketchBytes: sketch.byteLength,
      sketchResets: sketch.resets,
      admitted: this.admitted,
      refused: this.refused,
      climbs: this.climbs,
    }
  }

  /** The estimated recent request count of a key (OBJECT FREQ under these policies). */
  frequency(hash: number): number {
    return this.sketch === null ? 0 : this.sketch.estimate(hash)
  }

  windowTarget(): number {
    return Math.floor(this.windowShare * this.host.ks.count)
  }

  /**
   * The window's oldest key when the window is over its share (candidateHash set), or 0. Keys read while in the
   * window get a second chance at the tail; keys deleted meanwhile are dropped. With `volatileOnly`, a candidate
   * without a TTL cannot be evicted, so it moves to the main region unexamined.
   */
  popCandidate(volatileOnly: boolean): number {
    const { ks } = this.host
    const lru = ks.lru
    const target = this.windowTarget()
    while (this.qLen > target) {
      const h = this.qHandles[this.qHead]
      const x = this.qHashes[this.qHead]
      this.pop()
      if (!ks.contains(h, x)) continue
      const index = h & HANDLE_INDEX_MASK
      const v = lru[index]
      if ((v & WINDOW_BIT) === 0) continue
      if ((v & REF_BIT) !== 0) {
        lru[index] = (v & ~REF_BIT) >>> 0
        this.push(h, x)
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

  /** The window's oldest live key whatever the target (when the main region has nothing to give), or 0. */
  popAny(volatileOnly: boolean): number {
    const { ks } = this.host
    while (this.qLen > 0) {
      const h = this.qHandles[this.qHead]
      const x = this.qHashes[this.qHead]
      this.pop()
      if (!ks.contains(h, x) || (ks.lru[h & HANDLE_INDEX_MASK] & WINDOW_BIT) === 0) continue
      if (volatileOnly && ks.volatilePos[h & HANDLE_INDEX_MASK] === 0) {
        ks.lru[h & HANDLE_INDEX_MASK] &= CLOCK_MASK
        continue
      }
      this.candidateHash = x
      return h
    }
    return 0
  }

  /** TinyLFU's admission: does the candidate deserve the victim's place? */
  admit(candidateHash: number, victimHash: number): boolean {
    const sketch = this.sketch
    if (sketch === null) return false
    const c = sketch.estimate(candidateHash)
    const v = sketch.estimate(victimHash)
    let ok = c > v
    if (!ok && c >= ADMIT_RANDOM_THRESHOLD) ok = (Math.random() * 128) < 1
    if (ok) this.admitted++
    else this.refused++
    return ok
  }

  /** The admitted candidate joins the main region. */
  promote(handle: number): void {
    this.host.ks.lru[handle & HANDLE_INDEX_MASK] &= CLOCK_MASK
  }

  /** A sampling round starts: no protected key seen yet. */
  startSample(): void {
    this.demoteHandle = 0
    this.demoteIdle = -1
  }

  /**
   * The pool score of a sampled main-region key: its idle time in clock ticks, plus PROBATION_BONUS on probation.
   * Keeps the protected segment near its share: when the running estimate is above it, the protected key idle
   * longest so far in this round is demoted (its field changes; scored as probation from then on).
   */
  mainScore(field: number, handle: number): number {
    const idle = (this.tick - (field & CLOCK_MASK)) & CLOCK_MASK
    const isProtected = (field & PROTECTED_BIT) !== 0
    this.protectedShare += ((isProtected ? 1 : 0) - this.protectedShare) * SHARE_EWMA
    if (!isProtected) return idle + PROBATION_BONUS
    if (this.protectedShare > PROTECTED_SHARE && idle > this.demoteIdle) {
      this.demoteIdle = idle
      this.demoteHandle = handle
    }
    if (this.demoteHandle === handle) {
      this.host.ks.lru[handle & HANDLE_INDEX_MASK] = field & ~PROTECTED_BIT & 0x7fffffff
      this.demoted++
      this.protectedShare -= SHARE_EWMA
      return idle + PROBATION_BONUS
    }
    return idle
  }

  private demoteHandle = 0
  private demoteIdle = -1
  /** Running estimate of the protected share of the main region, from the samples. */
  protectedShare = 0
  demoted = 0

  private countRequest(): void {
    if ((++this.requests & (MIN_PERIOD - 1)) === 0) this.checkSize()
    if (this.requests >= Math.max(MIN_PERIOD, PERIOD_FACTOR * (this.sketch?.capacity ?? 0))) this.climb()
  }

  /** One hill-climbing step on the hit rate since the last (Caffeine's simple climber), then a size check. */
  private climb(): void {
    const st = this.host.stats
    const hits = st.keyspace_hits - this.lastHits
    const misses = st.keyspace_misses - this.lastMisses
    this.lastHits = st.keyspace_hits
    this.lastMisses = st.keyspace_misses
    this.requests = 0
    const total = hits + misses
    if (total > 0 && this.host.cfg.maxmemory !== 0) {
      const rate = hits / total
      if (this.prevHitRate >= 0) {
        const delta = rate - this.prevHitRate
        const amount = delta >= 0 ? this.step : -this.step
        this.step = Math.abs(delta) >= RESTART_THRESHOLD ? (amount >= 0 ? STEP : -STEP) : amount * STEP_DECAY
        this.windowShare = Math.min(MAX_SHARE, Math.max(0, this.windowShare + amount))
        this.climbs++
      }
      this.prevHitRate = rate
    }
  }

  private push(handle: number, hash: number): void {
    if (this.qLen === this.qHandles.length) this.growQueue(Math.max(MIN_QUEUE, this.qHandles.length * 2))
    const mask = this.qHandles.length - 1
    const at = (this.qHead + this.qLen) & mask
    this.qHandles[at] = handle
    this.qHashes[at] = hash
    this.qLen++
  }

  private pop(): void {
    this.qHead = (this.qHead + 1) & (this.qHandles.length - 1)
    this.qLen--
  }

  /** Re-lays the ring from head 0 in arrays of `capacity` (a power of two). */
  private growQueue(capacity: number): void {
    const handles = allocArray(Uint32Array, capacity)
    const hashes = allocArray(Int32Array, capacity)
    const mask = this.qHandles.length - 1
    for (let i = 0; i < this.qLen; i++) {
      handles[i] = this.qHandles[(this.qHead + i) & mask]
      hashes[i] = this.qHashes[(this.qHead + i) & mask]
    }
    releaseArray(this.qHandles)
    releaseArray(this.qHashes)
    this.qHandles = handles
    this.qHashes = hashes
    this.qHead = 0
  }
}
