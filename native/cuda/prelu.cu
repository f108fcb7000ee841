#include "../kernels/kernels.h"
#include "common.cuh"

namespace gmn::cuda {

namespace {

__global__ void prelu_forward_kernel(const float* x, const float* alpha, float* y, int64_t n, int64_t C, int64_t inner) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float v = x[i];
    y[i] = v > 0.0f ? v : alpha[(i / inner) % C] * v;
  }
}

__global__ void prelu_backward_input_kernel(const float* x, const float* alpha, const float* dy, float* dx, int64_t n,
                                            int64_t C, int64_t inner, bool accumulate) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float g = x[i] > 0.0f ? dy[i] : alpha[(i / inner) % C] * dy[i];
    dx[i] = accumulate ? dx[i] + g : g;
  }
}

// One block of kThreads per channel: each thread sums a strided share, each warp reduces its 32
// partial sums by shuffles, then the first warp reduces the warps' sums. A fixed shape, so the
// result is deterministic.
__global__ void __launch_bounds__(kThreads) prelu_backward_alpha_kernel(const float* x, const float* dy, float* dalpha,
                                                                        int64_t outer, int64_t C, int64_t inner,
                                                                        bool accumulate) {
  __shared__ float warp_sums[kThreads / 32];
  const int64_t c = blockIdx.x;
  const int64_t count = outer * inner;
  float s = 0.0f;
  for (int64_t k = threadIdx.x; k < count; k += blockDim.x) {
    const int64_t i = ((k / inner) * C + c) * inner + k % inner;
    if (x[i] <= 0.0f) s += dy[i] * x[i];
  }
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  s = warp_sum(s);
  if (lane == 0) warp_sums[warp] = s;
  __syncthreads();
  if (warp == 0) {
    s = warp_sum(lane < kThreads / 32 ? warp_sums[lane] : 0.0f);
    if (lane == 0) dalpha[c] = accumulate ? dalpha[c] + s : s;
  }
}

}  // namespace

void prelu_forward(const float* x, const float* alpha, float* y, int64_t outer, int64_t C, int64_t inner) {
  const int64_t n = outer * C * inner;
  GMN_LAUNCH(prelu_forward_kernel, blocks_for(n), kThreads, 0, stream(), x, alpha, y, n, C, inner);
  CUDA_CHECK_LAUNCH();
}

void prelu_backward(const float* x, const float* alpha, const float* dy, float* dx, float* dalpha, int64_t outer,
                    int64_t C, int64_t inner, bool accumulate) {
  const int64_t n = outer * C * inner;
  if (dx) {
    GMN_LAUNCH(prelu_backward_input_kernel, blocks_for(n), kThreads, 0, stream(), x, alpha, dy, dx, n, C, inner,
               accumulate);
    CUDA_CHECK_LAUNCH();
  }
  if (dalpha) {
    if (C > 0x7fffffff) throw std::runtime_error("prelu_backward: too many channels for one launch");
    GMN_LAUNCH(prelu_backward_alpha_kernel, static_cast<unsigned>(C), kThreads, 0, stream(), x, dy, dalpha, outer, C,
               inner, accumulate);
    CUDA_CHECK_LAUNCH();
  }
}

}  // namespace gmn::cuda
