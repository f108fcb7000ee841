// Error checks for the CUDA backend: every runtime call and launch goes through CUDA_CHECK,
// which throws a gmn error naming the call, file and line (turned into a JS Error by the addon).
#pragma once
#include <cuda_runtime.h>

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

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n items.
inline unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 65536 ? (b < 1 ? 1 : b) : 65536);
}

}  // namespace gmn::cuda
