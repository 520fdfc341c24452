#include "store_state.h"

#include <cmath>

#include "errors.h"
#include "wtf8.h"

namespace arenakv {

bool decodeStoreId(napi_env env, napi_value value, size_t* index, uint32_t* generation) {
  double id = 0;
  if (napi_get_value_double(env, value, &id) != napi_ok) {
    fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "store id must be a number");
  }
  if (!(id >= 0 && id < 9007199254740992.0) || id != std::floor(id)) return false;
  auto whole = static_cast<uint64_t>(id);
  auto span = static_cast<uint64_t>(kIdIndexSpan);
  *index = static_cast<size_t>(whole % span);
  *generation = static_cast<uint32_t>(whole / span);
  return true;
}

StoreState* storeArg(napi_env env, napi_value id) {
  size_t index = 0;
  uint32_t generation = 0;
  if (!decodeStoreId(env, id, &index, &generation)) {
    fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", "store id must be a non-negative integer");
  }
  AddonData* data = Napi::Env(env).GetInstanceData<AddonData>();
  if (index >= data->stores.size() || generation > data->generations[index]) {
    fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", "no store has this id");
  }
  StoreState* state = data->stores[index];
  // A lower generation, or the current one after close: a store that existed and was closed.
  if (state == nullptr || generation < data->generations[index]) {
    fail(env, ErrorKind::kArenaKV, "ERR_CLOSED", "the store is closed");
  }
  // A shared store writes used bytes into the cell of the environment calling it (ARCHITECTURE.md "Sharing").
  if (state->shared) state->store.setUsedCell(&state->cells->usedBytes);
  return state;
}

StoreState::~StoreState() {
  if (!shared) return;
  store.clearUsedCell(&cells->usedBytes);
  if (dying && lockWord != nullptr) {
    int32_t expected = lockTag;
    // Poisoned before the lock is let go: whoever takes it next sees the flag (ARCHITECTURE.md "Sharing").
    if (__atomic_load_n(lockWord, __ATOMIC_SEQ_CST) == lockTag) {
      __atomic_store_n(poisonWord, 1, __ATOMIC_SEQ_CST);
      __atomic_compare_exchange_n(lockWord, &expected, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    }
  }
  if (storeOwner.use_count() > 1) store.subHeldBytes(heldShare);
}

namespace {
[[noreturn]] void keyTooLarge(napi_env env) {
  fail(env, ErrorKind::kArenaKV, "ERR_VALUE_TOO_LARGE", "key is larger than 512 MB (proto-max-bulk-len)");
}
}  // namespace

// The limit applies to the encoded bytes: a key of more than kMaxBytes UTF-16 units is too large whatever it holds
// (every unit encodes to at least one byte); below that, only a key that could exceed it (over a third of it in
// units) is measured exactly.
size_t keyArg(napi_env env, napi_value v, StoreState* s) { return keyInto(env, v, &s->units, &s->keyBytes); }

size_t keyInto(napi_env env, napi_value v, std::u16string* units, std::string* bytes) {
  size_t len = 0;
  if (units->size() < 64) units->resize(64);
  napi_status st = napi_get_value_string_utf16(env, v, units->data(), units->size(), &len);
  if (st == napi_string_expected) fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "key must be a string");
  if (st == napi_ok && len + 1 >= units->size()) {
    st = napi_get_value_string_utf16(env, v, nullptr, 0, &len);
    if (st == napi_ok) {
      if (len > Store::kMaxBytes) keyTooLarge(env);
      units->resize(len + 1);
      st = napi_get_value_string_utf16(env, v, units->data(), units->size(), &len);
    }
  }
  if (st != napi_ok) fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "could not read the key string");
  if (len > Store::kMaxBytes / 3 && wtf8::encodedLength(units->data(), len) > Store::kMaxBytes) keyTooLarge(env);
  wtf8::encode(units->data(), len, bytes);
  return len;
}

ValueArg valueArg(napi_env env, napi_value v) {
  ValueArg arg;
  arg.value = v;
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

void writeValue(napi_env env, StoreState* s, const ValueArg& arg, uint8_t* dst, size_t spare) {
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

void failStatus(napi_env env, Store::Status st, size_t bytes) {
  if (st == Store::Status::kFull) {
    fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "OOM the store has no free slot (67,108,863 slots per store)");
  }
  if (st == Store::Status::kBadHandle) fail(env, ErrorKind::kRange, "ERR_INVALID_HANDLE", "handle is not a live slot");
  fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "OOM the allocator could not allocate " + std::to_string(bytes) + " bytes");
}

void replaceValue(napi_env env, StoreState* s, uint32_t handle, const SlotHeader* slot, const ValueArg& value) {
  uint8_t* dst = nullptr;
  size_t spare = 0;
  Store::Status st = s->store.resize(handle, value.length, &dst, &spare);
  if (st != Store::Status::kOk) failStatus(env, st, sizeof(SlotHeader) + slot->keyLen + value.length);
  writeValue(env, s, value, dst, spare);
}

}  // namespace arenakv
