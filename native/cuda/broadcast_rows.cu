// broadcast_rows on CUDA: a grid-stride copy, and column sums with one thread per column.
#include "../kernels/kernels.h"
#include "common.cuh"

namespace gmn::cuda {

namespace {

__global__ void broadcast_rows_kernel(const float* v, float* out, int64_t N, int64_t H) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < N * H; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = v[i % H];
}

// One thread per column, rows summed in order: deterministic.
__global__ void column_sum_kernel(const float* dy, float* dv, int64_t N, int64_t H, bool accumulate) {
  for (int64_t h = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; h < H; h += int64_t(gridDim.x) * blockDim.x) {
    float s = 0.0f;
    for (int64_t n = 0; n < N; ++n) s += dy[n * H + h];
    dv[h] = accumulate ? dv[h] + s : s;
  }
}

}  // namespace

void broadcast_rows_forward(const float* v, float* out, int64_t N, int64_t H) {
  GMN_LAUNCH(broadcast_rows_kernel, blocks_for(N * H), kThreads, 0, stream(), v, out, N, H);
  CUDA_CHECK_LAUNCH();
}

void broadcast_rows_backward(const float* dy, float* dv, int64_t N, int64_t H, bool accumulate) {
  GMN_LAUNCH(column_sum_kernel, blocks_for(H), kThreads, 0, stream(), dy, dv, N, H, accumulate);
  CUDA_CHECK_LAUNCH();
}

}  // namespace gmn::cuda
