import { Rng } from './rng.js'

/**
 * Zipf(s) over ranks 0..n-1 (rank 0 the most popular): P(k) ∝ 1/(k+1)^s. Sampling inverts the CDF by binary
 * search (n ≤ a few million: a Float64Array of n entries, ~20 probes per draw). Ranks are mapped through a fixed
 * random permutation so popular keys are spread over the keyspace rather than clustered at low indices.
 */
export class ZipfSampler {
  private readonly cdf: Float64Array
  private readonly rank: Uint32Array

  constructor(
    readonly n: number,
    readonly s: number,
    private readonly rng: Rng,
  ) {
    if (!(n >= 1) || !Number.isInteger(n)) throw new RangeError('n must be a positive integer')
    this.cdf = new Float64Array(n)
    let sum = 0
    for (let k = 0; k < n; k++) {
      sum += 1 / Math.pow(k + 1, s)
      this.cdf[k] = sum
    }
    for (let k = 0; k < n; k++) this.cdf[k] /= sum
    this.rank = new Uint32Array(n)
    for (let i = 0; i < n; i++) this.rank[i] = i
    new Rng(0x5eed ^ n).shuffle(this.rank)
  }

  /** A key index in [0, n). */
  next(): number {
    const u = this.rng.next()
    let lo = 0
    let hi = this.n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.cdf[mid] < u) lo = mid + 1
      else hi = mid
    }
    return this.rank[lo]
  }

  /** `length` draws, precomputed so that sampling costs nothing inside a timed loop. */
  trace(length: number): Uint32Array {
    const out = new Uint32Array(length)
    for (let i = 0; i < length; i++) out[i] = this.next()
    return out
  }
}

/**
 * A hot-set trace: a `hotAccessShare` of draws land uniformly on the first `hotKeyShare` of n keys (after a
 * random permutation), the rest uniformly on the others: "90% of accesses on 10% of keys" is (0.1, 0.9).
 */
export function hotSetTrace(n: number, length: number, hotKeyShare: number, hotAccessShare: number, rng: Rng): Uint32Array {
  const hot = Math.max(1, Math.floor(n * hotKeyShare))
  const cold = n - hot
  const out = new Uint32Array(length)
  for (let i = 0; i < length; i++) {
    out[i] = cold === 0 || rng.next() < hotAccessShare ? rng.int(hot) : hot + rng.int(cold)
  }
  return out
}
