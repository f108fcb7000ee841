// Device discovery, memory and copies for the CUDA backend. All work runs on the legacy default
// stream and every public call is synchronous with respect to the host.
#include "../core/backend.h"
#include "common.cuh"

namespace gmn {

namespace {

CudaInfo probe() {
  CudaInfo info;
  info.compiled = true;
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

void* alloc(size_t bytes) {
  if (!cuda_info().usable) throw std::runtime_error("CUDA is unusable: " + cuda_info().reason);
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw std::bad_alloc();
  }
  if (err != cudaSuccess) fail(err, "cudaMalloc", __FILE__, __LINE__);
  return p;
}

void free(void* p) { CUDA_CHECK(cudaFree(p)); }
void memcpy_h2d(void* dst, const void* src, size_t bytes) { CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice)); }
void memcpy_d2h(void* dst, const void* src, size_t bytes) { CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost)); }
void memset_bytes(void* dst, int value, size_t bytes) { CUDA_CHECK(cudaMemset(dst, value, bytes)); }
void synchronize() { CUDA_CHECK(cudaDeviceSynchronize()); }

__global__ void fill_kernel(float* dst, float value, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) dst[i] = value;
}

void fill(float* dst, float value, size_t n) {
  fill_kernel<<<blocks_for(n), kThreads>>>(dst, value, static_cast<int64_t>(n));
  CUDA_CHECK_LAUNCH();
  synchronize();
}

}  // namespace cuda
}  // namespace gmn
