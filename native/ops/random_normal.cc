// random_normal: standard normal noise from a (seed, offset) stream, independent of the thread count.
#include <cstdint>

#include "checks.h"

namespace gmn::ops {

namespace {

const auto kernel = GMN_CPU_KERNEL(random_normal);

Job random_normal(const Tensor& out, double seed, double offset) {
  const Device dev = check_common({}, {{"out", &out}});
  require(integer_in(seed, 0, 4294967295.0), "seed", "an integer in [0, 2^32)", seed);
  require(integer_in(offset, 0, kMaxSafeInteger), "offset", "an integer in [0, 2^53)", offset);
  const uint32_t s = static_cast<uint32_t>(seed);
  const uint64_t o = static_cast<uint64_t>(offset);
  return [=] { kernel(dev, out.data(), out.numel(), s, o); };
}

}  // namespace

GMN_REGISTER_OP(random_normal, {kernel.info()}, {positional("randomNormal", random_normal, {"out", "seed", "offset"})});

}  // namespace gmn::ops
