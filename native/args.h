// Argument validation shared by the bindings: every value from JavaScript is checked before use.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "errors.h"

namespace arenakv {

inline double numberArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) fail(info.Env(), ErrorKind::kType, "ERR_INVALID_ARG_TYPE", std::string(name) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

// An integer in [min, max]; fractions, NaN and infinities are RangeErrors.
inline int64_t integerArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max) {
  double d = numberArg(info, i, name);
  if (!(d >= static_cast<double>(min) && d <= static_cast<double>(max)) || d != std::floor(d)) {
    fail(info.Env(), ErrorKind::kRange, "ERR_OUT_OF_RANGE",
         std::string(name) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<int64_t>(d);
}

inline bool boolArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsBoolean()) fail(info.Env(), ErrorKind::kType, "ERR_INVALID_ARG_TYPE", std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

// A Uint8Array (Buffer included): bytes in memory V8 will not move during this call.
inline Napi::Uint8Array bytesArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    fail(info.Env(), ErrorKind::kType, "ERR_INVALID_ARG_TYPE", std::string(name) + " must be a Uint8Array");
  }
  return v.As<Napi::Uint8Array>();
}

}  // namespace arenakv
