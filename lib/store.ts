import { native, type NativeStore } from './native.js'

/**
 * Slots of native memory, each holding one key and its value in a single allocation (like Redis's embedded
 * strings), in the arena the store was created for. Internal API for the engine.
 *
 * A handle is a 32-bit unsigned integer: the slot index in its low HANDLE_INDEX_BITS bits and a generation
 * (1..63) above them, so a stale handle is refused with a RangeError instead of reading a reused slot.
 * Handles never have generation 0, so 0 is free for use as "empty" in tables.
 * Keys are read from JS as UTF-16 and stored as WTF-8 (UTF-8 that also encodes lone surrogates), so every JS
 * string is its own key, and no
 * caller-supplied encoding hint is needed or trusted.
 */
export interface SlotStore {
  /** The scratch buffer `read` copies into (registered once; never reallocated by native code). */
  readonly scratch: Uint8Array
  /** Stores key (as UTF-8) + value; returns the new handle. */
  put(key: string, value: string | Uint8Array): number
  /** Replaces the value in place (reallocating in the same arena); the handle stays valid. */
  replace(handle: number, value: string | Uint8Array): void
  keyEquals(handle: number, key: string): boolean
  /** Value length, or -1 when the slot's key is not `key`; the value is in `scratch` when it fits. */
  read(handle: number, key: string): number
  /** The value decoded as UTF-8, or undefined when the slot's key is not `key`. */
  readStringIfKey(handle: number, key: string): string | undefined
  /** Copies min(length, target.length - offset) bytes to target at offset; returns the value's full length. */
  readInto(handle: number, target: Uint8Array, offset?: number): number
  readString(handle: number): string
  key(handle: number): string
  valueLength(handle: number): number
  /** The allocator's usable size of the slot's allocation (what usedBytes counts for it). */
  usableSize(handle: number): number
  free(handle: number): void
  /** Frees handles[0..count); every handle is validated before any is freed. */
  freeMany(handles: Uint32Array, count: number): void
  /** Usable bytes of live slots plus the native slot table. */
  usedBytes(): number
  count(): number
  /** The jemalloc arena this store allocates from, or -1 when the allocator has no arenas. */
  readonly arena: number
  /** Frees every slot and the arena; later calls throw ERR_CLOSED. */
  close(): void
}

export const HANDLE_INDEX_BITS = 26
export const HANDLE_INDEX_MASK = (1 << HANDLE_INDEX_BITS) - 1
/** Largest value (and key) a slot accepts: Redis's proto-max-bulk-len. */
export const MAX_VALUE_BYTES = 512 * 1024 * 1024

export function handleIndex(handle: number): number {
  return handle & HANDLE_INDEX_MASK
}

export interface StoreOptions {
  /** Allocate in a new private arena (jemalloc only; ignored elsewhere). Default true. */
  ownArena?: boolean
  /** Bytes of the scratch buffer used by `read`. Default 64 KiB. */
  scratchBytes?: number
}

export function createStore(options: StoreOptions = {}): NativeStore {
  return new native.Store(options.ownArena ?? true, options.scratchBytes ?? 65536)
}
