// The causal matching read of Generative Matching Networks: every position of every episode reads
// the earlier positions of its episode and the pseudo-inputs at once, with a softmax over
// similarities (or a plain average). Small per-row loops (T + P slots of D or F values); the
// backward runs one task per episode, so the sums over its rows need no synchronisation, and the
// pseudo-inputs' gradients are summed per episode, then over episodes in order: deterministic.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"
#include "scratch.h"
#include "vec8.h"

namespace gmn::cpu {

namespace {

constexpr double kNormFloor = 1e-8;
constexpr float kMinStrength = 1e-10f, kMaxStrength = 10.0f;

// By sum_eights (vec8.h; products of floats are exact in double), then the tail in order:
// vectorised for any instruction set, the same bits on each.
double dot(const float* a, const float* b, int64_t n) {
  double s = sum_eights(n, [&](int64_t i) {
    return __builtin_convertvector(load8(a + i), Doubles8) * __builtin_convertvector(load8(b + i), Doubles8);
  });
  for (int64_t i = n / 8 * 8; i < n; ++i) s += double(a[i]) * b[i];
  return s;
}

// out = g when overwriting, out + g when accumulating (never reads out otherwise).
inline void store(float* out, float g, bool accumulate) { *out = accumulate ? *out + g : g; }

struct Read {
  const float *query, *keys, *pseudo_keys, *values, *pseudo_values, *strength;
  int64_t T, P, D, F, pseudo_positions;
  Similarity similarity;

  // Slot j < T is position j of episode b; slot T + p is pseudo-input p.
  const float* key(int64_t b, int64_t j) const { return j < T ? keys + (b * T + j) * D : pseudo_keys + (j - T) * D; }
  const float* value(int64_t b, int64_t j) const {
    return j < T ? values + (b * T + j) * F : pseudo_values + (j - T) * F;
  }

  // The valid slots of position t: the earlier positions, then the pseudo-inputs while t < pseudo_positions.
  void slots(int64_t t, std::vector<int64_t>& out) const {
    out.clear();
    for (int64_t j = 0; j < t; ++j) out.push_back(j);
    if (t < pseudo_positions)
      for (int64_t p = 0; p < P; ++p) out.push_back(T + p);
  }

  bool clipped(int64_t r) const { return !(strength[r] >= kMinStrength && strength[r] <= kMaxStrength); }
  double beta(int64_t r) const { return std::min(std::max(strength[r], kMinStrength), kMaxStrength); }

  // sim[i] of row r with the key of slots[i]; key_norm[i] and the returned query norm are the
  // unclamped Euclidean norms (cosine only, else 0).
  double similarities(int64_t b, int64_t r, const std::vector<int64_t>& slots, std::vector<double>& sim,
                      std::vector<double>& key_norm) const {
    const float* q = query + r * D;
    const bool cosine = similarity == Similarity::Cosine;
    const double qn = cosine ? std::sqrt(dot(q, q, D)) : 0.0;
    sim.resize(slots.size());
    key_norm.resize(slots.size());
    for (size_t i = 0; i < slots.size(); ++i) {
      const float* k = key(b, slots[i]);
      sim[i] = dot(q, k, D);
      key_norm[i] = cosine ? std::sqrt(dot(k, k, D)) : 0.0;
      if (cosine) sim[i] /= std::max(qn, kNormFloor) * std::max(key_norm[i], kNormFloor);
    }
    return qn;
  }
};

}  // namespace

void attention_forward(const float* query, const float* keys, const float* pseudo_keys, const float* values,
                       const float* pseudo_values, const float* strength, float* out, float* weights, int64_t B,
                       int64_t T, int64_t P, int64_t D, int64_t F, Similarity similarity, int64_t pseudo_positions) {
  const Read rd{query, keys, pseudo_keys, values, pseudo_values, strength, T, P, D, F, pseudo_positions, similarity};
  const int64_t S = T + P;
  parallel_for(B * T, 8, [&](int64_t r0, int64_t r1) {
    thread_local std::vector<int64_t> slots;  // kept between calls: cleared or resized before use
    thread_local std::vector<double> sim, key_norm;
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / T, t = r % T;
      float* w = weights + r * S;
      float* o = out + r * F;
      std::fill(w, w + S, 0.0f);
      std::fill(o, o + F, 0.0f);
      rd.slots(t, slots);
      if (slots.empty()) continue;
      if (similarity == Similarity::Average) {
        for (int64_t j : slots) w[j] = static_cast<float>(1.0 / slots.size());
      } else {
        rd.similarities(b, r, slots, sim, key_norm);
        const double beta = rd.beta(r);
        const double top = beta * *std::max_element(sim.begin(), sim.end());
        double total = 0.0;
        for (double& s : sim) total += (s = std::exp(beta * s - top));
        for (size_t i = 0; i < slots.size(); ++i) w[slots[i]] = static_cast<float>(sim[i] / total);
      }
      for (int64_t j : slots) {
        const float* v = rd.value(b, j);
        for (int64_t f = 0; f < F; ++f) o[f] += w[j] * v[f];
      }
    }
  });
}

void attention_backward(const float* query, const float* keys, const float* pseudo_keys, const float* values,
                        const float* pseudo_values, const float* strength, const float* weights, const float* dout,
                        float* grad_query, float* grad_keys, float* grad_pseudo_keys, float* grad_values,
                        float* grad_pseudo_values, float* grad_strength, int64_t B, int64_t T, int64_t P, int64_t D,
                        int64_t F, Similarity similarity, int64_t pseudo_positions, bool accumulate) {
  const Read rd{query, keys, pseudo_keys, values, pseudo_values, strength, T, P, D, F, pseudo_positions, similarity};
  const bool matching = similarity != Similarity::Average;
  const bool cosine = similarity == Similarity::Cosine;
  const int64_t S = T + P;
  // Per episode: the gradients of its keys and values rows (slots 0..T-1) and its share of the
  // pseudo-inputs' gradients (slots T..T+P-1), as slot-major [S, D] and [S, F] blocks.
  // Per-thread buffers kept between calls: a fresh allocation of this size faults in its pages
  // every call.
  thread_local std::vector<double> dkeys_buf, dvalues_buf;
  double* dkeys = aligned_scratch(dkeys_buf, B * S * D);
  double* dvalues = aligned_scratch(dvalues_buf, B * S * F);

  parallel_for(B, 1, [&](int64_t b0, int64_t b1) {
    thread_local std::vector<int64_t> slots;  // kept between calls: cleared or resized before use
    thread_local std::vector<double> sim, key_norm, dsim;
    thread_local std::vector<double> dq_buf;
    double* dq = aligned_scratch(dq_buf, D);
    for (int64_t b = b0; b < b1; ++b) {
      double* dk = dkeys + b * S * D;
      double* dv = dvalues + b * S * F;
      std::fill(dk, dk + S * D, 0.0);  // here, not before the region: the threads share the zeroing
      std::fill(dv, dv + S * F, 0.0);
      for (int64_t t = 0; t < T; ++t) {
        const int64_t r = b * T + t;
        const float* w = weights + r * S;
        const float* g = dout + r * F;
        rd.slots(t, slots);
        // out = sum_j w_j v_j: dv_j += w_j g, and dw_j = <g, v_j> gives dsim_j through the softmax.
        dsim.assign(slots.size(), 0.0);
        double mean = 0.0;
        for (size_t i = 0; i < slots.size(); ++i) {
          const int64_t j = slots[i];
          for (int64_t f = 0; f < F; ++f) dv[j * F + f] += double(w[j]) * g[f];
          if (matching) {
            dsim[i] = dot(g, rd.value(b, j), F);
            mean += w[j] * dsim[i];
          }
        }
        if (!matching) continue;
        std::fill(dq, dq + D, 0.0);
        double dbeta = 0.0;
        if (!slots.empty()) {
          const double qn = rd.similarities(b, r, slots, sim, key_norm);
          const double beta = rd.beta(r), qc = std::max(qn, kNormFloor);
          const float* q = query + r * D;
          double dsim_dot_sim = 0.0;  // sum_j dsim_j sim_j, for the cosine's query-norm term
          for (size_t i = 0; i < slots.size(); ++i) {
            const int64_t j = slots[i];
            const double dz = w[j] * (dsim[i] - mean);  // softmax backward, z = beta * sim
            dbeta += dz * sim[i];
            dsim[i] = dz * beta;
            dsim_dot_sim += dsim[i] * sim[i];
            const float* k = rd.key(b, j);
            // cosine: d sim / d q = k / (qc kc) - sim q / |q|^2, d sim / d k = q / (qc kc) - sim k / |k|^2,
            // where a norm clamped at the floor has no gradient.
            const double scale = cosine ? dsim[i] / (qc * std::max(key_norm[i], kNormFloor)) : dsim[i];
            const double self = cosine && key_norm[i] > kNormFloor ? dsim[i] * sim[i] / (key_norm[i] * key_norm[i]) : 0.0;
            for (int64_t d = 0; d < D; ++d) {
              dq[d] += scale * k[d];
              dk[j * D + d] += scale * q[d] - self * k[d];
            }
          }
          if (cosine && qn > kNormFloor)
            for (int64_t d = 0; d < D; ++d) dq[d] -= dsim_dot_sim * q[d] / (qn * qn);
        }
        if (grad_query)
          for (int64_t d = 0; d < D; ++d) store(grad_query + r * D + d, static_cast<float>(dq[d]), accumulate);
        if (grad_strength) store(grad_strength + r, rd.clipped(r) ? 0.0f : static_cast<float>(dbeta), accumulate);
      }
      for (int64_t t = 0; t < T; ++t) {
        if (grad_keys && matching)
          for (int64_t d = 0; d < D; ++d)
            store(grad_keys + (b * T + t) * D + d, static_cast<float>(dk[t * D + d]), accumulate);
        if (grad_values)
          for (int64_t f = 0; f < F; ++f)
            store(grad_values + (b * T + t) * F + f, static_cast<float>(dv[t * F + f]), accumulate);
      }
    }
  });

  // The pseudo-inputs' gradients: the episodes' shares summed in episode order.
  auto sum_pseudo = [&](const double* per_episode, int64_t width, float* grad) {
    if (!grad) return;
    for (int64_t i = 0; i < P * width; ++i) {
      double s = 0.0;
      for (int64_t b = 0; b < B; ++b) s += per_episode[(b * S + T) * width + i];
      store(grad + i, static_cast<float>(s), accumulate);
    }
  };
  if (matching) sum_pseudo(dkeys, D, grad_pseudo_keys);
  sum_pseudo(dvalues, F, grad_pseudo_values);
}

}  // namespace gmn::cpu
