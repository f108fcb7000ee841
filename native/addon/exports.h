// The ops' N-API exports, derived from the registry (exports.cc).
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "../base/tensor.h"

namespace gmn::addon {

// Sets one function per registered export on `exports`.
void register_ops(Napi::Env env, Napi::Object exports);
// The ops this build can run on `device`, by name, sorted.
std::vector<std::string> supported_ops(Device device);

}  // namespace gmn::addon
