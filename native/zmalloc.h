// One allocation interface over jemalloc, tcmalloc or libc malloc, chosen at compile time (USE_JEMALLOC,
// USE_TCMALLOC, or neither), the role Redis's zmalloc.h plays. No other file includes an allocator's header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace arenakv {

// A heap allocations are placed in: a private jemalloc arena with its own thread cache, or the default heap.
struct ZHeap {
  int flags = 0;      // allocator-specific flags for every call on this heap (jemalloc: MALLOCX_ARENA|TCACHE)
  int arena = -1;     // jemalloc arena index, -1 for the default heap
  int tcache = -1;    // jemalloc explicit tcache id, -1 for the thread's own
};

const char* zmallocName();
std::string zmallocVersion();
bool zmallocHasArenas();

// Returns nullptr when the allocator is out of memory: callers turn that into an error, never an abort.
void* zmalloc(const ZHeap& heap, size_t size, size_t* usable);
void* zrealloc(const ZHeap& heap, void* ptr, size_t oldUsable, size_t size, size_t* usable);
// `usable` must be the size zmalloc reported for ptr: it spares a size lookup and feeds the counters.
void zfree(const ZHeap& heap, void* ptr, size_t usable);
size_t zmallocSize(const void* ptr);
// The usable size an allocation of n bytes would get, or 0 when the allocator cannot say in advance.
size_t zmallocGoodSize(size_t n);

// Active defragmentation (jemalloc only): whether moving ptr would help, and a move that bypasses the thread
// cache in both directions so the new region comes from the fullest slab and the old one goes back at once.
bool zmallocDefragHint(const void* ptr);
void* zmallocMove(const ZHeap& heap, void* ptr, size_t usable, size_t used);

// Bytes allocated through zmalloc by every thread, summed over per-thread counters as Redis does.
int64_t zmallocUsedMemory();

// Allocator-wide figures in bytes; -1 marks one this allocator cannot report (never a made-up value).
struct ZInfo {
  int64_t allocated = -1, active = -1, resident = -1, retained = -1, mapped = -1, metadata = -1;
  int64_t dirty = -1, muzzy = -1;
  int64_t fragSmallbinsBytes = -1;  // free bytes inside in-use small-object runs (jemalloc: slabs)
};
ZInfo zmallocInfo();
// Returns memory the allocator holds but does not use to the OS (jemalloc: every arena; tcmalloc:
// ReleaseFreeMemory; libc: malloc_trim(0)).
void zmallocPurge();
std::string zmallocStatsText();
// tcmalloc only: whether it replaced the process's malloc (LD_PRELOAD, the supported mode) rather than being
// loaded by dlopen alongside glibc's.
bool zmallocPreloaded();

// A new private heap (jemalloc: arenas.create + tcache.create); false with a message when that fails.
bool zheapCreate(ZHeap* heap, std::string* error);
// Flushes the heap's thread cache back to its arena (stats agree exactly afterwards).
void zheapFlush(const ZHeap& heap);
void zheapDestroy(ZHeap* heap);

}  // namespace arenakv
