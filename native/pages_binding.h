// The N-API surface of native/pages: ArrayBuffers over kernel pages that the keyspace hands back explicitly.
#pragma once

#include <napi.h>

namespace arenakv {

// Adds `pages` ({ allocate(bytes): ArrayBuffer, release(buffer): void, liveBytes(): number }) to exports.
void definePagesFunctions(Napi::Env env, Napi::Object exports);

}  // namespace arenakv
