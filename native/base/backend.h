// What each backend offers, independent of N-API. The CUDA functions exist in every build; in a
// build without CUDA they report "not compiled in" and throw if called.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace gmn {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;
  size_t total_memory = 0;
  int multiprocessors = 0;
};

struct CudaInfo {
  bool compiled = false;
  bool usable = false;
  bool emulated = false;  // the CUDA execution model emulated on the CPU (a test build)
  std::string reason;   // why it is unusable, empty when usable
  int driver_version = 0;   // e.g. 13000 = 13.0; 0 when there is no driver
  int runtime_version = 0;
  std::vector<CudaDeviceInfo> devices;
};

// Probed once, then cached; never throws.
const CudaInfo& cuda_info();

namespace cuda {
void* alloc(size_t bytes);
void free(void* p);
void memcpy_h2d(void* dst, const void* src, size_t bytes);
void memcpy_d2h(void* dst, const void* src, size_t bytes);
void memset_bytes(void* dst, int value, size_t bytes);
void fill(float* dst, float value, size_t n);
void synchronize();
}  // namespace cuda

}  // namespace gmn
