#include "registry.h"

namespace gmn::ops {

namespace {
std::vector<Op>& ops() {
  static std::vector<Op>* list = new std::vector<Op>();  // never destroyed: read until the process ends
  return *list;
}
}  // namespace

const std::vector<Op>& registry() { return ops(); }

Registration::Registration(Op op) { ops().push_back(std::move(op)); }

}  // namespace gmn::ops
