// The op registry: every op declares itself once, in native/ops/<op>.cc, as
//   - its kernels (the CPU function and the CUDA function, or none), and
//   - its exports: a JS name, the check function (typed C++ parameters) and the parameter names.
// From that one declaration come the N-API export, the argument count and kind checks (kinds are
// derived from the C++ parameter types), the dispatch to a backend, and each backend's list of
// supported ops (backends()). Nothing here knows N-API; native/addon reads JS values into ArgValues.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "../base/error.h"
#include "../base/tensor.h"

namespace gmn::ops {

using OptTensor = std::optional<Tensor>;

// The work an export's check function returns: run later, off the JS thread, in issue order. It
// keeps its tensors' storage alive. `result`, when set, is the number the Promise resolves to.
struct Job {
  Job() = default;
  template <typename F, typename = std::enable_if_t<std::is_invocable_v<F&>>>
  Job(F&& f) : run(std::forward<F>(f)) {}  // NOLINT: a lambda is a Job
  std::function<void()> run;
  std::shared_ptr<double> result;
};

// ---- Kernels: one backend function per device, or none -------------------------------------

struct KernelInfo {
  const char* name;
  bool cuda;  // whether this build has a CUDA function for it
};

template <typename Fn>
struct Kernel {
  const char* name;
  Fn* cpu;
  Fn* cuda;  // null: no CUDA kernel (in this build)

  KernelInfo info() const { return {name, cuda != nullptr}; }

  // The function for `device`; throws when this build has none there.
  Fn* on(Device device) const {
    if (device == Device::CPU) return cpu;
    if (!cuda) throw std::runtime_error(std::string(name) + " has no CUDA kernel in this build: use device 'cpu'");
    return cuda;
  }

  // Runs on the tensors' device. A CUDA kernel is only launched here (on the device's stream);
  // errors of the launch itself throw at once, faults while running surface at the next sync.
  template <typename... A>
  void operator()(Device device, A&&... args) const {
    on(device)(std::forward<A>(args)...);
  }
};

// &cuda::name where this build has the CUDA backend (real or emulated), null otherwise. Use it only
// for kernels that native/cuda defines.
#if GMN_WITH_CUDA
#define GMN_CUDA_KERNEL(name) (&::gmn::cuda::name)
#else
#define GMN_CUDA_KERNEL(name) nullptr
#endif

// A kernel that exists on both backends, or on the CPU only.
#define GMN_KERNEL(name) ::gmn::ops::Kernel<decltype(::gmn::cpu::name)>{#name, &::gmn::cpu::name, GMN_CUDA_KERNEL(name)}
#define GMN_CPU_KERNEL(name) ::gmn::ops::Kernel<decltype(::gmn::cpu::name)>{#name, &::gmn::cpu::name, nullptr}

// ---- Exports: JS arguments, derived from the check function's parameters ---------------------

enum class ArgKind { Tensor, OptionalTensor, TensorList, OptionalTensorList, Bool, Number, Integer, String };

struct ArgSpec {
  const char* name;
  ArgKind kind;
};

// A JS argument after reading: tensors (a null optional tensor is an empty OptTensor), lists,
// booleans, numbers (finite doubles), integers and strings.
using ArgValue = std::variant<OptTensor, std::vector<OptTensor>, bool, double, int64_t, std::string>;

template <typename T>
struct ArgOf;
template <>
struct ArgOf<Tensor> {
  static constexpr ArgKind kind = ArgKind::Tensor;
  static const Tensor& get(const ArgValue& v) { return *std::get<OptTensor>(v); }
};
template <>
struct ArgOf<OptTensor> {
  static constexpr ArgKind kind = ArgKind::OptionalTensor;
  static const OptTensor& get(const ArgValue& v) { return std::get<OptTensor>(v); }
};
template <>
struct ArgOf<std::vector<Tensor>> {
  static constexpr ArgKind kind = ArgKind::TensorList;
  static std::vector<Tensor> get(const ArgValue& v) {
    std::vector<Tensor> out;
    for (const OptTensor& t : std::get<std::vector<OptTensor>>(v)) out.push_back(*t);
    return out;
  }
};
template <>
struct ArgOf<std::vector<OptTensor>> {
  static constexpr ArgKind kind = ArgKind::OptionalTensorList;
  static const std::vector<OptTensor>& get(const ArgValue& v) { return std::get<std::vector<OptTensor>>(v); }
};
template <>
struct ArgOf<bool> {
  static constexpr ArgKind kind = ArgKind::Bool;
  static bool get(const ArgValue& v) { return std::get<bool>(v); }
};
template <>
struct ArgOf<double> {
  static constexpr ArgKind kind = ArgKind::Number;
  static double get(const ArgValue& v) { return std::get<double>(v); }
};
template <>
struct ArgOf<int64_t> {
  static constexpr ArgKind kind = ArgKind::Integer;
  static int64_t get(const ArgValue& v) { return std::get<int64_t>(v); }
};
template <>
struct ArgOf<std::string> {
  static constexpr ArgKind kind = ArgKind::String;
  static const std::string& get(const ArgValue& v) { return std::get<std::string>(v); }
};

// How JS passes the arguments: in order, or as one object keyed by the parameter names (for the
// ops with many arguments).
enum class Style { Positional, Options };

struct Export {
  const char* name;  // the JS function, e.g. "linearForward"
  Style style;
  std::vector<ArgSpec> args;
  std::function<Job(const std::vector<ArgValue>&)> prepare;  // checks at once, returns the work
};

template <typename... P, size_t N, size_t... I>
Export make_export(const char* name, Style style, Job (*check)(P...), const char* const (&names)[N],
                   std::index_sequence<I...>) {
  static_assert(N == sizeof...(P), "one name per parameter of the check function");
  return {name, style, {ArgSpec{names[I], ArgOf<std::decay_t<P>>::kind}...},
          [check](const std::vector<ArgValue>& a) { return check(ArgOf<std::decay_t<P>>::get(a[I])...); }};
}

template <typename... P, size_t N>
Export positional(const char* name, Job (*check)(P...), const char* const (&names)[N]) {
  return make_export(name, Style::Positional, check, names, std::index_sequence_for<P...>{});
}

template <typename... P, size_t N>
Export options(const char* name, Job (*check)(P...), const char* const (&names)[N]) {
  return make_export(name, Style::Options, check, names, std::index_sequence_for<P...>{});
}

// ---- The registry ---------------------------------------------------------------------------

struct Op {
  const char* name;  // snake_case, the name of its files: native/ops/<name>.cc, src/native/ops/<name>.ts, ...
  std::vector<KernelInfo> kernels;
  std::vector<Export> exports;
  // An op runs on CUDA when every kernel it uses has a CUDA function.
  bool on_cuda() const {
    for (const KernelInfo& k : kernels)
      if (!k.cuda) return false;
    return true;
  }
};

// Every registered op, in registration order.
const std::vector<Op>& registry();

// Adds an op at static initialisation (see GMN_REGISTER_OP).
struct Registration {
  explicit Registration(Op op);
};

// GMN_REGISTER_OP(name, {kernels...}, {exports...}) at namespace scope in native/ops/<name>.cc.
#define GMN_REGISTER_OP(op_name, ...) \
  static const ::gmn::ops::Registration gmn_registration_##op_name(::gmn::ops::Op{#op_name, __VA_ARGS__})

}  // namespace gmn::ops
