#include "ops_test_util.h"

#include <algorithm>
#include <optional>
#include <random>

#include "te/ops.h"

namespace te::testing {

Reference make_reference(const autotune::Instance& inst, uint64_t seed) {
  Reference ref;
  std::vector<Tensor> inputs(inst.args.begin(), inst.args.end() - 1);
  for (size_t i = 0; i < inputs.size(); ++i)
    ref.inputs.push_back(random_array(const_shape(inputs[i]), inputs[i].dtype(), seed + i));
  ref.expected = evaluate_reference(inputs, ref.inputs, {inst.args.back()})[0];
  return ref;
}

std::string build_run_compare(const autotune::Instance& inst, const std::string& target, const Reference& ref,
                              double atol) {
  Module m = build(inst.schedule, inst.args, target, "ops_kernel");
  NDArray out = NDArray::empty(const_shape(inst.args.back()), inst.args.back().dtype());
  out.fill_poison();
  std::vector<NDArray> arrays = ref.inputs;
  arrays.push_back(out);
  m(arrays);
  // float16 outputs: the kernel's float32 sums may round to the neighbouring float16.
  if (out.dtype() == DataType::float16()) return compare_half_arrays(out, ref.expected, 1);
  return compare_arrays(out, ref.expected, 1e-4, atol);
}

void check_nontemporal_knob(const std::string& op, const std::vector<int64_t>& args, bool offered, double atol) {
  autotune::Task task = autotune::create_task(op, args, "llvm");
  const std::vector<autotune::Knob>& knobs = task.space.knobs();
  size_t at = knobs.size();
  for (size_t i = 0; i < knobs.size(); ++i)
    if (knobs[i].name == "nontemporal") at = i;
  ASSERT_LT(at, knobs.size()) << task.workload_key << " has no nontemporal knob";
  if (!offered) {
    EXPECT_EQ(knobs[at].choices.size(), 1u) << task.workload_key;
    EXPECT_EQ(knobs[at].choices[0], std::vector<int64_t>{0}) << task.workload_key;
    return;
  }
  ASSERT_EQ(knobs[at].choices.size(), 2u) << task.workload_key;
  const Reference ref = make_reference(task.default_instance(), 5);
  for (size_t choice = 0; choice < 2; ++choice) {
    std::vector<int64_t> choices(knobs.size(), 0);
    choices[at] = int64_t(choice);
    autotune::Instance inst = task.instantiate(task.space.with_choices(choices));
    const bool streaming = knobs[at].choices[choice][0] == 1;
    EXPECT_EQ(build_run_compare(inst, "llvm", ref, atol), "") << task.workload_key << " nontemporal " << streaming;
#if defined(__x86_64__)
    const std::string asm_text = build(inst.schedule, inst.args, "llvm", "nt").get_source("asm");
    EXPECT_EQ(asm_text.find("vmovntps") != std::string::npos, streaming) << task.workload_key;
    EXPECT_EQ(asm_text.find("sfence") != std::string::npos, streaming) << task.workload_key;
#endif
  }
}

std::string emulate_compare(const autotune::Instance& inst, const Reference& ref, double atol) {
  Module m = build(inst.schedule, inst.args, "cuda", "emulated");
  NDArray out = NDArray::empty(const_shape(inst.args.back()), inst.args.back().dtype());
  out.fill_poison();
  std::vector<NDArray> arrays = ref.inputs;
  arrays.push_back(out);
  try {
    cuda_emulate(m, arrays);
  } catch (const Error& e) {
    return std::string("CUDA emulator: ") + e.what();
  }
  std::string diff = compare_arrays(out, ref.expected, 1e-4, atol);
  return diff.empty() ? diff : "CUDA emulator: " + diff;
}

std::string build_run_compare(const autotune::Instance& inst, const std::string& target, uint64_t seed) {
  return build_run_compare(inst, target, make_reference(inst, seed));
}

std::vector<int64_t> random_indices(const autotune::Task& task, int count, uint64_t seed) {
  const int64_t size = task.space.space_size();
  std::vector<int64_t> picked;
  if (size <= count) {
    for (int64_t i = 0; i < size; ++i) picked.push_back(i);
    return picked;
  }
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> dist(0, size - 1);
  while (int(picked.size()) < count) {
    int64_t i = dist(rng);
    if (std::find(picked.begin(), picked.end(), i) == picked.end()) picked.push_back(i);
  }
  return picked;
}

int sweep_llvm_against(const autotune::Task& task, const Reference& ref, const std::vector<int64_t>& indices,
                       double atol) {
  int ran = 0;
  for (int64_t index : indices) {
    autotune::Config cfg = task.space.from_index(index);
    try {
      autotune::Instance inst = task.instantiate(cfg);
      EXPECT_EQ(build_run_compare(inst, "llvm", ref, atol), "")
          << task.workload_key << " config " << cfg.to_string() << "\n" << inst.schedule.steps_python();
      ++ran;
    } catch (const std::exception& e) {
      ADD_FAILURE() << task.workload_key << " config " << cfg.to_string() << " threw: " << e.what();
    }
  }
  return ran;
}

bool instantiate_within_cuda_limits(const autotune::Task& task, const autotune::Config& cfg,
                                    autotune::Instance& inst) {
  try {
    inst = task.instantiate(cfg);
    return true;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("limit"), std::string::npos)
        << task.workload_key << " " << cfg.to_string() << ": " << e.what();
    return false;
  }
}

bool run_cuda_if_device(const autotune::Instance& inst, const Reference& ref, double atol) {
  std::string diff;
  try {
    diff = build_run_compare(inst, "cuda", ref, atol);
  } catch (const Error& e) {
    if (std::string(e.what()).find("no CUDA device") != std::string::npos) return false;
    ADD_FAILURE() << e.what() << "\n" << inst.schedule.steps_python();
    return false;
  }
  EXPECT_EQ(diff, "") << inst.schedule.steps_python();
  return true;
}

bool has_step(const Schedule& s, const std::string& primitive) {
  for (const Step& step : s.steps())
    if (step.primitive == primitive) return true;
  return false;
}

bool nvrtc_works(std::string& why) {
  try {
    Tensor a = placeholder({4}, DataType::float32(), "a");
    Tensor b = compute({4}, [&](const std::vector<Var>& i) { return a(i[0]) + 1; }, "b");
    Schedule s = create_schedule({b.op()});
    s[b].bind(b.op().as<ComputeOpNode>()->axis[0], thread_axis("threadIdx.x"));
    build(s, {a, b}, "cuda", "probe").get_source("ptx");
    return true;
  } catch (const Error& e) {
    why = e.what();
    return false;
  }
}

}  // namespace te::testing

namespace te::testing {
namespace {

// Runs inst in the CUDA emulator and on a GPU, comparing both with the reference (computed on
// first use); false (and no failure) when there is no GPU here.
bool run_on_gpu_if_present(const autotune::Instance& inst, std::optional<Reference>& reference) {
  if (!reference) reference = make_reference(inst, 5);
  EXPECT_EQ(emulate_compare(inst, *reference), "") << inst.schedule.steps_python();
  return run_cuda_if_device(inst, *reference);
}

}  // namespace

void sweep_llvm_configs(const std::string& op, const std::vector<int64_t>& args, int count, uint64_t seed,
                        double atol) {
  ops::register_builtin_templates();
  autotune::Task task = autotune::create_task(op, args, "llvm");
  std::vector<int64_t> indices = random_indices(task, count, seed);
  if (std::find(indices.begin(), indices.end(), 0) == indices.end()) indices.insert(indices.begin(), 0);
  sweep_llvm_against(task, make_reference(task.default_instance(), seed), indices, atol);
}

void sweep_cuda_configs(const std::string& op, const std::vector<int64_t>& args, int count, uint64_t seed,
                        int min_compiled, const std::string& required_source) {
  ops::register_builtin_templates();
  autotune::Task task = autotune::create_task(op, args, "cuda");
  std::vector<int64_t> indices = random_indices(task, count, seed);
  if (std::find(indices.begin(), indices.end(), 0) == indices.end()) indices.insert(indices.begin(), 0);
  int compiled = 0;
  std::optional<Reference> reference;
  for (int64_t index : indices) {
    autotune::Config cfg = task.space.from_index(index);
    autotune::Instance inst;
    if (!instantiate_within_cuda_limits(task, cfg, inst)) continue;
    Module m = build(inst.schedule, inst.args, "cuda", "op_cfg");
    EXPECT_NE(m.get_source("ptx").find(".entry op_cfg_kernel("), std::string::npos)
        << task.workload_key << " " << cfg.to_string();
    if (!required_source.empty())
      EXPECT_NE(m.get_source("cuda").find(required_source), std::string::npos)
          << task.workload_key << " " << cfg.to_string() << ": no " << required_source;
    ++compiled;
    run_on_gpu_if_present(inst, reference);
  }
  EXPECT_GE(compiled, min_compiled) << task.workload_key;
}

void sweep_derived_space(const std::string& op, const std::vector<int64_t>& args, int count, uint64_t seed,
                         bool cuda_too) {
  ops::register_builtin_templates();
  autotune::Task task = autotune::create_task(op, args, "llvm");
  const std::vector<Tensor> compute_args = task.default_instance().args;
  autotune::Task derived = autotune::auto_task(compute_args, "llvm");
  const Reference ref = make_reference(derived.default_instance(), seed);
  int ran = 0;
  for (int64_t index : random_indices(derived, count, seed)) {
    autotune::Config cfg = derived.space.from_index(index);
    try {
      autotune::Instance inst = derived.instantiate(cfg);
      EXPECT_EQ(build_run_compare(inst, "llvm", ref), "") << op << " derived config " << cfg.to_string();
      ++ran;
    } catch (const Error& e) {
      // The derived space may reject a config (the search skips it); it must say why.
      EXPECT_NE(std::string(e.what()), "") << cfg.to_string();
    }
  }
  EXPECT_GE(ran, 1) << op << ": no derived llvm config ran";
  std::string why;
  if (!cuda_too || !nvrtc_works(why)) return;
  autotune::Task gpu = autotune::auto_task(autotune::create_task(op, args, "cuda").default_instance().args, "cuda");
  int compiled = 0;
  std::optional<Reference> gpu_ref;
  for (int64_t index : random_indices(gpu, count, seed + 1)) {
    autotune::Config cfg = gpu.space.from_index(index);
    try {
      autotune::Instance inst = gpu.instantiate(cfg);
      build(inst.schedule, inst.args, "cuda", "derived").get_source("ptx");
      ++compiled;
      if (!gpu_ref) gpu_ref = make_reference(inst, seed);
      EXPECT_EQ(emulate_compare(inst, *gpu_ref), "") << op << " derived cuda config " << cfg.to_string();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()), "") << cfg.to_string();
    }
  }
  EXPECT_GE(compiled, 1) << op << ": no derived cuda config compiled";
}

}  // namespace te::testing
