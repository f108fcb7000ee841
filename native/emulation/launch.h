// Kernel launches and dynamic shared memory, written once for both builds: real CUDA (nvcc) and
// the CPU emulation (g++ with -DGMN_CUDA_EMULATION=1 and -Inative/emulation first on the path).
//
//   GMN_LAUNCH(kernel, grid, block, shared_bytes, stream, args...)
//     is kernel<<<grid, block, shared_bytes, stream>>>(args...). All five leading arguments are
//     required (pass 0 for no dynamic shared memory and for the default stream). A kernel name
//     with template arguments has commas, so wrap it in parentheses:
//       GMN_LAUNCH((sgemm_kernel<true, false>), grid, 256, 0, stream, M, N, K, ...);
//     Under emulation the arguments are evaluated once, at the launch, as with <<<>>>; pass
//     nullptr rather than 0 for a pointer argument (the value is stored before the call).
//
//   GMN_DYNAMIC_SHARED(type, name);
//     inside a kernel: declares `type* name` pointing at the launch's dynamic shared memory
//     (shared_bytes above), aligned to at least 16 bytes. Several such declarations in one
//     kernel alias the same bytes, as `extern __shared__` arrays do.
#pragma once

#include <cuda_runtime.h>

// GMN_UNPAREN(x): x without its enclosing parentheses if it has them, else x. The trick: when x
// is `(a, b)`, `GMN_UNPAREN_EAT x` is a call of GMN_UNPAREN_EAT that drops the parentheses and
// leaves the marker token GMN_UNPAREN_EAT in front; otherwise the marker is simply followed by x.
// Pasting GMN_UNPAREN_ onto the marker then forms GMN_UNPAREN_GMN_UNPAREN_EAT, which expands to
// nothing, in both cases.
#define GMN_UNPAREN(x) GMN_UNPAREN_PASTE(GMN_UNPAREN_EAT x)
#define GMN_UNPAREN_EAT(...) GMN_UNPAREN_EAT __VA_ARGS__
#define GMN_UNPAREN_PASTE(...) GMN_UNPAREN_PASTE_(__VA_ARGS__)
#define GMN_UNPAREN_PASTE_(...) GMN_UNPAREN_##__VA_ARGS__
#define GMN_UNPAREN_GMN_UNPAREN_EAT

#if defined(GMN_CUDA_EMULATION) && GMN_CUDA_EMULATION

#include <tuple>

#define GMN_LAUNCH(kernel, grid, block, shared_bytes, stream, ...)                                          \
  gmn_emu_launch(::gmn_emu::LaunchSite{#kernel, __FILE__, __LINE__}, grid, block, shared_bytes, stream,  \
                 ::std::make_tuple(__VA_ARGS__),                                                          \
                 [](const auto&... gmn_launch_args) { GMN_UNPAREN(kernel)(gmn_launch_args...); })

#define GMN_DYNAMIC_SHARED(type, name) type* const name = static_cast<type*>(::gmn_emu::detail::dynamic_shared())

#else

#define GMN_LAUNCH(kernel, grid, block, shared_bytes, stream, ...) \
  GMN_UNPAREN(kernel)<<<grid, block, shared_bytes, stream>>>(__VA_ARGS__)

// One byte array for every use, so that kernels of different element types (or templates) do
// not declare the same extern __shared__ name with different types, which nvcc rejects.
#define GMN_DYNAMIC_SHARED(type, name)                                  \
  extern __shared__ __align__(16) unsigned char gmn_dynamic_shared_bytes[]; \
  type* const name = reinterpret_cast<type*>(gmn_dynamic_shared_bytes)

#endif
