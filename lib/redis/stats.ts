// The cache's counters as node-redis's CacheStats reports them (same fields and methods, so its tooling reads
// either), plus what a near cache also needs: invalidations and flushes.

export interface CacheCounters {
  readonly hitCount: number
  readonly missCount: number
  readonly loadSuccessCount: number
  readonly loadFailureCount: number
  /** ms spent in loads (misses that went to the server), successful or not. */
  readonly totalLoadTime: number
  /** Entries the engine evicted to stay within maxmemory. */
  readonly evictionCount: number
  /** Invalidations received (one per key; a null invalidation, the server's flush, counts one). */
  readonly invalidationCount: number
  /** Times the whole cache was emptied: server flush, connection error or close, clear(). */
  readonly flushCount: number
}

/** What minus/plus accept: node-redis's CacheStats has no invalidation or flush counts. */
export type CacheCountersLike = Omit<CacheCounters, 'invalidationCount' | 'flushCount'> &
  Partial<Pick<CacheCounters, 'invalidationCount' | 'flushCount'>>

/** An immutable snapshot of the counters. */
export class CacheStatsSnapshot implements CacheCounters {
  readonly hitCount: number
  readonly missCount: number
  readonly loadSuccessCount: number
  readonly loadFailureCount: number
  readonly totalLoadTime: number
  readonly evictionCount: number
  readonly invalidationCount: number
  readonly flushCount: number

  constructor(c: CacheCounters) {
    this.hitCount = c.hitCount
    this.missCount = c.missCount
    this.loadSuccessCount = c.loadSuccessCount
    this.loadFailureCount = c.loadFailureCount
    this.totalLoadTime = c.totalLoadTime
    this.evictionCount = c.evictionCount
    this.invalidationCount = c.invalidationCount
    this.flushCount = c.flushCount
  }

  get hits(): number {
    return this.hitCount
  }

  get misses(): number {
    return this.missCount
  }

  get invalidations(): number {
    return this.invalidationCount
  }

  get evictions(): number {
    return this.evictionCount
  }

  /** Mean ms per load (0 before the first). */
  get averageLoadTime(): number {
    return this.averageLoadPenalty()
  }

  requestCount(): number {
    return this.hitCount + this.missCount
  }

  hitRate(): number {
    const n = this.requestCount()
    return n === 0 ? 1 : this.hitCount / n
  }

  missRate(): number {
    const n = this.requestCount()
    return n === 0 ? 0 : this.missCount / n
  }

  loadCount(): number {
    return this.loadSuccessCount + this.loadFailureCount
  }

  loadFailureRate(): number {
    const n = this.loadCount()
    return n === 0 ? 0 : this.loadFailureCount / n
  }

  averageLoadPenalty(): number {
    const n = this.loadCount()
    return n === 0 ? 0 : this.totalLoadTime / n
  }

  minus(other: CacheCountersLike): CacheStatsSnapshot {
    return this.#combine(other, -1)
  }

  plus(other: CacheCountersLike): CacheStatsSnapshot {
    return this.#combine(other, 1)
  }

  #combine(o: CacheCountersLike, sign: 1 | -1): CacheStatsSnapshot {
    const f = (a: number, b: number | undefined): number => Math.max(0, a + sign * (b ?? 0))
    return new CacheStatsSnapshot({
      hitCount: f(this.hitCount, o.hitCount),
      missCount: f(this.missCount, o.missCount),
      loadSuccessCount: f(this.loadSuccessCount, o.loadSuccessCount),
      loadFailureCount: f(this.loadFailureCount, o.loadFailureCount),
      totalLoadTime: f(this.totalLoadTime, o.totalLoadTime),
      evictionCount: f(this.evictionCount, o.evictionCount),
      invalidationCount: f(this.invalidationCount, o.invalidationCount),
      flushCount: f(this.flushCount, o.flushCount),
    })
  }
}
