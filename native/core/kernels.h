// Both backends' kernels, declared from one list (kernels.inc).
#pragma once
#include <cstdint>

namespace gmn::cpu {
#include "kernels.inc"
}  // namespace gmn::cpu

namespace gmn::cuda {
#include "kernels.inc"
}  // namespace gmn::cuda
