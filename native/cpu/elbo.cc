// The reparameterised Gaussian sample and the fused per-row ELBO of the conditional VAE:
// log p(x | z) (Bernoulli from logits) + log p(z) - log q(z | x), with diagonal Gaussians whose
// scale is sigma = softplus(clip(pre, -10, 10)), as in the authors' code.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/kernels.h"
#include "../core/threadpool.h"

namespace gmn::cpu {

namespace {

constexpr double kHalfLog2Pi = 0.918938533204672741780;  // 0.5 log(2 pi)

template <typename T>
T clip_pre(T pre) {
  return std::min<T>(std::max<T>(pre, T(-10)), T(10));  // NaN stays NaN
}

// log(1 + e^x) without overflow or loss of the small tail.
template <typename T>
T softplus(T x) {
  return std::max<T>(x, T(0)) + std::log1p(std::exp(-std::abs(x)));
}

template <typename T>
T sigma_of(T pre) {
  return softplus(clip_pre(pre));
}

float sigmoid(float x) {
  const float e = std::exp(-std::abs(x));
  return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

// d sigma / d pre: the softplus slope inside the clip range, 0 where the clip cut pre.
float dsigma(float pre) { return pre < -10.0f || pre > 10.0f ? 0.0f : sigmoid(pre); }

void put(float* out, int64_t i, float g, bool accumulate) { out[i] = accumulate ? out[i] + g : g; }

// sum_k log N(z_k; mu_k, sigma(pre_k)), in double.
double log_normal(const float* z, const float* mu, const float* pre, int64_t Z) {
  double s = 0.0;
  for (int64_t k = 0; k < Z; ++k) {
    const double sigma = sigma_of(double(pre[k])), d = (double(z[k]) - mu[k]) / sigma;
    s += -0.5 * d * d - std::log(sigma) - kHalfLog2Pi;
  }
  return s;
}

// Partial derivatives of one log N(z; mu, sigma(pre)) term.
struct LogNormalGrad {
  float dz, dmu, dpre;
};

LogNormalGrad log_normal_grad(float z, float mu, float pre) {
  const float sigma = sigma_of(pre), d = (z - mu) / sigma;
  return {-d / sigma, d / sigma, (d * d - 1.0f) / sigma * dsigma(pre)};
}

int64_t row_grain(int64_t row_size) { return std::max<int64_t>(1, 4096 / std::max<int64_t>(1, row_size)); }

}  // namespace

void gaussian_sample_forward(const float* mu, const float* pre, const float* eps, float* z, int64_t n) {
  parallel_for(n, 4096, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) z[i] = mu[i] + sigma_of(pre[i]) * eps[i];
  });
}

void gaussian_sample_backward(const float* pre, const float* eps, const float* dz, float* dmu, float* dpre, int64_t n,
                              bool accumulate) {
  parallel_for(n, 4096, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      if (dmu) put(dmu, i, dz[i], accumulate);
      if (dpre) put(dpre, i, dz[i] * eps[i] * dsigma(pre[i]), accumulate);
    }
  });
}

void elbo_forward(const float* logits, const float* x, const float* z, const float* mu_q, const float* pre_q,
                  const float* mu_p, const float* pre_p, const float* row_weight, float* terms, float* loss, int64_t N,
                  int64_t D, int64_t Z) {
  std::vector<double> row_loss(static_cast<size_t>(N));
  parallel_for(N, row_grain(D + Z), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      // x log sigmoid(f) + (1 - x) log sigmoid(-f), with log sigmoid(+-f) = -softplus(-+f).
      double log_px = 0.0;
      for (int64_t d = n * D; d < (n + 1) * D; ++d) {
        const double f = logits[d], tail = std::log1p(std::exp(-std::abs(f)));
        log_px -= x[d] * (std::max(-f, 0.0) + tail) + (1.0 - x[d]) * (std::max(f, 0.0) + tail);
      }
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
        for (int64_t d = n * D; d < (n + 1) * D; ++d) put(dlogits, d, c * (x[d] - sigmoid(logits[d])), accumulate);
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
