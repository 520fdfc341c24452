// jemalloc arena stats as a JS object, for the module function and the Store method alike.
#pragma once

#include <napi.h>

#include "jemalloc_ctl.h"

namespace arenakv {

inline Napi::Object arenaStatsObject(Napi::Env env, const jectl::ArenaStats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("allocated", static_cast<double>(s.allocated));
  o.Set("active", static_cast<double>(s.active));
  o.Set("dirty", static_cast<double>(s.dirty));
  o.Set("muzzy", static_cast<double>(s.muzzy));
  o.Set("resident", static_cast<double>(s.resident));
  o.Set("mapped", static_cast<double>(s.mapped));
  o.Set("nmalloc", static_cast<double>(s.nmalloc));
  o.Set("ndalloc", static_cast<double>(s.ndalloc));
  o.Set("fragSmallbinsBytes", static_cast<double>(s.fragSmallbinsBytes));
  o.Set("smallAllocated", static_cast<double>(s.smallAllocated));
  o.Set("largeAllocated", static_cast<double>(s.largeAllocated));
  o.Set("metadata", static_cast<double>(s.metadata));
  o.Set("retained", static_cast<double>(s.retained));
  return o;
}

}  // namespace arenakv
