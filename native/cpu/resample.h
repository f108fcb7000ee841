// Average pooling and bilinear resize are both separable linear resamplings: each output row is a
// weighted sum of a few input rows, each output column of a few input columns. One engine runs
// them; the backward pass runs the same engine with the tables transposed (each input index
// gathers from the outputs that read it), so every gradient element is written once, race-free.
#pragma once
#include <algorithm>
#include <utility>
#include <vector>

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

// y[p, i, j] = (accumulate ? y : 0) + sum over row taps (u, wu) of i: wu * sum over column taps (v, wv) of j: wv * x[p, u, v]
// In two passes over batches of planes (about 256 input rows a batch): the column sums of every input row first,
// then the rows. The column pass runs on the batch transposed (xt[v][g, u]: plane g's column v as
// one stretch of a row) so that it, like the row pass, is a vectorised sum of whole rows; the sums
// happen in the same order as written above.
inline void resample(const float* x, float* y, int64_t planes, int64_t H, int64_t W, const Taps& rows, const Taps& cols,
              bool accumulate) {
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
    t.add(hi, frac);
    t.next_output();
  }
  return t;
}

}  // namespace gmn::cpu::resample
