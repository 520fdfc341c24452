// The fused hot paths over the keyspace tables (hot_binding.cc), added to the store's functions.
#pragma once

#include <napi.h>

namespace arenakv {

void defineHotFunctions(Napi::Env env, Napi::Object store);

}  // namespace arenakv
