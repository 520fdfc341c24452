import { LOCAL_ARRAYS, ROLE_RING_HANDLES, ROLE_RING_HASHES, type ArraySource } from './arrays.js'

// A FIFO of (handle, hash) pairs in two typed arrays used as a ring: the adaptive policies' window queue
// (adaptive.ts). Its arrays grow by a quarter when full and shrink when three quarters empty, since every entry is
// counted in used_memory (ARCHITECTURE.md, "Memory").

const MIN_RING = 16

export class HandleRing {
  /** The scalars a shared engine keeps in its header (share.ts); `handles` and `hashes` are its arrays. */
  static readonly SHARED_SCALARS = ['head', 'length'] as const
  /** Where the arrays come from: pages.ts, or a shared engine's regions (arrays.ts). */
  arrays: ArraySource = LOCAL_ARRAYS
  private handles = new Uint32Array(0)
  private hashes = new Int32Array(0)
  private head = 0
  length = 0

  get byteLength(): number {
    return this.handles.byteLength + this.hashes.byteLength
  }

  /** The oldest entry's handle and hash (the ring must not be empty). */
  headHandle(): number {
    return this.handles[this.head]
  }

  headHash(): number {
    return this.hashes[this.head]
  }

  push(handle: number, hash: number): void {
    const size = this.handles.length
    if (this.length === size) this.resize(Math.max(MIN_RING, size + (size >>> 2)))
    let at = this.head + this.length
    if (at >= this.handles.length) at -= this.handles.length
    this.handles[at] = handle
    this.hashes[at] = hash
    this.length++
  }

  /** Drops the oldest entry. */
  shift(): void {
    if (this.length === 0) return
    if (++this.head === this.handles.length) this.head = 0
    if (--this.length < this.handles.length >>> 2 && this.handles.length > MIN_RING) {
      this.resize(Math.max(MIN_RING, this.length * 2))
    }
  }

  clear(): void {
    this.head = 0
    this.length = 0
  }

  release(): void {
    const arrays = this.arrays
    arrays.release(this.handles)
    arrays.release(this.hashes)
    this.handles = arrays.fresh(Uint32Array, 0, ROLE_RING_HANDLES)
    this.hashes = arrays.fresh(Int32Array, 0, ROLE_RING_HASHES)
    this.clear()
  }

  /** Re-lays the entries from position 0 in arrays of `capacity` entries. */
  private resize(capacity: number): void {
    const arrays = this.arrays
    // A shared engine's new arrays reuse the old ones' regions: the entries are copied out first.
    const oldHandles = arrays.keep(this.handles)
    const oldHashes = arrays.keep(this.hashes)
    const handles = arrays.fresh(Uint32Array, capacity, ROLE_RING_HANDLES)
    const hashes = arrays.fresh(Int32Array, capacity, ROLE_RING_HASHES)
    const size = oldHandles.length
    for (let i = 0, at = this.head; i < this.length; i++) {
      handles[i] = oldHandles[at]
      hashes[i] = oldHashes[at]
      if (++at === size) at = 0
    }
    arrays.release(this.handles)
    arrays.release(this.hashes)
    this.handles = handles
    this.hashes = hashes
    this.head = 0
  }
}
