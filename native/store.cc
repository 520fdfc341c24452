#include "store.h"

#include <cstring>

namespace arenakv {

bool Store::open(bool ownArena, std::string* error) {
  if (open_) return true;
  if (ownArena && !zheapCreate(&heap_, error)) return false;
  ownArena_ = ownArena;
  open_ = true;
  return true;
}

bool Store::reopen(std::string* error) {
  size_t held = heldBytes_.load(std::memory_order_relaxed);
  bool own = ownArena_;
  close();
  heldBytes_.store(held, std::memory_order_relaxed);
  if (!open(own, error)) return false;
  notePeak();
  return true;
}

void Store::close() {
  if (!open_) return;
  for (uint32_t i = 0; i < issued_; i++) {
    Entry* e = entry(i);
    if (e->ptr != nullptr) zfree(heap_, e->ptr, e->usable);
  }
  for (size_t c = 0; c < chunks_.size(); c++) zfree(heap_, chunks_[c], chunkUsable_[c]);
  chunks_.clear();
  chunkUsable_.clear();
  zheapDestroy(&heap_);
  issued_ = 0;
  freeHead_ = kNoFree;
  live_ = slotBytes_ = tableBytes_ = extraBytes_ = peak_ = 0;
  heldBytes_.store(0, std::memory_order_relaxed);
  open_ = false;
}

bool Store::grow() {
  size_t usable = 0;
  auto* chunk = static_cast<Entry*>(zmalloc(heap_, sizeof(Entry) * kChunkSize, &usable));
  if (chunk == nullptr) return false;
  try {
    chunks_.push_back(chunk);
    chunkUsable_.push_back(usable);
  } catch (...) {
    if (chunks_.size() > chunkUsable_.size()) chunks_.pop_back();
    zfree(heap_, chunk, usable);
    throw;
  }
  tableBytes_ += usable;
  notePeak();
  return true;
}

Store::Entry* Store::findEntry(uint32_t handle) const {
  uint32_t index = handle & kIndexMask;
  uint32_t generation = handle >> kIndexBits;
  if (!open_ || index >= issued_ || generation == 0) return nullptr;
  Entry* e = entry(index);
  if (e->ptr == nullptr || e->generation != generation) return nullptr;
  return e;
}

const SlotHeader* Store::find(uint32_t handle) const {
  Entry* e = findEntry(handle);
  return e ? e->ptr : nullptr;
}

size_t Store::usableSize(uint32_t handle) const {
  Entry* e = findEntry(handle);
  return e ? e->usable : 0;
}

Store::Status Store::put(const char* key, size_t keyLen, size_t valueLen, uint32_t* handle, uint8_t** value,
                         size_t* spare) {
  uint32_t index;
  if (freeHead_ != kNoFree) {
    index = freeHead_;
  } else {
    if (issued_ >= kMaxSlots) return Status::kFull;
    if ((issued_ >> kChunkBits) >= chunks_.size() && !grow()) return Status::kNoMemory;
    index = issued_;
  }
  size_t need = sizeof(SlotHeader) + keyLen + valueLen;
  size_t usable = 0;
  auto* slot = static_cast<SlotHeader*>(zmalloc(heap_, need, &usable));
  if (slot == nullptr) return Status::kNoMemory;
  Entry* e = entry(index);
  if (index == freeHead_) {
    freeHead_ = e->usable;
  } else {
    issued_++;
    e->generation = 0;
  }
  e->generation = e->generation >= kMaxGeneration ? 1 : e->generation + 1;
  e->ptr = slot;
  e->usable = static_cast<uint32_t>(usable);
  slot->keyLen = static_cast<uint32_t>(keyLen);
  slot->valueLen = static_cast<uint32_t>(valueLen);
  std::memcpy(slot + 1, key, keyLen);
  live_++;
  slotBytes_ += usable;
  notePeak();
  *handle = index | (e->generation << kIndexBits);
  *value = reinterpret_cast<uint8_t*>(slot + 1) + keyLen;
  *spare = usable - need;
  return Status::kOk;
}

Store::Status Store::resize(uint32_t handle, size_t valueLen, uint8_t** value, size_t* spare) {
  Entry* e = findEntry(handle);
  if (e == nullptr) return Status::kBadHandle;
  size_t need = sizeof(SlotHeader) + e->ptr->keyLen + valueLen;
  size_t usable = 0;
  SlotHeader* slot = e->ptr;
  // Same size class: the value is written in place, without rallocx's lookups (an overwrite with a value of the
  // same size is the common case). Elsewhere the allocator decides.
  if (need <= e->usable && zmallocGoodSize(need) == e->usable) {
    usable = e->usable;
  } else {
    slot = static_cast<SlotHeader*>(zrealloc(heap_, e->ptr, e->usable, need, &usable));
    if (slot == nullptr) return Status::kNoMemory;
  }
  slotBytes_ = slotBytes_ - e->usable + usable;
  notePeak();
  e->ptr = slot;
  e->usable = static_cast<uint32_t>(usable);
  slot->valueLen = static_cast<uint32_t>(valueLen);
  *value = reinterpret_cast<uint8_t*>(slot + 1) + slot->keyLen;
  *spare = usable - need;
  return Status::kOk;
}

Store::Status Store::rekey(uint32_t handle, const char* key, size_t keyLen) {
  Entry* e = findEntry(handle);
  if (e == nullptr) return Status::kBadHandle;
  size_t oldKeyLen = e->ptr->keyLen;
  size_t valueLen = e->ptr->valueLen;
  size_t need = sizeof(SlotHeader) + keyLen + valueLen;
  size_t usable = 0;
  if (keyLen <= oldKeyLen) {
    // The slot is rewritten within its allocation first, so a failed shrink leaves a valid, larger slot.
    auto* base = reinterpret_cast<uint8_t*>(e->ptr + 1);
    std::memmove(base + keyLen, base + oldKeyLen, valueLen);
    std::memcpy(base, key, keyLen);
    e->ptr->keyLen = static_cast<uint32_t>(keyLen);
    auto* slot = static_cast<SlotHeader*>(zrealloc(heap_, e->ptr, e->usable, need, &usable));
    if (slot != nullptr) {
      slotBytes_ = slotBytes_ - e->usable + usable;
      notePeak();
      e->ptr = slot;
      e->usable = static_cast<uint32_t>(usable);
    }
    return Status::kOk;
  }
  // A longer key: grow first (nothing has moved if that fails), then move the value up.
  auto* slot = static_cast<SlotHeader*>(zrealloc(heap_, e->ptr, e->usable, need, &usable));
  if (slot == nullptr) return Status::kNoMemory;
  slotBytes_ = slotBytes_ - e->usable + usable;
  notePeak();
  e->ptr = slot;
  e->usable = static_cast<uint32_t>(usable);
  auto* base = reinterpret_cast<uint8_t*>(slot + 1);
  std::memmove(base + keyLen, base + oldKeyLen, valueLen);
  std::memcpy(base, key, keyLen);
  slot->keyLen = static_cast<uint32_t>(keyLen);
  return Status::kOk;
}

Store::Status Store::duplicate(uint32_t source, const char* key, size_t keyLen, uint32_t* handle) {
  if (findEntry(source) == nullptr) return Status::kBadHandle;
  size_t valueLen = find(source)->valueLen;
  uint8_t* value = nullptr;
  size_t spare = 0;
  Status st = put(key, keyLen, valueLen, handle, &value, &spare);
  if (st != Status::kOk) return st;
  // put may have grown the slot table, never moved a slot: the source's bytes are where they were.
  std::memcpy(value, valueOf(find(source)), valueLen);
  return Status::kOk;
}

Store::DefragStep Store::defrag(uint32_t cursor, uint32_t maxScan) {
  DefragStep step;
  if (!open_) return step;
  // Cached regions would count as used in their slabs and skew the hints: hand them back first.
  zheapFlush(heap_);
  uint32_t end = cursor + maxScan < cursor || cursor + maxScan > issued_ ? issued_ : cursor + maxScan;
  for (uint32_t i = cursor; i < end; i++) {
    Entry* e = entry(i);
    if (e->ptr == nullptr) continue;
    if (!zmallocDefragHint(e->ptr)) {
      step.misses++;
      continue;
    }
    size_t used = sizeof(SlotHeader) + e->ptr->keyLen + e->ptr->valueLen;
    void* moved = zmallocMove(heap_, e->ptr, e->usable, used);
    if (moved == nullptr) {
      step.misses++;
      continue;
    }
    e->ptr = static_cast<SlotHeader*>(moved);
    step.hits++;
  }
  step.next = end >= issued_ ? 0 : end;
  return step;
}

void Store::free(uint32_t handle) {
  Entry* e = findEntry(handle);
  if (e == nullptr) return;
  zfree(heap_, e->ptr, e->usable);
  slotBytes_ -= e->usable;
  notePeak();
  live_--;
  e->ptr = nullptr;
  e->usable = freeHead_;
  freeHead_ = handle & kIndexMask;
}

}  // namespace arenakv
