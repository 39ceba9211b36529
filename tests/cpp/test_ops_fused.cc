// The fused-epilogue operators: dense (bias, relu, gelu) and conv2d + bias + relu — the
// computes against direct loops in double, and the correctness property of the "dense_bias",
// "dense_bias_gelu" and "conv2d_bias_relu" templates: random configs of the "llvm" space give
// the reference interpreter's numbers (outputs NaN-prefilled), recorded steps replay, "cuda"
// configs compile with NVRTC (and run where a GPU exists), and the derived space works on the
// same computes. Each is one kernel: the reduction is computed inside the epilogue's tile.
#include <cmath>

#include "te/autotune/log.h"
#include "te/autotune/task.h"
#include "te/ops.h"
#include "ops_test_util.h"

namespace te::testing {
namespace {

using autotune::Instance;
using autotune::Task;

double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

// The stage of s whose op is named `name` (fails the test when there is none).
Stage stage_named(const Schedule& s, const std::string& name) {
  for (const Stage& st : s.stages())
    if (st->op->name == name) return st;
  ADD_FAILURE() << "no stage " << name;
  return Stage();
}

TEST(OpsDense, ComputeMatchesDirectLoops) {
  const int M = 5, N = 7, K = 6;
  Tensor a = placeholder({M, K}, DataType::float32(), "A");
  Tensor b = placeholder({K, N}, DataType::float32(), "B");
  Tensor bias = placeholder({N}, DataType::float32(), "bias");
  NDArray av = random_array({M, K}, DataType::float32(), 1), bv = random_array({K, N}, DataType::float32(), 2);
  NDArray biasv = random_array({N}, DataType::float32(), 3);
  for (const char* act : {"none", "relu", "gelu"}) {
    Tensor out = ops::dense(a, b, bias, act);
    ASSERT_EQ(const_shape(out), (std::vector<int64_t>{M, N}));
    NDArray got = evaluate_reference({a, b, bias}, {av, bv, biasv}, {out})[0];
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        double acc = biasv.data_as<float>()[j];
        for (int k = 0; k < K; ++k) acc += double(av.data_as<float>()[i * K + k]) * bv.data_as<float>()[k * N + j];
        const double want = std::string(act) == "relu" ? std::max(acc, 0.0) : std::string(act) == "gelu" ? gelu(acc) : acc;
        EXPECT_NEAR(got.data_as<float>()[i * N + j], want, 1e-5) << act << " " << i << "," << j;
      }
  }
}

// GELU's erf is a rational approximation (vectorizable): within 5e-7 of erf over the whole line.
TEST(OpsDense, GeluIsCloseToTheErfDefinitionEverywhere) {
  const int M = 4001;
  Tensor a = placeholder({M, 1}, DataType::float32(), "A");
  Tensor one = placeholder({1, 1}, DataType::float32(), "B");
  Tensor zero = placeholder({1}, DataType::float32(), "bias");
  Tensor out = ops::dense(a, one, zero, "gelu");
  NDArray av = NDArray::empty({M, 1}), ov = NDArray::empty({1, 1}), zv = NDArray::empty({1});
  for (int i = 0; i < M; ++i) av.data_as<float>()[i] = -10.0f + 20.0f * float(i) / float(M - 1);
  ov.data_as<float>()[0] = 1.0f;
  zv.data_as<float>()[0] = 0.0f;
  NDArray got = evaluate_reference({a, one, zero}, {av, ov, zv}, {out})[0];
  for (int i = 0; i < M; ++i) {
    const double x = av.data_as<float>()[i];
    // gelu = x (1 + erf) / 2: an erf error e is an output error |x| e / 2.
    EXPECT_NEAR(got.data_as<float>()[i], gelu(x), 5e-7 * std::max(1.0, std::abs(x)) / 2 + 1e-7) << x;
  }
}

TEST(OpsDense, ComputeChecksArguments) {
  Tensor a = placeholder({4, 5}, DataType::float32(), "A");
  Tensor b = placeholder({5, 3}, DataType::float32(), "B");
  Tensor bias = placeholder({3}, DataType::float32(), "bias");
  EXPECT_TE_ERROR(ops::dense(a, b, bias, "swish"), "swish", "gelu");
  EXPECT_TE_ERROR(ops::dense(a, placeholder({6, 3}, DataType::float32(), "W"), bias), "A", "5", "W", "6");
  EXPECT_TE_ERROR(ops::dense(a, b, placeholder({4}, DataType::float32(), "b2")), "b2", "4", "3");
  EXPECT_TE_ERROR(ops::dense(a, b, placeholder({1, 3}, DataType::float32(), "b3")), "1-D");
  ops::register_builtin_templates();
  EXPECT_TE_ERROR(autotune::create_task("dense_bias", {4, 4}, "llvm"), "dense_bias", "3 arguments");
  EXPECT_TE_ERROR(autotune::create_task("dense_bias_gelu", {4, 0, 4}, "llvm"), "dense_bias_gelu", "n");
}

TEST(OpsDense, LlvmDefaultIsOneFusedKernel) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("dense_bias_gelu", {37, 45, 23}, "llvm");
  EXPECT_EQ(task.workload_key, "dense_bias_gelu(37,45,23)");
  Instance inst = task.instantiate(task.space);
  ASSERT_EQ(inst.args.size(), 4u);  // A, B, bias, out
  EXPECT_EQ(stage_named(inst.schedule, "dense_mm")->attach_type, AttachType::kScope);
  EXPECT_TRUE(has_step(inst.schedule, "parallel"));
  EXPECT_TRUE(has_step(inst.schedule, "vectorize"));
  EXPECT_EQ(build_run_compare(inst, "llvm", 4), "");
  // The epilogue stays vector code: no per-element libm call.
  EXPECT_EQ(build(inst.schedule, inst.args, "llvm", "dense_gelu").get_source("ll").find("erf"), std::string::npos);
}

TEST(OpsDense, LlvmRandomConfigsMatchReference) {
  sweep_llvm_configs("dense_bias", {37, 45, 23}, 8, 11);
  sweep_llvm_configs("dense_bias_gelu", {19, 70, 33}, 8, 12);
  sweep_llvm_configs("dense_bias_gelu", {1, 3, 2}, 4, 13);
}

TEST(OpsDense, LlvmRecordReplaysOnTheSpaceModeCompute) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("dense_bias_gelu", {20, 40, 9}, "llvm");
  for (int64_t index : random_indices(task, 4, 5)) {
    Instance inst = task.instantiate(task.space.from_index(index));
    Instance replayed = task.replay(inst.schedule.steps());
    EXPECT_EQ(to_string(lower(replayed.schedule, replayed.args, "f")), to_string(lower(inst.schedule, inst.args, "f")));
  }
}

TEST(OpsDense, CudaConfigsCompileWithNvrtc) {
  std::string why;
  if (!nvrtc_works(why)) GTEST_SKIP() << "no CUDA code generation here: " << why;
  sweep_cuda_configs("dense_bias", {37, 45, 23}, 5, 3);
  sweep_cuda_configs("dense_bias_gelu", {19, 70, 33}, 5, 4);
}

TEST(OpsDense, DerivedSpaceWorksOnTheCompute) {
  sweep_derived_space("dense_bias_gelu", {13, 20, 9}, 4, 21);
  sweep_derived_space("dense_bias", {8, 12, 5}, 2, 22);
}

TEST(OpsConv2dBiasRelu, ComputeMatchesConvThenEpilogue) {
  const int N = 1, C = 2, H = 7, W = 6, K = 3, R = 3, S = 2;
  Tensor data = placeholder({N, C, H, W}, DataType::float32(), "data");
  Tensor weight = placeholder({K, C, R, S}, DataType::float32(), "weight");
  Tensor bias = placeholder({K}, DataType::float32(), "bias");
  Tensor conv = ops::conv2d_nchw(data, weight, 2, 1, 2);
  Tensor fused = ops::conv2d_nchw_bias_relu(data, weight, bias, 2, 1, 2);
  ASSERT_EQ(const_shape(conv), const_shape(fused));
  NDArray d = random_array({N, C, H, W}, DataType::float32(), 1), w = random_array({K, C, R, S}, DataType::float32(), 2);
  NDArray bv = random_array({K}, DataType::float32(), 3);
  NDArray plain = evaluate_reference({data, weight}, {d, w}, {conv})[0];
  NDArray got = evaluate_reference({data, weight, bias}, {d, w, bv}, {fused})[0];
  const std::vector<int64_t> shape = const_shape(conv);
  const int64_t plane = shape[2] * shape[3];
  int positive = 0;
  for (int64_t i = 0; i < K * plane; ++i) {
    const double want = std::max(0.0, double(plain.data_as<float>()[i]) + bv.data_as<float>()[i / plane]);
    positive += want > 0;
    EXPECT_NEAR(got.data_as<float>()[i], want, 1e-5) << i;
  }
  EXPECT_GT(positive, 0);
  EXPECT_LT(positive, K * plane);  // the relu clamps some outputs
  EXPECT_TE_ERROR(ops::conv2d_nchw_bias_relu(data, weight, placeholder({4}, DataType::float32(), "b4"), 1, 1), "b4",
                  "4", "3");
}

TEST(OpsConv2dBiasRelu, KeepsConv2dsKnobsAndFusesIntoTheUnpack) {
  ops::register_builtin_templates();
  const std::vector<int64_t> shape{1, 3, 13, 11, 20, 3, 3, 2, 1};
  Task plain = autotune::create_task("conv2d", shape, "llvm");
  Task fused = autotune::create_task("conv2d_bias_relu", shape, "llvm");
  EXPECT_EQ(plain.space.to_string(), fused.space.to_string());
  EXPECT_EQ(plain.space.space_size(), fused.space.space_size());
  EXPECT_EQ(plain.instantiate(plain.space).args.size(), 3u);  // conv2d's kernel arguments are unchanged
  Instance inst = fused.instantiate(fused.space);
  ASSERT_EQ(inst.args.size(), 4u);  // data, packed weight, bias, out
  // One kernel: the blocked convolution is computed at the output tile that unpacks it.
  EXPECT_EQ(stage_named(inst.schedule, "conv_blk")->attach_type, AttachType::kScope);
  EXPECT_EQ(build_run_compare(inst, "llvm", 6), "");
}

// conv2d_bias_relu shares conv2d's space, so a committed conv2d record's config instantiates it:
// the fused kernel with ResNet-18 C12's tuned config equals the tuned conv2d kernel followed by
// bias and relu (both compiled; full size).
TEST(OpsConv2dBiasRelu, Conv2dsTunedConfigsInstantiateIt) {
  ops::register_builtin_templates();
  const std::vector<int64_t> c12{1, 512, 7, 7, 512, 3, 3, 1, 1};
  Task plain = autotune::create_task("conv2d", c12, "llvm");
  const std::string log_path = std::string(TE_SOURCE_DIR) + "/tuning_logs/resnet18_conv_llvm.jsonl";
  std::optional<autotune::Record> best =
      autotune::best_record(autotune::read_log(log_path).records, plain.workload_key, "llvm");
  ASSERT_TRUE(best.has_value()) << "no C12 record in " << log_path;
  Task fused = autotune::create_task("conv2d_bias_relu", c12, "llvm");
  Instance fused_inst = fused.instantiate(fused.space.from_json(best->config_json));
  Instance plain_inst = autotune::apply_history_best(log_path, plain);
  NDArray data = random_array(const_shape(plain_inst.args[0]), DataType::float32(), 1);
  NDArray weight = random_array(const_shape(plain_inst.args[1]), DataType::float32(), 2);
  NDArray bias = random_array({c12[4]}, DataType::float32(), 3);
  NDArray conv = NDArray::empty(const_shape(plain_inst.args[2]));
  conv.fill_poison();
  build(plain_inst.schedule, plain_inst.args, "llvm", "c12")({data, weight, conv});
  NDArray expected = NDArray::empty(const_shape(plain_inst.args[2]));
  const int64_t plane = 7 * 7;
  for (int64_t i = 0; i < conv.numel(); ++i)
    expected.data_as<float>()[i] = std::max(0.0f, conv.data_as<float>()[i] + bias.data_as<float>()[i / plane]);
  NDArray got = NDArray::empty(const_shape(fused_inst.args[3]));
  got.fill_poison();
  build(fused_inst.schedule, fused_inst.args, "llvm", "c12_fused")({data, weight, bias, got});
  EXPECT_EQ(compare_arrays(got, expected), "") << best->config_json;
}

TEST(OpsConv2dBiasRelu, LlvmRandomConfigsMatchReference) {
  sweep_llvm_configs("conv2d_bias_relu", {1, 3, 13, 11, 20, 3, 3, 2, 1}, 16, 31);
  sweep_llvm_configs("conv2d_bias_relu", {2, 4, 6, 8, 5, 1, 1, 1, 0}, 6, 32);
}

TEST(OpsConv2dBiasRelu, CudaConfigsCompileWithNvrtc) {
  std::string why;
  if (!nvrtc_works(why)) GTEST_SKIP() << "no CUDA code generation here: " << why;
  sweep_cuda_configs("conv2d_bias_relu", {1, 3, 13, 11, 4, 3, 3, 2, 1}, 5, 3);
}

TEST(OpsConv2dBiasRelu, DerivedSpaceWorksOnTheCompute) {
  sweep_derived_space("conv2d_bias_relu", {1, 3, 7, 6, 4, 3, 3, 1, 1}, 3, 41);
}

}  // namespace
}  // namespace te::testing
