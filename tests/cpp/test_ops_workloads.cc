// The named workload sets: every workload names a listed operator with its arguments, the
// "ansor-ops" set holds one shape of every operator, and the default schedule of every
// workload in it builds — compiled for "llvm", and lowered for "cuda" (compiled with NVRTC
// where it works).
#include <algorithm>
#include <filesystem>
#include <set>

#include "te/autotune/log.h"

#include "te/autotune/task.h"
#include "te/ops.h"
#include "ops_test_util.h"

namespace te::testing {
namespace {

TEST(OpsWorkloads, EverySetNamesListedOperatorsWithTheirArity) {
  for (const ops::WorkloadSet& set : ops::workload_sets()) {
    EXPECT_FALSE(set.workloads.empty()) << set.name;
    std::set<std::string> labels;
    for (const ops::Workload& w : set.workloads) {
      const ops::OpInfo& op = ops::find_op(w.op);
      // Optional trailing arguments (OpInfo::required_args) may be left out.
      if (w.args.size() != op.required_args) EXPECT_EQ(w.args.size(), op.arg_names.size()) << set.name << " " << w.label;
      EXPECT_TRUE(labels.insert(w.label).second) << set.name << ": label " << w.label << " twice";
    }
  }
  EXPECT_TE_ERROR(ops::find_workload_set("ansor"), "ansor", "ansor-ops", "resnet18-conv", "bert-gemm");
}

TEST(OpsWorkloads, AnsorOpsCoversEveryOperator) {
  std::set<std::string> covered;
  for (const ops::Workload& w : ops::find_workload_set("ansor-ops").workloads) covered.insert(w.op);
  // Every operator with a CPU schedule; the cuda-only dtype variant matmul_fp16 (float16 GEMM,
  // tuned with `--op matmul --dtype float16`) is matmul's, and the set is tuned on llvm too.
  for (const ops::OpInfo& op : ops::list_ops()) {
    if (std::find(op.targets.begin(), op.targets.end(), "llvm") == op.targets.end()) continue;
    EXPECT_TRUE(covered.count(op.name)) << op.name << " has no workload";
  }
}

TEST(OpsWorkloads, AnsorOpsDefaultSchedulesBuildForLlvm) {
  ops::register_builtin_templates();
  for (const ops::Workload& w : ops::find_workload_set("ansor-ops").workloads) {
    autotune::Task task = autotune::create_task(w.op, w.args, "llvm");
    EXPECT_GT(task.flop, 0) << w.label;
    autotune::Instance inst = task.instantiate(task.space);
    EXPECT_TRUE(has_step(inst.schedule, "parallel")) << w.label;
    EXPECT_TRUE(has_step(inst.schedule, "vectorize")) << w.label;
    Module m = build(inst.schedule, inst.args, "llvm", "ansor_llvm");
    EXPECT_NE(m.get_source("ll").find("ansor_llvm"), std::string::npos) << w.label;
  }
}

// cpu-memops: the memory-bound operators' benchmark set; every workload is a known operator
// with a valid shape whose default llvm schedule lowers (the DRAM-sized shapes included).
TEST(OpsWorkloads, CpuMemopsWorkloadsLowerForLlvm) {
  ops::register_builtin_templates();
  const ops::WorkloadSet& set = ops::find_workload_set("cpu-memops");
  std::set<std::string> ops_seen;
  for (const ops::Workload& w : set.workloads) {
    ops_seen.insert(w.op);
    autotune::Task task = autotune::create_task(w.op, w.args, "llvm");
    EXPECT_GT(task.flop, 0) << w.label;
    autotune::Instance inst = task.instantiate(task.space);
    LowerOptions options;
    options.target = Target::parse("llvm");
    EXPECT_NO_THROW(lower(inst.schedule, inst.args, "memops", options)) << w.label;
  }
  EXPECT_EQ(ops_seen, (std::set<std::string>{"depthwise_conv2d", "max_pool2d", "avg_pool2d", "softmax", "layer_norm"}));
}

TEST(OpsWorkloads, AnsorOpsDefaultSchedulesBuildForCuda) {
  ops::register_builtin_templates();
  std::string why;
  const bool nvrtc = nvrtc_works(why);
  for (const ops::Workload& w : ops::find_workload_set("ansor-ops").workloads) {
    autotune::Task task = autotune::create_task(w.op, w.args, "cuda");
    autotune::Instance inst = task.instantiate(task.space);
    if (!nvrtc) {
      LowerOptions options;
      options.target = Target::parse("cuda");
      EXPECT_NO_THROW(lower(inst.schedule, inst.args, "ansor_cuda", options)) << w.label;
      continue;
    }
    Module m = build(inst.schedule, inst.args, "cuda", "ansor_cuda");
    EXPECT_NE(m.get_source("ptx").find(".entry ansor_cuda_kernel"), std::string::npos) << w.label;
  }
}

// The committed tuning logs must keep replaying as the library grows (new operators get new
// names; old templates keep their computes and knobs): every workload of every log in
// tuning_logs/ gets its best record applied to its task's compute, and lowers.
TEST(OpsWorkloads, CommittedTuningLogsReplay) {
  ops::register_builtin_templates();
  const std::filesystem::path dir = std::filesystem::path(TE_SOURCE_DIR) / "tuning_logs";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  int replayed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".jsonl") continue;
    const autotune::LogContents log = autotune::read_log(entry.path().string());
    std::set<std::pair<std::string, std::string>> seen;
    for (const autotune::Record& r : log.records) {
      if (!seen.insert({r.workload_key, r.target}).second) continue;
      std::optional<autotune::TemplateKey> key = autotune::parse_template_key(r.workload_key);
      if (!key || !autotune::best_record(log.records, r.workload_key, r.target)) continue;
      autotune::Task task = autotune::create_task(key->name, key->args, r.target);
      autotune::Instance inst = autotune::apply_history_best(entry.path().string(), task);
      LowerOptions options;
      options.target = Target::parse(r.target);
      EXPECT_NO_THROW(lower(inst.schedule, inst.args, "replayed", options)) << entry.path() << " " << r.workload_key;
      ++replayed;
    }
  }
  EXPECT_GE(replayed, 12) << "the committed logs hold ResNet-18's 12 conv layers at least";
}

}  // namespace
}  // namespace te::testing
