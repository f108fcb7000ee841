// The authors' GRU cell with a PReLU candidate, built from the dense kernels (sgemm through linear,
// prelu) plus elementwise gating passes over rows, each fused as far as its inputs allow.
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
  float* gates = saved;
  float* a = saved + N * 2 * H;
  float* c = a + N * H;
  thread_local std::vector<float> input_buf;
  float* input = aligned_scratch(input_buf, N * K);
  gru_input(x, h, nullptr, input, N, I, H);
  linear_forward(cpu_linear, input, w_gates, b_gates, gates, N, K, 2 * H);
  // The gates' sigmoid and the candidate's input [x, r*h] in one pass.
  parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      float* g = gates + n * 2 * H;
      map_row(g, 2 * H, false, [&](int64_t j, auto width) { return sigmoid(at(g, j, width)); });
      const float* __restrict hn = h + n * H;
      float* __restrict t = input + n * K + I;  // x is already in place from the gates' input
      for (int64_t j = 0; j < H; ++j) t[j] = g[j] * hn[j];
    }
  });
  linear_forward(cpu_linear, input, w_cand, b_cand, a, N, K, H);
  prelu_forward(a, slope, c, N, H, 1);
  parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const float* __restrict u = gates + n * 2 * H + H;
      const float* __restrict hn = h + n * H;
      const float* __restrict cn = c + n * H;
      float* __restrict o = out + n * H;
      for (int64_t j = 0; j < H; ++j) o[j] = u[j] * hn[j] + (1.0f - u[j]) * cn[j];
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
  thread_local std::vector<float> buf;
  float* dgates = aligned_scratch(buf, N * 2 * H + 2 * N * H + 3 * N * K);
  float* dc = dgates + N * 2 * H;
  float* da = dc + N * H;
  float* input = da + N * H;
  float* dinput = input + N * K;
  float* dgated = dinput + N * K;

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
  // da is written, dslope written or added to: with one pass for both, a slope gradient that adds
  // goes through a buffer of H values.
  if (!dslope || !accumulate) {
    prelu_backward(a, slope, dc, da, dslope, N, H, 1, false);
  } else {
    thread_local std::vector<float> slope_grad;
    float* s = scratch(slope_grad, H);
    prelu_backward(a, slope, dc, da, s, N, H, 1, false);
    for (int64_t j = 0; j < H; ++j) dslope[j] += s[j];
  }

  // a = gated w_cand^T + b_cand
  gru_input(x, h, gates, input, N, I, H);
  linear_backward(cpu_linear, input, w_cand, da, dgated, nullptr, nullptr, N, K, H, false);
  linear_backward(cpu_linear, input, w_cand, da, nullptr, dw_cand, db_cand, N, K, H, accumulate);

  // gated = [x, r*h]: the reset gate's part of dgates.
  parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t j = 0; j < H; ++j) {
        const float r = gates[n * 2 * H + j];
        dgates[n * 2 * H + j] = dgated[n * K + I + j] * h[n * H + j] * r * (1.0f - r);
      }
  });

  // gates = sigmoid([x, h] w_gates^T + b_gates)
  gru_input(x, h, nullptr, input, N, I, H);
  linear_backward(cpu_linear, input, w_gates, dgates, dinput, nullptr, nullptr, N, K, 2 * H, false);
  linear_backward(cpu_linear, input, w_gates, dgates, nullptr, dw_gates, db_gates, N, K, 2 * H, accumulate);

  // x and h reach the output through [x, h], through [x, r*h], and h directly through u*h.
  parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const float* di = dinput + n * K;
      const float* dg = dgated + n * K;
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
