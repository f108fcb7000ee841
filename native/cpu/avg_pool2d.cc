// Valid average pooling, as a separable resampling (resample.h).
#include "resample.h"

namespace gmn::cpu {

using resample::PoolPlan;

void avg_pool2d_forward(const float* x, float* y, int64_t planes, int64_t H, int64_t W, int64_t Ho, int64_t Wo,
                        int64_t k, int64_t stride) {
  resample::resample(x, y, planes, H, W, plan<PoolPlan>(H, W, Ho, Wo, k, stride, false), false);
}

void avg_pool2d_backward(const float* dy, float* dx, int64_t planes, int64_t H, int64_t W, int64_t Ho, int64_t Wo,
                         int64_t k, int64_t stride, bool accumulate) {
  resample::resample(dy, dx, planes, Ho, Wo, plan<PoolPlan>(H, W, Ho, Wo, k, stride, true), accumulate);
}

}  // namespace gmn::cpu
