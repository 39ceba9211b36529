#include "ops_test_util.h"

#include <algorithm>
#include <random>

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
  return compare_arrays(out, ref.expected, 1e-4, atol);
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
