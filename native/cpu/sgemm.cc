// The CPU GEMM every dense op uses: KC-deep slices of op(A) and op(B) are packed into MR-row and
// NR-column panels and an MR x NR register-tile micro-kernel accumulates them (gemm() below). The micro-kernel is chosen at run time for
// the CPU (base/cpu_isa.h): AVX-512 8x32 (16 zmm accumulators), AVX2 + FMA 6x16 (12 ymm), and a
// portable 4x8. Each element of C is owned by one task and is the same sequence of multiply-adds
// in every path (k in order, one KC slice after another), so results do not depend on the thread
// count or the tiling, and the AVX-512 and AVX2 paths (both fused multiply-adds) give the same bits; the portable
// path rounds every product. This file is compiled for the baseline instruction set; only the
// micro-kernels use wider ones, through target attributes.
#include <algorithm>
#include <cstring>
#include <vector>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "../base/cpu_isa.h"
#include "../base/threadpool.h"
#include "../kernels/kernels.h"
#include "scratch.h"
#include "sgemm.h"
#include "transpose.h"

namespace gmn::cpu {

namespace {

constexpr int64_t KC = kSgemmDepth;
// Products of fewer FLOPs run as one task (gemm()).
constexpr double kSplitFlops = 2e6;

// op(A)[i, k] for row-major A
inline float at(const float* A, int64_t ld, bool trans, int64_t i, int64_t k) { return trans ? A[k * ld + i] : A[i * ld + k]; }

// Packs rows [i0, i0+mc) x cols [k0, k0+kc) of op(A) into panels of MR rows: pa[p][k][r].
template <int64_t MR>
void pack_a(const float* A, int64_t lda, bool ta, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float* pa) {
  for (int64_t p = 0; p < mc; p += MR, pa += MR * kc) {
    if (p + MR > mc) {  // the last, partial panel: zero rows below the matrix
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t r = 0; r < MR; ++r) pa[k * MR + r] = p + r < mc ? at(A, lda, ta, i0 + p + r, k0 + k) : 0.0f;
    } else if (ta) {  // op(A) rows are columns of A: contiguous runs of MR
      for (int64_t k = 0; k < kc; ++k) std::memcpy(pa + k * MR, A + (k0 + k) * lda + i0 + p, MR * sizeof(float));
    } else {
      transpose_into([&](int64_t r) { return A + (i0 + p + r) * lda + k0; }, MR, kc, pa, MR);
    }
  }
}

// B as stored: row r starts at base + r * ld, or at base + off[r] when off is set (sgemm_rows).
struct Rows {
  const float* base;
  int64_t ld;
  const int64_t* off;
  const float* row(int64_t r) const { return base + (off ? off[r] : r * ld); }
};

// Packs rows [k0, k0+kc) x cols [j0, j0+nc) of op(B) into panels of NR columns: pb[p][k][c].
template <int64_t NR>
void pack_b(const Rows& B, bool tb, int64_t k0, int64_t kc, int64_t j0, int64_t nc, float* pb) {
  for (int64_t p = 0; p < nc; p += NR) {
    const int64_t w = std::min(NR, nc - p);
    if (tb && w == NR) {  // op(B) columns are rows of B
      transpose_into([&](int64_t r) { return B.row(j0 + p + r) + k0; }, NR, kc, pb, NR);
      pb += NR * kc;
      continue;
    }
    for (int64_t k = 0; k < kc; ++k, pb += NR) {
      if (!tb && w == NR) {  // a row of op(B); a constant size, copied inline rather than by a call
        std::memcpy(pb, B.row(k0 + k) + j0 + p, NR * sizeof(float));
      } else if (!tb) {  // zero-padded past the matrix
        std::memcpy(pb, B.row(k0 + k) + j0 + p, w * sizeof(float));
        std::fill(pb + w, pb + NR, 0.0f);
      } else {
        for (int64_t c = 0; c < NR; ++c) pb[c] = c < w ? B.row(j0 + p + c)[k0 + k] : 0.0f;
      }
    }
  }
}

// How a micro-kernel's sums reach C: v = alpha * sum, then C = v (the first KC slice, beta 0),
// C = beta * C + v (the first slice otherwise) or C += v (every later slice), rounding after each
// operation in every path (this file is compiled with -ffp-contract=off).
struct Update {
  float alpha, beta;
  bool first;
  float apply(float c, float sum) const {
    const float v = alpha * sum;
    return !first ? c + v : beta == 0.0f ? v : beta * c + v;
  }
};

// Where a micro-kernel finds op(A)[r][k] of its MR rows: at p[k * step + r] (a packed panel, step
// MR, or the columns of a transposed A read in place, step lda), or with `rows` at p[r * step + k]
// (the rows of A read in place, step lda).
struct APanel {
  const float* p;
  int64_t step;
  bool rows;
};

// op(A)[r][k] from its panel: the kernels' bodies are instantiated for both layouts.
template <bool kRows>
inline float a_at(const float* p, int64_t step, int64_t r, int64_t k) {
  return kRows ? p[r * step + k] : p[k * step + r];
}

// The micro-kernels: C[MR][NR] (row stride ldc) gets sum over k of op(A)[r][k] * b_k[c], k in
// order, through `u`, where b_k = pb + k * ldb, or pb + off[k] when kIndexed. ldb is NR for a
// packed panel, or B's own row stride when the kernel reads rows of B in place; off, rows read in
// place at any offsets (sgemm_rows). Each is a body per layout of A and a dispatch between them.

// Portable: plain loops the compiler vectorises for the baseline instruction set.
template <bool kIndexed, bool kRows>
void kernel_generic_body(int64_t kc, const float* pa, int64_t a_step, const float* pb, int64_t ldb,
                         const int64_t* off, float* C, int64_t ldc, Update u) {
  constexpr int MR = 4, NR = 8;  // 8 accumulator vectors of 4 at the SSE baseline: no spills
  float c[MR][NR] = {};
  for (int64_t k = 0; k < kc; ++k) {
    const float* b = kIndexed ? pb + off[k] : pb + k * ldb;
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < NR; ++j) c[r][j] += a_at<kRows>(pa, a_step, r, k) * b[j];
  }
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NR; ++j) C[r * ldc + j] = u.apply(C[r * ldc + j], c[r][j]);
}

#if defined(__x86_64__)
template <bool kIndexed, bool kRows>
__attribute__((target("avx2,fma"))) void kernel_avx2_body(int64_t kc, const float* pa, int64_t a_step,
                                                          const float* pb, int64_t ldb, const int64_t* off, float* C,
                                                          int64_t ldc, Update u) {
  constexpr int MR = 6;  // x 16 columns
  __m256 c[MR][2];
  for (int r = 0; r < MR; ++r) c[r][0] = c[r][1] = _mm256_setzero_ps();
  for (int r = 0; r < MR; ++r) _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T0);  // see kernel_avx512
  for (int64_t k = 0; k < kc; ++k) {
    const float* b = kIndexed ? pb + off[k] : pb + k * ldb;
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const __m256 a = _mm256_set1_ps(a_at<kRows>(pa, a_step, r, k));
      c[r][0] = _mm256_fmadd_ps(a, b0, c[r][0]);
      c[r][1] = _mm256_fmadd_ps(a, b1, c[r][1]);
    }
  }
  // Unrolled, so that c is only ever indexed by constants: otherwise GCC keeps c in memory and
  // stores every accumulator at every k (half the kernel's speed).
  const __m256 alpha = _mm256_set1_ps(u.alpha), beta = _mm256_set1_ps(u.beta);
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      float* out = C + r * ldc + 8 * h;
      const __m256 v = _mm256_mul_ps(alpha, c[r][h]);
      if (!u.first) _mm256_storeu_ps(out, _mm256_add_ps(_mm256_loadu_ps(out), v));
      else if (u.beta == 0.0f) _mm256_storeu_ps(out, v);
      else _mm256_storeu_ps(out, _mm256_add_ps(_mm256_mul_ps(beta, _mm256_loadu_ps(out)), v));
    }
}

// NV = 1: the first 16 columns only, for a panel's last 16 or fewer (half the work of a whole tile).
template <bool kIndexed, int NV, bool kRows>
__attribute__((target("avx512f,avx512vl,avx2,fma"))) void kernel_avx512_body(int64_t kc, const float* pa,
                                                                             int64_t a_step, const float* pb,
                                                                             int64_t ldb, const int64_t* off, float* C,
                                                                             int64_t ldc, Update u) {
  constexpr int MR = 8;  // x 16 * NV columns
  __m512 c[MR][NV];
  for (int r = 0; r < MR; ++r)
    for (int h = 0; h < NV; ++h) c[r][h] = _mm512_setzero_ps();
  // C's tile is read only after the k loop: fetch its lines now (rows ldc apart miss every cache).
  for (int r = 0; r < MR; ++r)
    for (int h = 0; h < NV; ++h) _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + 16 * h), _MM_HINT_T0);
  for (int64_t k = 0; k < kc; ++k) {
    const float* b = kIndexed ? pb + off[k] : pb + k * ldb;
    __m512 bv[NV];
    for (int h = 0; h < NV; ++h) bv[h] = _mm512_loadu_ps(b + 16 * h);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 a = _mm512_set1_ps(a_at<kRows>(pa, a_step, r, k));
      for (int h = 0; h < NV; ++h) c[r][h] = _mm512_fmadd_ps(a, bv[h], c[r][h]);
    }
  }
  const __m512 alpha = _mm512_set1_ps(u.alpha), beta = _mm512_set1_ps(u.beta);
  for (int r = 0; r < MR; ++r)
    for (int h = 0; h < NV; ++h) {
      float* out = C + r * ldc + 16 * h;
      const __m512 v = _mm512_mul_ps(alpha, c[r][h]);
      if (!u.first) _mm512_storeu_ps(out, _mm512_add_ps(_mm512_loadu_ps(out), v));
      else if (u.beta == 0.0f) _mm512_storeu_ps(out, v);
      else _mm512_storeu_ps(out, _mm512_add_ps(_mm512_mul_ps(beta, _mm512_loadu_ps(out)), v));
    }
}
#endif

// A micro-kernel's body for one layout of A, and the micro-kernel choosing between them. A's
// panel goes as scalars, not as an APanel by value: the struct written in parts and read whole
// stalled store forwarding at every call.
using KernelBody = void (*)(int64_t kc, const float* pa, int64_t a_step, const float* pb, int64_t ldb,
                            const int64_t* off, float* C, int64_t ldc, Update u);
using MicroKernel = void (*)(int64_t kc, const float* pa, int64_t a_step, bool a_rows, const float* pb, int64_t ldb,
                             const int64_t* off, float* C, int64_t ldc, Update u);
template <KernelBody Packed, KernelBody Rows>
void either_layout(int64_t kc, const float* pa, int64_t a_step, bool a_rows, const float* pb, int64_t ldb,
                   const int64_t* off, float* C, int64_t ldc, Update u) {
  (a_rows ? Rows : Packed)(kc, pa, a_step, pb, ldb, off, C, ldc, u);
}
template <bool kIndexed>
constexpr MicroKernel kernel_generic =
    either_layout<kernel_generic_body<kIndexed, false>, kernel_generic_body<kIndexed, true>>;
#if defined(__x86_64__)
template <bool kIndexed>
constexpr MicroKernel kernel_avx2 = either_layout<kernel_avx2_body<kIndexed, false>, kernel_avx2_body<kIndexed, true>>;
template <bool kIndexed, int NV = 2>
constexpr MicroKernel kernel_avx512 =
    either_layout<kernel_avx512_body<kIndexed, NV, false>, kernel_avx512_body<kIndexed, NV, true>>;
#endif

// A panel of op(B) as a micro-kernel reads it: rows at p + k * ld, or p + off[k] when off is set.
struct Panel {
  const float* p;
  int64_t ld;
  const int64_t* off;
};

// C = alpha op(A) op(B) + beta C with the MR x NR micro-kernel `kernel`. For each block of NC
// columns and each KC-deep slice, op(B) is packed once into NR-column panels shared by all tasks;
// the tasks (row tiles of MC, times column groups when there are few row tiles) pack their rows
// of op(A), or read them in place (a_source), and run the micro-kernel over their panels.
// half and half_indexed, where given: kernels of the first NR / 2 columns only, for edge panels of
// that few columns (by default the whole kernels).
template <int64_t MR, int64_t NR, MicroKernel kernel, MicroKernel indexed_kernel, MicroKernel half = kernel,
          MicroKernel half_indexed = indexed_kernel>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const Rows& B,
          float beta, float* C, int64_t ldc) {
  constexpr int64_t MC = MR * ((96 + MR - 1) / MR), NC = NR * 32;
  if (K <= 0) {  // C = beta * C
    parallel_for(M, row_grain(N), [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    });
    return;
  }
  // The MR x NR tiles of rows [i0, i0 + mc) and panels [q0, q1) of one KC slice; a_panel(p) gives
  // op(A)'s rows from p, panel(q) panel q of op(B) and its stride between rows.
  const auto tiles = [&](const auto& a_panel, const auto& panel, int64_t i0, int64_t mc, int64_t j0, int64_t nc,
                         int64_t q0, int64_t q1, int64_t kc, const Update& update) {
    float acc[MR * NR];
    const Update raw{1.0f, 0.0f, true};
    // Panel of op(B) outer: its KC x NR floats stay in L1 across the row panels, which come
    // from L2 at a quarter of the bytes a B panel would (8 rows against 32 columns with AVX-512).
    for (int64_t q = q0; q < q1; ++q) {
      for (int64_t p = 0; p < mc; p += MR) {
        const int64_t mr = std::min(MR, mc - p), nr = std::min(NR, nc - q * NR);
        const Panel b = panel(q);
        const MicroKernel run = b.off ? indexed_kernel : kernel;
        float* c = C + (i0 + p) * ldc + j0 + q * NR;
        if (mr == MR && nr == NR) {
          const APanel a = a_panel(p);
          run(kc, a.p, a.step, a.rows, b.p, b.ld, b.off, c, ldc, update);
          continue;
        }
        // An edge tile: the sums into acc, then the rows and columns that exist into C.
        const MicroKernel edge = nr <= NR / 2 ? (b.off ? half_indexed : half) : run;
        const APanel a = a_panel(p);
        edge(kc, a.p, a.step, a.rows, b.p, b.ld, b.off, acc, NR, raw);
        for (int64_t r = 0; r < mr; ++r)
          for (int64_t j = 0; j < nr; ++j) c[r * ldc + j] = update.apply(c[r * ldc + j], acc[r * NR + j]);
      }
    }
  };
  // op(A)'s rows [i0, i0 + mc) of the KC slice at k0, as tiles() takes them: whole panels read in
  // place when `in_place` (A's rows, or a transposed A's columns), the rest packed into pa
  // (zero-padded): packing pays only where a panel is read again for many panels of op(B).
  const auto a_source = [&](bool in_place, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float* pa) {
    const int64_t whole = in_place ? mc / MR * MR : 0;
    if (whole < mc) pack_a<MR>(A, lda, ta, i0 + whole, mc - whole, k0, kc, pa);
    return [=](int64_t p) -> APanel {
      if (p >= whole) return {pa + (p - whole) * kc, MR, false};
      if (ta) return {A + k0 * lda + i0 + p, lda, false};
      return {A + (i0 + p) * lda + k0, lda, true};
    };
  };
  const int64_t tiles_m = (M + MC - 1) / MC;
  for (int64_t j0 = 0; j0 < N; j0 += NC) {
    const int64_t nc = std::min(NC, N - j0), panels = (nc + NR - 1) / NR;
    // With few row tiles, the panels are split into groups too, so every thread has work; not for
    // a small product, where each group's own packing of op(A) costs more than a thread saves.
    const int64_t threads = 2.0 * M * N * K < kSplitFlops ? 1 : parallel_width();
    if (tiles_m <= 4) {
      // Few row tiles (the model's products): one parallel region, each task packing the panels of
      // op(B) it uses itself, every KC slice, instead of two regions per slice around a shared packing.
      // Whole panels of an untransposed B are not packed at all: with so few row tiles a packed
      // panel is read only a few times, and the kernel reads B's rows in place as fast. A
      // transposed B is packed whole: a task is then a group of panels over all the row tiles,
      // so each panel is packed once (A, the smaller, once per group instead).
      const int64_t row_tasks = tb ? 1 : tiles_m;
      const int64_t groups = tb ? std::min(panels, threads)
                                : std::min(panels, std::max<int64_t>(1, (2 * threads + tiles_m - 1) / tiles_m));
      parallel_for(row_tasks * groups, 1, [&](int64_t t0, int64_t t1) {
        thread_local std::vector<float> pa, pb;
        if (pa.size() < static_cast<size_t>(MC * KC)) pa.resize(MC * KC);
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t g = t % groups, q0 = g * panels / groups, q1 = (g + 1) * panels / groups;
          const int64_t m0 = tb ? 0 : (t / groups) * MC, m1 = tb ? M : std::min(M, m0 + MC);
          if (pb.size() < static_cast<size_t>((q1 - q0) * NR * KC)) pb.resize((q1 - q0) * NR * KC);
          for (int64_t k0 = 0; k0 < K; k0 += KC) {
            const int64_t kc = std::min(KC, K - k0);
            const auto in_place = [&](int64_t q) { return !tb && nc - q * NR >= NR; };
            for (int64_t q = q0; q < q1; ++q)
              if (!in_place(q))
                pack_b<NR>(B, tb, k0, kc, j0 + q * NR, std::min(NR, nc - q * NR), pb.data() + (q - q0) * NR * kc);
            const auto panel = [&](int64_t q) -> Panel {
              if (!in_place(q)) return {pb.data() + (q - q0) * NR * kc, NR, nullptr};
              if (B.off) return {B.base + j0 + q * NR, 0, B.off + k0};
              return {B.base + k0 * B.ld + j0 + q * NR, B.ld, nullptr};
            };
            // op(A) in place: each group would pack it again.
            for (int64_t i0 = m0; i0 < m1; i0 += MC) {
              const int64_t mc = std::min(MC, m1 - i0);
              tiles(a_source(true, i0, mc, k0, kc, pa.data()), panel, i0, mc, j0, nc, q0, q1, kc,
                    Update{alpha, beta, k0 == 0});
            }
          }
        }
      });
      continue;
    }
    const int64_t groups = std::min(panels, std::max<int64_t>(1, (2 * threads + tiles_m - 1) / tiles_m));
    const auto task = [&](int64_t t, int64_t& i0, int64_t& mc, int64_t& q0, int64_t& q1) {
      i0 = (t / groups) * MC, mc = std::min(MC, M - i0);
      q0 = (t % groups) * panels / groups, q1 = (t % groups + 1) * panels / groups;
    };
    thread_local std::vector<float> shared_b;  // the calling thread's, shared by the tasks below
    for (int64_t k0 = 0; k0 < K; k0 += KC) {
      const int64_t kc = std::min(KC, K - k0);
      if (shared_b.size() < static_cast<size_t>(panels * NR * kc)) shared_b.resize(panels * NR * kc);
      float* packed_b = shared_b.data();
      parallel_for(panels, 4, [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p)
          pack_b<NR>(B, tb, k0, kc, j0 + p * NR, std::min(NR, nc - p * NR), packed_b + p * NR * kc);
      });
      parallel_for(tiles_m * groups, 1, [&](int64_t t0, int64_t t1) {
        thread_local std::vector<float> pa;
        if (pa.size() < static_cast<size_t>(MC * KC)) pa.resize(MC * KC);
        for (int64_t t = t0; t < t1; ++t) {
          int64_t i0, mc, q0, q1;
          task(t, i0, mc, q0, q1);
          const auto panel = [&](int64_t q) -> Panel { return {packed_b + q * NR * kc, NR, nullptr}; };
          tiles(a_source(q1 - q0 <= 2, i0, mc, k0, kc, pa.data()), panel, i0, mc, j0, nc, q0, q1, kc,
                Update{alpha, beta, k0 == 0});
        }
      });
    }
  }
}

// ---- C[M, N] = A B + beta C for a narrow B (N up to a few vectors) and A's rows read in place
// at offsets (sgemm_rows_a): each micro-kernel broadcasts R rows of A straight from memory, one
// element at a time, against the KC x N slice of B read as vectors (a partial last vector packed
// with zeros after it), so A is never packed. The sums run as sgemm's do: k in order, one KC slice after another.

// Rows per micro-kernel for NV vectors of B: about as many accumulators as the registers allow.
template <int L, int NV>
constexpr int rows_for() { return L == 16 ? 24 / NV : 12 / NV; }

// C[r][c] for r < rows, c < cols gets sum over k < kc of a[r][k] * pb[k * ldb + c], through u.
// The portable kernel: 4-float GCC vectors (SSE at the x86-64 baseline), each product rounded.
typedef float Floats4 __attribute__((vector_size(16)));
template <int R, int NV>
void rows_kernel_generic(int64_t kc, const float* const* a, const float* pb, int64_t ldb, float* C, int64_t ldc,
                         int64_t rows, int64_t cols, Update u) {
  Floats4 acc[R][NV] = {};
  for (int64_t k = 0; k < kc; ++k, pb += ldb) {
    Floats4 b[NV];
    std::memcpy(b, pb, sizeof b);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const Floats4 x = Floats4{} + a[r][k];
      for (int v = 0; v < NV; ++v) acc[r][v] += x * b[v];
    }
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) C[r * ldc + c] = u.apply(C[r * ldc + c], acc[r][c / 4][c % 4]);
}

#if defined(__x86_64__)
template <int R, int NV>
__attribute__((target("avx2,fma"))) void rows_kernel_avx2(int64_t kc, const float* const* a, const float* pb,
                                                          int64_t ldb, float* C, int64_t ldc, int64_t rows,
                                                          int64_t cols, Update u) {
  __m256 acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, pb += ldb) {
    __m256 b[NV];
    for (int v = 0; v < NV; ++v) b[v] = _mm256_loadu_ps(pb + 8 * v);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const __m256 x = _mm256_broadcast_ss(a[r] + k);
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(x, b[v], acc[r][v]);
    }
  }
  // Stored by constant indices (see kernel_avx2), then the rows and columns that exist applied.
  alignas(32) float sums[R][NV * 8];
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm256_store_ps(sums[r] + 8 * v, acc[r][v]);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) C[r * ldc + c] = u.apply(C[r * ldc + c], sums[r][c]);
}

template <int R, int NV>
__attribute__((target("avx512f,avx512vl,avx2,fma"))) void rows_kernel_avx512(int64_t kc, const float* const* a,
                                                                             const float* pb, int64_t ldb, float* C,
                                                                             int64_t ldc, int64_t rows, int64_t cols,
                                                                             Update u) {
  __m512 acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, pb += ldb) {
    __m512 b[NV];
    for (int v = 0; v < NV; ++v) b[v] = _mm512_loadu_ps(pb + 16 * v);
#pragma GCC unroll 24
    for (int r = 0; r < R; ++r) {
      const __m512 x = _mm512_set1_ps(a[r][k]);
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(x, b[v], acc[r][v]);
    }
  }
  alignas(64) float sums[R][NV * 16];  // as in rows_kernel_avx2
#pragma GCC unroll 24
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_store_ps(sums[r] + 16 * v, acc[r][v]);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) C[r * ldc + c] = u.apply(C[r * ldc + c], sums[r][c]);
}
#endif

using RowsKernel = void (*)(int64_t kc, const float* const* a, const float* pb, int64_t ldb, float* C, int64_t ldc,
                            int64_t rows, int64_t cols, Update u);

template <int L, RowsKernel K1, RowsKernel K2, RowsKernel K3, RowsKernel K4>
void gemm_rows_a(int64_t M, int64_t N, int64_t K, const float* A, const int64_t* a_rows, const float* B, int64_t ldb,
                 float beta, float* C, int64_t ldc) {
  constexpr int64_t kMaxVectors = 4;
  const RowsKernel kernels[kMaxVectors] = {K1, K2, K3, K4};
  const int64_t rows_of[kMaxVectors] = {rows_for<L, 1>(), rows_for<L, 2>(), rows_for<L, 3>(), rows_for<L, 4>()};
  const int64_t width = kMaxVectors * L;  // columns per column tile
  const int64_t col_tiles = (N + width - 1) / width;
  // Tasks: row tiles of the narrowest kernel's rows (a multiple of every kernel's) per column tile.
  const int64_t R = rows_of[0], row_tiles = (M + R - 1) / R;
  parallel_for(row_tiles * col_tiles, 1, [&](int64_t t0, int64_t t1) {
    thread_local std::vector<float> pb;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t j0 = (t % col_tiles) * width, nc = std::min(width, N - j0);
      const int64_t nv = (nc + L - 1) / L, ld = nv * L, rows = rows_of[nv - 1];
      const int64_t m0 = (t / col_tiles) * R, m1 = std::min(M, m0 + R);
      // Whole vectors of B are read in place; a partial last one is packed with zeros after it.
      const bool in_place = nc == ld;
      if (!in_place && pb.size() < static_cast<size_t>(KC * ld)) pb.resize(KC * ld);
      for (int64_t k0 = 0; k0 < K; k0 += KC) {
        const int64_t kc = std::min(KC, K - k0);
        const float* b = B + k0 * ldb + j0;
        int64_t b_ld = ldb;
        if (!in_place) {
          for (int64_t k = 0; k < kc; ++k) {
            std::memcpy(pb.data() + k * ld, b + k * ldb, nc * sizeof(float));
            std::fill(pb.data() + k * ld + nc, pb.data() + (k + 1) * ld, 0.0f);
          }
          b = pb.data(), b_ld = ld;
        }
        const Update u{1.0f, beta, k0 == 0};
        for (int64_t r0 = m0; r0 < m1; r0 += rows) {
          // Rows past M read row m0 again; their sums are dropped.
          const float* a[24];
          for (int64_t r = 0; r < rows; ++r) a[r] = A + a_rows[r0 + r < m1 ? r0 + r : m0] + k0;
          kernels[nv - 1](kc, a, b, b_ld, C + r0 * ldc + j0, ldc, std::min(rows, m1 - r0), nc, u);
        }
      }
    }
  });
}

// ---- C[M, N] = alpha A B^T + beta C for a few rows of A (a linear layer of one or a few rows):
// B's rows are read in place, 16 (or 8) at a time, and transposed in registers, so B, the layer's
// weights, is read once and never packed, and no register tile is padded with absent rows. Every
// element of C is the same sequence of fused multiply-adds as in the micro-kernels (k in order,
// one KC slice after another, the same update): the same bits as gemm().
constexpr int64_t kFewRows = 8;

#if defined(__x86_64__)
// t[j][i] = rows[i][j] for a 16 x 16 block.
__attribute__((target("avx512f"))) inline void transpose16(const __m512 r[16], __m512 out[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // u[4g + c], lane l: rows 4g..4g+3 of column 4l + c
  for (int g = 0; g < 4; ++g) {
    const __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
    u[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44), v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
    const __m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44), v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
    out[c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
    out[4 + c] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
    out[8 + c] = _mm512_shuffle_f32x4(v1, v3, 0x88);
    out[12 + c] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
  }
}

// Columns [j0, j0 + w) of C, w <= 16 NB, for M rows, in NB blocks of 16 columns: each block's sums
// are a chain of dependent multiply-adds per row, and with one row NB chains hide each other's
// latency. The full 16-deep blocks keep everything in registers; the last, partial one reads its
// transposed columns back from the stack.
template <int M, int NB>
__attribute__((target("avx512f,avx512vl,avx2,fma"))) void few_rows_avx512(int64_t K, float alpha, const float* A,
                                                                          int64_t lda, const float* B, int64_t ldb,
                                                                          float beta, float* C, int64_t ldc, int64_t j0,
                                                                          int64_t w) {
  const auto width = [&](int b) { return std::clamp<int64_t>(w - 16 * b, 0, 16); };
  for (int64_t k0 = 0; k0 < K; k0 += KC) {
    const int64_t kc = std::min(KC, K - k0);
    __m512 acc[NB][M];
    for (int b = 0; b < NB; ++b)
      for (int m = 0; m < M; ++m) acc[b][m] = _mm512_setzero_ps();
    for (int64_t kb = 0; kb < kc; kb += 16) {
      const int64_t d = std::min<int64_t>(16, kc - kb);
      const __mmask16 depth = static_cast<__mmask16>((1u << d) - 1);
      const float* a = A + k0 + kb;
#pragma GCC unroll 4
      for (int b = 0; b < NB; ++b) {
        const int64_t wb = width(b);
        const float* rows = B + (j0 + 16 * b) * ldb + k0 + kb;
        __m512 r[16], t[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) r[i] = _mm512_maskz_loadu_ps(i < wb ? depth : 0, rows + (i < wb ? i * ldb : 0));
        transpose16(r, t);
        if (d == 16) {
#pragma GCC unroll 16
          for (int j = 0; j < 16; ++j)
#pragma GCC unroll 8
            for (int m = 0; m < M; ++m) acc[b][m] = _mm512_fmadd_ps(_mm512_set1_ps(a[m * lda + j]), t[j], acc[b][m]);
        } else {
          alignas(64) float tail[16][16];
          for (int j = 0; j < 16; ++j) _mm512_store_ps(tail[j], t[j]);
          for (int64_t j = 0; j < d; ++j)
#pragma GCC unroll 8
            for (int m = 0; m < M; ++m)
              acc[b][m] = _mm512_fmadd_ps(_mm512_set1_ps(a[m * lda + j]), _mm512_load_ps(tail[j]), acc[b][m]);
        }
      }
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int b = 0; b < NB; ++b) {
      const __mmask16 cols = static_cast<__mmask16>((1u << width(b)) - 1);
      for (int m = 0; m < M; ++m) {
        float* out = C + m * ldc + j0 + 16 * b;
        const __m512 v = _mm512_mul_ps(va, acc[b][m]);
        const __m512 c = _mm512_maskz_loadu_ps(cols, out);
        const __m512 y = k0 > 0 ? _mm512_add_ps(c, v) : beta == 0.0f ? v : _mm512_add_ps(_mm512_mul_ps(vb, c), v);
        _mm512_mask_storeu_ps(out, cols, y);
      }
    }
  }
}

// t[j][i] = rows[i][j] for an 8 x 8 block.
__attribute__((target("avx2"))) inline void transpose8(const __m256 r[8], __m256 out[8]) {
  __m256 t[8], s[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int h = 0; h < 2; ++h) {  // rows 4h..4h+3: s[4h + c], lane l, is column 4l + c
    s[4 * h] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
    s[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
    s[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
    s[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    out[c] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x20);
    out[4 + c] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x31);
  }
}

// The first n of 8 lanes set, as maskload wants it.
__attribute__((target("avx2"))) inline __m256i lanes8(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Columns [j0, j0 + w) of C, w <= 8 NB, for M rows, in NB blocks of 8 columns (as few_rows_avx512).
template <int M, int NB>
__attribute__((target("avx2,fma"))) void few_rows_avx2(int64_t K, float alpha, const float* A, int64_t lda,
                                                       const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
                                                       int64_t j0, int64_t w) {
  const auto width = [&](int b) { return std::clamp<int64_t>(w - 8 * b, 0, 8); };
  const __m256i none = _mm256_setzero_si256();
  for (int64_t k0 = 0; k0 < K; k0 += KC) {
    const int64_t kc = std::min(KC, K - k0);
    __m256 acc[NB][M];
    for (int b = 0; b < NB; ++b)
      for (int m = 0; m < M; ++m) acc[b][m] = _mm256_setzero_ps();
    for (int64_t kb = 0; kb < kc; kb += 8) {
      const int64_t d = std::min<int64_t>(8, kc - kb);
      const __m256i depth = lanes8(d);
      const float* a = A + k0 + kb;
#pragma GCC unroll 4
      for (int b = 0; b < NB; ++b) {
        const int64_t wb = width(b);
        const float* rows = B + (j0 + 8 * b) * ldb + k0 + kb;
        __m256 r[8], t[8];
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i) r[i] = _mm256_maskload_ps(rows + (i < wb ? i * ldb : 0), i < wb ? depth : none);
        transpose8(r, t);
        if (d == 8) {
#pragma GCC unroll 8
          for (int j = 0; j < 8; ++j)
#pragma GCC unroll 8
            for (int m = 0; m < M; ++m) acc[b][m] = _mm256_fmadd_ps(_mm256_set1_ps(a[m * lda + j]), t[j], acc[b][m]);
        } else {
          alignas(32) float tail[8][8];
          for (int j = 0; j < 8; ++j) _mm256_store_ps(tail[j], t[j]);
          for (int64_t j = 0; j < d; ++j)
#pragma GCC unroll 8
            for (int m = 0; m < M; ++m)
              acc[b][m] = _mm256_fmadd_ps(_mm256_set1_ps(a[m * lda + j]), _mm256_load_ps(tail[j]), acc[b][m]);
        }
      }
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    for (int b = 0; b < NB; ++b) {
      const __m256i cols = lanes8(width(b));
      for (int m = 0; m < M; ++m) {
        float* out = C + m * ldc + j0 + 8 * b;
        const __m256 v = _mm256_mul_ps(va, acc[b][m]);
        const __m256 c = _mm256_maskload_ps(out, cols);
        const __m256 y = k0 > 0 ? _mm256_add_ps(c, v) : beta == 0.0f ? v : _mm256_add_ps(_mm256_mul_ps(vb, c), v);
        _mm256_maskstore_ps(out, cols, y);
      }
    }
  }
}
#endif

using FewRowsKernel = void (*)(int64_t K, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
                               float beta, float* C, int64_t ldc, int64_t j0, int64_t w);

// C = alpha A B^T + beta C for M <= kFewRows, by the kernel for M rows, in blocks of `width`
// columns: two vectors' worth for one row (two chains of multiply-adds), one for more.
template <int64_t V, template <int, int> class Kernel>
void gemm_few_rows(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
                   int64_t ldb, float beta, float* C, int64_t ldc) {
  static constexpr FewRowsKernel kernels[kFewRows] = {Kernel<1, 2>::run, Kernel<2, 1>::run, Kernel<3, 1>::run,
                                                      Kernel<4, 1>::run, Kernel<5, 1>::run, Kernel<6, 1>::run,
                                                      Kernel<7, 1>::run, Kernel<8, 1>::run};
  const FewRowsKernel kernel = kernels[M - 1];
  const int64_t width = M == 1 ? 2 * V : V;
  parallel_for((N + width - 1) / width, M == 1 ? 2 : 4, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk)
      kernel(K, alpha, A, lda, B, ldb, beta, C, ldc, blk * width, std::min(width, N - blk * width));
  });
}

#if defined(__x86_64__)
template <int M, int NB>
struct FewRowsAvx512 {
  static constexpr FewRowsKernel run = few_rows_avx512<M, NB>;
};
template <int M, int NB>
struct FewRowsAvx2 {
  static constexpr FewRowsKernel run = few_rows_avx2<M, NB>;
};
#endif

}  // namespace

namespace {
void gemm_for_isa(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                  const Rows& B, float beta, float* C, int64_t ldc);

// gemm() on MR x NR tiles, or, where that pads fewer tiles, transposed: C^T = op(B)^T op(A)^T into
// a buffer, copied back. A product of few columns and more rows (a conv of one image: [32, 288] x
// [288, 9]) fills a 32-column tile with 9; transposed, 9 rows take two 8-row tiles, and up to
// kFewRows rows go to the few-row kernels (a linear layer of one output). The transposed product
// never transposes back: its padding is the larger one. Each element is the same multiply-adds in
// the same order (a * b = b * a), so the same bits either way.
template <int64_t MR, int64_t NR, MicroKernel kernel, MicroKernel indexed_kernel, MicroKernel half = kernel,
          MicroKernel half_indexed = indexed_kernel>
void gemm_tiled(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                const Rows& B, float beta, float* C, int64_t ldc) {
  const auto padded = [](int64_t rows, int64_t cols) { return (rows + MR - 1) / MR * MR * ((cols + NR - 1) / NR * NR); };
  if (B.off || M == 0 || N == 0 || K < 16 || 4 * padded(N, M) > 3 * padded(M, N))
    return gemm<MR, NR, kernel, indexed_kernel, half, half_indexed>(ta, tb, M, N, K, alpha, A, lda, B, beta, C, ldc);
  thread_local std::vector<float> buffer;
  float* ct = scratch(buffer, M * N);
  if (beta != 0.0f) transpose_into([&](int64_t r) { return C + r * ldc; }, M, N, ct, M);
  gemm_for_isa(!tb, !ta, N, M, K, alpha, B.base, B.ld, Rows{A, lda, nullptr}, beta, ct, M);  // never transposed again
  transpose_into([&](int64_t r) { return ct + r * M; }, N, M, C, ldc);
}

void gemm_for_isa(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                  const Rows& B, float beta, float* C, int64_t ldc) {
#if defined(__x86_64__)
  const bool few_rows = !ta && tb && !B.off && M <= kFewRows && K > 0;
  switch (cpu_isa().active) {
    case CpuIsa::Avx512:
      if (few_rows) return gemm_few_rows<16, FewRowsAvx512>(M, N, K, alpha, A, lda, B.base, B.ld, beta, C, ldc);
      return gemm_tiled<8, 32, kernel_avx512<false>, kernel_avx512<true>, kernel_avx512<false, 1>, kernel_avx512<true, 1>>(
          ta, tb, M, N, K, alpha, A, lda, B, beta, C, ldc);
    case CpuIsa::Avx2:
      if (few_rows) return gemm_few_rows<8, FewRowsAvx2>(M, N, K, alpha, A, lda, B.base, B.ld, beta, C, ldc);
      return gemm_tiled<6, 16, kernel_avx2<false>, kernel_avx2<true>>(ta, tb, M, N, K, alpha, A, lda, B, beta, C, ldc);
    default: break;
  }
#endif
  gemm_tiled<4, 8, kernel_generic<false>, kernel_generic<true>>(ta, tb, M, N, K, alpha, A, lda, B, beta, C, ldc);
}
}  // namespace

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_for_isa(ta, tb, M, N, K, alpha, A, lda, Rows{B, ldb, nullptr}, beta, C, ldc);
}

void sgemm_rows_a(int64_t M, int64_t N, int64_t K, const float* A, const int64_t* a_rows, const float* B, int64_t ldb,
                  float beta, float* C, int64_t ldc) {
#if defined(__x86_64__)
  switch (cpu_isa().active) {
    case CpuIsa::Avx512:
      return gemm_rows_a<16, rows_kernel_avx512<24, 1>, rows_kernel_avx512<12, 2>, rows_kernel_avx512<8, 3>,
                         rows_kernel_avx512<6, 4>>(M, N, K, A, a_rows, B, ldb, beta, C, ldc);
    case CpuIsa::Avx2:
      return gemm_rows_a<8, rows_kernel_avx2<12, 1>, rows_kernel_avx2<6, 2>, rows_kernel_avx2<4, 3>,
                         rows_kernel_avx2<3, 4>>(M, N, K, A, a_rows, B, ldb, beta, C, ldc);
    default: break;
  }
#endif
  gemm_rows_a<4, rows_kernel_generic<12, 1>, rows_kernel_generic<6, 2>, rows_kernel_generic<4, 3>,
              rows_kernel_generic<3, 4>>(M, N, K, A, a_rows, B, ldb, beta, C, ldc);
}

void sgemm_rows(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                const float* B, const int64_t* b_rows, float beta, float* C, int64_t ldc) {
  gemm_for_isa(ta, tb, M, N, K, alpha, A, lda, Rows{B, 0, b_rows}, beta, C, ldc);
}

}  // namespace gmn::cpu
