#include "../core/kernels.h"
#include "common.cuh"

namespace gmn::cuda {

namespace {

__global__ void broadcast_rows_kernel(const float* b, float* y, int64_t N, int64_t M) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < N * M; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = b[i % M];
}

// One thread per column, rows summed in order: deterministic.
__global__ void column_sum_kernel(const float* dy, float* db, int64_t N, int64_t M, bool accumulate) {
  for (int64_t m = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; m < M; m += int64_t(gridDim.x) * blockDim.x) {
    float s = 0.0f;
    for (int64_t n = 0; n < N; ++n) s += dy[n * M + m];
    db[m] = accumulate ? db[m] + s : s;
  }
}

}  // namespace

void linear_forward(const float* x, const float* w, const float* b, float* y, int64_t N, int64_t K, int64_t M) {
  if (b) {
    broadcast_rows_kernel<<<blocks_for(N * M), kThreads>>>(b, y, N, M);
    CUDA_CHECK_LAUNCH();
  }
  sgemm(false, true, N, M, K, 1.0f, x, K, w, K, b ? 1.0f : 0.0f, y, M);
}

void linear_backward(const float* x, const float* w, const float* dy, float* dx, float* dw, float* db, int64_t N,
                     int64_t K, int64_t M, bool accumulate) {
  const float beta = accumulate ? 1.0f : 0.0f;
  if (dx) sgemm(false, false, N, K, M, 1.0f, dy, M, w, K, beta, dx, K);
  if (dw) sgemm(true, false, M, K, N, 1.0f, dy, M, x, K, beta, dw, K);
  if (db) {
    column_sum_kernel<<<blocks_for(M), kThreads>>>(dy, db, N, M, accumulate);
    CUDA_CHECK_LAUNCH();
  }
}

}  // namespace gmn::cuda
