// N-API exports of the conv encoder and decoder: conv2d, transposed conv2d, average pooling, bilinear resize, elementwise add/accumulate.
#include <cmath>

#include "../core/ops_conv.h"
#include "exports.h"
#include "napi_util.h"

namespace gmn::addon {

namespace {

// An integer parameter; its real range is checked by the op, which knows the shapes.
int64_t get_param(const Napi::Value& v, const char* name) { return get_integer(v, name, -kMaxNumel, kMaxNumel); }

Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 6, 6, "conv2dForward");
    return queue_job(info.Env(), ops::conv2d_forward(get_tensor(info[0], "x"), get_tensor(info[1], "weight"),
                                                     get_tensor(info[2], "out"), get_param(info[3], "stride"),
                                                     get_param(info[4], "padTop"), get_param(info[5], "padLeft")));
  });
}

Napi::Value Conv2dBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 9, 9, "conv2dBackward");
    return queue_job(info.Env(),
                     ops::conv2d_backward(get_tensor(info[0], "x"), get_tensor(info[1], "weight"),
                                          get_tensor(info[2], "gradOut"), get_optional_tensor(info[3], "gradX"),
                                          get_optional_tensor(info[4], "gradWeight"), get_param(info[5], "stride"),
                                          get_param(info[6], "padTop"), get_param(info[7], "padLeft"),
                                          get_bool(info[8], "accumulate")));
  });
}

Napi::Value ConvTranspose2dForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 4, 4, "convTranspose2dForward");
    return queue_job(info.Env(),
                     ops::conv_transpose2d_forward(get_tensor(info[0], "x"), get_tensor(info[1], "weight"),
                                                   get_tensor(info[2], "out"), get_param(info[3], "stride")));
  });
}

Napi::Value ConvTranspose2dBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 7, 7, "convTranspose2dBackward");
    return queue_job(info.Env(), ops::conv_transpose2d_backward(
                                     get_tensor(info[0], "x"), get_tensor(info[1], "weight"),
                                     get_tensor(info[2], "gradOut"), get_optional_tensor(info[3], "gradX"),
                                     get_optional_tensor(info[4], "gradWeight"), get_param(info[5], "stride"),
                                     get_bool(info[6], "accumulate")));
  });
}

Napi::Value AvgPool2dForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 4, 4, "avgPool2dForward");
    return queue_job(info.Env(), ops::avg_pool2d_forward(get_tensor(info[0], "x"), get_tensor(info[1], "out"),
                                                         get_param(info[2], "kernel"), get_param(info[3], "stride")));
  });
}

Napi::Value AvgPool2dBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 5, 5, "avgPool2dBackward");
    return queue_job(info.Env(), ops::avg_pool2d_backward(get_tensor(info[0], "gradOut"), get_tensor(info[1], "gradX"),
                                                          get_param(info[2], "kernel"), get_param(info[3], "stride"),
                                                          get_bool(info[4], "accumulate")));
  });
}

Napi::Value ResizeBilinearForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 2, 2, "resizeBilinearForward");
    return queue_job(info.Env(), ops::resize_bilinear_forward(get_tensor(info[0], "x"), get_tensor(info[1], "out")));
  });
}

Napi::Value ResizeBilinearBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 3, 3, "resizeBilinearBackward");
    return queue_job(info.Env(), ops::resize_bilinear_backward(get_tensor(info[0], "gradOut"),
                                                               get_tensor(info[1], "gradX"),
                                                               get_bool(info[2], "accumulate")));
  });
}

Napi::Value AddForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 3, 3, "addForward");
    return queue_job(info.Env(), ops::add_forward(get_tensor(info[0], "a"), get_tensor(info[1], "b"),
                                                  get_tensor(info[2], "out")));
  });
}

Napi::Value AddScaled(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 4, 4, "addScaled");
    return queue_job(info.Env(), ops::add_scaled(get_tensor(info[0], "x"), get_number(info[1], "alpha"),
                                                 get_tensor(info[2], "out"), get_bool(info[3], "accumulate")));
  });
}

}  // namespace

void register_conv_ops(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dForward", Napi::Function::New<Conv2dForward>(env, "conv2dForward"));
  exports.Set("conv2dBackward", Napi::Function::New<Conv2dBackward>(env, "conv2dBackward"));
  exports.Set("convTranspose2dForward", Napi::Function::New<ConvTranspose2dForward>(env, "convTranspose2dForward"));
  exports.Set("convTranspose2dBackward", Napi::Function::New<ConvTranspose2dBackward>(env, "convTranspose2dBackward"));
  exports.Set("avgPool2dForward", Napi::Function::New<AvgPool2dForward>(env, "avgPool2dForward"));
  exports.Set("avgPool2dBackward", Napi::Function::New<AvgPool2dBackward>(env, "avgPool2dBackward"));
  exports.Set("resizeBilinearForward", Napi::Function::New<ResizeBilinearForward>(env, "resizeBilinearForward"));
  exports.Set("resizeBilinearBackward", Napi::Function::New<ResizeBilinearBackward>(env, "resizeBilinearBackward"));
  exports.Set("addForward", Napi::Function::New<AddForward>(env, "addForward"));
  exports.Set("addScaled", Napi::Function::New<AddScaled>(env, "addScaled"));
}

}  // namespace gmn::addon
