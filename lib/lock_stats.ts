import { openSync, readSync } from 'node:fs'

// One thread's statistics of a shared engine's lock (share.ts Sharing; ARCHITECTURE.md "Sharing", "What the lock
// costs"): how long its acquisitions waited and behind what, how much work one hold did, and when traced, where
// long holds and waits spent their time (GC and CPU scheduling are invisible from JavaScript otherwise: the
// kernel's per-thread run-queue time tells a thread that was runnable but not running).

/** Log-scale buckets of the wait histogram: 8 per doubling of microseconds, up to 2^24 µs (16 s). */
const WAIT_BUCKETS_PER_DOUBLING = 8
const WAIT_BUCKETS = 25 * WAIT_BUCKETS_PER_DOUBLING
/** A hold or wait at least this long is "slow": its run-queue time is read (sched tracing). */
export const SLOW_MS = 0.2

/** Per-op figures of the holds a tracing thread made. */
export interface HoldFigures {
  holds: number
  totalMs: number
  maxMs: number
}

/** Slow holds or waits (≥ SLOW_MS): how many, their wall time, and the part the thread spent runnable, not running. */
export interface SlowFigures {
  count: number
  ms: number
  runqueueMs: number
  maxMs: number
  /** The run-queue time of the longest one. */
  maxRunqueueMs: number
}

/**
 * One thread's view of a shared engine's lock (share.ts sharedLockStats). Counted always: acquisitions, the
 * contended ones, the longest wait and what it waited through, the most keys one hold evicted or expired
 * (`Db.lockSteps`, between a take and a let-go). With tracing, also every wait into a histogram and every hold's
 * duration by what it did; with sched tracing (Linux), the run-queue time of slow holds and waits.
 */
export interface LockStats {
  acquisitions: number
  contended: number
  maxWaitMs: number
  /** During the longest wait: holds other threads made, and what the holder was doing when the wait began. */
  maxWaitHolds: number
  maxWaitHolder: string
  /** The most keys one hold (or one stretch between two pauses) evicted or expired, and what it was. */
  maxSteps: number
  maxStepsOp: string
  /** Handoffs made by this thread's timer work (pause let the lock go to a waiting thread). */
  handoffs: number
  /** Turns this thread took after waiting long (share.ts contended: the lock then goes to turns in order). */
  turnsTaken: number
  /** Tracing: waits by bucket (waitBucket); uncontended acquisitions (`acquisitions - contended`) waited 0. */
  waitHistogram: number[] | null
  /** Tracing: holds by what they did. */
  holdsByOp: Record<string, HoldFigures> | null
  /** Sched tracing: slow holds and slow waits. */
  slowHolds: SlowFigures | null
  slowWaits: SlowFigures | null
}

export type LockTrace = 'off' | 'waits' | 'sched'

export function newLockStats(trace: LockTrace = 'off'): LockStats {
  const slow = (): SlowFigures => ({ count: 0, ms: 0, runqueueMs: 0, maxMs: 0, maxRunqueueMs: 0 })
  const sched = trace === 'sched' && schedClock() !== null
  return {
    acquisitions: 0, contended: 0, maxWaitMs: 0, maxWaitHolds: 0, maxWaitHolder: '', maxSteps: 0, maxStepsOp: '',
    handoffs: 0, turnsTaken: 0,
    waitHistogram: trace === 'off' ? null : new Array<number>(WAIT_BUCKETS).fill(0),
    holdsByOp: trace === 'off' ? null : {},
    slowHolds: sched ? slow() : null,
    slowWaits: sched ? slow() : null,
  }
}

/** Adds a slow hold or wait. */
export function addSlow(figures: SlowFigures, ms: number, runqueueMs: number): void {
  figures.count++
  figures.ms += ms
  figures.runqueueMs += runqueueMs
  if (ms > figures.maxMs) {
    figures.maxMs = ms
    figures.maxRunqueueMs = runqueueMs
  }
}

/** A wait's histogram bucket. */
export function waitBucket(ms: number): number {
  const us = ms * 1000
  if (us < 1) return 0
  return Math.min(WAIT_BUCKETS - 1, Math.floor(Math.log2(us) * WAIT_BUCKETS_PER_DOUBLING))
}

/**
 * A percentile of a thread's lock waits (ms), uncontended acquisitions counted as 0 ms: the upper edge of the
 * histogram bucket the percentile falls in (within 9%), or the longest wait when that is lower. Needs tracing.
 */
export function lockWaitPercentile(stats: LockStats, p: number): number {
  const histogram = stats.waitHistogram
  if (histogram === null) throw new Error('lockWaitPercentile: the lock was not traced')
  let rank = Math.max(1, Math.ceil((p / 100) * stats.acquisitions))
  const uncontended = stats.acquisitions - histogram.reduce((a, b) => a + b, 0)
  if (rank <= uncontended) return 0
  rank -= uncontended
  for (let b = 0; b < histogram.length; b++) {
    rank -= histogram[b]
    if (rank <= 0) return Math.min(stats.maxWaitMs, 2 ** ((b + 1) / WAIT_BUCKETS_PER_DOUBLING) / 1000)
  }
  return stats.maxWaitMs
}

/** The calling thread's run-queue time (ms), from /proc/thread-self/schedstat; one per thread, opened on first use. */
export interface SchedClock {
  runqueueMs(): number
}

let clock: SchedClock | null | undefined

/** This thread's SchedClock, or null where the kernel has no per-thread schedstat. */
export function schedClock(): SchedClock | null {
  if (clock !== undefined) return clock
  try {
    // The descriptor names this thread's task for good (thread-self is resolved at open); it lives as long as the
    // thread's module does, as a diagnostic (tracing only).
    const fd = openSync('/proc/thread-self/schedstat', 'r')
    const buf = new Uint8Array(96)
    clock = {
      runqueueMs(): number {
        const n = readSync(fd, buf, 0, buf.length, 0)
        // "<ns on a CPU> <ns runnable, waiting for one> <timeslices>": the second field.
        let i = 0
        while (i < n && buf[i] !== 0x20) i++
        let ns = 0
        for (i++; i < n && buf[i] >= 0x30 && buf[i] <= 0x39; i++) ns = ns * 10 + (buf[i] - 0x30)
        return ns / 1e6
      },
    }
  } catch {
    clock = null
  }
  return clock
}
