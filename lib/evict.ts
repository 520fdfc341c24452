import type { TimerGuard } from './expire.js'
import { Adaptive, WINDOW_BIT, isAdaptivePolicy } from './adaptive.js'
import type { EngineConfig, MaxmemoryPolicy } from './config.js'
import { randomBelow, type Keyspace } from './keyspace.js'
import { estimateIdleTime, lfuDecrAndReturn } from './lru.js'
import { HANDLE_INDEX_MASK } from './store.js'

// maxmemory enforcement (Redis's evict.c): the eviction pool filled by sampling, Redis's eight policies plus the two
// adaptive ones (adaptive.ts), and performEvictions bounded in time by maxmemory-eviction-tenacity.

/** Candidates kept between sampling rounds (Redis's EVPOOL_SIZE). */
export const EVPOOL_SIZE = 16
/** Redis checks the eviction clock once per this many keys freed. */
const EVICTION_CLOCK_CHECK_KEYS = 16
/**
 * A shared engine evicts in batches of this many keys (ARCHITECTURE.md "Sharing"): a command evicts one batch at
 * most and leaves the rest to the continuation, which may let the lock go between batches (Sharing.pause). So no
 * thread waits behind more than one batch (tens of µs) of another's eviction, at any tenacity.
 */
export const SHARED_EVICTION_BATCH = 64
/** The pool's and sampler's arrays. */
const FIXED_ARRAY_BYTES = EVPOOL_SIZE * (8 + 4 + 4) + (EVPOOL_SIZE + 1) * 4 + 64 * (4 + 4) + 8

export const EVICT_OK = 0
/** Still over maxmemory, but eviction continues on a timer; the write is allowed (Redis's EVICT_RUNNING). */
export const EVICT_RUNNING = 1
/** Over maxmemory with nothing left to evict: writes get the OOM error. */
export const EVICT_FAIL = 2
export type EvictResult = typeof EVICT_OK | typeof EVICT_RUNNING | typeof EVICT_FAIL

/** The eviction time budget per call in µs for a tenacity of 0..100 (Redis's evictionTimeLimitUs). */
export function evictionTimeLimitUs(tenacity: number): number {
  if (tenacity <= 10) return 50 * tenacity // linear 0..500 µs
  if (tenacity < 100) return Math.floor(500 * Math.pow(1.15, tenacity - 10)) // ~2 minutes at 99
  return Infinity
}

/** Policies that order evictions by the LRU stamp. */
export function isLruPolicy(policy: MaxmemoryPolicy): boolean {
  return policy === 'allkeys-lru' || policy === 'volatile-lru'
}

export function isLfuPolicy(policy: MaxmemoryPolicy): boolean {
  return policy === 'allkeys-lfu' || policy === 'volatile-lfu'
}

function isAllkeys(policy: MaxmemoryPolicy): boolean {
  return policy.startsWith('allkeys-')
}

/**
 * The usable size of an n-byte allocation under our jemalloc build (8-byte quantum as Redis configures it, so
 * 8 B steps to 64, 16 B steps to 128, then 4 classes per doubling), used to evict before a write rather than
 * after it. Other allocators differ slightly; the real figure is measured after the write either way.
 */
export function estimateUsableSize(n: number): number {
  if (n <= 8) return 8
  if (n <= 64) return (n + 7) & ~7
  if (n <= 128) return (n + 15) & ~15
  const step = 2 ** (Math.ceil(Math.log2(n)) - 3)
  return Math.ceil(n / step) * step
}

export interface EvictHost {
  readonly ks: Keyspace
  readonly cfg: EngineConfig
  /** Bytes maxmemory bounds (sizes the adaptive policies' sketch by the average cost of a key). */
  usedMemory(): number
  now(): number
  /** lruClock(now()) as an int32 (the same 32 bits, signed). */
  lruStamp(): number
  /** What counts against maxmemory (used memory, or under 'resident' accounting the engine's resident memory). */
  evictionMemory(): number
  /** Deletes a key chosen for eviction, counting it and queueing its 'evicted' event. */
  evictKey(handle: number, hash: number): void
  /** Ends a timer step: delivers the events it queued (may throw a listener's error). */
  afterStep(): void
  /** A shared engine's timer work under the engine lock (expire.ts ExpireHost.timerGuard); null when private. */
  readonly timerGuard: TimerGuard | null
  /** A shared engine's pause between bounded steps of timer work (share.ts Sharing.pause); null when private. */
  readonly timerPause: (() => void) | null
}

export class Evictor {
  // The pool, sorted by ascending score in [0, poolSize): the best candidate is last.
  private readonly poolScore = new Float64Array(EVPOOL_SIZE)
  private readonly poolHandle = new Uint32Array(EVPOOL_SIZE)
  // Hashes are int32, as the keyspace keeps them (see Keyspace.hashKey).
  private readonly poolHash = new Int32Array(EVPOOL_SIZE)
  // The lru field each candidate had when sampled: an adaptive candidate read since then is not evicted.
  // The last element stages the stamp of the sample being offered.
  private readonly poolStamp = new Uint32Array(EVPOOL_SIZE + 1)
  private poolSize = 0
  private readonly sampleHandles = new Uint32Array(64)
  private readonly sampleHashes = new Int32Array(64)
  private timer: NodeJS.Immediate | null = null

  /** The adaptive policies' sketch and window (arrays allocated only while such a policy is selected). */
  readonly adaptive: Adaptive

  constructor(private readonly host: EvictHost) {
    this.adaptive = new Adaptive(host)
    if (isAdaptivePolicy(host.cfg.maxmemoryPolicy)) this.adaptive.activate()
  }

  /** Bytes of the pool's and sampler's typed arrays and the adaptive state's, counted in used memory. */
  get arrayBytes(): number {
    return FIXED_ARRAY_BYTES + this.adaptive.arrayBytes
  }

  resetPool(): void {
    this.poolSize = 0
  }

  /** The engine is closing: no more eviction, and the adaptive arrays (kernel pages when large) go now. */
  stop(): void {
    if (this.timer !== null) clearImmediate(this.timer)
    this.timer = null
    this.adaptive.deactivate()
  }

  /**
   * Evicts until used memory plus `incoming` bytes fits maxmemory, within the tenacity time limit. EVICT_FAIL means
   * the write must be refused with the OOM error. `continuation`: called by the eviction timer (a shared engine
   * then pauses between batches rather than stopping after one).
   */
  performEvictions(incoming: number, continuation = false): EvictResult {
    const { cfg } = this.host
    if (this.adaptive.active) this.adaptive.checkMaxmemory()
    if (cfg.maxmemory === 0) return EVICT_OK
    let used = this.host.evictionMemory()
    if (used + incoming <= cfg.maxmemory) return EVICT_OK
    if (cfg.maxmemoryPolicy === 'noeviction') return EVICT_FAIL
    const limitUs = evictionTimeLimitUs(cfg.maxmemoryEvictionTenacity)
    // The clock starts after the first key: a write under maxmemory usually needs exactly one eviction, and
    // performance.now() returns a heap-allocated number (garbage on every write). Redis reads its clock only
    // every 16 keys anyway; the first eviction's microsecond or two is left out of the budget.
    let start = -1
    let freed = 0
    while (used + incoming > cfg.maxmemory) {
      if (!this.evictOne()) return EVICT_FAIL
      freed++
      used = this.host.evictionMemory()
      if (start < 0) {
        if (used + incoming <= cfg.maxmemory) break
        start = performance.now()
      }
      if (freed % EVICTION_CLOCK_CHECK_KEYS === 0 && (performance.now() - start) * 1000 > limitUs) {
        if (used + incoming <= cfg.maxmemory) break
        this.startEvictionTimer()
        return EVICT_RUNNING
      }
      const pause = this.host.timerPause
      if (pause != null && freed % SHARED_EVICTION_BATCH === 0 && used + incoming > cfg.maxmemory) {
        // A shared engine's batch is done: a command leaves the rest to the continuation (as when its time is up);
        // the continuation lets a waiting thread in, then re-reads what may have changed meanwhile.
        if (!continuation) {
          this.startEvictionTimer()
          return EVICT_RUNNING
        }
        pause()
        // Another thread may have changed the bound or the policy meanwhile (TypeScript narrowed the policy above).
        if (cfg.maxmemory === 0 || (cfg.maxmemoryPolicy as MaxmemoryPolicy) === 'noeviction') return EVICT_OK
        used = this.host.evictionMemory()
      }
    }
    return EVICT_OK
  }

  /**
   * Redis's evictionTimeProc, a 0 ms time event that runs once per event-loop turn until under maxmemory;
   * setImmediate is Node's once-per-turn callback. It stays ref'd: an unref'd immediate only runs when something
   * else wakes the loop, and this work always ends (each turn frees keys, or finds none and stops). The next turn
   * is armed before listeners run, so one that throws cannot stop eviction, and one that closes the engine
   * clears it (stop()).
   */
  private startEvictionTimer(): void {
    if (this.timer !== null) return
    this.timer = setImmediate(() => {
      this.timer = null
      const guard = this.host.timerGuard
      if (guard !== null) {
        guard(false, () => {
          if (this.performEvictions(0, true) === EVICT_RUNNING) this.startEvictionTimer()
        }, 'eviction continuation')
        return
      }
      if (this.performEvictions(0) === EVICT_RUNNING) this.startEvictionTimer()
      this.host.afterStep()
    })
  }

  /** Chooses and deletes one key by the policy; false when no key qualifies. */
  private evictOne(): boolean {
    const { ks, cfg } = this.host
    const policy = cfg.maxmemoryPolicy
    if (policy === 'allkeys-random') {
      const handle = ks.randomKey()
      if (handle === 0) return false
      this.host.evictKey(handle, ks.sampledHash)
      return true
    }
    if (policy === 'volatile-random') {
      if (ks.volatileCount === 0) return false
      const handle = ks.volatileAt(randomBelow(ks.volatileCount))
      this.host.evictKey(handle, ks.sampledHash)
      return true
    }
    const allkeys = isAllkeys(policy)
    if (this.adaptive.active) return this.evictAdaptive(policy, allkeys)
    for (;;) {
      if (allkeys ? ks.count === 0 : ks.volatileCount === 0) return false
      this.populatePool(policy, allkeys)
      // The best candidate that still exists (and, for volatile-*, still has a TTL); others are ghosts.
      while (this.poolSize > 0) {
        const k = --this.poolSize
        const handle = this.poolHandle[k]
        const hash = this.poolHash[k]
        if (!ks.contains(handle, hash)) continue
        if (!allkeys && ks.volatilePos[handle & HANDLE_INDEX_MASK] === 0) continue
        this.host.evictKey(handle, hash)
        return true
      }
    }
  }

  /**
   * allkeys-adaptive / volatile-adaptive: when the window is over its share, its oldest key is the candidate and
   * the main region's sampled LRU victim the incumbent; the sketch's estimates choose which goes (TinyLFU's
   * admission). Otherwise the main region's victim goes. The write that needed the room always succeeds: a refused
   * candidate is the key evicted (ARCHITECTURE.md, "The adaptive policies").
   */
  private evictAdaptive(policy: MaxmemoryPolicy, allkeys: boolean): boolean {
    const { ks } = this.host
    const ad = this.adaptive
    if (allkeys ? ks.count === 0 : ks.volatileCount === 0) return ks.count === 0 && ad.shed()
    const candidate = ad.popCandidate(!allkeys)
    const candidateHash = ad.candidateHash
    const k = this.mainVictim(policy, allkeys)
    if (k < 0) {
      const h = candidate !== 0 ? candidate : ad.popAny(!allkeys)
      if (h === 0) {
        // The window holds no live key, so every key left is the main region's, and sampling missed them (a few
        // keys in a large table: each round probes some 50 slots). Any key will do, as Redis's performEvictions
        // samples on until it finds one rather than refuse a write while keys remain.
        if (!allkeys) return false
        const any = ks.randomKey()
        if (any === 0) return false
        this.host.evictKey(any, ks.sampledHash)
        return true
      }
      ad.evictedCandidate(ad.candidateHash)
      this.host.evictKey(h, ad.candidateHash)
      return true
    }
    if (candidate !== 0 && !ad.admit(candidateHash, this.poolHash[k])) {
      ad.evictedCandidate(candidateHash)
      this.host.evictKey(candidate, candidateHash)
      return true
    }
    if (candidate !== 0) ad.promote(candidate)
    this.poolSize--
    ad.evictedVictim(this.poolHash[k])
    this.host.evictKey(this.poolHandle[k], this.poolHash[k])
    return true
  }

  /** The pool position of the best main-region victim still valid, sampling as needed; -1 when there is none. */
  private mainVictim(policy: MaxmemoryPolicy, allkeys: boolean): number {
    const { ks } = this.host
    for (let round = 0; round < 4; round++) {
      this.populatePool(policy, allkeys)
      while (this.poolSize > 0) {
        const k = this.poolSize - 1
        const handle = this.poolHandle[k]
        const index = handle & HANDLE_INDEX_MASK
        if (ks.contains(handle, this.poolHash[k]) && ks.lru[index] === this.poolStamp[k]) {
          if (allkeys || ks.volatilePos[index] !== 0) return k
        }
        this.poolSize--
      }
    }
    return -1
  }

  /** Samples maxmemory-samples keys and keeps the best EVPOOL_SIZE candidates (Redis's evictionPoolPopulate). */
  private populatePool(policy: MaxmemoryPolicy, allkeys: boolean): void {
    const { ks, cfg } = this.host
    const samples = Math.min(cfg.maxmemorySamples, this.sampleHandles.length)
    let n: number
    if (allkeys) {
      n = ks.sampleKeys(samples, this.sampleHandles, this.sampleHashes)
    } else {
      n = Math.min(samples, ks.volatileCount)
      for (let i = 0; i < n; i++) {
        this.sampleHandles[i] = ks.volatileAt(randomBelow(ks.volatileCount))
        this.sampleHashes[i] = ks.sampledHash
      }
    }
    const adaptive = this.adaptive.active
    const lru = policy === 'allkeys-lru' || policy === 'volatile-lru'
    // LRU needs only the 32-bit stamp, fetched as an int32 (a small integer; the unix-ms double would be boxed on
    // its way out of the host's clock, once per write under maxmemory).
    const nowStamp = lru ? this.host.lruStamp() >>> 0 : 0
    const now = lru ? 0 : this.host.now()
    for (let i = 0; i < n; i++) {
      const handle = this.sampleHandles[i]
      const index = handle & HANDLE_INDEX_MASK
      let score: number
      if (adaptive) {
        // The main region only: window keys leave through the candidate queue.
        const field = ks.lru[index]
        if ((field & WINDOW_BIT) !== 0) continue
        score = this.adaptive.mainScore(field)
        this.poolStamp[EVPOOL_SIZE] = field
      } else if (lru) {
        score = estimateIdleTime(nowStamp, ks.lru[index])
      } else if (policy === 'allkeys-lfu' || policy === 'volatile-lfu') {
        score = 255 - lfuDecrAndReturn(ks.lru[index], now, cfg.lfuDecayTime)
      } else {
        // volatile-ttl: the sooner the expire time, the better (Redis uses ULLONG_MAX - expire).
        score = Number.MAX_SAFE_INTEGER - ks.getExpire(handle)
      }
      // Passed through a typed array: a double argument to a call that is not inlined is boxed.
      this.sampleScore[0] = score
      this.poolInsert(handle, this.sampleHashes[i])
    }
  }

  private readonly sampleScore = new Float64Array(1)

  /** Offers the sample scored sampleScore[0] to the pool. */
  private poolInsert(handle: number, hash: number): void {
    const score = this.sampleScore[0]
    const size = this.poolSize
    for (let j = 0; j < size; j++) if (this.poolHandle[j] === handle) return
    let k = 0
    while (k < size && this.poolScore[k] < score) k++
    if (k === 0 && size === EVPOOL_SIZE) return // worse than every candidate in a full pool
    if (size < EVPOOL_SIZE) {
      this.poolScore.copyWithin(k + 1, k, size)
      this.poolHandle.copyWithin(k + 1, k, size)
      this.poolHash.copyWithin(k + 1, k, size)
      this.poolStamp.copyWithin(k + 1, k, size)
      this.poolSize = size + 1
    } else {
      // Full: drop the worst candidate (index 0) and insert just below k.
      k--
      this.poolScore.copyWithin(0, 1, k + 1)
      this.poolHandle.copyWithin(0, 1, k + 1)
      this.poolHash.copyWithin(0, 1, k + 1)
      this.poolStamp.copyWithin(0, 1, k + 1)
    }
    this.poolScore[k] = score
    this.poolHandle[k] = handle
    this.poolHash[k] = hash
    this.poolStamp[k] = this.poolStamp[EVPOOL_SIZE]
  }
}
