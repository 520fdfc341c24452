import { createRequire } from 'node:module'
import { ArenaKVError } from './errors.js'
import { missingBuildError, resolveBinary } from './binaries.js'

// The raw addon: what the .node exports and the types its functions return. lib/store.ts builds the store on it.

/** Byte counts the allocator reports; null where this allocator cannot say (never a made-up figure). */
export interface AllocatorInfo {
  allocated: number | null
  active: number | null
  resident: number | null
  retained: number | null
  mapped: number | null
  metadata: number | null
  dirty: number | null
  muzzy: number | null
  fragSmallbinsBytes: number | null
}

/** An arena's stats as the addon returns them (arenaStats, store.arenaStats). */
export interface ArenaStats {
  allocated: number
  active: number
  dirty: number
  muzzy: number
  resident: number
  mapped: number
  nmalloc: number
  ndalloc: number
  fragSmallbinsBytes: number
  smallAllocated: number
  largeAllocated: number
  /** The arena's own bookkeeping (jemalloc's base and internal allocations). */
  metadata: number
  /** Virtual memory kept mapped for reuse; not resident. */
  retained: number
}

export interface Capabilities {
  arenas: boolean
  /** Whether purge() is sure to return the free pages it finds to the OS (false on mimalloc 2.0.9). */
  purge: boolean
  defragHints: boolean
  backgroundThreads: boolean
  goodSize: boolean
  /**
   * Whether an engine's resident memory can be told from the process's (resident accounting, used_memory_rss):
   * jemalloc's arena of its own; tcmalloc's and mimalloc's private heaps, shared out by used memory. Not libc.
   */
  heapResident: boolean
  /** Whether maxmemoryAccounting 'resident' is offered: jemalloc and mimalloc (see ARCHITECTURE.md "Memory"). */
  residentAccounting: boolean
  sanitizer?: string
}

/** The store's native functions: the store id returned by open() comes first (lib/store.ts wraps them). */
export interface NativeStoreFunctions {
  /** Opens a store with a native-owned scratch block of scratchBytes (16 to 64 MiB). */
  open(ownArena: boolean, scratchBytes: number): number
  /**
   * The store's scratch block as an external ArrayBuffer, the same object on every call. Native code owns the
   * memory: detaching the buffer only cuts JS off from it.
   */
  scratch(id: number): ArrayBuffer
  close(id: number): void
  /** Makes the store attachable from other threads; the token attach() takes (ARCHITECTURE.md "Sharing"). */
  share(id: number): number
  /** This thread's state over the shared store `token` names (its own scratch and cells); ERR_CLOSED once gone. */
  attach(token: number, scratchBytes: number): number
  /** The engine lock's and poisoned flag's words, and this engine's lock tag, for a dying thread's teardown. */
  setLock(id: number, words: Int32Array, lockIndex: number, poisonIndex: number, tag: number): void
  /** A shared store's FLUSHALL: every slot and the heap go, a fresh heap replaces it in place. */
  reopen(id: number): void
  /** The store's cells (native/store_state.h Cells) as an external ArrayBuffer, the same object on every call. */
  cells(id: number): ArrayBuffer
  /** Fused read: value length (bytes in scratch when they fit), -1 absent, -2 expired (lib/store.ts FusedStore). */
  get(id: number, key: string, hash: number, nativeClock: boolean): number
  /** Fused overwrite: the handle, 0 when absent, -1 when a hash match is past its expire time. */
  upsert(id: number, key: string, hash: number, value: string | Uint8Array, nativeClock: boolean): number
  mgetInto(id: number, keys: readonly string[], start: number, target: Uint8Array, offset: number, lengths: Int32Array, nativeClock: boolean): number
  bindTables(
    id: number,
    table: Int32Array,
    oldTable: Int32Array | null,
    lru: Uint32Array,
    volatilePos: Uint32Array,
    volatileExpires: Float64Array,
    seed: number,
    lfu: boolean,
    exactStamps: boolean,
  ): void
  unbindTables(id: number): void
  put(id: number, key: string, value: string | Uint8Array): number
  replace(id: number, handle: number, value: string | Uint8Array): void
  replaceIfKey(id: number, handle: number, key: string, value: string | Uint8Array): boolean
  keyEquals(id: number, handle: number, key: string): boolean
  read(id: number, handle: number, key: string): number
  readStringIfKey(id: number, handle: number, key: string): string | undefined
  readInto(id: number, handle: number, target: Uint8Array, offset?: number): number
  readString(id: number, handle: number): string
  key(id: number, handle: number): string
  valueLength(id: number, handle: number): number
  usableSize(id: number, handle: number): number
  free(id: number, handle: number): number
  freeMany(id: number, handles: Uint32Array, count: number): number
  usedBytes(id: number): number
  setExtraBytes(id: number, bytes: number): void
  peakBytes(id: number): number
  count(id: number): number
  arena(id: number): number
  arenaStats(id: number): ArenaStats
  heapResident(id: number): number
  defragStep(id: number, cursor: number, maxScan: number): [next: number, hits: number, misses: number]
  // The string commands' operations on a value in place (native/string_binding.cc).
  appendValue(id: number, handle: number, bytes: string | Uint8Array): number
  writeRange(id: number, handle: number, offset: number, bytes: string | Uint8Array): number
  readRange(id: number, handle: number, start: number, target: Uint8Array): number
  setBit(id: number, handle: number, bitOffset: number, bit: number): number
  bitcount(id: number, handle: number, start: number, end: number, firstMask: number, lastMask: number): number
  bitpos(id: number, handle: number, bit: number, startBit: number, endBit: number): number
  rekey(id: number, handle: number, key: string): void
  duplicate(id: number, handle: number, key: string): number
}

/** ArrayBuffers over kernel pages (native/pages): release() hands the memory back at once, not at the next GC. */
export interface NativePagesFunctions {
  allocate(bytes: number): ArrayBuffer
  release(buffer: ArrayBuffer): void
  /** Bytes allocated and not yet released, over the whole process. */
  liveBytes(): number
  /** The whole pages inside the view go back to the kernel (reading as zeros after); their bytes, -1 if refused. */
  discard(view: Uint8Array): number
  /** Bytes of the pages the view touches that are resident now (mincore; for tests). */
  resident(view: Uint8Array): number
}

/** The store's layout constants (native/store.h Store::layout()); lib/store.ts exports them under JS names. */
export interface NativeLayout {
  readonly slotHeaderBytes: number
  readonly slotTableEntryBytes: number
  readonly slotTableChunkSlots: number
  readonly handleIndexBits: number
  readonly maxGeneration: number
  readonly maxSlots: number
  readonly maxBytes: number
}

export interface NativeAddon {
  store: NativeStoreFunctions
  layout: NativeLayout
  pages: NativePagesFunctions
  allocatorName(): 'jemalloc' | 'tcmalloc' | 'mimalloc' | 'libc'
  allocatorVersion(): string
  capabilities(): Capabilities
  usedMemory(): number
  allocatorInfo(): AllocatorInfo
  rss(): number | null
  privateDirty(): number | null
  purge(): void
  mallocStats(): string
  goodSize(size: number): number
  backgroundThread(): boolean
  setBackgroundThread(on: boolean): void
  createArena(): number
  destroyArena(arena: number): void
  arenaStats(arena: number): ArenaStats
  purgeArena(arena: number): void
  setArenaDecay(arena: number, dirtyMs: number, muzzyMs: number): void
  setErrorClass(ctor: typeof ArenaKVError): void
  /** The clock cell (8 bytes, one per environment, the same ArrayBuffer on every call). */
  clockCell(): ArrayBuffer
  /** Writes the wall clock in whole ms (as Date.now) into the clock cell. */
  clockTick(): void
}

const require = createRequire(import.meta.url)

// ARENAKV_BINARY names a specific build (tests and benches compare allocator builds side by side); otherwise
// ARENAKV_MALLOC picks the allocator's build (lib/binaries.ts says where each one is looked for).
function load(): NativeAddon {
  const explicit = process.env.ARENAKV_BINARY
  if (explicit) return require(explicit) as NativeAddon
  const { path, expect } = resolveBinary(process.env.ARENAKV_MALLOC)
  let addon: NativeAddon
  try {
    addon = require(path) as NativeAddon
  } catch (err) {
    // dlopen's reason is one line (a shared library the build links is missing, a wrong libc).
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err)
    throw new ArenaKVError('ERR_NO_BUILD', `cannot load ${path}: ${reason}`)
  }
  // build/Release says which allocator it was built with only once loaded.
  if (expect !== null && addon.allocatorName() !== expect) {
    throw missingBuildError(expect, `build/Release is the ${addon.allocatorName()} build`)
  }
  return addon
}

export const native: NativeAddon = load()
native.setErrorClass(ArenaKVError)
