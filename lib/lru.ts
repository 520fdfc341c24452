// The per-key access clocks behind the LRU and LFU policies, as pure functions (Redis's evict.c, with one change:
// the LRU clock is a 32-bit stamp at 1 ms resolution instead of 24 bits at 1000 ms, which cannot order keys that
// turn over within a second; ARCHITECTURE.md, "Eviction").

/** Largest LRU stamp; stamps wrap to 0 after it (Redis's LRU_CLOCK_MAX, widened from 24 to 32 bits). */
export const LRU_CLOCK_MAX = 0xffffffff
/** Milliseconds per LRU clock tick (Redis's LRU_CLOCK_RESOLUTION is 1000). */
export const LRU_CLOCK_RESOLUTION = 1

/** A new key's LFU counter, so it is not evicted before it had a chance to be accessed (Redis's LFU_INIT_VAL). */
export const LFU_INIT_VAL = 5
/** The 8-bit counter saturates here. */
export const LFU_COUNTER_MAX = 255
/** The decay stamp counts minutes modulo 2^16 (the top 16 bits of Redis's 24-bit lru field). */
export const LFU_MINUTES_MAX = 0xffff

/** The LRU stamp for a wall-clock time in ms: the time modulo 2^32 (ToUint32 is exactly that). */
export function lruClock(nowMs: number): number {
  return Math.floor(nowMs / LRU_CLOCK_RESOLUTION) >>> 0
}

/** Milliseconds since `stamp`, assuming at most one wrap-around happened (Redis's estimateObjectIdleTime). */
export function estimateIdleTime(nowStamp: number, stamp: number): number {
  if (nowStamp >= stamp) return (nowStamp - stamp) * LRU_CLOCK_RESOLUTION
  return (nowStamp + (LRU_CLOCK_MAX - stamp)) * LRU_CLOCK_RESOLUTION
}

/** Minutes modulo 2^16 for the LFU decay stamp (Redis's LFUGetTimeInMinutes). */
export function lfuTimeInMinutes(nowMs: number): number {
  return Math.floor(nowMs / 60000) & LFU_MINUTES_MAX
}

/**
 * Minutes elapsed since a decay stamp, assuming at most one wrap-around (Redis's LFUTimeElapsed, whose wrapped
 * branch 65535 - ldt + now is one minute short; the period is 2^16).
 */
export function lfuTimeElapsed(nowMinutes: number, stampMinutes: number): number {
  if (nowMinutes >= stampMinutes) return nowMinutes - stampMinutes
  return LFU_MINUTES_MAX + 1 - stampMinutes + nowMinutes
}

/**
 * Logarithmic increment: the more hits a key has, the less likely another hit counts (Redis's LFULogIncr).
 * `random` is uniform in [0, 1).
 */
export function lfuLogIncr(counter: number, logFactor: number, random: number): number {
  if (counter >= LFU_COUNTER_MAX) return LFU_COUNTER_MAX
  const baseval = counter > LFU_INIT_VAL ? counter - LFU_INIT_VAL : 0
  const p = 1 / (baseval * logFactor + 1)
  return random < p ? counter + 1 : counter
}

/** The packed LFU field (Redis layout: minutes << 8 | counter) of a key just created. */
export function lfuInit(nowMs: number): number {
  return ((lfuTimeInMinutes(nowMs) << 8) | LFU_INIT_VAL) >>> 0
}

export function lfuCounter(packed: number): number {
  return packed & 0xff
}

/**
 * The counter after decaying it by one per `decayTime` minutes elapsed since its stamp, without storing it
 * (Redis's LFUDecrAndReturn). decayTime 0 never decays.
 */
export function lfuDecrAndReturn(packed: number, nowMs: number, decayTime: number): number {
  const counter = packed & 0xff
  if (decayTime <= 0) return counter
  const periods = Math.floor(lfuTimeElapsed(lfuTimeInMinutes(nowMs), packed >>> 8) / decayTime)
  return periods > counter ? 0 : counter - periods
}

/** The packed LFU field after one access: decay first, then a logarithmic increment (Redis's updateLFU). */
export function lfuTouch(packed: number, nowMs: number, logFactor: number, decayTime: number, random: number): number {
  const counter = lfuLogIncr(lfuDecrAndReturn(packed, nowMs, decayTime), logFactor, random)
  return ((lfuTimeInMinutes(nowMs) << 8) | counter) >>> 0
}
