// The named workload sets: every workload names a listed operator with its arguments, the
// "ansor-ops" set holds one shape of every operator, and the default schedule of every
// workload in it builds — compiled for "llvm", and lowered for "cuda" (compiled with NVRTC
// where it works).
#include <set>

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
      EXPECT_EQ(w.args.size(), op.arg_names.size()) << set.name << " " << w.label;
      EXPECT_TRUE(labels.insert(w.label).second) << set.name << ": label " << w.label << " twice";
    }
  }
  EXPECT_TE_ERROR(ops::find_workload_set("ansor"), "ansor", "ansor-ops", "resnet18-conv", "bert-gemm");
}

TEST(OpsWorkloads, AnsorOpsCoversEveryOperator) {
  std::set<std::string> covered;
  for (const ops::Workload& w : ops::find_workload_set("ansor-ops").workloads) covered.insert(w.op);
  for (const ops::OpInfo& op : ops::list_ops()) EXPECT_TRUE(covered.count(op.name)) << op.name << " has no workload";
}

TEST(OpsWorkloads, AnsorOpsDefaultSchedulesBuildForLlvm) {
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

TEST(OpsWorkloads, AnsorOpsDefaultSchedulesBuildForCuda) {
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

}  // namespace
}  // namespace te::testing
