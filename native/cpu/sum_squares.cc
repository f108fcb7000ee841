// The sum of squares of every element of a list of tensors (gradient norms), in double.
#include <cmath>
#include <vector>

#include "../base/threadpool.h"
#include "../kernels/kernels.h"
#include "chunks.h"

namespace gmn::cpu {

using namespace chunks;

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

}  // namespace gmn::cpu
