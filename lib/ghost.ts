import { allocArray, releaseArray } from './pages.js'

// A ghost list as a Bloom filter (ARCHITECTURE.md, "The adaptive policies"): remembers the hashes of about `n` keys
// recently evicted (n ≤ the capacity it was sized for, set by remember()), without the keys, in two generations of
// bits. Inserts go to the young one; when it has taken n / 2 keys the old one is cleared and the two swap, so a key
// is remembered for between n / 2 and n insertions after it was added.

/** Bits per key of one generation (two hash functions: about 5% false positives per full generation, 10% for both). */
const BITS_PER_KEY = 8

export class GhostFilter {
  private young: Uint32Array = new Uint32Array(0)
  private old: Uint32Array = new Uint32Array(0)
  private added = 0
  private perGeneration = 0
  private maxPerGeneration = 0
  /** Keys added since the last generation swap plus those of the generation before (about what it remembers). */
  size = 0
  private previous = 0
  /** Bits set in each generation (the false-positive rate follows from them). */
  private youngSet = 0
  private oldSet = 0

  constructor(capacity: number) {
    this.resize(capacity)
  }

  /** The most keys it can remember (what it was sized for). */
  get capacity(): number {
    return 2 * this.maxPerGeneration
  }

  get byteLength(): number {
    return this.young.byteLength + this.old.byteLength
  }

  /** Sized for `capacity` keys; what it remembered is forgotten. */
  resize(capacity: number): void {
    this.release()
    this.maxPerGeneration = capacity <= 0 ? 0 : Math.max(8, Math.ceil(capacity / 2))
    this.perGeneration = this.maxPerGeneration
    const words = Math.ceil((this.maxPerGeneration * BITS_PER_KEY) / 32)
    this.young = allocArray(Uint32Array, words)
    this.old = allocArray(Uint32Array, words)
    this.added = 0
    this.previous = 0
    this.size = 0
    this.youngSet = 0
    this.oldSet = 0
  }

  /** The chance that a key never added is reported present (a hit in either generation). */
  falsePositiveRate(): number {
    const bits = this.young.length * 32
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
    releaseArray(this.young)
    releaseArray(this.old)
    this.young = new Uint32Array(0)
    this.old = new Uint32Array(0)
  }

  clear(): void {
    this.young.fill(0)
    this.old.fill(0)
    this.added = 0
    this.previous = 0
    this.size = 0
    this.youngSet = 0
    this.oldSet = 0
  }

  add(hash: number): void {
    if (this.young.length === 0) return
    if (this.added >= this.perGeneration) {
      const old = this.old
      old.fill(0)
      this.old = this.young
      this.young = old
      this.previous = this.added
      this.added = 0
      this.oldSet = this.youngSet
      this.youngSet = 0
    }
    const bits = this.young.length * 32
    const a = bitOf(hash, 0x2545f491, bits)
    const b = bitOf(hash, 0x9e3779b9, bits)
    if (!isSet(this.young, a)) this.youngSet++
    this.young[a >>> 5] |= 1 << (a & 31)
    if (!isSet(this.young, b)) this.youngSet++
    this.young[b >>> 5] |= 1 << (b & 31)
    this.added++
    this.size = this.added + this.previous
  }

  has(hash: number): boolean {
    if (this.young.length === 0) return false
    const bits = this.young.length * 32
    const a = bitOf(hash, 0x2545f491, bits)
    const b = bitOf(hash, 0x9e3779b9, bits)
    return (isSet(this.young, a) && isSet(this.young, b)) || (isSet(this.old, a) && isSet(this.old, b))
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
