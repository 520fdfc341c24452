#include "store_binding.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "jemalloc_ctl.h"
#include "stats_object.h"
#include "store.h"
#include "wtf8.h"

namespace arenakv {
namespace {

class StoreWrap : public Napi::ObjectWrap<StoreWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "Store",
                       {
                           InstanceMethod<&StoreWrap::put>("put"),
                           InstanceMethod<&StoreWrap::replace>("replace"),
                           InstanceMethod<&StoreWrap::keyEquals>("keyEquals"),
                           InstanceMethod<&StoreWrap::read>("read"),
                           InstanceMethod<&StoreWrap::readStringIfKey>("readStringIfKey"),
                           InstanceMethod<&StoreWrap::readInto>("readInto"),
                           InstanceMethod<&StoreWrap::readString>("readString"),
                           InstanceMethod<&StoreWrap::key>("key"),
                           InstanceMethod<&StoreWrap::valueLength>("valueLength"),
                           InstanceMethod<&StoreWrap::usableSize>("usableSize"),
                           InstanceMethod<&StoreWrap::free>("free"),
                           InstanceMethod<&StoreWrap::freeMany>("freeMany"),
                           InstanceMethod<&StoreWrap::usedBytes>("usedBytes"),
                           InstanceMethod<&StoreWrap::count>("count"),
                           InstanceMethod<&StoreWrap::arenaStats>("arenaStats"),
                           InstanceMethod<&StoreWrap::defragStep>("defragStep"),
                           InstanceMethod<&StoreWrap::close>("close"),
                           InstanceAccessor<&StoreWrap::arena>("arena"),
                       });
  }

  // new Store(ownArena: boolean, scratchBytes: number)
  explicit StoreWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<StoreWrap>(info) {
    Napi::Env env = info.Env();
    bool ownArena = boolArg(info, 0, "ownArena");
    auto scratchBytes = static_cast<size_t>(integerArg(info, 1, "scratchBytes", 16, 64 * 1024 * 1024));
    std::string error;
    if (!store_.open(ownArena, &error)) fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", error);
    // The scratch buffer is JS-owned memory made once; reads copy into it so no Buffer is created per call.
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, scratchBytes);
    Napi::Uint8Array scratch = Napi::Uint8Array::New(env, scratchBytes, ab, 0);
    scratch_ = static_cast<uint8_t*>(ab.Data());
    scratchLen_ = scratchBytes;
    scratchRef_ = Napi::Persistent(scratch);
    scratchBuffer_ = Napi::Persistent(ab);
    info.This().As<Napi::Object>().DefineProperty(
        Napi::PropertyDescriptor::Value("scratch", scratch, napi_enumerable));
  }

 private:
  void ensureOpen(Napi::Env env) const {
    if (!store_.isOpen()) fail(env, ErrorKind::kArenaKV, "ERR_CLOSED", "the store is closed");
  }

  const SlotHeader* slotArg(const Napi::CallbackInfo& info, size_t i, uint32_t* handleOut = nullptr) {
    ensureOpen(info.Env());
    auto handle = static_cast<uint32_t>(integerArg(info, i, "handle", 0, UINT32_MAX));
    const SlotHeader* slot = store_.find(handle);
    if (slot == nullptr) {
      fail(info.Env(), ErrorKind::kRange, "ERR_INVALID_HANDLE", "handle " + std::to_string(handle) +
                                                                    " is not a live slot (freed, stale or never issued)");
    }
    if (handleOut) *handleOut = handle;
    return slot;
  }

  // Reads a JS string key as UTF-16 and encodes it to WTF-8 in keyBytes_.
  void keyArg(const Napi::CallbackInfo& info, size_t i) {
    Napi::Env env = info.Env();
    Napi::Value v = info[i];
    if (!v.IsString()) fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "key must be a string");
    size_t len = 0;
    if (units_.size() < 64) units_.resize(64);
    napi_status st = napi_get_value_string_utf16(env, v, units_.data(), units_.size(), &len);
    if (st == napi_ok && len + 1 >= units_.size()) {
      st = napi_get_value_string_utf16(env, v, nullptr, 0, &len);
      if (st == napi_ok) {
        if (len * 3 > Store::kMaxBytes) fail(env, ErrorKind::kArenaKV, "ERR_VALUE_TOO_LARGE", "key is larger than 512 MB");
        units_.resize(len + 1);
        st = napi_get_value_string_utf16(env, v, units_.data(), units_.size(), &len);
      }
    }
    if (st != napi_ok) fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "could not read the key string");
    wtf8::encode(units_.data(), len, &keyBytes_);
    if (keyBytes_.size() > Store::kMaxBytes) fail(env, ErrorKind::kArenaKV, "ERR_VALUE_TOO_LARGE", "key is larger than 512 MB");
  }

  bool keyMatches(const SlotHeader* slot) const {
    return slot->keyLen == keyBytes_.size() && std::memcmp(Store::keyOf(slot), keyBytes_.data(), slot->keyLen) == 0;
  }

  // The value argument, as a byte count now and a writer for later (after the slot is allocated).
  struct ValueArg {
    Napi::Value value;
    const uint8_t* bytes = nullptr;  // set for Uint8Array values
    size_t length = 0;
    bool isString = false;
  };

  ValueArg valueArg(const Napi::CallbackInfo& info, size_t i) {
    Napi::Env env = info.Env();
    ValueArg arg;
    arg.value = info[i];
    if (arg.value.IsString()) {
      arg.isString = true;
      if (napi_get_value_string_utf8(env, arg.value, nullptr, 0, &arg.length) != napi_ok) {
        fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "could not read the value string");
      }
    } else if (arg.value.IsTypedArray() && arg.value.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
      Napi::Uint8Array bytes = arg.value.As<Napi::Uint8Array>();
      arg.bytes = bytes.Data();
      arg.length = bytes.ByteLength();
    } else {
      fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "value must be a string or a Uint8Array");
    }
    if (arg.length > Store::kMaxBytes) {
      fail(env, ErrorKind::kArenaKV, "ERR_VALUE_TOO_LARGE", "value is larger than 512 MB (proto-max-bulk-len)");
    }
    return arg;
  }

  void writeValue(Napi::Env env, const ValueArg& arg, uint8_t* dst, size_t spare) {
    if (!arg.isString) {
      if (arg.length) std::memcpy(dst, arg.bytes, arg.length);
      return;
    }
    // napi writes a terminating NUL: write in place when the allocation has a spare byte, else via a copy.
    size_t written = 0;
    if (spare >= 1) {
      napi_get_value_string_utf8(env, arg.value, reinterpret_cast<char*>(dst), arg.length + 1, &written);
    } else {
      valueBytes_.resize(arg.length + 1);
      napi_get_value_string_utf8(env, arg.value, valueBytes_.data(), valueBytes_.size(), &written);
      std::memcpy(dst, valueBytes_.data(), arg.length);
    }
  }

  void failStatus(Napi::Env env, Store::Status st, size_t bytes) {
    if (st == Store::Status::kFull) {
      fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "OOM the store has no free slot (67,108,863 slots per store)");
    }
    if (st == Store::Status::kBadHandle) fail(env, ErrorKind::kRange, "ERR_INVALID_HANDLE", "handle is not a live slot");
    fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "OOM the allocator could not allocate " + std::to_string(bytes) + " bytes");
  }

  Napi::Value put(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ensureOpen(env);
    keyArg(info, 0);
    ValueArg value = valueArg(info, 1);
    uint32_t handle = 0;
    uint8_t* dst = nullptr;
    size_t spare = 0;
    Store::Status st = store_.put(keyBytes_.data(), keyBytes_.size(), value.length, &handle, &dst, &spare);
    if (st != Store::Status::kOk) failStatus(env, st, sizeof(SlotHeader) + keyBytes_.size() + value.length);
    writeValue(env, value, dst, spare);
    return Napi::Number::New(env, handle);
  }

  Napi::Value replace(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t handle = 0;
    const SlotHeader* slot = slotArg(info, 0, &handle);
    ValueArg value = valueArg(info, 1);
    // A Uint8Array may alias the slot's own bytes (a value read back without copying): keep a copy first.
    if (!value.isString && value.bytes >= Store::valueOf(slot) && value.bytes < Store::valueOf(slot) + slot->valueLen) {
      valueBytes_.assign(reinterpret_cast<const char*>(value.bytes), value.length);
      value.bytes = reinterpret_cast<const uint8_t*>(valueBytes_.data());
    }
    uint8_t* dst = nullptr;
    size_t spare = 0;
    Store::Status st = store_.resize(handle, value.length, &dst, &spare);
    if (st != Store::Status::kOk) failStatus(env, st, sizeof(SlotHeader) + slot->keyLen + value.length);
    writeValue(env, value, dst, spare);
    return env.Undefined();
  }

  Napi::Value keyEquals(const Napi::CallbackInfo& info) {
    const SlotHeader* slot = slotArg(info, 0);
    keyArg(info, 1);
    return Napi::Boolean::New(info.Env(), keyMatches(slot));
  }

  Napi::Value read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const SlotHeader* slot = slotArg(info, 0);
    keyArg(info, 1);
    if (!keyMatches(slot)) return Napi::Number::New(env, -1);
    // Someone may have transferred the scratch buffer away (postMessage): never write through a stale pointer.
    if (scratchBuffer_.Value().IsDetached()) fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "the scratch buffer was detached");
    if (slot->valueLen <= scratchLen_) std::memcpy(scratch_, Store::valueOf(slot), slot->valueLen);
    return Napi::Number::New(env, slot->valueLen);
  }

  Napi::Value readStringIfKey(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const SlotHeader* slot = slotArg(info, 0);
    keyArg(info, 1);
    if (!keyMatches(slot)) return env.Undefined();
    return Napi::String::New(env, reinterpret_cast<const char*>(Store::valueOf(slot)), slot->valueLen);
  }

  Napi::Value readInto(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const SlotHeader* slot = slotArg(info, 0);
    Napi::Uint8Array target = bytesArg(info, 1, "target");
    size_t offset = 0;
    if (info.Length() > 2 && !info[2].IsUndefined()) {
      offset = static_cast<size_t>(integerArg(info, 2, "offset", 0, static_cast<int64_t>(target.ByteLength())));
    }
    size_t n = std::min<size_t>(slot->valueLen, target.ByteLength() - offset);
    if (n) std::memcpy(target.Data() + offset, Store::valueOf(slot), n);
    return Napi::Number::New(env, slot->valueLen);
  }

  Napi::Value readString(const Napi::CallbackInfo& info) {
    const SlotHeader* slot = slotArg(info, 0);
    return Napi::String::New(info.Env(), reinterpret_cast<const char*>(Store::valueOf(slot)), slot->valueLen);
  }

  Napi::Value key(const Napi::CallbackInfo& info) {
    const SlotHeader* slot = slotArg(info, 0);
    std::u16string units;
    wtf8::decode(Store::keyOf(slot), slot->keyLen, &units);
    return Napi::String::New(info.Env(), units);
  }

  Napi::Value valueLength(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), slotArg(info, 0)->valueLen);
  }

  Napi::Value usableSize(const Napi::CallbackInfo& info) {
    uint32_t handle = 0;
    slotArg(info, 0, &handle);
    return Napi::Number::New(info.Env(), static_cast<double>(store_.usableSize(handle)));
  }

  Napi::Value free(const Napi::CallbackInfo& info) {
    uint32_t handle = 0;
    slotArg(info, 0, &handle);
    store_.free(handle);
    return info.Env().Undefined();
  }

  // freeMany(handles: Uint32Array, count): all-or-nothing, so a bad or repeated handle frees nothing.
  Napi::Value freeMany(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ensureOpen(env);
    Napi::Value v = info[0];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "handles must be a Uint32Array");
    }
    Napi::Uint32Array handles = v.As<Napi::Uint32Array>();
    auto count = static_cast<size_t>(integerArg(info, 1, "count", 0, static_cast<int64_t>(handles.ElementLength())));
    std::vector<uint32_t> batch(handles.Data(), handles.Data() + count);
    for (uint32_t h : batch) {
      if (!store_.valid(h)) {
        fail(env, ErrorKind::kRange, "ERR_INVALID_HANDLE", "handle " + std::to_string(h) + " is not a live slot; nothing was freed");
      }
    }
    std::vector<uint32_t> sorted(batch);
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      fail(env, ErrorKind::kRange, "ERR_INVALID_HANDLE", "a handle appears twice; nothing was freed");
    }
    for (uint32_t h : batch) store_.free(h);
    return env.Undefined();
  }

  Napi::Value usedBytes(const Napi::CallbackInfo& info) {
    ensureOpen(info.Env());
    return Napi::Number::New(info.Env(), static_cast<double>(store_.usedBytes()));
  }

  Napi::Value count(const Napi::CallbackInfo& info) {
    ensureOpen(info.Env());
    return Napi::Number::New(info.Env(), static_cast<double>(store_.count()));
  }

  // Stats of this store's own arena, after flushing its thread cache so `allocated` is exact.
  Napi::Value arenaStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ensureOpen(env);
    jectl::ArenaStats s;
    if (store_.heap().arena < 0) fail(env, ErrorKind::kArenaKV, "ERR_UNSUPPORTED", "this store has no arena of its own");
    zheapFlush(store_.heap());
    if (!jectl::arenaStats(static_cast<unsigned>(store_.heap().arena), &s)) {
      fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "could not read the arena's stats");
    }
    return arenaStatsObject(env, s);
  }

  // defragStep(cursor, maxScan) → [nextCursor, hits, misses]; jemalloc only (it alone gives placement hints).
  Napi::Value defragStep(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ensureOpen(env);
    auto cursor = static_cast<uint32_t>(integerArg(info, 0, "cursor", 0, Store::kMaxSlots));
    auto maxScan = static_cast<uint32_t>(integerArg(info, 1, "maxScan", 1, Store::kMaxSlots));
    if (store_.heap().arena < 0) fail(env, ErrorKind::kArenaKV, "ERR_UNSUPPORTED", "active defragmentation needs the jemalloc build");
    Store::DefragStep step = store_.defrag(cursor, maxScan);
    Napi::Array out = Napi::Array::New(env, 3);
    out.Set(0u, Napi::Number::New(env, step.next));
    out.Set(1u, Napi::Number::New(env, static_cast<double>(step.hits)));
    out.Set(2u, Napi::Number::New(env, static_cast<double>(step.misses)));
    return out;
  }

  Napi::Value arena(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), store_.heap().arena); }

  Napi::Value close(const Napi::CallbackInfo& info) {
    store_.close();
    return info.Env().Undefined();
  }

  Store store_;
  Napi::Reference<Napi::Uint8Array> scratchRef_;
  Napi::Reference<Napi::ArrayBuffer> scratchBuffer_;
  uint8_t* scratch_ = nullptr;
  size_t scratchLen_ = 0;
  std::u16string units_;
  std::string keyBytes_;
  std::string valueBytes_;
};

}  // namespace

Napi::Function defineStoreClass(Napi::Env env) { return StoreWrap::define(env); }

}  // namespace arenakv
