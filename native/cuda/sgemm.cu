// Tiled SGEMM (no cuBLAS in the toolkit): 64x64 tiles of C per block of 256 threads, each thread
// owning a 4x4 patch; K is walked in slices of 16 staged through shared memory.
#include "../kernels/kernels.h"
#include "common.cuh"

namespace gmn::cuda {

namespace {

constexpr int BM = 64, BN = 64, BK = 16;

template <bool TA, bool TB>
__global__ void __launch_bounds__(256) sgemm_kernel(int64_t M, int64_t N, int64_t K, float alpha, const float* __restrict__ A,
                                                    int64_t lda, const float* __restrict__ B, int64_t ldb, float beta,
                                                    float* __restrict__ C, int64_t ldc) {
  __shared__ float As[BK][BM + 4];  // As[k][i] = op(A)[i0 + i, k0 + k]
  __shared__ float Bs[BK][BN + 4];  // Bs[k][j] = op(B)[k0 + k, j0 + j]
  const int64_t tiles_n = (N + BN - 1) / BN;
  const int64_t i0 = (blockIdx.x / tiles_n) * BM, j0 = (blockIdx.x % tiles_n) * BN;
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  float acc[4][4] = {};
  for (int64_t k0 = 0; k0 < K; k0 += BK) {
    for (int l = threadIdx.x; l < BM * BK; l += blockDim.x) {
      // Consecutive threads read consecutive addresses of the source layout.
      const int i = TA ? l % BM : l / BK, k = TA ? l / BM : l % BK;
      const int64_t gi = i0 + i, gk = k0 + k;
      As[k][i] = (gi < M && gk < K) ? (TA ? A[gk * lda + gi] : A[gi * lda + gk]) : 0.0f;
    }
    for (int l = threadIdx.x; l < BN * BK; l += blockDim.x) {
      const int j = TB ? l / BK : l % BN, k = TB ? l % BK : l / BN;
      const int64_t gj = j0 + j, gk = k0 + k;
      Bs[k][j] = (gj < N && gk < K) ? (TB ? B[gj * ldb + gk] : B[gk * ldb + gj]) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      float a[4], b[4];
#pragma unroll
      for (int r = 0; r < 4; ++r) a[r] = As[k][ty * 4 + r];
#pragma unroll
      for (int c = 0; c < 4; ++c) b[c] = Bs[k][tx * 4 + c];
#pragma unroll
      for (int r = 0; r < 4; ++r)
#pragma unroll
        for (int c = 0; c < 4; ++c) acc[r][c] += a[r] * b[c];
    }
    __syncthreads();
  }
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    const int64_t i = i0 + ty * 4 + r;
    if (i >= M) continue;
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      const int64_t j = j0 + tx * 4 + c;
      if (j >= N) continue;
      float* out = C + i * ldc + j;
      *out = beta == 0.0f ? alpha * acc[r][c] : beta * *out + alpha * acc[r][c];
    }
  }
}

}  // namespace

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  const int64_t tiles = ((M + BM - 1) / BM) * ((N + BN - 1) / BN);
  if (tiles > 0x7fffffff) throw std::runtime_error("sgemm: matrix too large for one launch");
  const dim3 grid(static_cast<unsigned>(tiles));
  if (ta && tb) GMN_LAUNCH((sgemm_kernel<true, true>), grid, 256, 0, stream(), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  else if (ta) GMN_LAUNCH((sgemm_kernel<true, false>), grid, 256, 0, stream(), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  else if (tb) GMN_LAUNCH((sgemm_kernel<false, true>), grid, 256, 0, stream(), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  else GMN_LAUNCH((sgemm_kernel<false, false>), grid, 256, 0, stream(), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  CUDA_CHECK_LAUNCH();
}

}  // namespace gmn::cuda
