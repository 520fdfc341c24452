import { native, type AllocatorInfo, type ArenaStats, type Capabilities } from './native.js'

export type { AllocatorInfo, ArenaStats, Capabilities }

/**
 * The allocator this build links (jemalloc, tcmalloc, mimalloc or libc, chosen at build time as Redis's
 * `make MALLOC=...`), and what it can report. jemalloc, tcmalloc and mimalloc are pinned, vendored private heaps
 * linked into the addon; libc is glibc's malloc, the process's own. Capabilities a build lacks throw
 * ERR_UNSUPPORTED (arena stats and defragmentation hints are jemalloc's alone).
 */
export const allocator = {
  name: native.allocatorName(),
  version: native.allocatorVersion(),
  capabilities: Object.freeze(native.capabilities()),
  /** Bytes allocated through arenakv in this process, summed over every thread's counter (zmalloc's used_memory). */
  usedMemory: (): number => native.usedMemory(),
  info: (): AllocatorInfo => native.allocatorInfo(),
  /** Resident set size from /proc/self/stat. */
  rss: (): number | null => native.rss(),
  privateDirty: (): number | null => native.privateDirty(),
  /**
   * Returns free memory to the OS: every jemalloc arena, tcmalloc's ReleaseFreeMemory, mimalloc's heaps of the
   * calling thread then mi_collect(true), or malloc_trim(0).
   */
  purge: (): void => native.purge(),
  mallocStats: (): string => native.mallocStats(),
  /** The usable size an allocation of `size` bytes gets (jemalloc and tcmalloc: nallocx; mimalloc: mi_good_size). */
  goodSize: (size: number): number => native.goodSize(size),
  backgroundThread: (): boolean => native.backgroundThread(),
  setBackgroundThread: (on: boolean): void => native.setBackgroundThread(on),
  /**
   * jemalloc: a new arena (arenas.create); its index. Arenas share jemalloc's 4095 arena indices with the
   * engines (one each): past the last free one this throws an ArenaKVError with code ERR_ARENA_LIMIT. Give the
   * index back with destroyArena.
   */
  createArena: (): number => native.createArena(),
  /**
   * jemalloc: destroys an arena createArena made (arena.<i>.destroy: its memory is discarded at once), and
   * createArena may hand its index out again. Any other index (an automatic arena, an engine's, one destroyed
   * already) is a RangeError with code ERR_OUT_OF_RANGE; builds without jemalloc throw ERR_UNSUPPORTED.
   */
  destroyArena: (arena: number): void => native.destroyArena(arena),
  arenaStats: (arena: number): ArenaStats => native.arenaStats(arena),
  purgeArena: (arena: number): void => native.purgeArena(arena),
  /**
   * jemalloc: how long an arena keeps freed pages resident (arena.<i>.dirty_decay_ms, muzzy_decay_ms; 0 returns them
   * at once, -1 keeps them until a purge). An engine's arena starts at 0/0 (ARCHITECTURE.md "Memory" says why).
   * An index with no arena is a RangeError (ERR_OUT_OF_RANGE); builds without jemalloc throw ERR_UNSUPPORTED.
   */
  setArenaDecay: (arena: number, dirtyMs: number, muzzyMs: number): void => native.setArenaDecay(arena, dirtyMs, muzzyMs),
} as const

export type Allocator = typeof allocator
