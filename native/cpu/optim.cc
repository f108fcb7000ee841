// Gradient norms and optimizer updates, each one pass over all the tensors of a call: the
// elements are cut into fixed chunks (never across tensors) that depend only on the sizes, so
// the chunks run in parallel and any reduction is summed per chunk, then in chunk order.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/kernels.h"
#include "../core/threadpool.h"

namespace gmn::cpu {

namespace {

constexpr int64_t kChunk = 16384;

struct Chunk {
  int64_t tensor, begin, end;
};

std::vector<Chunk> chunks_of(const int64_t* sizes, int64_t count) {
  std::vector<Chunk> chunks;
  for (int64_t t = 0; t < count; ++t)
    for (int64_t b = 0; b < sizes[t]; b += kChunk) chunks.push_back({t, b, std::min(sizes[t], b + kChunk)});
  return chunks;
}

// fn(chunk index, chunk) for every chunk, in parallel.
template <typename F>
void for_each_chunk(const std::vector<Chunk>& chunks, F&& fn) {
  parallel_for(static_cast<int64_t>(chunks.size()), 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) fn(c, chunks[c]);
  });
}

}  // namespace

void sum_squares(const float* const* tensors, const int64_t* sizes, int64_t count, double* result) {
  const std::vector<Chunk> chunks = chunks_of(sizes, count);
  std::vector<double> partial(chunks.size(), 0.0);
  for_each_chunk(chunks, [&](int64_t c, const Chunk& k) {
    double s = 0.0;  // NaN or Inf in any element makes the sum non-finite
    for (int64_t i = k.begin; i < k.end; ++i) s += double(tensors[k.tensor][i]) * tensors[k.tensor][i];
    partial[c] = s;
  });
  double total = 0.0;
  for (double s : partial) total += s;
  *result = total;
}

void adam_update(float* const* params, const float* const* grads, float* const* m, float* const* v,
                 const int64_t* sizes, int64_t count, double lr, double beta1, double beta2, double eps,
                 double weight_decay, bool decoupled, int64_t step, double grad_scale) {
  // TensorFlow's form: the bias corrections fold into the step size (in double), eps stays outside.
  const double t = double(step);
  const float lr_t = float(lr * std::sqrt(1.0 - std::pow(beta2, t)) / (1.0 - std::pow(beta1, t)));
  // 1 - beta in double, then rounded: float(1 - float(0.999)) would be off by 1.3e-5 relative.
  const float b1 = float(beta1), b2 = float(beta2), c1 = float(1.0 - beta1), c2 = float(1.0 - beta2);
  const float e = float(eps), scale = float(grad_scale);
  const float l2 = decoupled ? 0.0f : float(weight_decay), shrink = decoupled ? float(lr * weight_decay) : 0.0f;
  for_each_chunk(chunks_of(sizes, count), [&](int64_t, const Chunk& k) {
    float *p = params[k.tensor], *mt = m[k.tensor], *vt = v[k.tensor];
    const float* g = grads[k.tensor];
    for (int64_t i = k.begin; i < k.end; ++i) {
      const float gi = scale * g[i] + l2 * p[i];
      mt[i] = b1 * mt[i] + c1 * gi;
      vt[i] = b2 * vt[i] + c2 * gi * gi;
      p[i] = p[i] - lr_t * mt[i] / (std::sqrt(vt[i]) + e) - shrink * p[i];  // decay uses the pre-update param
    }
  });
}

void sgd_update(float* const* params, const float* const* grads, float* const* velocity, const int64_t* sizes,
                int64_t count, double lr, double momentum, double weight_decay, double grad_scale) {
  const float rate = float(lr), mom = float(momentum), wd = float(weight_decay), scale = float(grad_scale);
  for_each_chunk(chunks_of(sizes, count), [&](int64_t, const Chunk& k) {
    float *p = params[k.tensor], *vel = velocity[k.tensor];
    const float* g = grads[k.tensor];
    for (int64_t i = k.begin; i < k.end; ++i) {
      vel[i] = mom * vel[i] + scale * g[i] + wd * p[i];
      p[i] -= rate * vel[i];
    }
  });
}

}  // namespace gmn::cpu
