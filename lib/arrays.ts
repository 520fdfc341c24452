import { allocArray, releaseArray } from './pages.js'

// Where the keyspace's typed arrays come from (dict.ts, keyspace.ts). A private engine takes them from pages.ts
// (kernel pages when large, handed back at once); a shared engine from regions of growable SharedArrayBuffers made
// up front, so a resize never needs a new buffer handed to another thread (share.ts RegionArrays, ARCHITECTURE.md
// "Sharing"). Resizes are rare: the hot paths never come here.

export interface TypedArrayConstructor<T> {
  readonly BYTES_PER_ELEMENT: number
  new (length: number): T
  new (buffer: ArrayBuffer): T
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T
}

export type KeyspaceArray = Int32Array | Uint32Array | Float64Array

/**
 * The arrays the keyspace holds, each with a region of its own when shared (regions 0 and 1 are the table's two,
 * see `table`).
 */
export type ArrayRole = 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11
export const ROLE_LRU = 2
export const ROLE_VOLATILE_POS = 3
export const ROLE_VOLATILE_HANDLES = 4
export const ROLE_VOLATILE_HASHES = 5
export const ROLE_VOLATILE_EXPIRES = 6
// The adaptive policies' arrays (adaptive.ts): the sketch, the two ghosts, the window queue's two.
export const ROLE_SKETCH = 7
export const ROLE_GHOST_WINDOW = 8
export const ROLE_GHOST_MAIN = 9
export const ROLE_RING_HANDLES = 10
export const ROLE_RING_HASHES = 11

export interface ArraySource {
  /**
   * A zeroed table of `length` int32s sharing memory with neither `current` nor `old` (the tables still in use;
   * a rehash reads one while filling the other).
   */
  table(length: number, current: Int32Array | null, old: Int32Array | null): Int32Array
  /** A zeroed array of `length` elements for `role`, replacing the role's current array. */
  fresh<T extends KeyspaceArray>(ctor: TypedArrayConstructor<T>, length: number, role: ArrayRole): T
  /** The role's array at `length` elements, its first min(length, old.length) elements kept, the rest zero. */
  resized<T extends KeyspaceArray>(ctor: TypedArrayConstructor<T>, old: T, length: number, role: ArrayRole): T
  /** A replaced array's memory back (after the store has been rebound to its successor). */
  release(array: KeyspaceArray): void
  /**
   * A table the keyspace has moved off for good (a rehash done, or an empty table replaced), after the rebind:
   * released, and for a shared engine its region's pages handed back (no thread uses them any more).
   */
  moved(table: Int32Array): void
  /**
   * The role's array as it is now, still readable after `fresh` or `resized` for the same role returned its
   * successor: the array itself where a successor is new memory, a copy where it reuses the same region.
   */
  keep<T extends KeyspaceArray>(array: T): T
}

/** A private engine's arrays: pages.ts, copied on resize. */
export const LOCAL_ARRAYS: ArraySource = {
  table: (length) => allocArray(Int32Array, length),
  fresh: (ctor, length) => allocArray(ctor, length),
  resized: (ctor, old, length) => {
    const array = allocArray(ctor, length)
    array.set(old.length <= length ? old : old.subarray(0, length))
    return array
  },
  release: (array) => releaseArray(array),
  moved: (table) => releaseArray(table),
  keep: (array) => array,
}
