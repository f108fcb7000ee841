// Both backends' kernels, declared from one list (kernels.inc) so that their signatures agree.
#pragma once
#include <cstdint>

#include "../base/types.h"

namespace gmn::cpu {
#include "kernels.inc"
}  // namespace gmn::cpu

namespace gmn::cuda {
#include "kernels.inc"
}  // namespace gmn::cuda
