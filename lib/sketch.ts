import { allocArray, releaseArray } from './pages.js'

// The frequency sketch behind the adaptive policies (ARCHITECTURE.md, "Eviction"): a count-min sketch of 4-bit
// counters, eight to a 32-bit word, depth 4, aged by halving every counter once `sampleSize` increments have been
// recorded, so it estimates how often a key was requested recently rather than ever. Keys are identified by the
// 32-bit hash the keyspace already computed (Dict.hashKey); each row re-mixes it with its own odd multiplier.
// A doorkeeper (a one-bit Bloom filter in front of the counters, cleared with each halving) absorbs the first
// request of every key, so the one-hit wonders of a scan never reach the counters and cannot crowd them.

/** The largest value a counter holds. */
export const COUNTER_MAX = 15
/** Counters per key the sketch is sized for (one 32-bit word). */
const COUNTERS_PER_KEY = 8
/** Increments between two halvings, per key of capacity (the sample size W = 10 × capacity). */
const SAMPLE_FACTOR = 10
const MIN_KEYS = 16
const ROW_SEEDS = [0x9e3779b1, 0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f] as const

function mix(hash: number, seed: number): number {
  let h = Math.imul(hash ^ (hash >>> 16), seed)
  h ^= h >>> 13
  h = Math.imul(h, 0x5bd1e995)
  return (h ^ (h >>> 15)) >>> 0
}

export class FrequencySketch {
  /** The counters: word w holds counters 8w .. 8w + 7, four bits each. */
  table: Uint32Array
  /** The doorkeeper's bits. */
  doorkeeper: Uint32Array
  /** The capacity (keys) the sketch is sized for. */
  capacity = 0
  /** Increments recorded since the last halving. */
  additions = 0
  /** Increments between halvings. */
  sampleSize = 0
  /** Halvings so far (INFO). */
  resets = 0

  constructor(capacity: number) {
    this.table = new Uint32Array(0)
    this.doorkeeper = new Uint32Array(0)
    this.resize(capacity)
  }

  /** Bytes of the typed arrays (counted in used_memory, ARCHITECTURE.md "Memory"). */
  get byteLength(): number {
    return this.table.byteLength + this.doorkeeper.byteLength
  }

  /**
   * Re-sizes for `capacity` keys, keeping what the counts say: a key's word is its hash scaled to the table's
   * length, so each new word covers a range of old words, and takes per nibble the largest of them (the doorkeeper
   * ORs its range). Estimates can only grow by it, as a count-min sketch's do by collisions.
   */
  resize(capacity: number): void {
    if (!Number.isFinite(capacity) || capacity < 0) throw new RangeError(`sketch capacity must be ≥ 0, got ${capacity}`)
    const keys = Math.max(MIN_KEYS, Math.ceil(capacity))
    const table = allocArray(Uint32Array, (keys * COUNTERS_PER_KEY) / 8)
    const doorkeeper = allocArray(Uint32Array, Math.ceil(keys / 4))
    if (this.table.length > 0) {
      migrateMax(this.table, table)
      migrateOr(this.doorkeeper, doorkeeper)
    }
    releaseArray(this.table)
    releaseArray(this.doorkeeper)
    this.table = table
    // About 8 bits per key: a false-positive rate near 2% for a capacity's worth of distinct keys.
    this.doorkeeper = doorkeeper
    this.capacity = keys
    this.sampleSize = keys * SAMPLE_FACTOR
    this.additions = Math.min(this.additions, this.sampleSize - 1)
  }

  release(): void {
    releaseArray(this.table)
    releaseArray(this.doorkeeper)
    this.table = new Uint32Array(0)
    this.doorkeeper = new Uint32Array(0)
  }

  /** The estimated number of recent requests of the key with this hash (0..COUNTER_MAX + 1). */
  estimate(hash: number): number {
    const t = this.table
    const words = t.length
    let min = COUNTER_MAX
    for (let i = 0; i < 4; i++) {
      const h = mix(hash, ROW_SEEDS[i])
      const w = Math.floor((h / 4294967296) * words)
      const c = (t[w] >>> ((h & 7) << 2)) & 0xf
      if (c < min) min = c
    }
    return this.inDoorkeeper(hash) ? min + 1 : min
  }

  /** Records one request: the doorkeeper takes the first, then a conservative update of the four counters. */
  increment(hash: number): void {
    if (this.table.length === 0) return
    if (this.setDoorkeeper(hash)) {
      const t = this.table
      const words = t.length
      let min = COUNTER_MAX
      for (let i = 0; i < 4; i++) {
        const h = mix(hash, ROW_SEEDS[i])
        const c = (t[Math.floor((h / 4294967296) * words)] >>> ((h & 7) << 2)) & 0xf
        if (c < min) min = c
      }
      if (min === COUNTER_MAX) return
      // Conservative update: only the counters at the minimum grow, which keeps collisions from inflating others.
      for (let i = 0; i < 4; i++) {
        const h = mix(hash, ROW_SEEDS[i])
        const w = Math.floor((h / 4294967296) * words)
        const shift = (h & 7) << 2
        if (((t[w] >>> shift) & 0xf) === min) t[w] += 1 << shift
      }
    }
    if (++this.additions >= this.sampleSize) this.halve()
  }

  /** Ages the sketch: every counter halved, the doorkeeper cleared. */
  halve(): void {
    const t = this.table
    for (let i = 0; i < t.length; i++) t[i] = (t[i] >>> 1) & 0x77777777
    this.doorkeeper.fill(0)
    this.additions = Math.floor(this.additions / 2)
    this.resets++
  }

  private inDoorkeeper(hash: number): boolean {
    const d = this.doorkeeper
    const bits = d.length * 32
    const a = Math.floor((mix(hash, 0x165667b1) / 4294967296) * bits)
    const b = Math.floor((mix(hash, 0xd3a2646c) / 4294967296) * bits)
    return ((d[a >>> 5] >>> (a & 31)) & 1) !== 0 && ((d[b >>> 5] >>> (b & 31)) & 1) !== 0
  }

  /** Sets the key's doorkeeper bits; true when they were all set already. */
  private setDoorkeeper(hash: number): boolean {
    const d = this.doorkeeper
    const bits = d.length * 32
    const a = Math.floor((mix(hash, 0x165667b1) / 4294967296) * bits)
    const b = Math.floor((mix(hash, 0xd3a2646c) / 4294967296) * bits)
    const had = ((d[a >>> 5] >>> (a & 31)) & 1) !== 0 && ((d[b >>> 5] >>> (b & 31)) & 1) !== 0
    d[a >>> 5] |= 1 << (a & 31)
    d[b >>> 5] |= 1 << (b & 31)
    return had
  }
}

/** The old words a new word j covers when a range [0, 2^32) is scaled to `from` and to `to` words. */
function coveredRange(j: number, from: number, to: number): [number, number] {
  const lo = Math.floor((j * from) / to)
  const hi = Math.max(lo, Math.ceil(((j + 1) * from) / to) - 1)
  return [lo, Math.min(hi, from - 1)]
}

function migrateMax(from: Uint32Array, to: Uint32Array): void {
  for (let j = 0; j < to.length; j++) {
    const [lo, hi] = coveredRange(j, from.length, to.length)
    let word = 0
    for (let nibble = 0; nibble < 32; nibble += 4) {
      let max = 0
      for (let i = lo; i <= hi; i++) max = Math.max(max, (from[i] >>> nibble) & 0xf)
      word |= max << nibble
    }
    to[j] = word >>> 0
  }
}

/** Bit-level: a new bit covers a range of old bits; it is set when any of them is. */
function migrateOr(from: Uint32Array, to: Uint32Array): void {
  const fromBits = from.length * 32
  const toBits = to.length * 32
  for (let j = 0; j < toBits; j++) {
    const [lo, hi] = coveredRange(j, fromBits, toBits)
    for (let i = lo; i <= hi; i++) {
      if (((from[i >>> 5] >>> (i & 31)) & 1) !== 0) {
        to[j >>> 5] |= 1 << (j & 31)
        break
      }
    }
  }
}
