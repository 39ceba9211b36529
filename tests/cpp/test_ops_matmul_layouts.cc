// matmul's transposed layouts (NT, TN, TT: A stored [k, m], B stored [n, k]) and dense with a
// PyTorch Linear weight ([n, k]): the computes against direct loops, the registry's optional
// layout arguments (NN keeps the 3-argument workload key), random configs of the "llvm"
// templates against direct loops (outputs NaN-prefilled), and "cuda" configs compiled by NVRTC.
#include <cmath>
#include <map>
#include <optional>

#include "te/autotune/task.h"
#include "te/ops.h"
#include "ops_test_util.h"

namespace te::testing {
namespace {

using autotune::Config;
using autotune::Instance;
using autotune::Task;

std::string layout_name(bool ta, bool tb) { return std::string(ta ? "T" : "N") + (tb ? "T" : "N"); }

// C[i, j] = sum_k A[i, k] * B[k, j] (+ bias[j]) by direct loops, A read as [k, m] when trans_a
// and B as [n, k] when trans_b, in double and rounded once.
NDArray direct_matmul(const NDArray& a, const NDArray& b, bool trans_a, bool trans_b, const NDArray* bias = nullptr) {
  const int64_t m = a.shape()[trans_a ? 1 : 0], k = a.shape()[trans_a ? 0 : 1];
  const int64_t n = b.shape()[trans_b ? 0 : 1];
  NDArray c = NDArray::empty({m, n});
  const float* pa = a.data_as<float>();
  const float* pb = b.data_as<float>();
  float* pc = c.data_as<float>();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = bias ? double(bias->data_as<float>()[j]) : 0.0;
      for (int64_t kk = 0; kk < k; ++kk) {
        const float x = trans_a ? pa[kk * m + i] : pa[i * k + kk];
        const float y = trans_b ? pb[j * k + kk] : pb[kk * n + j];
        acc += double(x) * double(y);
      }
      pc[i * n + j] = float(acc);
    }
  return c;
}

// Random inputs for the instance's arguments but the last and the direct loops' output.
Reference direct_reference(const Instance& inst, bool trans_a, bool trans_b, uint64_t seed) {
  Reference ref;
  for (size_t i = 0; i + 1 < inst.args.size(); ++i)
    ref.inputs.push_back(random_array(const_shape(inst.args[i]), inst.args[i].dtype(), seed + i));
  ref.expected = direct_matmul(ref.inputs[0], ref.inputs[1], trans_a, trans_b,
                               ref.inputs.size() > 2 ? &ref.inputs[2] : nullptr);
  return ref;
}

// Random llvm configs of task (and the default) against the direct loops; every CPU config must
// be legal.
void sweep_llvm_direct(const Task& task, bool ta, bool tb, int count, uint64_t seed) {
  std::vector<int64_t> indices = random_indices(task, count, seed);
  indices.insert(indices.begin(), 0);  // the default
  sweep_llvm_against(task, direct_reference(task.default_instance(), ta, tb, 7), indices);
}

// The default and random cuda configs generate CUDA C that NVRTC compiles (those over a CUDA
// limit must be te::Errors naming it); at least min_compiled compile.
void compile_cuda_configs(const Task& task, int count, uint64_t seed, int min_compiled) {
  std::vector<int64_t> indices = random_indices(task, count, seed);
  indices.insert(indices.begin(), 0);
  int compiled = 0;
  for (int64_t index : indices) {
    Config cfg = task.space.from_index(index);
    Instance inst;
    if (!instantiate_within_cuda_limits(task, cfg, inst)) continue;
    Module m = build(inst.schedule, inst.args, "cuda", "layout_cfg");
    EXPECT_NE(m.get_source("ptx").find(".entry layout_cfg_kernel("), std::string::npos) << cfg.to_string();
    ++compiled;
  }
  EXPECT_GE(compiled, min_compiled) << task.workload_key;
}

// ---------------------------------------------------------------- matmul NT / TN / TT

TEST(OpsMatmulLayouts, ComputeMatchesDirectLoopsInEveryLayout) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Tensor a = placeholder(ta ? std::vector<Expr>{4, 5} : std::vector<Expr>{5, 4}, DataType::float32(), "A");
      Tensor b = placeholder(tb ? std::vector<Expr>{7, 4} : std::vector<Expr>{4, 7}, DataType::float32(), "B");
      Tensor c = ops::matmul(a, b, ta, tb);
      EXPECT_EQ(const_shape(c), (std::vector<int64_t>{5, 7})) << layout_name(ta, tb);
      Instance inst{create_schedule({c.op()}), {a, b, c}};
      const Reference ref = direct_reference(inst, ta, tb, 3);
      EXPECT_EQ(compare_arrays(evaluate_reference({a, b}, ref.inputs, {c})[0], ref.expected), "") << layout_name(ta, tb);
      EXPECT_EQ(build_run_compare(inst, "llvm", ref), "") << layout_name(ta, tb);
    }
  // The NN overload is the 2-argument one.
  Tensor a = placeholder({5, 4}, DataType::float32(), "A"), b = placeholder({4, 7}, DataType::float32(), "B");
  EXPECT_EQ(const_shape(ops::matmul(a, b, "C")), (std::vector<int64_t>{5, 7}));
}

TEST(OpsMatmulLayouts, ComputeChecksTheReductionInTheGivenLayout) {
  Tensor a = placeholder({5, 4}, DataType::float32(), "A");
  Tensor b = placeholder({7, 4}, DataType::float32(), "B");
  EXPECT_NO_THROW(ops::matmul(a, b, false, true));
  EXPECT_TE_ERROR(ops::matmul(a, b, false, false), "reduction sizes differ", "A has 4 columns", "B has 7 rows");
  EXPECT_TE_ERROR(ops::matmul(a, b, true, true), "A has 5 rows (trans_a=1)", "B has 4 columns (trans_b=1)");
}

TEST(OpsMatmulLayouts, RegistryKeepsTheNNKeyAndParsesTheFlags) {
  const ops::OpInfo& mm = ops::find_op("matmul");
  EXPECT_EQ(mm.arg_names, (std::vector<std::string>{"m", "n", "k", "trans_a", "trans_b"}));
  EXPECT_EQ(mm.required_args, 3u);
  EXPECT_EQ(ops::parse_shape(mm, "m=128,n=768,k=768"), (std::vector<int64_t>{128, 768, 768}));
  EXPECT_EQ(ops::parse_shape(mm, "m=128,trans_a=0,trans_b=0"), (std::vector<int64_t>{128, 1024, 1024}));
  EXPECT_EQ(ops::parse_shape(mm, "m=128,n=768,k=64,trans_b=1"), (std::vector<int64_t>{128, 768, 64, 0, 1}));
  EXPECT_EQ(autotune::create_task("matmul", {128, 768, 768}, "llvm").workload_key, "matmul(128,768,768)");
  EXPECT_EQ(autotune::create_task("matmul", {8, 6, 4, 1, 0}, "llvm").workload_key, "matmul(8,6,4,1,0)");
  ops::register_builtin_templates();
  EXPECT_TE_ERROR(autotune::create_task("matmul", {8, 6, 4, 1}, "llvm"), "3 arguments", "or 5");
  EXPECT_TE_ERROR(autotune::create_task("matmul", {8, 6, 4, 2, 0}, "llvm"), "trans_a = 2", "0 or 1");
}

TEST(OpsMatmulLayouts, LlvmRandomConfigsMatchDirectLoopsInEveryLayout) {
  ops::register_builtin_templates();
  for (int64_t ta : {0, 1})
    for (int64_t tb : {0, 1}) {
      Task task = autotune::create_task("matmul", {37, 45, 23, ta, tb}, "llvm");
      sweep_llvm_direct(task, ta, tb, 8, 20261206 + ta * 2 + tb);
    }
}

TEST(OpsMatmulLayouts, CudaConfigsCompileWithNvrtc) {
  std::string why;
  if (!nvrtc_works(why)) GTEST_SKIP() << "no CUDA code generation here: " << why;
  ops::register_builtin_templates();
  for (int64_t ta : {0, 1})
    for (int64_t tb : {0, 1})
      if (ta || tb) compile_cuda_configs(autotune::create_task("matmul", {67, 45, 23, ta, tb}, "cuda"), 4, 31 + ta, 2);
}


// ---------------------------------------------------------------- dense with a Linear weight

TEST(OpsLinear, ComputeMatchesDirectLoopsAndChecksShapes) {
  Tensor a = placeholder({5, 4}, DataType::float32(), "A");
  Tensor w = placeholder({7, 4}, DataType::float32(), "W");
  Tensor bias = placeholder({7}, DataType::float32(), "bias");
  Tensor out = ops::linear(a, w, bias);
  EXPECT_EQ(const_shape(out), (std::vector<int64_t>{5, 7}));
  Instance inst{create_schedule({out.op()}), {a, w, bias, out}};
  const Reference ref = direct_reference(inst, false, true, 5);
  EXPECT_EQ(build_run_compare(inst, "llvm", ref), "");
  EXPECT_TE_ERROR(ops::linear(a, placeholder({4, 7}, DataType::float32(), "W2"), bias), "linear", "W2 has 7 columns",
                  "[n, k]");
  EXPECT_TE_ERROR(ops::linear(a, w, placeholder({4}, DataType::float32(), "b4")), "b4 has 4 elements", "7 outputs");
  EXPECT_TE_ERROR(ops::linear(a, w, bias, "tanh"), "unknown activation 'tanh'");
}

TEST(OpsLinear, DenseTemplatesKeepTheirKeysAndTakeTransB) {
  ops::register_builtin_templates();
  for (const char* op : {"dense_bias", "dense_bias_gelu"}) {
    const ops::OpInfo& info = ops::find_op(op);
    EXPECT_EQ(info.arg_names, (std::vector<std::string>{"m", "n", "k", "trans_b"})) << op;
    EXPECT_EQ(ops::parse_shape(info, "m=128,n=768,k=768").size(), 3u) << op;
    EXPECT_EQ(ops::parse_shape(info, "m=128,n=768,k=768,trans_b=1"), (std::vector<int64_t>{128, 768, 768, 1})) << op;
    EXPECT_TE_ERROR(autotune::create_task(op, {8, 6, 4, 3}, "llvm"), "trans_b = 3", "0 or 1");
  }
}

TEST(OpsLinear, LlvmRandomConfigsMatchDirectLoops) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("dense_bias", {37, 45, 23, 1}, "llvm");
  EXPECT_EQ(task.workload_key, "dense_bias(37,45,23,1)");
  sweep_llvm_direct(task, false, true, 8, 424242);
  // The GELU epilogue on the same layout, against the reference interpreter.
  sweep_llvm_configs("dense_bias_gelu", {19, 40, 33, 1}, 4, 77);
}

TEST(OpsLinear, CudaConfigsCompileWithNvrtc) {
  std::string why;
  if (!nvrtc_works(why)) GTEST_SKIP() << "no CUDA code generation here: " << why;
  ops::register_builtin_templates();
  compile_cuda_configs(autotune::create_task("dense_bias", {67, 45, 23, 1}, "cuda"), 4, 5, 2);
  compile_cuda_configs(autotune::create_task("dense_bias_gelu", {67, 45, 23, 1}, "cuda"), 2, 6, 1);
}

// 64-column tiles over 32-column panels are split into whole panels (split_panel_tile) in every
// GEMM template: with and without the cache, against the reference interpreter.
TEST(OpsGemmTemplates, WideTilesOverTwoPanelsMatchReference) {
  ops::register_builtin_templates();
  const std::vector<std::pair<std::string, std::vector<int64_t>>> tasks = {
      {"batch_matmul", {2, 19, 130, 21, 0, 1}}, {"dense_bias", {19, 130, 21}}, {"dense_bias_gelu", {19, 130, 21, 1}}};
  for (const auto& [op, args] : tasks) {
    Task task = autotune::create_task(op, args, "llvm");
    const Reference ref = make_reference(task.default_instance(), 9);
    for (const char* cache : {"", "\"cache_write\":1"}) {
      std::string json = task.space.from_index(0).to_json();
      const std::string wide = "\"tile_j\":2";
      json.replace(json.find("\"tile_j\":0"), wide.size(), wide);
      if (*cache) {
        if (json.find("\"cache_write\":0") == std::string::npos) continue;  // dense: no cache knob
        json.replace(json.find("\"cache_write\":0"), std::string(cache).size(), cache);
      }
      Instance inst = task.instantiate(task.space.from_json(json));
      EXPECT_TRUE(has_step(inst.schedule, "split")) << op;
      EXPECT_EQ(build_run_compare(inst, "llvm", ref), "") << op << " " << json << "\n" << inst.schedule.steps_python();
    }
  }
}

// The config of task whose every named knob has the given value (a split knob: its innermost
// size), the other knobs at choice 0; fails the test when a value is not a choice.
Config config_with(const Task& task, const std::map<std::string, int64_t>& values) {
  std::vector<int64_t> choices;
  for (const autotune::Knob& knob : task.space.knobs()) {
    auto wanted = values.find(knob.name);
    int64_t choice = 0;
    if (wanted != values.end()) {
      choice = -1;
      for (size_t i = 0; i < knob.choices.size() && choice < 0; ++i)
        if (knob.choices[i].back() == wanted->second) choice = int64_t(i);
      EXPECT_GE(choice, 0) << task.workload_key << ": " << knob.name << " has no choice " << wanted->second;
      choice = std::max<int64_t>(choice, 0);
    }
    choices.push_back(choice);
  }
  return task.space.with_choices(choices);
}

// The shared CPU schedule (gemm_llvm.cc) gives every GEMM template the same choices: pack_b = 2
// (B packed block by block where it is used) in every order, with and without the write cache
// (dense: always its epilogue tile's accumulator), 6-row and 64-column tiles, k blocks of 128,
// 32 and 512 — against the reference interpreter, outputs NaN-prefilled, on shapes no tile
// divides.
TEST(OpsGemmTemplates, BlockedPackingInEveryTemplateMatchesReference) {
  ops::register_builtin_templates();
  const std::vector<std::pair<std::string, std::vector<int64_t>>> tasks = {
      {"matmul", {27, 70, 300, 0, 1}},
      {"batch_matmul", {2, 13, 70, 300, 1, 1}},
      {"dense_bias", {13, 70, 300, 1}},
      {"dense_bias_gelu", {13, 70, 300}}};
  for (const auto& [op, args] : tasks) {
    Task task = autotune::create_task(op, args, "llvm");
    const Reference ref = make_reference(task.default_instance(), 21);
    const bool has_cache_knob = task.space.to_json().find("cache_write") != std::string::npos;
    EXPECT_EQ(has_cache_knob, op.rfind("dense", 0) != 0) << op;
    int checked = 0;
    for (int64_t cache : {1, 0}) {
      if (!cache && !has_cache_knob) continue;
      for (int64_t order : {0, 1, 2}) {
        // Each order gets a different tile and k block per path (k 512 is clamped to 300).
        const int t = int(order + cache) % 3;
        std::map<std::string, int64_t> values{{"pack_b", 2},
                                              {"order", order},
                                              {"tile_i", t == 0 ? 6 : 4},
                                              {"tile_j", t == 1 ? 32 : 64},
                                              {"tile_k", std::vector<int64_t>{128, 32, 300}[size_t(t)]},
                                              {"unroll_i", t == 0 ? 0 : 1},
                                              {"parallel", t == 2 ? 0 : 1}};
        if (has_cache_knob) values["cache_write"] = cache;
        Config cfg = config_with(task, values);
        Instance inst = task.instantiate(cfg);
        EXPECT_EQ(build_run_compare(inst, "llvm", ref), "")
            << op << " " << cfg.to_string() << "\n" << inst.schedule.steps_python();
        ++checked;
      }
    }
    EXPECT_EQ(checked, has_cache_knob ? 6 : 3) << op;
  }
}

}  // namespace
}  // namespace te::testing
