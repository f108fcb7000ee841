#include <algorithm>
#include <cstring>
#include <vector>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"

namespace gmn::cpu {

namespace {

// prelu at x, its derivative times dy, and x's factor in the slope gradient (x where x <= 0, else 0).
inline float activation(float x, float a) { return x > 0.0f ? x : a * x; }
inline float input_grad(float x, float dy, float a) { return x > 0.0f ? dy : a * dy; }
inline float negative_part(float x) { return x > 0.0f ? 0.0f : x; }

// One row of `n` values of channel slope a: its input gradient, and its slope gradient (the sum of
// dy * x where x <= 0) in 8 double lanes (a GCC vector: vectorised for any instruction set, same
// lanes everywhere) combined in lane order, so the same bits whatever the thread count.
typedef float Floats8 __attribute__((vector_size(32)));
typedef double Doubles8 __attribute__((vector_size(64)));

double prelu_row(const float* __restrict x, const float* __restrict dy, float* __restrict dx, float a, int64_t n,
                 bool accumulate, bool slope) {
  if (dx) {
    if (accumulate)
      for (int64_t i = 0; i < n; ++i) dx[i] += input_grad(x[i], dy[i], a);
    else
      for (int64_t i = 0; i < n; ++i) dx[i] = input_grad(x[i], dy[i], a);
  }
  if (!slope) return 0.0;
  Doubles8 lanes = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    Floats8 xv, gv;
    std::memcpy(&xv, x + i, sizeof xv);
    std::memcpy(&gv, dy + i, sizeof gv);
    const Floats8 negative = xv > 0.0f ? Floats8{} : xv;
    lanes += __builtin_convertvector(gv, Doubles8) * __builtin_convertvector(negative, Doubles8);
  }
  double s = 0.0;
  for (int l = 0; l < 8; ++l) s += lanes[l];
  for (; i < n; ++i) s += double(dy[i]) * double(negative_part(x[i]));
  return s;
}

}  // namespace

void prelu_forward(const float* x, const float* alpha, float* y, int64_t outer, int64_t C, int64_t inner) {
  if (inner == 1) {  // channels last (a linear layer's features): vectorise across the channels
    parallel_for(outer, row_grain(C), [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        const float* __restrict xo = x + o * C;
        float* __restrict yo = y + o * C;
        for (int64_t c = 0; c < C; ++c) yo[c] = activation(xo[c], alpha[c]);
      }
    });
    return;
  }
  const int64_t rows = outer * C;  // one row = one (outer, channel) pair of `inner` values
  parallel_for(rows, row_grain(inner), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float a = alpha[r % C];
      const float* __restrict xr = x + r * inner;
      float* __restrict yr = y + r * inner;
      for (int64_t i = 0; i < inner; ++i) yr[i] = activation(xr[i], a);
    }
  });
}

void prelu_backward(const float* x, const float* alpha, const float* dy, float* dx, float* dalpha, int64_t outer,
                    int64_t C, int64_t inner, bool accumulate) {
  // Fixed blocks of `outer` (about 4096 values each) make one parallel pass that writes dx and a
  // partial slope gradient per block; the partials are then summed in block order: deterministic.
  const int64_t block = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, C * inner));
  const int64_t blocks = (outer + block - 1) / block;
  std::vector<double> partial(dalpha ? static_cast<size_t>(blocks * C) : 0, 0.0);
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      double* __restrict p = dalpha ? partial.data() + b * C : nullptr;
      for (int64_t o = b * block; o < std::min(outer, (b + 1) * block); ++o) {
        const int64_t base = o * C * inner;
        if (inner == 1) {
          // Channels last (a linear layer's features): vectorise across the channels instead.
          const float* __restrict xo = x + base;
          const float* __restrict go = dy + base;
          if (dx) {
            float* __restrict d = dx + base;
            if (accumulate)
              for (int64_t c = 0; c < C; ++c) d[c] += input_grad(xo[c], go[c], alpha[c]);
            else
              for (int64_t c = 0; c < C; ++c) d[c] = input_grad(xo[c], go[c], alpha[c]);
          }
          if (p)
            for (int64_t c = 0; c < C; ++c) p[c] += double(go[c]) * double(negative_part(xo[c]));
          continue;
        }
        for (int64_t c = 0; c < C; ++c) {
          const int64_t r = base + c * inner;
          const double s = prelu_row(x + r, dy + r, dx ? dx + r : nullptr, alpha[c], inner, accumulate, p != nullptr);
          if (p) p[c] += s;
        }
      }
    }
  });
  if (!dalpha) return;
  for (int64_t c = 0; c < C; ++c) {
    double s = 0.0;
    for (int64_t b = 0; b < blocks; ++b) s += partial[b * C + c];
    dalpha[c] = accumulate ? dalpha[c] + static_cast<float>(s) : static_cast<float>(s);
  }
}

}  // namespace gmn::cpu
