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
  // A new JS Tensor for `tensor`; unless it is a view of another one, its memory is reported to V8.
  static Napi::Object Create(Napi::Env env, Tensor tensor, bool view = false);

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
  bool view_ = false;  // a reshape of another tensor: its memory is counted there
};

}  // namespace gmn::addon
