// The authors' GRU cell with a PReLU candidate, built from the dense kernels (sgemm through linear,
// prelu) plus elementwise gating passes over rows. Everything but the weight gradients is
// separate per row, so with enough rows the cell runs as one parallel region over parts of the
// rows, each part's products and passes on one thread, its rows staying in cache between them
// (one region instead of one per pass and product, no thread idle at each product's uneven column
// split). Each element is the same sequence of operations however the rows are split (sgemm's sums
// do not depend on its tiling): the same bits for any thread count.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"
#include "../kernels/linear.h"
#include "scratch.h"
#include "vec8.h"

namespace gmn::cpu {

namespace {

// Rows a thread's part needs for the split to pay: a part's products pack all of the weights.
constexpr int64_t kRowsPerPart = 48;

// f(r0, r1) over parts of [0, N): one part per thread, parts a multiple of 8 rows (sgemm's tile
// height on AVX-512), when each gets kRowsPerPart rows; else f(0, N) here, its kernels splitting
// their own work across the threads.
template <typename F>
void each_row_part(int64_t N, F f) {
  const int64_t threads = parallel_width();
  if (threads == 1 || N < threads * kRowsPerPart) return f(0, N);
  const auto bound = [&](int64_t p) { return p == threads ? N : (p * N / threads) / 8 * 8; };
  parallel_for(threads, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) f(bound(p), bound(p + 1));
  });
}

// total[n] = [x[n], h[n]], or [x[n], r[n] * h[n]] when r (the gates' first half, row stride 2H) is given.
void gru_input(const float* x, const float* h, const float* gates, float* total, int64_t N, int64_t I, int64_t H) {
  parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      float* __restrict t = total + n * (I + H);
      const float* __restrict hn = h + n * H;
      std::memcpy(t, x + n * I, I * sizeof(float));
      if (gates) {
        const float* __restrict r = gates + n * 2 * H;
        for (int64_t j = 0; j < H; ++j) t[I + j] = r[j] * hn[j];
      } else {
        std::memcpy(t + I, hn, H * sizeof(float));
      }
    }
  });
}

}  // namespace

void gru_forward(const float* x, const float* h, const float* w_gates, const float* b_gates, const float* w_cand,
                 const float* b_cand, const float* slope, float* out, float* saved, int64_t N, int64_t I, int64_t H) {
  const int64_t K = I + H;
  thread_local std::vector<float> input_buf;
  float* const input_all = aligned_scratch(input_buf, N * K);
  each_row_part(N, [&](int64_t r0, int64_t r1) {
    const int64_t n = r1 - r0;
    const float* hp = h + r0 * H;
    float* gates = saved + r0 * 2 * H;
    float* a = saved + N * 2 * H + r0 * H;
    float* c = saved + N * 3 * H + r0 * H;
    float* input = input_all + r0 * K;
    gru_input(x + r0 * I, hp, nullptr, input, n, I, H);
    linear_forward(cpu_linear, input, w_gates, b_gates, gates, n, K, 2 * H);
    // The gates' sigmoid and the candidate's input [x, r*h] in one pass.
    parallel_for(n, 16, [&](int64_t n0, int64_t n1) {
      for (int64_t i = n0; i < n1; ++i) {
        float* g = gates + i * 2 * H;
        map_row(g, 2 * H, false, [&](int64_t j, auto width) { return sigmoid(at(g, j, width)); });
        const float* __restrict hn = hp + i * H;
        float* __restrict t = input + i * K + I;  // x is already in place from the gates' input
        for (int64_t j = 0; j < H; ++j) t[j] = g[j] * hn[j];
      }
    });
    linear_forward(cpu_linear, input, w_cand, b_cand, a, n, K, H);
    prelu_forward(a, slope, c, n, H, 1);
    parallel_for(n, 16, [&](int64_t n0, int64_t n1) {
      for (int64_t i = n0; i < n1; ++i) {
        const float* __restrict u = gates + i * 2 * H + H;
        const float* __restrict hn = hp + i * H;
        const float* __restrict cn = c + i * H;
        float* __restrict o = out + (r0 + i) * H;
        for (int64_t j = 0; j < H; ++j) o[j] = u[j] * hn[j] + (1.0f - u[j]) * cn[j];
      }
    });
  });
}

void gru_backward(const float* x, const float* h, const float* w_gates, const float* w_cand, const float* slope,
                  const float* saved, const float* dout, float* dx, float* dh, float* dw_gates, float* db_gates,
                  float* dw_cand, float* db_cand, float* dslope, int64_t N, int64_t I, int64_t H, bool accumulate) {
  const int64_t K = I + H;
  const float* const a_all = saved + N * 2 * H;
  // dgates: gradient of the gates' pre-activations; dc, da: of the candidate after and before its
  // PReLU; input, gated: [x, h] and [x, r*h]; dinput, dgated: their gradients.
  thread_local std::vector<float> buf;
  float* const dgates_all = aligned_scratch(buf, N * 2 * H + 2 * N * H + 4 * N * K);
  float* const dc_all = dgates_all + N * 2 * H;
  float* const da_all = dc_all + N * H;
  float* const input_all = da_all + N * H;
  float* const gated_all = input_all + N * K;
  float* const dinput_all = gated_all + N * K;
  float* const dgated_all = dinput_all + N * K;

  each_row_part(N, [&](int64_t r0, int64_t r1) {
    const int64_t n = r1 - r0;
    const float* gates = saved + r0 * 2 * H;
    const float* a = a_all + r0 * H;
    const float* c = saved + N * 3 * H + r0 * H;
    const float* hp = h + r0 * H;
    const float* dy = dout + r0 * H;
    float* dgates = dgates_all + r0 * 2 * H;
    float* dc = dc_all + r0 * H;
    float* da = da_all + r0 * H;
    float* input = input_all + r0 * K;
    float* gated = gated_all + r0 * K;
    float* dinput = dinput_all + r0 * K;
    float* dgated = dgated_all + r0 * K;

    // out = u*h + (1-u)*c: the update gate's part of dgates, and dc.
    parallel_for(n, 16, [&](int64_t n0, int64_t n1) {
      for (int64_t i = n0; i < n1; ++i)
        for (int64_t j = 0; j < H; ++j) {
          const int64_t k = i * H + j;
          const float u = gates[i * 2 * H + H + j];
          dgates[i * 2 * H + H + j] = dy[k] * (hp[k] - c[k]) * u * (1.0f - u);
          dc[k] = dy[k] * (1.0f - u);
        }
    });
    prelu_backward(a, slope, dc, da, nullptr, n, H, 1, false);

    // a = gated w_cand^T + b_cand
    gru_input(x + r0 * I, hp, gates, gated, n, I, H);
    linear_backward(cpu_linear, gated, w_cand, da, dgated, nullptr, nullptr, n, K, H, false);

    // gated = [x, r*h]: the reset gate's part of dgates.
    parallel_for(n, 16, [&](int64_t n0, int64_t n1) {
      for (int64_t i = n0; i < n1; ++i)
        for (int64_t j = 0; j < H; ++j) {
          const float r = gates[i * 2 * H + j];
          dgates[i * 2 * H + j] = dgated[i * K + I + j] * hp[i * H + j] * r * (1.0f - r);
        }
    });

    // gates = sigmoid([x, h] w_gates^T + b_gates)
    gru_input(x + r0 * I, hp, nullptr, input, n, I, H);
    linear_backward(cpu_linear, input, w_gates, dgates, dinput, nullptr, nullptr, n, K, 2 * H, false);

    // x and h reach the output through [x, h], through [x, r*h], and h directly through u*h.
    parallel_for(n, 16, [&](int64_t n0, int64_t n1) {
      for (int64_t i = n0; i < n1; ++i) {
        const float* di = dinput + i * K;
        const float* dg = dgated + i * K;
        if (dx) {
          float* dxi = dx + (r0 + i) * I;
          for (int64_t k = 0; k < I; ++k) {
            const float g = di[k] + dg[k];
            dxi[k] = accumulate ? dxi[k] + g : g;
          }
        }
        if (dh) {
          float* dhi = dh + (r0 + i) * H;
          for (int64_t j = 0; j < H; ++j) {
            const float g = di[I + j] + dg[I + j] * gates[i * 2 * H + j] + dy[i * H + j] * gates[i * 2 * H + H + j];
            dhi[j] = accumulate ? dhi[j] + g : g;
          }
        }
      }
    });
  });

  // The parameters' gradients sum over all the rows: whole products, across the threads.
  linear_backward(cpu_linear, gated_all, w_cand, da_all, nullptr, dw_cand, db_cand, N, K, H, accumulate);
  linear_backward(cpu_linear, input_all, w_gates, dgates_all, nullptr, dw_gates, db_gates, N, K, 2 * H, accumulate);
  if (dslope) prelu_backward(a_all, slope, dc_all, nullptr, dslope, N, H, 1, accumulate);  // no dx: only the slope
}

}  // namespace gmn::cpu
