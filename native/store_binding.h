// The store's N-API surface: module functions taking a store id first (argument checks and conversions only).
// Plain functions rather than an ObjectWrap class: a wrapped method pays a napi_unwrap lookup on every call,
// which on the hot path (one call per GET) measured about 45 ns, more than the call itself.
#pragma once

#include <napi.h>

namespace arenakv {

// Adds `store` (an object of functions) and `layout` (Store::layout(), frozen) to exports.
void defineStoreFunctions(Napi::Env env, Napi::Object exports);

// Whether a store opened from this environment and not closed allocates from jemalloc arena `arena`.
bool storeUsesArena(Napi::Env env, unsigned arena);

}  // namespace arenakv
