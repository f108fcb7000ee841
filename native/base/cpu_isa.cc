#include "cpu_isa.h"

#include <cstdlib>

namespace gmn {

namespace {

std::vector<CpuIsa> detect() {
  std::vector<CpuIsa> isas{CpuIsa::Generic};
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) isas.push_back(CpuIsa::Avx2);
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma"))
    isas.push_back(CpuIsa::Avx512);
#endif
  return isas;
}

CpuIsaInfo choose() {
  CpuIsaInfo info{CpuIsa::Generic, detect(), ""};
  info.active = info.available.back();
  const char* env = std::getenv("GMN_CPU");
  if (!env || !*env) return info;
  const std::string want = env;
  for (CpuIsa isa : info.available)
    if (want == cpu_isa_name(isa)) {
      info.active = isa;
      return info;
    }
  if (want == "avx512" || want == "avx2" || want == "generic")
    info.note = "GMN_CPU=" + want + " is not supported by this CPU; using " + cpu_isa_name(info.active);
  else
    info.note = "GMN_CPU=" + want + " is not one of avx512, avx2, generic; using " + cpu_isa_name(info.active);
  return info;
}

}  // namespace

const CpuIsaInfo& cpu_isa() {
  static const CpuIsaInfo info = choose();
  return info;
}

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Avx512: return "avx512";
    case CpuIsa::Avx2: return "avx2";
    default: return "generic";
  }
}

}  // namespace gmn
