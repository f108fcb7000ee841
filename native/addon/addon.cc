// Module entry: tensors, backends, threads and the registered ops (exports.cc). Every export
// validates its arguments synchronously and throws TypeError/RangeError; work runs later on the
// executor (executor.h) and returns a Promise.
#include <napi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "../base/backend.h"
#include "../base/cpu_isa.h"
#include "../base/threadpool.h"
#include "executor.h"
#include "exports.h"
#include "napi_util.h"
#include "tensor_wrap.h"

namespace gmn::addon {

namespace {

// createTensor(shape, device, data?) zero-filled or copied from data; emptyTensor(shape, device)
// with unspecified contents.
Napi::Value NewTensor(const Napi::CallbackInfo& info, bool empty) {
  const char* name = empty ? "emptyTensor" : "createTensor";
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 2, empty ? 2 : 3, name);
    const Shape shape = get_shape(info[0], "shape");
    const Device device = get_device(info[1], "device");
    const Napi::Value data = info.Length() > 2 ? info[2] : info.Env().Undefined();
    const bool copy = !data.IsUndefined() && !data.IsNull();
    const std::optional<Napi::Float32Array> src = copy ? std::optional(get_float32_data(data, "data", shape)) : std::nullopt;
    if (device == Device::CUDA && !cuda_info().usable)
      throw type_error("device", "a usable device", "'cuda', which is unusable: " + cuda_info().reason);
    Tensor t{std::make_shared<Storage>(device, shape.numel(), !empty && !copy), shape};
    if (src) copy_from_host(t, src->Data());
    // emptyTensor's owners (the autograd tape) free what they make explicitly: counting it would
    // only make V8 run a full collection about every step.
    return TensorWrap::Create(info.Env(), std::move(t), !empty);
  });
}

Napi::Value CreateTensor(const Napi::CallbackInfo& info) { return NewTensor(info, false); }
Napi::Value EmptyTensor(const Napi::CallbackInfo& info) { return NewTensor(info, true); }

Napi::Array names(Napi::Env env, const std::vector<std::string>& list) {
  Napi::Array a = Napi::Array::New(env, list.size());
  for (size_t i = 0; i < list.size(); ++i) a.Set(uint32_t(i), list[i]);
  return a;
}

Napi::Value Backends(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array list = Napi::Array::New(env, 2);
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("name", "cpu");
  cpu.Set("compiled", true);
  cpu.Set("usable", true);
  cpu.Set("threads", num_threads());
  cpu.Set("ops", names(env, supported_ops(Device::CPU)));
  const CpuIsaInfo& isa = cpu_isa();
  cpu.Set("isa", cpu_isa_name(isa.active));
  std::vector<std::string> isas;
  for (CpuIsa i : isa.available) isas.push_back(cpu_isa_name(i));
  cpu.Set("isas", names(env, isas));
  if (!isa.note.empty()) cpu.Set("isaNote", isa.note);
  list.Set(0u, cpu);

  const CudaInfo& c = cuda_info();
  Napi::Object cuda = Napi::Object::New(env);
  cuda.Set("name", "cuda");
  cuda.Set("compiled", c.compiled);
  cuda.Set("usable", c.usable);
  cuda.Set("emulated", c.emulated);
  cuda.Set("ops", names(env, c.compiled ? supported_ops(Device::CUDA) : std::vector<std::string>{}));
  if (!c.usable) cuda.Set("reason", c.reason);
  if (c.compiled) {
    cuda.Set("driverVersion", c.driver_version);
    cuda.Set("runtimeVersion", c.runtime_version);
  }
  Napi::Array devices = Napi::Array::New(env, c.devices.size());
  for (size_t i = 0; i < c.devices.size(); ++i) {
    const CudaDeviceInfo& d = c.devices[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", d.index);
    o.Set("name", d.name);
    o.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
    o.Set("totalMemory", double(d.total_memory));
    o.Set("multiprocessors", d.multiprocessors);
    devices.Set(i, o);
  }
  cuda.Set("devices", devices);
  list.Set(1u, cuda);
  return list;
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), num_threads()); }

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 1, 1, "setThreads");
    const double n = get_number(info[0], "threads");
    if (n != std::floor(n) || n < 1 || n > 1024) throw range_error("threads", "an integer in [1, 1024]", describe(info[0]));
    set_num_threads(static_cast<int>(n));
    return info.Env().Undefined();
  });
}

Napi::Value SetOpProfiling(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 1, 1, "setOpProfiling");
    set_profiling(get_bool(info[0], "enabled"));
    return info.Env().Undefined();
  });
}

Napi::Value TakeOpProfile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<OpTime> list = take_profile();
  Napi::Array a = Napi::Array::New(env, list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("op", list[i].op);
    o.Set("calls", double(list[i].calls));
    o.Set("seconds", list[i].seconds);
    a.Set(uint32_t(i), o);
  }
  return a;
}

Napi::Value BeginRecording(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    check_arg_count(info, 0, 0, "beginRecording");
    begin_recording(info.Env());
    return info.Env().Undefined();
  });
}

// run(inputs?, data?, output?) of a recorded program: one job that writes data[i] into inputs[i],
// runs the recorded jobs, and reads `output` (the Promise's value; undefined without one).
Napi::Value RunProgram(const Napi::CallbackInfo& info, const std::shared_ptr<const Program>& program) {
  check_arg_count(info, 0, 3, "Program.run");
  if (!program) throw std::runtime_error("Program.run: the program was disposed");
  const auto arg = [&](size_t i) { return info.Length() > i ? info[i] : info.Env().Undefined(); };
  const bool none = arg(0).IsUndefined() || arg(0).IsNull();
  const std::vector<Tensor> inputs = none ? std::vector<Tensor>{} : get_tensor_array(arg(0), "inputs");
  if (!none && (!arg(1).IsArray() || arg(1).As<Napi::Array>().Length() != inputs.size()))
    throw type_error("data", "an array of " + std::to_string(inputs.size()) + " Float32Arrays (one per input)", describe(arg(1)));
  // Copied now, so the caller may change its arrays before the run.
  std::vector<std::shared_ptr<std::vector<float>>> data;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = "data[" + std::to_string(i) + "]";
    const Napi::Float32Array a = get_float32_data(arg(1).As<Napi::Array>().Get(uint32_t(i)), name.c_str(), inputs[i].shape);
    data.push_back(std::make_shared<std::vector<float>>(a.Data(), a.Data() + a.ElementLength()));
  }
  const std::optional<Tensor> output = get_optional_tensor(arg(2), "output");
  auto host = std::make_shared<std::vector<float>>(output ? static_cast<size_t>(output->numel()) : 0);
  const Device device = output ? output->device() : !inputs.empty() ? inputs.front().device()
                        : program->jobs.empty()       ? Device::CPU
                                                      : program->jobs.front().device;
  Submission job{"Program.run", device, [inputs, data, program, work = program_work(program), output, host] {
                   const bool serial = program->next_serial();
                   const SerialScope scope(serial);
                   const auto start = std::chrono::steady_clock::now();
                   for (size_t i = 0; i < inputs.size(); ++i) copy_from_host(inputs[i], data[i]->data());
                   work();
                   if (output) copy_to_host(*output, host->data());
                   program->ran(serial, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
                 },
                 nullptr, output.has_value()};
  const double last = program->last_seconds;
  job.quick = last >= 0 && last < Program::kQuickSeconds;
  if (output)
    job.result = [host](Napi::Env env) -> Napi::Value { return to_float32_array(env, *host); };
  return submit(info.Env(), std::move(job));
}

// endRecording() -> { jobs, run(), dispose() }; dispose() releases the jobs (and the tensors only
// they hold) once runs already issued are done.
Napi::Value EndRecording(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    check_arg_count(info, 0, 0, "endRecording");
    auto program = std::make_shared<std::shared_ptr<const Program>>(end_recording(env));
    Napi::Object o = Napi::Object::New(env);
    o.Set("jobs", double((*program)->jobs.size()));
    o.Set("run", Napi::Function::New(
                     env,
                     [program](const Napi::CallbackInfo& call) -> Napi::Value {
                       return guarded(call.Env(), [&]() -> Napi::Value { return RunProgram(call, *program); });
                     },
                     "run"));
    o.Set("dispose", Napi::Function::New(
                         env,
                         [program](const Napi::CallbackInfo& call) -> Napi::Value {
                           program->reset();
                           return call.Env().Undefined();
                         },
                         "dispose"));
    return o;
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  init_executor(env);
  exports.Set("Tensor", TensorWrap::Init(env));
  exports.Set("createTensor", Napi::Function::New<CreateTensor>(env, "createTensor"));
  exports.Set("emptyTensor", Napi::Function::New<EmptyTensor>(env, "emptyTensor"));
  exports.Set("backends", Napi::Function::New<Backends>(env, "backends"));
  exports.Set("getThreads", Napi::Function::New<GetThreads>(env, "getThreads"));
  exports.Set("setThreads", Napi::Function::New<SetThreads>(env, "setThreads"));
  exports.Set("setOpProfiling", Napi::Function::New<SetOpProfiling>(env, "setOpProfiling"));
  exports.Set("takeOpProfile", Napi::Function::New<TakeOpProfile>(env, "takeOpProfile"));
  exports.Set("beginRecording", Napi::Function::New<BeginRecording>(env, "beginRecording"));
  exports.Set("endRecording", Napi::Function::New<EndRecording>(env, "endRecording"));
  register_ops(env, exports);
  return exports;
}

}  // namespace

}  // namespace gmn::addon

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return gmn::addon::Init(env, exports); }

NODE_API_MODULE(gmn, InitModule)
