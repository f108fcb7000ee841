// The CUDA entry points of a build without CUDA: the backend reports why it is missing and any
// attempt to use it throws.
#include <stdexcept>

#include "backend.h"

namespace gmn {

const CudaInfo& cuda_info() {
  static const CudaInfo info = [] {
    CudaInfo i;
    i.reason = "not compiled in: this build has no CUDA backend (nvcc was not found at build time, GMN_CUDA=0 was set, "
               "or the addon was built by node-gyp)";
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
