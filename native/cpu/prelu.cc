#include <algorithm>
#include <vector>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"

namespace gmn::cpu {

void prelu_forward(const float* x, const float* alpha, float* y, int64_t outer, int64_t C, int64_t inner) {
  const int64_t rows = outer * C;  // one row = one (outer, channel) pair of `inner` values
  parallel_for(rows, std::max<int64_t>(1, 4096 / inner), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float a = alpha[r % C];
      const float* xr = x + r * inner;
      float* yr = y + r * inner;
      for (int64_t i = 0; i < inner; ++i) yr[i] = xr[i] > 0.0f ? xr[i] : a * xr[i];
    }
  });
}

void prelu_backward(const float* x, const float* alpha, const float* dy, float* dx, float* dalpha, int64_t outer,
                    int64_t C, int64_t inner, bool accumulate) {
  if (dx) {
    parallel_for(outer * C, std::max<int64_t>(1, 4096 / inner), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float a = alpha[r % C];
        const int64_t o = r * inner;
        for (int64_t i = 0; i < inner; ++i) {
          const float g = x[o + i] > 0.0f ? dy[o + i] : a * dy[o + i];
          dx[o + i] = accumulate ? dx[o + i] + g : g;
        }
      }
    });
  }
  if (dalpha) {
    // Partial sums per fixed block of `outer`, then summed in block order: deterministic.
    const int64_t block = 64, blocks = (outer + block - 1) / block;
    std::vector<double> partial(static_cast<size_t>(blocks * C), 0.0);
    parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        double* p = partial.data() + b * C;
        for (int64_t o = b * block; o < std::min(outer, (b + 1) * block); ++o) {
          for (int64_t c = 0; c < C; ++c) {
            const int64_t base = (o * C + c) * inner;
            double s = 0.0;
            for (int64_t i = 0; i < inner; ++i) s += x[base + i] > 0.0f ? 0.0 : double(dy[base + i]) * x[base + i];
            p[c] += s;
          }
        }
      }
    });
    for (int64_t c = 0; c < C; ++c) {
      double s = 0.0;
      for (int64_t b = 0; b < blocks; ++b) s += partial[b * C + c];
      dalpha[c] = accumulate ? dalpha[c] + static_cast<float>(s) : static_cast<float>(s);
    }
  }
}

}  // namespace gmn::cpu
