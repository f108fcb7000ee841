// Errors raised by native code. The addon layer turns ArgError into a JS TypeError or RangeError
// and every other std::exception into a JS Error; nothing here may abort the process.
#pragma once
#include <stdexcept>
#include <string>

namespace gmn {

class ArgError : public std::runtime_error {
 public:
  enum class Kind { Type, Range };
  ArgError(Kind kind, const std::string& msg) : std::runtime_error(msg), kind(kind) {}
  Kind kind;
};

// "Expected <expected> for <name> but received <received>"
inline ArgError type_error(const std::string& name, const std::string& expected, const std::string& received) {
  return ArgError(ArgError::Kind::Type, "Expected " + expected + " for " + name + " but received " + received);
}
inline ArgError range_error(const std::string& name, const std::string& expected, const std::string& received) {
  return ArgError(ArgError::Kind::Range, "Expected " + expected + " for " + name + " but received " + received);
}

}  // namespace gmn
