import { markAsUntransferable } from 'node:worker_threads'
import { native, type ArenaStats } from './native.js'

export type { ArenaStats }

/**
 * Slots of native memory, each holding one key and its value in a single allocation (like Redis's embedded
 * strings), in the arena the store was created for. Internal API for the engine.
 *
 * A handle is a 32-bit unsigned integer: the slot index in its low HANDLE_INDEX_BITS bits and a generation
 * (1..MAX_GENERATION) above them, so a stale handle is refused with a RangeError instead of reading a reused
 * slot, and every handle is below 2^31 (a small integer in V8, never a heap-allocated number).
 * Handles never have generation 0, so 0 is free for use as "empty" in tables.
 * Keys are read from JS as UTF-16 and stored as WTF-8 (UTF-8 that also encodes lone surrogates), so every JS
 * string is its own key, and no caller-supplied encoding hint is needed or trusted.
 */
export interface SlotStore {
  /**
   * The scratch buffer `read` copies into: native memory seen through an external ArrayBuffer (never reallocated;
   * freed once the store is closed and the buffer collected).
   */
  readonly scratch: Uint8Array
  /** What the allocator charged for the scratch block: part of usedBytes(), overhead rather than data. */
  readonly scratchUsable: number
  /** Stores key (as WTF-8) + value; returns the new handle. */
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
  /** Frees the slot; returns the usable bytes released. */
  free(handle: number): number
  /** Frees handles[0..count); every handle is validated before any is freed. Returns the usable bytes released. */
  freeMany(handles: Uint32Array, count: number): number
  /** Replaces the value when the slot's key is `key` (one native call per overwrite); false otherwise. */
  replaceIfKey(handle: number, key: string, value: string | Uint8Array): boolean
  /**
   * Appends bytes (a string as UTF-8) to the value, growing the slot through the allocator (in place when its
   * size class allows); returns the new length. ERR_VALUE_TOO_LARGE past 512 MB.
   */
  appendValue(handle: number, bytes: string | Uint8Array): number
  /** Writes bytes at offset, the value grown (the gap zeroed) when they reach past its end; the new length. */
  writeRange(handle: number, offset: number, bytes: string | Uint8Array): number
  /** Copies value[start, start + target.length), cut at the value's end, into target; the bytes copied. */
  readRange(handle: number, start: number, target: Uint8Array): number
  /** Sets bit `bitOffset` (0 = the high bit of byte 0) to `bit`, growing the value zeroed; the old bit. */
  setBit(handle: number, bitOffset: number, bit: number): number
  /** Set bits in bytes [start, end] (inclusive, within the value), the first and last byte ANDed with a mask. */
  bitcount(handle: number, start: number, end: number, firstMask: number, lastMask: number): number
  /** The first bit equal to `bit` among bits [startBit, endBit] (within the value), or -1. */
  bitpos(handle: number, bit: number, startBit: number, endBit: number): number
  /** Gives the slot a new key, its value kept in place (RENAME); the handle stays valid. */
  rekey(handle: number, key: string): void
  /** A new slot for `key` holding a copy of the slot's value (COPY); the new handle. */
  duplicate(handle: number, key: string): number
  /** Usable bytes of live slots, the native slot table and the scratch block. */
  usedBytes(): number
  /** Bytes the owner holds outside the store (the keyspace's arrays), counted in the peak; call when they change. */
  setExtraBytes(bytes: number): void
  /** The highest usedBytes() + extra bytes since the store opened, checked wherever either grows. */
  peakBytes(): number
  count(): number
  /** The jemalloc arena this store allocates from, or -1 when the allocator has no arenas. */
  readonly arena: number
  /** Frees every slot and the arena; later calls throw ERR_CLOSED. */
  close(): void
  /**
   * Optional capability: stats of the store's own jemalloc arena (its thread cache flushed first, so `allocated`
   * is exact). Absent on stores that have no arena to report on.
   */
  arenaStats?(): ArenaStats
  /**
   * Optional capability: the resident bytes of the store's heap, read cheaply (no flush, no per-bin walk): its own
   * arena's (jemalloc), or its share by used memory of the private allocator's (tcmalloc, mimalloc).
   */
  heapResident?(): number
  /**
   * Optional capability: one bounded step of active defragmentation (jemalloc only): scans up to maxScan slots
   * from cursor and moves those the allocator hints sit in sparse slabs. Returns [nextCursor (0 after the last
   * slot), hits, misses]. Absent on stores that cannot move their slots.
   */
  defragStep?(cursor: number, maxScan: number): [next: number, hits: number, misses: number]
}

/**
 * The fused hot paths (ARCHITECTURE.md, "The path of a GET"): the native store probes the keyspace's tables itself,
 * so a GET or an overwrite is one call. The keyspace binds its arrays after every change (Keyspace.arraysChanged).
 * The cells are native memory the calls leave their by-products in (CELL_* and I32_* below); `nativeClock` true
 * has the call read the wall clock (and write it to cells[CELL_NOW]), false makes it use the time JS wrote there.
 */
/** The keyspace's arrays the fused paths read (dict.ts and keyspace.ts lay them out). */
export interface TableArrays {
  table: Int32Array
  /** The table being rehashed away, or null. */
  oldTable: Int32Array | null
  lru: Uint32Array
  volatilePos: Uint32Array
  volatileExpires: Float64Array
}

export interface FusedStore extends SlotStore {
  readonly cells: Float64Array
  readonly cellsI32: Int32Array
  /** `seed` is dict.ts's hash seed; `lfu` and `exactStamps` say how lookups stamp the lru field. */
  bindTables(arrays: TableArrays, seed: number, lfu: boolean, exactStamps: boolean): void
  unbindTables(): void
  /**
   * The value's length (its bytes in scratch when they fit), -1 when absent, -2 when present but expired. `hash` is
   * the keyspace's hash of the key (Dict.hashKey).
   */
  get(key: string, hash: number, nativeClock: boolean): number
  /** Replaces an existing key's value: its handle, 0 when absent, REPLACE_EXPIRED (-1) for a stale hash match. */
  upsert(key: string, hash: number, value: string | Uint8Array, nativeClock: boolean): number
  /** Copies values back to back from offset; returns the index of the first key not processed. */
  mgetInto(keys: readonly string[], start: number, target: Uint8Array, offset: number, lengths: Int32Array, nativeClock: boolean): number
}

/** Whether a store has the fused paths (the native one does; test stand-ins may not). */
export function isFused(store: SlotStore): store is FusedStore {
  return (store as Partial<FusedStore>).upsert !== undefined
}

// The cells' layout (native/store_state.h Cells): Float64 indices, and Int32 indices over the same bytes.
export const CELL_NOW = 0
export const CELL_USED_BYTES = 1
export const CELL_BATCH_OFFSET = 4
export const I32_HANDLE = 4
export const I32_HASH = 5
export const I32_HITS = 6
export const I32_MISSES = 7
export const I32_VOLATILE_KEYS = 10

/** The native store: both optional capabilities present (they throw ERR_UNSUPPORTED on builds without jemalloc). */
export interface NativeStore extends FusedStore {
  arenaStats(): ArenaStats
  heapResident(): number
  defragStep(cursor: number, maxScan: number): [next: number, hits: number, misses: number]
}

// The native store's layout, defined once in native/store.h (Store::layout()) and read here once.
const layout = native.layout
/** Bits of a handle that hold the slot index; the generation sits above them. */
export const HANDLE_INDEX_BITS = layout.handleIndexBits
export const HANDLE_INDEX_MASK = (1 << HANDLE_INDEX_BITS) - 1
/** Generations run 1..MAX_GENERATION, then wrap to 1 (never 0, and every handle stays below 2^31). */
export const MAX_GENERATION = layout.maxGeneration
/** Slots a store can hold: index HANDLE_INDEX_MASK itself is never issued. */
export const MAX_SLOTS = layout.maxSlots
/** Largest value (and key) a slot accepts: Redis's proto-max-bulk-len. */
export const MAX_VALUE_BYTES = layout.maxBytes
/** Bytes of a slot beyond its key and value (the native SlotHeader: key and value lengths). */
export const SLOT_HEADER_BYTES = layout.slotHeaderBytes
/** Bytes of the native store's slot table per slot (Entry: pointer, usable size, generation). */
export const SLOT_TABLE_ENTRY_BYTES = layout.slotTableEntryBytes
/** Slots per slot-table chunk the native store allocates at a time. */
export const SLOT_TABLE_CHUNK_SLOTS = layout.slotTableChunkSlots

export function handleIndex(handle: number): number {
  return handle & HANDLE_INDEX_MASK
}

export interface StoreOptions {
  /** Allocate in a new private arena (jemalloc only; ignored elsewhere). Default true. */
  ownArena?: boolean
  /** Bytes of the scratch buffer used by `read`. Default 64 KiB. */
  scratchBytes?: number
}

/** A store other threads can attach to (ARCHITECTURE.md "Sharing"): the native store's sharing calls. */
export interface ShareableStore extends NativeStore {
  /** Makes the store attachable; the token `attachStore` takes. */
  share(): number
  /** Where the engine lock lives and this engine's tag, so a dying thread's teardown can release and poison it. */
  setLock(words: Int32Array, lockIndex: number, poisonIndex: number, tag: number): void
  /** FLUSHALL of a shared store, in place. */
  reopen(): void
}

const fns = native.store
// A store dropped without close() still gives its native memory back, after the GC collects it.
const unclosed = new FinalizationRegistry<number>((id) => fns.close(id))

/** The native store behind a thin class: each method is one N-API call with the store's id first. */
class Store implements NativeStore {
  readonly scratch: Uint8Array
  readonly scratchUsable: number
  readonly cells: Float64Array
  readonly cellsI32: Int32Array
  private readonly id: number
  private closed = false

  constructor(ownArena: boolean, scratchBytes: number, attachToken = 0, attachedScratchUsable = 0) {
    if (!Number.isInteger(scratchBytes) || scratchBytes < 16 || scratchBytes > 64 * 1024 * 1024) {
      throw new RangeError('scratchBytes must be an integer from 16 to 67108864')
    }
    this.id = attachToken === 0 ? fns.open(ownArena, scratchBytes) : fns.attach(attachToken, scratchBytes)
    unclosed.register(this, this.id, this)
    this.scratch = new Uint8Array(fns.scratch(this.id))
    const cells = fns.cells(this.id)
    this.cells = new Float64Array(cells)
    this.cellsI32 = new Int32Array(cells)
    markAsUntransferable(cells)
    // A new store holds nothing but its scratch and cells blocks (an attached one: blocks of the sharer's size).
    this.scratchUsable = attachToken === 0 ? fns.usedBytes(this.id) : attachedScratchUsable
    // Native code owns this memory, so a transfer cannot harm it; refusing transfers keeps the view usable.
    markAsUntransferable(this.scratch.buffer)
  }

  get arena(): number {
    return fns.arena(this.id)
  }

  put(key: string, value: string | Uint8Array): number {
    return fns.put(this.id, key, value)
  }
  replace(handle: number, value: string | Uint8Array): void {
    fns.replace(this.id, handle, value)
  }
  replaceIfKey(handle: number, key: string, value: string | Uint8Array): boolean {
    return fns.replaceIfKey(this.id, handle, key, value)
  }
  keyEquals(handle: number, key: string): boolean {
    return fns.keyEquals(this.id, handle, key)
  }
  read(handle: number, key: string): number {
    return fns.read(this.id, handle, key)
  }
  readStringIfKey(handle: number, key: string): string | undefined {
    return fns.readStringIfKey(this.id, handle, key)
  }
  readInto(handle: number, target: Uint8Array, offset?: number): number {
    return fns.readInto(this.id, handle, target, offset)
  }
  readString(handle: number): string {
    return fns.readString(this.id, handle)
  }
  key(handle: number): string {
    return fns.key(this.id, handle)
  }
  valueLength(handle: number): number {
    return fns.valueLength(this.id, handle)
  }
  usableSize(handle: number): number {
    return fns.usableSize(this.id, handle)
  }
  free(handle: number): number {
    return fns.free(this.id, handle)
  }
  freeMany(handles: Uint32Array, count: number): number {
    return fns.freeMany(this.id, handles, count)
  }
  appendValue(handle: number, bytes: string | Uint8Array): number {
    return fns.appendValue(this.id, handle, bytes)
  }
  writeRange(handle: number, offset: number, bytes: string | Uint8Array): number {
    return fns.writeRange(this.id, handle, offset, bytes)
  }
  readRange(handle: number, start: number, target: Uint8Array): number {
    return fns.readRange(this.id, handle, start, target)
  }
  setBit(handle: number, bitOffset: number, bit: number): number {
    return fns.setBit(this.id, handle, bitOffset, bit)
  }
  bitcount(handle: number, start: number, end: number, firstMask: number, lastMask: number): number {
    return fns.bitcount(this.id, handle, start, end, firstMask, lastMask)
  }
  bitpos(handle: number, bit: number, startBit: number, endBit: number): number {
    return fns.bitpos(this.id, handle, bit, startBit, endBit)
  }
  rekey(handle: number, key: string): void {
    fns.rekey(this.id, handle, key)
  }
  duplicate(handle: number, key: string): number {
    return fns.duplicate(this.id, handle, key)
  }
  /** Read from the cell the store keeps current (no call); ERR_CLOSED once closed, as every method. */
  usedBytes(): number {
    if (this.closed) return fns.usedBytes(this.id)
    return this.cells[CELL_USED_BYTES]
  }
  get(key: string, hash: number, nativeClock: boolean): number {
    return fns.get(this.id, key, hash, nativeClock)
  }
  upsert(key: string, hash: number, value: string | Uint8Array, nativeClock: boolean): number {
    return fns.upsert(this.id, key, hash, value, nativeClock)
  }
  mgetInto(keys: readonly string[], start: number, target: Uint8Array, offset: number, lengths: Int32Array, nativeClock: boolean): number {
    return fns.mgetInto(this.id, keys, start, target, offset, lengths, nativeClock)
  }
  bindTables(a: TableArrays, seed: number, lfu: boolean, exactStamps: boolean): void {
    fns.bindTables(this.id, a.table, a.oldTable, a.lru, a.volatilePos, a.volatileExpires, seed, lfu, exactStamps)
  }
  /** Nothing to forget once closed: closing dropped the bound arrays. */
  unbindTables(): void {
    if (!this.closed) fns.unbindTables(this.id)
  }
  setExtraBytes(bytes: number): void {
    fns.setExtraBytes(this.id, bytes)
  }
  peakBytes(): number {
    return fns.peakBytes(this.id)
  }
  count(): number {
    return fns.count(this.id)
  }
  arenaStats(): ArenaStats {
    return fns.arenaStats(this.id)
  }
  heapResident(): number {
    return fns.heapResident(this.id)
  }
  defragStep(cursor: number, maxScan: number): [next: number, hits: number, misses: number] {
    return fns.defragStep(this.id, cursor, maxScan)
  }
  close(): void {
    unclosed.unregister(this)
    this.closed = true
    fns.close(this.id)
  }
  share(): number {
    return fns.share(this.id)
  }
  setLock(words: Int32Array, lockIndex: number, poisonIndex: number, tag: number): void {
    fns.setLock(this.id, words, lockIndex, poisonIndex, tag)
  }
  reopen(): void {
    fns.reopen(this.id)
  }
}

export function createStore(options: StoreOptions = {}): NativeStore {
  return new Store(options.ownArena ?? true, options.scratchBytes ?? 65536)
}

/** Whether a store can be shared (the native one; test stores cannot). */
export function isShareable(store: SlotStore): store is ShareableStore {
  return store instanceof Store
}

/** This thread's store over a shared one (ARCHITECTURE.md "Sharing"); ERR_CLOSED once every engine over it closed. */
export function attachStore(token: number, scratchBytes: number, scratchUsable: number): ShareableStore {
  return new Store(true, scratchBytes, token, scratchUsable)
}
