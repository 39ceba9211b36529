// te/autotune/task.h — what is tuned: a template (or a derived space) with its arguments and
// a target. A task's workload key names it stably across runs and te versions, so logs are
// reusable:
//   template task : "<template name>(<arg>,<arg>,...)"       e.g. "matmul(1024,1024,1024)"
//   auto task     : "auto_<16 hex digits>(<output name>)"    FNV-1a 64 of the canonical text
//                   of the compute DAG (placeholder shapes/dtypes, compute bodies with
//                   variables renamed by position), so renaming nothing changes it.
// The target is kept beside the key in records, not inside it.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "te/autotune/space.h"
#include "te/lower.h"

namespace te::autotune {

// What a template returns: its schedule and the kernel arguments in call order.
struct Instance {
  Schedule schedule;
  std::vector<Tensor> args;
};

// A template builds the compute for args and schedules it according to cfg for target
// (a CPU structure for "llvm", thread binding and shared memory for "cuda").
using TemplateFn =
    std::function<Instance(Config& cfg, const std::vector<int64_t>& args, const Target& target)>;

// Registers a template under name (te::Error when the name is taken by another function;
// re-registering replaces it when replace is true, for notebooks re-running a cell).
void register_template(const std::string& name, TemplateFn fn, bool replace = false);
bool has_template(const std::string& name);
std::vector<std::string> template_names();

class Task {
 public:
  std::string name;           // template name, or "auto_<hash>" for auto tasks
  std::vector<int64_t> args;  // template arguments
  Target target;
  std::string workload_key;
  Config space;               // every knob (space mode)
  double flop = 0;            // floating-point (or integer) operations of one call

  // Builds the schedule for cfg (apply mode, from this task's space). te::Error when the
  // config is illegal for the compute: the search skips it. A space-mode config of this
  // space (e.g. `space` itself) means every knob at its first choice.
  Instance instantiate(const Config& cfg) const;
  // The unscheduled compute (every stage at its default), for the reference output.
  Instance default_instance() const;
  // Replays recorded steps (a tuning record) on this task's compute.
  Instance replay(const std::vector<Step>& steps) const;

  std::function<Instance(Config&)> fn;  // bound template (args and target captured)
};

// A task for a registered template. te::Error naming the template when unknown.
Task create_task(const std::string& template_name, const std::vector<int64_t>& args,
                 const std::string& target = "llvm");
// A task with a derived (template-free) space for any compute: outputs are the last args.
Task auto_task(const std::vector<Tensor>& args, const std::string& target = "llvm");

// The derived space for a compute (used by auto_task): multi-level tiling of spatial and
// reduction axes (CPU: SSRSRS-like; GPU: block/vthread/thread tiling with shared-memory
// staging of inputs), cache_write + compute_at for reductions, inlining of elementwise
// producers, fusion of elementwise consumers, and vectorize/parallel/unroll knobs.
Instance derived_schedule(Config& cfg, const std::vector<Tensor>& args, const Target& target);

// Floating-point operations of one evaluation of the outputs (adds, muls, fmas count 1 or 2
// as in the usual 2*M*N*K for matmul; math calls count 1). Symbolic sizes: te::Error.
double count_flop(const std::vector<Tensor>& outputs);
// The canonical text hashed into auto tasks' workload keys.
std::string canonical_compute_text(const std::vector<Tensor>& args);
// The workload key auto_task gives these args: "auto_<16 hex digits>(<last arg's name>)".
std::string auto_workload_key(const std::vector<Tensor>& args);
// A template task's workload key split back into its template name and arguments:
// "matmul(64,64,32)" -> {"matmul", {64, 64, 32}}; nullopt for keys of another form (auto keys).
struct TemplateKey {
  std::string name;
  std::vector<int64_t> args;
};
std::optional<TemplateKey> parse_template_key(const std::string& key);

}  // namespace te::autotune
