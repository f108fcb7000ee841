// The diagonal Gaussians of the conditional VAE: scale sigma = softplus(clip(pre, -10, 10)), as in
// the authors' code; shared by gaussian_sample.cc and elbo.cc.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace gmn::cpu::gaussian {

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

inline float sigmoid(float x) {
  const float e = std::exp(-std::abs(x));
  return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

// d sigma / d pre: the softplus slope inside the clip range, 0 where the clip cut pre.
inline float dsigma(float pre) { return pre < -10.0f || pre > 10.0f ? 0.0f : sigmoid(pre); }

inline void put(float* out, int64_t i, float g, bool accumulate) { out[i] = accumulate ? out[i] + g : g; }

// sum_k log N(z_k; mu_k, sigma(pre_k)), in double.
inline double log_normal(const float* z, const float* mu, const float* pre, int64_t Z) {
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

inline LogNormalGrad log_normal_grad(float z, float mu, float pre) {
  const float sigma = sigma_of(pre), d = (z - mu) / sigma;
  return {-d / sigma, d / sigma, (d * d - 1.0f) / sigma * dsigma(pre)};
}

}  // namespace gmn::cpu::gaussian
