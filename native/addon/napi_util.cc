#include "napi_util.h"

#include <algorithm>
#include <cmath>

#include "tensor_wrap.h"

namespace gmn::addon {

std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    return buf;
  }
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.size() > 40) s = s.substr(0, 37) + "...";
    return "the string \"" + s + "\"";
  }
  if (v.IsBigInt()) return "a bigint";
  if (v.IsSymbol()) return "a symbol";
  if (v.IsFunction()) return "a function";
  if (v.IsArray()) return "an array of length " + std::to_string(v.As<Napi::Array>().Length());
  if (v.IsTypedArray()) return "a typed array of length " + std::to_string(v.As<Napi::TypedArray>().ElementLength());
  if (TensorWrap::IsTensor(v)) {
    TensorWrap* t = TensorWrap::Unwrap(v.As<Napi::Object>());
    if (!t->tensor()) return "a disposed tensor";
    return std::string("a tensor of shape ") + t->tensor()->shape.str() + " on " + device_name(t->tensor()->device());
  }
  return "an object";
}

Tensor get_tensor(const Napi::Value& v, const char* name) {
  if (!TensorWrap::IsTensor(v)) throw type_error(name, "a Tensor", describe(v));
  const std::optional<Tensor>& t = TensorWrap::Unwrap(v.As<Napi::Object>())->tensor();
  if (!t) throw type_error(name, "a live Tensor", "a tensor that was disposed");
  return *t;
}

std::optional<Tensor> get_optional_tensor(const Napi::Value& v, const char* name) {
  if (v.IsNull() || v.IsUndefined()) return std::nullopt;
  return get_tensor(v, name);
}

bool get_bool(const Napi::Value& v, const char* name) {
  if (!v.IsBoolean()) throw type_error(name, "a boolean", describe(v));
  return v.As<Napi::Boolean>().Value();
}

double get_number(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) throw type_error(name, "a number", describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) throw range_error(name, "a finite number", describe(v));
  return d;
}

Shape get_shape(const Napi::Value& v, const char* name) {
  if (!v.IsArray()) throw type_error(name, "an array of dimension sizes", describe(v));
  const Napi::Array a = v.As<Napi::Array>();
  if (a.Length() < 1 || a.Length() > kMaxDims)
    throw range_error(name, "between 1 and " + std::to_string(kMaxDims) + " dimensions", describe(v));
  Shape shape;
  int64_t numel = 1;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    const std::string dim = std::string(name) + "[" + std::to_string(i) + "]";
    const Napi::Value d = a.Get(i);
    if (!d.IsNumber()) throw type_error(dim, "an integer", describe(d));
    const double x = d.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(x) || x != std::floor(x) || x < 1 || x > double(kMaxNumel))
      throw range_error(dim, "an integer in [1, " + std::to_string(kMaxNumel) + "]", describe(d));
    numel *= static_cast<int64_t>(x);
    if (numel > kMaxNumel)
      throw range_error(name, "at most " + std::to_string(kMaxNumel) + " elements in all", "a larger shape");
    shape.dims.push_back(static_cast<int64_t>(x));
  }
  return shape;
}

Device get_device(const Napi::Value& v, const char* name) {
  if (v.IsString()) {
    const std::string s = v.As<Napi::String>().Utf8Value();
    if (s == "cpu") return Device::CPU;
    if (s == "cuda") return Device::CUDA;
    throw range_error(name, "'cpu' or 'cuda'", describe(v));
  }
  throw type_error(name, "'cpu' or 'cuda'", describe(v));
}

int64_t get_integer(const Napi::Value& v, const char* name, int64_t lo, int64_t hi) {
  const double d = get_number(v, name);
  if (d != std::floor(d) || d < double(lo) || d > double(hi))
    throw range_error(name, "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]", describe(v));
  return static_cast<int64_t>(d);
}

std::string get_string(const Napi::Value& v, const char* name) {
  if (!v.IsString()) throw type_error(name, "a string", describe(v));
  return v.As<Napi::String>().Utf8Value();
}

namespace {
template <typename Read>
auto read_array(const Napi::Value& v, const char* name, const char* expected, Read read) {
  if (!v.IsArray()) throw type_error(name, expected, describe(v));
  const Napi::Array a = v.As<Napi::Array>();
  std::vector<decltype(read(a.Get(0u), name))> out;
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(read(a.Get(i), (std::string(name) + "[" + std::to_string(i) + "]").c_str()));
  return out;
}
}  // namespace

std::vector<Tensor> get_tensor_array(const Napi::Value& v, const char* name) {
  return read_array(v, name, "an array of Tensors", get_tensor);
}

std::vector<std::optional<Tensor>> get_optional_tensor_array(const Napi::Value& v, const char* name) {
  return read_array(v, name, "an array of Tensors or nulls", get_optional_tensor);
}

void check_arg_count(const Napi::CallbackInfo& info, size_t min, size_t max, const char* fn) {
  if (info.Length() < min || info.Length() > max) {
    const std::string expected = min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max);
    throw type_error(std::string("the arguments of ") + fn, expected + " arguments", std::to_string(info.Length()));
  }
}

Napi::Float32Array get_float32_data(const Napi::Value& v, const char* name, const Shape& shape) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw type_error(name, "a Float32Array", describe(v));
  const Napi::Float32Array a = v.As<Napi::Float32Array>();
  if (static_cast<int64_t>(a.ElementLength()) != shape.numel())
    throw range_error(name, "a Float32Array of length " + std::to_string(shape.numel()) + " (shape " + shape.str() + ")",
                      "length " + std::to_string(a.ElementLength()));
  return a;
}

Napi::Float32Array to_float32_array(Napi::Env env, const std::vector<float>& host) {
  Napi::Float32Array out = Napi::Float32Array::New(env, host.size());
  std::copy(host.begin(), host.end(), out.Data());
  return out;
}

}  // namespace gmn::addon
