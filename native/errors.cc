#include "errors.h"

namespace arenakv {

void fail(Napi::Env env, ErrorKind kind, const char* code, const std::string& message) {
  Napi::Error error;
  auto* data = env.GetInstanceData<AddonData>();
  if (kind == ErrorKind::kType) {
    error = Napi::TypeError::New(env, message);
  } else if (kind == ErrorKind::kRange) {
    error = Napi::RangeError::New(env, message);
  } else if (data != nullptr && !data->errorClass.IsEmpty()) {
    Napi::Object obj = data->errorClass.New({Napi::String::New(env, code), Napi::String::New(env, message)});
    error = Napi::Error(env, obj);
  } else {
    error = Napi::Error::New(env, message);
  }
  error.Set("code", Napi::String::New(env, code));
  throw error;
}

}  // namespace arenakv
