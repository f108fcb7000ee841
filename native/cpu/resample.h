// Average pooling and bilinear resize are both separable linear resamplings: each output row is a
// weighted sum of a few input rows, each output column of a few input columns. One engine runs
// them; the backward pass runs the same engine with the tables transposed (each input index
// gathers from the outputs that read it), so every gradient element is written once, race-free.
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "../base/threadpool.h"
#include "../kernels/kernels.h"
#include "scratch.h"

namespace gmn::cpu::resample {

// Output index o reads input indices index[k] with weights weight[k], k in [begin[o], begin[o+1]).
struct Taps {
  std::vector<int64_t> begin{0}, index;
  std::vector<float> weight;
  void add(int64_t i, float w) {
    index.push_back(i);
    weight.push_back(w);
  }
  void next_output() { begin.push_back(static_cast<int64_t>(index.size())); }
  int64_t outputs() const { return static_cast<int64_t>(begin.size()) - 1; }
};

// The adjoint: for each of the `inputs` indices, the outputs that read it (in output order) and their weights.
inline Taps transpose(const Taps& t, int64_t inputs) {
  std::vector<std::vector<std::pair<int64_t, float>>> readers(static_cast<size_t>(inputs));
  for (int64_t o = 0; o < t.outputs(); ++o)
    for (int64_t k = t.begin[o]; k < t.begin[o + 1]; ++k) readers[t.index[k]].push_back({o, t.weight[k]});
  Taps r;
  for (const auto& list : readers) {
    for (const auto& [o, w] : list) r.add(o, w);
    r.next_output();
  }
  return r;
}

#ifdef __AVX512F__
// The column taps as K tap planes for the vector path: output j's k-th tap reads index[k][j] with
// weight[k][j] where bit j of mask[k] is set (taps beyond an output's count are masked off, so a
// NaN or infinity at index 0 does not leak into outputs that do not read it). Chunks of 16 outputs.
struct TapPlanes {
  int64_t K = 0, chunks = 0;
  std::vector<int32_t> index;  // [chunk][k][16]
  std::vector<float> weight;   // [chunk][k][16]
  std::vector<uint16_t> mask;  // [chunk][k]
  explicit TapPlanes(const Taps& t) {
    const int64_t n = t.outputs();
    for (int64_t o = 0; o < n; ++o) K = std::max(K, t.begin[o + 1] - t.begin[o]);
    chunks = (n + 15) / 16;
    index.assign(chunks * K * 16, 0);
    weight.assign(chunks * K * 16, 0.0f);
    mask.assign(chunks * K, 0);
    for (int64_t o = 0; o < n; ++o)
      for (int64_t k = 0; k < t.begin[o + 1] - t.begin[o]; ++k) {
        const int64_t at = ((o / 16) * K + k) * 16 + o % 16;
        index[at] = static_cast<int32_t>(t.index[t.begin[o] + k]);
        weight[at] = t.weight[t.begin[o] + k];
        mask[(o / 16) * K + k] |= static_cast<uint16_t>(1u << (o % 16));
      }
  }
};

#endif

// A resampling's row and column taps (and the vector path's column tap planes): its plan, made
// once per shape (scratch.h).
struct Plan {
  Taps rows, cols;
#ifdef __AVX512F__
  TapPlanes col_planes;
  Plan(Taps r, Taps c) : rows(std::move(r)), cols(std::move(c)), col_planes(cols) {}
#else
  Plan(Taps r, Taps c) : rows(std::move(r)), cols(std::move(c)) {}
#endif
};

#ifdef __AVX512F__
// The column sums of R input rows (R independent chains of multiply-adds), rows of up to 32
// elements ld apart: out[r][j] = sum over column taps (v, w) of j: w * row_r[v], in tap order, each
// tap plane one two-register permute and a masked fused multiply-add per 16 outputs. Rows of out
// are Wp (whole chunks) apart and get whole chunks, zeros past the last output.
template <int R>
inline void column_sums(const float* __restrict rows, int64_t ld, int64_t W, const TapPlanes& planes,
                        float* __restrict out, int64_t Wp) {
  const __mmask16 mlo = static_cast<__mmask16>(W >= 16 ? 0xffff : (1u << W) - 1);
  const __mmask16 mhi = static_cast<__mmask16>(W <= 16 ? 0 : (1u << (W - 16)) - 1);
  __m512 lo[R], hi[R];
  for (int r = 0; r < R; ++r) {
    lo[r] = _mm512_maskz_loadu_ps(mlo, rows + r * ld);
    hi[r] = _mm512_maskz_loadu_ps(mhi, rows + r * ld + 16);
  }
  for (int64_t c = 0; c < planes.chunks; ++c) {
    __m512 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
    for (int64_t k = 0; k < planes.K; ++k) {
      const int64_t at = (c * planes.K + k) * 16;
      const __m512i index = _mm512_loadu_si512(planes.index.data() + at);
      const __m512 weight = _mm512_loadu_ps(planes.weight.data() + at);
      const __mmask16 m = planes.mask[c * planes.K + k];
      for (int r = 0; r < R; ++r) acc[r] = _mm512_mask3_fmadd_ps(_mm512_permutex2var_ps(lo[r], index, hi[r]), weight, acc[r], m);
    }
    // Whole stores: a masked store would not forward to the row pass's loads.
    for (int r = 0; r < R; ++r) _mm512_storeu_ps(out + r * Wp + c * 16, acc[r]);
  }
}

// resample() for inputs of up to 32 columns, plane by plane: each input row's column sums
// (column_sums) into rows of Wp, then each output row as 16 outputs at a time in a register, the
// sum of its row taps' rows of those. The same sums in the same order as the general engine.
inline void resample_avx512(const float* x, float* y, int64_t planes, int64_t H, int64_t W, const Plan& plan,
                            bool accumulate) {
  const Taps& rows = plan.rows;
  const int64_t Ho = rows.outputs(), Wo = plan.cols.outputs();
  const TapPlanes& col_planes = plan.col_planes;
  const int64_t Wp = col_planes.chunks * 16;
  const int64_t* __restrict rb = rows.begin.data();
  const int64_t* __restrict ri = rows.index.data();
  const float* __restrict rw = rows.weight.data();
  parallel_for(planes, std::max<int64_t>(1, 4096 / (Ho * Wo)), [&](int64_t p0, int64_t p1) {
    thread_local std::vector<float> buffer;
    float* __restrict sums = aligned_scratch(buffer, H * Wp);  // one plane's column sums, [H][Wp]
    for (int64_t p = p0; p < p1; ++p) {
      const float* xp = x + p * H * W;
      int64_t u = 0;
      for (; u + 4 <= H; u += 4) column_sums<4>(xp + u * W, W, W, col_planes, sums + u * Wp, Wp);
      for (; u < H; ++u) column_sums<1>(xp + u * W, W, W, col_planes, sums + u * Wp, Wp);
      for (int64_t i = 0; i < Ho; ++i) {
        float* __restrict out = y + (p * Ho + i) * Wo;
        for (int64_t j = 0; j < Wo; j += 16) {
          __m512 v = _mm512_setzero_ps();
          for (int64_t r = rb[i]; r < rb[i + 1]; ++r)
            v = _mm512_fmadd_ps(_mm512_set1_ps(rw[r]), _mm512_loadu_ps(sums + ri[r] * Wp + j), v);
          const __mmask16 m = static_cast<__mmask16>(Wo - j >= 16 ? 0xffff : (1u << (Wo - j)) - 1);
          if (accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, out + j), v);
          _mm512_mask_storeu_ps(out + j, m, v);
        }
      }
    }
  });
}
#endif

// y[p, i, j] = (accumulate ? y : 0) + sum over row taps (u, wu) of i: wu * sum over column taps (v, wv) of j: wv * x[p, u, v]
// In two passes over batches of planes (about 256 input rows a batch): the column sums of every input row first,
// then the rows. The column pass runs on the batch transposed (xt[v][g, u]: plane g's column v as
// one stretch of a row) so that it, like the row pass, is a vectorised sum of whole rows; the sums
// happen in the same order as written above.
inline void resample(const float* x, float* y, int64_t planes, int64_t H, int64_t W, const Plan& plan,
                     bool accumulate) {
#ifdef __AVX512F__
  if (W <= 32) return resample_avx512(x, y, planes, H, W, plan, accumulate);
#endif
  const Taps &rows = plan.rows, &cols = plan.cols;
  const int64_t batch = std::max<int64_t>(1, 256 / H);
  const int64_t Ho = rows.outputs(), Wo = cols.outputs();
  // Raw pointers to the tables: stores into float buffers could otherwise alias them for the compiler.
  const int64_t* __restrict cb = cols.begin.data();
  const int64_t* __restrict ci = cols.index.data();
  const float* __restrict cw = cols.weight.data();
  const int64_t* __restrict rb = rows.begin.data();
  const int64_t* __restrict ri = rows.index.data();
  const float* __restrict rw = rows.weight.data();
  parallel_for(planes, std::max<int64_t>(1, 4096 / (Ho * Wo)), [&](int64_t p0, int64_t p1) {
    thread_local std::vector<float> buffer;
    const int64_t span = batch * H;          // a row of the transposed batch
    float* __restrict xt = scratch(buffer, W * span + Wo * span + H * Wo + Wo);  // [W][g, u]
    float* __restrict tt = xt + W * span;    // [Wo][g, u]: the column sums, transposed
    float* __restrict tmp = tt + Wo * span;  // [H][Wo]: one plane's column sums
    float* __restrict acc = tmp + H * Wo;
    for (int64_t b0 = p0; b0 < p1; b0 += batch) {
      const int64_t G = std::min(batch, p1 - b0), n = G * H;
      for (int64_t g = 0; g < G; ++g)
        for (int64_t u = 0; u < H; ++u) {
          const float* __restrict xr = x + ((b0 + g) * H + u) * W;
          for (int64_t v = 0; v < W; ++v) xt[v * span + g * H + u] = xr[v];
        }
      for (int64_t j = 0; j < Wo; ++j) {
        float* __restrict t = tt + j * span;
        for (int64_t e = 0; e < n; ++e) t[e] = 0.0f;
        for (int64_t c = cb[j]; c < cb[j + 1]; ++c) {
          const float w = cw[c];
          const float* __restrict src = xt + ci[c] * span;
          for (int64_t e = 0; e < n; ++e) t[e] += w * src[e];
        }
      }
      for (int64_t g = 0; g < G; ++g) {
        for (int64_t u = 0; u < H; ++u)
          for (int64_t j = 0; j < Wo; ++j) tmp[u * Wo + j] = tt[j * span + g * H + u];
        float* __restrict yp = y + (b0 + g) * Ho * Wo;
        for (int64_t i = 0; i < Ho; ++i) {
          // Overwriting, the sums go straight into the output row (its first tap as 0 + w t, the
          // same operations as through acc): a zeroed acc and its copy cost as much as the taps.
          float* __restrict out = yp + i * Wo;
          float* __restrict sum = accumulate ? acc : out;
          const int64_t r0 = rb[i];
          if (r0 == rb[i + 1]) {
            for (int64_t j = 0; j < Wo; ++j) sum[j] = 0.0f;
          } else {
            const float w = rw[r0];
            const float* __restrict t = tmp + ri[r0] * Wo;
            for (int64_t j = 0; j < Wo; ++j) {
              float v = 0.0f;
              v += w * t[j];
              sum[j] = v;
            }
          }
          for (int64_t r = r0 + 1; r < rb[i + 1]; ++r) {
            const float w = rw[r];
            const float* __restrict t = tmp + ri[r] * Wo;
            for (int64_t j = 0; j < Wo; ++j) sum[j] += w * t[j];
          }
          if (accumulate) for (int64_t j = 0; j < Wo; ++j) out[j] += acc[j];
        }
      }
    }
  });
}

// Window i of a valid pooling covers inputs i*stride .. i*stride + k - 1, each weighted 1/k.
inline Taps pool_taps(int64_t outputs, int64_t k, int64_t stride) {
  Taps t;
  for (int64_t i = 0; i < outputs; ++i) {
    for (int64_t a = 0; a < k; ++a) t.add(i * stride + a, 1.0f / static_cast<float>(k));
    t.next_output();
  }
  return t;
}

// TensorFlow 1.x legacy bilinear: output i samples input position i * in / out, between its floor
// and the next index (clamped), with weights 1 - frac and frac. Computed exactly in integers.
inline Taps bilinear_taps(int64_t in, int64_t out) {
  Taps t;
  for (int64_t i = 0; i < out; ++i) {
    const int64_t lo = i * in / out, hi = std::min(lo + 1, in - 1);
    const float frac = static_cast<float>(i * in - lo * out) / static_cast<float>(out);
    t.add(lo, 1.0f - frac);
    if (frac != 0.0f) t.add(hi, frac);  // a weight of 0 adds nothing (for finite inputs): half the taps at 2x
    t.next_output();
  }
  return t;
}

// Average pooling (k, stride) of H x W to Ho x Wo, or with `adjoint` its gradient's plan.
struct PoolPlan : Plan {
  PoolPlan(int64_t H, int64_t W, int64_t Ho, int64_t Wo, int64_t k, int64_t stride, bool adjoint)
      : Plan(adjoint ? transpose(pool_taps(Ho, k, stride), H) : pool_taps(Ho, k, stride),
             adjoint ? transpose(pool_taps(Wo, k, stride), W) : pool_taps(Wo, k, stride)) {}
};

// Bilinear resize of H x W to Ho x Wo, or with `adjoint` its gradient's plan.
struct BilinearPlan : Plan {
  BilinearPlan(int64_t H, int64_t W, int64_t Ho, int64_t Wo, bool adjoint)
      : Plan(adjoint ? transpose(bilinear_taps(H, Ho), H) : bilinear_taps(H, Ho),
             adjoint ? transpose(bilinear_taps(W, Wo), W) : bilinear_taps(W, Wo)) {}
};

}  // namespace gmn::cpu::resample
