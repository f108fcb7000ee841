// Which CPU instruction set the hand-vectorised kernels use, chosen once per process from cpuid:
// the best of AVX-512, AVX2 + FMA and the portable fallback, unless GMN_CPU=avx512|avx2|generic
// asks for one (for tests and benchmarks; a request this CPU cannot run falls back, saying why).
// Each path gives the same bits for any thread count; different paths may differ in the last bits.
#pragma once
#include <string>
#include <vector>

namespace gmn {

enum class CpuIsa { Generic, Avx2, Avx512 };

struct CpuIsaInfo {
  CpuIsa active;
  std::vector<CpuIsa> available;  // what this CPU and build can run, best last
  std::string note;               // why GMN_CPU was not followed; empty otherwise
};

const CpuIsaInfo& cpu_isa();
const char* cpu_isa_name(CpuIsa isa);

}  // namespace gmn
