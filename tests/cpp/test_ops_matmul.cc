// The operator library: matmul's compute, the op list and shape parsing, and the correctness
// property of its tuning templates — random configs of the "llvm" space on a non-divisible
// shape give the reference interpreter's numbers (outputs poisoned first), every rejected
// config is a te::Error, and "cuda" configs generate CUDA C that NVRTC compiles (and run
// where a GPU exists).
#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "te/autotune/log.h"
#include "te/autotune/task.h"
#include "te/ops.h"
#include "ops_test_util.h"

namespace te::testing {
namespace {

using autotune::Config;
using autotune::Instance;
using autotune::Task;

struct SweepResult {
  int valid = 0, rejected = 0;
  std::vector<std::string> rejections;
};

// Instantiates, builds and runs every config; a te::Error is a rejection, a wrong number or
// any other exception a failure (reported with the config).
SweepResult sweep_llvm(const Task& task, const std::vector<int64_t>& indices) {
  SweepResult r;
  const Reference ref = make_reference(task.default_instance(), 7);
  for (int64_t index : indices) {
    Config cfg = task.space.from_index(index);
    try {
      Instance inst = task.instantiate(cfg);
      std::string diff = build_run_compare(inst, "llvm", ref);
      EXPECT_EQ(diff, "") << task.workload_key << " config " << cfg.to_string() << "\n"
                          << inst.schedule.steps_python();
      ++r.valid;
    } catch (const Error& e) {
      ++r.rejected;
      r.rejections.push_back(cfg.to_string() + ": " + e.what());
    } catch (const std::exception& e) {
      ADD_FAILURE() << "config " << cfg.to_string() << " threw a non-te::Error: " << e.what();
    }
  }
  return r;
}

// ---------------------------------------------------------------- op list and shapes

TEST(OpsRegistry, ListsMatmulAndConv2dAndRegistersTheirTemplates) {
  const std::vector<ops::OpInfo>& ops_list = ops::list_ops();
  ASSERT_GE(ops_list.size(), 2u);
  const ops::OpInfo& mm = ops::find_op("matmul");
  EXPECT_EQ(mm.arg_names, (std::vector<std::string>{"m", "n", "k", "trans_a", "trans_b"}));
  EXPECT_EQ(mm.default_args, (std::vector<int64_t>{1024, 1024, 1024, 0, 0}));
  EXPECT_EQ(mm.targets, (std::vector<std::string>{"llvm", "cuda"}));
  const ops::OpInfo& conv = ops::find_op("conv2d");
  EXPECT_EQ(conv.arg_names, (std::vector<std::string>{"n", "c", "h", "w", "k", "r", "s", "stride", "pad"}));
  EXPECT_EQ(conv.default_args, (std::vector<int64_t>{1, 128, 28, 28, 128, 3, 3, 1, 1}));
  for (const ops::OpInfo& op : ops_list) {
    EXPECT_TRUE(autotune::has_template(op.name)) << op.name;
    EXPECT_EQ(op.arg_names.size(), op.default_args.size()) << op.name;
  }
}

TEST(OpsRegistry, RegistrationIsIdempotentAndThreadSafe) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([] { ops::register_builtin_templates(); });
  for (std::thread& t : threads) t.join();
  ops::register_builtin_templates();
  std::vector<std::string> names = autotune::template_names();
  EXPECT_EQ(std::count(names.begin(), names.end(), "matmul"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "conv2d"), 1);
}

TEST(OpsRegistry, FindOpUnknownListsKnownOps) {
  EXPECT_TE_ERROR(ops::find_op("gemm"), "gemm", "matmul", "conv2d");
}

TEST(OpsRegistry, ParseShapeOverridesDefaults) {
  const ops::OpInfo& mm = ops::find_op("matmul");
  EXPECT_EQ(ops::parse_shape(mm, ""), (std::vector<int64_t>{1024, 1024, 1024}));  // NN: the flags left out
  EXPECT_EQ(ops::parse_shape(mm, "m=512,k=256"), (std::vector<int64_t>{512, 1024, 256}));
  EXPECT_EQ(ops::parse_shape(mm, " n = 7 , m=3"), (std::vector<int64_t>{3, 7, 1024}));
  const ops::OpInfo& conv = ops::find_op("conv2d");
  std::vector<int64_t> c = ops::parse_shape(conv, "n=1,c=64,h=56,w=56,k=64,r=3,s=3,stride=1,pad=1");
  EXPECT_EQ(c, (std::vector<int64_t>{1, 64, 56, 56, 64, 3, 3, 1, 1}));
  EXPECT_EQ(ops::parse_shape(conv, "pad=0")[8], 0);
}

TEST(OpsRegistry, ParseShapeErrorsNameTheKey) {
  const ops::OpInfo& mm = ops::find_op("matmul");
  EXPECT_TE_ERROR(ops::parse_shape(mm, "q=4"), "'q'", "m, n, k");
  EXPECT_TE_ERROR(ops::parse_shape(mm, "m=abc"), "'m'", "abc", "not an integer");
  EXPECT_TE_ERROR(ops::parse_shape(mm, "k=12x"), "'k'", "not an integer");
  EXPECT_TE_ERROR(ops::parse_shape(mm, "n=-3"), "'n'", "negative");
  EXPECT_TE_ERROR(ops::parse_shape(mm, "m=1,m=2"), "'m'", "twice");
  EXPECT_TE_ERROR(ops::parse_shape(mm, "m"), "'m'", "key=value");
  EXPECT_TE_ERROR(ops::parse_shape(mm, "m=99999999999999999999999"), "'m'", "too large");
}

TEST(OpsMatmul, ComputeChecksShapes) {
  Tensor a = placeholder({4, 5}, DataType::float32(), "A");
  Tensor b = placeholder({6, 3}, DataType::float32(), "B");
  EXPECT_TE_ERROR(ops::matmul(a, b), "A", "B", "5", "6");
  Tensor v = placeholder({5}, DataType::float32(), "v");
  EXPECT_TE_ERROR(ops::matmul(a, v), "2-D");
  Tensor good = placeholder({5, 3}, DataType::float32(), "B");
  Tensor c = ops::matmul(a, good);
  EXPECT_EQ(const_shape(c), (std::vector<int64_t>{4, 3}));
  Schedule s = create_schedule({c.op()});
  EXPECT_EQ(build_run_compare(Instance{s, {a, good, c}}, "llvm", 3), "");
}

TEST(OpsMatmul, TemplateRejectsBadArguments) {
  ops::register_builtin_templates();
  EXPECT_TE_ERROR(autotune::create_task("matmul", {4, 4}, "llvm"), "matmul", "3 arguments");
  EXPECT_TE_ERROR(autotune::create_task("matmul", {4, 0, 4}, "llvm"), "matmul", "n");
}

// ---------------------------------------------------------------- llvm template

TEST(OpsMatmul, LlvmDefaultConfigIsTheTunedStructure) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("matmul", {67, 45, 23}, "llvm");
  EXPECT_EQ(task.workload_key, "matmul(67,45,23)");
  EXPECT_DOUBLE_EQ(task.flop, 2.0 * 67 * 45 * 23);
  Instance inst = task.instantiate(task.space);  // space mode: every knob at its first choice
  EXPECT_TRUE(has_step(inst.schedule, "cache_write"));
  EXPECT_TRUE(has_step(inst.schedule, "parallel"));
  EXPECT_TRUE(has_step(inst.schedule, "vectorize"));
  EXPECT_TRUE(has_step(inst.schedule, "unroll"));
  EXPECT_EQ(build_run_compare(inst, "llvm", 11), "");
  // The default of the full-size workload lowers too (not run: that is a benchmark).
  Task big = autotune::create_task("matmul", ops::find_op("matmul").default_args, "llvm");
  Instance big_inst = big.instantiate(big.space);
  EXPECT_NO_THROW(lower(big_inst.schedule, big_inst.args, "matmul_default"));
}

TEST(OpsMatmul, LlvmRandomConfigsMatchReference) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("matmul", {67, 45, 23}, "llvm");
  EXPECT_GT(task.space.space_size(), 1000);
  SweepResult r = sweep_llvm(task, random_indices(task, 30, 20241122));
  EXPECT_EQ(r.valid + r.rejected, 30);
  // Every knob combination of the CPU template is legal by construction.
  EXPECT_EQ(r.rejected, 0) << (r.rejections.empty() ? "" : r.rejections.front());
}

TEST(OpsMatmul, LlvmTinyAndDivisibleShapes) {
  ops::register_builtin_templates();
  // Extents smaller than every tile (tiles are clamped), and a shape the default tiles divide.
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{1, 3, 2}, std::vector<int64_t>{16, 64, 32}}) {
    Task task = autotune::create_task("matmul", shape, "llvm");
    SweepResult r = sweep_llvm(task, random_indices(task, 6, 99));
    EXPECT_EQ(r.rejected, 0) << (r.rejections.empty() ? "" : r.rejections.front());
  }
}

TEST(OpsMatmul, LlvmRecordReplaysOnTheSpaceModeCompute) {
  // A tuning record stores the schedule's steps; Task::replay applies them to the compute
  // of a space-mode run, so the template's compute must not depend on the config.
  ops::register_builtin_templates();
  Task task = autotune::create_task("matmul", {20, 40, 9}, "llvm");
  for (int64_t index : random_indices(task, 6, 5)) {
    Instance inst = task.instantiate(task.space.from_index(index));
    Instance replayed = task.replay(inst.schedule.steps());
    EXPECT_EQ(to_string(lower(replayed.schedule, replayed.args, "f")), to_string(lower(inst.schedule, inst.args, "f")))
        << task.space.from_index(index).to_string();
  }
}

// The choices appended for the 128-row BERT shapes (pack_b = 2: packing at the loop that uses
// the panel; 64-column tiles split into whole panels; 6-row tiles with a guarded tail; k
// blocks of 128 and 32) in every order, with and without the cache, against the reference.
TEST(OpsMatmul, LlvmBlockedPackingAndWideTilesMatchReference) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("matmul", {27, 160, 150}, "llvm");
  const Reference ref = make_reference(task.default_instance(), 3);
  int checked = 0;
  for (int64_t cache : {0, 1})
    for (int64_t order : {0, 1, 2})
      for (int64_t tiles : {0, 1, 2}) {
        // tile_i choice 6 = 6 rows, tile_j choice 2 = 64 columns, tile_k choices 6, 7 = 128, 32.
        const std::string json = "{\"tile_i\": " + std::to_string(tiles == 0 ? 6 : 0) +
                                 ", \"tile_j\": " + std::to_string(tiles == 1 ? 0 : 2) +
                                 ", \"tile_k\": " + std::to_string(6 + tiles % 2) + ", \"cache_write\": " +
                                 std::to_string(cache) + ", \"pack_b\": 2, \"order\": " + std::to_string(order) +
                                 ", \"unroll_i\": 0, \"unroll_k\": 1, \"vectorize_j\": 0, \"parallel\": 0}";
        Config cfg = task.space.from_json(json);
        EXPECT_EQ(cfg.value("pack_b"), 2);
        Instance inst = task.instantiate(cfg);
        EXPECT_EQ(build_run_compare(inst, "llvm", ref), "") << cfg.to_string() << "\n" << inst.schedule.steps_python();
        ++checked;
      }
  EXPECT_EQ(checked, 18);
}

// Knob choices were appended, never inserted or removed, so every record of the committed logs
// keeps its meaning: its config (choice indices by knob name) loads and instantiates, and its
// steps replay. (apply_history_best falls back to the default silently; this does not.)
TEST(OpsMatmul, CommittedGemmRecordsLoadByConfigAndSteps) {
  ops::register_builtin_templates();
  const std::filesystem::path dir = std::filesystem::path(TE_SOURCE_DIR) / "tuning_logs";
  int loaded = 0, same_schedule = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".jsonl") continue;
    std::map<std::string, int> per_key;
    for (const autotune::Record& r : autotune::read_log(entry.path().string()).records) {
      std::optional<autotune::TemplateKey> key = autotune::parse_template_key(r.workload_key);
      if (!key || r.target != "llvm" || r.result.error != autotune::ErrorKind::kNone) continue;
      if (key->name != "matmul" && key->name != "batch_matmul" && key->name.rfind("dense", 0) != 0) continue;
      if (++per_key[r.workload_key] > 40) continue;  // enough of each workload's records
      Task task = autotune::create_task(key->name, key->args, r.target);
      EXPECT_NO_THROW(task.instantiate(task.space.from_json(r.config_json)))
          << entry.path() << " " << r.workload_key << " " << r.config_json;
      EXPECT_NO_THROW(task.replay(Schedule::steps_from_json(r.steps_json))) << entry.path() << " " << r.workload_key;
      // The config means what it meant when the record was tuned: today's template builds the
      // schedule the record's steps replay — except records from before 64-column tiles were
      // split into whole panels, whose steps still read one 64-lane vector across two panels
      // (a gather; their configs now give the split).
      const Instance from_config = task.instantiate(task.space.from_json(r.config_json));
      const Instance from_steps = task.replay(Schedule::steps_from_json(r.steps_json));
      const std::string replayed = to_string(lower(from_steps.schedule, from_steps.args, "f"));
      if (replayed.find("x64(") == std::string::npos) {
        EXPECT_EQ(to_string(lower(from_config.schedule, from_config.args, "f")), replayed)
            << entry.path() << " " << r.workload_key << " " << r.config_json;
        ++same_schedule;
      }
      ++loaded;
    }
  }
  EXPECT_GE(loaded, 100);
  EXPECT_GE(same_schedule, 100);
}

// ---------------------------------------------------------------- cuda template

// Runs inst (target cuda) in the CUDA emulator and on a GPU and compares with the reference
// (computed on first use); false when there is no GPU here.
bool run_on_gpu_or_skip(const Instance& inst, std::optional<Reference>& reference) {
  if (!reference) reference = make_reference(inst, 5);
  EXPECT_EQ(emulate_compare(inst, *reference), "") << inst.schedule.steps_python();
  return run_cuda_if_device(inst, *reference);
}

// vector_copy: where the inputs' rows are whole 16-byte chunks (k and n multiples of 4) the
// default config copies the shared tiles in float4 chunks — double-buffered on sm_80 and newer,
// one 16-byte cp.async each — and with vector_copy 0 element by element; both match the
// reference in the emulator. Shapes whose rows are not whole chunks only have the choice 0.
TEST(OpsMatmul, CudaVectorCopies) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("matmul", {64, 96, 40}, "cuda");
  std::optional<Reference> reference;
  Config cfg = task.space.from_index(0);
  ASSERT_EQ(cfg.value("vector_copy"), 1);
  ASSERT_EQ(cfg.value("double_buffer"), 1);
  size_t knob = 0;
  while (task.space.knobs()[knob].name != "vector_copy") ++knob;
  for (int64_t choice : {0, 1}) {  // {1, 0}: vector first
    std::vector<int64_t> choices = cfg.choices();
    choices[knob] = choice;
    Instance inst = task.instantiate(task.space.with_choices(choices));
    const std::string cu = build(inst.schedule, inst.args, "cuda -arch=sm_90", "matmul_chunks").get_source("cuda");
    for (const char* tile : {"A_shared", "B_shared"})
      EXPECT_TRUE(contains(cu, std::string(choice == 0 ? "te_cp_async<16>(" : "te_cp_async<4>(") + tile + " + ("))
          << cu;
    run_on_gpu_or_skip(inst, reference);
  }
  Task odd = autotune::create_task("matmul", {64, 90, 37}, "cuda");
  for (const autotune::Knob& knob : odd.space.knobs())
    if (knob.name == "vector_copy") EXPECT_EQ(knob.choices.size(), 1u);
}

TEST(OpsMatmul, CudaConfigsCompileWithNvrtc) {
  std::string why;
  if (!nvrtc_works(why)) GTEST_SKIP() << "no CUDA code generation here: " << why;
  ops::register_builtin_templates();
  Task task = autotune::create_task("matmul", {67, 45, 23}, "cuda");
  std::vector<int64_t> indices = random_indices(task, 10, 777);
  indices.insert(indices.begin(), 0);  // the default
  int compiled = 0, rejected = 0, ran = 0;
  std::optional<Reference> reference;
  for (int64_t index : indices) {
    Config cfg = task.space.from_index(index);
    Instance inst;
    if (!instantiate_within_cuda_limits(task, cfg, inst)) {
      ++rejected;  // over the thread or shared-memory limit
      continue;
    }
    Module m = build(inst.schedule, inst.args, "cuda", "matmul_cfg");
    std::string ptx = m.get_source("ptx");
    EXPECT_NE(ptx.find(".entry matmul_cfg_kernel("), std::string::npos) << cfg.to_string();
    EXPECT_NE(m.get_source("cuda").find("__shared__"), std::string::npos) << cfg.to_string();
    ++compiled;
    if (run_on_gpu_or_skip(inst, reference)) ++ran;
  }
  EXPECT_GE(compiled, 4) << "rejected " << rejected;
  RecordProperty("gpu_runs", ran);
}

// The two knobs that shape the CUDA kernel's memory traffic, in every combination, with tiles of
// 8 columns per thread (so strided_j makes two float4 chunks, as virtual threads) on a shape
// with tails in every dimension (70 rows over 32-row blocks, 150 columns over 128, k 37 over
// 8): each config matches the reference in the CUDA emulator (GPU semantics, races and bounds
// checked), and its CUDA C has the structure the knobs ask for.
TEST(OpsMatmul, CudaDoubleBufferAndStridedColumnsMatchTheReference) {
  std::string why;
  if (!nvrtc_works(why)) GTEST_SKIP() << "no CUDA code generation here: " << why;
  ops::register_builtin_templates();
  Task task = autotune::create_task("matmul", {70, 150, 37}, "cuda");
  std::optional<Reference> reference;
  int checked = 0;
  for (int64_t double_buffer : {1, 0})
    for (int64_t strided : {1, 0}) {
      bool found = false;
      for (int64_t index = 0; index < task.space.space_size() && !found; ++index) {
        Config cfg = task.space.from_index(index);
        if (cfg.value("double_buffer") != double_buffer || cfg.value("strided_j") != strided ||
            cfg.get("tile_j")[2] != 8 || cfg.get("tile_i")[2] != 4 || cfg.get("tile_k")[1] != 8)
          continue;
        Instance inst;
        if (!instantiate_within_cuda_limits(task, cfg, inst)) continue;
        found = true;
        std::string cu = build(inst.schedule, inst.args, "cuda", "matmul_knobs").get_source("cuda");
        // Double-buffered for the default architecture (sm_80 and newer): cp.async copies.
        EXPECT_EQ(cu.find("te_cp_async<4>(A_shared + (") != std::string::npos, double_buffer == 1)
            << cfg.to_string() << cu;
        // The 4 x 8 register tile; strided: two 4 x 4 slices, one per virtual thread, the second
        // (from element 16) stored 64 columns (16 threads x 4) to the right of the first.
        EXPECT_NE(cu.find("float C_local[32]"), std::string::npos) << cfg.to_string() << cu;
        EXPECT_EQ(cu.find(" + 64)] = C_local[16];") != std::string::npos, strided == 1) << cfg.to_string() << cu;
        run_on_gpu_or_skip(inst, reference);
        ++checked;
      }
      EXPECT_TRUE(found) << "double_buffer " << double_buffer << " strided_j " << strided;
    }
  EXPECT_EQ(checked, 4);
}

TEST(OpsMatmul, CudaConfigOverThreadLimitIsATeError) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("matmul", {512, 512, 64}, "cuda");
  // Find a config whose block has more than 1024 threads (32 x 64 exists in the space).
  bool found = false;
  for (int64_t index = 0; index < task.space.space_size() && !found; ++index) {
    Config cfg = task.space.from_index(index);
    if (cfg.get("tile_i")[1] * cfg.get("tile_j")[1] <= 1024) continue;
    found = true;
    EXPECT_TE_ERROR(task.instantiate(cfg), "threads per block", "1024");
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace te::testing
