// A transposing copy, shared by the GEMM's packing (sgemm.cc) and the conv weight gradient's
// output-gradient layout (conv2d.cc).
#pragma once
#include <cstdint>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace gmn::cpu {

// dst[k * width + r] = row(r)[k] for r < rows, k < kc: a transposing copy, by 4 x 4 blocks with
// SSE (part of the x86-64 baseline) where rows allow. row(r) points at row r's first element.
template <typename Row>
inline void transpose_into(const Row& row, int64_t rows, int64_t kc, float* dst, int64_t width) {
#if defined(__x86_64__)
  const int64_t blocked = rows / 4 * 4;
  for (int64_t r = 0; r < blocked; r += 4) {
    const float *s0 = row(r), *s1 = row(r + 1), *s2 = row(r + 2), *s3 = row(r + 3);
    int64_t k = 0;
    for (; k + 4 <= kc; k += 4) {
      __m128 a = _mm_loadu_ps(s0 + k), b = _mm_loadu_ps(s1 + k), c = _mm_loadu_ps(s2 + k), d = _mm_loadu_ps(s3 + k);
      _MM_TRANSPOSE4_PS(a, b, c, d);
      _mm_storeu_ps(dst + k * width + r, a);
      _mm_storeu_ps(dst + (k + 1) * width + r, b);
      _mm_storeu_ps(dst + (k + 2) * width + r, c);
      _mm_storeu_ps(dst + (k + 3) * width + r, d);
    }
    for (; k < kc; ++k) {
      dst[k * width + r] = s0[k];
      dst[k * width + r + 1] = s1[k];
      dst[k * width + r + 2] = s2[k];
      dst[k * width + r + 3] = s3[k];
    }
  }
#else
  const int64_t blocked = 0;
#endif
  for (int64_t r = blocked; r < rows; ++r)
    for (int64_t k = 0; k < kc; ++k) dst[k * width + r] = row(r)[k];
}

}  // namespace gmn::cpu
