import { cronTimeLimitUs } from './cron.js'
import { checkKey, type Db } from './db.js'
import { invalidExpireError, notIntegerError, syntaxError } from './errors.js'
import type { Keyspace } from './keyspace.js'

// Expiry (Redis's expire.c): the EXPIRE and TTL families, PERSIST, their argument parsing, and the active expire
// cycle. Lazy expiry is in the lookups (db.ts).

/** Keys sampled per loop of the cycle at effort 1 (Redis's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP). */
export const ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP = 20
/** Length of a fast cycle in µs at effort 1 (ACTIVE_EXPIRE_CYCLE_FAST_DURATION). */
export const ACTIVE_EXPIRE_CYCLE_FAST_DURATION = 1000
/** CPU share of the slow cycles at effort 1, percent (ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC). */
export const ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC = 25
/** Share of expired keys among those sampled that is tolerated, percent (ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE). */
export const ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE = 10

export interface ExpireCycleConfig {
  keysPerLoop: number
  fastDurationUs: number
  slowTimePerc: number
  acceptableStale: number
}

/** How active-expire-effort 1..10 scales the cycle, as Redis's activeExpireCycle. */
export function expireCycleConfig(activeExpireEffort: number): ExpireCycleConfig {
  const effort = activeExpireEffort - 1
  return {
    keysPerLoop: ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP + Math.floor(ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP / 4) * effort,
    fastDurationUs: ACTIVE_EXPIRE_CYCLE_FAST_DURATION + Math.floor(ACTIVE_EXPIRE_CYCLE_FAST_DURATION / 4) * effort,
    slowTimePerc: ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC + 2 * effort,
    acceptableStale: ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE - effort,
  }
}

/** Redis's running average of sampled TTLs in integer ms: the new sample weighs 1/50. */
export function updateAvgTtl(avgTtl: number, sampleAvg: number): number {
  if (avgTtl === 0) return sampleAvg
  return Math.floor(avgTtl / 50) * 49 + Math.floor(sampleAvg / 50)
}

/** Exponential moving average of the stale share, in percent (Redis keeps a fraction with the same weights). */
export function updateStalePerc(stalePerc: number, cyclePerc: number): number {
  return cyclePerc * 0.05 + stalePerc * 0.95
}

/** TTL in seconds from ms left, rounded as Redis's TTL: (ms + 500) / 1000. */
export function ttlSeconds(msLeft: number): number {
  return Math.floor((msLeft + 500) / 1000)
}

// ---- argument parsing for the EXPIRE family and SET/GETEX ----

export type ExpireFlag = 'NX' | 'XX' | 'GT' | 'LT'
export const EXPIRE_NX = 1
export const EXPIRE_XX = 2
export const EXPIRE_GT = 4
export const EXPIRE_LT = 8

/** Flag bits from 'NX' | 'XX' | 'GT' | 'LT' (any case), or a list of them; conflicts are ERR_SYNTAX as in Redis. */
export function parseExpireFlags(flag: ExpireFlag | readonly ExpireFlag[] | undefined): number {
  if (flag === undefined) return 0
  const list: readonly unknown[] = Array.isArray(flag) ? flag : [flag]
  let bits = 0
  for (const f of list) {
    if (typeof f !== 'string') throw new TypeError('expire flag must be a string')
    switch (f.toUpperCase()) {
      case 'NX': bits |= EXPIRE_NX; break
      case 'XX': bits |= EXPIRE_XX; break
      case 'GT': bits |= EXPIRE_GT; break
      case 'LT': bits |= EXPIRE_LT; break
      default: throw syntaxError(`Unsupported option ${f}`)
    }
  }
  if ((bits & EXPIRE_NX) !== 0 && (bits & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) !== 0) {
    throw syntaxError('NX and XX, GT or LT options at the same time are not compatible')
  }
  if ((bits & EXPIRE_GT) !== 0 && (bits & EXPIRE_LT) !== 0) {
    throw syntaxError('GT and LT options at the same time are not compatible')
  }
  return bits
}

/**
 * Whether the flags allow replacing `current` (unix ms, or -1 for none) with `when`: a key without TTL counts as
 * an infinite TTL, so GT never applies to it and LT always does (Redis's expireGenericCommand).
 */
export function expireFlagsAllow(bits: number, current: number, when: number): boolean {
  if ((bits & EXPIRE_NX) !== 0 && current !== -1) return false
  if ((bits & EXPIRE_XX) !== 0 && current === -1) return false
  if ((bits & EXPIRE_GT) !== 0 && (current === -1 || when <= current)) return false
  if ((bits & EXPIRE_LT) !== 0 && current !== -1 && when >= current) return false
  return true
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/** An int64 argument (Redis's getLongLongFromObjectOrReply): an integral number or bigint within int64. */
function int64Time(value: unknown, command: string): bigint {
  if (typeof value === 'bigint') {
    if (value < INT64_MIN || value > INT64_MAX) throw notIntegerError()
    return value
  }
  if (typeof value !== 'number') throw new TypeError(`${command}: the expire time must be a number`)
  if (!Number.isInteger(value) || value >= 2 ** 63 || value < -(2 ** 63)) throw notIntegerError()
  return BigInt(value)
}

/**
 * Absolute expire time in unix ms from an argument in `unitMs` units (1000 for seconds), relative to `base`
 * (now, or 0 for the *AT forms), over the whole int64 range as Redis takes it: an argument that is not an int64
 * is 'value is not an integer or out of range' (`ERR_NOT_INTEGER`); one whose conversion to ms or addition to now
 * leaves int64 is 'invalid expire time' (Redis's expireGenericCommand); `positive` (SET, GETEX, SETEX) also
 * refuses values <= 0 (getExpireMillisecondsOrReply). A time past 2^53 ms (the year 287,396) is kept as the
 * nearest double: far enough never to come, so PEXPIRETIME reports it rounded.
 */
export function absoluteExpire(value: unknown, unitMs: number, base: number, positive: boolean, command: string): number {
  // The common case in plain numbers: every step exact.
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    const when = value * unitMs + base
    if (Number.isSafeInteger(when) && (!positive || value > 0)) return when
  }
  const n = int64Time(value, command)
  if (positive && n <= 0n) throw invalidExpireError(command)
  // C's division truncates: LLONG_MIN / 1000 is -9223372036854775.
  if (unitMs === 1000 && (n > INT64_MAX / 1000n || n < -(INT64_MAX / 1000n))) throw invalidExpireError(command)
  const ms = n * BigInt(unitMs)
  const start = BigInt(base)
  if (ms > INT64_MAX - start) throw invalidExpireError(command)
  return Number(ms + start)
}

// ---- the active expire cycle ----

export const CYCLE_SLOW = 0
export const CYCLE_FAST = 1

export interface ExpireStats {
  expired_keys: number
  /** Running estimate of the share of expired keys among the sampled ones, percent. */
  expired_stale_perc: number
  expired_time_cap_reached_count: number
  avg_ttl: number
}

export interface ExpireHost {
  readonly ks: Keyspace
  readonly stats: ExpireStats
  now(): number
  /** Deletes a key whose time has come, counting it and queueing its 'expired' event. */
  expireKey(handle: number, hash: number): void
  /** Ends a timer step: delivers the events it queued (may throw a listener's error). */
  afterStep(): void
  /**
   * A shared engine's timer work (ARCHITECTURE.md "Sharing"): runs `work` under the engine lock when this thread
   * claims the step (a slow cycle is claimed by one thread per period), delivers its events after the lock is
   * released. null for a private engine.
   */
  readonly timerGuard: TimerGuard | null
  /**
   * A shared engine's pause between the cycle's loops (ARCHITECTURE.md "Sharing"): the lock may be let go and taken
   * back, and every field of the keyspace and of this cycle re-read. null for a private engine.
   */
  readonly timerPause?: (() => void) | null
}

/**
 * See ExpireHost.timerGuard; `slow` says the step is a slow cycle (one per period, whichever thread claims it);
 * `what` names the step in the shared lock's statistics (share.ts LockStats).
 */
export type TimerGuard = (slow: boolean, work: () => void, what: TimerWork) => void

/** The kinds of timer work a shared engine runs under its lock. */
export type TimerWork = 'slow cycle' | 'fast cycle' | 'eviction continuation'

/**
 * Redis's activeExpireCycle over the dense volatile list: slow cycles at hz with a CPU budget, fast cycles
 * of fastDurationUs (at most one per two of their lengths) while the stale share is above the acceptable one.
 */
export class ActiveExpire {
  private cursor = 0
  private lastFastCycleUs = 0
  private timelimitExit = false
  private slowTimer: NodeJS.Timeout | null = null
  private fastTimer: NodeJS.Timeout | null = null
  private config: ExpireCycleConfig
  private hz: number
  /** Called from the slow timer as Redis's serverCron would (incremental rehash, eviction continuation...). */
  private readonly cron: () => void

  constructor(
    private readonly host: ExpireHost,
    activeExpireEffort: number,
    hz: number,
    cron: () => void = () => {},
  ) {
    this.config = expireCycleConfig(activeExpireEffort)
    this.hz = hz
    this.cron = cron
  }

  configure(activeExpireEffort: number, hz: number): void {
    this.config = expireCycleConfig(activeExpireEffort)
    if (hz !== this.hz) {
      this.hz = hz
      if (this.slowTimer !== null) {
        this.stop()
        this.start()
      }
    }
  }

  start(): void {
    if (this.slowTimer !== null) return
    // The timer holds the cycle weakly: an engine dropped without close() must still be collectable (its native
    // memory freed by the store's finalizer), and then its timer stops.
    const ref = new WeakRef(this)
    const timer = setInterval(() => {
      const self = ref.deref()
      if (self === undefined) clearInterval(timer)
      else self.slowTick()
    }, Math.max(1, Math.round(1000 / this.hz)))
    timer.unref()
    this.slowTimer = timer
  }

  /** Listeners run last, once the step is complete and the next one armed; one that closes the engine stops both. */
  private slowTick(): void {
    const guard = this.host.timerGuard
    if (guard !== null) {
      guard(true, () => {
        this.cron()
        this.cycle(CYCLE_SLOW)
      }, 'slow cycle')
      this.scheduleFast()
      return
    }
    this.cron()
    this.cycle(CYCLE_SLOW)
    this.scheduleFast()
    this.host.afterStep()
  }

  stop(): void {
    if (this.slowTimer !== null) clearInterval(this.slowTimer)
    if (this.fastTimer !== null) clearTimeout(this.fastTimer)
    this.slowTimer = null
    this.fastTimer = null
  }

  /** Whether a fast cycle is warranted: the last cycle ran out of time, or too many sampled keys were stale. */
  private wantsFast(): boolean {
    return this.host.ks.volatileCount > 0 &&
      (this.timelimitExit || this.host.stats.expired_stale_perc >= this.config.acceptableStale)
  }

  /**
   * Redis runs fast cycles from beforeSleep; a Node engine has no such hook, so a timer runs them about every
   * two fast durations (the fastest Redis allows) for as long as they are warranted.
   */
  private scheduleFast(): void {
    if (this.fastTimer !== null || this.slowTimer === null || !this.wantsFast()) return
    const delayMs = Math.max(1, Math.round((this.config.fastDurationUs * 2) / 1000))
    const ref = new WeakRef(this)
    this.fastTimer = setTimeout(() => {
      const self = ref.deref()
      if (self === undefined) return
      self.fastTimer = null
      const guard = self.host.timerGuard
      if (guard !== null) {
        guard(false, () => self.cycle(CYCLE_FAST), 'fast cycle')
        self.scheduleFast()
        return
      }
      self.cycle(CYCLE_FAST)
      self.scheduleFast()
      self.host.afterStep()
    }, delayMs)
    this.fastTimer.unref()
  }

  /** One cycle; returns the number of keys it expired. */
  cycle(type: typeof CYCLE_SLOW | typeof CYCLE_FAST): number {
    const { ks, stats } = this.host
    const cfg = this.config
    const startUs = performance.now() * 1000
    let timelimitUs: number
    if (type === CYCLE_FAST) {
      // Percent compared with percent: Redis compares its stale fraction with this percentage (redis issue 15410),
      // so its fast cycle never starts for staleness.
      if (!this.timelimitExit && stats.expired_stale_perc < cfg.acceptableStale) return 0
      if (startUs < this.lastFastCycleUs + cfg.fastDurationUs * 2) return 0
      this.lastFastCycleUs = startUs
      timelimitUs = cfg.fastDurationUs
    } else {
      timelimitUs = cronTimeLimitUs(cfg.slowTimePerc, this.hz)
    }
    this.timelimitExit = false

    let totalSampled = 0
    let totalExpired = 0
    let iteration = 0
    let repeat: boolean
    do {
      const n = ks.volatileCount
      if (n === 0) break
      iteration++
      const num = Math.min(n, cfg.keysPerLoop)
      const now = this.host.now()
      let sampled = 0
      let expired = 0
      let ttlSum = 0
      let ttlSamples = 0
      while (sampled < num && ks.volatileCount > 0) {
        if (this.cursor >= ks.volatileCount) this.cursor = 0
        const handle = ks.volatileAt(this.cursor)
        const hash = ks.sampledHash
        const when = ks.volatileExpires[this.cursor]
        sampled++
        if (now > when) {
          // The list's last key moves into this position: look at the same position again.
          this.host.expireKey(handle, hash)
          expired++
        } else {
          ttlSum += when - now
          ttlSamples++
          this.cursor++
        }
      }
      totalSampled += sampled
      totalExpired += expired
      if (ttlSamples > 0) stats.avg_ttl = updateAvgTtl(stats.avg_ttl, Math.floor(ttlSum / ttlSamples))
      // Check the clock every 16 loops, as Redis does.
      if ((iteration & 0xf) === 0 && performance.now() * 1000 - startUs > timelimitUs) {
        this.timelimitExit = true
        stats.expired_time_cap_reached_count++
        break
      }
      repeat = Math.floor((expired * 100) / sampled) > cfg.acceptableStale
      // Between loops (20 keys at effort 1) a shared engine lets waiting threads in: the cursor, the volatile list
      // and the keyspace are read afresh by the next loop.
      if (repeat) {
        const pause = this.host.timerPause
        if (pause != null) pause()
      }
    } while (repeat)

    const cyclePerc = totalSampled > 0 ? (totalExpired * 100) / totalSampled : 0
    stats.expired_stale_perc = updateStalePerc(stats.expired_stale_perc, cyclePerc)
    if (ks.volatileCount === 0) stats.avg_ttl = 0
    return totalExpired
  }
}

// ---- the EXPIRE and TTL families, PERSIST ----

/**
 * Redis's expireGenericCommand: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX / XX / GT / LT. `unitMs` is 1000 for
 * seconds; `absolute` for the *AT forms. A time already past deletes the key, as Redis does (a DEL, not an expiry).
 */
export function expireCommand(
  db: Db,
  key: string,
  value: number | bigint,
  unitMs: number,
  absolute: boolean,
  flag: ExpireFlag | readonly ExpireFlag[] | undefined,
  command: string,
): boolean {
  db.assertOpen()
  checkKey(key)
  const bits = parseExpireFlags(flag)
  const now = db.now()
  const when = absoluteExpire(value, unitMs, absolute ? 0 : now, false, command)
  const hash = db.ks.hashKey(key)
  const handle = db.lookupWrite(key, hash, now)
  if (handle === 0) {
    db.events.flush()
    return false
  }
  // lookupKeyWrite is an access in Redis (it updates the LRU/LFU clock).
  db.touchKey(handle, now, hash)
  if (!expireFlagsAllow(bits, db.ks.getExpire(handle), when)) return false
  if (when <= now) db.ks.remove(handle, hash)
  else db.ks.setExpire(handle, hash, when)
  return true
}

export function persistCommand(db: Db, key: string): boolean {
  db.assertOpen()
  checkKey(key)
  const hash = db.ks.hashKey(key)
  const now = db.now()
  const handle = db.lookupWrite(key, hash, now)
  if (handle === 0) {
    db.events.flush()
    return false
  }
  db.touchKey(handle, now, hash)
  return db.ks.clearExpire(handle)
}

/** Unix ms of the key's expiry, -1 without one, -2 when missing (a NOTOUCH lookup, as TTL's): PEXPIRETIME. */
export function pexpiretimeCommand(db: Db, key: string): number {
  db.assertOpen()
  checkKey(key)
  const handle = db.lookupNoTouchOrEnd(key)
  if (handle === 0) return -2
  return db.ks.getExpire(handle)
}

/** PTTL: ms left, -1 without an expiry, -2 when missing. */
export function pttlCommand(db: Db, key: string): number {
  const when = pexpiretimeCommand(db, key)
  if (when < 0) return when
  return Math.max(0, when - db.now())
}
