// Device discovery, memory and copies for the CUDA backend. All work goes to one stream per
// process (device 0), in issue order; only copies to the host and synchronize() wait for it.
// Memory comes from the stream-ordered pool (cudaMallocAsync) with no release threshold, so the
// tensors of a training step reuse the pool's blocks instead of calling cudaMalloc, and
// allocation stays legal during CUDA graph capture.
#include <cstdint>

#include "../base/backend.h"
#include "common.cuh"

namespace gmn {

namespace {

CudaInfo probe() {
  CudaInfo info;
  info.compiled = true;
#if GMN_CUDA_EMULATION
  info.emulated = true;
#endif
  cudaRuntimeGetVersion(&info.runtime_version);
  if (cudaDriverGetVersion(&info.driver_version) != cudaSuccess) info.driver_version = 0;
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    info.reason = std::string("cudaGetDeviceCount failed with error ") + std::to_string(static_cast<int>(err)) + " (" +
                  cudaGetErrorName(err) + ": " + cudaGetErrorString(err) + ")";
    if (err == cudaErrorInsufficientDriver) info.reason += "; no NVIDIA driver is installed, or it is older than this CUDA runtime";
    if (err == cudaErrorNoDevice) info.reason += "; the driver sees no CUDA-capable GPU";
    return info;
  }
  if (count == 0) {
    info.reason = "no CUDA-capable GPU was found";
    return info;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    info.devices.push_back({i, prop.name, prop.major, prop.minor, prop.totalGlobalMem, prop.multiProcessorCount});
  }
  if (info.devices.empty()) {
    info.reason = "cudaGetDeviceProperties failed for every device";
    return info;
  }
  // Create the context now, so a broken setup is reported here and not inside the first kernel.
  const cudaError_t init = cudaFree(nullptr);
  if (init != cudaSuccess) {
    cudaGetLastError();
    info.reason = std::string("could not create a CUDA context: ") + cudaGetErrorString(init);
    return info;
  }
  info.usable = true;
  return info;
}

}  // namespace

const CudaInfo& cuda_info() {
  static const CudaInfo info = probe();
  return info;
}

namespace cuda {

cudaStream_t stream() {
  static cudaStream_t s = [] {
    if (!cuda_info().usable) throw std::runtime_error("CUDA is unusable: " + cuda_info().reason);
    cudaStream_t created = nullptr;
    CUDA_CHECK(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking));
    cudaMemPool_t pool = nullptr;
    CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, 0));
    uint64_t keep_everything = UINT64_MAX;
    CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_everything));
    return created;
  }();
  return s;
}

void* alloc(size_t bytes) {
  void* p = nullptr;
  const cudaError_t err = cudaMallocAsync(&p, bytes, stream());
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw std::bad_alloc();
  }
  if (err != cudaSuccess) fail(err, "cudaMallocAsync", __FILE__, __LINE__);
  return p;
}

// Ordered after the work already issued that uses the block (jobs keep their tensors alive until issued).
void free(void* p) { CUDA_CHECK(cudaFreeAsync(p, stream())); }
void memcpy_h2d(void* dst, const void* src, size_t bytes) {
  CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream()));
  synchronize();  // the host buffer may go away when this returns
}
void memcpy_d2h(void* dst, const void* src, size_t bytes) {
  CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream()));
  synchronize();
}
void memset_bytes(void* dst, int value, size_t bytes) { CUDA_CHECK(cudaMemsetAsync(dst, value, bytes, stream())); }
void synchronize() { CUDA_CHECK(cudaStreamSynchronize(stream())); }

__global__ void fill_kernel(float* dst, float value, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) dst[i] = value;
}

void fill(float* dst, float value, size_t n) {
  GMN_LAUNCH(fill_kernel, blocks_for(n), kThreads, 0, stream(), dst, value, static_cast<int64_t>(n));
  CUDA_CHECK_LAUNCH();
}

}  // namespace cuda
}  // namespace gmn
