// Errors cross the N-API boundary here and only here: one helper builds every error the addon throws.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "shared_block.h"

namespace arenakv {

enum class ErrorKind { kType, kRange, kArenaKV };

// Throws (as a C++ exception that node-addon-api turns into a JS exception) a TypeError, a RangeError or the
// ArenaKVError class registered by lib/native.ts, with `code` set.
[[noreturn]] void fail(Napi::Env env, ErrorKind kind, const char* code, const std::string& message);

class StoreState;

// Per-environment state (worker_threads each get their own): the registered ArenaKVError constructor and the
// stores opened from this environment (freed when it is torn down, if JS never closed them).
struct AddonData {
  AddonData();
  ~AddonData();
  Napi::FunctionReference errorClass;
  std::vector<StoreState*> stores;       // nullptr once closed
  std::vector<uint32_t> generations;     // per index, so a closed store's id is never mistaken for a new one
  std::vector<uint32_t> freeIndices;
  // The engine's clock cell (clockCell/clockTick in addon.cc): one per environment, native memory that every copy
  // of the JS module reads through the same ArrayBuffer (made at most once, kept by clockRef).
  SharedBlockPtr clockBlock;
  Napi::Reference<Napi::ArrayBuffer> clockRef;
};

}  // namespace arenakv
