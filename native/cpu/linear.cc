#include "../core/kernels.h"
#include "../core/threadpool.h"

namespace gmn::cpu {

void linear_forward(const float* x, const float* w, const float* b, float* y, int64_t N, int64_t K, int64_t M) {
  if (b) {
    parallel_for(N, 64, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n)
        for (int64_t m = 0; m < M; ++m) y[n * M + m] = b[m];
    });
  }
  sgemm(false, true, N, M, K, 1.0f, x, K, w, K, b ? 1.0f : 0.0f, y, M);
}

void linear_backward(const float* x, const float* w, const float* dy, float* dx, float* dw, float* db, int64_t N,
                     int64_t K, int64_t M, bool accumulate) {
  const float beta = accumulate ? 1.0f : 0.0f;
  if (dx) sgemm(false, false, N, K, M, 1.0f, dy, M, w, K, beta, dx, K);
  if (dw) sgemm(true, false, M, K, N, 1.0f, dy, M, x, K, beta, dw, K);
  if (db) {
    // Each column summed over rows in order by one task: deterministic.
    parallel_for(M, 16, [&](int64_t m0, int64_t m1) {
      for (int64_t m = m0; m < m1; ++m) {
        float s = 0.0f;
        for (int64_t n = 0; n < N; ++n) s += dy[n * M + m];
        db[m] = accumulate ? db[m] + s : s;
      }
    });
  }
}

}  // namespace gmn::cpu
