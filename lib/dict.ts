import { LOCAL_ARRAYS, type ArraySource } from './arrays.js'
import type { SlotStore } from './store.js'

// The hash table under the keyspace (Redis's dict.c): key → store handle, open addressing with linear probing over
// typed arrays, grown and shrunk by incremental rehashing, sampled at random for eviction, walked by SCAN's
// reverse-binary cursor. Keys live in the native store: a fingerprint match is confirmed there, in the same call
// that reads or replaces the value. keyspace.ts adds the per-key metadata and the expire list.

/** Table slot never used: probing stops here. Store handles are never 0. */
export const EMPTY = 0
/**
 * A slot vacated in the table being rehashed away: probing continues past it. Never a handle, since the store
 * never issues slot index HANDLE_INDEX_MASK and 0xffffffff would need it.
 */
export const TOMBSTONE = 0xffffffff
const MIN_TABLE_SIZE = 64
/** Grow at this load when maxmemory leaves room for the larger table (Redis grows its dict at load 1). */
const GROW_LOAD = 0.75
/** Grow at this load even over maxmemory, as Redis's dict_force_resize_ratio does; linear probing needs it. */
const FORCE_GROW_LOAD = 0.9
/** Shrink under this load (Redis's HASHTABLE_MIN_FILL is 10%; a power of two keeps the target exact). */
const SHRINK_LOAD = 0.125
/** Slots examined and entries moved per incremental rehash step (Redis moves 1 bucket, visiting at most 10 empty). */
const REHASH_VISITS_PER_STEP = 64
const REHASH_MOVES_PER_STEP = 8
/** Per-process seed so a key set tuned to collide in one process does not collide in another. */
export const HASH_SEED = (Math.random() * 0x100000000) >>> 0

/** Which native check confirms a fingerprint match (and what it returns along the way). */
const VERIFY_KEY = 0
const VERIFY_READ = 1
const VERIFY_READ_STRING = 2
type Verify = typeof VERIFY_KEY | typeof VERIFY_READ | typeof VERIFY_READ_STRING

function reverseBits(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1)
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2)
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4)
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8)
  return ((v >>> 16) | (v << 16)) >>> 0
}

/** Redis's dictScan cursor step: increment the reversed cursor, so growing or shrinking never skips a bucket. */
function nextCursor(v: number, mask: number): number {
  return reverseBits((reverseBits((v | ~mask) >>> 0) + 1) >>> 0)
}

function nextPowerOfTwo(n: number): number {
  let size = MIN_TABLE_SIZE
  while (size < n) size *= 2
  return size
}

export abstract class Dict {
  store: SlotStore
  /** Where resizes take arrays from: pages.ts, or a shared engine's regions (arrays.ts). */
  arrays: ArraySource = LOCAL_ARRAYS
  /**
   * The hash seed: the process's, or the sharing engine's for an engine attached in another thread (each thread
   * loads this module with its own HASH_SEED; one keyspace needs one seed).
   */
  seed = HASH_SEED | 0
  /** Hash of the key last passed to hashKey, and whether every one of its code units is < 0x80. */
  ascii = true
  /** After a VERIFY_READ probe: the value's length (the bytes are in store.scratch when they fit). */
  readLength = -1
  /** After a VERIFY_READ_STRING probe: the value. */
  readString = ''
  /** After randomKey / sampleVolatileAt: the sampled key's hash. */
  sampledHash = 0

  // The table: fingerprint (full 32-bit hash, as an int32) and handle per slot, interleaved in one buffer so a
  // probe touches one cache line instead of two (at 1M keys every probe is a cache miss). `hashes` (Int32Array)
  // and `handles` (Uint32Array) view the same memory: slot p's hash is hashes[2p], its handle handles[2p + 1].
  // Hashes are int32 so they stay small integers (a uint32 ≥ 2^31 returned or passed between functions becomes a
  // heap-allocated number: garbage on every operation). While rehashing, `old*` is the table being emptied into
  // the current one; lookups probe both, inserts go only to the current one.
  protected hashes: Int32Array = new Int32Array(MIN_TABLE_SIZE * 2)
  protected handles: Uint32Array = new Uint32Array(this.hashes.buffer)
  protected mask = MIN_TABLE_SIZE - 1
  protected fill = 0
  protected oldHashes: Int32Array | null = null
  protected oldHandles: Uint32Array | null = null
  protected oldMask = 0
  protected oldFill = 0
  protected rehashIdx = -1

  /** Asked before a table grows past GROW_LOAD with the bytes the larger table would add (maxmemory's veto). */
  growAllowed: (extraBytes: number) => boolean = () => true
  /** A shared engine's pause between rehashFor's steps (share.ts Sharing.pause); null for a private engine. */
  timerPause: (() => void) | null = null

  constructor(store: SlotStore) {
    this.store = store
  }

  get count(): number {
    return this.fill + this.oldFill
  }

  get rehashing(): boolean {
    return this.rehashIdx >= 0
  }

  get tableSize(): number {
    return this.mask + 1
  }

  /** Called whenever a table array is replaced (a resize starts or ends). */
  protected abstract arraysChanged(): void

  /** Bytes of the table arrays (hashes and handles share one buffer). */
  protected tableBytes(): number {
    return this.hashes.byteLength + (this.oldHashes === null ? 0 : this.oldHashes.byteLength)
  }

  /**
   * FNV-1a over UTF-16 code units, finished with murmur3's fmix32 so the low (index) bits mix every unit. An int32
   * (never a heap number); callers compare hashes as int32 (`(a ^ b) === 0`) so unsigned copies still match.
   */
  hashKey(key: string): number {
    let h = this.seed ^ 0x811c9dc5
    let units = 0
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i)
      units |= c
      h = Math.imul(h ^ c, 0x01000193)
    }
    this.ascii = units < 0x80
    h ^= h >>> 16
    h = Math.imul(h, 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
    return h | 0
  }

  /** The key's handle, or 0. */
  find(key: string, hash: number): number {
    return this.lookup(key, hash, VERIFY_KEY)
  }

  /** The key's handle, or 0; on a hit the value is read in the same native call (readLength, store.scratch). */
  findRead(key: string, hash: number): number {
    return this.lookup(key, hash, VERIFY_READ)
  }

  /** The key's handle, or 0; on a hit the value is decoded in the same native call (readString). */
  findString(key: string, hash: number): number {
    return this.lookup(key, hash, VERIFY_READ_STRING)
  }

  private lookup(key: string, hash: number, verify: Verify): number {
    if (this.oldHandles !== null && this.oldHashes !== null) {
      const found = this.probe(this.oldHashes, this.oldHandles, this.oldMask, key, hash, verify)
      if (found !== EMPTY) return found
    }
    return this.probe(this.hashes, this.handles, this.mask, key, hash, verify)
  }

  private probe(
    hashes: Int32Array,
    handles: Uint32Array,
    mask: number,
    key: string,
    hash: number,
    verify: Verify,
  ): number {
    hash |= 0
    for (let pos = hash & mask; ; pos = (pos + 1) & mask) {
      const handle = handles[2 * pos + 1]
      if (handle === EMPTY) return EMPTY
      if (hashes[2 * pos] !== hash || handle === TOMBSTONE) continue
      if (verify === VERIFY_READ) {
        const length = this.store.read(handle, key)
        if (length >= 0) {
          this.readLength = length
          return handle
        }
      } else if (verify === VERIFY_READ_STRING) {
        const value = this.store.readStringIfKey(handle, key)
        if (value !== undefined) {
          this.readString = value
          return handle
        }
      } else if (this.store.keyEquals(handle, key)) {
        return handle
      }
    }
  }

  /**
   * Whether a slot holds this fingerprint: without one the key is certainly absent, and the fused lookups
   * (store.ts FusedStore) are not called at all, so a miss costs no native call.
   */
  hasFingerprint(hash: number): boolean {
    hash |= 0
    if (this.oldHandles !== null && this.oldHashes !== null && this.fingerprintIn(this.oldHashes, this.oldHandles, this.oldMask, hash)) return true
    return this.fingerprintIn(this.hashes, this.handles, this.mask, hash)
  }

  private fingerprintIn(hashes: Int32Array, handles: Uint32Array, mask: number, hash: number): boolean {
    for (let pos = hash & mask; ; pos = (pos + 1) & mask) {
      const handle = handles[2 * pos + 1]
      if (handle === EMPTY) return false
      if (hashes[2 * pos] === hash && handle !== TOMBSTONE) return true
    }
  }

  /** Whether (hash, handle) is in the table: a pure-TypeScript check that a sampled key still exists. */
  contains(handle: number, hash: number): boolean {
    return this.positionOf(this.hashes, this.handles, this.mask, handle, hash) >= 0 ||
      (this.oldHandles !== null && this.oldHashes !== null &&
        this.positionOf(this.oldHashes, this.oldHandles, this.oldMask, handle, hash) >= 0)
  }

  private positionOf(hashes: Int32Array, handles: Uint32Array, mask: number, handle: number, hash: number): number {
    for (let pos = hash & mask; ; pos = (pos + 1) & mask) {
      const h = handles[2 * pos + 1]
      if (h === EMPTY) return -1
      if (h === handle && (hashes[2 * pos] ^ hash) === 0) return pos
    }
  }

  protected unlink(handle: number, hash: number): boolean {
    const pos = this.positionOf(this.hashes, this.handles, this.mask, handle, hash)
    if (pos >= 0) {
      this.removeAt(pos)
      this.fill--
      return true
    }
    if (this.oldHandles === null || this.oldHashes === null) return false
    const oldPos = this.positionOf(this.oldHashes, this.oldHandles, this.oldMask, handle, hash)
    if (oldPos < 0) return false
    this.oldHandles[2 * oldPos + 1] = TOMBSTONE
    this.oldFill--
    return true
  }

  /** Backward-shift deletion for linear probing: the current table never holds tombstones. */
  private removeAt(pos: number): void {
    const hashes = this.hashes
    const handles = this.handles
    const mask = this.mask
    let hole = pos
    for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
      const handle = handles[2 * j + 1]
      if (handle === EMPTY) break
      const home = hashes[2 * j] & mask
      // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
      const homeBetween = hole <= j ? home > hole && home <= j : home > hole || home <= j
      if (homeBetween) continue
      hashes[2 * hole] = hashes[2 * j]
      handles[2 * hole + 1] = handle
      hole = j
    }
    handles[2 * hole + 1] = EMPTY
    hashes[2 * hole] = 0
  }

  protected place(hashes: Int32Array, handles: Uint32Array, mask: number, hash: number, handle: number): void {
    let pos = hash & mask
    while (handles[2 * pos + 1] !== EMPTY) pos = (pos + 1) & mask
    hashes[2 * pos] = hash
    handles[2 * pos + 1] = handle
  }

  // ---- resizing ----

  protected prepareInsert(): void {
    if (this.rehashIdx >= 0) this.rehashStep()
    const size = this.mask + 1
    if (this.fill + 1 > size * FORCE_GROW_LOAD) {
      if (this.rehashIdx >= 0) this.finishRehash()
      this.startResize(nextPowerOfTwo((this.count + 1) * 2))
    } else if (this.rehashIdx < 0 && this.count + 1 > size * GROW_LOAD && this.growAllowed(size * 2 * 8)) {
      this.startResize(size * 2)
    }
  }

  /** Timer work (Redis's databasesCron): rehash for up to a millisecond, shrink a table left sparse. */
  cron(): void {
    if (this.rehashIdx >= 0) this.rehashFor(1)
    if (this.rehashIdx < 0) this.maybeShrink()
  }

  protected maybeShrink(): void {
    const size = this.mask + 1
    if (size > MIN_TABLE_SIZE && this.fill < size * SHRINK_LOAD) {
      this.startResize(nextPowerOfTwo(this.fill * 4))
    }
  }

  private startResize(size: number): void {
    if (size === this.mask + 1) return
    const hashes = this.arrays.table(size * 2, this.hashes, this.oldHashes)
    const handles = new Uint32Array(hashes.buffer, hashes.byteOffset, hashes.length)
    let replaced: Int32Array | null = null
    if (this.fill === 0) {
      replaced = this.hashes
      this.hashes = hashes
      this.handles = handles
      this.mask = size - 1
    } else {
      this.oldHashes = this.hashes
      this.oldHandles = this.handles
      this.oldMask = this.mask
      this.oldFill = this.fill
      this.hashes = hashes
      this.handles = handles
      this.mask = size - 1
      this.fill = 0
      this.rehashIdx = 0
    }
    // Arrays are released only after arraysChanged, which rebinds the store's view of them (ARCHITECTURE.md,
    // "Pointers").
    this.arraysChanged()
    if (replaced !== null) this.arrays.moved(replaced)
  }

  /** Moves a bounded number of entries from the old table (called per write and per timer tick). */
  rehashStep(visits = REHASH_VISITS_PER_STEP, moves = REHASH_MOVES_PER_STEP): void {
    const oldHashes = this.oldHashes
    const oldHandles = this.oldHandles
    if (oldHashes === null || oldHandles === null) return
    const end = this.oldMask + 1
    let i = this.rehashIdx
    while (i < end && visits-- > 0 && moves > 0) {
      const handle = oldHandles[2 * i + 1]
      if (handle !== EMPTY && handle !== TOMBSTONE) {
        this.place(this.hashes, this.handles, this.mask, oldHashes[2 * i], handle)
        oldHandles[2 * i + 1] = TOMBSTONE
        this.oldFill--
        this.fill++
        moves--
      }
      i++
    }
    this.rehashIdx = i
    if (i >= end || this.oldFill === 0) this.endRehash()
  }

  /** Rehashes for up to `budgetMs` (Redis's dictRehashMilliseconds from its cron). */
  rehashFor(budgetMs: number): void {
    const start = performance.now()
    while (this.rehashIdx >= 0) {
      this.rehashStep(1024, 128)
      if (performance.now() - start >= budgetMs) break
      // Another thread may finish this rehash, or start another, while the lock is let go: the loop re-reads.
      if (this.timerPause !== null) this.timerPause()
    }
  }

  private finishRehash(): void {
    while (this.rehashIdx >= 0) this.rehashStep(1 << 20, 1 << 20)
  }

  /** `done`: the rehash moved every entry (false: the engine is closing, the table may still serve others). */
  protected endRehash(done = true): void {
    const emptied = this.oldHashes
    this.oldHashes = null
    this.oldHandles = null
    this.oldMask = 0
    this.oldFill = 0
    this.rehashIdx = -1
    this.arraysChanged()
    if (emptied !== null) {
      if (done) this.arrays.moved(emptied)
      else this.arrays.release(emptied)
    }
  }

  // ---- scan ----

  /**
   * One step of a SCAN: appends the handles and hashes of every key whose home slot is the cursor's bucket, and
   * returns the next cursor (0 at the end). Home buckets are visited in Redis's reverse-binary order, so a key
   * present for the whole scan is returned at least once even if the table grows or shrinks in between.
   */
  scanStep(cursor: number, outHandles: number[], outHashes: number[]): number {
    let v = cursor >>> 0
    if (this.oldHandles === null || this.oldHashes === null) {
      this.emitBucket(this.hashes, this.handles, this.mask, v & this.mask, outHandles, outHashes)
      return nextCursor(v, this.mask)
    }
    let small = { hashes: this.hashes, handles: this.handles, mask: this.mask }
    let large = { hashes: this.oldHashes, handles: this.oldHandles, mask: this.oldMask }
    if (small.mask > large.mask) [small, large] = [large, small]
    this.emitBucket(small.hashes, small.handles, small.mask, v & small.mask, outHandles, outHashes)
    // Then every bucket of the larger table that expands the smaller table's bucket.
    do {
      this.emitBucket(large.hashes, large.handles, large.mask, v & large.mask, outHandles, outHashes)
      v = nextCursor(v, large.mask)
    } while ((v & (small.mask ^ large.mask)) !== 0)
    return v
  }

  private emitBucket(
    hashes: Int32Array,
    handles: Uint32Array,
    mask: number,
    bucket: number,
    outHandles: number[],
    outHashes: number[],
  ): void {
    for (let pos = bucket; ; pos = (pos + 1) & mask) {
      const handle = handles[2 * pos + 1]
      if (handle === EMPTY) return
      if (handle !== TOMBSTONE && (hashes[2 * pos] & mask) === bucket) {
        outHandles.push(handle)
        outHashes.push(hashes[2 * pos])
      }
    }
  }

  /** Back to an empty table of the smallest size (its old arrays already released). */
  protected resetTable(): void {
    this.hashes = this.arrays.table(MIN_TABLE_SIZE * 2, null, null)
    this.handles = new Uint32Array(this.hashes.buffer, this.hashes.byteOffset, this.hashes.length)
    this.mask = MIN_TABLE_SIZE - 1
    this.fill = 0
  }

  /** Ends any rehash and hands the table's memory back. */
  protected releaseTable(): void {
    this.endRehash(false)
    this.arrays.release(this.hashes)
  }
}
