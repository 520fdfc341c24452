#include "pages_binding.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "errors.h"
#include "pages.h"

namespace arenakv {
namespace {

// 8 GiB: past the largest table the keyspace can build (2^27 slots of 8 bytes), far below what mmap takes.
constexpr int64_t kMaxBytes = static_cast<int64_t>(1) << 33;

// Every live mapping handed to JS. release() checks a buffer against it, so a buffer V8 allocated itself is
// refused rather than having its memory zeroed; the finalizer (which may run on any environment's teardown,
// in any worker) unmaps. Process-wide because buffers can outlive the environment that made them.
struct Mapping {
  size_t bytes;
  bool released;
};
std::mutex registryMutex;
size_t unreleasedBytes = 0;  // mapped and not yet released: what the keyspace counts for its paged arrays
std::unordered_map<void*, Mapping>& registry() {
  static auto* live = new std::unordered_map<void*, Mapping>();  // never destroyed: finalizers may run at exit
  return *live;
}

void unmapFinalizer(Napi::Env, void* data) {
  size_t bytes = 0;
  {
    std::lock_guard<std::mutex> lock(registryMutex);
    auto it = registry().find(data);
    if (it == registry().end()) return;
    bytes = it->second.bytes;
    if (!it->second.released) unreleasedBytes -= bytes;
    registry().erase(it);
  }
  pagesUnmap(data, bytes);
}

Napi::Value allocate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto bytes = static_cast<size_t>(integerArg(info, 0, "bytes", 1, kMaxBytes));
  void* data = pagesMap(bytes);
  if (data == nullptr) fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "mmap refused " + std::to_string(bytes) + " bytes");
  {
    std::lock_guard<std::mutex> lock(registryMutex);
    registry().emplace(data, Mapping{bytes, false});
    unreleasedBytes += bytes;
  }
  try {
    return Napi::ArrayBuffer::New(env, data, bytes, unmapFinalizer);
  } catch (...) {
    // Not handed to V8 (external buffers refused): no finalizer will run for it.
    {
      std::lock_guard<std::mutex> lock(registryMutex);
      registry().erase(data);
      unreleasedBytes -= bytes;
    }
    pagesUnmap(data, bytes);
    throw;
  }
}

// Gives the buffer's pages back to the kernel now. The buffer stays valid (it reads as zeros) until V8
// collects it, so a view nobody should still hold can never reach unmapped memory.
Napi::Value release(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) {
    fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "buffer must be an ArrayBuffer from pages.allocate");
  }
  auto buffer = info[0].As<Napi::ArrayBuffer>();
  void* data = buffer.Data();
  size_t bytes = 0;
  {
    std::lock_guard<std::mutex> lock(registryMutex);
    auto it = registry().find(data);
    if (data == nullptr || it == registry().end() || it->second.bytes != buffer.ByteLength()) {
      fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "buffer must be an ArrayBuffer from pages.allocate");
    }
    bytes = it->second.bytes;
    if (!it->second.released) unreleasedBytes -= bytes;
    it->second.released = true;
  }
  pagesRelease(data, bytes);
  return env.Undefined();
}

// discard(view: a typed array): the whole pages inside the view's bytes go back to the kernel now and read as
// zeros after (-1 if the kernel refused); the partial pages at its ends are left as they are. For a shared engine's regions (growable
// SharedArrayBuffers, which never shrink): the tail past an array that shrank or moved (lib/share.ts
// RegionArrays), which nobody reads before writing it again. Only memory the view covers is touched.
// The bytes of the Uint8Array argument 0 of discard and resident, or a TypeError.
void uint8View(const Napi::CallbackInfo& info, void** data, size_t* length) {
  Napi::Env env = info.Env();
  napi_typedarray_type type = napi_int8_array;
  bool typed = false;
  if (info.Length() < 1 || napi_is_typedarray(env, info[0], &typed) != napi_ok || !typed ||
      napi_get_typedarray_info(env, info[0], &type, length, data, nullptr, nullptr) != napi_ok || type != napi_uint8_array) {
    fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "view must be a Uint8Array");
  }
}

Napi::Value discard(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t length = 0;
  void* data = nullptr;
  uint8View(info, &data, &length);
  if (data == nullptr || length == 0) return Napi::Number::New(env, 0);
  static const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  auto from = reinterpret_cast<uintptr_t>(data);
  auto to = from + length;
  from = (from + page - 1) / page * page;
  to = to / page * page;
  if (to <= from) return Napi::Number::New(env, 0);
  // -1 when the kernel refused: the pages were not zeroed, and a caller relying on it must write the zeros itself.
  if (madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED) != 0) return Napi::Number::New(env, -1);
  return Napi::Number::New(env, static_cast<double>(to - from));
}

// resident(view: Uint8Array): bytes of the pages the view touches that are resident now (mincore), for tests
// of what discard hands back.
Napi::Value resident(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t length = 0;
  void* data = nullptr;
  uint8View(info, &data, &length);
  if (data == nullptr || length == 0) return Napi::Number::New(env, 0);
  static const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  auto from = reinterpret_cast<uintptr_t>(data) / page * page;
  auto to = (reinterpret_cast<uintptr_t>(data) + length + page - 1) / page * page;
  std::vector<unsigned char> pagesIn((to - from) / page);
  if (mincore(reinterpret_cast<void*>(from), to - from, pagesIn.data()) != 0) {
    fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "mincore failed");
  }
  size_t count = 0;
  for (unsigned char p : pagesIn) count += p & 1;
  return Napi::Number::New(env, static_cast<double>(count * page));
}

Napi::Value liveBytes(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(registryMutex);
  return Napi::Number::New(info.Env(), static_cast<double>(unreleasedBytes));
}

}  // namespace

void definePagesFunctions(Napi::Env env, Napi::Object exports) {
  Napi::Object pages = Napi::Object::New(env);
  pages.Set("allocate", Napi::Function::New<allocate>(env, "allocate"));
  pages.Set("release", Napi::Function::New<release>(env, "release"));
  pages.Set("liveBytes", Napi::Function::New<liveBytes>(env, "liveBytes"));
  pages.Set("discard", Napi::Function::New<discard>(env, "discard"));
  pages.Set("resident", Napi::Function::New<resident>(env, "resident"));
  exports.Set("pages", pages);
}

}  // namespace arenakv
