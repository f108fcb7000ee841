// TensorFlow 1.x bilinear resize, as a separable resampling (resample.h).
#include "resample.h"

namespace gmn::cpu {

using resample::BilinearPlan;

void resize_bilinear_forward(const float* x, float* y, int64_t planes, int64_t H, int64_t W, int64_t Ho, int64_t Wo) {
  resample::resample(x, y, planes, H, W, plan<BilinearPlan>(H, W, Ho, Wo, false), false);
}

void resize_bilinear_backward(const float* dy, float* dx, int64_t planes, int64_t H, int64_t W, int64_t Ho,
                              int64_t Wo, bool accumulate) {
  resample::resample(dy, dx, planes, Ho, Wo, plan<BilinearPlan>(H, W, Ho, Wo, true), accumulate);
}

}  // namespace gmn::cpu
