// The N-API surface: module functions over zmalloc/jemalloc_ctl/rss, with the store's functions
// (store_binding.cc) and the pages functions (pages_binding.cc) added to the same exports. Argument checks and
// conversions only; the allocator logic lives in the files it calls.
#include <napi.h>

#include <bitset>
#include <cstdint>
#include <ctime>
#include <mutex>

#include "args.h"
#include "errors.h"
#include "jemalloc_ctl.h"
#include "pages_binding.h"
#include "stats_object.h"
#include "rss.h"
#include "store_binding.h"
#include "string_binding.h"
#include "zmalloc.h"

namespace arenakv {
namespace {

Napi::Value bytesOrNull(Napi::Env env, int64_t v) {
  return v < 0 ? env.Null() : Napi::Number::New(env, static_cast<double>(v));
}

void requireJemalloc(Napi::Env env, const char* what) {
  if (!jectl::available()) fail(env, ErrorKind::kArenaKV, "ERR_UNSUPPORTED", std::string(what) + " needs the jemalloc build");
}

Napi::Value allocatorName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), zmallocName()); }

Napi::Value allocatorVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), zmallocVersion());
}

Napi::Value capabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  bool je = jectl::available();
  o.Set("arenas", zmallocHasArenas());
  o.Set("purge", zmallocPurgeReturnsFreePages());
  o.Set("defragHints", je);
  o.Set("backgroundThreads", je);
  o.Set("goodSize", zmallocGoodSize(1) != 0);
  o.Set("heapResident", zmallocHasHeapResident());
  o.Set("residentAccounting", zmallocResidentAccounting());
#if defined(ARENAKV_SANITIZER)
  o.Set("sanitizer", ARENAKV_SANITIZER);
#endif
  return o;
}

Napi::Value usedMemory(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(zmallocUsedMemory()));
}

Napi::Value allocatorInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ZInfo z = zmallocInfo();
  Napi::Object o = Napi::Object::New(env);
  o.Set("allocated", bytesOrNull(env, z.allocated));
  o.Set("active", bytesOrNull(env, z.active));
  o.Set("resident", bytesOrNull(env, z.resident));
  o.Set("retained", bytesOrNull(env, z.retained));
  o.Set("mapped", bytesOrNull(env, z.mapped));
  o.Set("metadata", bytesOrNull(env, z.metadata));
  o.Set("dirty", bytesOrNull(env, z.dirty));
  o.Set("muzzy", bytesOrNull(env, z.muzzy));
  o.Set("fragSmallbinsBytes", bytesOrNull(env, z.fragSmallbinsBytes));
  return o;
}

Napi::Value rss(const Napi::CallbackInfo& info) { return bytesOrNull(info.Env(), rssBytes()); }
Napi::Value privateDirty(const Napi::CallbackInfo& info) { return bytesOrNull(info.Env(), privateDirtyBytes()); }

Napi::Value purge(const Napi::CallbackInfo& info) {
  zmallocPurge();
  return info.Env().Undefined();
}

Napi::Value mallocStats(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), zmallocStatsText());
}

Napi::Value goodSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto n = static_cast<size_t>(integerArg(info, 0, "size", 0, static_cast<int64_t>(1) << 40));
  size_t good = zmallocGoodSize(n);
  if (good == 0) fail(env, ErrorKind::kArenaKV, "ERR_UNSUPPORTED", "this allocator cannot report sizes in advance");
  return Napi::Number::New(env, static_cast<double>(good));
}

Napi::Value backgroundThread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireJemalloc(env, "background threads");
  bool on = false;
  if (!jectl::backgroundThread(&on)) fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "could not read background_thread");
  return Napi::Boolean::New(env, on);
}

Napi::Value setBackgroundThread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool on = boolArg(info, 0, "on");
  requireJemalloc(env, "background threads");
  if (!jectl::setBackgroundThread(on)) fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "could not set background_thread");
  return env.Undefined();
}

// The arenas createArena made and destroyArena has not destroyed: the only ones destroyArena accepts, since
// jemalloc's arena.<i>.destroy would also discard an arena an engine's store still allocates from. Process-wide,
// as arenas are: an arena made in one worker thread may be destroyed from another. Both are trivially
// destructible, so no thread can find them destroyed at exit.
std::mutex createdArenasMutex;
std::bitset<jectl::kArenaIndices> createdArenas;

Napi::Value createArena(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireJemalloc(env, "arenas");
  std::lock_guard<std::mutex> lock(createdArenasMutex);
  unsigned arena = 0;
  if (!jectl::arenaCreate(&arena)) {
    if (jectl::arenaIndicesExhausted()) {
      fail(env, ErrorKind::kArenaKV, "ERR_ARENA_LIMIT", "cannot create another arena: " + jectl::arenaLimitText());
    }
    fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "arenas.create failed");
  }
  createdArenas.set(arena);
  return Napi::Number::New(env, arena);
}

// destroyArena(arena): jemalloc's arena.<i>.destroy, which discards the arena's memory at once and lets
// arenas.create hand its index out again. Only for an arena from createArena: nothing allocates from those
// (no API places allocations in them), and the lock keeps two threads from destroying one twice.
Napi::Value destroyArena(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto arena = static_cast<unsigned>(integerArg(info, 0, "arena", 0, jectl::kArenaIndices - 1));
  requireJemalloc(env, "arenas");
  std::lock_guard<std::mutex> lock(createdArenasMutex);
  if (!createdArenas.test(arena)) {
    std::string name = "arena " + std::to_string(arena);
    if (storeUsesArena(env, arena)) {
      fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", name + " is an open engine's (its store's): close the engine instead");
    }
    fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE",
         name + " was not created by allocator.createArena() or is destroyed already: only those can be destroyed");
  }
  if (!jectl::arenaDestroy(arena)) {
    fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "arena." + std::to_string(arena) + ".destroy failed");
  }
  createdArenas.reset(arena);
  return env.Undefined();
}

Napi::Value arenaStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto arena = static_cast<unsigned>(integerArg(info, 0, "arena", 0, 4095));
  requireJemalloc(env, "arena stats");
  jectl::ArenaStats s;
  if (!jectl::arenaStats(arena, &s)) fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", "no such arena");
  return arenaStatsObject(env, s);
}

Napi::Value purgeArena(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto arena = static_cast<unsigned>(integerArg(info, 0, "arena", 0, 4095));
  requireJemalloc(env, "arena purge");
  if (!jectl::purge(false, arena)) fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", "no such arena");
  return env.Undefined();
}

// setArenaDecay(arena, dirtyMs, muzzyMs): jemalloc's arena.<i>.dirty_decay_ms and muzzy_decay_ms for one arena
// (an engine's or one from createArena). -1 keeps freed pages until a purge;
// jemalloc caps the delay at SSIZE_MAX ms, far past the hour allowed here.
Napi::Value setArenaDecay(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto arena = static_cast<unsigned>(integerArg(info, 0, "arena", 0, jectl::kArenaIndices - 1));
  long dirty = static_cast<long>(integerArg(info, 1, "dirtyMs", -1, 3'600'000));
  long muzzy = static_cast<long>(integerArg(info, 2, "muzzyMs", -1, 3'600'000));
  requireJemalloc(env, "arena decay");
  if (!jectl::arenaSetDecay(arena, dirty, muzzy)) fail(env, ErrorKind::kRange, "ERR_OUT_OF_RANGE", "no such arena");
  return env.Undefined();
}

// clockTick() writes the wall clock in whole milliseconds (what Date.now() returns) to the cell clockCell() gives
// (a Float64Array's worth of native memory, one per environment). The engine reads its clock on every operation;
// Date.now() returns a freshly allocated heap number in optimized code (16 bytes of garbage per call), and that
// garbage grew V8's young generation by megabytes during a fill. No arguments to check per tick: a typed-array
// argument costs more than the clock. Exact, never cached: expiry decisions use it.
Napi::Value clockCell(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* data = env.GetInstanceData<AddonData>();
  if (data->clockRef.IsEmpty()) {
    data->clockBlock.reset(SharedBlock::create(sizeof(double)));
    if (!data->clockBlock) fail(env, ErrorKind::kArenaKV, "ERR_NOMEM", "OOM the allocator could not allocate the clock cell");
    napi_value buffer = data->clockBlock->expose(env);
    if (buffer == nullptr) fail(env, ErrorKind::kArenaKV, "ERR_NATIVE", "could not create the clock ArrayBuffer");
    data->clockRef = Napi::Persistent(Napi::ArrayBuffer(env, buffer));
  }
  return data->clockRef.Value();
}

Napi::Value clockTick(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedBlock* cell = env.GetInstanceData<AddonData>()->clockBlock.get();
  if (cell == nullptr) return env.Undefined();  // nobody asked for the cell yet
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  *reinterpret_cast<double*>(cell->data()) =
      static_cast<double>(static_cast<int64_t>(ts.tv_sec) * 1000 + static_cast<int64_t>(ts.tv_nsec / 1000000));
  return env.Undefined();
}

// lib/native.ts hands over ArenaKVError once, so native errors are instances of the class users catch.
Napi::Value setErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) fail(env, ErrorKind::kType, "ERR_INVALID_ARG_TYPE", "errorClass must be a constructor");
  env.GetInstanceData<AddonData>()->errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData(data);
  defineStoreFunctions(env, exports);
  defineStringFunctions(env, exports.Get("store").As<Napi::Object>());
  definePagesFunctions(env, exports);
  exports.Set("allocatorName", Napi::Function::New<allocatorName>(env, "allocatorName"));
  exports.Set("allocatorVersion", Napi::Function::New<allocatorVersion>(env, "allocatorVersion"));
  exports.Set("capabilities", Napi::Function::New<capabilities>(env, "capabilities"));
  exports.Set("usedMemory", Napi::Function::New<usedMemory>(env, "usedMemory"));
  exports.Set("allocatorInfo", Napi::Function::New<allocatorInfo>(env, "allocatorInfo"));
  exports.Set("rss", Napi::Function::New<rss>(env, "rss"));
  exports.Set("privateDirty", Napi::Function::New<privateDirty>(env, "privateDirty"));
  exports.Set("purge", Napi::Function::New<purge>(env, "purge"));
  exports.Set("mallocStats", Napi::Function::New<mallocStats>(env, "mallocStats"));
  exports.Set("goodSize", Napi::Function::New<goodSize>(env, "goodSize"));
  exports.Set("backgroundThread", Napi::Function::New<backgroundThread>(env, "backgroundThread"));
  exports.Set("setBackgroundThread", Napi::Function::New<setBackgroundThread>(env, "setBackgroundThread"));
  exports.Set("createArena", Napi::Function::New<createArena>(env, "createArena"));
  exports.Set("destroyArena", Napi::Function::New<destroyArena>(env, "destroyArena"));
  exports.Set("arenaStats", Napi::Function::New<arenaStats>(env, "arenaStats"));
  exports.Set("purgeArena", Napi::Function::New<purgeArena>(env, "purgeArena"));
  exports.Set("setArenaDecay", Napi::Function::New<setArenaDecay>(env, "setArenaDecay"));
  exports.Set("setErrorClass", Napi::Function::New<setErrorClass>(env, "setErrorClass"));
  exports.Set("clockCell", Napi::Function::New<clockCell>(env, "clockCell"));
  exports.Set("clockTick", Napi::Function::New<clockTick>(env, "clockTick"));
  return exports;
}

}  // namespace
}  // namespace arenakv

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return arenakv::init(env, exports); }

NODE_API_MODULE(arenakv, Init)
