// The CUDA entry points of a build without CUDA: the backend reports why it is missing and any
// attempt to use it throws.
#include <stdexcept>

#include "../base/backend.h"

namespace gmn {

const CudaInfo& cuda_info() {
  static const CudaInfo info = [] {
    CudaInfo i;
    // GMN_NO_CUDA_CAUSE is set by the build: 1 = GMN_CUDA=0, 2 = nvcc not found, 3 = node-gyp build.
#if GMN_NO_CUDA_CAUSE == 1
    i.reason = "not compiled in: the addon was built with GMN_CUDA=0";
#elif GMN_NO_CUDA_CAUSE == 2
    i.reason = "not compiled in: nvcc was not found when the addon was built (put it on PATH or set CUDACXX, then npm run build)";
#else
    i.reason = "not compiled in: the addon was built by node-gyp (binding.gyp builds the CPU backend only; install cmake "
               "and run npm run build for CUDA)";
#endif
    return i;
  }();
  return info;
}

namespace cuda {
[[noreturn]] static void missing() { throw std::runtime_error("CUDA is unusable: " + cuda_info().reason); }
void* alloc(size_t) { missing(); }
void free(void*) { missing(); }
void memcpy_h2d(void*, const void*, size_t) { missing(); }
void memcpy_d2h(void*, const void*, size_t) { missing(); }
void memset_bytes(void*, int, size_t) { missing(); }
void fill(float*, float, size_t) { missing(); }
void synchronize() { missing(); }
}  // namespace cuda

}  // namespace gmn
