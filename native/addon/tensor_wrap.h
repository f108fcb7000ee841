// The JS Tensor class: a handle on native storage. dispose() drops the handle at once (jobs
// already queued keep the storage alive until they finish); the GC finalizer does the same.
#pragma once
#include <napi.h>

#include <optional>

#include "../base/tensor.h"

namespace gmn::addon {

class TensorWrap : public Napi::ObjectWrap<TensorWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  static bool IsTensor(const Napi::Value& v);
  // A new JS Tensor for `tensor`.
  // counted: the memory counts towards V8's heap limits (not for views, whose memory is counted
  // where it was made, nor for tensors whose owner frees them explicitly: emptyTensor).
  static Napi::Object Create(Napi::Env env, Tensor tensor, bool counted = true);

  explicit TensorWrap(const Napi::CallbackInfo& info);
  ~TensorWrap() override;
  const std::optional<Tensor>& tensor() const { return tensor_; }

 private:
  const Tensor& live(const char* what) const;
  // Drops the handle and tells V8 the memory is gone.
  void release(Napi::Env env);

  Napi::Value Shape(const Napi::CallbackInfo& info);
  Napi::Value DeviceName(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Fill(const Napi::CallbackInfo& info);
  Napi::Value CheckGuards(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value Reshape(const Napi::CallbackInfo& info);

  std::optional<Tensor> tensor_;
  napi_env env_ = nullptr;
  bool counted_ = false;  // its memory counts towards V8's heap limits (Create)
};

}  // namespace gmn::addon
