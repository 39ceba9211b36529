// export_tuning_log: the best record of each template workload in a tuning log, rebuilt
// through its template (the steps replayed on the template's compute, as apply_history_best
// does) and exported as one library. Generic over templates: any registered template whose
// workload key parses ("name(a,b,...)") is exported, so a new operator needs nothing here.
#include <algorithm>
#include <cctype>
#include <sys/stat.h>

#include "te/autotune/log.h"
#include "te/autotune/task.h"
#include "te/export.h"
#include "te/ops.h"

namespace te {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// "conv2d(1,64,56,56,64,3,3,1,1)" -> "conv2d_1_64_56_56_64_3_3_1_1" (negative args: "m1").
std::string kernel_name(const autotune::TemplateKey& key) {
  std::string name = key.name;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  for (int64_t a : key.args) {
    name += a < 0 ? "_m" : "_";
    name += std::to_string(a < 0 ? -a : a);
  }
  return name;
}

}  // namespace

ExportResult export_tuning_log(const std::string& log_path, const std::string& path,
                               const LogExportOptions& options) {
  struct stat st {};
  if (::stat(log_path.c_str(), &st) != 0)
    fail("export: the log '", log_path, "' does not exist; pass the file given to --log when tuning");
  ops::register_builtin_templates();
  const std::string target = Target::parse(options.target).str();  // te::Error naming a bad target
  for (const std::string& op : options.ops)
    if (!autotune::has_template(op))
      fail("export: '", op, "' is not a registered operator template; known: ", join(autotune::template_names()));
  autotune::LogContents log = autotune::read_log(log_path);

  // Workloads in the order they first appear.
  std::vector<std::string> keys;
  std::vector<std::string> skipped;  // why a workload of the selection was left out
  for (const autotune::Record& r : log.records) {
    if (r.target != target || std::find(keys.begin(), keys.end(), r.workload_key) != keys.end()) continue;
    keys.push_back(r.workload_key);
  }
  std::vector<ExportKernel> kernels;
  for (const std::string& key : keys) {
    std::optional<autotune::TemplateKey> parsed = autotune::parse_template_key(key);
    if (!parsed) continue;  // auto tasks: their compute is not in the log
    if (!options.ops.empty() && std::find(options.ops.begin(), options.ops.end(), parsed->name) == options.ops.end())
      continue;
    if (!autotune::has_template(parsed->name)) {
      skipped.push_back(key + " (no template named " + parsed->name + ")");
      continue;
    }
    std::optional<autotune::Record> best = autotune::best_record(log.records, key, target, autotune::this_machine(target));
    if (!best) {
      skipped.push_back(key + " (no valid record)");
      continue;
    }
    autotune::Task task = autotune::create_task(parsed->name, parsed->args, target);
    autotune::Instance inst;
    try {
      inst = task.replay(Schedule::steps_from_json(best->steps_json));
    } catch (const Error& steps_error) {
      try {  // as apply_history_best: the config when the steps no longer replay
        inst = task.instantiate(task.space.from_json(best->config_json));
      } catch (const Error& config_error) {
        fail("export: the best record of ", key, " in '", log_path, "' (config #", best->config_index,
             ") no longer applies to its template: its steps: ", steps_error.what(), "; its config: ", config_error.what());
      }
    }
    ExportKernel k;
    k.module = build(inst.schedule, inst.args, target, kernel_name(*parsed));
    k.workload_key = key;
    k.record_json = best->to_json_line();
    k.op = parsed->name;
    for (const ops::OpInfo& op : ops::list_ops()) {
      if (op.name != parsed->name) continue;
      for (size_t i = 0; i < op.arg_names.size() && i < parsed->args.size(); ++i)
        k.op_args.emplace_back(op.arg_names[i], parsed->args[i]);
    }
    if (k.op_args.empty())  // a template registered outside te/ops.h: positional names
      for (size_t i = 0; i < parsed->args.size(); ++i) k.op_args.emplace_back("arg" + std::to_string(i), parsed->args[i]);
    kernels.push_back(std::move(k));
  }
  if (kernels.empty())
    fail("export: no valid tuning record in '", log_path, "' for target ", target,
         options.ops.empty() ? std::string() : " and operators " + join(options.ops),
         skipped.empty() ? std::string() : "; left out: " + join(skipped));
  ExportOptions export_options;
  export_options.prefix = options.prefix;
  return export_library(kernels, path, export_options);
}

}  // namespace te
