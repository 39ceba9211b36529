// tools/autotune.cc — the `autotune` command: tunes one operator of the library (te/ops.h)
// for a target, appending every measured candidate to a JSON-lines log that a rerun resumes
// from; lists the operators; prints the best record of a log.
//
//   autotune --op matmul --target llvm --shape m=512,n=512,k=512 --trials 64 --log m.jsonl
//   autotune --workloads resnet18-conv --target llvm --trials 600 --log resnet.jsonl
//   autotune --list-ops
//   autotune best --log m.jsonl [--op matmul --shape m=512,n=512,k=512]
//   autotune export --log m.jsonl [--ops matmul,conv2d] -o libkernels.so   (te/export.h)
//
// Exit codes: 0 success, 1 usage error (bad option, operator or shape: the message names
// it), 2 tuning finished but no valid candidate (or no valid record for `best`), 3 internal
// error (a bug in te). `export` exits 1 when the log has no valid record to export.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "te/autotune/log.h"
#include "te/autotune/measure.h"
#include "te/autotune/task.h"
#include "te/autotune/tuner.h"
#include "te/export.h"
#include "te/ops.h"

namespace {

using json = nlohmann::json;
namespace at = te::autotune;

constexpr int kExitOk = 0;
constexpr int kExitUsage = 1;
constexpr int kExitNoValid = 2;
constexpr int kExitInternal = 3;

constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  0  success\n"
    "  1  usage error: a bad option, operator, shape or target (the message names it)\n"
    "  2  tuning finished but no candidate was valid (`best`: no valid record)\n"
    "  3  internal error (a bug in te; please report it)\n"
    "\n"
    "The log is appended to as each candidate is measured; rerunning the same command\n"
    "resumes from it without measuring a config twice (--trials counts the records\n"
    "already in the log).";

// A usage error found after parsing (unknown operator, target without schedules, ...).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TuneArgs {
  std::string op;
  std::string workloads;  // a named set instead of --op (te/ops.h workload_sets)
  std::string target = "llvm";
  std::string shape;
  std::string dtype;  // "" / float32, or float16 (matmul only: the matmul_fp16 template)
  int trials = 100;
  std::string log;
  std::string tuner = "xgb";
  std::string cost_model = "rank";  // the XGBoost objective of the xgb/evolutionary tuners
  uint64_t seed = 0;
  double timeout_s = 10;
  // Each timed repeat calls the kernel until it has run this long. One call of a kernel of
  // 0.1 ms also times waking the thread pool (tens of microseconds on a VM, and varying): with
  // single calls the tuner ranked attention GEMMs by that noise (286 us measured, 133 us real).
  double min_repeat_ms = 20;
  int parallel = 0;
  int batch = 8;
  int early_stopping = 0;
  int refine = 0;  // re-measure this many leading configs after the search (0: no refine phase)
  bool json = false;
  bool no_progress = false;
  bool list_ops = false;
};

struct BestArgs {
  std::string log;
  std::string op;
  std::string shape;
  std::string dtype;
  std::string target;
  bool json = false;
};

struct ExportArgs {
  std::string log, output, target = "llvm", prefix;
  std::vector<std::string> ops;
  bool json = false;
};

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

// "m=512,n=512,k=512" for an operator's arguments.
std::string shape_text(const te::ops::OpInfo& op, const std::vector<int64_t>& args) {
  std::string out;
  for (size_t i = 0; i < args.size() && i < op.arg_names.size(); ++i) {
    out += (i ? "," : "") + op.arg_names[i] + "=" + std::to_string(args[i]);
  }
  return out;
}

std::string format_double(double x, int precision) {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(precision);
  os << x;
  return os.str();
}

std::string format_seconds(double s) {
  if (s < 1e-3) return format_double(s * 1e6, 1) + " us";
  if (s < 1) return format_double(s * 1e3, 3) + " ms";
  return format_double(s, 2) + " s";
}

// The target kind must be one the operator has schedules for.
void check_target(const te::ops::OpInfo& op, const std::string& target_text) {
  te::Target target = te::Target::parse(target_text);  // te::Error naming the bad part
  for (const std::string& t : op.targets) {
    if (t == target.kind) return;
  }
  throw UsageError("operator '" + op.name + "' has no schedules for target '" + target.kind +
                   "'; it supports: " + join(op.targets));
}

// The config's readable text, or its JSON when it no longer fits the task's space.
std::string config_text(const at::Task* task, const at::Record& r) {
  if (task != nullptr) {
    try {
      return task->space.from_json(r.config_json).to_string();
    } catch (const te::Error&) {
    }
  }
  return r.config_json;
}

// ---------------------------------------------------------------- autotune --list-ops

int list_ops(bool as_json) {
  const auto& ops = te::ops::list_ops();
  if (as_json) {
    json out = json::array();
    for (const auto& op : ops) {
      json args = json::object();
      for (size_t i = 0; i < op.arg_names.size() && i < op.default_args.size(); ++i) {
        args[op.arg_names[i]] = op.default_args[i];
      }
      out.push_back({{"name", op.name},
                     {"description", op.description},
                     {"default_shape", args},
                     {"targets", op.targets}});
    }
    json sets = json::array();
    for (const auto& set : te::ops::workload_sets()) {
      json items = json::array();
      for (const auto& w : set.workloads) items.push_back({{"label", w.label}, {"op", w.op}, {"args", w.args}});
      sets.push_back({{"name", set.name}, {"description", set.description}, {"workloads", items}});
    }
    std::cout << json{{"operators", out}, {"workload_sets", sets}}.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "operators (--op NAME --shape KEY=VALUE,...; shape keys default as shown):\n";
  for (const auto& op : ops) {
    std::cout << "  " << op.name << "\n"
              << "      " << op.description << "\n"
              << "      shape   " << shape_text(op, op.default_args) << "\n"
              << "      targets " << join(op.targets) << "\n";
  }
  std::cout << "\nworkload sets (--workloads NAME tunes all of them in one job):\n";
  for (const auto& set : te::ops::workload_sets()) {
    std::cout << "  " << set.name << "\n      " << set.description << "\n";
    for (const auto& w : set.workloads)
      std::cout << "      " << w.label << std::string(w.label.size() < 9 ? 9 - w.label.size() : 1, ' ') << w.op
                << " " << shape_text(te::ops::find_op(w.op), w.args) << "\n";
  }
  return kExitOk;
}

// ---------------------------------------------------------------- autotune --op ...

// The template of --op at --dtype: float32 is every operator's own name; float16 exists for
// matmul only, as "matmul_fp16" (float16 A, B and C, float32 accumulation), a name of its own
// so float16 records never share a workload key with float32 ones.
std::string op_for_dtype(const std::string& op, const std::string& dtype) {
  if (dtype.empty()) return op;
  if (dtype == "float32") {
    if (op == "matmul_fp16") throw UsageError("--op matmul_fp16 is float16; use --op matmul for float32");
    return op;
  }
  if (dtype != "float16")
    throw UsageError("--dtype '" + dtype + "' is not supported; use float32 (the default) or float16 (matmul only)");
  if (op == "matmul" || op == "matmul_fp16") return "matmul_fp16";
  throw UsageError("--dtype float16 is available for --op matmul only (the matmul_fp16 template); '" + op +
                   "' is float32");
}

struct ErrorCounts {
  int total = 0;
  std::map<std::string, int> by_kind;
  std::string last_message;  // the latest error's kind and message, to say why nothing worked
};

ErrorCounts count_errors(const std::vector<at::Record>& records, const at::Task& task) {
  ErrorCounts counts;
  std::string target = task.target.str();
  for (const auto& r : records) {
    if (r.workload_key != task.workload_key || r.target != target) continue;
    if (r.result.error == at::ErrorKind::kNone) continue;
    ++counts.total;
    ++counts.by_kind[at::to_string(r.result.error)];
    counts.last_message = std::string(at::to_string(r.result.error)) + ": " + r.result.error_message;
  }
  return counts;
}

at::MeasureOptions measure_options_of(const TuneArgs& a) {
  at::MeasureOptions options;
  options.timeout_s = a.timeout_s;
  options.min_repeat_ms = a.min_repeat_ms;
  options.build_workers = a.parallel;
  options.seed = a.seed;
  return options;
}

// The refine phase after a search (--refine): the measurer now measures configs again.
at::RefineResult refine_task(const TuneArgs& a, const at::Task& task, at::Measurer& measurer,
                             const std::string& log_path) {
  measurer.set_skip_duplicates(false);
  at::RefineOptions options;
  options.top = a.refine;
  options.batch_size = a.batch;
  options.log_path = log_path;
  options.progress = !a.no_progress;
  options.seed = a.seed;
  at::MeasureFn measure = [&measurer](const std::vector<at::Config>& configs) { return measurer.measure(configs); };
  at::RefineResult refined = at::refine(task, measure, options);
  if (refined.best_before && refined.best) {
    std::cerr << "autotune: refined " << task.workload_key << ": " << refined.neighbours_measured
              << " one-knob neighbours of the best, " << refined.remeasured << " re-measurements of the "
              << a.refine << " best; best " << format_double(refined.best_before->gflops(), 2) << " -> "
              << format_double(refined.best->gflops(), 2) << " GFLOP/s (config #" << refined.best->config_index
              << (at::canonical_config_json(refined.best->config_json) ==
                          at::canonical_config_json(refined.best_before->config_json)
                      ? ", unchanged"
                      : ", changed")
              << ")\n";
  }
  return refined;
}

at::TuneOptions tune_options_of(const TuneArgs& a, const std::string& log_path) {
  at::TuneOptions options;
  options.trials = a.trials;
  options.batch_size = a.batch;
  options.early_stopping = a.early_stopping;
  options.log_path = log_path;
  options.progress = !a.no_progress;
  return options;
}

int run_tuning(const TuneArgs& a) {
  if (a.op.empty()) {
    throw UsageError("--op is required (one of: " + [] {
      std::vector<std::string> names;
      for (const auto& op : te::ops::list_ops()) names.push_back(op.name);
      return join(names);
    }() + ") or --workloads SET; see autotune --list-ops, or autotune --help");
  }
  // te::Error listing the known names
  const te::ops::OpInfo& op = te::ops::find_op(op_for_dtype(a.op, a.dtype));
  std::vector<int64_t> args = te::ops::parse_shape(op, a.shape);
  check_target(op, a.target);
  std::string log_path =
      a.log.empty() ? "./" + op.name + "_" + te::Target::parse(a.target).kind + ".jsonl" : a.log;

  at::Task task = at::create_task(op.name, args, a.target);
  // Records of this workload already in the log: the tuner resumes this machine's (those with
  // no hardware count as this machine's) and leaves other machines' alone.
  size_t resumed_lines = 0, other_machines = 0;
  std::string here = "unknown";  // as the tuner names this machine (tuner.cc)
  try {
    here = at::hardware_description(task.target);
  } catch (const std::exception&) {
  }
  for (const at::Record& r : at::read_log(log_path).records) {  // te::Error if unreadable
    if (r.workload_key != task.workload_key || r.target != task.target.str()) continue;
    const bool mine = r.hardware.empty() || r.hardware == here;
    (mine ? resumed_lines : other_machines) += 1;
  }
  std::string resume_note;
  if (resumed_lines > 0) resume_note = "resuming: it has " + std::to_string(resumed_lines) + " of them from this machine";
  if (other_machines > 0)
    resume_note += (resume_note.empty() ? "" : "; ") + std::to_string(other_machines) +
                   " from other machines are kept and not counted";
  std::cerr << "autotune: " << task.workload_key << " on " << task.target.str() << ", space of "
            << task.space.space_size() << " configs, " << a.trials << " trials with " << a.tuner
            << "; records go to " << log_path << (resume_note.empty() ? "" : " (" + resume_note + ")") << "\n";

  const at::MeasureOptions measure_options = measure_options_of(a);
  at::Measurer measurer(task, measure_options);
  at::MeasureFn measure = [&measurer](const std::vector<at::Config>& configs) {
    return measurer.measure(configs);
  };
  std::unique_ptr<at::CostModel> model;  // null: make_tuner's default (rank, or random without XGBoost)
  if ((a.tuner == "xgb" || a.tuner == "evolutionary") && at::have_xgboost())
    model = at::make_xgb_model(a.cost_model, a.seed);
  std::unique_ptr<at::Tuner> tuner = at::make_tuner(a.tuner, task, a.seed, std::move(model));

  const at::TuneOptions options = tune_options_of(a, log_path);
  auto start = std::chrono::steady_clock::now();
  at::TuneResult result = at::tune(task, *tuner, measure, options);
  if (a.refine > 0 && result.best) result.best = refine_task(a, task, measurer, log_path).best;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  ErrorCounts errors = count_errors(at::read_log(log_path).records, task);
  const std::optional<at::Record>& best = result.best;
  int exit_code = best ? kExitOk : kExitNoValid;

  // The summary table follows tune()'s on stderr while the progress bar is on (so the two
  // stay together), and goes to stdout in --no-progress batch runs unless stdout carries
  // the JSON summary.
  std::ostream& table = (a.json || !a.no_progress) ? std::cerr : std::cout;
  std::string error_detail;
  for (const auto& [kind, n] : errors.by_kind)
    error_detail += (error_detail.empty() ? "" : ", ") + kind + " " + std::to_string(n);
  // With the progress bar on, tune() has just printed its own summary table (trials, best,
  // errors by kind of this run) on stderr; only what it lacks follows. Without it (batch jobs,
  // --no-progress) this is the whole table.
  const bool full = a.no_progress;
  // Rows line up with tune()'s table when they continue it.
  auto row = [&table, width = full ? size_t(10) : size_t(14)](const std::string& name,
                                                              const std::string& value) {
    table << "  " << name << std::string(width - name.size(), ' ') << value << "\n";
  };
  if (full) {
    table << "\nautotune summary\n";
    row("workload", task.workload_key + "  (" + op.name + " " + shape_text(op, args) + ")");
  }
  row("target", task.target.str() + "  (" + at::hardware_description(task.target) + ")");
  if (full) {
    row("tuner", a.tuner + ", seed " + std::to_string(a.seed));
    row("trials", std::to_string(result.trials_measured + result.trials_resumed) + " of " +
                      std::to_string(a.trials) + " (" + std::to_string(result.trials_measured) +
                      " measured now, " + std::to_string(result.trials_resumed) + " resumed from the log)");
  }
  row(full ? "errors" : "errors in log", std::to_string(errors.total) +
                                             (error_detail.empty() ? "" : " (" + error_detail + ")") +
                                             (full ? " in the log for this workload" : ""));
  if (best) {
    row(full ? "best" : "best per call",
        (full ? format_double(best->gflops(), 2) + " GFLOP/s  (" : std::string()) +
            format_seconds(best->result.mean_cost()) + (full ? " per call)" : "") + ", config #" +
            std::to_string(best->config_index));
    if (full) row("config", config_text(&task, *best));
  } else {
    row("best", "none: no candidate compiled, ran and matched the reference");
  }
  row("log", log_path);
  if (full) row("time", format_double(seconds, 1) + " s");
  if (best) table << "(autotune best --log " << log_path << " prints the schedule as Python)\n";

  if (a.json) {
    json shape = json::object();
    for (size_t i = 0; i < args.size() && i < op.arg_names.size(); ++i) shape[op.arg_names[i]] = args[i];
    json summary = {{"op", op.name},
                    {"target", task.target.str()},
                    {"hardware", at::hardware_description(task.target)},
                    {"shape", shape},
                    {"workload_key", task.workload_key},
                    {"tuner", a.tuner},
                    {"seed", a.seed},
                    {"trials", a.trials},
                    {"trials_measured", result.trials_measured},
                    {"trials_resumed", result.trials_resumed},
                    {"errors", result.errors},
                    {"errors_in_log", errors.by_kind},
                    {"log", log_path},
                    {"seconds", seconds},
                    {"best_gflops_curve", result.best_gflops_curve},
                    {"exit_code", exit_code}};
    if (best) {
      summary["best"] = {
          {"gflops", best->gflops()},
          {"mean_cost_s", best->result.mean_cost()},
          {"config_index", best->config_index},
          {"config", config_text(&task, *best)},
          {"config_json", json::parse(best->config_json.empty() ? "null" : best->config_json)}};
    } else {
      summary["best"] = nullptr;
    }
    std::cout << summary.dump() << std::endl;
  }
  if (!best) {
    std::cerr << "autotune: no valid candidate in " << a.trials << " trials (every error is in " << log_path
              << ")" << (errors.last_message.empty() ? "" : "; the last one: " + errors.last_message) << "\n";
  }
  return exit_code;
}

// ---------------------------------------------------------------- autotune --workloads ...

// Tunes every workload of a named set in one job: one trial budget spread over the tasks by
// the task scheduler (tune_tasks), every record in one log.
int run_workload_set(const TuneArgs& a) {
  if (!a.op.empty() || !a.shape.empty() || !a.dtype.empty())
    throw UsageError(
        "--workloads tunes a whole set; leave out --op, --shape and --dtype (or tune one operator with --op)");
  const te::ops::WorkloadSet& set = te::ops::find_workload_set(a.workloads);  // te::Error naming the sets
  const std::string kind = te::Target::parse(a.target).kind;
  const std::string log_path = a.log.empty() ? "./" + set.name + "_" + kind + ".jsonl" : a.log;

  std::vector<at::Task> tasks;
  for (const te::ops::Workload& w : set.workloads) {
    const te::ops::OpInfo& op = te::ops::find_op(w.op);
    check_target(op, a.target);
    tasks.push_back(at::create_task(op.name, w.args, a.target));
  }
  std::cerr << "autotune: workload set " << set.name << " (" << tasks.size() << " tasks) on "
            << tasks.front().target.str() << ", " << a.trials << " trials in all with " << a.tuner
            << " spread by the task scheduler; records go to " << log_path << "\n";

  const at::MeasureOptions measure_options = measure_options_of(a);
  std::vector<std::unique_ptr<at::Measurer>> measurers;
  std::vector<at::MeasureFn> measures;
  for (const at::Task& task : tasks) {
    measurers.push_back(std::make_unique<at::Measurer>(task, measure_options));
    at::Measurer* measurer = measurers.back().get();
    measures.push_back([measurer](const std::vector<at::Config>& configs) { return measurer->measure(configs); });
  }
  const at::TuneOptions options = tune_options_of(a, log_path);
  auto start = std::chrono::steady_clock::now();
  std::vector<at::TuneResult> results = at::tune_tasks(tasks, a.tuner, measures, options, a.seed);
  for (size_t i = 0; i < tasks.size() && a.refine > 0; ++i)
    if (results[i].best) results[i].best = refine_task(a, tasks[i], *measurers[i], log_path).best;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const std::vector<at::Record> records = at::read_log(log_path).records;
  std::ostream& table = a.json ? std::cerr : std::cout;
  table << "\nautotune summary: " << set.name << " on " << tasks.front().target.str() << " ("
        << at::hardware_description(tasks.front().target) << "), " << format_double(seconds, 1) << " s\n"
        << "  layer       trials  errors  best GFLOP/s  time per call  workload\n";
  json rows = json::array();
  double total_seconds = 0;
  int valid = 0;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const at::Task& task = tasks[i];
    int trials = 0;
    for (const at::Record& r : records) trials += r.workload_key == task.workload_key && r.target == task.target.str();
    const ErrorCounts errors = count_errors(records, task);
    const std::optional<at::Record>& best = results[i].best;
    const std::string label = set.workloads[i].label;
    table << "  " << label << std::string(label.size() < 10 ? 10 - label.size() : 1, ' ')
          << std::string(8 - std::min<size_t>(8, std::to_string(trials).size()), ' ') << trials
          << std::string(8 - std::min<size_t>(8, std::to_string(errors.total).size()), ' ') << errors.total << "  ";
    json row = {{"label", label}, {"workload_key", task.workload_key}, {"trials", trials}, {"errors", errors.total}};
    if (best) {
      ++valid;
      total_seconds += best->result.mean_cost();
      const std::string gflops = format_double(best->gflops(), 2);
      const std::string per_call = format_seconds(best->result.mean_cost());
      table << std::string(12 - std::min<size_t>(12, gflops.size()), ' ') << gflops
            << std::string(15 - std::min<size_t>(15, per_call.size()), ' ') << per_call;
      row["gflops"] = best->gflops();
      row["mean_cost_s"] = best->result.mean_cost();
    } else {
      table << "        none           none";
      row["gflops"] = nullptr;
    }
    table << "  " << task.workload_key << "\n";
    rows.push_back(row);
  }
  table << "  sum of the best times: " << format_seconds(total_seconds) << " (" << valid << " of " << tasks.size()
        << " tasks with a valid kernel); log " << log_path << "\n";
  if (a.json) {
    std::cout << json{{"workloads", set.name}, {"target", tasks.front().target.str()}, {"tuner", a.tuner},
                      {"trials", a.trials}, {"log", log_path}, {"seconds", seconds},
                      {"tasks", rows}, {"exit_code", valid == 0 ? kExitNoValid : kExitOk}}
                     .dump()
              << std::endl;
  }
  return valid == 0 ? kExitNoValid : kExitOk;
}

// ---------------------------------------------------------------- autotune best

int run_best(const BestArgs& a) {
  struct stat st {};
  if (::stat(a.log.c_str(), &st) != 0)
    throw UsageError("the log '" + a.log + "' does not exist; pass the file given to --log when tuning");
  at::LogContents log = at::read_log(a.log);
  te::ops::register_builtin_templates();  // the templates that turn steps back into Python
  std::optional<std::string> only_key;
  if (!a.op.empty()) {
    const te::ops::OpInfo& op = te::ops::find_op(op_for_dtype(a.op, a.dtype));
    std::vector<int64_t> args = te::ops::parse_shape(op, a.shape);
    only_key = at::create_task(op.name, args, a.target.empty() ? op.targets.front() : a.target).workload_key;
  } else if (!a.shape.empty()) {
    throw UsageError("--shape needs --op to say which operator's shape it is");
  }
  std::string only_target = a.target.empty() ? "" : te::Target::parse(a.target).str();

  // Workloads in the order they first appear in the log.
  std::vector<std::pair<std::string, std::string>> workloads;
  std::map<std::pair<std::string, std::string>, int> record_count;
  for (const auto& r : log.records) {
    if (only_key && r.workload_key != *only_key) continue;
    if (!only_target.empty() && r.target != only_target) continue;
    auto key = std::make_pair(r.workload_key, r.target);
    if (record_count[key]++ == 0) workloads.push_back(key);
  }

  json out = json::array();
  int valid = 0;
  for (const auto& [key, target] : workloads) {
    std::optional<at::Record> best = at::best_record(log.records, key, target, at::this_machine(target));
    std::optional<at::Task> task;
    std::string python;
    if (best) {
      // The schedule as Python needs the compute: rebuild the operator's task from its key.
      if (auto parsed = at::parse_template_key(key); parsed && at::has_template(parsed->name)) {
        try {
          task = at::create_task(parsed->name, parsed->args, target);
          python = task->replay(te::Schedule::steps_from_json(best->steps_json)).schedule.steps_python();
        } catch (const te::Error& e) {
          python = "# the steps do not replay here (" + std::string(e.what()) + "); as JSON:\n# " +
                   best->steps_json;
        }
      } else {
        python = "# not a registered template; the steps as JSON:\n# " + best->steps_json;
      }
      ++valid;
    }
    int count = record_count[{key, target}];
    if (a.json) {
      json item = {{"workload_key", key}, {"target", target}, {"records", count}};
      if (best) {
        item["hardware"] = best->hardware;
        item["gflops"] = best->gflops();
        item["mean_cost_s"] = best->result.mean_cost();
        item["config_index"] = best->config_index;
        item["config"] = config_text(task ? &*task : nullptr, *best);
        item["steps_python"] = python;
      }
      out.push_back(item);
      continue;
    }
    std::cout << key << " on " << target << ": " << count << " records\n";
    if (!best) {
      std::cout << "  no valid record (every candidate failed)\n\n";
      continue;
    }
    std::cout << "  best      " << format_double(best->gflops(), 2) << " GFLOP/s  ("
              << format_seconds(best->result.mean_cost()) << " per call), config #" << best->config_index
              << "\n"
              << "  measured  on " << best->hardware << " with te " << best->te_version << "\n"
              << "  config    " << config_text(task ? &*task : nullptr, *best) << "\n"
              << "  schedule (Python):\n";
    std::stringstream lines(python);
    std::string line;
    while (std::getline(lines, line)) std::cout << "    " << line << "\n";
    std::cout << "\n";
  }
  if (a.json) std::cout << out.dump(2) << std::endl;
  if (log.skipped_lines > 0)
    std::cerr << "autotune: skipped " << log.skipped_lines << " malformed line(s) in " << a.log << "\n";
  if (valid == 0) {
    std::cerr << "autotune: no valid record" << (only_key ? " for " + *only_key : std::string()) << " in "
              << a.log << "\n";
    return kExitNoValid;
  }
  return kExitOk;
}

// ---------------------------------------------------------------- autotune export

int run_export(const ExportArgs& a) {
  te::LogExportOptions options;
  options.ops = a.ops;
  options.target = a.target;
  options.prefix = a.prefix;
  te::ExportResult r = te::export_tuning_log(a.log, a.output, options);  // te::Error -> exit 1
  if (a.json) {
    std::cout << json{{"library", r.library}, {"header", r.header}, {"manifest", r.manifest}, {"kernels", r.kernels}}
                     .dump()
              << std::endl;
  } else {
    std::cout << "exported " << r.kernels.size() << " kernel(s) to " << r.library << " (header " << r.header
              << ", manifest " << r.manifest << "):\n";
    for (const std::string& k : r.kernels) std::cout << "  " << k << "\n";
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  TuneArgs tune_args;
  BestArgs best_args;
  CLI::App app{
      "autotune: search schedules of a te operator on this machine, logging every measured candidate"};
  app.footer(kExitCodeHelp);
  app.add_flag("--list-ops", tune_args.list_ops,
               "list the operators with their shape keys and targets, then exit");
  app.add_option("--op", tune_args.op, "operator to tune (see --list-ops)");
  std::string set_names;  // from the registry, so a new set needs no edit here
  for (const auto& set : te::ops::workload_sets()) set_names += (set_names.empty() ? "" : ", ") + set.name;
  app.add_option("--workloads", tune_args.workloads,
                 "tune a named set of workloads in one job instead of one --op: " + set_names +
                     " (see --list-ops); --trials is then the budget of the whole set");
  app.add_option("--target", tune_args.target, "llvm (this CPU) or cuda")->capture_default_str();
  app.add_option("--dtype", tune_args.dtype,
                 "float32 (default) or float16: with --op matmul, the float16 GEMM with float32 accumulation "
                 "(template matmul_fp16, cuda only; workload key matmul_fp16(m,n,k))");
  app.add_option("--shape", tune_args.shape,
                 "workload as key=value,... over the operator's defaults, e.g. m=512,n=512,k=512");
  app.add_option("--trials", tune_args.trials,
                 "total candidates to measure (records already in the log count)")
      ->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  app.add_option("--log", tune_args.log,
                 "JSON-lines log to append to and resume from (default ./<op>_<target>.jsonl)");
  app.add_option("--tuner", tune_args.tuner, "search: xgb, evolutionary, sa, random or grid")
      ->check(CLI::IsMember({"xgb", "evolutionary", "sa", "random", "grid"}))
      ->capture_default_str();
  app.add_option("--cost-model", tune_args.cost_model,
                 "objective of the XGBoost cost model of the xgb and evolutionary tuners: rank or regression")
      ->check(CLI::IsMember({"rank", "regression"}))
      ->capture_default_str();
  app.add_option("--seed", tune_args.seed, "seed of the search and of the random inputs")
      ->capture_default_str();
  app.add_option("--timeout", tune_args.timeout_s, "seconds a candidate may run before it is killed")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--min-repeat-ms", tune_args.min_repeat_ms,
                 "each of a candidate's 3 timed repeats calls it until this many milliseconds have passed "
                 "(0: one call per repeat)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--parallel", tune_args.parallel, "build workers (0: one per hardware thread)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--batch", tune_args.batch, "candidates measured per round")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--early-stopping", tune_args.early_stopping,
                 "stop after this many trials without improvement (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--refine", tune_args.refine,
                 "after the search, measure the best config's unmeasured one-knob neighbours, then the N best "
                 "configs twice more each, interleaved; the re-measured configs then decide by their median records (0: off). "
                 "With --trials already reached in the log, refines the log without searching")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--json", tune_args.json, "print one JSON summary object on stdout at the end");
  app.add_flag("--no-progress", tune_args.no_progress, "no progress bar on stderr");

  CLI::App* best = app.add_subcommand(
      "best", "print the best record of each workload in a log, with its schedule as Python");
  best->footer(kExitCodeHelp);
  best->add_option("--log", best_args.log, "the tuning log")->required();
  best->add_option("--op", best_args.op, "only this operator's workload (with --shape)");
  best->add_option("--shape", best_args.shape,
                   "the workload's shape, as for tuning (default: the operator's)");
  best->add_option("--target", best_args.target, "only records of this target");
  best->add_option("--dtype", best_args.dtype, "with --op matmul: float16 selects matmul_fp16's workload");
  best->add_flag("--json", best_args.json, "print a JSON array instead of text");
  ExportArgs export_args;
  CLI::App* exp = app.add_subcommand(
      "export", "build the best kernel of each workload in a log into one shared library + C header + manifest");
  exp->footer(kExitCodeHelp);
  exp->add_option("--log", export_args.log, "the tuning log")->required();
  exp->add_option("-o,--output", export_args.output, "the library to write, e.g. libkernels.so")->required();
  exp->add_option("--ops", export_args.ops, "only these operators (comma-separated; default all)")->delimiter(',');
  exp->add_option("--target", export_args.target, "records of this target")->capture_default_str();
  exp->add_option("--prefix", export_args.prefix, "prefix of the library's own C functions (default from -o)");
  exp->add_flag("--json", export_args.json, "print the written paths and kernel names as JSON");
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message naming the option
    return kExitUsage;
  }

  try {
    if (best->parsed()) return run_best(best_args);
    if (exp->parsed()) return run_export(export_args);
    if (tune_args.list_ops) return list_ops(tune_args.json);
    if (!tune_args.workloads.empty()) return run_workload_set(tune_args);
    return run_tuning(tune_args);
  } catch (const UsageError& e) {
    std::cerr << "autotune: " << e.what() << "\n";
    return kExitUsage;
  } catch (const te::Error& e) {
    std::cerr << "autotune: " << e.what() << "\n";
    return kExitUsage;
  } catch (const te::InternalError& e) {
    std::cerr << "autotune: internal error (a bug in te): " << e.what() << "\n";
    return kExitInternal;
  } catch (const std::exception& e) {
    std::cerr << "autotune: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}
