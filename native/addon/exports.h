// Each op family registers its exports here (called from addon.cc).
#pragma once
#include <napi.h>

namespace gmn::addon {

void register_conv_ops(Napi::Env env, Napi::Object exports);
void register_attention_ops(Napi::Env env, Napi::Object exports);
void register_elbo_ops(Napi::Env env, Napi::Object exports);

}  // namespace gmn::addon
