#include "jemalloc_ctl.h"

#if defined(USE_JEMALLOC)
#include <jemalloc/jemalloc.h>

#include <cstdio>
#include <cstring>
#endif

namespace arenakv::jectl {

#if defined(USE_JEMALLOC)

namespace {

template <typename T>
bool read(const char* name, T* out) {
  size_t len = sizeof(T);
  return je_mallctl(name, out, &len, nullptr, 0) == 0;
}

template <typename T>
bool readf(T* out, const char* fmt, unsigned a, unsigned b = 0) {
  char name[128];
  std::snprintf(name, sizeof name, fmt, a, b);
  return read(name, out);
}

// Refreshes the stats snapshot (mallctl "epoch"): the stats reads below see the current figures.
bool refreshEpoch() {
  uint64_t epoch = 1;
  size_t len = sizeof epoch;
  return je_mallctl("epoch", &epoch, &len, &epoch, len) == 0;
}

bool writeBool(const char* name, bool value) {
  return je_mallctl(name, nullptr, nullptr, &value, sizeof value) == 0;
}

bool writeUnsigned(const char* name, unsigned value) {
  return je_mallctl(name, nullptr, nullptr, &value, sizeof value) == 0;
}

size_t pageSize() {
  size_t page = 4096;
  read("arenas.page", &page);
  return page;
}

// Σ over small bins of (nregs × curslabs − curregs) × size for one arena index (or MALLCTL_ARENAS_ALL):
// the free regions inside slabs that are in use, Redis's allocator_frag_bytes numerator.
size_t smallbinFragmentation(unsigned arena) {
  unsigned nbins = 0;
  if (!read("arenas.nbins", &nbins)) return 0;
  size_t total = 0;
  for (unsigned j = 0; j < nbins; j++) {
    size_t size = 0, curregs = 0, curslabs = 0;
    uint32_t nregs = 0;
    if (!readf(&size, "arenas.bin.%u.size", j) || !readf(&nregs, "arenas.bin.%u.nregs", j) ||
        !readf(&curregs, "stats.arenas.%u.bins.%u.curregs", arena, j) ||
        !readf(&curslabs, "stats.arenas.%u.bins.%u.curslabs", arena, j)) {
      continue;
    }
    size_t regs = static_cast<size_t>(nregs) * curslabs;
    if (regs > curregs) total += (regs - curregs) * size;
  }
  return total;
}

// Indices jemalloc keeps for itself (opt.narenas automatic arenas, and the huge arena unless
// opt.oversize_threshold is 0): arenas.create hands out the other kArenaIndices - arenaIndicesReserved().
unsigned arenaIndicesReserved() {
  unsigned automatic = 0;
  size_t oversize = 0;
  read("opt.narenas", &automatic);
  // arena_init_huge reserves the index after the automatic ones, and sets the option to 0 when it does not.
  read("opt.oversize_threshold", &oversize);
  return automatic + (oversize != 0 ? 1 : 0);
}

}  // namespace

bool available() { return true; }

bool version(std::string* out) {
  const char* v = nullptr;
  if (!read("version", &v) || v == nullptr) return false;
  *out = v;
  return true;
}

bool arenaCreate(unsigned* arena) { return read("arenas.create", arena); }

bool arenaDestroy(unsigned arena) {
  char name[64];
  std::snprintf(name, sizeof name, "arena.%u.destroy", arena);
  return je_mallctl(name, nullptr, nullptr, nullptr, 0) == 0;
}

bool arenaIndicesExhausted() {
  // arenas.narenas counts every index ever initialized, destroyed ones included; arenas.create reuses a
  // destroyed index first (ctl_arena_init), so it fails for want of an index only when all kArenaIndices are
  // initialized and none is destroyed.
  unsigned narenas = 0;
  return read("arenas.narenas", &narenas) && narenas >= kArenaIndices;
}

std::string arenaLimitText() {
  unsigned reserved = arenaIndicesReserved();
  unsigned usable = kArenaIndices > reserved ? kArenaIndices - reserved : 0;
  return "every jemalloc arena index is in use. Each open engine (its store) and each allocator.createArena() "
         "arena not yet destroyed holds one: jemalloc has " + std::to_string(kArenaIndices) +
         " arena indices and keeps " + std::to_string(reserved) + " for its automatic arenas, so at most " +
         std::to_string(usable) + " engines and arenas can be open at once in a process. Close an engine, or "
         "destroy an arena with allocator.destroyArena(), to free one";
}

bool arenaSetDecay(unsigned arena, long dirtyMs, long muzzyMs) {
  char name[64];
  ssize_t dirty = dirtyMs, muzzy = muzzyMs;
  std::snprintf(name, sizeof name, "arena.%u.dirty_decay_ms", arena);
  if (je_mallctl(name, nullptr, nullptr, &dirty, sizeof dirty) != 0) return false;
  std::snprintf(name, sizeof name, "arena.%u.muzzy_decay_ms", arena);
  return je_mallctl(name, nullptr, nullptr, &muzzy, sizeof muzzy) == 0;
}

bool tcacheCreate(unsigned* tcache) { return read("tcache.create", tcache); }
bool tcacheFlush(unsigned tcache) { return writeUnsigned("tcache.flush", tcache); }
bool tcacheDestroy(unsigned tcache) { return writeUnsigned("tcache.destroy", tcache); }

bool purge(bool all, unsigned arena) {
  char name[64];
  std::snprintf(name, sizeof name, "arena.%u.purge", all ? static_cast<unsigned>(MALLCTL_ARENAS_ALL) : arena);
  return je_mallctl(name, nullptr, nullptr, nullptr, 0) == 0;
}

bool globalStats(GlobalStats* out) {
  if (!refreshEpoch()) return false;
  bool ok = read("stats.allocated", &out->allocated) && read("stats.active", &out->active) &&
            read("stats.resident", &out->resident) && read("stats.retained", &out->retained) &&
            read("stats.mapped", &out->mapped) && read("stats.metadata", &out->metadata);
  if (!ok) return false;
  const unsigned all = MALLCTL_ARENAS_ALL;
  size_t pdirty = 0, pmuzzy = 0, page = pageSize();
  readf(&pdirty, "stats.arenas.%u.pdirty", all);
  readf(&pmuzzy, "stats.arenas.%u.pmuzzy", all);
  out->dirty = pdirty * page;
  out->muzzy = pmuzzy * page;
  out->fragSmallbinsBytes = smallbinFragmentation(all);
  return true;
}

bool arenaResident(unsigned arena, size_t* out) {
  return refreshEpoch() && readf(out, "stats.arenas.%u.resident", arena);
}

bool arenaStats(unsigned arena, ArenaStats* out) {
  unsigned narenas = 0;
  if (!read("arenas.narenas", &narenas) || arena >= narenas) return false;
  if (!refreshEpoch()) return false;
  size_t small = 0, large = 0, pactive = 0, pdirty = 0, pmuzzy = 0, page = pageSize();
  uint64_t smallN = 0, largeN = 0, smallD = 0, largeD = 0;
  bool ok = readf(&small, "stats.arenas.%u.small.allocated", arena) &&
            readf(&large, "stats.arenas.%u.large.allocated", arena) &&
            readf(&pactive, "stats.arenas.%u.pactive", arena) && readf(&pdirty, "stats.arenas.%u.pdirty", arena) &&
            readf(&pmuzzy, "stats.arenas.%u.pmuzzy", arena) &&
            readf(&out->resident, "stats.arenas.%u.resident", arena) &&
            readf(&out->mapped, "stats.arenas.%u.mapped", arena) &&
            readf(&smallN, "stats.arenas.%u.small.nmalloc", arena) &&
            readf(&largeN, "stats.arenas.%u.large.nmalloc", arena) &&
            readf(&smallD, "stats.arenas.%u.small.ndalloc", arena) &&
            readf(&largeD, "stats.arenas.%u.large.ndalloc", arena);
  size_t base = 0, internal = 0;
  ok = ok && readf(&base, "stats.arenas.%u.base", arena) && readf(&internal, "stats.arenas.%u.internal", arena) &&
       readf(&out->retained, "stats.arenas.%u.retained", arena);
  if (!ok) return false;
  out->smallAllocated = small;
  out->largeAllocated = large;
  out->metadata = base + internal;
  out->allocated = small + large;
  out->active = pactive * page;
  out->dirty = pdirty * page;
  out->muzzy = pmuzzy * page;
  out->nmalloc = smallN + largeN;
  out->ndalloc = smallD + largeD;
  out->fragSmallbinsBytes = smallbinFragmentation(arena);
  return true;
}

bool defragHint(const void* ptr) {
  struct Utilization {  // jemalloc's inspect_extent_util_stats_verbose_t
    void* slabcur;
    size_t nfree, nregs, size, binNfree, binNregs;
  };
  struct Mib {
    size_t mib[4] = {};
    size_t len = 4;
    bool ok = je_mallctlnametomib("experimental.utilization.query", mib, &len) == 0;
  };
  static const Mib query;  // thread-safe one-time lookup: worker threads may defragment too
  if (!query.ok) return false;
  Utilization u{};
  size_t outLen = sizeof u;
  void* in = const_cast<void*>(ptr);
  if (je_mallctlbymib(query.mib, query.len, &u, &outLen, &in, sizeof in) != 0) return false;
  // Large allocations have no slab (nregs 1, nfree 0); full slabs (nfree 0) gain nothing from a move.
  if (u.nfree == 0 || u.nregs <= 1 || u.binNregs == 0) return false;
  // u.size is the slab's size: a region of the current slab (where new allocations go) stays put.
  const char* p = static_cast<const char*>(ptr);
  const char* cur = static_cast<const char*>(u.slabcur);
  if (cur != nullptr && p >= cur && p < cur + u.size) return false;
  // slab usage < bin usage, cross-multiplied to stay in integers.
  size_t slabUsed = u.nregs - u.nfree;
  size_t binUsed = u.binNregs - u.binNfree;
  return slabUsed * u.binNregs < binUsed * u.nregs;
}

bool backgroundThread(bool* enabled) { return read("background_thread", enabled); }
bool setBackgroundThread(bool on) { return writeBool("background_thread", on); }

std::string statsText() {
  std::string text;
  je_malloc_stats_print(
      [](void* opaque, const char* s) { static_cast<std::string*>(opaque)->append(s); }, &text, nullptr);
  return text;
}

#else  // not jemalloc: every control is unsupported

bool available() { return false; }
bool version(std::string*) { return false; }
bool arenaCreate(unsigned*) { return false; }
bool arenaDestroy(unsigned) { return false; }
bool arenaIndicesExhausted() { return false; }
std::string arenaLimitText() { return {}; }
bool arenaSetDecay(unsigned, long, long) { return false; }
bool tcacheCreate(unsigned*) { return false; }
bool tcacheFlush(unsigned) { return false; }
bool tcacheDestroy(unsigned) { return false; }
bool purge(bool, unsigned) { return false; }
bool globalStats(GlobalStats*) { return false; }
bool arenaStats(unsigned, ArenaStats*) { return false; }
bool arenaResident(unsigned, size_t*) { return false; }
bool defragHint(const void*) { return false; }
bool backgroundThread(bool*) { return false; }
bool setBackgroundThread(bool) { return false; }
std::string statsText() { return {}; }

#endif

}  // namespace arenakv::jectl
