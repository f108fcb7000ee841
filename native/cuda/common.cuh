// What every CUDA kernel file shares: error checks (every runtime call goes through CUDA_CHECK,
// which throws a gmn error naming the call, file and line; the executor prefixes the op), the
// device's stream, launches (GMN_LAUNCH, never <<<...>>>, so that the same source also runs under
// the CPU emulation of native/emulation) and warp reductions.
#pragma once
#include <cuda_runtime.h>

#include "../emulation/launch.h"

#include <cstdint>
#include <stdexcept>
#include <string>

namespace gmn::cuda {

[[noreturn]] inline void fail(cudaError_t err, const char* what, const char* file, int line) {
  cudaGetLastError();  // clear a non-sticky error so later calls are not blamed for it
  throw std::runtime_error(std::string("CUDA error ") + std::to_string(static_cast<int>(err)) + " (" +
                           cudaGetErrorName(err) + ": " + cudaGetErrorString(err) + ") in " + what + " at " + file + ":" +
                           std::to_string(line));
}

#define CUDA_CHECK(call)                                                   \
  do {                                                                     \
    cudaError_t err_ = (call);                                             \
    if (err_ != cudaSuccess) ::gmn::cuda::fail(err_, #call, __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: reports bad launch configurations at once.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

// The stream all work of the device goes to, in issue order; created on first use.
cudaStream_t stream();

constexpr int kThreads = 256;

// The sum of v over the 32 lanes of the warp, in lane 0 (every lane must call it).
__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// Blocks for a grid-stride loop over n items.
inline unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 65536 ? (b < 1 ? 1 : b) : 65536);
}

}  // namespace gmn::cuda
