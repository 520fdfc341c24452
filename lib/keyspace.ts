import { allocArray, releaseArray } from './pages.js'
import { HANDLE_INDEX_MASK, type SlotStore } from './store.js'

// The keyspace: key → store handle in an open-addressing table over typed arrays, per-key metadata in parallel
// typed arrays indexed by the handle's slot index, and a dense list of volatile keys. No JS object or string is
// kept per key (DESIGN §1), so the GC does no work that grows with the cache and every byte is counted.

/** Table slot never used: probing stops here. Store handles are never 0. */
const EMPTY = 0
/**
 * A slot vacated in the table being rehashed away: probing continues past it. Never a handle, since the store
 * never issues slot index HANDLE_INDEX_MASK and 0xffffffff would need it.
 */
const TOMBSTONE = 0xffffffff
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
const MIN_META_CAPACITY = 64
const MIN_VOLATILE_CAPACITY = 16
/** Per-process seed so a key set tuned to collide in one process does not collide in another. */
const HASH_SEED = (Math.random() * 0x100000000) >>> 0

/**
 * xorshift32 state for sampling positions. Math.random returns a heap-allocated number in optimized code, and
 * eviction samples on every write under maxmemory: that garbage alone made V8 grow its young generation by
 * megabytes during a fill. Sampling needs speed and spread, not cryptographic quality.
 */
let rngState = ((Math.random() * 0x7fffffff) | 0) || 1

/** A uniform integer in [0, n) for n ≤ 2^31 (a small integer: never boxed). */
export function randomBelow(n: number): number {
  let x = rngState
  x ^= x << 13
  x ^= x >>> 17
  x ^= x << 5
  rngState = x
  return Math.floor(((x >>> 0) / 4294967296) * n)
}

export const NO_EXPIRE = -1
/** replaceExisting found a candidate whose expire time has passed: expire it first (the engine's slow path). */
export const REPLACE_EXPIRED = -1

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

export class Keyspace {
  store: SlotStore
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
  private hashes: Int32Array = new Int32Array(MIN_TABLE_SIZE * 2)
  private handles: Uint32Array = new Uint32Array(this.hashes.buffer)
  private mask = MIN_TABLE_SIZE - 1
  private fill = 0
  private oldHashes: Int32Array | null = null
  private oldHandles: Uint32Array | null = null
  private oldMask = 0
  private oldFill = 0
  private rehashIdx = -1

  /** Per slot index: the LRU stamp (ms, 32 bits) or the LFU field (minutes << 8 | counter), as Redis's lru. */
  lru: Uint32Array = new Uint32Array(MIN_META_CAPACITY)
  /** Per slot index: 1 + position in the volatile list, 0 when the key has no expire time. */
  volatilePos: Uint32Array = new Uint32Array(MIN_META_CAPACITY)
  /** The dense list of volatile keys: handle, hash and expire time (unix ms) at the same position. */
  volatileHandles: Uint32Array = new Uint32Array(MIN_VOLATILE_CAPACITY)
  volatileHashes: Int32Array = new Int32Array(MIN_VOLATILE_CAPACITY)
  volatileExpires: Float64Array = new Float64Array(MIN_VOLATILE_CAPACITY)
  volatileCount = 0

  /** Asked before a table grows past GROW_LOAD with the bytes the larger table would add (maxmemory's veto). */
  growAllowed: (extraBytes: number) => boolean = () => true

  constructor(store: SlotStore) {
    this.store = store
    this.recountArrays()
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

  /** Exact bytes of every typed array the keyspace holds (recounted whenever an array is replaced). */
  arrayBytes = 0
  /** One past the highest slot index seen: a new high means the store may have grown its own slot table. */
  highIndex = 0

  /** Set by release(): the store may be closed already, so it is told nothing more until reset(). */
  private released = false

  private recountArrays(): void {
    // hashes and handles share one buffer: count it once.
    let bytes = this.hashes.byteLength + this.lru.byteLength + this.volatilePos.byteLength
    bytes += this.volatileHandles.byteLength + this.volatileHashes.byteLength + this.volatileExpires.byteLength
    if (this.oldHashes !== null) bytes += this.oldHashes.byteLength
    this.arrayBytes = bytes
    // Arrays change only on a resize, so this is the rare call that keeps the store's peak (which includes them)
    // exact between reports.
    if (!this.released) this.store.setExtraBytes(bytes)
  }

  /**
   * FNV-1a over UTF-16 code units, finished with murmur3's fmix32 so the low (index) bits mix every unit. An int32
   * (never a heap number); callers compare hashes as int32 (`(a ^ b) === 0`) so unsigned copies still match.
   */
  hashKey(key: string): number {
    let h = HASH_SEED ^ 0x811c9dc5
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
   * Overwrites an existing key's value with one native call per fingerprint match (store.replaceIfKey verifies
   * the key and replaces in the same call). Returns the key's handle, 0 when the key is absent, or
   * REPLACE_EXPIRED when a fingerprint match has an expire time past replaceNow[0]: that may be this key, and lazy expiry
   * must delete it (counted, with its event) before anything is written, so the caller takes the slow path.
   */
  replaceExisting(key: string, hash: number, value: string | Uint8Array): number {
    if (this.oldHandles !== null && this.oldHashes !== null) {
      const found = this.probeReplace(this.oldHashes, this.oldHandles, this.oldMask, key, hash, value)
      if (found !== EMPTY) return found
    }
    return this.probeReplace(this.hashes, this.handles, this.mask, key, hash, value)
  }

  /**
   * The time replaceExisting compares expire times with (unix ms), written by the caller first: a double argument
   * to a call that is not inlined, or a double stored in an object field, is boxed (a heap number per write).
   */
  readonly replaceNow = new Float64Array(1)

  private probeReplace(
    hashes: Int32Array,
    handles: Uint32Array,
    mask: number,
    key: string,
    hash: number,
    value: string | Uint8Array,
  ): number {
    const now = this.replaceNow[0]
    hash |= 0
    for (let pos = hash & mask; ; pos = (pos + 1) & mask) {
      const handle = handles[2 * pos + 1]
      if (handle === EMPTY) return EMPTY
      if (hashes[2 * pos] !== hash || handle === TOMBSTONE) continue
      const p = this.volatilePos[handle & HANDLE_INDEX_MASK]
      if (p !== 0 && now > this.volatileExpires[p - 1]) return REPLACE_EXPIRED
      if (this.store.replaceIfKey(handle, key, value)) return handle
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

  /** Stores a key known to be absent; returns its handle. Metadata is zeroed; the caller stamps lru. */
  insert(key: string, hash: number, value: string | Uint8Array): number {
    this.prepareInsert()
    const handle = this.store.put(key, value)
    const index = handle & HANDLE_INDEX_MASK
    if (index >= this.highIndex) {
      this.highIndex = index + 1
      if (index >= this.lru.length) this.growMeta(index + 1)
    }
    this.lru[index] = 0
    this.volatilePos[index] = 0
    this.place(this.hashes, this.handles, this.mask, hash, handle)
    this.fill++
    return handle
  }

  /** Removes a key by its handle and frees its slot; false when (hash, handle) is not in the table. */
  remove(handle: number, hash: number): boolean {
    if (!this.unlink(handle, hash)) return false
    this.clearExpire(handle)
    this.store.free(handle)
    if (this.rehashIdx >= 0) this.rehashStep()
    if (this.rehashIdx < 0) this.maybeShrink()
    return true
  }

  private unlink(handle: number, hash: number): boolean {
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

  private place(hashes: Int32Array, handles: Uint32Array, mask: number, hash: number, handle: number): void {
    let pos = hash & mask
    while (handles[2 * pos + 1] !== EMPTY) pos = (pos + 1) & mask
    hashes[2 * pos] = hash
    handles[2 * pos + 1] = handle
  }

  // ---- resizing ----

  private prepareInsert(): void {
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

  private maybeShrink(): void {
    const size = this.mask + 1
    if (size > MIN_TABLE_SIZE && this.fill < size * SHRINK_LOAD) {
      this.startResize(nextPowerOfTwo(this.fill * 4))
    }
  }

  private startResize(size: number): void {
    if (size === this.mask + 1) return
    const hashes = allocArray(Int32Array, size * 2)
    const handles = new Uint32Array(hashes.buffer)
    if (this.fill === 0) {
      releaseArray(this.hashes)
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
    this.recountArrays()
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
    }
  }

  private finishRehash(): void {
    while (this.rehashIdx >= 0) this.rehashStep(1 << 20, 1 << 20)
  }

  private endRehash(): void {
    if (this.oldHashes !== null) releaseArray(this.oldHashes)
    this.oldHashes = null
    this.oldHandles = null
    this.oldMask = 0
    this.oldFill = 0
    this.rehashIdx = -1
    this.recountArrays()
  }

  private growMeta(minCapacity: number): void {
    let capacity = this.lru.length
    while (capacity < minCapacity) capacity *= 2
    const lru = allocArray(Uint32Array, capacity)
    lru.set(this.lru)
    const volatilePos = allocArray(Uint32Array, capacity)
    volatilePos.set(this.volatilePos)
    releaseArray(this.lru)
    releaseArray(this.volatilePos)
    this.lru = lru
    this.volatilePos = volatilePos
    this.recountArrays()
  }

  // ---- expire times ----

  /** Lazy expiry's test: Redis's keyIsExpired (a key is expired once now is past its time). */
  isExpired(handle: number, now: number): boolean {
    const p = this.volatilePos[handle & HANDLE_INDEX_MASK]
    return p !== 0 && now > this.volatileExpires[p - 1]
  }

  /** The key's expire time in unix ms, or NO_EXPIRE. */
  getExpire(handle: number): number {
    const p = this.volatilePos[handle & HANDLE_INDEX_MASK]
    return p === 0 ? NO_EXPIRE : this.volatileExpires[p - 1]
  }

  setExpire(handle: number, hash: number, when: number): void {
    const index = handle & HANDLE_INDEX_MASK
    const p = this.volatilePos[index]
    if (p !== 0) {
      this.volatileExpires[p - 1] = when
      return
    }
    const n = this.volatileCount
    if (n === this.volatileHandles.length) this.resizeVolatile(n * 2)
    this.volatileHandles[n] = handle
    this.volatileHashes[n] = hash
    this.volatileExpires[n] = when
    this.volatileCount = n + 1
    this.volatilePos[index] = n + 1
  }

  /** Removes the key's expire time; false when it had none. */
  clearExpire(handle: number): boolean {
    const index = handle & HANDLE_INDEX_MASK
    const p = this.volatilePos[index]
    if (p === 0) return false
    this.volatilePos[index] = 0
    const last = this.volatileCount - 1
    if (p - 1 !== last) {
      const moved = this.volatileHandles[last]
      this.volatileHandles[p - 1] = moved
      this.volatileHashes[p - 1] = this.volatileHashes[last]
      this.volatileExpires[p - 1] = this.volatileExpires[last]
      this.volatilePos[moved & HANDLE_INDEX_MASK] = p
    }
    this.volatileCount = last
    const capacity = this.volatileHandles.length
    if (capacity > MIN_VOLATILE_CAPACITY && last < capacity / 4) this.resizeVolatile(capacity / 2)
    return true
  }

  private resizeVolatile(capacity: number): void {
    const n = this.volatileCount
    const handles = allocArray(Uint32Array, capacity)
    handles.set(this.volatileHandles.subarray(0, n))
    const hashes = allocArray(Int32Array, capacity)
    hashes.set(this.volatileHashes.subarray(0, n))
    const expires = allocArray(Float64Array, capacity)
    expires.set(this.volatileExpires.subarray(0, n))
    this.releaseVolatile()
    this.volatileHandles = handles
    this.volatileHashes = hashes
    this.volatileExpires = expires
    this.recountArrays()
  }

  private releaseVolatile(): void {
    releaseArray(this.volatileHandles)
    releaseArray(this.volatileHashes)
    releaseArray(this.volatileExpires)
  }

  // ---- sampling ----

  /** A uniformly random key's handle (sampledHash set), or 0 when empty. */
  randomKey(): number {
    if (this.count === 0) return EMPTY
    const oldSpan = this.oldHandles === null ? 0 : this.oldMask + 1 - this.rehashIdx
    const total = oldSpan + this.mask + 1
    // Tables are kept above SHRINK_LOAD, so random probes nearly always hit within a few tries; a table left
    // sparse in the middle of a rehash falls back to walking from a random position.
    for (let tries = 0; tries < 64; tries++) {
      const handle = this.slotHandle(randomBelow(total), oldSpan)
      if (handle !== EMPTY && handle !== TOMBSTONE) return handle
    }
    for (let r = randomBelow(total), n = 0; n < total; n++, r = r + 1 === total ? 0 : r + 1) {
      const handle = this.slotHandle(r, oldSpan)
      if (handle !== EMPTY && handle !== TOMBSTONE) return handle
    }
    return EMPTY
  }

  /**
   * Up to `count` keys read from consecutive slots starting at random positions (Redis's dictGetSomeKeys): at most
   * count * 10 slots are examined, and a long empty run jumps elsewhere. Keys may repeat.
   */
  sampleKeys(count: number, outHandles: Uint32Array, outHashes: Int32Array | Uint32Array): number {
    if (this.count === 0 || count <= 0) return 0
    const oldSpan = this.oldHandles === null ? 0 : this.oldMask + 1 - this.rehashIdx
    const total = oldSpan + this.mask + 1
    let steps = count * 10
    let got = 0
    let emptyRun = 0
    let pos = randomBelow(total)
    while (got < count && steps-- > 0) {
      const handle = this.slotHandle(pos, oldSpan)
      if (handle !== EMPTY && handle !== TOMBSTONE) {
        outHandles[got] = handle
        outHashes[got] = this.sampledHash
        got++
        emptyRun = 0
      } else if (++emptyRun >= 5 && emptyRun > count) {
        pos = randomBelow(total)
        emptyRun = 0
        continue
      }
      pos = pos + 1 === total ? 0 : pos + 1
    }
    return got
  }

  /** The handle at virtual position r (the old table's unmigrated part, then the current table). */
  private slotHandle(r: number, oldSpan: number): number {
    if (r < oldSpan && this.oldHandles !== null && this.oldHashes !== null) {
      const i = this.rehashIdx + r
      this.sampledHash = this.oldHashes[2 * i]
      return this.oldHandles[2 * i + 1]
    }
    const i = r - oldSpan
    this.sampledHash = this.hashes[2 * i]
    return this.handles[2 * i + 1]
  }

  /** The volatile key at a list position (sampledHash set). */
  volatileAt(position: number): number {
    this.sampledHash = this.volatileHashes[position]
    return this.volatileHandles[position]
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

  /** Forgets every key (the caller frees or replaces the store) and returns every array to its initial size. */
  reset(store: SlotStore): void {
    this.store = store
    this.release()
    this.released = false
    this.hashes = new Int32Array(MIN_TABLE_SIZE * 2)
    this.handles = new Uint32Array(this.hashes.buffer)
    this.mask = MIN_TABLE_SIZE - 1
    this.fill = 0
    this.lru = new Uint32Array(MIN_META_CAPACITY)
    this.volatilePos = new Uint32Array(MIN_META_CAPACITY)
    this.volatileHandles = new Uint32Array(MIN_VOLATILE_CAPACITY)
    this.volatileHashes = new Int32Array(MIN_VOLATILE_CAPACITY)
    this.volatileExpires = new Float64Array(MIN_VOLATILE_CAPACITY)
    this.volatileCount = 0
    this.highIndex = 0
    this.recountArrays()
  }

  /** Hands every large array's memory back (the engine closing, or reset replacing them). */
  release(): void {
    this.released = true
    this.endRehash()
    releaseArray(this.hashes)
    releaseArray(this.lru)
    releaseArray(this.volatilePos)
    this.releaseVolatile()
  }
}
