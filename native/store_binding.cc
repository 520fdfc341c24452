#include "store_binding.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "jemalloc_ctl.h"
#include "shared_block.h"
#include "stats_object.h"
#include "store.h"
#include "store_state.h"
#include "hot_binding.h"
#include "wtf8.h"

namespace arenakv {

AddonData::AddonData() = default;
AddonData::~AddonData() {
  // The environment is being torn down (its thread exits or was terminated): a shared store's state learns it was
  // not closed by its engine (store_state.h `dying`).
  for (StoreState* s : stores) {
    if (s != nullptr) s->dying = true;
    delete s;
  }
}

namespace {

constexpr size_t kMaxScratchBytes = 64 * 1024 * 1024;

AddonData* addonData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

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

Napi::Value number(Napi::Env env, double v) { return Napi::Number::New(env, v); }

Napi::Value registerState(Napi::Env env, std::unique_ptr<StoreState> state, size_t scratchBytes);

// open(ownArena, scratchBytes) → id; scratch(id) then gives the scratch buffer.
Napi::Value open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool ownArena = boolArg(info, 0, "ownArena");
  auto scratchBytes = static_cast<size_t>(integerArg(info, 1, "scratchBytes", 16, kMaxScratchBytes));
  auto state = std::make_unique<StoreState>(std::make_shared<Store>());
  std::string error;
  if (!state->store.open(ownArena, &error)) {
    // The one arenas.create failure a user can cause: more engines open than jemalloc has arena indices.
    if (jectl::arenaIndicesExhausted()) {
      fail(env, ErrorKind::kArenaKV, "ERR_ARENA_LIMIT", "cannot open another engine: " + jectl::arenaLimitText());
    }
    fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", error);
  }
  return registerState(env, std::move(state), scratchBytes);
}

// The blocks one environment reads through (scratch, cells), then the id: shared by open and attach.
Napi::Value registerState(Napi::Env env, std::unique_ptr<StoreState> state, size_t scratchBytes) {
  state->scratchBlock.reset(SharedBlock::create(scratchBytes));
  if (!state->scratchBlock) {
    fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "OOM the allocator could not allocate " + std::to_string(scratchBytes) + " bytes");
  }
  state->cellsBlock.reset(SharedBlock::create(sizeof(Cells)));
  if (!state->cellsBlock) fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "OOM the allocator could not allocate the cells");
  napi_value cells = state->cellsBlock->expose(env);
  if (cells == nullptr) fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "could not create the cells ArrayBuffer");
  state->cellsRef = Napi::Persistent(Napi::ArrayBuffer(env, cells));
  state->cells = reinterpret_cast<Cells*>(state->cellsBlock->data());
  state->store.setUsedCell(&state->cells->usedBytes);
  state->scratch = state->scratchBlock->data();
  state->scratchLen = scratchBytes;
  state->heldShare = state->scratchBlock->usable() + state->cellsBlock->usable();
  if (state->shared) {
    state->store.addHeldBytes(state->heldShare);
  } else {
    state->store.setHeldBytes(state->heldShare);
  }
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

// ---- sharing (ARCHITECTURE.md "Sharing") ----

// The shared stores by token: process-global, as the store itself is once shared. Weak: a token names a store only
// while some environment holds it, so a descriptor outliving every engine attaches to nothing (ERR_CLOSED).
std::mutex sharedStoresMutex;
std::map<uint64_t, std::weak_ptr<Store>>* sharedStores = new std::map<uint64_t, std::weak_ptr<Store>>();
uint64_t nextSharedToken = 1;

// share(id) → token: makes the store attachable from other environments (every later call on it is made under the
// engine lock, which JavaScript holds). Sharing twice gives the same store a second token.
Napi::Value share(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(env, info[0]);
  s->shared = true;
  std::lock_guard<std::mutex> lock(sharedStoresMutex);
  for (auto it = sharedStores->begin(); it != sharedStores->end();) {
    it = it->second.expired() ? sharedStores->erase(it) : std::next(it);
  }
  uint64_t token = nextSharedToken++;
  (*sharedStores)[token] = s->storeOwner;
  return number(env, static_cast<double>(token));
}

// attach(token, scratchBytes) → id: this environment's state over the shared store a token names (its own scratch
// and cells, counted in the store's used bytes); ERR_CLOSED once every engine over it has closed.
Napi::Value attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto token = static_cast<uint64_t>(integerArg(info, 0, "token", 1, int64_t{9007199254740991}));
  auto scratchBytes = static_cast<size_t>(integerArg(info, 1, "scratchBytes", 16, kMaxScratchBytes));
  std::shared_ptr<Store> store;
  {
    std::lock_guard<std::mutex> lock(sharedStoresMutex);
    auto it = sharedStores->find(token);
    if (it != sharedStores->end()) store = it->second.lock();
  }
  if (!store) fail(env, ErrorKind::kArenaKV, "ERR_CLOSED", "the shared engine is closed (every engine over it has closed)");
  auto state = std::make_unique<StoreState>(std::move(store));
  state->shared = true;
  return registerState(env, std::move(state), scratchBytes);
}

// setLock(id, words: Int32Array over the shared header, lockIndex, poisonIndex, tag): where the engine lock and the
// poisoned flag live and the tag this engine locks with, for the teardown of a dying environment (store_state.cc).
Napi::Value setLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(env, info[0]);
  if (!s->shared) fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "the store is not shared");
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  bool typed = false;
  if (napi_is_typedarray(env, info[1], &typed) != napi_ok || !typed ||
      napi_get_typedarray_info(env, info[1], &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_int32_array) {
    fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "words must be an Int32Array");
  }
  auto lockIndex = static_cast<size_t>(integerArg(info, 2, "lockIndex", 0, 1 << 20));
  auto poisonIndex = static_cast<size_t>(integerArg(info, 3, "poisonIndex", 0, 1 << 20));
  auto tag = static_cast<int32_t>(integerArg(info, 4, "tag", 1, 2147483647));
  if (lockIndex >= length || poisonIndex >= length) fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", "index past the words");
  s->lockWord = static_cast<int32_t*>(data) + lockIndex;
  s->poisonWord = static_cast<int32_t*>(data) + poisonIndex;
  s->lockTag = tag;
  return env.Undefined();
}

// reopen(id): FLUSHALL of a shared store: every slot and the heap go and a fresh heap replaces it, in place, so
// every attached environment keeps its state (ARCHITECTURE.md "Sharing").
Napi::Value reopen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(env, info[0]);
  std::string error;
  if (!s->store.reopen(&error)) fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", error);
  s->store.setUsedCell(&s->cells->usedBytes);
  return env.Undefined();
}

// cells(id) → the store's cells ArrayBuffer (store_state.h Cells), the same one on every call.
Napi::Value cells(const Napi::CallbackInfo& info) { return storeArg(info.Env(), info[0])->cellsRef.Value(); }

// scratch(id) → the store's scratch ArrayBuffer (the same one on every call: it is made once, at open).
Napi::Value scratch(const Napi::CallbackInfo& info) { return storeArg(info.Env(), info[0])->scratchRef.Value(); }

Napi::Value replace(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info.Env(), info[0]);
  TrimBuffers trim(s);
  uint32_t handle = 0;
  const SlotHeader* slot = slotArg(info, s, 1, &handle);
  replaceValue(info.Env(), s, handle, slot, valueArg(info.Env(), info[2]));
  return info.Env().Undefined();
}

// replaceIfKey(id, handle, key, value) → whether the slot held key (and so was replaced): one call per overwrite.
Napi::Value replaceIfKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(info.Env(), info[0]);
  TrimBuffers trim(s);
  uint32_t handle = 0;
  const SlotHeader* slot = slotArg(info, s, 1, &handle);
  keyArg(info.Env(), info[2], s);
  ValueArg value = valueArg(info.Env(), info[3]);
  if (!keyMatches(s, slot)) return Napi::Boolean::New(env, false);
  replaceValue(info.Env(), s, handle, slot, value);
  return Napi::Boolean::New(env, true);
}

Napi::Value keyEquals(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info.Env(), info[0]);
  TrimBuffers trim(s);
  const SlotHeader* slot = slotArg(info, s, 1);
  keyArg(info.Env(), info[2], s);
  return Napi::Boolean::New(info.Env(), keyMatches(s, slot));
}

Napi::Value read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(info.Env(), info[0]);
  TrimBuffers trim(s);
  const SlotHeader* slot = slotArg(info, s, 1);
  keyArg(info.Env(), info[2], s);
  if (!keyMatches(s, slot)) return number(env, -1);
  if (slot->valueLen <= s->scratchLen) std::memcpy(s->scratch, Store::valueOf(slot), slot->valueLen);
  return number(env, slot->valueLen);
}

Napi::Value readStringIfKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(info.Env(), info[0]);
  TrimBuffers trim(s);
  const SlotHeader* slot = slotArg(info, s, 1);
  keyArg(info.Env(), info[2], s);
  if (!keyMatches(s, slot)) return env.Undefined();
  return Napi::String::New(env, reinterpret_cast<const char*>(Store::valueOf(slot)), slot->valueLen);
}

Napi::Value readInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(info.Env(), info[0]);
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
  StoreState* s = storeArg(info.Env(), info[0]);
  const SlotHeader* slot = slotArg(info, s, 1);
  return Napi::String::New(info.Env(), reinterpret_cast<const char*>(Store::valueOf(slot)), slot->valueLen);
}

Napi::Value key(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info.Env(), info[0]);
  TrimBuffers trim(s);
  const SlotHeader* slot = slotArg(info, s, 1);
  wtf8::decode(Store::keyOf(slot), slot->keyLen, &s->units);
  return Napi::String::New(info.Env(), s->units);
}

Napi::Value valueLength(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info.Env(), info[0]);
  return number(info.Env(), slotArg(info, s, 1)->valueLen);
}

Napi::Value usableSize(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info.Env(), info[0]);
  uint32_t handle = 0;
  slotArg(info, s, 1, &handle);
  return number(info.Env(), static_cast<double>(s->store.usableSize(handle)));
}

// free(id, handle) → the usable bytes released, so callers keep their accounting without another call.
Napi::Value free(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info.Env(), info[0]);
  uint32_t handle = 0;
  slotArg(info, s, 1, &handle);
  size_t usable = s->store.usableSize(handle);
  s->store.free(handle);
  return number(info.Env(), static_cast<double>(usable));
}

// freeMany(id, handles: Uint32Array, count): all-or-nothing, so a bad or repeated handle frees nothing.
Napi::Value freeMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(info.Env(), info[0]);
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
  return number(info.Env(), static_cast<double>(storeArg(info.Env(), info[0])->store.usedBytes()));
}

// setExtraBytes(id, bytes): the bytes the engine holds outside the store, for the peak (called when they change).
Napi::Value setExtraBytes(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info.Env(), info[0]);
  s->store.setExtraBytes(static_cast<size_t>(integerArg(info, 1, "bytes", 0, INT64_C(1) << 50)));
  return info.Env().Undefined();
}

Napi::Value peakBytes(const Napi::CallbackInfo& info) {
  return number(info.Env(), static_cast<double>(storeArg(info.Env(), info[0])->store.peakBytes()));
}

Napi::Value count(const Napi::CallbackInfo& info) {
  return number(info.Env(), static_cast<double>(storeArg(info.Env(), info[0])->store.count()));
}

Napi::Value arena(const Napi::CallbackInfo& info) { return number(info.Env(), storeArg(info.Env(), info[0])->store.heap().arena); }

// Stats of this store's own arena, after flushing its thread cache so `allocated` is exact.
Napi::Value arenaStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(info.Env(), info[0]);
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
  StoreState* s = storeArg(info.Env(), info[0]);
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
  StoreState* s = storeArg(info.Env(), info[0]);
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
  store.Set("share", Napi::Function::New<share>(env, "share"));
  store.Set("attach", Napi::Function::New<attach>(env, "attach"));
  store.Set("setLock", Napi::Function::New<setLock>(env, "setLock"));
  store.Set("reopen", Napi::Function::New<reopen>(env, "reopen"));
  store.Set("scratch", Napi::Function::New<scratch>(env, "scratch"));
  store.Set("cells", Napi::Function::New<cells>(env, "cells"));
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
  defineHotFunctions(env, store);
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
