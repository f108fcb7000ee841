// Both backends' kernels, declared from one list (kernels.inc) so their signatures agree.
#pragma once
#include <cstdint>

namespace gmn::cpu {
#include "kernels.inc"
// The model's kernel families; CPU only so far.
#include "kernels_conv.inc"
#include "kernels_attention.inc"
#include "kernels_elbo.inc"
}  // namespace gmn::cpu

namespace gmn::cuda {
#include "kernels.inc"
}  // namespace gmn::cuda
