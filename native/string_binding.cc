// The string commands' native operations on a live slot (Redis's t_string.c and bitops.c work on the sds in
// place): APPEND and SETRANGE grow the value through the allocator (zrealloc: in place when the size class
// allows), SETBIT flips one bit, GETRANGE, BITCOUNT and BITPOS read a part of the value without copying the rest
// out; RENAME gives a slot its new key and COPY duplicates one, the value never leaving native memory. Each takes (store id, handle, ...) and
// validates every argument as store_binding.cc does.
#include "string_binding.h"

#include <cmath>
#include <cstring>
#include <string>

#include "args.h"
#include "errors.h"
#include "store.h"
#include "store_state.h"
#include "wtf8.h"

namespace arenakv {
namespace {

Napi::Value number(Napi::Env env, double v) { return Napi::Number::New(env, v); }

// The store the id in info[0] names, validated as every store function validates it (store_state.h's storeArg).
Store& storeFromArg(const Napi::CallbackInfo& info) { return storeArg(info.Env(), info[0])->store; }

// The live slot `handle` names; the same RangeError as store_binding.cc's for a stale or unknown handle.
uint32_t handleArg(const Napi::CallbackInfo& info, const Store& store, size_t i) {
  auto handle = static_cast<uint32_t>(integerArg(info, i, "handle", 0, UINT32_MAX));
  if (!store.valid(handle)) {
    fail(info.Env(), ErrorKind::kRange, "ERR_INVALID_HANDLE",
         "handle " + std::to_string(handle) + " is not a live slot (freed, stale or never issued)");
  }
  return handle;
}

// Bytes to write: a Uint8Array as is, a string as its UTF-8 (copied into `holder`, freed when the call ends).
struct Bytes {
  const uint8_t* data = nullptr;
  size_t length = 0;
};

Bytes bytesOrStringArg(const Napi::CallbackInfo& info, size_t i, std::string* holder) {
  Napi::Env env = info.Env();
  Napi::Value v = info[i];
  Bytes out;
  if (v.IsString()) {
    size_t length = 0;
    napi_get_value_string_utf8(env, v, nullptr, 0, &length);
    if (length > Store::kMaxBytes) {
      fail(env, ErrorKind::kArenaKV, "ERR_VALUE_TOO_LARGE", "value is larger than 512 MB (proto-max-bulk-len)");
    }
    holder->resize(length + 1);
    napi_get_value_string_utf8(env, v, holder->data(), holder->size(), &length);
    out.data = reinterpret_cast<const uint8_t*>(holder->data());
    out.length = length;
    return out;
  }
  Napi::Uint8Array bytes = bytesArg(info, i, "value");
  out.data = bytes.Data();
  out.length = bytes.ByteLength();
  return out;
}

[[noreturn]] void tooLarge(Napi::Env env) {
  fail(env, ErrorKind::kArenaKV, "ERR_VALUE_TOO_LARGE", "string exceeds maximum allowed size (proto-max-bulk-len)");
}

// Makes the value at least `length` bytes, the new bytes zeroed (Redis's sdsgrowzero); returns its bytes.
uint8_t* growZero(Napi::Env env, Store& store, uint32_t handle, size_t length) {
  const SlotHeader* slot = store.find(handle);
  size_t old = slot->valueLen;
  if (length <= old) return const_cast<uint8_t*>(Store::valueOf(slot));
  uint8_t* value = nullptr;
  size_t spare = 0;
  Store::Status st = store.resize(handle, length, &value, &spare);
  if (st != Store::Status::kOk) {
    fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "OOM the allocator could not allocate " + std::to_string(length) + " bytes");
  }
  std::memset(value + old, 0, length - old);
  return value;
}

// appendValue(id, handle, bytes) → the new length: the bytes written after the value.
Napi::Value appendValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store& store = storeFromArg(info);
  uint32_t handle = handleArg(info, store, 1);
  std::string holder;
  Bytes bytes = bytesOrStringArg(info, 2, &holder);
  size_t old = store.find(handle)->valueLen;
  if (bytes.length > Store::kMaxBytes - old) tooLarge(env);
  if (bytes.length == 0) return number(env, static_cast<double>(old));
  uint8_t* value = growZero(env, store, handle, old + bytes.length);
  std::memcpy(value + old, bytes.data, bytes.length);
  return number(env, static_cast<double>(old + bytes.length));
}

// writeRange(id, handle, offset, bytes) → the new length: the bytes written at offset, a gap past the end zeroed.
Napi::Value writeRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store& store = storeFromArg(info);
  uint32_t handle = handleArg(info, store, 1);
  auto offset = static_cast<size_t>(integerArg(info, 2, "offset", 0, Store::kMaxBytes));
  std::string holder;
  Bytes bytes = bytesOrStringArg(info, 3, &holder);
  size_t old = store.find(handle)->valueLen;
  if (bytes.length == 0) return number(env, static_cast<double>(old));
  if (bytes.length > Store::kMaxBytes - offset) tooLarge(env);
  size_t end = offset + bytes.length;
  uint8_t* value = growZero(env, store, handle, end > old ? end : old);
  std::memcpy(value + offset, bytes.data, bytes.length);
  return number(env, static_cast<double>(end > old ? end : old));
}

// readRange(id, handle, start, target) → bytes copied: value[start, start + target.length), cut at the end.
Napi::Value readRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store& store = storeFromArg(info);
  uint32_t handle = handleArg(info, store, 1);
  auto start = static_cast<size_t>(integerArg(info, 2, "start", 0, Store::kMaxBytes));
  Napi::Uint8Array target = bytesArg(info, 3, "target");
  const SlotHeader* slot = store.find(handle);
  size_t length = slot->valueLen;
  if (start >= length) return number(env, 0);
  size_t n = length - start < target.ByteLength() ? length - start : target.ByteLength();
  if (n) std::memcpy(target.Data(), Store::valueOf(slot) + start, n);
  return number(env, static_cast<double>(n));
}

// setBit(id, handle, bitOffset, bit) → the bit's old value; the value grows, zeroed, to reach the bit
// (Redis's setbitCommand: bit 0 is the most significant bit of byte 0).
Napi::Value setBit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store& store = storeFromArg(info);
  uint32_t handle = handleArg(info, store, 1);
  auto bitOffset = static_cast<uint64_t>(integerArg(info, 2, "bitOffset", 0, INT64_C(4294967295)));
  auto bit = static_cast<int>(integerArg(info, 3, "bit", 0, 1));
  size_t byte = static_cast<size_t>(bitOffset >> 3);
  uint8_t* value = growZero(env, store, handle, byte + 1);
  int shift = 7 - static_cast<int>(bitOffset & 7);
  int old = (value[byte] >> shift) & 1;
  value[byte] = static_cast<uint8_t>((value[byte] & ~(1 << shift)) | (bit << shift));
  return number(env, old);
}

// A byte range [start, end] of the value, inclusive, validated against its length.
struct Range {
  const uint8_t* bytes;
  size_t start;
  size_t end;
};

Range byteRangeArgs(const Napi::CallbackInfo& info, const Store& store, uint32_t handle, size_t i) {
  const SlotHeader* slot = store.find(handle);
  int64_t last = static_cast<int64_t>(slot->valueLen) - 1;
  if (last < 0) fail(info.Env(), ErrorKind::kRange, "ERR_OUT_OF_RANGE", "the value is empty");
  auto start = static_cast<size_t>(integerArg(info, i, "start", 0, last));
  auto end = static_cast<size_t>(integerArg(info, i + 1, "end", static_cast<int64_t>(start), last));
  return {Store::valueOf(slot), start, end};
}

// bitcount(id, handle, startByte, endByte, firstBitMask, lastBitMask) → set bits in bytes [start, end], the first
// and last byte masked (Redis's BITCOUNT ... BIT counts a bit range so: whole bytes, the ends masked).
Napi::Value bitcount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store& store = storeFromArg(info);
  uint32_t handle = handleArg(info, store, 1);
  Range r = byteRangeArgs(info, store, handle, 2);
  auto firstMask = static_cast<unsigned>(integerArg(info, 4, "firstMask", 0, 255));
  auto lastMask = static_cast<unsigned>(integerArg(info, 5, "lastMask", 0, 255));
  double count = 0;
  for (size_t i = r.start; i <= r.end; i++) {
    unsigned b = r.bytes[i];
    if (i == r.start) b &= firstMask;
    if (i == r.end) b &= lastMask;
    count += __builtin_popcount(b);
  }
  return number(env, count);
}

// bitpos(id, handle, bit, startBit, endBit) → the first bit equal to `bit` in bits [startBit, endBit] (absolute
// positions, within the value), or -1. Whole bytes that cannot hold it are skipped.
Napi::Value bitpos(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store& store = storeFromArg(info);
  uint32_t handle = handleArg(info, store, 1);
  auto bit = static_cast<int>(integerArg(info, 2, "bit", 0, 1));
  const SlotHeader* slot = store.find(handle);
  int64_t lastBit = static_cast<int64_t>(slot->valueLen) * 8 - 1;
  if (lastBit < 0) fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", "the value is empty");
  auto start = static_cast<uint64_t>(integerArg(info, 3, "startBit", 0, lastBit));
  auto end = static_cast<uint64_t>(integerArg(info, 4, "endBit", static_cast<int64_t>(start), lastBit));
  const uint8_t* bytes = Store::valueOf(slot);
  const uint8_t skip = bit ? 0x00 : 0xff;
  for (uint64_t pos = start; pos <= end;) {
    uint8_t b = bytes[pos >> 3];
    if ((pos & 7) == 0 && pos + 7 <= end && b == skip) {
      pos += 8;
      continue;
    }
    if (((b >> (7 - (pos & 7))) & 1) == static_cast<uint8_t>(bit)) return number(env, static_cast<double>(pos));
    pos++;
  }
  return number(env, -1);
}

// A key argument as the store keeps keys: WTF-8 from the string's UTF-16, at most 512 MB encoded.
std::string keyArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  if (!info[i].IsString()) fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "key must be a string");
  size_t units = 0;
  napi_get_value_string_utf16(env, info[i], nullptr, 0, &units);
  if (units > Store::kMaxBytes) {
    fail(env, ErrorKind::kArenaKV, "ERR_VALUE_TOO_LARGE", "key is larger than 512 MB (proto-max-bulk-len)");
  }
  std::u16string text(units + 1, u'\0');
  napi_get_value_string_utf16(env, info[i], text.data(), text.size(), &units);
  if (wtf8::encodedLength(text.data(), units) > Store::kMaxBytes) {
    fail(env, ErrorKind::kArenaKV, "ERR_VALUE_TOO_LARGE", "key is larger than 512 MB (proto-max-bulk-len)");
  }
  std::string key;
  wtf8::encode(text.data(), units, &key);
  return key;
}

// rekey(id, handle, key): RENAME's move of a slot to a new key, the value kept where it is.
Napi::Value rekey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store& store = storeFromArg(info);
  uint32_t handle = handleArg(info, store, 1);
  std::string key = keyArg(info, 2);
  Store::Status st = store.rekey(handle, key.data(), key.size());
  if (st != Store::Status::kOk) {
    fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "OOM the allocator could not allocate the renamed slot");
  }
  return env.Undefined();
}

// duplicate(id, handle, key) → the new slot's handle: COPY's slot for key with a copy of the value, made natively.
Napi::Value duplicate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Store& store = storeFromArg(info);
  uint32_t source = handleArg(info, store, 1);
  std::string key = keyArg(info, 2);
  uint32_t handle = 0;
  Store::Status st = store.duplicate(source, key.data(), key.size(), &handle);
  if (st == Store::Status::kFull) {
    fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "OOM the store has no free slot (67,108,863 slots per store)");
  }
  if (st != Store::Status::kOk) fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "OOM the allocator could not allocate the copy");
  return number(env, handle);
}

}  // namespace

void defineStringFunctions(Napi::Env env, Napi::Object store) {
  store.Set("appendValue", Napi::Function::New<appendValue>(env, "appendValue"));
  store.Set("writeRange", Napi::Function::New<writeRange>(env, "writeRange"));
  store.Set("readRange", Napi::Function::New<readRange>(env, "readRange"));
  store.Set("setBit", Napi::Function::New<setBit>(env, "setBit"));
  store.Set("bitcount", Napi::Function::New<bitcount>(env, "bitcount"));
  store.Set("bitpos", Napi::Function::New<bitpos>(env, "bitpos"));
  store.Set("rekey", Napi::Function::New<rekey>(env, "rekey"));
  store.Set("duplicate", Napi::Function::New<duplicate>(env, "duplicate"));
}

}  // namespace arenakv
