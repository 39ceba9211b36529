// src/autotune/task.cc — the template registry and tasks.
// A task's compute outputs are the operations its template passed to create_schedule
// (Schedule's `outputs`, which no primitive replaces: cache_write and rfactor add stages but
// keep the output ops). They are found by running the template once with a space-mode
// Config: create_task does it to record the space and count flops, and default_instance /
// replay do it again to get the compute (templates build a fresh compute per call, so the
// returned args always belong to the returned schedule).
// Workload keys and flop counting live in task_workload.cc.
#include "te/autotune/task.h"

#include <map>
#include <mutex>

namespace te::autotune {

namespace {

// Process-wide registry; templates may register from several threads (Python, static init
// of operator libraries), so every access holds the mutex.
struct Registry {
  std::mutex mutex;
  std::map<std::string, TemplateFn> templates;
};
Registry& registry() {
  static Registry* instance = new Registry();  // never destroyed: safe during static exit
  return *instance;
}

std::string join_args(const std::vector<int64_t>& args) {
  std::string text;
  for (size_t i = 0; i < args.size(); ++i) text += (i ? "," : "") + std::to_string(args[i]);
  return text;
}

// Runs the task's template with a fresh space-mode Config (every knob at choice 0).
Instance run_space_mode(const Task& task, Config& space, const char* what) {
  if (!task.fn) fail(what, ": task '", task.name, "' has no template function");
  Instance instance;
  try {
    instance = task.fn(space);
  } catch (const Error& err) {
    fail(what, ": the template of task '", task.name,
         "' failed with every knob at its first choice: ", err.what());
  }
  if (!instance.schedule.defined())
    fail(what, ": the template of task '", task.name, "' returned no schedule");
  if (instance.args.empty())
    fail(what, ": the template of task '", task.name, "' returned no kernel arguments");
  return instance;
}

std::vector<Tensor> output_tensors(const Schedule& schedule) {
  std::vector<Tensor> outputs;
  for (const Operation& op : schedule->outputs)
    for (int i = 0; i < op->num_outputs(); ++i) outputs.push_back(op.output(i));
  return outputs;
}

// Fills space, flop from one space-mode run of task.fn.
void build_space(Task& task) {
  Config space;
  Instance instance = run_space_mode(task, space, "create_task");
  task.space = space;
  task.flop = count_flop(output_tensors(instance.schedule));
}

}  // namespace

void register_template(const std::string& name, TemplateFn fn, bool replace) {
  if (name.empty()) fail("register_template: the template name is empty");
  if (!fn) fail("register_template '", name, "': the template function is empty");
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mutex);
  auto [it, inserted] = reg.templates.try_emplace(name, fn);
  if (inserted) return;
  if (!replace)
    fail("register_template: a template named '", name,
         "' is already registered; choose another name or pass replace=true");
  it->second = std::move(fn);
}

bool has_template(const std::string& name) {
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mutex);
  return reg.templates.count(name) > 0;
}

std::vector<std::string> template_names() {
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mutex);
  std::vector<std::string> names;
  for (const auto& entry : reg.templates) names.push_back(entry.first);
  return names;
}

Task create_task(const std::string& template_name, const std::vector<int64_t>& args,
                 const std::string& target) {
  TemplateFn fn;
  {
    Registry& reg = registry();
    std::lock_guard<std::mutex> lock(reg.mutex);
    auto found = reg.templates.find(template_name);
    if (found == reg.templates.end()) {
      std::string known;
      for (const auto& entry : reg.templates) known += (known.empty() ? "" : ", ") + entry.first;
      fail("create_task: no template named '", template_name,
           "' (registered: ", known.empty() ? "none" : known, ")");
    }
    fn = found->second;
  }
  Task task;
  task.name = template_name;
  task.args = args;
  task.target = Target::parse(target);
  task.workload_key = template_name + "(" + join_args(args) + ")";
  Target parsed = task.target;
  task.fn = [fn, args, parsed](Config& cfg) { return fn(cfg, args, parsed); };
  build_space(task);
  return task;
}

Task auto_task(const std::vector<Tensor>& args, const std::string& target) {
  if (args.empty()) fail("auto_task: no tensors given; pass the inputs and then the outputs");
  for (size_t i = 0; i < args.size(); ++i)
    if (!args[i].defined()) fail("auto_task: argument ", i, " is undefined");
  if (args.back().op().as<ComputeOpNode>() == nullptr)
    fail("auto_task: the last argument '", args.back().name(),
         "' is a placeholder; the outputs must be the last arguments");
  Task task;
  task.workload_key = auto_workload_key(args);
  task.name = task.workload_key.substr(0, task.workload_key.find('('));
  task.target = Target::parse(target);
  Target parsed = task.target;
  // The compute is shared by every instantiation; each call builds a fresh schedule.
  task.fn = [args, parsed](Config& cfg) { return derived_schedule(cfg, args, parsed); };
  build_space(task);
  return task;
}

Instance Task::instantiate(const Config& cfg) const {
  if (!fn) fail("Task::instantiate: task '", name, "' has no template function");
  const std::vector<Knob>& mine = space.knobs();
  const std::vector<Knob>& theirs = cfg.knobs();
  bool same_space = mine.size() == theirs.size();
  for (size_t i = 0; same_space && i < mine.size(); ++i)
    same_space = mine[i].name == theirs[i].name && mine[i].choices.size() == theirs[i].choices.size();
  if (!same_space)
    fail("Task::instantiate: the config (", cfg.knobs().size(), " knobs) is not from the space of task '",
         workload_key, "' (", mine.size(), " knobs); make it with task.space.from_index / from_json");
  // A space-mode config of this space means its first choices (the documented default).
  Config applied = cfg.is_space() ? space.with_choices(cfg.choices()) : cfg;
  return fn(applied);
}

Instance Task::default_instance() const {
  Config probe;
  Instance instance = run_space_mode(*this, probe, "Task::default_instance");
  return Instance{create_schedule(instance.schedule->outputs), instance.args};
}

Instance Task::replay(const std::vector<Step>& steps) const {
  Config probe;
  Instance instance = run_space_mode(*this, probe, "Task::replay");
  return Instance{Schedule::replay(instance.schedule->outputs, steps), instance.args};
}

}  // namespace te::autotune
