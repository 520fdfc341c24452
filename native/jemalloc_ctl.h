// mallctl wrappers: the jemalloc-only controls. Under tcmalloc or libc each call reports "unsupported"
// (returns false) instead of pretending, so callers can surface ERR_UNSUPPORTED.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace arenakv::jectl {

bool available();
bool version(std::string* out);

// jemalloc keeps an arena's index in 12 bits (MALLOCX_ARENA_BITS in its jemalloc_internal_types.h):
// MALLOCX_ARENA_LIMIT = 4095 indices, 0..4094, for automatic and explicit (arenas.create) arenas together.
constexpr unsigned kArenaIndices = 4095;

bool arenaCreate(unsigned* arena);
// arena.<i>.destroy: jemalloc refuses automatic arenas and indices with no arena; the index is then reused by
// arenas.create. Callers make sure nothing still allocates from it.
bool arenaDestroy(unsigned arena);
// After a failed arenas.create: whether every index has an arena, rather than the allocator being out of memory.
bool arenaIndicesExhausted();
// What the limit is and how to get below it, for the error thrown when arenas.create runs out of indices.
std::string arenaLimitText();
// arena.<i>.dirty_decay_ms / muzzy_decay_ms: how long freed pages of this arena stay resident before they are
// purged (0: at once; -1: never).
bool arenaSetDecay(unsigned arena, long dirtyMs, long muzzyMs);
bool tcacheCreate(unsigned* tcache);
bool tcacheFlush(unsigned tcache);
bool tcacheDestroy(unsigned tcache);
// arena.<i>.purge for one arena, or every arena when all is true (Redis's MEMORY PURGE).
bool purge(bool all, unsigned arena);

struct GlobalStats {
  size_t allocated = 0, active = 0, resident = 0, retained = 0, mapped = 0, metadata = 0;
  size_t dirty = 0, muzzy = 0;
  size_t fragSmallbinsBytes = 0;  // Σ over small bins of (nregs × curslabs − curregs) × size, as Redis
};
bool globalStats(GlobalStats* out);

struct ArenaStats {
  size_t allocated = 0, active = 0, dirty = 0, muzzy = 0, resident = 0, mapped = 0;
  size_t smallAllocated = 0, largeAllocated = 0;
  size_t metadata = 0;  // the arena's own bookkeeping (stats.arenas.<i>.base + internal)
  size_t retained = 0;  // virtual memory kept mapped for reuse, not resident
  uint64_t nmalloc = 0, ndalloc = 0;
  size_t fragSmallbinsBytes = 0;
};
bool arenaStats(unsigned arena, ArenaStats* out);
// stats.arenas.<i>.resident alone, after an epoch refresh: the cheap reading resident accounting samples.
bool arenaResident(unsigned arena, size_t* out);

// Active defragmentation hint for a small allocation, from experimental.utilization.query: true when its slab
// is not full, is not the bin's current slab, and is less used than the bin's average (so moving the region
// lets sparse slabs empty out), the rule Redis's jemalloc fork applies in je_get_defrag_hint.
bool defragHint(const void* ptr);

bool backgroundThread(bool* enabled);
bool setBackgroundThread(bool on);
std::string statsText();

}  // namespace arenakv::jectl
