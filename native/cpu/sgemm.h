// The CPU GEMM's entries for an operand read in place at arbitrary row offsets (the convolutions'
// implicit im2col, native/cpu/conv2d.cc); sgemm itself is declared with every kernel in kernels.inc.
#pragma once
#include <cstdint>

namespace gmn::cpu {

// The depth of sgemm's slices: each element of C sums its first KC products, then adds the sum of
// the next KC, and so on (code that must give sgemm's bits sums the same way).
constexpr int64_t kSgemmDepth = 256;

// sgemm with row r of B (as stored, before op) at B + b_rows[r]: op(B)'s rows when !tb, its
// columns when tb. Same sums, in the same order, as sgemm on that matrix.
void sgemm_rows(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                const float* B, const int64_t* b_rows, float beta, float* C, int64_t ldc);

// C[M, N] = A B + beta C with row m of A at A + a_rows[m], for a narrow B (N of a few vectors:
// the conv weight gradient's output channels). Same sums, in the same order, as sgemm.
void sgemm_rows_a(int64_t M, int64_t N, int64_t K, const float* A, const int64_t* a_rows, const float* B, int64_t ldb,
                  float beta, float* C, int64_t ldc);

}  // namespace gmn::cpu
