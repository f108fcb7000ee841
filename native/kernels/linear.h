// linear = broadcast_rows + sgemm, written once over its primitives for either backend: the op
// (native/ops/linear.cc) passes the kernels of the tensors' device, the CPU GRU passes cpu_linear.
#pragma once
#include "kernels.h"

namespace gmn {

struct LinearKernels {
  decltype(&cpu::sgemm) sgemm;
  decltype(&cpu::broadcast_rows_forward) rows;
  decltype(&cpu::broadcast_rows_backward) column_sums;
};

inline constexpr LinearKernels cpu_linear{&cpu::sgemm, &cpu::broadcast_rows_forward, &cpu::broadcast_rows_backward};

// y[N,M] = x[N,K] w[M,K]^T + b[M]; b may be null.
inline void linear_forward(const LinearKernels& k, const float* x, const float* w, const float* b, float* y, int64_t N,
                           int64_t K, int64_t M) {
  if (b) k.rows(b, y, N, M);
  k.sgemm(false, true, N, M, K, 1.0f, x, K, w, K, b ? 1.0f : 0.0f, y, M);
}

// dx[N,K] = dy w;  dw[M,K] = dy^T x;  db[M] = sum over rows of dy; null outputs are skipped.
inline void linear_backward(const LinearKernels& k, const float* x, const float* w, const float* dy, float* dx,
                            float* dw, float* db, int64_t N, int64_t K, int64_t M, bool accumulate) {
  const float beta = accumulate ? 1.0f : 0.0f;
  if (dx) k.sgemm(false, false, N, K, M, 1.0f, dy, M, w, K, beta, dx, K);
  if (dw) k.sgemm(true, false, M, K, N, 1.0f, dy, M, x, K, beta, dw, K);
  if (db) k.column_sums(dy, db, N, M, accumulate);
}

}  // namespace gmn
