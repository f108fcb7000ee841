// The CPU GEMM every dense op uses: C tiles of MC x NC are spread over the thread pool; within a
// tile, KC-deep slices of op(A) and op(B) are packed into MR-row and NR-column panels and an
// MR x NR register-tile micro-kernel accumulates them. Each element of C is owned by one task
// and summed in a fixed order, so results do not depend on the thread count.
#include <algorithm>
#include <cstring>
#include <vector>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"

namespace gmn::cpu {

namespace {

constexpr int64_t MR = 4, NR = 16, KC = 256, MC = 64, NC = 256;
typedef float v8 __attribute__((vector_size(32), aligned(4)));  // unaligned loads are fine

// op(A)[i, k] for row-major A
inline float at(const float* A, int64_t ld, bool trans, int64_t i, int64_t k) { return trans ? A[k * ld + i] : A[i * ld + k]; }

// Packs rows [i0, i0+mc) x cols [k0, k0+kc) of op(A) into panels of MR rows: pa[p][k][r].
void pack_a(const float* A, int64_t lda, bool ta, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float* pa) {
  for (int64_t p = 0; p < mc; p += MR) {
    for (int64_t k = 0; k < kc; ++k) {
      for (int64_t r = 0; r < MR; ++r) *pa++ = p + r < mc ? at(A, lda, ta, i0 + p + r, k0 + k) : 0.0f;
    }
  }
}

// Packs rows [k0, k0+kc) x cols [j0, j0+nc) of op(B) into panels of NR columns: pb[p][k][c].
void pack_b(const float* B, int64_t ldb, bool tb, int64_t k0, int64_t kc, int64_t j0, int64_t nc, float* pb) {
  for (int64_t p = 0; p < nc; p += NR) {
    const int64_t w = std::min(NR, nc - p);
    for (int64_t k = 0; k < kc; ++k) {
      if (!tb && w == NR) {
        std::memcpy(pb, B + (k0 + k) * ldb + j0 + p, NR * sizeof(float));
      } else {
        for (int64_t c = 0; c < NR; ++c) pb[c] = c < w ? at(B, ldb, tb, k0 + k, j0 + p + c) : 0.0f;
      }
      pb += NR;
    }
  }
}

// acc[MR][NR] = sum_k pa[k][r] * pb[k][c]
inline void micro_kernel(int64_t kc, const float* pa, const float* pb, float* acc) {
  v8 c00 = {}, c01 = {}, c10 = {}, c11 = {}, c20 = {}, c21 = {}, c30 = {}, c31 = {};
  for (int64_t k = 0; k < kc; ++k) {
    const v8 b0 = *reinterpret_cast<const v8*>(pb);
    const v8 b1 = *reinterpret_cast<const v8*>(pb + 8);
    c00 += pa[0] * b0; c01 += pa[0] * b1;
    c10 += pa[1] * b0; c11 += pa[1] * b1;
    c20 += pa[2] * b0; c21 += pa[2] * b1;
    c30 += pa[3] * b0; c31 += pa[3] * b1;
    pa += MR;
    pb += NR;
  }
  const v8 rows[8] = {c00, c01, c10, c11, c20, c21, c30, c31};
  std::memcpy(acc, rows, sizeof(rows));
}

}  // namespace

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  const int64_t tiles_m = (M + MC - 1) / MC, tiles_n = (N + NC - 1) / NC;
  parallel_for(tiles_m * tiles_n, 1, [&](int64_t t0, int64_t t1) {
    thread_local std::vector<float> pa, pb;
    pa.resize(MC * KC);
    pb.resize(KC * NC);
    float acc[MR * NR];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t i0 = (t / tiles_n) * MC, j0 = (t % tiles_n) * NC;
      const int64_t mc = std::min(MC, M - i0), nc = std::min(NC, N - j0);
      if (K <= 0) {  // C = beta * C
        for (int64_t i = i0; i < i0 + mc; ++i)
          for (int64_t j = j0; j < j0 + nc; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        continue;
      }
      for (int64_t k0 = 0; k0 < K; k0 += KC) {
        const int64_t kc = std::min(KC, K - k0);
        pack_a(A, lda, ta, i0, mc, k0, kc, pa.data());
        pack_b(B, ldb, tb, k0, kc, j0, nc, pb.data());
        const bool first = k0 == 0;
        for (int64_t p = 0; p < mc; p += MR) {
          for (int64_t q = 0; q < nc; q += NR) {
            micro_kernel(kc, pa.data() + p * kc, pb.data() + q * kc, acc);
            const int64_t mr = std::min(MR, mc - p), nr = std::min(NR, nc - q);
            for (int64_t r = 0; r < mr; ++r) {
              float* c = C + (i0 + p + r) * ldc + j0 + q;
              for (int64_t j = 0; j < nr; ++j) {
                const float v = alpha * acc[r * NR + j];
                if (!first) c[j] += v;
                else c[j] = beta == 0.0f ? v : beta * c[j] + v;
              }
            }
          }
        }
      }
    }
  });
}

}  // namespace gmn::cpu
