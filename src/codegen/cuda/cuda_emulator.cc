// The CUDA emulator (see cuda_emulator.h for what it does and why). Expressions are evaluated
// by the reference interpreter (src/ir/interpreter.h), one Interpreter per thread of the block;
// control flow, thread bindings, memory, races and cross-thread reductions are handled by
// KernelRun (cuda_emulator_run.h, cuda_emulator_warp.cc); this file runs a function's launches.
#include "codegen/cuda/cuda_emulator.h"

#include "codegen/cuda/cuda_emulator_run.h"

namespace te {

using cuda_emu::EmuBuffer;
using cuda_emu::KernelRun;

void cuda_emulate_lowered(const LoweredFunc& func, const Target& target, const std::vector<DLTensor*>& args,
                          const CudaEmulateOptions& options) {
  std::vector<void*> data;
  std::vector<int64_t> size_values;
  Device device;
  pack_arguments(func, args, &data, &size_values, target, &device);
  if (!device.is_cpu())
    fail("cuda_emulate: the arguments of ", func.name, " live on ", device.str(),
         "; the emulator runs on host arrays (NumPy / te.nd.array on the CPU)");
  Interpreter host;
  std::vector<std::pair<Var, Value>> scalars;
  for (size_t i = 0; i < func.size_vars.size(); ++i) {
    scalars.emplace_back(func.size_vars[i], Value::from_int(func.size_vars[i].dtype(), size_values[i]));
    host.bind(func.size_vars[i], scalars.back().second);
  }
  std::vector<std::unique_ptr<EmuBuffer>> owned;
  std::vector<std::pair<Var, EmuBuffer*>> globals;
  for (size_t i = 0; i < func.args.size(); ++i) {
    int64_t n = func.args[i].dtype.lanes;
    for (int d = 0; d < args[i]->ndim; ++d) n *= args[i]->shape[d];
    owned.push_back(std::make_unique<EmuBuffer>(func.args[i].name, "global", func.args[i].dtype, n, data[i], true));
    globals.emplace_back(func.args[i].data, owned.back().get());
  }
  GpuKernelSplit split = split_gpu_kernels(func.body, func.name);
  int64_t executed = 0;
  for (const GpuIntermediate& im : split.intermediates) {
    int64_t n = 1;
    for (const Expr& e : im.extents) n *= host.eval(e).as_int();
    owned.push_back(std::make_unique<EmuBuffer>(im.buffer.name(), "global", im.dtype, n, nullptr, true));
    globals.emplace_back(im.buffer, owned.back().get());
  }
  for (size_t k = 0; k < split.kernels.size(); ++k) {
    std::string name = func.name + "_kernel" + (split.single() ? std::string() : std::to_string(k));
    const GpuLaunchConfig& launch = split.kernels[k].launch;
    int64_t grid[3];
    for (int d = 0; d < 3; ++d) {
      grid[d] = host.eval(launch.grid[d]).as_int();
      if (grid[d] < 1 || grid[d] > 0x7fffffff)
        fail("cuda_emulate: kernel ", name, ": grid dimension ", "xyz"[d], " is ", grid[d], "; expected 1..2^31-1");
    }
    KernelRun(name, split.single() ? func.body : split.kernels[k].body, launch, grid, scalars, globals, &executed,
              options.max_statements).run();
  }
}

void cuda_emulate(const Module& m, const std::vector<DLTensor*>& args, const CudaEmulateOptions& options) {
  if (!m.node()) fail("cuda_emulate: an empty module (build one with te::build(..., \"cuda\"))");
  if (m.target().kind != "cuda")
    fail("cuda_emulate: module ", m.func().name, " was built for target ", m.target().str(),
         "; the CUDA emulator runs modules built for target \"cuda\"");
  cuda_emulate_lowered(m.func(), m.target(), args, options);
}

void cuda_emulate(const Module& m, const std::vector<NDArray>& args, const CudaEmulateOptions& options) {
  std::vector<DLTensor*> tensors;
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].defined()) fail("cuda_emulate: argument ", i, " of ", m.func().name, " is an undefined NDArray");
    tensors.push_back(const_cast<DLTensor*>(args[i].dltensor()));
  }
  cuda_emulate(m, tensors, options);
}

}  // namespace te
