// Shared pieces of the N-API layer: turning native exceptions into JS errors, describing JS
// values in messages, and reading arguments.
#pragma once
#include <napi.h>

#include <optional>
#include <string>
#include <vector>

#include "../base/error.h"
#include "../base/tensor.h"

namespace gmn::addon {

// "a string", "NaN", "an array of length 3", ...
std::string describe(const Napi::Value& v);

// Runs f, converting gmn::ArgError to TypeError/RangeError and any other exception to Error.
template <typename F>
auto guarded(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const ArgError& e) {
    if (e.kind == ArgError::Kind::Type) throw Napi::TypeError::New(env, e.what());
    throw Napi::RangeError::New(env, e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, "Out of memory: the allocation could not be satisfied");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

// Argument readers; each throws a TypeError/RangeError naming the argument.
Tensor get_tensor(const Napi::Value& v, const char* name);
std::optional<Tensor> get_optional_tensor(const Napi::Value& v, const char* name);
bool get_bool(const Napi::Value& v, const char* name);
double get_number(const Napi::Value& v, const char* name);
Shape get_shape(const Napi::Value& v, const char* name);
Device get_device(const Napi::Value& v, const char* name);
// An integer in [lo, hi]; NaN, fractions and out-of-range values are RangeErrors.
int64_t get_integer(const Napi::Value& v, const char* name, int64_t lo, int64_t hi);
std::string get_string(const Napi::Value& v, const char* name);
// An array of live Tensors; a bad entry is named "name[i]".
std::vector<Tensor> get_tensor_array(const Napi::Value& v, const char* name);
// The same with null (or undefined) entries allowed.
std::vector<std::optional<Tensor>> get_optional_tensor_array(const Napi::Value& v, const char* name);
void check_arg_count(const Napi::CallbackInfo& info, size_t min, size_t max, const char* fn);
// A Float32Array of as many values as `shape` holds (the data of a tensor of that shape).
Napi::Float32Array get_float32_data(const Napi::Value& v, const char* name, const Shape& shape);
// A new Float32Array holding `host` (the value of a read).
Napi::Float32Array to_float32_array(Napi::Env env, const std::vector<float>& host);

}  // namespace gmn::addon
