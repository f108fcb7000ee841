// The PReLU backward an image at a time, for kernels that run it inside their own per-image pass
// (the residual block's, conv2d.cc): the same bits as prelu_backward over all of them.
#pragma once
#include <cstdint>

namespace gmn::cpu {

// dx = dy * prelu'(x) for one outer index ([C][inner] values), and with slope its per-channel
// slope gradient sums [C] (summed as prelu_backward sums them).
void prelu_backward_image(const float* x, const float* alpha, const float* dy, float* dx, double* slope, int64_t C,
                          int64_t inner);

// dalpha (+)= the slope gradient from the per-image sums slope [outer][C] of prelu_backward_image,
// combined in prelu_backward's order.
void prelu_slope_total(const double* slope, float* dalpha, int64_t outer, int64_t C, int64_t inner, bool accumulate);

}  // namespace gmn::cpu
