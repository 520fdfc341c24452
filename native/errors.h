// Errors cross the N-API boundary here and only here: one helper builds every error the addon throws.
#pragma once

#include <napi.h>

#include <string>

namespace arenakv {

enum class ErrorKind { kType, kRange, kArenaKV };

// Throws (as a C++ exception that node-addon-api turns into a JS exception) a TypeError, a RangeError or the
// ArenaKVError class registered by lib/native.ts, with `code` set.
[[noreturn]] void fail(Napi::Env env, ErrorKind kind, const char* code, const std::string& message);

// Per-environment state (worker_threads each get their own): the registered ArenaKVError constructor.
struct AddonData {
  Napi::FunctionReference errorClass;
  Napi::FunctionReference storeClass;
};

}  // namespace arenakv
