import { native } from './native.js'

// Typed arrays for the keyspace's tables. A replaced typed array stays resident until V8 collects it, which it
// may not do for a long time: during a 64 MB fill, tables left behind by resizes held 0-14 MB of RSS over
// maxmemory. Large arrays are therefore made over kernel pages (native/pages) and handed back the moment they are
// replaced; small ones stay ordinary typed arrays, as a page each would cost more than it saves.

/** Arrays of at least this many bytes live on kernel pages. */
export const PAGED_MIN_BYTES = 64 * 1024

const paged = new WeakSet<ArrayBuffer>()

interface TypedArrayConstructor<T> {
  readonly BYTES_PER_ELEMENT: number
  new (length: number): T
  new (buffer: ArrayBuffer): T
}

/** A zeroed array of `length` elements, on kernel pages when it is large. */
export function allocArray<T>(ctor: TypedArrayConstructor<T>, length: number): T {
  const bytes = length * ctor.BYTES_PER_ELEMENT
  if (bytes < PAGED_MIN_BYTES) return new ctor(length)
  const buffer = native.pages.allocate(bytes)
  paged.add(buffer)
  return new ctor(buffer)
}

/** Hands a replaced array's memory back now (paged arrays; the GC takes care of small ones). */
export function releaseArray(array: { buffer: ArrayBufferLike }): void {
  const buffer = array.buffer
  if (buffer instanceof ArrayBuffer && paged.has(buffer)) {
    paged.delete(buffer)
    native.pages.release(buffer)
  }
}

/** Whether an array lives on kernel pages (for tests). */
export function isPaged(array: { buffer: ArrayBufferLike }): boolean {
  return array.buffer instanceof ArrayBuffer && paged.has(array.buffer)
}
