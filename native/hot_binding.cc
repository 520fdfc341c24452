// The fused hot paths (ARCHITECTURE.md, "The path of a GET"): one native call per GET, per overwrite and per batch
// of reads, over the keyspace tables JS binds here after every change (table_view.h). Written against the raw
// N-API: on these calls node-addon-api's wrappers and per-argument checks cost more than the work itself. Every
// argument is still validated, and every C++ exception becomes a JS exception before returning (guarded).
#include "hot_binding.h"

#include <cmath>
#include <cstring>
#include <ctime>
#include <exception>

#include "args.h"
#include "errors.h"
#include "store_state.h"
#include "table_view.h"

namespace arenakv {
namespace {

template <napi_value (*F)(napi_env, napi_callback_info)>
napi_value guarded(napi_env env, napi_callback_info info) {
  try {
    return F(env, info);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
  } catch (const std::exception& e) {
    napi_throw_error(env, "ERR_NATIVE", e.what());
  }
  return nullptr;
}

// Reads exactly n arguments; fewer is a TypeError.
template <size_t N>
void args(napi_env env, napi_callback_info info, napi_value (&argv)[N]) {
  size_t argc = N;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < N) fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "expected " + std::to_string(N) + " arguments");
}

napi_value int32(napi_env env, int32_t v) {
  napi_value out = nullptr;
  napi_create_int32(env, v, &out);
  return out;
}

// The time a call works at, read only as exactly as it needs: lazy expiry and the stamps an LRU policy orders
// evictions by need the wall clock in whole ms (CLOCK_REALTIME); otherwise (the stamp only serves OBJECT IDLETIME,
// LFU counters age by the minute) the coarse clock serves, at a fraction of the cost. With
// nativeClock false, the time is the one JS wrote in the cells (a clock of its own: fake timers, a test's clock).
// Whatever the call used is left in cells.now for JS.
class CallClock {
 public:
  CallClock(napi_env env, napi_value nativeClock, StoreState* s) : cells_(s->cells) {
    if (napi_get_value_bool(env, nativeClock, &native_) != napi_ok) {
      fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "nativeClock must be a boolean");
    }
  }
  // Whatever path the call took, JS finds a current time in cells.now (it stamps an inserted key and ages LFU
  // counters with it): the coarse clock when the call read none.
  ~CallClock() { coarse(); }
  CallClock(const CallClock&) = delete;
  CallClock& operator=(const CallClock&) = delete;
  double exact() {
    if (native_ && !exact_) {
      exact_ = true;
      cells_->now = read(CLOCK_REALTIME);
    }
    return cells_->now;
  }
  double coarse() {
    if (native_ && !exact_ && !coarse_) {
      coarse_ = true;
      cells_->now = read(CLOCK_REALTIME_COARSE);
    }
    return cells_->now;
  }

 private:
  static double read(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return static_cast<double>(static_cast<int64_t>(ts.tv_sec) * 1000 + static_cast<int64_t>(ts.tv_nsec / 1000000));
  }
  Cells* cells_;
  bool native_ = false;
  bool exact_ = false;
  bool coarse_ = false;
};

StoreState* boundStore(napi_env env, napi_value id) {
  StoreState* s = storeArg(env, id);
  if (!s->tables.bound) fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "the keyspace tables are not bound");
  return s;
}

void touch(const TableView& t, uint32_t index, CallClock& clock) {
  if (!t.lfu && index < t.metaLength) t.lru[index] = lruClock(t.exactStamps ? clock.exact() : clock.coarse());
}

// The key's hash as JS computed it (dict.ts hashKey, the hash the table was built with). A wrong one can only
// make the probe miss.
int32_t hashArg(napi_env env, napi_value v) {
  int32_t hash = 0;
  if (napi_get_value_int32(env, v, &hash) != napi_ok) fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "hash must be a number");
  return hash;
}

// Starts the cache misses of a lookup at once rather than one after another: the first slot with the key's hash is
// nearly always the key, so its slot-table entry and its LRU and expire-list entries are fetched together (the
// slot itself needs the entry first).
void prefetchCandidate(const StoreState* s, int32_t hash) {
  const TableView& t = s->tables;
  uint32_t candidate = lookupTables(t, hash, [](uint32_t) { return true; });
  if (candidate == 0) return;
  s->store.prefetchEntry(candidate);
  uint32_t index = candidate & Store::kIndexMask;
  if (index < t.metaLength) {
    __builtin_prefetch(&t.lru[index], 1);
    if (anyVolatile(t)) __builtin_prefetch(&t.volatilePos[index]);
  }
}

// The slot holding `key` (WTF-8) among those with its hash, and its handle; nullptr (handle 0) when none does.
const SlotHeader* findKey(const StoreState* s, int32_t hash, const std::string& key, uint32_t* handle) {
  const SlotHeader* found = nullptr;
  *handle = lookupTables(s->tables, hash, [&](uint32_t h) {
    const SlotHeader* slot = s->store.find(h);
    if (slot == nullptr || !keyIs(slot, key)) return false;
    found = slot;
    return true;
  });
  return found;
}

// get(id, key, hash, nativeClock) → the value's length (bytes in scratch when they fit), -1 when the key is
// absent, -2 when it is there but expired (lazy expiry is JS's: cells.handle names it). cells.handle is the key's
// handle. A hit stamps the LRU clock (LFU counters are JS's). JS calls it once its own probe has found a slot
// with the key's fingerprint: a miss costs no call.
napi_value get(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  args(env, info, argv);
  StoreState* s = boundStore(env, argv[0]);
  TrimBuffers trim(s);
  int32_t hash = hashArg(env, argv[2]);
  // The misses resolve while the key is read.
  prefetchCandidate(s, hash);
  keyArg(env, argv[1], s);
  CallClock clock(env, argv[3], s);
  const TableView& t = s->tables;
  s->cells->hash = hash;
  uint32_t handle = 0;
  const SlotHeader* found = findKey(s, hash, s->keyBytes, &handle);
  s->cells->handle = static_cast<int32_t>(handle);
  if (found == nullptr) return int32(env, -1);
  uint32_t index = handle & Store::kIndexMask;
  if (isExpired(t, index, clock)) return int32(env, -2);
  touch(t, index, clock);
  if (found->valueLen <= s->scratchLen) std::memcpy(s->scratch, Store::valueOf(found), found->valueLen);
  return int32(env, static_cast<int32_t>(found->valueLen));
}

// upsert(id, key, hash, value, nativeClock) → the key's handle after replacing its value in place (one call per
// overwrite), 0 when the key is absent (nothing written), -1 when a slot with the key's hash has an expire time in
// the past (keyspace.ts REPLACE_EXPIRED: JS expires it first).
napi_value upsert(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  args(env, info, argv);
  StoreState* s = boundStore(env, argv[0]);
  TrimBuffers trim(s);
  int32_t hash = hashArg(env, argv[2]);
  // The misses resolve while the arguments are read.
  prefetchCandidate(s, hash);
  keyArg(env, argv[1], s);
  ValueArg value = valueArg(env, argv[3]);
  CallClock clock(env, argv[4], s);
  const TableView& t = s->tables;
  s->cells->hash = hash;
  bool expired = false;
  const SlotHeader* found = nullptr;
  uint32_t handle = lookupTables(t, hash, [&](uint32_t h) {
    if (isExpired(t, h & Store::kIndexMask, clock)) {
      expired = true;
      return true;
    }
    const SlotHeader* slot = s->store.find(h);
    if (slot == nullptr || !keyMatches(s, slot)) return false;
    found = slot;
    return true;
  });
  s->cells->handle = static_cast<int32_t>(handle);
  if (expired) return int32(env, -1);
  if (found == nullptr) return int32(env, 0);
  replaceValue(env, s, handle, found, value);
  touch(t, handle & Store::kIndexMask, clock);
  return int32(env, static_cast<int32_t>(handle));
}

// put(id, key, value) → the new slot's handle: a key JS knows to be absent (the insert after a missed upsert).
napi_value put(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  args(env, info, argv);
  StoreState* s = storeArg(env, argv[0]);
  TrimBuffers trim(s);
  keyArg(env, argv[1], s);
  ValueArg value = valueArg(env, argv[2]);
  uint32_t handle = 0;
  uint8_t* dst = nullptr;
  size_t spare = 0;
  Store::Status st = s->store.put(s->keyBytes.data(), s->keyBytes.size(), value.length, &handle, &dst, &spare);
  if (st != Store::Status::kOk) failStatus(env, st, sizeof(SlotHeader) + s->keyBytes.size() + value.length);
  writeValue(env, s, value, dst, spare);
  return int32(env, static_cast<int32_t>(handle));
}

// mgetInto(id, keys, start, target, offset, lengths, nativeClock) → the index of the first key not processed.
// Values go back to back into target from offset, lengths[i] their lengths or -1 for a missing key. It stops
// before a value that does not fit, and at an expired key (cells.handle non-zero names it; JS expires it and goes
// on after it). cells.hits / misses count this call's lookups, cells.batchOffset is where writing stopped.
// Keys go through in batches whose cache misses overlap: every key's table line is prefetched, then every
// candidate's slot-table entry, then every slot, and only then are keys verified and values copied.
napi_value mgetInto(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  args(env, info, argv);
  StoreState* s = boundStore(env, argv[0]);
  TrimBuffers trim(s, true);
  bool isArray = false;
  uint32_t count = 0;
  if (napi_is_array(env, argv[1], &isArray) != napi_ok || !isArray || napi_get_array_length(env, argv[1], &count) != napi_ok) {
    fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "keys must be an array of strings");
  }
  double startD = 0;
  if (napi_get_value_double(env, argv[2], &startD) != napi_ok || !(startD >= 0 && startD <= count) || startD != std::floor(startD)) {
    fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", "start must be an integer index into keys");
  }
  auto typed = [&](napi_value v, napi_typedarray_type want, const char* name, size_t* length) -> void* {
    bool is = false;
    napi_typedarray_type type = napi_int8_array;
    void* data = nullptr;
    if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
        napi_get_typedarray_info(env, v, &type, length, &data, nullptr, nullptr) != napi_ok || type != want) {
      fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", std::string(name) + " has the wrong type");
    }
    return data;
  };
  size_t targetLength = 0, lengthsLength = 0;
  auto* target = static_cast<uint8_t*>(typed(argv[3], napi_uint8_array, "target", &targetLength));
  auto* lengths = static_cast<int32_t*>(typed(argv[5], napi_int32_array, "lengths", &lengthsLength));
  if (lengthsLength < count) fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", "lengths must have an element per key");
  double offsetD = 0;
  if (napi_get_value_double(env, argv[4], &offsetD) != napi_ok || !(offsetD >= 0 && offsetD <= targetLength) || offsetD != std::floor(offsetD)) {
    fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", "offset must be an integer within target");
  }
  CallClock clock(env, argv[6], s);
  const TableView& t = s->tables;
  Cells* cells = s->cells;
  cells->handle = 0;
  cells->hits = 0;
  cells->misses = 0;
  auto offset = static_cast<size_t>(offsetD);
  int32_t hashes[StoreState::kBatch];
  uint32_t candidates[StoreState::kBatch];
  for (auto i = static_cast<uint32_t>(startD); i < count;) {
    uint32_t batch = count - i < StoreState::kBatch ? count - i : static_cast<uint32_t>(StoreState::kBatch);
    // Stage 1: read and hash every key, prefetch its home slot in each table.
    for (uint32_t b = 0; b < batch; b++) {
      napi_value key = nullptr;
      if (napi_get_element(env, argv[1], i + b, &key) != napi_ok) fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "could not read keys");
      size_t n = keyInto(env, key, &s->batchUnits[b], &s->batchKeys[b]);
      hashes[b] = hashUnits(t.seed, s->batchUnits[b].data(), n);
      __builtin_prefetch(&t.table[2 * (static_cast<uint32_t>(hashes[b]) & t.mask)]);
      if (t.oldTable != nullptr) __builtin_prefetch(&t.oldTable[2 * (static_cast<uint32_t>(hashes[b]) & t.oldMask)]);
    }
    // Stage 2: the first fingerprint match of each key; prefetch its slot-table entry and its metadata.
    for (uint32_t b = 0; b < batch; b++) {
      candidates[b] = lookupTables(t, hashes[b], [](uint32_t) { return true; });
      if (candidates[b] == 0) continue;
      s->store.prefetchEntry(candidates[b]);
      uint32_t index = candidates[b] & Store::kIndexMask;
      if (index < t.metaLength) {
        __builtin_prefetch(&t.lru[index], 1);
        if (anyVolatile(t)) __builtin_prefetch(&t.volatilePos[index]);
      }
    }
    // Stage 3: prefetch each candidate's slot (its key and the start of its value).
    for (uint32_t b = 0; b < batch; b++) {
      if (candidates[b] != 0) s->store.prefetchSlot(candidates[b]);
    }
    // Stage 4: the lookups proper, now mostly from the cache, in key order.
    for (uint32_t b = 0; b < batch; b++, i++) {
      uint32_t handle = 0;
      const SlotHeader* found = candidates[b] == 0 ? nullptr : findKey(s, hashes[b], s->batchKeys[b], &handle);
      if (found == nullptr) {
        lengths[i] = -1;
        cells->misses++;
        continue;
      }
      uint32_t index = handle & Store::kIndexMask;
      if (isExpired(t, index, clock)) {
        cells->handle = static_cast<int32_t>(handle);
        cells->hash = hashes[b];
        cells->batchOffset = static_cast<double>(offset);
        return int32(env, static_cast<int32_t>(i));
      }
      if (found->valueLen > targetLength - offset) {
        cells->batchOffset = static_cast<double>(offset);
        return int32(env, static_cast<int32_t>(i));
      }
      std::memcpy(target + offset, Store::valueOf(found), found->valueLen);
      offset += found->valueLen;
      lengths[i] = static_cast<int32_t>(found->valueLen);
      touch(t, index, clock);
      cells->hits++;
    }
  }
  cells->batchOffset = static_cast<double>(offset);
  return int32(env, static_cast<int32_t>(count));
}

// bindTables(id, table, oldTable | null, lru, volatilePos, volatileExpires, seed, lfu, exactStamps): the arrays as
// they are now (Keyspace.arraysChanged calls it after every replacement). Each is held by a reference while bound.
Napi::Value bindTables(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StoreState* s = storeArg(env, info[0]);
  TableView view;
  auto array = [&](size_t i, napi_typedarray_type want, const char* name, size_t* length) -> void* {
    Napi::Value v = info[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != want) {
      fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", std::string(name) + " has the wrong type");
    }
    // napi_get_typedarray_info gives the data pointer for arrays over a SharedArrayBuffer too (a shared engine's
    // tables, ARCHITECTURE.md "Sharing"), where ArrayBuffer() would refuse the buffer.
    napi_typedarray_type type = napi_int8_array;
    void* data = nullptr;
    if (napi_get_typedarray_info(env, v, &type, length, &data, nullptr, nullptr) != napi_ok) {
      fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", std::string(name) + " has the wrong type");
    }
    return data;
  };
  auto tableMask = [&](size_t length, const char* name) -> uint32_t {
    size_t size = length / 2;
    if (length % 2 != 0 || size == 0 || (size & (size - 1)) != 0 || size > (size_t{1} << 31)) {
      fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", std::string(name) + " must hold a power of two of slot pairs");
    }
    return static_cast<uint32_t>(size - 1);
  };
  size_t length = 0;
  view.table = static_cast<const int32_t*>(array(1, napi_int32_array, "table", &length));
  view.mask = tableMask(length, "table");
  if (!info[2].IsNull()) {
    view.oldTable = static_cast<const int32_t*>(array(2, napi_int32_array, "oldTable", &length));
    view.oldMask = tableMask(length, "oldTable");
  }
  size_t lruLength = 0, posLength = 0, expiresLength = 0;
  view.lru = static_cast<uint32_t*>(array(3, napi_uint32_array, "lru", &lruLength));
  view.volatilePos = static_cast<const uint32_t*>(array(4, napi_uint32_array, "volatilePos", &posLength));
  view.volatileExpires = static_cast<const double*>(array(5, napi_float64_array, "volatileExpires", &expiresLength));
  if (lruLength != posLength || lruLength > UINT32_MAX || expiresLength > UINT32_MAX) {
    fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", "lru and volatilePos must have the same length");
  }
  view.metaLength = static_cast<uint32_t>(lruLength);
  view.volatileLength = static_cast<uint32_t>(expiresLength);
  view.seed = static_cast<uint32_t>(integerArg(info, 6, "seed", 0, UINT32_MAX));
  view.lfu = boolArg(info, 7, "lfu");
  view.exactStamps = boolArg(info, 8, "exactStamps");
  view.volatileKeys = &s->cells->volatileKeys;
  view.bound = true;
  // References first, then the view: the arrays are held before any pointer into them is kept.
  for (int a = 0; a < TableView::kArrays; a++) {
    s->tableRefs[a] = info[1 + a].IsNull() ? Napi::Reference<Napi::Value>() : Napi::Persistent(info[1 + a]);
  }
  s->tables = view;
  return env.Undefined();
}

// unbindTables(id): forgets the arrays (the keyspace is releasing them); fused calls fail until the next bind.
Napi::Value unbindTables(const Napi::CallbackInfo& info) {
  StoreState* s = storeArg(info.Env(), info[0]);
  s->tables = TableView();
  for (auto& ref : s->tableRefs) ref.Reset();
  return info.Env().Undefined();
}

void defineRaw(Napi::Env env, Napi::Object target, const char* name, napi_callback cb) {
  napi_value fn = nullptr;
  if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn) != napi_ok) {
    fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", std::string("could not create ") + name);
  }
  target.Set(name, Napi::Value(env, fn));
}

}  // namespace

void defineHotFunctions(Napi::Env env, Napi::Object store) {
  defineRaw(env, store, "put", guarded<put>);
  defineRaw(env, store, "get", guarded<get>);
  defineRaw(env, store, "upsert", guarded<upsert>);
  defineRaw(env, store, "mgetInto", guarded<mgetInto>);
  store.Set("bindTables", Napi::Function::New<bindTables>(env, "bindTables"));
  store.Set("unbindTables", Napi::Function::New<unbindTables>(env, "unbindTables"));
}

}  // namespace arenakv
