import { LOCAL_ARRAYS, ROLE_SKETCH, type ArraySource } from './arrays.js'

// The frequency sketch behind the adaptive policies (ARCHITECTURE.md, "The adaptive policies"): a count-min sketch
// of 4-bit counters, eight to a 32-bit word, depth 4, aged by halving every counter once `sampleSize` increments
// have been recorded, so it estimates how often a key was requested recently rather than ever. Keys are identified
// by the 32-bit hash the keyspace already computed (Dict.hashKey); each row re-mixes it with its own multiplier.
// Measured on the hit-ratio suite's traces and left out: a doorkeeper (a Bloom filter taking each key's first
// request) and conservative update (only the counters at the minimum grow) both cost hit ratio on looping traces
// (gli: 3 to 4 points), where every key has the same frequency and a one-count difference decides admission.

/** The largest value a counter holds. */
export const COUNTER_MAX = 15
/** Counters per key the sketch is sized for: one 32-bit word (4 bytes) per key. */
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
  /** The scalars a shared engine keeps in its header (share.ts); `table` is its array. */
  static readonly SHARED_SCALARS = ['capacity', 'additions', 'sampleSize', 'resets'] as const
  /** Where the table comes from: pages.ts, or a shared engine's region (arrays.ts). */
  arrays: ArraySource = LOCAL_ARRAYS
  /** The counters: word w holds counters 8w .. 8w + 7, four bits each. */
  table: Uint32Array = new Uint32Array(0)
  /** The capacity (keys) the sketch is sized for. */
  capacity = 0
  /** Increments recorded since the last halving. */
  additions = 0
  /** Increments between halvings. */
  sampleSize = 0
  /** Halvings so far (INFO). */
  resets = 0

  constructor(capacity: number, maxBytes = Infinity) {
    this.resize(capacity, maxBytes)
  }

  /** Bytes of the typed array (counted in used_memory, ARCHITECTURE.md "Memory"). */
  get byteLength(): number {
    return this.table.byteLength
  }

  /**
   * Re-sizes for `capacity` keys, keeping what the counts say: a key's word is its hash scaled to the table's
   * length, so each new word covers a range of old words, and takes per nibble the largest of them. Estimates can
   * only grow by it, as a count-min sketch's do by collisions. Growing more than twofold starts over instead: the
   * old table's counts are too crowded to be worth copying into every word they cover.
   */
  resize(capacity: number, maxBytes = Infinity): void {
    if (!Number.isFinite(capacity) || capacity < 0) throw new RangeError(`sketch capacity must be ≥ 0, got ${capacity}`)
    if (!(maxBytes >= 0)) throw new RangeError(`sketch byte budget must be ≥ 0, got ${maxBytes}`)
    // No keys, no counters: the policy's arrays must not fill a small maxmemory on their own.
    const keys = capacity === 0 ? 0 : Math.max(MIN_KEYS, Math.ceil(capacity))
    // A budget narrows the table (more keys share a counter) but not the sample size: aging follows the keys.
    const words = Math.min(Math.ceil((keys * COUNTERS_PER_KEY) / 8), Math.max(keys === 0 ? 0 : MIN_KEYS, Math.floor(maxBytes / 4)))
    const arrays = this.arrays
    const keep = this.table.length > 0 && words > 0 && words <= 2 * this.table.length
    // A shared engine's new table reuses the old one's region: the counts to migrate are copied out first.
    const old = keep ? arrays.keep(this.table) : null
    const table = arrays.fresh(Uint32Array, words, ROLE_SKETCH)
    if (old !== null) migrateMax(old, table)
    else this.additions = 0
    arrays.release(this.table)
    this.table = table
    this.capacity = keys
    this.sampleSize = keys * SAMPLE_FACTOR
    this.additions = Math.max(0, Math.min(this.additions, this.sampleSize - 1))
  }

  /** The table goes and every count with it (the policy was deselected). */
  release(): void {
    this.arrays.release(this.table)
    this.table = this.arrays.fresh(Uint32Array, 0, ROLE_SKETCH)
    this.capacity = 0
    this.additions = 0
    this.sampleSize = 0
    this.resets = 0
  }

  /** The estimated number of recent requests of the key with this hash (0..COUNTER_MAX). */
  estimate(hash: number): number {
    const t = this.table
    const words = t.length
    if (words === 0) return 0
    let min = COUNTER_MAX
    for (let i = 0; i < 4; i++) {
      const h = mix(hash, ROW_SEEDS[i])
      const c = (t[Math.floor((h / 4294967296) * words)] >>> ((h & 7) << 2)) & 0xf
      if (c < min) min = c
    }
    return min
  }

  /** Records one request: each of the key's four counters below COUNTER_MAX grows by one. */
  increment(hash: number): void {
    const t = this.table
    const words = t.length
    if (words === 0) return
    let added = false
    for (let i = 0; i < 4; i++) {
      const h = mix(hash, ROW_SEEDS[i])
      const w = Math.floor((h / 4294967296) * words)
      const shift = (h & 7) << 2
      if (((t[w] >>> shift) & 0xf) < COUNTER_MAX) {
        // Below 15, adding one cannot carry into the next nibble.
        t[w] += 1 << shift
        added = true
      }
    }
    if (added && ++this.additions >= this.sampleSize) this.halve()
  }

  /** Ages the sketch: every counter halved. */
  halve(): void {
    const t = this.table
    for (let i = 0; i < t.length; i++) t[i] = (t[i] >>> 1) & 0x77777777
    this.additions = Math.floor(this.additions / 2)
    this.resets++
  }
}

/** New word j covers the old words whose hash ranges overlap its own, when [0, 2^32) is scaled to each length. */
function migrateMax(from: Uint32Array, to: Uint32Array): void {
  for (let j = 0; j < to.length; j++) {
    const lo = Math.floor((j * from.length) / to.length)
    const hi = Math.min(from.length - 1, Math.max(lo, Math.ceil(((j + 1) * from.length) / to.length) - 1))
    let word = 0
    for (let nibble = 0; nibble < 32; nibble += 4) {
      let max = 0
      for (let i = lo; i <= hi; i++) max = Math.max(max, (from[i] >>> nibble) & 0xf)
      word |= max << nibble
    }
    to[j] = word >>> 0
  }
}
