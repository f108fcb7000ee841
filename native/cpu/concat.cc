// Concatenation along the last axis, and its split.
#include <algorithm>
#include <cstring>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"

namespace gmn::cpu {

void concat_forward(const float* const* inputs, const int64_t* widths, int64_t count, float* out, int64_t N) {
  int64_t W = 0;
  for (int64_t i = 0; i < count; ++i) W += widths[i];
  parallel_for(N, row_grain(W), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      float* o = out + n * W;
      for (int64_t i = 0; i < count; ++i) {
        std::memcpy(o, inputs[i] + n * widths[i], widths[i] * sizeof(float));
        o += widths[i];
      }
    }
  });
}

void concat_backward(const float* dy, float* const* grads, const int64_t* widths, int64_t count, int64_t N,
                     bool accumulate) {
  int64_t W = 0;
  for (int64_t i = 0; i < count; ++i) W += widths[i];
  parallel_for(N, row_grain(W), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const float* d = dy + n * W;
      for (int64_t i = 0; i < count; ++i) {
        if (float* g = grads[i] ? grads[i] + n * widths[i] : nullptr) {
          if (accumulate)
            for (int64_t k = 0; k < widths[i]; ++k) g[k] += d[k];
          else
            std::memcpy(g, d, widths[i] * sizeof(float));
        }
        d += widths[i];
      }
    }
  });
}

}  // namespace gmn::cpu
