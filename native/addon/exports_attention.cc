// N-API exports of the attention read: concat/split, row broadcast, the causal matching read, the GRU cell.
#include <cmath>
#include <string>
#include <vector>

#include "../core/ops_attention.h"
#include "exports.h"
#include "napi_util.h"

namespace gmn::addon {

namespace {

Napi::Value ConcatForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 2, 2, "concatForward");
    return queue_job(info.Env(), ops::concat_forward(get_tensor_array(info[0], "inputs"), get_tensor(info[1], "out")));
  });
}

Napi::Value ConcatBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 3, 3, "concatBackward");
    return queue_job(info.Env(), ops::concat_backward(get_tensor(info[0], "gradOut"),
                                                      get_optional_tensor_array(info[1], "gradInputs"),
                                                      get_bool(info[2], "accumulate")));
  });
}

Napi::Value BroadcastRowsForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 2, 2, "broadcastRowsForward");
    return queue_job(info.Env(),
                     ops::broadcast_rows_forward(get_tensor(info[0], "vector"), get_tensor(info[1], "out")));
  });
}

Napi::Value BroadcastRowsBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 3, 3, "broadcastRowsBackward");
    return queue_job(info.Env(), ops::broadcast_rows_backward(get_tensor(info[0], "gradOut"),
                                                              get_optional_tensor(info[1], "gradVector"),
                                                              get_bool(info[2], "accumulate")));
  });
}

Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 11, 11, "attentionForward");
    return queue_job(
        info.Env(),
        ops::attention_forward(get_optional_tensor(info[0], "query"), get_optional_tensor(info[1], "keys"),
                               get_optional_tensor(info[2], "pseudoKeys"), get_tensor(info[3], "values"),
                               get_optional_tensor(info[4], "pseudoValues"), get_optional_tensor(info[5], "strength"),
                               get_tensor(info[6], "out"), get_tensor(info[7], "weights"),
                               get_integer(info[8], "episodes", 1, kMaxNumel), get_string(info[9], "similarity"),
                               get_integer(info[10], "pseudoPositions", 0, kMaxNumel)));
  });
}

Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 18, 18, "attentionBackward");
    return queue_job(
        info.Env(),
        ops::attention_backward(
            get_optional_tensor(info[0], "query"), get_optional_tensor(info[1], "keys"),
            get_optional_tensor(info[2], "pseudoKeys"), get_tensor(info[3], "values"),
            get_optional_tensor(info[4], "pseudoValues"), get_optional_tensor(info[5], "strength"),
            get_tensor(info[6], "weights"), get_tensor(info[7], "gradOut"), get_optional_tensor(info[8], "gradQuery"),
            get_optional_tensor(info[9], "gradKeys"), get_optional_tensor(info[10], "gradPseudoKeys"),
            get_optional_tensor(info[11], "gradValues"), get_optional_tensor(info[12], "gradPseudoValues"),
            get_optional_tensor(info[13], "gradStrength"), get_integer(info[14], "episodes", 1, kMaxNumel),
            get_string(info[15], "similarity"), get_integer(info[16], "pseudoPositions", 0, kMaxNumel),
            get_bool(info[17], "accumulate")));
  });
}

Napi::Value GruForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 9, 9, "gruForward");
    return queue_job(info.Env(),
                     ops::gru_forward(get_tensor(info[0], "x"), get_tensor(info[1], "h"), get_tensor(info[2], "wGates"),
                                      get_tensor(info[3], "bGates"), get_tensor(info[4], "wCand"),
                                      get_tensor(info[5], "bCand"), get_tensor(info[6], "slope"),
                                      get_tensor(info[7], "out"), get_tensor(info[8], "saved")));
  });
}

Napi::Value GruBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 17, 17, "gruBackward");
    return queue_job(
        info.Env(),
        ops::gru_backward(get_tensor(info[0], "x"), get_tensor(info[1], "h"), get_tensor(info[2], "wGates"),
                          get_tensor(info[3], "bGates"), get_tensor(info[4], "wCand"), get_tensor(info[5], "bCand"),
                          get_tensor(info[6], "slope"), get_tensor(info[7], "saved"), get_tensor(info[8], "gradOut"),
                          get_optional_tensor(info[9], "gradX"), get_optional_tensor(info[10], "gradH"),
                          get_optional_tensor(info[11], "gradWGates"), get_optional_tensor(info[12], "gradBGates"),
                          get_optional_tensor(info[13], "gradWCand"), get_optional_tensor(info[14], "gradBCand"),
                          get_optional_tensor(info[15], "gradSlope"), get_bool(info[16], "accumulate")));
  });
}

}  // namespace

void register_attention_ops(Napi::Env env, Napi::Object exports) {
  exports.Set("concatForward", Napi::Function::New<ConcatForward>(env, "concatForward"));
  exports.Set("concatBackward", Napi::Function::New<ConcatBackward>(env, "concatBackward"));
  exports.Set("broadcastRowsForward", Napi::Function::New<BroadcastRowsForward>(env, "broadcastRowsForward"));
  exports.Set("broadcastRowsBackward", Napi::Function::New<BroadcastRowsBackward>(env, "broadcastRowsBackward"));
  exports.Set("attentionForward", Napi::Function::New<AttentionForward>(env, "attentionForward"));
  exports.Set("attentionBackward", Napi::Function::New<AttentionBackward>(env, "attentionBackward"));
  exports.Set("gruForward", Napi::Function::New<GruForward>(env, "gruForward"));
  exports.Set("gruBackward", Napi::Function::New<GruBackward>(env, "gruBackward"));
}

}  // namespace gmn::addon
