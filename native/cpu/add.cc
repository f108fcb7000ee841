// Elementwise sums that carry activations and gradients through residual connections.
#include "../base/threadpool.h"
#include "../kernels/kernels.h"

namespace gmn::cpu {

void add_forward(const float* a, const float* b, float* y, int64_t n) {
  parallel_for(n, 16384, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) y[i] = a[i] + b[i];
  });
}

void add_scaled(const float* x, float alpha, float* y, int64_t n, bool accumulate) {
  parallel_for(n, 16384, [&](int64_t i0, int64_t i1) {
    if (accumulate) {
      for (int64_t i = i0; i < i1; ++i) y[i] += alpha * x[i];
    } else {
      for (int64_t i = i0; i < i1; ++i) y[i] = alpha * x[i];
    }
  });
}

}  // namespace gmn::cpu
