// float16 GEMM with float32 accumulation: te::ops::matmul on float16 inputs (its stages and
// out_dtype), and the "matmul_fp16" cuda template — random configs of its space lowered and run
// through the IR interpreter (thread loops serially: exact for these kernels, each thread loop
// nest covers what its threads do between barriers) against the reference interpreter and an
// independent double-precision loop over the same float16 inputs, the CUDA C compiled with NVRTC
// for sm_90, and run on a GPU where there is one.
#include <cmath>
#include <optional>

#include "ir/half.h"
#include "ir/interpreter.h"
#include "te/autotune/task.h"
#include "te/ops.h"
#include "ops_test_util.h"

namespace te::testing {
namespace {

using autotune::Config;
using autotune::Instance;
using autotune::Task;

TEST(OpsMatmulFp16, ComputeAccumulatesInFloat32) {
  Tensor a = placeholder({5, 7}, DataType::float16(), "A");
  Tensor b = placeholder({7, 3}, DataType::float16(), "B");
  Tensor c = ops::matmul(a, b);
  EXPECT_EQ(c.dtype(), DataType::float16());
  ASSERT_EQ(c.op()->input_tensors().size(), 1u);
  Tensor acc = c.op()->input_tensors()[0];
  EXPECT_EQ(acc.name(), "C_acc");
  EXPECT_EQ(acc.dtype(), DataType::float32());
  Tensor c32 = ops::matmul(a, b, "D", "float32");
  EXPECT_EQ(c32.dtype(), DataType::float32());
  EXPECT_EQ(c32.name(), "D");
  EXPECT_EQ(ops::matmul(a, b, "E", "float16").dtype(), DataType::float16());

  // A sum whose float16 partial sums would lose it: 2048 + 1 + 1 + ... stays exact in float32.
  // Through the reference evaluator: k = 7 products of 1 x {2048, 1, 1, 1, 1, 1, 1}.
  NDArray av = NDArray::empty({5, 7}, DataType::float16()), bv = NDArray::empty({7, 3}, DataType::float16());
  for (int64_t i = 0; i < 35; ++i) detail::store_half(av.data(), i, 1.0);
  for (int64_t i = 0; i < 21; ++i) detail::store_half(bv.data(), i, i < 3 ? 2048.0 : 1.0);
  NDArray got32 = evaluate_reference({a, b}, {av, bv}, {c32})[0];
  EXPECT_EQ(got32.data_as<float>()[0], 2054.0f);  // float16 accumulation would give 2048
  NDArray got16 = evaluate_reference({a, b}, {av, bv}, {c})[0];
  EXPECT_EQ(detail::load_half(got16.data(), 0), 2054.0);  // 2054 is a float16 (ulp 2 above 2048)
}

TEST(OpsMatmulFp16, ComputeErrors) {
  Tensor a16 = placeholder({4, 5}, DataType::float16(), "A");
  Tensor b32 = placeholder({5, 3}, DataType::float32(), "B");
  Tensor a32 = placeholder({4, 5}, DataType::float32(), "A");
  Tensor b16 = placeholder({5, 3}, DataType::float16(), "B");
  EXPECT_TE_ERROR(ops::matmul(a16, b32), "A", "float16", "B", "float32", "same dtype");
  EXPECT_TE_ERROR(ops::matmul(a32, b32, "C", "float16"), "out_dtype", "float16", "float32 inputs");
  EXPECT_TE_ERROR(ops::matmul(a16, b16, "C", "int32"), "out_dtype", "int32", "float16 or float32");
  EXPECT_TE_ERROR(ops::matmul(a16, b16, "C", "half"), "half");
}

TEST(OpsMatmulFp16, TemplateIsCudaOnlyWithItsOwnWorkloadKey) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("matmul_fp16", {64, 32, 16}, "cuda");
  EXPECT_EQ(task.workload_key, "matmul_fp16(64,32,16)");
  EXPECT_NE(task.workload_key, autotune::create_task("matmul", {64, 32, 16}, "cuda").workload_key);
  EXPECT_DOUBLE_EQ(task.flop, 2.0 * 64 * 32 * 16);
  // Whole 16 x 16 x 16 tiles: the tensor-core knobs; otherwise matmul's (the same space).
  std::vector<std::string> knobs;
  for (const autotune::Knob& knob : task.space.knobs()) knobs.push_back(knob.name);
  EXPECT_EQ(knobs, (std::vector<std::string>{"wmma_i", "wmma_j", "wmma_k", "stages", "pad_shared"}));
  EXPECT_EQ(autotune::create_task("matmul_fp16", {67, 45, 23}, "cuda").space.space_size(),
            autotune::create_task("matmul", {67, 45, 23}, "cuda").space.space_size());
  Instance inst = task.default_instance();
  EXPECT_EQ(inst.args[0].dtype(), DataType::float16());
  EXPECT_EQ(inst.args[2].dtype(), DataType::float16());
  EXPECT_TE_ERROR(autotune::create_task("matmul_fp16", {64, 32, 16}, "llvm"), "matmul_fp16", "cuda");
  EXPECT_TE_ERROR(autotune::create_task("matmul_fp16", {64, 0, 16}, "cuda"), "matmul_fp16", "n");
  const ops::OpInfo& op = ops::find_op("matmul_fp16");
  EXPECT_EQ(op.targets, (std::vector<std::string>{"cuda"}));
  EXPECT_EQ(op.arg_names, (std::vector<std::string>{"m", "n", "k"}));
}

// The lowered cuda function of inst run in the IR interpreter on `inputs` (float16 buffers
// included); returns the output, prefilled with NaN.
NDArray interpret_cuda(const Instance& inst, const std::vector<NDArray>& inputs) {
  LowerOptions options;
  options.target = Target::parse("cuda");
  LoweredFunc f = lower(inst.schedule, inst.args, "mm_fp16", options);
  NDArray out = NDArray::empty(const_shape(inst.args.back()), inst.args.back().dtype());
  out.fill_poison();
  std::vector<NDArray> arrays = inputs;
  arrays.push_back(out);
  Interpreter interp;
  for (size_t i = 0; i < f.args.size(); ++i)
    interp.bind_buffer(f.args[i].data, InterpBuffer{arrays[i].data(), arrays[i].dtype(), arrays[i].numel()});
  interp.run(f.body);
  return out;
}

// C = float16(sum_k A * B) in double from the float16 inputs: an oracle independent of te.
// Within 1 float16 ulp plus the float32 accumulation error (k * 2^-24 * sum |a b|).
std::string check_against_double_loop(const NDArray& a, const NDArray& b, const NDArray& c, int64_t m, int64_t n,
                                      int64_t k) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0, mag = 0;
      for (int64_t r = 0; r < k; ++r) {
        double p = detail::load_half(a.data(), i * k + r) * detail::load_half(b.data(), r * n + j);
        sum += p;
        mag += std::fabs(p);
      }
      double got = detail::load_half(c.data(), i * n + j);
      double ulp = std::ldexp(1.0, std::max(std::ilogb(std::max(std::fabs(sum), 1e-30)), -14) - 10);
      double tol = ulp + double(k) * std::ldexp(mag, -24);
      if (!(std::fabs(got - sum) <= tol))
        return "C[" + std::to_string(i) + ", " + std::to_string(j) + "] = " + std::to_string(got) + ", exact " +
               std::to_string(sum);
    }
  return "";
}

// The default config and `count` random ones of matmul_fp16(m, n, k) on cuda: those within the
// limits (the others are te::Errors naming a limit) match both references in the interpreter
// (thread tiles; tensor-core configs where m, n, k are multiples of 16 skip it) and in the CUDA
// emulator, compile with NVRTC (when it works here) to sm_90 PTX with __half and a float32 accumulator,
// and run against the reference on a GPU where there is one.
void sweep_fp16(int64_t m, int64_t n, int64_t k, int count, uint64_t seed) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("matmul_fp16", {m, n, k}, "cuda");
  std::string why;
  const bool nvrtc = nvrtc_works(why);
  const Reference ref = make_reference(task.default_instance(), seed);
  ASSERT_EQ(ref.inputs[0].dtype(), DataType::float16());
  EXPECT_EQ(check_against_double_loop(ref.inputs[0], ref.inputs[1], ref.expected, m, n, k), "");
  std::vector<int64_t> indices = random_indices(task, count, seed);
  if (std::find(indices.begin(), indices.end(), 0) == indices.end()) indices.insert(indices.begin(), 0);
  int checked = 0;
  for (int64_t index : indices) {
    Config cfg = task.space.from_index(index);
    Instance inst;
    if (!instantiate_within_cuda_limits(task, cfg, inst)) continue;
    // The sequential interpreter runs each thread's loop nest to completion in turn, which a
    // double-buffered copy (each thread stages its share of the next block in its own registers)
    // does not survive: those configs are checked in the emulator only.
    // Tensor-core (wmma) operations are warp-wide: the emulator runs them, the interpreter cannot.
    bool staged = false, wmma = false;
    for (const Stage& stage : inst.schedule.stages()) {
      staged = staged || stage->double_buffer;
      wmma = wmma || is_wmma_scope(stage->scope);
    }
    EXPECT_EQ(wmma, m % 16 == 0 && n % 16 == 0 && k % 16 == 0) << cfg.to_string();
    if (!staged && !wmma) {
      NDArray out = interpret_cuda(inst, ref.inputs);
      EXPECT_EQ(compare_half_arrays(out, ref.expected, 1), "")
          << cfg.to_string() << "\n" << inst.schedule.steps_python();
      EXPECT_EQ(check_against_double_loop(ref.inputs[0], ref.inputs[1], out, m, n, k), "") << cfg.to_string();
    }
    // The CUDA emulator too: the threads of a block in lockstep at barriers, races and bounds
    // checked, float16 stored rounded as a __half store does.
    NDArray emulated = NDArray::empty(const_shape(inst.args.back()), DataType::float16());
    emulated.fill_poison();
    std::vector<NDArray> arrays = ref.inputs;
    arrays.push_back(emulated);
    cuda_emulate(build(inst.schedule, inst.args, "cuda", "hgemm_emulated"), arrays);
    EXPECT_EQ(compare_half_arrays(emulated, ref.expected, 1), "") << "emulated " << cfg.to_string();
    ++checked;
    if (!nvrtc) continue;
    Module mod = build(inst.schedule, inst.args, "cuda", "hgemm_cfg");
    std::string cu = mod.get_source("cuda");
    if (wmma) {
      for (const char* part : {"#include <mma.h>", "const __half* __restrict__ A", "__half* __restrict__ C",
                               "nvcuda::wmma::mma_sync(", "nvcuda::wmma::load_matrix_sync(", "__floats2half2_rn(te_slot"})
        EXPECT_TRUE(contains(cu, part)) << cfg.to_string() << ": missing '" << part << "' in\n" << cu;
      EXPECT_TRUE(contains(mod.get_source("ptx"), "wmma.mma.sync")) << cfg.to_string();
      run_cuda_if_device(inst, ref);
      continue;
    }
    for (const char* part : {"#include <cuda_fp16.h>", "const __half* __restrict__ A", "__half* __restrict__ C",
                             "__shared__ __align__(16) __half A_shared[", "float C_acc_local[", "__half2float(",
                             "__float2half("})
      EXPECT_TRUE(contains(cu, part)) << cfg.to_string() << ": missing '" << part << "' in\n" << cu;
    // The accumulators are the thread's tile only (tile_i[2] x tile_j[2]), not all of C.
    const std::vector<int64_t> ti = cfg.get("tile_i"), tj = cfg.get("tile_j");
    EXPECT_TRUE(contains(cu, "float C_acc_local[" + std::to_string(ti[2] * tj[2]) + "]")) << cfg.to_string() << cu;
    const std::string ptx = mod.get_source("ptx");  // the default arch here: sm_90 without a GPU
    EXPECT_TRUE(contains(ptx, ".entry hgemm_cfg_kernel(")) << cfg.to_string();
    // On a GPU: the same kernel against the same reference (skipped without a device).
    run_cuda_if_device(inst, ref);
  }
  EXPECT_GE(checked, count > 0 ? 2 : 1) << task.workload_key;  // the default always fits
  if (!nvrtc) std::cerr << "NVRTC not available (" << why << "): CUDA C not compiled\n";
}

TEST(OpsMatmulFp16, RandomConfigsMatchInTheInterpreterAndCompile) { sweep_fp16(67, 45, 23, 6, 20261206); }

// Tensor cores: whole 16 x 16 x 16 tiles.
TEST(OpsMatmulFp16, TensorCoreConfigs) { sweep_fp16(64, 64, 32, 3, 77); }

TEST(OpsMatmulFp16, TensorCoreConfigsSeveralBlocks) { sweep_fp16(128, 192, 96, 4, 1207); }

// The default tensor-core config (128 x 128 x 32 blocks) with 3 and 4 buffers: 60 / 79 KiB of
// shared memory, so the tiles move to 32-byte aligned dynamic shared memory; the copies of the
// next 2 / 3 blocks are in flight (cp.async.wait_group 1 / 2); both match the reference in the
// emulator, and on a GPU where there is one.
TEST(OpsMatmulFp16, TensorCorePipelines) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("matmul_fp16", {128, 128, 160}, "cuda");
  const Reference ref = make_reference(task.default_instance(), 31);
  size_t knob = 0;
  while (task.space.knobs()[knob].name != "stages") ++knob;
  for (int64_t stages : {3, 4}) {
    std::vector<int64_t> choices = task.space.from_index(0).choices();
    choices[knob] = stages - 2;  // {2, 3, 4, 1}
    Config cfg = task.space.with_choices(choices);
    ASSERT_EQ(cfg.value("stages"), stages);
    Instance inst = task.instantiate(cfg);
    Module mod = build(inst.schedule, inst.args, "cuda -arch=sm_90", "hgemm_pipeline");
    const std::string cu = mod.get_source("cuda");
    EXPECT_TRUE(contains(cu, "extern __shared__ __align__(32) unsigned char te_dynamic_shared[];")) << cu;
    EXPECT_TRUE(contains(cu, "te_cp_async<16>(A_shared + (")) << cu;
    EXPECT_TRUE(contains(cu, "te_cp_async_wait<" + std::to_string(stages - 2) + ">();")) << cu;
    std::string why;
    if (nvrtc_works(why))
      EXPECT_TRUE(contains(mod.get_source("ptx"), "cp.async.wait_group " + std::to_string(stages - 2)));
    NDArray emulated = NDArray::empty(const_shape(inst.args.back()), DataType::float16());
    emulated.fill_poison();
    std::vector<NDArray> arrays = ref.inputs;
    arrays.push_back(emulated);
    cuda_emulate(mod, arrays);
    EXPECT_EQ(compare_half_arrays(emulated, ref.expected, 1), "") << cfg.to_string();
    run_cuda_if_device(inst, ref);
  }
}

}  // namespace
}  // namespace te::testing
