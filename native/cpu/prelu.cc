#include <algorithm>
#include <cstring>
#include <vector>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"
#include "prelu.h"
#include "scratch.h"
#include "vec8.h"

namespace gmn::cpu {

namespace {

// prelu at x, its derivative times dy, and x's factor in the slope gradient (x where x <= 0, else 0),
// for one value or 8 (vec8.h: vectorised for any instruction set, where a scalar select around a
// product is not, as the product could trap). Same bits either way.
template <typename T>
inline T activation(const T& x, const T& a) {
  return x > 0.0f ? x : a * x;
}
template <typename T>
inline T input_grad(const T& x, const T& dy, const T& a) {
  return x > 0.0f ? dy : a * dy;
}
inline float negative_part(float x) { return x > 0.0f ? 0.0f : x; }

// One row of `n` values of channel slope a: its input gradient, and its slope gradient (the sum of
// dy * x where x <= 0) by sum_eights (vec8.h) and then the tail in order, so the same bits
// whatever the thread count.

double prelu_row(const float* __restrict x, const float* __restrict dy, float* __restrict dx, float a, int64_t n,
                 bool accumulate, bool slope) {
  if (dx) map_row(dx, n, accumulate, [&](int64_t i, auto like) { return input_grad(at(x, i, like), at(dy, i, like), splat(a, like)); });
  if (!slope) return 0.0;
  double s = sum_eights(n, [&](int64_t i) {
    const Floats8 xv = load8(x + i), negative = xv > 0.0f ? Floats8{} : xv;
    return __builtin_convertvector(load8(dy + i), Doubles8) * __builtin_convertvector(negative, Doubles8);
  });
  for (int64_t i = n / 8 * 8; i < n; ++i) s += double(dy[i]) * double(negative_part(x[i]));
  return s;
}

// The images (outer indices) of one block of prelu_backward's slope sums: about 4096 values.
int64_t slope_block(int64_t C, int64_t inner) { return std::max<int64_t>(1, 4096 / std::max<int64_t>(1, C * inner)); }

}  // namespace

void prelu_forward(const float* x, const float* alpha, float* y, int64_t outer, int64_t C, int64_t inner) {
  if (inner == 1) {  // channels last (a linear layer's features): vectorise across the channels
    parallel_for(outer, row_grain(C), [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        const float* xo = x + o * C;
        map_row(y + o * C, C, false, [&](int64_t c, auto like) { return activation(at(xo, c, like), at(alpha, c, like)); });
      }
    });
    return;
  }
  const int64_t rows = outer * C;  // one row = one (outer, channel) pair of `inner` values
  parallel_for(rows, row_grain(inner), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float a = alpha[r % C];
      const float* xr = x + r * inner;
      map_row(y + r * inner, inner, false, [&](int64_t i, auto like) { return activation(at(xr, i, like), splat(a, like)); });
    }
  });
}

void prelu_backward(const float* x, const float* alpha, const float* dy, float* dx, float* dalpha, int64_t outer,
                    int64_t C, int64_t inner, bool accumulate) {
  // Fixed blocks of `outer` (about 4096 values each) make one parallel pass that writes dx and a
  // partial slope gradient per block; the partials are then summed in block order: deterministic.
  const int64_t block = slope_block(C, inner);
  const int64_t blocks = (outer + block - 1) / block;
  thread_local std::vector<double> partial_buf;
  double* partial = dalpha ? scratch(partial_buf, blocks * C) : nullptr;
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      double* __restrict p = dalpha ? partial + b * C : nullptr;
      if (p) std::fill(p, p + C, 0.0);
      for (int64_t o = b * block; o < std::min(outer, (b + 1) * block); ++o) {
        const int64_t base = o * C * inner;
        if (inner == 1) {
          // Channels last (a linear layer's features): vectorise across the channels instead.
          const float* __restrict xo = x + base;
          const float* __restrict go = dy + base;
          if (dx)
            map_row(dx + base, C, accumulate,
                    [&](int64_t c, auto like) { return input_grad(at(xo, c, like), at(go, c, like), at(alpha, c, like)); });
          if (p) {  // 8 channels' sums at a time (each still summed over the rows in order)
            int64_t c = 0;
            for (; c + 8 <= C; c += 8) {
              const Floats8 xv = load8(xo + c), negative = xv > 0.0f ? Floats8{} : xv;
              Doubles8 sums;
              std::memcpy(&sums, p + c, sizeof sums);
              sums += __builtin_convertvector(load8(go + c), Doubles8) * __builtin_convertvector(negative, Doubles8);
              std::memcpy(p + c, &sums, sizeof sums);
            }
            for (; c < C; ++c) p[c] += double(go[c]) * double(negative_part(xo[c]));
          }
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

void prelu_backward_image(const float* x, const float* alpha, const float* dy, float* dx, double* slope, int64_t C,
                          int64_t inner) {
  for (int64_t c = 0; c < C; ++c) {
    const double s = prelu_row(x + c * inner, dy + c * inner, dx + c * inner, alpha[c], inner, false, slope != nullptr);
    if (slope) slope[c] = s;
  }
}

void prelu_slope_total(const double* slope, float* dalpha, int64_t outer, int64_t C, int64_t inner, bool accumulate) {
  const int64_t block = slope_block(C, inner);
  for (int64_t c = 0; c < C; ++c) {
    double s = 0.0;
    for (int64_t b0 = 0; b0 < outer; b0 += block) {
      double partial = 0.0;
      for (int64_t o = b0; o < std::min(outer, b0 + block); ++o) partial += slope[o * C + c];
      s += partial;
    }
    dalpha[c] = accumulate ? dalpha[c] + static_cast<float>(s) : static_cast<float>(s);
  }
}

}  // namespace gmn::cpu
