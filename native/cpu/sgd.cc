// SGD with momentum over a list of tensors.
#include <cmath>
#include <vector>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"
#include "chunks.h"

namespace gmn::cpu {

using namespace chunks;

void sgd_update(float* const* params, const float* const* grads, float* const* velocity, const int64_t* sizes,
                int64_t count, double lr, double momentum, double weight_decay, double grad_scale) {
  const float rate = float(lr), mom = float(momentum), wd = float(weight_decay), scale = float(grad_scale);
  for_each_chunk(chunks_of(sizes, count), [&](int64_t, const Chunk& k) {
    float *p = params[k.tensor], *vel = velocity[k.tensor];
    const float* g = grads[k.tensor];
    for (int64_t i = k.begin; i < k.end; ++i) {
      vel[i] = mom * vel[i] + scale * g[i] + wd * p[i];
      p[i] -= rate * vel[i];
    }
  });
}

}  // namespace gmn::cpu
