#include "tensor_wrap.h"

#include <vector>

#include "executor.h"
#include "napi_util.h"

namespace gmn::addon {

namespace {
// Per-environment constructor and the token that lets only Create() build instances.
struct ClassData {
  Napi::FunctionReference constructor;
};
ClassData* class_data(Napi::Env env) { return env.GetInstanceData<ClassData>(); }
int create_token = 0;
}  // namespace

Napi::Function TensorWrap::Init(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "Tensor",
                                    {
                                        InstanceAccessor<&TensorWrap::Shape>("shape"),
                                        InstanceAccessor<&TensorWrap::DeviceName>("device"),
                                        InstanceAccessor<&TensorWrap::Size>("size"),
                                        InstanceAccessor<&TensorWrap::Disposed>("disposed"),
                                        InstanceMethod<&TensorWrap::Read>("read"),
                                        InstanceMethod<&TensorWrap::Write>("write"),
                                        InstanceMethod<&TensorWrap::Fill>("fill"),
                                        InstanceMethod<&TensorWrap::CheckGuards>("checkGuards"),
                                        InstanceMethod<&TensorWrap::Dispose>("dispose"),
                                        InstanceMethod<&TensorWrap::Reshape>("reshape"),
                                    });
  auto* data = new ClassData();
  data->constructor = Napi::Persistent(ctor);
  env.SetInstanceData(data);
  return ctor;
}

bool TensorWrap::IsTensor(const Napi::Value& v) {
  if (!v.IsObject()) return false;
  ClassData* data = class_data(v.Env());
  if (!data || !v.As<Napi::Object>().InstanceOf(data->constructor.Value())) return false;
  // An object made with Object.create(Tensor.prototype) passes instanceof but wraps nothing.
  void* wrapped = nullptr;
  return napi_unwrap(v.Env(), v, &wrapped) == napi_ok && wrapped != nullptr;
}

Napi::Object TensorWrap::Create(Napi::Env env, Tensor tensor, bool counted) {
  Napi::Object obj = class_data(env)->constructor.New({Napi::External<int>::New(env, &create_token)});
  TensorWrap* wrap = Unwrap(obj);
  // Native memory counts towards V8's heap limits, so unreferenced tensors are collected in time.
  if (counted) Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(tensor.numel() * sizeof(float)));
  wrap->counted_ = counted;
  wrap->tensor_ = std::move(tensor);
  return obj;
}

TensorWrap::TensorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal() || info[0].As<Napi::External<int>>().Data() != &create_token)
    throw Napi::TypeError::New(info.Env(), "Tensor cannot be constructed directly: use createTensor(shape, device, data)");
  env_ = info.Env();
}

TensorWrap::~TensorWrap() {
  if (tensor_) release(Napi::Env(env_));
}

void TensorWrap::release(Napi::Env env) {
  if (!tensor_) return;
  if (counted_) Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(tensor_->numel() * sizeof(float)));
  tensor_.reset();
}

const Tensor& TensorWrap::live(const char* what) const {
  if (!tensor_) throw type_error(std::string("this (Tensor.") + what + ")", "a live Tensor", "a tensor that was disposed");
  return *tensor_;
}

Napi::Value TensorWrap::Shape(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Tensor& t = live("shape");
    Napi::Array a = Napi::Array::New(info.Env(), t.shape.dims.size());
    for (size_t i = 0; i < t.shape.dims.size(); ++i) a.Set(i, Napi::Number::New(info.Env(), double(t.shape.dims[i])));
    return a;
  });
}

Napi::Value TensorWrap::DeviceName(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value { return Napi::String::New(info.Env(), device_name(live("device").device())); });
}

Napi::Value TensorWrap::Size(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value { return Napi::Number::New(info.Env(), double(live("size").numel())); });
}

Napi::Value TensorWrap::Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !tensor_); }

Napi::Value TensorWrap::Read(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 0, 0, "Tensor.read");
    const Tensor t = live("read");
    auto host = std::make_shared<std::vector<float>>(static_cast<size_t>(t.numel()));
    return submit(info.Env(), {"Tensor.read", t.device(), [t, host] { copy_to_host(t, host->data()); },
                               [host](Napi::Env env) -> Napi::Value { return to_float32_array(env, *host); },
                               true});
  });
}

Napi::Value TensorWrap::Write(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 1, 1, "Tensor.write");
    const Tensor t = live("write");
    const Napi::Float32Array src = get_float32_data(info[0], "data", t.shape);
    // Copied now, so the caller may change its array before the write runs.
    auto host = std::make_shared<std::vector<float>>(src.Data(), src.Data() + src.ElementLength());
    return submit(info.Env(), {"Tensor.write", t.device(), [t, host] { copy_from_host(t, host->data()); }, nullptr});
  });
}

Napi::Value TensorWrap::Fill(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 1, 1, "Tensor.fill");
    const Tensor t = live("fill");
    // NaN is allowed on purpose: tests poison outputs with it.
    if (!info[0].IsNumber()) throw type_error("value", "a number", describe(info[0]));
    const float value = static_cast<float>(info[0].As<Napi::Number>().DoubleValue());
    return submit(info.Env(), {"Tensor.fill", t.device(), [t, value] { fill(t, value); }, nullptr});
  });
}

Napi::Value TensorWrap::CheckGuards(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 0, 0, "Tensor.checkGuards");
    const Tensor t = live("checkGuards");
    auto ok = std::make_shared<bool>(false);
    return submit(info.Env(), {"Tensor.checkGuards", t.device(), [t, ok] { *ok = t.storage->check_guards(); },
                               [ok](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, *ok); }, true});
  });
}

Napi::Value TensorWrap::Dispose(const Napi::CallbackInfo& info) {
  release(info.Env());
  return info.Env().Undefined();
}

}  // namespace gmn::addon

namespace gmn::addon {

Napi::Value TensorWrap::Reshape(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 1, 1, "Tensor.reshape");
    const Tensor& t = live("reshape");
    gmn::Shape shape = get_shape(info[0], "shape");
    if (shape.numel() != t.numel())
      throw range_error("shape", "a shape of " + std::to_string(t.numel()) + " elements (like " + t.shape.str() + ")",
                        shape.str());
    // A view: same storage, so it stays valid (and keeps the memory) after the original is disposed.
    Tensor view{t.storage, shape};
    return Create(info.Env(), view, false);
  });
}

}  // namespace gmn::addon
