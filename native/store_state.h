// One open store as the bindings see it (store_binding.cc, hot_binding.cc): the store, the native blocks JS reads
// through external ArrayBuffers, the keyspace tables bound for the fused lookups, and the per-call argument
// buffers; with the argument readers both bindings share. Every value from JavaScript is checked here.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "shared_block.h"
#include "store.h"
#include "table_view.h"

namespace arenakv {

// The cells block: a few numbers native code and the engine exchange without a call (lib/store.ts reads them
// through a Float64Array and an Int32Array over the same block).
struct Cells {
  double now;          // [f64 0] unix ms: written by the fused calls (native clock) or by JS before them
  double usedBytes;    // [f64 1] Store::usedBytes(), kept current by the store
  int32_t handle;      // [i32 4] the handle the last fused call found (or the expired candidate it stopped at)
  int32_t hash;        // [i32 5] the hash of the key it looked up (lib/dict.ts's hashKey)
  int32_t hits;        // [i32 6] hits and misses of the last mgetInto call
  int32_t misses;      // [i32 7]
  double batchOffset;  // [f64 4] where the last mgetInto call stopped writing into its target
  int32_t volatileKeys;  // [i32 10] keys with an expire time: JS keeps it current (keyspace.ts volatileCount)
};

class StoreState {
 public:
  explicit StoreState(std::shared_ptr<Store> owned) : storeOwner(std::move(owned)), store(*storeOwner) {}
  StoreState(const StoreState&) = delete;
  StoreState& operator=(const StoreState&) = delete;
  // A shared store (ARCHITECTURE.md "Sharing"): gives this environment's cell and held bytes back and, when the
  // environment is torn down (a terminated worker) while it holds the engine lock, marks the engine poisoned and
  // releases the lock, so the next locker rebuilds the keyspace instead of reading tables torn mid-command.
  ~StoreState();
  // Declared before the store, so destroyed after it: the store writes used bytes into the cells until it closes.
  SharedBlockPtr cellsBlock;
  Napi::Reference<Napi::ArrayBuffer> cellsRef;
  Cells* cells = nullptr;
  // The store, process-global once shared: every environment attached to it holds one owner reference, and the
  // last one to go closes it (its heap and every slot). Calls on a shared store are made under the engine lock.
  std::shared_ptr<Store> storeOwner;
  Store& store;
  // The scratch `read` copies into: native memory JS sees through one external ArrayBuffer (scratchRef, made
  // once at open), so no JS action can free or move it under native code (shared_block.h).
  SharedBlockPtr scratchBlock;
  Napi::Reference<Napi::ArrayBuffer> scratchRef;
  uint8_t* scratch = nullptr;  // scratchBlock's data, cached for the hot path
  size_t scratchLen = 0;
  // The keyspace's arrays, bound by JS after every change (hot_binding.cc), each held by a reference so the
  // memory stays valid while bound.
  TableView tables;
  Napi::Reference<Napi::Value> tableRefs[TableView::kArrays];
  std::u16string units;
  std::string keyBytes;
  std::string valueBytes;
  // mgetInto's keys, one batch at a time (hot_binding.cc).
  static constexpr size_t kBatch = 8;
  std::u16string batchUnits[kBatch];
  std::string batchKeys[kBatch];
  // Sharing (store_binding.cc share / attach / setLock): whether the store is shared, the engine lock's words in
  // the shared header (owner tag, poisoned flag) and this engine's owner tag, and the bytes this environment's
  // blocks add to the store's held bytes. `dying` is set when the environment is torn down rather than closed.
  bool shared = false;
  int32_t* lockWord = nullptr;
  int32_t* poisonWord = nullptr;
  int32_t lockTag = 0;
  size_t heldShare = 0;
  bool dying = false;
};

// Argument buffers larger than this are released when the call ends: one huge key or value must not leave its
// copy behind, held by the store and counted nowhere (everything the engine holds natively is counted in
// used_memory or released right after the call).
constexpr size_t kKeepBufferBytes = 64 * 1024;

// Declared first in every call that fills the argument buffers, so they are trimmed on the way out, thrown
// errors included. A capacity compare per buffer per call.
class TrimBuffers {
 public:
  explicit TrimBuffers(StoreState* s, bool batch = false) : s_(s), batch_(batch) {}
  TrimBuffers(const TrimBuffers&) = delete;
  TrimBuffers& operator=(const TrimBuffers&) = delete;
  ~TrimBuffers() {
    if (s_->units.capacity() * sizeof(char16_t) > kKeepBufferBytes) std::u16string().swap(s_->units);
    if (s_->keyBytes.capacity() > kKeepBufferBytes) std::string().swap(s_->keyBytes);
    if (s_->valueBytes.capacity() > kKeepBufferBytes) std::string().swap(s_->valueBytes);
    for (size_t i = 0; batch_ && i < StoreState::kBatch; i++) {
      if (s_->batchUnits[i].capacity() * sizeof(char16_t) > kKeepBufferBytes) std::u16string().swap(s_->batchUnits[i]);
      if (s_->batchKeys[i].capacity() > kKeepBufferBytes) std::string().swap(s_->batchKeys[i]);
    }
  }

 private:
  StoreState* s_;
  bool batch_;  // the call filled the batch buffers too (mgetInto)
};

constexpr double kIdIndexSpan = 1 << 20;  // store id = index + generation × 2^20

// Splits a store id into its index and generation; false when the id is not a non-negative integer. A non-number
// is a TypeError.
bool decodeStoreId(napi_env env, napi_value value, size_t* index, uint32_t* generation);

// The store an id names; ERR_CLOSED for a closed store, RangeError for anything never issued.
StoreState* storeArg(napi_env env, napi_value id);

// Reads a JS string key as UTF-16 into s->units (s->unitCount units) and encodes it to WTF-8 in s->keyBytes;
// TypeError for a non-string, ERR_VALUE_TOO_LARGE past 512 MB encoded. Returns the number of units.
size_t keyArg(napi_env env, napi_value v, StoreState* s);
// The same into any pair of buffers (mgetInto reads a batch of keys before looking any up).
size_t keyInto(napi_env env, napi_value v, std::u16string* units, std::string* bytes);

inline bool keyIs(const SlotHeader* slot, const std::string& key) {
  return slot->keyLen == key.size() && std::memcmp(Store::keyOf(slot), key.data(), slot->keyLen) == 0;
}
inline bool keyMatches(const StoreState* s, const SlotHeader* slot) { return keyIs(slot, s->keyBytes); }

// The value argument: its byte count now, its bytes written once the slot exists.
struct ValueArg {
  napi_value value = nullptr;
  const uint8_t* bytes = nullptr;  // set for Uint8Array values
  size_t length = 0;
  bool isString = false;
};

ValueArg valueArg(napi_env env, napi_value v);
void writeValue(napi_env env, StoreState* s, const ValueArg& arg, uint8_t* dst, size_t spare);
[[noreturn]] void failStatus(napi_env env, Store::Status st, size_t bytes);

// Resizes a live slot for `value` and writes it (the key is kept).
void replaceValue(napi_env env, StoreState* s, uint32_t handle, const SlotHeader* slot, const ValueArg& value);

}  // namespace arenakv
