// The keyspace's tables as lib/dict.ts and lib/keyspace.ts lay them out, read by the fused lookups (one native call
// per GET or overwrite: hash, probe, verify the key, lazy-expiry test, LRU stamp, copy; ARCHITECTURE.md, "The path
// of a GET"). TypeScript owns the tables and every change to them (insert, delete, resize, incremental rehash);
// native code only reads them, writes the LRU stamp of a key it found, and re-reads the pointers each time JS binds
// the arrays again after replacing one. Every index is bounds-checked against the bound lengths, so a table JS
// got wrong can make a lookup miss but never read outside the arrays. Knows nothing of N-API.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace arenakv {

struct TableView {
  // The arrays bound, in this order: table, old table (while rehashing), lru, volatilePos, volatileExpires.
  static constexpr int kArrays = 5;
  static constexpr uint32_t kEmpty = 0;              // dict.ts EMPTY
  static constexpr uint32_t kTombstone = 0xffffffff; // dict.ts TOMBSTONE

  // Slot p of a table: hash at [2p], handle at [2p + 1] (interleaved, one cache line per probe).
  const int32_t* table = nullptr;
  uint32_t mask = 0;
  const int32_t* oldTable = nullptr;  // nullptr unless rehashing
  uint32_t oldMask = 0;
  uint32_t* lru = nullptr;  // per slot index: LRU stamp or LFU field
  const uint32_t* volatilePos = nullptr;  // per slot index: 1 + position in the volatile list, or 0
  uint32_t metaLength = 0;  // elements of lru and volatilePos
  const double* volatileExpires = nullptr;
  uint32_t volatileLength = 0;
  const int32_t* volatileKeys = nullptr;  // the count JS keeps in the cells (store_state.h)
  uint32_t seed = 0;   // dict.ts HASH_SEED
  bool lfu = false;    // the lru field holds LFU counters: JS updates them (they need its random draw)
  bool exactStamps = false;  // an LRU policy orders evictions by the stamps: stamp with the exact clock
  bool bound = false;
};

// dict.ts hashKey: FNV-1a over UTF-16 code units from the seed, finished with murmur3's fmix32.
inline int32_t hashUnits(uint32_t seed, const char16_t* units, size_t n) {
  uint32_t h = seed ^ 0x811c9dc5u;
  for (size_t i = 0; i < n; i++) h = (h ^ units[i]) * 0x01000193u;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return static_cast<int32_t>(h);
}

// One table's probe (dict.ts probe): linear from the hash's home slot until an empty slot, at most one lap.
template <class Verify>
uint32_t probeTable(const int32_t* table, uint32_t mask, int32_t hash, Verify& verify) {
  uint32_t pos = static_cast<uint32_t>(hash) & mask;
  for (uint32_t n = 0; n <= mask; n++, pos = (pos + 1) & mask) {
    uint32_t handle = static_cast<uint32_t>(table[2 * pos + 1]);
    if (handle == TableView::kEmpty) return 0;
    if (table[2 * pos] != hash || handle == TableView::kTombstone) continue;
    if (verify(handle)) return handle;
  }
  return 0;
}

// dict.ts lookup: the table being emptied first, then the current one. 0 when no slot verifies.
template <class Verify>
uint32_t lookupTables(const TableView& t, int32_t hash, Verify&& verify) {
  if (t.oldTable != nullptr) {
    uint32_t found = probeTable(t.oldTable, t.oldMask, hash, verify);
    if (found != 0) return found;
  }
  return probeTable(t.table, t.mask, hash, verify);
}

// Whether any key has an expire time: when none does, lookups need not read the expire list (Redis's getExpire
// checks dictSize(db->expires) first).
inline bool anyVolatile(const TableView& t) { return t.volatileKeys == nullptr || *t.volatileKeys != 0; }

// The key's expire time (unix ms), or nullptr when it has none.
inline const double* expireOf(const TableView& t, uint32_t index) {
  if (index >= t.metaLength || !anyVolatile(t)) return nullptr;
  uint32_t p = t.volatilePos[index];
  return p != 0 && p <= t.volatileLength ? &t.volatileExpires[p - 1] : nullptr;
}

// keyspace.ts isExpired: the key has an expire time and now is past it. `now()` is read only for such a key.
template <class Now>
bool isExpired(const TableView& t, uint32_t index, Now& now) {
  const double* when = expireOf(t, index);
  return when != nullptr && now.exact() > *when;
}

// lru.ts lruClock: the time in ms modulo 2^32.
inline uint32_t lruClock(double now) {
  if (!(now > -9.0e18 && now < 9.0e18)) return 0;
  return static_cast<uint32_t>(static_cast<int64_t>(std::floor(now)));
}

}  // namespace arenakv
