// One N-API export per registered op export (native/ops/registry.h): the arguments are read by the
// kinds their C++ parameter types declare, checked by the op at once (TypeError/RangeError naming
// the argument), and the returned work goes to the executor.
#include "exports.h"

#include <algorithm>
#include <string>
#include <vector>

#include "../ops/registry.h"
#include "executor.h"
#include "napi_util.h"

namespace gmn::addon {

namespace {

ops::ArgValue read_arg(const Napi::Value& v, const ops::ArgSpec& spec) {
  switch (spec.kind) {
    case ops::ArgKind::Tensor: return ops::OptTensor(get_tensor(v, spec.name));
    case ops::ArgKind::OptionalTensor: return get_optional_tensor(v, spec.name);
    case ops::ArgKind::TensorList: {
      std::vector<ops::OptTensor> list;
      for (Tensor& t : get_tensor_array(v, spec.name)) list.emplace_back(std::move(t));
      return list;
    }
    case ops::ArgKind::OptionalTensorList: return get_optional_tensor_array(v, spec.name);
    case ops::ArgKind::Bool: return get_bool(v, spec.name);
    case ops::ArgKind::Number: return get_number(v, spec.name);
    case ops::ArgKind::Integer: return get_integer(v, spec.name, -kMaxNumel, kMaxNumel);  // the op checks its range
    case ops::ArgKind::String: return get_string(v, spec.name);
  }
  throw std::logic_error("unknown argument kind");
}

std::string key_list(const ops::Export& ex) {
  std::string s;
  for (const ops::ArgSpec& a : ex.args) s += (s.empty() ? "" : ", ") + std::string(a.name);
  return s;
}

std::vector<ops::ArgValue> read_args(const Napi::CallbackInfo& info, const ops::Export& ex) {
  std::vector<ops::ArgValue> values;
  if (ex.style == ops::Style::Positional) {
    check_arg_count(info, ex.args.size(), ex.args.size(), ex.name);
    for (size_t i = 0; i < ex.args.size(); ++i) values.push_back(read_arg(info[i], ex.args[i]));
    return values;
  }
  check_arg_count(info, 1, 1, ex.name);
  const Napi::Value arg = info[0];
  if (!arg.IsObject() || arg.IsArray() || arg.IsFunction() || arg.IsTypedArray())
    throw type_error(std::string("the arguments of ") + ex.name, "one options object {" + key_list(ex) + "}", describe(arg));
  const Napi::Object obj = arg.As<Napi::Object>();
  const Napi::Array keys = obj.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string key = keys.Get(i).ToString().Utf8Value();
    const bool known = std::any_of(ex.args.begin(), ex.args.end(), [&](const ops::ArgSpec& a) { return key == a.name; });
    if (!known)
      throw type_error(key, std::string("one of the options of ") + ex.name + " (" + key_list(ex) + ")", "an unknown option");
  }
  for (const ops::ArgSpec& a : ex.args) values.push_back(read_arg(obj.Get(a.name), a));
  return values;
}

// The device an op runs on: its tensors' (the op has checked that they share one).
Device device_of(const std::vector<ops::ArgValue>& values) {
  for (const ops::ArgValue& v : values) {
    if (const auto* t = std::get_if<ops::OptTensor>(&v); t && *t) return (*t)->device();
    if (const auto* l = std::get_if<std::vector<ops::OptTensor>>(&v))
      for (const ops::OptTensor& t : *l)
        if (t) return t->device();
  }
  return Device::CPU;
}

Napi::Value call(const Napi::CallbackInfo& info) {
  const auto& ex = *static_cast<const ops::Export*>(info.Data());
  return guarded(info.Env(), [&]() -> Napi::Value {
    const std::vector<ops::ArgValue> values = read_args(info, ex);
    ops::Job job = ex.prepare(values);
    Submission s{ex.name, device_of(values), std::move(job.run), nullptr};
    if (job.result) {
      s.result = [result = job.result](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *result); };
    }
    return submit(info.Env(), std::move(s));
  });
}

}  // namespace

void register_ops(Napi::Env env, Napi::Object exports) {
  for (const ops::Op& op : ops::registry())
    for (const ops::Export& ex : op.exports)
      exports.Set(ex.name, Napi::Function::New(env, call, ex.name, const_cast<ops::Export*>(&ex)));
}

std::vector<std::string> supported_ops(Device device) {
  std::vector<std::string> names;
  for (const ops::Op& op : ops::registry())
    if (device == Device::CPU || op.on_cuda()) names.push_back(op.name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace gmn::addon
