#include "store_binding.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "jemalloc_ctl.h"
#include "shared_block.h"
#include "stats_object.h"
#include "store.h"
#include "wtf8.h"

namespace arenakv {

// One open store and the per-store buffers its calls reuse.
class StoreState {
 public:
  Store store;
  // The scratch `read` copies into: native memory JS sees through one external ArrayBuffer (scratchRef, made
  // once at open), so no JS action can free or move it under native code (shared_block.h).
  SharedBlockPtr scratchBlock;
  Napi::Reference<Napi::ArrayBuffer> scratchRef;
  uint8_t* scratch = nullptr;  // scratchBlock's data, cached for the hot path
  size_t scratchLen = 0;
  std::u16string units;
  std::string keyBytes;
  std::string valueBytes;
};

AddonData::AddonData() = default;
AddonData::~AddonData() {
  for (StoreState* s : stores) delete s;
}

namespace {

// Argument buffers larger than this are released when the call ends: one huge key or value must not leave its
// copy behind, held by the store and counted nowhere (everything the engine holds natively is counted in
// used_memory or released right after the call).
constexpr size_t kKeepBufferBytes = 64 * 1024;
constexpr size_t kMaxScratchBytes = 64 * 1024 * 1024;

// Declared first in every call that fills the argument buffers, so they are trimmed on the way out, thrown
// errors included. A capacity compare per buffer per call.
class TrimBuffers {
 public:
  explicit TrimBuffers(StoreState* s) : s_(s) {}
  TrimBuffers(const TrimBuffers&) = delete;
  TrimBuffers& operator=(const TrimBuffers&) = delete;
  ~TrimBuffers() {
    if (s_->units.capacity() * sizeof(char16_t) > kKeepBufferBytes) std::u16string().swap(s_->units);
    if (s_->keyBytes.capacity() > kKeepBufferBytes) std::string().swap(s_->keyBytes);
    if (s_->valueBytes.capacity() > kKeepBufferBytes) std::string().swap(s_->valueBytes);
  }

 private:
  StoreState* s_;
};

constexpr double kIdIndexSpan = 1 << 20;  // id = index + generation × 2^20

AddonData* addonData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

// Splits a store id into its slot index and generation (id = index + generation × 2^20); false when the id is
// not a non-negative integer. A non-number is a TypeError.
bool decodeStoreId(Napi::Env env, napi_value value, size_t* index, uint32_t* generation) {
  double id = 0;
  if (napi_get_value_double(env, value, &id) != napi_ok) {
    fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "store id must be a number");
  }
  if (!(id >= 0 && id < 9007199254740992.0) || id != std::floor(id)) return false;
  *index = static_cast<size_t>(std::fmod(id, kIdIndexSpan));
  *generation = static_cast<uint32_t>(std::floor(id / kIdIndexSpan));
  return true;
}

// The store an id names; ERR_CLOSED for a closed store, RangeError for anything never issued.
StoreState* storeArg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t index = 0;
  uint32_t generation = 0;
  if (!decodeStoreId(env, info[0], &index, &generation)) {
    fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", "store id must be a non-negative integer");
  }
  AddonData* data = addonData(env);
  if (index >= data->stores.size() || generation > data->generations[index]) {
    fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", "no store has this id");
  }
  StoreState* state = data->stores[index];
  // A lower generation, or the current one after close: a store that existed and was closed.
  if (state == nullptr || generation < data->generations[index]) {
    fail(env, ErrorKind::kArenaKV, "ERR_CLOSED", "the store is closed");
  }
  return state;
}

uint32_t handleValue(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  double d = 0;
  if (napi_get_value_double(env, info[i], &d) != napi_ok) {
    fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "handle must be a number");
  }
  if (!(d >= 0 && d <= 4294967295.0) || d != std::floor(d)) {
    fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", "handle must be an integer from 0 to 4294967295");
  }
  return static_cast<uint32_t>(d);
}

const SlotHeader* slotArg(const Napi::CallbackInfo& info, StoreState* s, size_t i, uint32_t* handleOut = nullptr) {
  uint32_t handle = handleValue(info, i);
  const SlotHeader* slot = s->store.find(handle);
  if (slot == nullptr) {
    fail(info.Env(), ErrorKind::kRange, "ERR_INVALID_HANDLE",
         "handle " + std::to_string(handle) + " is not a live slot (freed, stale or never issued)");
  }
  if (handleOut) *handleOut = handle;
  return slot;
}

[[noreturn]] void keyTooLarge(Napi::Env env) {
  fail(env, ErrorKind::kArenaKV, "ERR_VALUE_TOO_LARGE", "key is larger than 512 MB (proto-max-bulk-len)");
}

// Reads a JS string key as UTF-16 and encodes it to WTF-8 in s->keyBytes. The limit applies to the encoded
// bytes: a key of more than kMaxBytes UTF-16 units is too large whatever it holds (every unit encodes to at least
// one byte); below that, only a key that could exceed it (over a third of it in units) is measured exactly.
void keyArg(const Napi::CallbackInfo& info, StoreState* s, size_t i) {
  Napi::Env env = info.Env();
  napi_value v = info[i];
  size_t len = 0;
  if (s->units.size() < 64) s->units.resize(64);
  napi_status st = napi_get_value_string_utf16(env, v, s->units.data(), s->units.size(), &len);
  if (st == napi_string_expected) fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "key must be a string");
  if (st == napi_ok && len + 1 >= s->units.size()) {
    st = napi_get_value_string_utf16(env, v, nullptr, 0, &len);
    if (st == napi_ok) {
      if (len > Store::kMaxBytes) keyTooLarge(env);
      s->units.resize(len + 1);
      st = napi_get_value_string_utf16(env, v, s->units.data(), s->units.size(), &len);
    }
  }
  if (st != napi_ok) fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "could not read the key string");
  if (len > Store::kMaxBytes / 3 && wtf8::encodedLength(s->units.data(), len) > Store::kMaxBytes) keyTooLarge(env);
  wtf8::encode(s->units.data(), len, &s->keyBytes);
}

bool keyMatches(const StoreState* s, const SlotHeader* slot) {
  return slot->keyLen == s->keyBytes.size() && std::memcmp(Store::keyOf(slot), s->keyBytes.data(), slot->keyLen) == 0;
}

// The value argument: its byte count now, its bytes written once the slot exists.
struct ValueArg {
  napi_value value = nullptr;
  const uint8_t* bytes = nullptr;  // set for Uint8Array values
  size_t length = 0;
  bool isString = false;
};

ValueArg valueArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  ValueArg arg;
  arg.value = info[i];
  if (napi_get_value_string_utf8(env, arg.value, nullptr, 0, &arg.length) == napi_ok) {
    arg.isString = true;
  } else {
    bool typed = false;
    napi_typedarray_type type = napi_int8_array;
    void* data = nullptr;
    if (napi_is_typedarray(env, arg.value, &typed) != napi_ok || !typed ||
        napi_get_typedarray_info(env, arg.value, &type, &arg.length, &data, nullptr, nullptr) != napi_ok ||
        type != napi_uint8_array) {
      fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "value must be a string or a Uint8Array");
    }
    arg.bytes = static_cast<const uint8_t*>(data);
  }
  if (arg.length > Store::kMaxBytes) {
    fail(env, ErrorKind::kArenaKV, "ERR_VALUE_TOO_LARGE", "value is larger than 512 MB (proto-max-bulk-len)");
  }
  return arg;
}

void writeValue(Napi::Env env, StoreState* s, const ValueArg& arg, uint8_t* dst, size_t spare) {
  if (!arg.isString) {
    if (arg.length) std::memmove(dst, arg.bytes, arg.length);
    return;
  }
  // napi writes a terminating NUL: write in place when the allocation has a spare byte, else via a copy.
  size_t written = 0;
  if (spare >= 1) {
    napi_get_value_string_utf8(env, arg.value, reinterpret_cast<char*>(dst), arg.length + 1, &written);
  } else {
    s->valueBytes.resize(arg.length + 1);
    napi_get_value_string_utf8(env, arg.value, s->valueBytes.data(), s->valueBytes.size(), &written);
    std::memcpy(dst, s->valueBytes.data(), arg.length);
  }
}

[[noreturn]] void failStatus(Napi::Env env, Store::Status st, size_t bytes) {
  if (st == Store::Status::kFull) {
    fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "OOM the store has no free slot (67,108,863 slots per store)");
  }
  if (st == Store::Status::kBadHandle) fail(env, ErrorKind::kRange, "ERR_INVALID_HANDLE", "handle is not a live slot");
  fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "OOM the allocator could not allocate " + std::to_string(bytes) + " bytes");
}

Napi::Value number(Napi::Env env, double v) { return Napi::Number::New(env, v); }

// open(ownArena, scratchBytes) → id; scratch(id) then gives the scratch buffer.
Napi::Value open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool ownArena = boolArg(info, 0, "ownArena");
  auto scratchBytes = static_cast<size_t>(integerArg(info, 1, "scratchBytes", 16, kMaxScratchBytes));
  auto state = std::make_unique<StoreState>();
  std::string error;
  if (!state->store.open(ownArena, &error)) {
    // The one arenas.create failure a user can cause: more engines open than jemalloc has arena indices.
    if (jectl::arenaIndicesExhausted()) {
      fail(env, ErrorKind::kArenaKV, "ERR_ARENA_LIMIT", "cannot open another engine: " + jectl::arenaLimitText());
    }
    fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", error);
  }
  state->scratchBlock.reset(SharedBlock::create(scratchBytes));
  if (!state->scratchBlock) {
    fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "OOM the allocator could not allocate " + std::to_string(scratchBytes) + " bytes");
  }
  state->scratch = state->scratchBlock->data();
  state->scratchLen = scratchBytes;
  state->store.setHeldBytes(state->scratchBlock->usable());
  napi_value buffer = state->scratchBlock->expose(env);
  if (buffer == nullptr) fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "could not create the scratch ArrayBuffer");
  state->scratchRef = Napi::Persistent(Napi::ArrayBuffer(env, buffer));
  AddonData* data = addonData(env);
  size_t index;
  if (!data->freeIndices.empty()) {
    index = data->freeIndices.back();
    data->freeIndices.pop_back();
    data->generations[index]++;  // ids of the store closed here now read as closed, never as this one
  } else {
    if (data->stores.size() >= static_cast<size_t>(kIdIndexSpan)) fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "too many open stores");
    index = data->stores.size();
    data->stores.push_back(nullptr);
    data->generations.push_back(0);
  }
  data->stores[index] = state.release();
  return number(env, static_cast<double>(index) + data->generations[index] * kIdIndexSpan);
}

// close(id): frees every slot and the arena; closing twice is harmless.
Napi::Value close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t index = 0;
  uint32_t generation = 0;
  AddonData* data = addonData(env);
  if (decodeStoreId(env, info[0], &index, &generation) && index < data->stores.size() &&
      data->generations[index] == generation && data->stores[index] != nullptr) {
    delete data->stores[index];
    data->stores[index] = nullptr;
    data->freeIndices.push_back(static_cast<uint32_t>(index));
  }
  return env.Undefined();
}

// scratch(id) → the store's scratch ArrayBuffer (the same one on every call: it is made once, at open).
Napi::Value scratch(const Napi::CallbackInfo& info) { return storeArg(info)->scratchRef.Value(); }

Napi::Value put(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(info);
  TrimBuffers trim(s);
  keyArg(info, s, 1);
  ValueArg value = valueArg(info, 2);
  uint32_t handle = 0;
  uint8_t* dst = nullptr;
  size_t spare = 0;
  Store::Status st = s->store.put(s->keyBytes.data(), s->keyBytes.size(), value.length, &handle, &dst, &spare);
  if (st != Store::Status::kOk) failStatus(env, st, sizeof(SlotHeader) + s->keyBytes.size() + value.length);
  writeValue(env, s, value, dst, spare);
  return number(env, handle);
}

void replaceValue(const Napi::CallbackInfo& info, StoreState* s, uint32_t handle, const SlotHeader* slot, ValueArg value) {
  uint8_t* dst = nullptr;
  size_t spare = 0;
  Store::Status st = s->store.resize(handle, value.length, &dst, &spare);
  if (st != Store::Status::kOk) failStatus(info.Env(), st, sizeof(SlotHeader) + slot->keyLen + value.length);
  writeValue(info.Env(), s, value, dst, spare);
}

Napi::Value replace(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info);
  TrimBuffers trim(s);
  uint32_t handle = 0;
  const SlotHeader* slot = slotArg(info, s, 1, &handle);
  replaceValue(info, s, handle, slot, valueArg(info, 2));
  return info.Env().Undefined();
}

// replaceIfKey(id, handle, key, value) → whether the slot held key (and so was replaced): one call per overwrite.
Napi::Value replaceIfKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(info);
  TrimBuffers trim(s);
  uint32_t handle = 0;
  const SlotHeader* slot = slotArg(info, s, 1, &handle);
  keyArg(info, s, 2);
  ValueArg value = valueArg(info, 3);
  if (!keyMatches(s, slot)) return Napi::Boolean::New(env, false);
  replaceValue(info, s, handle, slot, value);
  return Napi::Boolean::New(env, true);
}

Napi::Value keyEquals(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info);
  TrimBuffers trim(s);
  const SlotHeader* slot = slotArg(info, s, 1);
  keyArg(info, s, 2);
  return Napi::Boolean::New(info.Env(), keyMatches(s, slot));
}

Napi::Value read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(info);
  TrimBuffers trim(s);
  const SlotHeader* slot = slotArg(info, s, 1);
  keyArg(info, s, 2);
  if (!keyMatches(s, slot)) return number(env, -1);
  if (slot->valueLen <= s->scratchLen) std::memcpy(s->scratch, Store::valueOf(slot), slot->valueLen);
  return number(env, slot->valueLen);
}

Napi::Value readStringIfKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(info);
  TrimBuffers trim(s);
  const SlotHeader* slot = slotArg(info, s, 1);
  keyArg(info, s, 2);
  if (!keyMatches(s, slot)) return env.Undefined();
  return Napi::String::New(env, reinterpret_cast<const char*>(Store::valueOf(slot)), slot->valueLen);
}

Napi::Value readInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(info);
  const SlotHeader* slot = slotArg(info, s, 1);
  Napi::Uint8Array target = bytesArg(info, 2, "target");
  size_t offset = 0;
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    offset = static_cast<size_t>(integerArg(info, 3, "offset", 0, static_cast<int64_t>(target.ByteLength())));
  }
  size_t n = std::min<size_t>(slot->valueLen, target.ByteLength() - offset);
  if (n) std::memcpy(target.Data() + offset, Store::valueOf(slot), n);
  return number(env, slot->valueLen);
}

Napi::Value readString(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info);
  const SlotHeader* slot = slotArg(info, s, 1);
  return Napi::String::New(info.Env(), reinterpret_cast<const char*>(Store::valueOf(slot)), slot->valueLen);
}

Napi::Value key(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info);
  TrimBuffers trim(s);
  const SlotHeader* slot = slotArg(info, s, 1);
  wtf8::decode(Store::keyOf(slot), slot->keyLen, &s->units);
  return Napi::String::New(info.Env(), s->units);
}

Napi::Value valueLength(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info);
  return number(info.Env(), slotArg(info, s, 1)->valueLen);
}

Napi::Value usableSize(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info);
  uint32_t handle = 0;
  slotArg(info, s, 1, &handle);
  return number(info.Env(), static_cast<double>(s->store.usableSize(handle)));
}

// free(id, handle) → the usable bytes released, so callers keep their accounting without another call.
Napi::Value free(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info);
  uint32_t handle = 0;
  slotArg(info, s, 1, &handle);
  size_t usable = s->store.usableSize(handle);
  s->store.free(handle);
  return number(info.Env(), static_cast<double>(usable));
}

// freeMany(id, handles: Uint32Array, count): all-or-nothing, so a bad or repeated handle frees nothing.
Napi::Value freeMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(info);
  Napi::Value v = info[1];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "handles must be a Uint32Array");
  }
  Napi::Uint32Array handles = v.As<Napi::Uint32Array>();
  auto count = static_cast<size_t>(integerArg(info, 2, "count", 0, static_cast<int64_t>(handles.ElementLength())));
  std::vector<uint32_t> batch(handles.Data(), handles.Data() + count);
  for (uint32_t h : batch) {
    if (!s->store.valid(h)) {
      fail(env, ErrorKind::kRange, "ERR_INVALID_HANDLE", "handle " + std::to_string(h) + " is not a live slot; nothing was freed");
    }
  }
  std::vector<uint32_t> sorted(batch);
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    fail(env, ErrorKind::kRange, "ERR_INVALID_HANDLE", "a handle appears twice; nothing was freed");
  }
  double released = 0;
  for (uint32_t h : batch) {
    released += static_cast<double>(s->store.usableSize(h));
    s->store.free(h);
  }
  return number(env, released);
}

Napi::Value usedBytes(const Napi::CallbackInfo& info) {
  return number(info.Env(), static_cast<double>(storeArg(info)->store.usedBytes()));
}

// setExtraBytes(id, bytes): the bytes the engine holds outside the store, for the peak (called when they change).
Napi::Value setExtraBytes(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info);
  s->store.setExtraBytes(static_cast<size_t>(integerArg(info, 1, "bytes", 0, INT64_C(1) << 50)));
  return info.Env().Undefined();
}

Napi::Value peakBytes(const Napi::CallbackInfo& info) {
  return number(info.Env(), static_cast<double>(storeArg(info)->store.peakBytes()));
}

Napi::Value count(const Napi::CallbackInfo& info) {
  return number(info.Env(), static_cast<double>(storeArg(info)->store.count()));
}

Napi::Value arena(const Napi::CallbackInfo& info) { return number(info.Env(), storeArg(info)->store.heap().arena); }

// Stats of this store's own arena, after flushing its thread cache so `allocated` is exact.
Napi::Value arenaStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(info);
  if (s->store.heap().arena < 0) fail(env, ErrorKind::kArenaKV, "ERR_UNSUPPORTED", "this store has no arena of its own");
  zheapFlush(s->store.heap());
  jectl::ArenaStats stats;
  if (!jectl::arenaStats(static_cast<unsigned>(s->store.heap().arena), &stats)) {
    fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "could not read the arena's stats");
  }
  return arenaStatsObject(env, stats);
}

// heapResident(id) → the resident bytes of this store's heap (zheapResident: its arena's on jemalloc, its share of
// the private allocator's on tcmalloc and mimalloc), read cheaply: no thread-cache flush, no per-bin walk.
Napi::Value heapResident(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(info);
  if (!zmallocHasHeapResident()) {
    fail(env, ErrorKind::kArenaKV, "ERR_UNSUPPORTED", "this allocator cannot tell the engine's resident memory from the process's");
  }
  size_t resident = 0;
  if (!zheapResident(s->store.heap(), s->store.heapBytes(), &resident)) {
    fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "could not read the heap's resident bytes");
  }
  return number(env, static_cast<double>(resident));
}

// defragStep(id, cursor, maxScan) → [nextCursor, hits, misses]; jemalloc only (it alone gives placement hints).
Napi::Value defragStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(info);
  auto cursor = static_cast<uint32_t>(integerArg(info, 1, "cursor", 0, Store::kMaxSlots));
  auto maxScan = static_cast<uint32_t>(integerArg(info, 2, "maxScan", 1, Store::kMaxSlots));
  if (s->store.heap().arena < 0) fail(env, ErrorKind::kArenaKV, "ERR_UNSUPPORTED", "active defragmentation needs the jemalloc build");
  Store::DefragStep step = s->store.defrag(cursor, maxScan);
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, number(env, step.next));
  out.Set(1u, number(env, static_cast<double>(step.hits)));
  out.Set(2u, number(env, static_cast<double>(step.misses)));
  return out;
}

}  // namespace

bool storeUsesArena(Napi::Env env, unsigned arena) {
  for (const StoreState* s : addonData(env)->stores) {
    if (s != nullptr && s->store.heap().arena == static_cast<int>(arena)) return true;
  }
  return false;
}

void defineStoreFunctions(Napi::Env env, Napi::Object exports) {
  Napi::Object store = Napi::Object::New(env);
  store.Set("open", Napi::Function::New<open>(env, "open"));
  store.Set("close", Napi::Function::New<close>(env, "close"));
  store.Set("scratch", Napi::Function::New<scratch>(env, "scratch"));
  store.Set("put", Napi::Function::New<put>(env, "put"));
  store.Set("replace", Napi::Function::New<replace>(env, "replace"));
  store.Set("replaceIfKey", Napi::Function::New<replaceIfKey>(env, "replaceIfKey"));
  store.Set("keyEquals", Napi::Function::New<keyEquals>(env, "keyEquals"));
  store.Set("read", Napi::Function::New<read>(env, "read"));
  store.Set("readStringIfKey", Napi::Function::New<readStringIfKey>(env, "readStringIfKey"));
  store.Set("readInto", Napi::Function::New<readInto>(env, "readInto"));
  store.Set("readString", Napi::Function::New<readString>(env, "readString"));
  store.Set("key", Napi::Function::New<key>(env, "key"));
  store.Set("valueLength", Napi::Function::New<valueLength>(env, "valueLength"));
  store.Set("usableSize", Napi::Function::New<usableSize>(env, "usableSize"));
  store.Set("free", Napi::Function::New<free>(env, "free"));
  store.Set("freeMany", Napi::Function::New<freeMany>(env, "freeMany"));
  store.Set("usedBytes", Napi::Function::New<usedBytes>(env, "usedBytes"));
  store.Set("count", Napi::Function::New<count>(env, "count"));
  store.Set("setExtraBytes", Napi::Function::New<setExtraBytes>(env, "setExtraBytes"));
  store.Set("peakBytes", Napi::Function::New<peakBytes>(env, "peakBytes"));
  store.Set("arena", Napi::Function::New<arena>(env, "arena"));
  store.Set("arenaStats", Napi::Function::New<arenaStats>(env, "arenaStats"));
  store.Set("heapResident", Napi::Function::New<heapResident>(env, "heapResident"));
  store.Set("defragStep", Napi::Function::New<defragStep>(env, "defragStep"));
  exports.Set("store", store);

  constexpr Store::Layout kLayout = Store::layout();
  Napi::Object layout = Napi::Object::New(env);
  layout.Set("slotHeaderBytes", number(env, static_cast<double>(kLayout.slotHeaderBytes)));
  layout.Set("slotTableEntryBytes", number(env, static_cast<double>(kLayout.slotTableEntryBytes)));
  layout.Set("slotTableChunkSlots", number(env, kLayout.slotTableChunkSlots));
  layout.Set("handleIndexBits", number(env, kLayout.handleIndexBits));
  layout.Set("maxGeneration", number(env, kLayout.maxGeneration));
  layout.Set("maxSlots", number(env, kLayout.maxSlots));
  layout.Set("maxBytes", number(env, static_cast<double>(kLayout.maxBytes)));
  layout.Freeze();
  exports.Set("layout", layout);
}

}  // namespace arenakv
