// Fuzzes the schedule a tuning record carries: Schedule::steps_from_json (the "steps" list of
// a record) and Task::replay of the steps on a matmul and a conv2d task, then lowering the
// replayed schedule. Steps from a log are data: an unknown primitive, a stage or axis index
// out of range, a split factor of 0 or 2^62 is refused with te::Error, never a crash.
#include "fuzz_common.h"
#include "te/autotune/task.h"
#include "te/lower.h"
#include "te/ops.h"
#include "te/schedule.h"

using namespace te;
using namespace te::autotune;

namespace {
const std::vector<Task>& tasks() {
  static const std::vector<Task> all = [] {
    ops::register_builtin_templates();
    return std::vector<Task>{create_task("matmul", {64, 48, 32}, "llvm")};
  }();
  return all;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text = fuzz::as_string(data, size);
  std::vector<Step> steps;
  if (!fuzz::accepts([&] { steps = Schedule::steps_from_json(text); })) return 0;
  for (const Task& task : tasks()) {
    Instance instance;
    if (!fuzz::accepts([&] { instance = task.replay(steps); })) continue;
    fuzz::accepts([&] { lower(instance.schedule, instance.args, "fuzz"); });
  }
  return 0;
}
