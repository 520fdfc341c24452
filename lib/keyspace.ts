import { markAsUntransferable } from 'node:worker_threads'
import { Dict, EMPTY, TOMBSTONE } from './dict.js'
import { ROLE_LRU, ROLE_VOLATILE_EXPIRES, ROLE_VOLATILE_HANDLES, ROLE_VOLATILE_HASHES, ROLE_VOLATILE_POS } from './arrays.js'
import { HANDLE_INDEX_MASK, I32_VOLATILE_KEYS, isFused, type SlotStore } from './store.js'

// The keyspace: the hash table (dict.ts) plus per-key metadata in parallel typed arrays indexed by the handle's
// slot index, and a dense list of volatile keys (Redis's db->expires). No JS object or string is kept per key, so
// the GC does no work that grows with the cache and every byte is counted (ARCHITECTURE.md, "Memory").

const MIN_META_CAPACITY = 64
const MIN_VOLATILE_CAPACITY = 16
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

export class Keyspace extends Dict {
  /** Per slot index: the LRU stamp (ms, 32 bits) or the LFU field (minutes << 8 | counter), as Redis's lru. */
  lru: Uint32Array = new Uint32Array(MIN_META_CAPACITY)
  /** Per slot index: 1 + position in the volatile list, 0 when the key has no expire time. */
  volatilePos: Uint32Array = new Uint32Array(MIN_META_CAPACITY)
  /** The dense list of volatile keys: handle, hash and expire time (unix ms) at the same position. */
  volatileHandles: Uint32Array = new Uint32Array(MIN_VOLATILE_CAPACITY)
  volatileHashes: Int32Array = new Int32Array(MIN_VOLATILE_CAPACITY)
  volatileExpires: Float64Array = new Float64Array(MIN_VOLATILE_CAPACITY)
  #volatileCount = 0
  /** The fused store's cells, where the count of volatile keys is kept for its lookups (null: not fused). */
  private volatileCell: Int32Array | null = null

  get volatileCount(): number {
    return this.#volatileCount
  }

  // The fused lookups skip the expire list when it is empty, as Redis's getExpire does when db->expires is.
  set volatileCount(n: number) {
    this.#volatileCount = n
    if (this.volatileCell !== null) this.volatileCell[I32_VOLATILE_KEYS] = n
  }

  constructor(store: SlotStore) {
    super(store)
    this.arraysChanged()
  }

  /** Exact bytes of every typed array the keyspace holds (recounted whenever an array is replaced). */
  arrayBytes = 0
  /** One past the highest slot index seen: a new high means the store may have grown its own slot table. */
  highIndex = 0

  /** Set by release(): the store may be closed already, so it is told nothing more until reset(). */
  private released = false

  protected arraysChanged(): void {
    let bytes = this.tableBytes() + this.lru.byteLength + this.volatilePos.byteLength
    bytes += this.volatileHandles.byteLength + this.volatileHashes.byteLength + this.volatileExpires.byteLength
    this.arrayBytes = bytes
    if (this.released) return
    // Arrays change only on a resize, so this is the rare call that keeps the store's peak (which includes them)
    // exact between reports.
    this.store.setExtraBytes(bytes)
    this.bindTables()
  }

  /** Whether the lru field holds LFU counters (the fused paths then leave it to JS); set with bindTables(). */
  lfu = false
  /**
   * Whether LRU stamps must be exact to the ms (an LRU policy orders evictions by them); otherwise the fused paths
   * stamp with the cheaper coarse clock (ARCHITECTURE.md, "Clock"). Set with bindTables().
   */
  exactStamps = false

  /**
   * Gives the store the arrays as they are now, for its fused lookups (store.ts FusedStore). Called after every
   * replacement of an array and before the replaced one is released (ARCHITECTURE.md, "Pointers").
   */
  bindTables(): void {
    const store = this.store
    if (!isFused(store)) return
    this.volatileCell = store.cellsI32
    this.volatileCell[I32_VOLATILE_KEYS] = this.#volatileCount
    // Native code keeps pointers into these while bound: no transfer may detach them (ARCHITECTURE.md, "Pointers").
    for (const array of [this.hashes, this.oldHashes, this.lru, this.volatilePos, this.volatileExpires]) {
      // A SharedArrayBuffer cannot be detached (a transfer shares it), and a shared engine's regions are never freed
      // while an engine holds them (ARCHITECTURE.md "Sharing").
      if (array !== null && !(array.buffer instanceof SharedArrayBuffer)) markAsUntransferable(array.buffer)
    }
    const arrays = { table: this.hashes, oldTable: this.oldHashes, lru: this.lru, volatilePos: this.volatilePos, volatileExpires: this.volatileExpires }
    store.bindTables(arrays, this.seed >>> 0, this.lfu, this.exactStamps)
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

  /** Stores a key known to be absent; returns its handle. Metadata is zeroed; the caller stamps lru. */
  insert(key: string, hash: number, value: string | Uint8Array): number {
    this.prepareInsert()
    return this.placeNew(hash, this.store.put(key, value))
  }

  /**
   * COPY's insert, as insert() (kept apart from that hot path): a key known to be absent gets a native copy of the
   * value of slot `source`, which never passes through JavaScript.
   */
  insertCopy(key: string, hash: number, source: number): number {
    this.prepareInsert()
    return this.placeNew(hash, this.store.duplicate(source, key))
  }

  /** A new slot's handle into the table, its metadata zeroed (growing the metadata arrays to reach it). */
  private placeNew(hash: number, handle: number): number {
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

  /**
   * RENAME's move: the slot gets its new key natively (the value stays where it is) and the same handle is filed
   * under the new hash, its metadata (access clock, expire time) kept. The new key must be absent.
   */
  rekey(handle: number, oldHash: number, key: string, newHash: number): void {
    this.store.rekey(handle, key)
    if (!this.unlink(handle, oldHash)) throw new RangeError(`handle ${handle} is not in the table`)
    this.prepareInsert()
    this.place(this.hashes, this.handles, this.mask, newHash, handle)
    this.fill++
    const p = this.volatilePos[handle & HANDLE_INDEX_MASK]
    if (p !== 0) this.volatileHashes[p - 1] = newHash
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

  private growMeta(minCapacity: number): void {
    let capacity = this.lru.length
    while (capacity < minCapacity) capacity *= 2
    const lru = this.arrays.resized(Uint32Array, this.lru, capacity, ROLE_LRU)
    const volatilePos = this.arrays.resized(Uint32Array, this.volatilePos, capacity, ROLE_VOLATILE_POS)
    const replaced = [this.lru, this.volatilePos]
    this.lru = lru
    this.volatilePos = volatilePos
    this.arraysChanged()
    for (const array of replaced) this.arrays.release(array)
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
    // The list's first volatileCount entries are kept (they fit: it is resized at 1/4 and full).
    const handles = this.arrays.resized(Uint32Array, this.volatileHandles, capacity, ROLE_VOLATILE_HANDLES)
    const hashes = this.arrays.resized(Int32Array, this.volatileHashes, capacity, ROLE_VOLATILE_HASHES)
    const expires = this.arrays.resized(Float64Array, this.volatileExpires, capacity, ROLE_VOLATILE_EXPIRES)
    const replaced = [this.volatileHandles, this.volatileHashes, this.volatileExpires]
    this.volatileHandles = handles
    this.volatileHashes = hashes
    this.volatileExpires = expires
    this.arraysChanged()
    for (const array of replaced) this.arrays.release(array)
  }

  private releaseVolatile(): void {
    this.arrays.release(this.volatileHandles)
    this.arrays.release(this.volatileHashes)
    this.arrays.release(this.volatileExpires)
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

  /** Forgets every key (the caller frees or replaces the store) and returns every array to its initial size. */
  reset(store: SlotStore): void {
    this.store = store
    const tables = [this.hashes, this.oldHashes]
    this.release()
    this.released = false
    this.resetTable()
    // The emptied tables are moved off for good (a shared engine's regions hand their pages back).
    for (const table of tables) if (table !== null && table.buffer !== this.hashes.buffer) this.arrays.moved(table)
    this.lru = this.arrays.fresh(Uint32Array, MIN_META_CAPACITY, ROLE_LRU)
    this.volatilePos = this.arrays.fresh(Uint32Array, MIN_META_CAPACITY, ROLE_VOLATILE_POS)
    this.volatileHandles = this.arrays.fresh(Uint32Array, MIN_VOLATILE_CAPACITY, ROLE_VOLATILE_HANDLES)
    this.volatileHashes = this.arrays.fresh(Int32Array, MIN_VOLATILE_CAPACITY, ROLE_VOLATILE_HASHES)
    this.volatileExpires = this.arrays.fresh(Float64Array, MIN_VOLATILE_CAPACITY, ROLE_VOLATILE_EXPIRES)
    this.volatileCount = 0
    this.highIndex = 0
    this.arraysChanged()
  }

  /** Hands every large array's memory back (the engine closing, or reset replacing them). */
  release(): void {
    if (!this.released && isFused(this.store)) this.store.unbindTables()
    this.released = true
    this.releaseTable()
    this.arrays.release(this.lru)
    this.arrays.release(this.volatilePos)
    this.releaseVolatile()
  }
}
