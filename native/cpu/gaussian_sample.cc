// The reparameterised Gaussian sample z = mu + sigma(pre) * eps.
#include "../base/threadpool.h"
#include "../kernels/kernels.h"
#include "gaussian.h"

namespace gmn::cpu {

using namespace gaussian;

void gaussian_sample_forward(const float* mu, const float* pre, const float* eps, float* z, int64_t n) {
  parallel_for(n, 4096, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) z[i] = mu[i] + sigma_of(pre[i]) * eps[i];
  });
}

void gaussian_sample_backward(const float* pre, const float* eps, const float* dz, float* dmu, float* dpre, int64_t n,
                              bool accumulate) {
  parallel_for(n, 4096, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      if (dmu) put(dmu, i, dz[i], accumulate);
      if (dpre) put(dpre, i, dz[i] * eps[i] * dsigma(pre[i]), accumulate);
    }
  });
}

}  // namespace gmn::cpu
