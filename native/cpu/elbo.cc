// The fused per-row ELBO of the conditional VAE: log p(x | z) (Bernoulli from logits) + log p(z)
// - log q(z | x), with diagonal Gaussians (gaussian.h).
#include <cmath>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"
#include "gaussian.h"
#include "scratch.h"
#include "vec8.h"

namespace gmn::cpu {

using namespace gaussian;

namespace {

// -[x log sigmoid(f) + (1 - x) log sigmoid(-f)] = x softplus(-f) + (1 - x) softplus(f), with
// softplus(+-f) = max(+-f, 0) + log(1 + e^-|f|), in float (vec8.h), for one value or 8.
template <typename T>
inline T bernoulli_term(const T& f, const T& x) {
  const T zero{};
  const T a = f < zero ? -f : f;
  const T tail = log_poly(exp_poly(-a) + 1.0f);
  return x * ((f < zero ? -f : zero) + tail) + (1.0f - x) * ((f > zero ? f : zero) + tail);
}

// The sum of a row's terms in 8 double lanes, then the lanes and the tail in order: the same bits
// for any instruction set and thread count.
double bernoulli_nll(const float* f, const float* x, int64_t D) {
  Doubles8 lanes{};
  int64_t d = 0;
  for (; d + 8 <= D; d += 8) lanes += __builtin_convertvector(bernoulli_term(load8(f + d), load8(x + d)), Doubles8);
  double s = 0.0;
  for (int l = 0; l < 8; ++l) s += lanes[l];
  for (; d < D; ++d) s += bernoulli_term(f[d], x[d]);
  return s;
}

}  // namespace

void elbo_forward(const float* logits, const float* x, const float* z, const float* mu_q, const float* pre_q,
                  const float* mu_p, const float* pre_p, const float* row_weight, float* terms, float* loss, int64_t N,
                  int64_t D, int64_t Z) {
  thread_local std::vector<double> row_loss_buf;
  double* row_loss = scratch(row_loss_buf, N);
  parallel_for(N, row_grain(D + Z), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const double log_px = -bernoulli_nll(logits + n * D, x + n * D, D);
      const int64_t o = n * Z;
      const double log_pz = log_normal(z + o, mu_p + o, pre_p + o, Z), log_qz = log_normal(z + o, mu_q + o, pre_q + o, Z);
      terms[n * 3 + 0] = static_cast<float>(log_px);
      terms[n * 3 + 1] = static_cast<float>(log_pz);
      terms[n * 3 + 2] = static_cast<float>(log_qz);
      row_loss[n] = -double(row_weight[n]) * (log_px + log_pz - log_qz);
    }
  });
  double total = 0.0;  // in row order: the same bits for any thread count
  for (int64_t n = 0; n < N; ++n) total += row_loss[n];
  loss[0] = static_cast<float>(total);
}

void elbo_backward(const float* logits, const float* x, const float* z, const float* mu_q, const float* pre_q,
                   const float* mu_p, const float* pre_p, const float* row_weight, const float* grad_loss,
                   float* dlogits, float* dz, float* dmu_q, float* dpre_q, float* dmu_p, float* dpre_p, int64_t N,
                   int64_t D, int64_t Z, bool accumulate) {
  parallel_for(N, row_grain(D + Z), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const float c = -grad_loss[0] * row_weight[n];  // d(g loss) / d(t0 + t1 - t2) for this row
      if (dlogits) {
        // d/df [x log sigmoid(f) + (1 - x) log sigmoid(-f)] = x - sigmoid(f)
        const float *f = logits + n * D, *xn = x + n * D;
        map_row(dlogits + n * D, D, accumulate, [&](int64_t d, auto width) {
          return c * (at(xn, d, width) - cpu::sigmoid(at(f, d, width)));
        });
      }
      for (int64_t k = n * Z; k < (n + 1) * Z; ++k) {
        const LogNormalGrad p = log_normal_grad(z[k], mu_p[k], pre_p[k]), q = log_normal_grad(z[k], mu_q[k], pre_q[k]);
        if (dz) put(dz, k, c * (p.dz - q.dz), accumulate);
        if (dmu_p) put(dmu_p, k, c * p.dmu, accumulate);
        if (dpre_p) put(dpre_p, k, c * p.dpre, accumulate);
        if (dmu_q) put(dmu_q, k, -c * q.dmu, accumulate);
        if (dpre_q) put(dpre_q, k, -c * q.dpre, accumulate);
      }
    }
  });
}

}  // namespace gmn::cpu
