import { allocArray, releaseArray } from './pages.js'

// A FIFO of (handle, hash) pairs in two typed arrays used as a ring: the adaptive policies' window queue
// (adaptive.ts). Its arrays grow by a quarter when full and shrink when three quarters empty, since every entry is
// counted in used_memory (ARCHITECTURE.md, "Memory").

const MIN_RING = 16

export class HandleRing {
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
    releaseArray(this.handles)
    releaseArray(this.hashes)
    this.handles = new Uint32Array(0)
    this.hashes = new Int32Array(0)
    this.clear()
  }

  /** Re-lays the entries from position 0 in arrays of `capacity` entries. */
  private resize(capacity: number): void {
    const handles = allocArray(Uint32Array, capacity)
    const hashes = allocArray(Int32Array, capacity)
    const size = this.handles.length
    for (let i = 0, at = this.head; i < this.length; i++) {
      handles[i] = this.handles[at]
      hashes[i] = this.hashes[at]
      if (++at === size) at = 0
    }
    releaseArray(this.handles)
    releaseArray(this.hashes)
    this.handles = handles
    this.hashes = hashes
    this.head = 0
  }
}
