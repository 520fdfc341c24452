import { LOCAL_ARRAYS, ROLE_GHOST_WINDOW, type ArrayRole, type ArraySource } from './arrays.js'

// A ghost list as a Bloom filter (ARCHITECTURE.md, "The adaptive policies"): remembers the hashes of about `n` keys
// recently evicted (n ≤ the capacity it was sized for, set by remember()), without the keys, in two generations of
// bits. Inserts go to the young one; when it has taken n / 2 keys the old one is cleared and the two swap, so a key
// is remembered for between n / 2 and n insertions after it was added. Both generations are halves of one array
// (`youngAt` says which is young), so a swap replaces no array: a shared engine's stays where it is (share.ts).

/** Bits per key of one generation (two hash functions: about 5% false positives per full generation, 10% for both). */
const BITS_PER_KEY = 8

export class GhostFilter {
  /** The scalars a shared engine keeps in its header (share.ts); `bits` is its array. */
  static readonly SHARED_SCALARS = [
    'youngAt', 'added', 'perGeneration', 'maxPerGeneration', 'size', 'previous', 'youngSet', 'oldSet',
  ] as const
  /** Where the bits come from: pages.ts, or a shared engine's region (arrays.ts). */
  arrays: ArraySource = LOCAL_ARRAYS
  /** Both generations: words [youngAt, youngAt + half) are the young one, the other half the old one. */
  private bits: Uint32Array = new Uint32Array(0)
  private youngAt = 0
  private added = 0
  private perGeneration = 0
  private maxPerGeneration = 0
  /** Keys added since the last generation swap plus those of the generation before (about what it remembers). */
  size = 0
  private previous = 0
  /** Bits set in each generation (the false-positive rate follows from them). */
  private youngSet = 0
  private oldSet = 0

  constructor(
    capacity: number,
    private readonly role: ArrayRole = ROLE_GHOST_WINDOW,
  ) {
    this.resize(capacity)
  }

  /** The most keys it can remember (what it was sized for). */
  get capacity(): number {
    return 2 * this.maxPerGeneration
  }

  get byteLength(): number {
    return this.bits.byteLength
  }

  /** Sized for `capacity` keys; what it remembered is forgotten. */
  resize(capacity: number): void {
    this.release()
    this.maxPerGeneration = capacity <= 0 ? 0 : Math.max(8, Math.ceil(capacity / 2))
    this.perGeneration = this.maxPerGeneration
    const words = Math.ceil((this.maxPerGeneration * BITS_PER_KEY) / 32)
    this.bits = this.arrays.fresh(Uint32Array, 2 * words, this.role)
    this.youngAt = 0
    this.added = 0
    this.previous = 0
    this.size = 0
    this.youngSet = 0
    this.oldSet = 0
  }

  /** The chance that a key never added is reported present (a hit in either generation). */
  falsePositiveRate(): number {
    const bits = (this.bits.length >>> 1) * 32
    if (bits === 0) return 0
    const y = this.youngSet / bits
    const o = this.oldSet / bits
    return y * y + o * o - y * y * o * o
  }

  /** How many keys to remember from now on (at most the capacity it was sized for). */
  remember(n: number): void {
    this.perGeneration = Math.min(this.maxPerGeneration, Math.max(4, Math.ceil(n / 2)))
  }

  release(): void {
    this.arrays.release(this.bits)
    this.bits = this.arrays.fresh(Uint32Array, 0, this.role)
    this.youngAt = 0
  }

  clear(): void {
    this.bits.fill(0)
    this.added = 0
    this.previous = 0
    this.size = 0
    this.youngSet = 0
    this.oldSet = 0
  }

  add(hash: number): void {
    const words = this.bits.length >>> 1
    if (words === 0) return
    if (this.added >= this.perGeneration) {
      // The old generation is cleared and becomes the young one.
      const old = this.youngAt === 0 ? words : 0
      this.bits.fill(0, old, old + words)
      this.youngAt = old
      this.previous = this.added
      this.added = 0
      this.oldSet = this.youngSet
      this.youngSet = 0
    }
    const t = this.bits
    const bits = words * 32
    const young = this.youngAt * 32
    const a = young + bitOf(hash, 0x2545f491, bits)
    const b = young + bitOf(hash, 0x9e3779b9, bits)
    if (!isSet(t, a)) this.youngSet++
    t[a >>> 5] |= 1 << (a & 31)
    if (!isSet(t, b)) this.youngSet++
    t[b >>> 5] |= 1 << (b & 31)
    this.added++
    this.size = this.added + this.previous
  }

  has(hash: number): boolean {
    const t = this.bits
    const words = t.length >>> 1
    if (words === 0) return false
    const bits = words * 32
    const a = bitOf(hash, 0x2545f491, bits)
    const b = bitOf(hash, 0x9e3779b9, bits)
    // The two generations are the array's halves: a bit of one half is bits further in the other.
    return (isSet(t, a) && isSet(t, b)) || (isSet(t, a + bits) && isSet(t, b + bits))
  }
}

function isSet(bits: Uint32Array, i: number): boolean {
  return ((bits[i >>> 5] >>> (i & 31)) & 1) !== 0
}

function bitOf(hash: number, seed: number, bits: number): number {
  let h = Math.imul(hash ^ (hash >>> 15), seed)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return Math.floor((((h ^ (h >>> 16)) >>> 0) / 4294967296) * bits)
}
