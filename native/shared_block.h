// Native memory that native code writes into and JavaScript reads through one external ArrayBuffer. JavaScript can
// detach that ArrayBuffer (a transfer, a BYOB stream read) but can never free the memory under native code: the
// block is freed only once its native owner has released it AND V8 has finalized the buffer. The finalizer may
// run at environment teardown or off the JS thread, so the count is atomic.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "zmalloc.h"

namespace arenakv {

class SharedBlock {
 public:
  // A zeroed block of `bytes` with one reference (the caller's), or nullptr when out of memory. Allocated in the
  // default heap, never a store's arena: the arena goes away at close while JS may still hold the buffer. The
  // count and the data are two allocations, so a block of a size class's exact size (the 64 KiB scratch) is not
  // pushed into the next class by a header.
  static SharedBlock* create(size_t bytes) {
    size_t selfUsable = 0;
    void* self = zmalloc(ZHeap{}, sizeof(SharedBlock), &selfUsable);
    if (self == nullptr) return nullptr;
    size_t dataUsable = 0;
    void* data = zmalloc(ZHeap{}, bytes, &dataUsable);
    if (data == nullptr) {
      zfree(ZHeap{}, self, selfUsable);
      return nullptr;
    }
    std::memset(data, 0, bytes);
    return new (self) SharedBlock(static_cast<uint8_t*>(data), bytes, dataUsable, selfUsable);
  }

  SharedBlock(const SharedBlock&) = delete;
  SharedBlock& operator=(const SharedBlock&) = delete;

  uint8_t* data() { return data_; }
  size_t size() const { return size_; }
  // What the allocator charged for the block (counted in used_memory by zmalloc).
  size_t usable() const { return dataUsable_ + selfUsable_; }

  // The one ArrayBuffer over the block, holding a reference of its own; nullptr when N-API refuses. Call at most
  // once per block: two external ArrayBuffers over the same memory are unsafe in V8.
  napi_value expose(napi_env env) {
    refs_.fetch_add(1, std::memory_order_relaxed);
    napi_value buffer = nullptr;
    if (napi_create_external_arraybuffer(env, data(), size_, finalize, this, &buffer) != napi_ok) {
      release();  // no finalizer will run for a buffer that was never made
      return nullptr;
    }
    return buffer;
  }

  void release() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    size_t selfUsable = selfUsable_;
    zfree(ZHeap{}, data_, dataUsable_);
    this->~SharedBlock();
    zfree(ZHeap{}, this, selfUsable);
  }

 private:
  SharedBlock(uint8_t* data, size_t size, size_t dataUsable, size_t selfUsable)
      : data_(data), size_(size), dataUsable_(dataUsable), selfUsable_(selfUsable) {}
  ~SharedBlock() = default;

  static void finalize(napi_env, void*, void* hint) { static_cast<SharedBlock*>(hint)->release(); }

  std::atomic<int> refs_{1};
  uint8_t* data_;  // malloc alignment: right for any typed array
  size_t size_;
  size_t dataUsable_;
  size_t selfUsable_;
};

// The native owner's reference, released when the owner goes away.
struct SharedBlockRelease {
  void operator()(SharedBlock* b) const { b->release(); }
};
using SharedBlockPtr = std::unique_ptr<SharedBlock, SharedBlockRelease>;

}  // namespace arenakv
