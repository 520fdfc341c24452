// One allocation interface over jemalloc, tcmalloc, mimalloc or libc malloc, chosen at compile time (USE_JEMALLOC,
// USE_TCMALLOC, USE_MIMALLOC, or none), the role Redis's zmalloc.h plays. No other file includes an allocator's
// header. jemalloc, tcmalloc and mimalloc are private heaps linked into the addon (ARCHITECTURE.md, "Allocators and builds"):
// none of them replaces the process's malloc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace arenakv {

// A heap allocations are placed in: a private jemalloc arena with its own thread cache, a mimalloc heap, or the
// default heap.
struct ZHeap {
  int flags = 0;      // allocator-specific flags for every call on this heap (jemalloc: MALLOCX_ARENA|TCACHE)
  int arena = -1;     // jemalloc arena index, -1 for the default heap
  int tcache = -1;    // jemalloc explicit tcache id, -1 for the thread's own
  void* heap = nullptr;  // mimalloc: the engine's mi_heap_t (used only on the thread that made it), else null
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

// The resident bytes of one engine's heap, for resident accounting (ARCHITECTURE.md "Memory"). jemalloc: the
// resident pages of the heap's own arena. tcmalloc and mimalloc, private heaps only the engines allocate from
// (ARCHITECTURE.md "Allocators and builds"): the allocator's resident memory (tcmalloc: its heap, metadata
// included, less unmapped pages; mimalloc: the memory it has committed) shared out in proportion to `heapUsed`,
// what this heap's owner has allocated, over every zmalloc allocation. False where the allocator's memory is not
// the engines' alone (libc: glibc's heap is the whole process's) or cannot be read.
bool zheapResident(const ZHeap& heap, size_t heapUsed, size_t* out);
// Whether zheapResident can answer on this build (capabilities.heapResident).
bool zmallocHasHeapResident();
// Whether eviction may count zheapResident (maxmemoryAccounting 'resident', capabilities.residentAccounting): it
// must fall when eviction frees memory. tcmalloc's does not under churn (freed objects stay in partly used spans),
// so counting it evicted two thirds of the data to hold the bound (measured; ARCHITECTURE.md "Memory").
bool zmallocResidentAccounting();

// Allocator-wide figures in bytes; -1 marks one this allocator cannot report (never a made-up value).
struct ZInfo {
  int64_t allocated = -1, active = -1, resident = -1, retained = -1, mapped = -1, metadata = -1;
  int64_t dirty = -1, muzzy = -1;
  int64_t fragSmallbinsBytes = -1;  // free bytes inside in-use small-object runs (jemalloc: slabs)
};
ZInfo zmallocInfo();
// Returns memory the allocator holds but does not use to the OS (jemalloc: every arena; tcmalloc:
// ReleaseFreeMemory; mimalloc: the calling thread's heaps, then mi_collect(true); libc: malloc_trim(0)).
void zmallocPurge();
// Whether zmallocPurge is sure to hand the free pages it finds back to the OS (capabilities.purge). mimalloc 2.0.9
// is not: it decommits a segment's free pages only after a delay, on later allocations in that segment, and
// mi_collect cannot force that for segments still in use.
bool zmallocPurgeReturnsFreePages();
std::string zmallocStatsText();

// A new private heap (jemalloc: arenas.create + tcache.create; mimalloc: mi_heap_new, for the calling thread;
// tcmalloc and libc: the default heap); false with a message when that fails.
bool zheapCreate(ZHeap* heap, std::string* error);
// Flushes the heap's thread cache back to its arena (stats agree exactly afterwards).
void zheapFlush(const ZHeap& heap);
void zheapDestroy(ZHeap* heap);

}  // namespace arenakv
