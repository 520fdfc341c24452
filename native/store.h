// Slots: a handle → one allocation holding a key and its value (like Redis's embedded strings), placed in the
// store's own heap. Knows nothing of N-API: store_binding.cc validates and converts, this file keeps the invariants.
#pragma once

#include <cstddef>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "zmalloc.h"

namespace arenakv {

struct SlotHeader {
  uint32_t keyLen;
  uint32_t valueLen;
};

class Store {
 public:
  // A handle is index | generation << kIndexBits; generation is 1..31, so a handle is never 0 and stays below
  // 2^31: a small integer in V8 (a handle of 2^31 or more crosses N-API as a heap-allocated number).
  static constexpr unsigned kIndexBits = 26;
  static constexpr uint32_t kIndexMask = (1u << kIndexBits) - 1;
  static constexpr uint32_t kMaxGeneration = 31;
  static constexpr uint32_t kMaxSlots = kIndexMask;  // index kIndexMask itself is never issued
  static constexpr size_t kMaxBytes = 512u * 1024 * 1024;  // Redis's proto-max-bulk-len, for keys and values

  enum class Status { kOk, kNoMemory, kFull, kBadHandle };

  // The figures JS computes sizes and handles from (the addon's `layout` export, read once by lib/store.ts), so
  // they are defined here alone.
  struct Layout {
    size_t slotHeaderBytes;      // bytes of a slot before its key
    size_t slotTableEntryBytes;  // bytes of the slot table per slot
    uint32_t slotTableChunkSlots;
    unsigned handleIndexBits;
    uint32_t maxGeneration;
    uint32_t maxSlots;
    size_t maxBytes;
  };
  static constexpr Layout layout();

  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store() { close(); }

  bool open(bool ownArena, std::string* error);
  void close();
  // FLUSHALL of a shared store (ARCHITECTURE.md "Sharing"): every slot and the heap go, a fresh heap is made, and
  // the bytes held beside the slots (the attached scratch and cells blocks) stay counted.
  bool reopen(std::string* error);

  // Allocates a slot for key + valueLen bytes and copies the key in; *value points at the value's bytes and
  // *spare says how many bytes past them the allocation has (writers that append a NUL need one).
  Status put(const char* key, size_t keyLen, size_t valueLen, uint32_t* handle, uint8_t** value, size_t* spare);
  // Resizes the value of a live slot (the key is kept); same outputs as put.
  Status resize(uint32_t handle, size_t valueLen, uint8_t** value, size_t* spare);
  // Gives a live slot a new key, its value kept (RENAME): the allocation is resized in place when its size class
  // allows and the value moved within it; the handle stays.
  Status rekey(uint32_t handle, const char* key, size_t keyLen);
  // A new slot for key holding a copy of the value of slot `source` (COPY); *handle is the new slot's.
  Status duplicate(uint32_t source, const char* key, size_t keyLen, uint32_t* handle);
  void free(uint32_t handle);

  // nullptr unless handle names a live slot with the right generation.
  const SlotHeader* find(uint32_t handle) const;
  bool valid(uint32_t handle) const { return find(handle) != nullptr; }
  static const uint8_t* keyOf(const SlotHeader* s) { return reinterpret_cast<const uint8_t*>(s + 1); }
  static const uint8_t* valueOf(const SlotHeader* s) { return keyOf(s) + s->keyLen; }
  size_t usableSize(uint32_t handle) const;
  // Bring a handle's slot-table entry, then its slot, toward the cache (mgetInto's pipeline overlaps the misses
  // of several keys). Harmless for any handle: a bad one prefetches nothing.
  void prefetchEntry(uint32_t handle) const {
    uint32_t index = handle & kIndexMask;
    if (index < issued_) __builtin_prefetch(entry(index));
  }
  void prefetchSlot(uint32_t handle) const {
    const SlotHeader* slot = find(handle);
    if (slot != nullptr) __builtin_prefetch(slot);
  }

  // One bounded step of active defragmentation over slot indices [cursor, cursor + maxScan): moves each slot
  // whose allocation the allocator hints would be better elsewhere. Returns the next cursor, 0 after the last.
  struct DefragStep {
    uint32_t next = 0;
    uint64_t hits = 0;    // slots moved
    uint64_t misses = 0;  // slots looked at and left in place
  };
  DefragStep defrag(uint32_t cursor, uint32_t maxScan);

  // Everything the store holds natively: slots, the slot table and what its owner holds beside them
  // (setHeldBytes: the scratch block).
  size_t usedBytes() const { return slotBytes_ + tableBytes_ + heldBytes_.load(std::memory_order_relaxed); }
  // What the store allocated in its own heap: slots and the slot table (the scratch block is in the default heap).
  size_t heapBytes() const { return slotBytes_ + tableBytes_; }
  void setHeldBytes(size_t bytes) {
    heldBytes_.store(bytes, std::memory_order_relaxed);
    notePeak();
  }
  // A shared store counts every attached environment's scratch and cells blocks (ARCHITECTURE.md "Sharing"); the
  // count is atomic because a dying worker gives its share back from its cleanup, without the engine lock.
  void addHeldBytes(size_t bytes) { heldBytes_.fetch_add(bytes, std::memory_order_relaxed); }
  void subHeldBytes(size_t bytes) { heldBytes_.fetch_sub(bytes, std::memory_order_relaxed); }
  // A cell (native memory JS reads, store_state.h) where usedBytes() is written after every change, so the write
  // path reads used memory without a call (ARCHITECTURE.md, "Memory"). nullptr: no cell.
  void setUsedCell(double* cell) {
    usedCell_.store(cell, std::memory_order_relaxed);
    notePeak();
  }
  // A shared store writes into the cell of the environment that made the last call; an environment going away
  // takes its cell back only if it is still the one written (a compare-exchange: another may have taken over).
  void clearUsedCell(double* cell) { usedCell_.compare_exchange_strong(cell, nullptr); }
  // Bytes the engine holds outside the store (the keyspace's typed arrays): not used bytes of the store, but part
  // of the high-water mark, which Redis records after every command (call() in server.c).
  void setExtraBytes(size_t bytes) {
    extraBytes_ = bytes;
    notePeak();
  }
  // The highest usedBytes() + extra bytes seen since open, checked wherever either grows.
  size_t peakBytes() const { return peak_; }
  size_t count() const { return live_; }
  const ZHeap& heap() const { return heap_; }

 private:
  struct Entry {
    SlotHeader* ptr;    // nullptr when free
    uint32_t usable;    // usable size of ptr's allocation; next free index while free
    uint32_t generation;
  };
  static constexpr unsigned kChunkBits = 12;
  static constexpr uint32_t kChunkSize = 1u << kChunkBits;
  static constexpr uint32_t kNoFree = UINT32_MAX;

  Entry* entry(uint32_t index) const { return &chunks_[index >> kChunkBits][index & (kChunkSize - 1)]; }
  Entry* findEntry(uint32_t handle) const;
  bool grow();
  // After every change of the byte counts: the peak, and the used-bytes cell.
  void notePeak() {
    size_t used = slotBytes_ + tableBytes_ + heldBytes_.load(std::memory_order_relaxed);
    double* cell = usedCell_.load(std::memory_order_relaxed);
    if (cell != nullptr) *cell = static_cast<double>(used);
    if (used + extraBytes_ > peak_) peak_ = used + extraBytes_;
  }

  ZHeap heap_;
  bool open_ = false;
  bool ownArena_ = false;
  // Chunks of fixed size so growth never copies or stalls; each chunk is allocated in the store's heap.
  std::vector<Entry*> chunks_;
  std::vector<size_t> chunkUsable_;
  uint32_t issued_ = 0;  // indices [0, issued_) have been handed out at least once
  uint32_t freeHead_ = kNoFree;
  size_t live_ = 0;
  size_t slotBytes_ = 0;
  size_t tableBytes_ = 0;
  std::atomic<size_t> heldBytes_{0};
  size_t extraBytes_ = 0;
  size_t peak_ = 0;
  std::atomic<double*> usedCell_{nullptr};
};

constexpr Store::Layout Store::layout() {
  return {sizeof(SlotHeader), sizeof(Entry), kChunkSize, kIndexBits, kMaxGeneration, kMaxSlots, kMaxBytes};
}

}  // namespace arenakv
