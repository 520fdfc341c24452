// The string commands' native operations on a slot's value (APPEND, SETRANGE, SETBIT, GETRANGE, BITCOUNT,
// BITPOS), RENAME's and COPY's, added to the `store` object of functions beside store_binding.cc's.
#pragma once

#include <napi.h>

namespace arenakv {

// Adds appendValue, writeRange, readRange, setBit, bitcount, bitpos, rekey and duplicate to `store` (each takes the store id first).
void defineStringFunctions(Napi::Env env, Napi::Object store);

}  // namespace arenakv
