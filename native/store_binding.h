// The JS class `Store` over native/store: argument checks and conversions only.
#pragma once

#include <napi.h>

namespace arenakv {

Napi::Function defineStoreClass(Napi::Env env);

}  // namespace arenakv
