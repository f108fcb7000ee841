// N-API exports of the fused ELBO, Gaussian reparameterisation, native normal noise, optimizer updates and gradient norms.
#include <string>
#include <vector>

#include "../core/ops_elbo.h"
#include "exports.h"
#include "napi_util.h"

namespace gmn::addon {

namespace {

Napi::Value RandomNormal(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 3, 3, "randomNormal");
    return queue_job(info.Env(), ops::random_normal(get_tensor(info[0], "out"), get_number(info[1], "seed"),
                                                    get_number(info[2], "offset")));
  });
}

Napi::Value GaussianSampleForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 4, 4, "gaussianSampleForward");
    return queue_job(info.Env(), ops::gaussian_sample_forward(get_tensor(info[0], "mu"), get_tensor(info[1], "preSigma"),
                                                              get_tensor(info[2], "eps"), get_tensor(info[3], "out")));
  });
}

Napi::Value GaussianSampleBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 6, 6, "gaussianSampleBackward");
    return queue_job(info.Env(), ops::gaussian_sample_backward(
                                     get_tensor(info[0], "preSigma"), get_tensor(info[1], "eps"),
                                     get_tensor(info[2], "gradOut"), get_optional_tensor(info[3], "gradMu"),
                                     get_optional_tensor(info[4], "gradPreSigma"), get_bool(info[5], "accumulate")));
  });
}

Napi::Value ElboForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 10, 10, "elboForward");
    return queue_job(info.Env(),
                     ops::elbo_forward(get_tensor(info[0], "logits"), get_tensor(info[1], "x"), get_tensor(info[2], "z"),
                                       get_tensor(info[3], "muQ"), get_tensor(info[4], "preQ"),
                                       get_tensor(info[5], "muP"), get_tensor(info[6], "preP"),
                                       get_tensor(info[7], "rowWeight"), get_tensor(info[8], "terms"),
                                       get_tensor(info[9], "loss")));
  });
}

Napi::Value ElboBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 16, 16, "elboBackward");
    return queue_job(
        info.Env(),
        ops::elbo_backward(get_tensor(info[0], "logits"), get_tensor(info[1], "x"), get_tensor(info[2], "z"),
                           get_tensor(info[3], "muQ"), get_tensor(info[4], "preQ"), get_tensor(info[5], "muP"),
                           get_tensor(info[6], "preP"), get_tensor(info[7], "rowWeight"), get_tensor(info[8], "gradLoss"),
                           get_optional_tensor(info[9], "gradLogits"), get_optional_tensor(info[10], "gradZ"),
                           get_optional_tensor(info[11], "gradMuQ"), get_optional_tensor(info[12], "gradPreQ"),
                           get_optional_tensor(info[13], "gradMuP"), get_optional_tensor(info[14], "gradPreP"),
                           get_bool(info[15], "accumulate")));
  });
}

Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 1, 1, "sumSquares");
    auto result = std::make_shared<double>(0.0);
    return queue_job(info.Env(), ops::sum_squares(get_tensor_array(info[0], "tensors"), result),
                     [result](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *result); });
  });
}

Napi::Value AdamUpdate(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 12, 12, "adamUpdate");
    return queue_job(info.Env(),
                     ops::adam_update(get_tensor_array(info[0], "params"), get_tensor_array(info[1], "grads"),
                                      get_tensor_array(info[2], "m"), get_tensor_array(info[3], "v"),
                                      get_number(info[4], "lr"), get_number(info[5], "beta1"),
                                      get_number(info[6], "beta2"), get_number(info[7], "eps"),
                                      get_number(info[8], "weightDecay"), get_bool(info[9], "decoupled"),
                                      get_number(info[10], "step"), get_number(info[11], "gradScale")));
  });
}

Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 7, 7, "sgdUpdate");
    return queue_job(info.Env(), ops::sgd_update(get_tensor_array(info[0], "params"), get_tensor_array(info[1], "grads"),
                                                 get_tensor_array(info[2], "velocity"), get_number(info[3], "lr"),
                                                 get_number(info[4], "momentum"), get_number(info[5], "weightDecay"),
                                                 get_number(info[6], "gradScale")));
  });
}

}  // namespace

void register_elbo_ops(Napi::Env env, Napi::Object exports) {
  exports.Set("randomNormal", Napi::Function::New<RandomNormal>(env, "randomNormal"));
  exports.Set("gaussianSampleForward", Napi::Function::New<GaussianSampleForward>(env, "gaussianSampleForward"));
  exports.Set("gaussianSampleBackward", Napi::Function::New<GaussianSampleBackward>(env, "gaussianSampleBackward"));
  exports.Set("elboForward", Napi::Function::New<ElboForward>(env, "elboForward"));
  exports.Set("elboBackward", Napi::Function::New<ElboBackward>(env, "elboBackward"));
  exports.Set("sumSquares", Napi::Function::New<SumSquares>(env, "sumSquares"));
  exports.Set("adamUpdate", Napi::Function::New<AdamUpdate>(env, "adamUpdate"));
  exports.Set("sgdUpdate", Napi::Function::New<SgdUpdate>(env, "sgdUpdate"));
}

}  // namespace gmn::addon
