// TensorFlow's Adam over a list of tensors, with L2 or decoupled weight decay.
#include <cmath>
#include <vector>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"
#include "chunks.h"

namespace gmn::cpu {

using namespace chunks;

void adam_update(float* const* params, const float* const* grads, float* const* m, float* const* v,
                 const int64_t* sizes, int64_t count, double lr, double beta1, double beta2, double eps,
                 double weight_decay, bool decoupled, int64_t step, double grad_scale) {
  // TensorFlow's form: the bias corrections fold into the step size (in double), eps stays outside.
  const double t = double(step);
  const float lr_t = float(lr * std::sqrt(1.0 - std::pow(beta2, t)) / (1.0 - std::pow(beta1, t)));
  // 1 - beta in double, then rounded: float(1 - float(0.999)) would be off by 1.3e-5 relative.
  const float b1 = float(beta1), b2 = float(beta2), c1 = float(1.0 - beta1), c2 = float(1.0 - beta2);
  const float e = float(eps), scale = float(grad_scale);
  const float l2 = decoupled ? 0.0f : float(weight_decay), shrink = decoupled ? float(lr * weight_decay) : 0.0f;
  // The scalars by value: read through references, they could alias the stores for the compiler,
  // which would then not vectorise the loop.
  for_each_chunk(chunks_of(sizes, count), [&, lr_t, b1, b2, c1, c2, e, scale, l2, shrink](int64_t, const Chunk& k) {
    float* __restrict p = params[k.tensor] + k.begin;
    float* __restrict mt = m[k.tensor] + k.begin;
    float* __restrict vt = v[k.tensor] + k.begin;
    const float* __restrict g = grads[k.tensor] + k.begin;
    const int64_t n = k.end - k.begin;
    for (int64_t i = 0; i < n; ++i) {
      const float gi = scale * g[i] + l2 * p[i];
      mt[i] = b1 * mt[i] + c1 * gi;
      vt[i] = b2 * vt[i] + c2 * gi * gi;
      p[i] = p[i] - lr_t * mt[i] / (std::sqrt(vt[i]) + e) - shrink * p[i];  // decay uses the pre-update param
    }
  });
}

}  // namespace gmn::cpu
