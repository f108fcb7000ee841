// sum_squares: the sum of squares of every element of a list of tensors (gradient norms); resolves to the number.
#include <memory>
#include <vector>

#include "checks.h"

namespace gmn::ops {

namespace {

const auto kernel = GMN_CPU_KERNEL(sum_squares);

Job sum_squares(const std::vector<Tensor>& tensors) {
  const Device dev = check_lists({{"tensors", tensors, false}});
  const Raw r = raw(tensors);
  auto result = std::make_shared<double>(0.0);
  Job job([=] { kernel(dev, r.data.data(), r.sizes.data(), int64_t(r.sizes.size()), result.get()); });
  job.result = result;
  return job;
}

}  // namespace

GMN_REGISTER_OP(sum_squares, {kernel.info()}, {positional("sumSquares", sum_squares, {"tensors"})});

}  // namespace gmn::ops
