// A vector broadcast over rows, and its gradient: the column sums (also linear's bias gradient).
#include <cstring>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"
#include "vec8.h"

namespace gmn::cpu {

void broadcast_rows_forward(const float* v, float* out, int64_t N, int64_t H) {
  parallel_for(N, row_grain(H), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) std::memcpy(out + n * H, v, H * sizeof(float));
  });
}

void broadcast_rows_backward(const float* dy, float* dv, int64_t N, int64_t H, bool accumulate) {
  // Each column summed over rows in order, 16 columns side by side (a vector, not one chain of
  // adds per column): deterministic, the same bits for any thread count.
  parallel_for(H, 16, [&](int64_t h0, int64_t h1) {
    int64_t h = h0;
    for (; h + 16 <= h1; h += 16) {
      Floats8 lo{}, hi{};
      for (int64_t n = 0; n < N; ++n) lo += load8(dy + n * H + h), hi += load8(dy + n * H + h + 8);
      store8(dv + h, accumulate ? load8(dv + h) + lo : lo);
      store8(dv + h + 8, accumulate ? load8(dv + h + 8) + hi : hi);
    }
    for (; h < h1; ++h) {
      float s = 0.0f;
      for (int64_t n = 0; n < N; ++n) s += dy[n * H + h];
      dv[h] = accumulate ? dv[h] + s : s;
    }
  });
}

}  // namespace gmn::cpu
