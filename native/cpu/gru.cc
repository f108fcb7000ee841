// The authors' GRU cell with a PReLU candidate, built from the dense kernels (sgemm through linear,
// prelu, concat) plus elementwise gating loops over rows.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"
#include "../kernels/linear.h"

namespace gmn::cpu {

namespace {

inline float sigmoid(float z) { return 1.0f / (1.0f + std::exp(-z)); }

// total = [x, h] into `total`, or gated = [x, r*h] when r (the gates' first half, row stride 2H) is given.
void gru_input(const float* x, const float* h, const float* gates, float* total, int64_t N, int64_t I, int64_t H) {
  const float* parts[2] = {x, h};
  const int64_t widths[2] = {I, H};
  concat_forward(parts, widths, 2, total, N);
  if (!gates) return;
  parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t j = 0; j < H; ++j) total[n * (I + H) + I + j] *= gates[n * 2 * H + j];
  });
}

}  // namespace

void gru_forward(const float* x, const float* h, const float* w_gates, const float* b_gates, const float* w_cand,
                 const float* b_cand, const float* slope, float* out, float* saved, int64_t N, int64_t I, int64_t H) {
  const int64_t K = I + H;
  float* gates = saved;
  float* a = saved + N * 2 * H;
  float* c = a + N * H;
  std::vector<float> input(N * K);
  gru_input(x, h, nullptr, input.data(), N, I, H);
  linear_forward(cpu_linear, input.data(), w_gates, b_gates, gates, N, K, 2 * H);
  parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t i = n0 * 2 * H; i < n1 * 2 * H; ++i) gates[i] = sigmoid(gates[i]);
  });
  gru_input(x, h, gates, input.data(), N, I, H);
  linear_forward(cpu_linear, input.data(), w_cand, b_cand, a, N, K, H);
  prelu_forward(a, slope, c, N, H, 1);
  parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t j = 0; j < H; ++j) {
        const float u = gates[n * 2 * H + H + j];
        out[n * H + j] = u * h[n * H + j] + (1.0f - u) * c[n * H + j];
      }
  });
}

void gru_backward(const float* x, const float* h, const float* w_gates, const float* w_cand, const float* slope,
                  const float* saved, const float* dout, float* dx, float* dh, float* dw_gates, float* db_gates,
                  float* dw_cand, float* db_cand, float* dslope, int64_t N, int64_t I, int64_t H, bool accumulate) {
  const int64_t K = I + H;
  const float* gates = saved;
  const float* a = saved + N * 2 * H;
  const float* c = a + N * H;
  // dgates: gradient of the gates' pre-activations; dinput, dgated: of [x, h] and [x, r*h].
  std::vector<float> dgates(N * 2 * H), dc(N * H), da(N * H), input(N * K), dinput(N * K), dgated(N * K);

  // out = u*h + (1-u)*c: the update gate's part of dgates, and dc.
  parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t j = 0; j < H; ++j) {
        const int64_t k = n * H + j;
        const float u = gates[n * 2 * H + H + j];
        dgates[n * 2 * H + H + j] = dout[k] * (h[k] - c[k]) * u * (1.0f - u);
        dc[k] = dout[k] * (1.0f - u);
      }
  });
  prelu_backward(a, slope, dc.data(), da.data(), nullptr, N, H, 1, false);
  if (dslope) prelu_backward(a, slope, dc.data(), nullptr, dslope, N, H, 1, accumulate);

  // a = gated w_cand^T + b_cand
  gru_input(x, h, gates, input.data(), N, I, H);
  linear_backward(cpu_linear, input.data(), w_cand, da.data(), dgated.data(), nullptr, nullptr, N, K, H, false);
  linear_backward(cpu_linear, input.data(), w_cand, da.data(), nullptr, dw_cand, db_cand, N, K, H, accumulate);

  // gated = [x, r*h]: the reset gate's part of dgates.
  parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t j = 0; j < H; ++j) {
        const float r = gates[n * 2 * H + j];
        dgates[n * 2 * H + j] = dgated[n * K + I + j] * h[n * H + j] * r * (1.0f - r);
      }
  });

  // gates = sigmoid([x, h] w_gates^T + b_gates)
  gru_input(x, h, nullptr, input.data(), N, I, H);
  linear_backward(cpu_linear, input.data(), w_gates, dgates.data(), dinput.data(), nullptr, nullptr, N, K, 2 * H, false);
  linear_backward(cpu_linear, input.data(), w_gates, dgates.data(), nullptr, dw_gates, db_gates, N, K, 2 * H, accumulate);

  // x and h reach the output through [x, h], through [x, r*h], and h directly through u*h.
  parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const float* di = dinput.data() + n * K;
      const float* dg = dgated.data() + n * K;
      if (dx)
        for (int64_t i = 0; i < I; ++i) {
          const float g = di[i] + dg[i];
          dx[n * I + i] = accumulate ? dx[n * I + i] + g : g;
        }
      if (dh)
        for (int64_t j = 0; j < H; ++j) {
          const float g = di[I + j] + dg[I + j] * gates[n * 2 * H + j] + dout[n * H + j] * gates[n * 2 * H + H + j];
          dh[n * H + j] = accumulate ? dh[n * H + j] + g : g;
        }
    }
  });
}

}  // namespace gmn::cpu
