#include "zmalloc.h"

#include <atomic>
#include <cstdio>

#include "jemalloc_ctl.h"

#if defined(USE_JEMALLOC)
#include <jemalloc/jemalloc.h>

#include <cstring>
#elif defined(USE_TCMALLOC)
// The vendored gperftools (deps/tcmalloc): its headers come from the unpacked source, never the system's.
#include <gperftools/malloc_extension_c.h>
#include <gperftools/nallocx.h>
#include <gperftools/tcmalloc.h>
#elif defined(USE_MIMALLOC)
// The vendored mimalloc (deps/mimalloc), compiled without its malloc override.
#include <mimalloc.h>

#include <algorithm>
#include <vector>
#else
#include <gnu/libc-version.h>
#include <malloc.h>
#include <cstdlib>
#endif

namespace arenakv {
namespace {

// Per-thread counters on their own cache lines, summed on read: the scheme of Redis's used_memory_thread.
// A thread owns a slot exclusively (plain relaxed load+store, no locked instruction) until the slots run
// out; threads past that share the last slot with atomic adds, so the sum stays exact either way.
constexpr int kCounterSlots = 64;
struct alignas(64) Counter {
  std::atomic<int64_t> bytes{0};
};
Counter counters[kCounterSlots];
std::atomic<int> nextSlot{0};
thread_local int mySlot = -1;

inline void account(int64_t delta) {
  if (mySlot < 0) {
    int slot = nextSlot.fetch_add(1, std::memory_order_relaxed);
    mySlot = slot < kCounterSlots - 1 ? slot : kCounterSlots - 1;
  }
  std::atomic<int64_t>& c = counters[mySlot].bytes;
  if (mySlot < kCounterSlots - 1) {
    c.store(c.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  } else {
    c.fetch_add(delta, std::memory_order_relaxed);
  }
}

}  // namespace

#if defined(USE_TCMALLOC) || defined(USE_MIMALLOC)
namespace {
// One engine's part of an allocator-wide resident figure: in proportion to what it allocated, since every
// allocation of this private allocator is some engine's (the overhead is shared as the memory is).
size_t residentShare(size_t resident, size_t heapUsed) {
  int64_t all = zmallocUsedMemory();
  if (all <= 0 || heapUsed >= static_cast<size_t>(all)) return resident;
  return static_cast<size_t>(static_cast<double>(resident) * (static_cast<double>(heapUsed) / static_cast<double>(all)));
}
}  // namespace
#endif

#if defined(USE_JEMALLOC)

const char* zmallocName() { return "jemalloc"; }
std::string zmallocVersion() {
  std::string v;
  if (!jectl::version(&v)) return JEMALLOC_VERSION;
  return v.substr(0, v.find('-'));  // "5.3.0-0-g54eaed1..." → "5.3.0", as Redis's mem_allocator shows it
}
bool zmallocHasArenas() { return true; }

void* zmalloc(const ZHeap& heap, size_t size, size_t* usable) {
  void* p = je_mallocx(size == 0 ? 1 : size, heap.flags);
  if (p == nullptr) return nullptr;
  *usable = je_sallocx(p, 0);
  account(static_cast<int64_t>(*usable));
  return p;
}

void* zrealloc(const ZHeap& heap, void* ptr, size_t oldUsable, size_t size, size_t* usable) {
  void* p = je_rallocx(ptr, size == 0 ? 1 : size, heap.flags);
  if (p == nullptr) return nullptr;
  *usable = je_sallocx(p, 0);
  account(static_cast<int64_t>(*usable) - static_cast<int64_t>(oldUsable));
  return p;
}

void zfree(const ZHeap& heap, void* ptr, size_t usable) {
  if (ptr == nullptr) return;
  account(-static_cast<int64_t>(usable));
  je_sdallocx(ptr, usable, heap.flags);
}

size_t zmallocSize(const void* ptr) { return je_sallocx(const_cast<void*>(ptr), 0); }
size_t zmallocGoodSize(size_t n) { return je_nallocx(n == 0 ? 1 : n, 0); }

bool zheapCreate(ZHeap* heap, std::string* error) {
  unsigned arena = 0, tcache = 0;
  if (!jectl::arenaCreate(&arena)) {
    *error = "jemalloc could not create an arena (arenas.create)";
    return false;
  }
  // Freed pages go back to the OS at once rather than after jemalloc's default 10 s: under churn (sizes changing,
  // keys expiring, eviction never stopping) dirty pages were most of the resident memory beyond used_memory,
  // 7 MB at a 64 MB bound (engine RSS 1.19 × maxmemory; 1.07 with this), for ~3% more CPU in system time.
  if (!jectl::arenaSetDecay(arena, 0, 0)) {
    jectl::arenaDestroy(arena);
    *error = "jemalloc could not set the arena's decay (arena.<i>.dirty_decay_ms)";
    return false;
  }
  // A private tcache: the thread's own tcache may hold regions of other arenas and would hand them out here.
  if (!jectl::tcacheCreate(&tcache)) {
    jectl::arenaDestroy(arena);
    *error = "jemalloc could not create a thread cache (tcache.create)";
    return false;
  }
  heap->arena = static_cast<int>(arena);
  heap->tcache = static_cast<int>(tcache);
  heap->flags = static_cast<int>(MALLOCX_ARENA(arena) | MALLOCX_TCACHE(tcache));
  return true;
}

void zheapFlush(const ZHeap& heap) {
  if (heap.tcache >= 0) jectl::tcacheFlush(static_cast<unsigned>(heap.tcache));
}

bool zheapResident(const ZHeap& heap, size_t, size_t* out) {
  return heap.arena >= 0 && jectl::arenaResident(static_cast<unsigned>(heap.arena), out);
}
bool zmallocHasHeapResident() { return true; }
bool zmallocResidentAccounting() { return true; }

ZInfo zmallocInfo() {
  ZInfo info;
  jectl::GlobalStats s;
  if (!jectl::globalStats(&s)) return info;
  info.allocated = static_cast<int64_t>(s.allocated);
  info.active = static_cast<int64_t>(s.active);
  info.resident = static_cast<int64_t>(s.resident);
  info.retained = static_cast<int64_t>(s.retained);
  info.mapped = static_cast<int64_t>(s.mapped);
  info.metadata = static_cast<int64_t>(s.metadata);
  info.dirty = static_cast<int64_t>(s.dirty);
  info.muzzy = static_cast<int64_t>(s.muzzy);
  info.fragSmallbinsBytes = static_cast<int64_t>(s.fragSmallbinsBytes);
  return info;
}

void zmallocPurge() { jectl::purge(true, 0); }
bool zmallocPurgeReturnsFreePages() { return true; }

bool zmallocDefragHint(const void* ptr) { return jectl::defragHint(ptr); }

void* zmallocMove(const ZHeap& heap, void* ptr, size_t usable, size_t used) {
  int flags = heap.arena >= 0 ? static_cast<int>(MALLOCX_ARENA(heap.arena) | MALLOCX_TCACHE_NONE)
                              : static_cast<int>(MALLOCX_TCACHE_NONE);
  void* moved = je_mallocx(usable, flags);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, ptr, used);
  je_sdallocx(ptr, usable, flags);
  return moved;
}
std::string zmallocStatsText() { return jectl::statsText(); }

void zheapDestroy(ZHeap* heap) {
  if (heap->tcache >= 0) jectl::tcacheDestroy(static_cast<unsigned>(heap->tcache));
  if (heap->arena >= 0) jectl::arenaDestroy(static_cast<unsigned>(heap->arena));
  *heap = ZHeap{};
}

#elif defined(USE_TCMALLOC)

const char* zmallocName() { return "tcmalloc"; }
std::string zmallocVersion() {
  int major = 0, minor = 0;
  const char* patch = "";
  tc_version(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + (patch ? patch : "");
}
bool zmallocHasArenas() { return false; }

// The primitives the shared non-jemalloc implementation below is written in.
static void* rawMalloc(size_t size) { return tc_malloc(size); }
static void* rawRealloc(void* ptr, size_t size) { return tc_realloc(ptr, size); }
static void rawFree(void* ptr) { tc_free(ptr); }
size_t zmallocSize(const void* ptr) { return tc_malloc_size(const_cast<void*>(ptr)); }
size_t zmallocGoodSize(size_t n) { return tc_nallocx(n == 0 ? 1 : n, 0); }

namespace {
int64_t tcProperty(const char* name) {
  size_t v = 0;
  return MallocExtension_GetNumericProperty(name, &v) ? static_cast<int64_t>(v) : -1;
}
}  // namespace

ZInfo zmallocInfo() {
  ZInfo info;
  int64_t heap = tcProperty("generic.heap_size");
  int64_t pageFree = tcProperty("tcmalloc.pageheap_free_bytes");
  int64_t unmapped = tcProperty("tcmalloc.pageheap_unmapped_bytes");
  info.allocated = tcProperty("generic.current_allocated_bytes");
  if (heap >= 0 && pageFree >= 0 && unmapped >= 0) {
    info.active = heap - pageFree - unmapped;
    info.resident = heap - unmapped;
    info.mapped = heap;
    // Resident includes tcmalloc's own metadata, as jemalloc's stats.resident does (and zheapResident shares out).
    int64_t physical = tcProperty("generic.total_physical_bytes");
    if (physical >= info.resident) {
      info.metadata = physical - info.resident;
      info.resident = physical;
    }
  }
  info.retained = unmapped;
  info.dirty = pageFree;
  int64_t central = tcProperty("tcmalloc.central_cache_free_bytes");
  int64_t transfer = tcProperty("tcmalloc.transfer_cache_free_bytes");
  int64_t thread = tcProperty("tcmalloc.thread_cache_free_bytes");
  if (central >= 0 && transfer >= 0 && thread >= 0) info.fragSmallbinsBytes = central + transfer + thread;
  return info;
}

bool zheapResident(const ZHeap&, size_t heapUsed, size_t* out) {
  // Pages the page heap holds free but mapped count: they are resident until tcmalloc releases them.
  int64_t physical = tcProperty("generic.total_physical_bytes");
  if (physical < 0) return false;
  *out = residentShare(static_cast<size_t>(physical), heapUsed);
  return true;
}
bool zmallocHasHeapResident() { return true; }
// Under churn at 256 MB, counting this figure held used_memory at 81 MB (28K keys against 91K, hit ratio 0.61
// against 0.70): evictions free objects scattered over spans that stay resident, so resident never falls.
bool zmallocResidentAccounting() { return false; }

void zmallocPurge() { MallocExtension_ReleaseFreeMemory(); }
bool zmallocPurgeReturnsFreePages() { return true; }

std::string zmallocStatsText() {
  std::string text(1 << 16, '\0');
  MallocExtension_GetStats(text.data(), static_cast<int>(text.size()));
  text.resize(std::char_traits<char>::length(text.c_str()));
  return text;
}


#elif defined(USE_MIMALLOC)

const char* zmallocName() { return "mimalloc"; }
std::string zmallocVersion() {
  int v = mi_version();  // major * 100 + minor * 10 + patch: 209 is 2.0.9
  return std::to_string(v / 100) + "." + std::to_string(v / 10 % 10) + "." + std::to_string(v % 10);
}
// mimalloc's heaps are no jemalloc arenas: no arena index, stats or destroy (capabilities.arenas is false).
bool zmallocHasArenas() { return false; }

namespace {
// The mimalloc heaps the calling thread made, so zmallocPurge can collect them: a mi_heap_t may be used only on
// its own thread, and mi_collect(true) collects the thread's default heap alone.
thread_local std::vector<mi_heap_t*> threadHeaps;

inline mi_heap_t* miHeap(const ZHeap& heap) { return static_cast<mi_heap_t*>(heap.heap); }

// Commit on demand, 64 KiB slices as pages fill, rather than whole 32 MiB segments: with eager commit mimalloc's
// committed memory (what zheapResident reads) was 32 MiB for an empty engine, pages never touched and so not
// resident; without it, 12.5 MB committed for 8.4 MB allocated. Set when the module loads, before the first segment
// (the clock cell is allocated at init). The option is global, but this mimalloc is the engines' alone.
const bool lazyCommit = [] {
  mi_option_set(mi_option_eager_commit, 0);
  return true;
}();
}  // namespace

void* zmalloc(const ZHeap& heap, size_t size, size_t* usable) {
  if (size == 0) size = 1;
  void* p = heap.heap != nullptr ? mi_heap_malloc(miHeap(heap), size) : mi_malloc(size);
  if (p == nullptr) return nullptr;
  *usable = mi_usable_size(p);
  account(static_cast<int64_t>(*usable));
  return p;
}

void* zrealloc(const ZHeap& heap, void* ptr, size_t oldUsable, size_t size, size_t* usable) {
  if (size == 0) size = 1;
  void* p = heap.heap != nullptr ? mi_heap_realloc(miHeap(heap), ptr, size) : mi_realloc(ptr, size);
  if (p == nullptr) return nullptr;
  *usable = mi_usable_size(p);
  account(static_cast<int64_t>(*usable) - static_cast<int64_t>(oldUsable));
  return p;
}

void zfree(const ZHeap&, void* ptr, size_t usable) {
  if (ptr == nullptr) return;
  account(-static_cast<int64_t>(usable));
  mi_free(ptr);  // any thread may free a block of any heap
}

size_t zmallocSize(const void* ptr) { return mi_usable_size(ptr); }
// mi_good_size is exact for small and medium blocks only: a 1 MiB allocation gets a 1.5 MiB usable block where
// mi_good_size says 1 MiB + 4 KiB. An allocator that cannot say in advance reports 0 (capabilities.goodSize false).
size_t zmallocGoodSize(size_t) { return 0; }

bool zheapCreate(ZHeap* heap, std::string* error) {
  // Freed pages go back to the OS at once, as the jemalloc build's arena does (decay 0): mimalloc 2.0.9 otherwise
  // delays decommitting until later allocations in the same area, and mi_collect(true) did not return them either
  // (measured: 150 MB freed, RSS unchanged; with a delay of 0, 207 → 61 MB at the frees). The option is global, but
  // this mimalloc is the engine's alone.
  mi_option_set(mi_option_decommit_delay, 0);
  mi_heap_t* h = mi_heap_new();
  if (h == nullptr) {
    *error = "mimalloc could not create a heap (mi_heap_new)";
    return false;
  }
  *heap = ZHeap{};
  heap->heap = h;
  threadHeaps.push_back(h);
  return true;
}

void zheapFlush(const ZHeap&) {}

void zheapDestroy(ZHeap* heap) {
  if (mi_heap_t* h = miHeap(*heap)) {
    threadHeaps.erase(std::remove(threadHeaps.begin(), threadHeaps.end(), h), threadHeaps.end());
    mi_heap_delete(h);  // blocks still live (none after Store::close) move to the default heap, never freed
  }
  *heap = ZHeap{};
}

bool zmallocDefragHint(const void*) { return false; }
void* zmallocMove(const ZHeap&, void*, size_t, size_t) { return nullptr; }

ZInfo zmallocInfo() {
  // mimalloc counts what it commits, not what it hands out (its per-block statistics are compiled out), and
  // mi_process_info's resident figure is the whole process's (allocator.rss() already), not mimalloc's. Every
  // mimalloc block is one zmalloc made, though (the heap is private), so the zmalloc counters are its allocated
  // bytes exactly; committed memory is what it keeps in use for them (active); the rest it cannot say.
  ZInfo info;
  size_t elapsed = 0, user = 0, sys = 0, rss = 0, peakRss = 0, commit = 0, peakCommit = 0, faults = 0;
  mi_process_info(&elapsed, &user, &sys, &rss, &peakRss, &commit, &peakCommit, &faults);
  info.allocated = zmallocUsedMemory();
  info.active = static_cast<int64_t>(commit);
  return info;
}

bool zheapResident(const ZHeap&, size_t heapUsed, size_t* out) {
  // Committed memory is mimalloc's own count of the pages it holds resident for its segments (freed pages are
  // decommitted at once: zheapCreate sets decommit_delay 0); mi_process_info's rss is the whole process's.
  size_t elapsed = 0, user = 0, sys = 0, rss = 0, peakRss = 0, commit = 0, peakCommit = 0, faults = 0;
  mi_process_info(&elapsed, &user, &sys, &rss, &peakRss, &commit, &peakCommit, &faults);
  *out = residentShare(commit, heapUsed);
  return true;
}
bool zmallocHasHeapResident() { return true; }
bool zmallocResidentAccounting() { return true; }

void zmallocPurge() {
  for (mi_heap_t* h : threadHeaps) mi_heap_collect(h, true);
  mi_collect(true);
}
bool zmallocPurgeReturnsFreePages() { return false; }

std::string zmallocStatsText() {
  std::string text;
  mi_stats_print_out([](const char* msg, void* arg) { static_cast<std::string*>(arg)->append(msg); }, &text);
  return text;
}

#else  // libc

const char* zmallocName() { return "libc"; }
std::string zmallocVersion() { return gnu_get_libc_version(); }
bool zmallocHasArenas() { return false; }

static void* rawMalloc(size_t size) { return malloc(size); }
static void* rawRealloc(void* ptr, size_t size) { return realloc(ptr, size); }
static void rawFree(void* ptr) { free(ptr); }
size_t zmallocSize(const void* ptr) { return malloc_usable_size(const_cast<void*>(ptr)); }
size_t zmallocGoodSize(size_t) { return 0; }

ZInfo zmallocInfo() {
  // mallinfo2 sums every glibc arena. glibc cannot tell which heap pages are resident, so resident,
  // retained and muzzy stay unknown; free chunks inside the heap (all but the trimmable top) play the
  // role of jemalloc's small-bin fragmentation.
  ZInfo info;
#if defined(ARENAKV_SANITIZER)
  return info;  // the sanitizer's allocator has replaced glibc's: mallinfo2 would describe nothing
#endif
  struct mallinfo2 mi = mallinfo2();
  info.allocated = static_cast<int64_t>(mi.uordblks + mi.hblkhd);
  info.active = static_cast<int64_t>(mi.arena + mi.hblkhd);
  info.mapped = info.active;
  info.dirty = static_cast<int64_t>(mi.fordblks);
  info.fragSmallbinsBytes = static_cast<int64_t>(mi.fordblks - mi.keepcost);
  return info;
}

// glibc's heap is the whole process's (V8, Node and every library allocate from it): no figure is the engines'.
bool zheapResident(const ZHeap&, size_t, size_t*) { return false; }
bool zmallocHasHeapResident() { return false; }
bool zmallocResidentAccounting() { return false; }

void zmallocPurge() { malloc_trim(0); }
bool zmallocPurgeReturnsFreePages() { return true; }

std::string zmallocStatsText() {
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  if (f == nullptr) return {};
  malloc_info(0, f);
  fclose(f);
  std::string text(buf, len);
  free(buf);
  return text;
}

#endif

#if !defined(USE_JEMALLOC) && !defined(USE_MIMALLOC)
// tcmalloc and libc: one heap, no arenas, no placement hints; accounting as for jemalloc.

void* zmalloc(const ZHeap&, size_t size, size_t* usable) {
  void* p = rawMalloc(size == 0 ? 1 : size);
  if (p == nullptr) return nullptr;
  *usable = zmallocSize(p);
  account(static_cast<int64_t>(*usable));
  return p;
}

void* zrealloc(const ZHeap&, void* ptr, size_t oldUsable, size_t size, size_t* usable) {
  void* p = rawRealloc(ptr, size == 0 ? 1 : size);
  if (p == nullptr) return nullptr;
  *usable = zmallocSize(p);
  account(static_cast<int64_t>(*usable) - static_cast<int64_t>(oldUsable));
  return p;
}

void zfree(const ZHeap&, void* ptr, size_t usable) {
  if (ptr == nullptr) return;
  account(-static_cast<int64_t>(usable));
  rawFree(ptr);
}

bool zheapCreate(ZHeap* heap, std::string*) {
  *heap = ZHeap{};
  return true;
}
void zheapFlush(const ZHeap&) {}
void zheapDestroy(ZHeap* heap) { *heap = ZHeap{}; }
bool zmallocDefragHint(const void*) { return false; }
void* zmallocMove(const ZHeap&, void*, size_t, size_t) { return nullptr; }

#endif

int64_t zmallocUsedMemory() {
  int64_t sum = 0;
  for (const Counter& c : counters) sum += c.bytes.load(std::memory_order_relaxed);
  return sum;
}

}  // namespace arenakv
