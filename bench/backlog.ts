// Expiry bookkeeping shared by the engine child and the redis-server run: which keys are due at a time, and the
// backlog (keys still present although their time has passed).

/** Expire times (unix ms) sorted ascending, for counting keys due by a time. */
export class ExpirySchedule {
  private readonly sorted: Float64Array

  constructor(expireAt: Float64Array) {
    this.sorted = Float64Array.from(expireAt).sort()
  }

  get lastExpiry(): number {
    return this.sorted[this.sorted.length - 1]
  }

  /** Keys whose expire time is ≤ t (Redis expires a key once now > when: due, and removable). */
  dueBy(t: number): number {
    let lo = 0
    let hi = this.sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.sorted[mid] <= t) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Keys present that are already due: present − keys not yet due. */
  backlog(present: number, t: number): number {
    return Math.max(0, present - (this.sorted.length - this.dueBy(t)))
  }
}

export interface BacklogSample {
  /** ms since the last key's expire time (negative before it). */
  t: number
  present: number
  backlog: number
}
