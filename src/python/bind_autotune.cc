// src/python/bind_autotune.cc — the autotuner for Python (te._core._autotune; the user-facing
// API is python/te/autotune.py): Config and its knobs, templates written in Python, tasks,
// tuning records and logs, and the tuning loop.
//
// The GIL: tune() releases it for the whole C++ loop (builder threads, the runner child, the
// cost model) and every call back into Python (a template being instantiated, a progress
// callback) takes it again with gil_scoped_acquire, from whichever thread makes the call.
// Python callables are held through PyCallable so that C++ threads can copy the
// std::functions that hold them without touching Python reference counts.
#include <memory>
#include <string>
#include <vector>

#include "python/bindings.h"
#include "te/autotune/log.h"
#include "te/autotune/measure.h"
#include "te/autotune/task.h"
#include "te/autotune/tuner.h"
#include "te/ops.h"

namespace te::python {

namespace {

using namespace te::autotune;

// te.TEError, set once when the module is bound (the module lives as long as the process).
PyObject* te_error_type = nullptr;
PyObject* te_internal_error_type = nullptr;

bool interpreter_alive() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsInitialized() && !Py_IsFinalizing();
#else
  return Py_IsInitialized() && !_Py_IsFinalizing();
#endif
}

// One reference to a Python callable, shared by every copy of the C++ function that calls
// it. The last owner drops the reference with the GIL held; at process exit, after the
// interpreter is gone (the template registry is a static of libte), it is leaked instead.
struct PyCallable {
  PyObject* fn;
  explicit PyCallable(py::object f) : fn(f.release().ptr()) {}
  PyCallable(const PyCallable&) = delete;
  PyCallable& operator=(const PyCallable&) = delete;
  ~PyCallable() {
    if (!interpreter_alive()) return;
    py::gil_scoped_acquire gil;
    Py_DECREF(fn);
  }
  py::object get() const { return py::reinterpret_borrow<py::object>(fn); }
};

// "ZeroDivisionError: division by zero" then "Traceback (most recent call last): ...": the
// summary first, because logs keep only the first lines of an error.
std::string format_python_error(py::error_already_set& e) {
  try {
    py::module_ traceback = py::module_::import("traceback");
    py::str join("");
    std::string summary = join.attr("join")(traceback.attr("format_exception_only")(e.type(), e.value())).cast<std::string>();
    std::string trace = join.attr("join")(traceback.attr("format_exception")(e.type(), e.value(), e.trace())).cast<std::string>();
    while (!summary.empty() && summary.back() == '\n') summary.pop_back();
    return summary + "\n" + trace;
  } catch (py::error_already_set&) {
    return e.what();
  }
}

// A Python exception raised by user code called from the tuner, as a C++ exception: TEError
// (an illegal config, raised by te or by the template itself) becomes te::Error so that the
// search skips the config; any other exception also becomes te::Error, carrying the Python
// traceback so that the log and the caller see where the template broke. KeyboardInterrupt
// and SystemExit pass through unchanged: the user wants to stop.
[[noreturn]] void throw_as_te_error(py::error_already_set& e, const std::string& what) {
  if (e.matches(PyExc_KeyboardInterrupt) || e.matches(PyExc_SystemExit)) throw;
  if (te_error_type && e.matches(te_error_type)) throw Error(what + ": " + std::string(py::str(e.value())));
  if (te_internal_error_type && e.matches(te_internal_error_type))
    throw InternalError(what + ": " + std::string(py::str(e.value())));
  throw Error(what + " raised " + format_python_error(e));
}

std::string type_name(py::handle value) {
  return py::str(py::type::of(value).attr("__name__")).cast<std::string>();
}

// What a template returns, (schedule, [tensors]), as an Instance.
Instance to_instance(py::handle out, const std::string& what) {
  const std::string expected = ": a template must return (schedule, [tensors]) — the schedule and the kernel "
                               "arguments in call order";
  if (!(py::isinstance<py::tuple>(out) || py::isinstance<py::list>(out)) || py::len(out) != 2)
    fail(what, expected, "; got ", type_name(out));
  py::sequence pair = py::reinterpret_borrow<py::sequence>(out);
  if (!py::isinstance<Schedule>(pair[0])) fail(what, expected, "; its first item is a ", type_name(pair[0]));
  py::object tensors = pair[1];
  if (!(py::isinstance<py::tuple>(tensors) || py::isinstance<py::list>(tensors)))
    fail(what, expected, "; its second item is a ", type_name(tensors));
  Instance instance;
  instance.schedule = pair[0].cast<Schedule>();
  for (py::handle t : tensors) {
    if (!py::isinstance<Tensor>(t)) fail(what, expected, "; an argument is a ", type_name(t));
    instance.args.push_back(t.cast<Tensor>());
  }
  if (instance.args.empty()) fail(what, expected, "; the tensor list is empty");
  return instance;
}

py::tuple instance_to_python(const Instance& instance) {
  return py::make_tuple(instance.schedule, py::cast(instance.args));
}

std::vector<Tensor> to_tensors(py::handle value, const std::string& what) {
  if (py::isinstance<Tensor>(value)) return {value.cast<Tensor>()};
  if (!(py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)))
    fail(what, ": expected a list of tensors (inputs first, outputs last), got ", type_name(value));
  std::vector<Tensor> out;
  for (py::handle h : value) {
    if (!py::isinstance<Tensor>(h)) fail(what, ": every item must be a tensor, got ", type_name(h));
    out.push_back(h.cast<Tensor>());
  }
  if (out.empty()) fail(what, ": the tensor list is empty");
  return out;
}

// The C++ template that runs a Python function fn(cfg, args, target_str) -> (s, [tensors]).
// cfg is passed by reference: in space mode the knobs the function defines land in the
// caller's Config. The Python side (te.autotune) stops using it when fn returns.
TemplateFn make_template_fn(std::shared_ptr<PyCallable> callable, const std::string& name) {
  return [callable, name](Config& cfg, const std::vector<int64_t>& args, const Target& target) -> Instance {
    py::gil_scoped_acquire gil;
    const std::string what = "template " + name;
    try {
      py::object cfg_ref = py::cast(&cfg, py::return_value_policy::reference);
      py::object out = callable->get()(cfg_ref, py::cast(args), target.str());
      return to_instance(out, what);
    } catch (py::error_already_set& e) {
      throw_as_te_error(e, what);
    }
  };
}

SplitOptions split_options(const std::string& policy, int64_t max_factor, py::handle candidates,
                           const std::string& what) {
  SplitOptions options;
  if (policy == "factors") {
    options.policy = SplitPolicy::kFactors;
  } else if (policy == "power2" || policy == "power_of_two") {
    options.policy = SplitPolicy::kPowerOfTwo;
  } else if (policy == "candidates" || policy == "candidate") {
    options.policy = SplitPolicy::kCandidates;
    if (candidates.is_none()) fail(what, ": policy=\"candidates\" needs candidates=[[...], ...] (full size tuples)");
    options.candidates = candidates.cast<std::vector<std::vector<int64_t>>>();
  } else {
    fail(what, ": unknown policy \"", policy, "\"; use \"factors\", \"power2\" or \"candidates\"");
  }
  if (!candidates.is_none() && options.policy != SplitPolicy::kCandidates)
    fail(what, ": candidates= is only used with policy=\"candidates\"");
  if (max_factor < 0) fail(what, ": max_factor must be >= 0 (0: no limit), got ", max_factor);
  options.max_factor = max_factor;
  return options;
}

const char* knob_kind_name(Knob::Kind kind) {
  switch (kind) {
    case Knob::kSplit: return "split";
    case Knob::kReorder: return "reorder";
    case Knob::kAnnotate: return "annotate";
    default: return "other";
  }
}

IterVar to_axis(py::handle value, const std::string& what) {
  if (!py::isinstance<IterVar>(value)) fail(what, ": expected an axis (IterVar), got ", type_name(value));
  return value.cast<IterVar>();
}

void bind_config(py::module_& at) {
  py::class_<Knob>(at, "Knob", "One knob of a tuning space: a name and its list of choices.")
      .def_readonly("name", &Knob::name)
      .def_property_readonly("kind", [](const Knob& k) { return knob_kind_name(k.kind); })
      .def_readonly("choices", &Knob::choices)
      .def("describe", [](const Knob& k, int64_t choice) {
        if (choice < 0 || choice >= static_cast<int64_t>(k.choices.size()))
          fail("knob ", k.name, ": choice ", choice, " is out of range [0, ", k.choices.size(), ")");
        return k.describe(choice);
      }, py::arg("choice"))
      .def("__len__", [](const Knob& k) { return k.choices.size(); })
      .def("__repr__", [](const Knob& k) {
        return "Knob(" + k.name + ", " + knob_kind_name(k.kind) + ", " + std::to_string(k.choices.size()) + " choices)";
      });

  py::class_<Config>(at, "Config", "A point of a tuning space (apply mode) or the space being defined (space mode).")
      .def(py::init<>())
      .def_property_readonly("is_space", &Config::is_space)
      .def("define_split", [](Config& c, const std::string& name, py::handle axis, int num_outputs,
                              const std::string& policy, int64_t max_factor, py::handle candidates) {
        std::string what = "define_split " + name;
        if (num_outputs < 1) fail(what, ": num_outputs must be >= 1, got ", num_outputs);
        SplitOptions options = split_options(policy, max_factor, candidates, what);
        if (py::isinstance<IterVar>(axis)) return c.define_split(name, axis.cast<IterVar>(), num_outputs, options);
        if (py::isinstance<py::int_>(axis) && !py::isinstance<py::bool_>(axis))
          return c.define_split(name, axis.cast<int64_t>(), num_outputs, options);
        fail(what, ": expected an axis (IterVar) or an extent (int), got ", type_name(axis));
      }, py::arg("name"), py::arg("axis"), py::arg("num_outputs") = 2, py::arg("policy") = "factors",
         py::arg("max_factor") = 0, py::arg("candidates") = py::none())
      .def("define_reorder", [](Config& c, const std::string& name, py::handle axes, const std::string& policy) {
        return c.define_reorder(name, to_iter_var_list(axes, "define_reorder " + name), policy);
      }, py::arg("name"), py::arg("axes"), py::arg("policy") = "all")
      .def("define_annotate", [](Config& c, const std::string& name, py::handle axes, const std::string& policy) {
        return c.define_annotate(name, to_iter_var_list(axes, "define_annotate " + name), policy);
      }, py::arg("name"), py::arg("axes"), py::arg("policy"))
      .def("define_knob", &Config::define_knob, py::arg("name"), py::arg("values"))
      .def("apply_split", [](const Config& c, const std::string& name, Stage stage, py::handle axis) {
        return c.apply_split(name, stage, to_axis(axis, "apply_split " + name));
      }, py::arg("name"), py::arg("stage"), py::arg("axis"))
      .def("apply_reorder", [](const Config& c, const std::string& name, Stage stage, py::handle axes) {
        return c.apply_reorder(name, stage, to_iter_var_list(axes, "apply_reorder " + name));
      }, py::arg("name"), py::arg("stage"), py::arg("axes"))
      .def("apply_annotate", [](const Config& c, const std::string& name, Stage stage, py::handle axes) {
        c.apply_annotate(name, stage, to_iter_var_list(axes, "apply_annotate " + name));
      }, py::arg("name"), py::arg("stage"), py::arg("axes"))
      .def("get", &Config::get, py::arg("name"))
      .def("value", &Config::value, py::arg("name"))
      .def_property_readonly("knobs", &Config::knobs)
      .def_property_readonly("space_size", &Config::space_size)
      .def_property_readonly("choices", &Config::choices)
      .def("with_choices", &Config::with_choices, py::arg("choices"))
      .def("from_index", &Config::from_index, py::arg("index"))
      .def("index", &Config::index)
      .def("to_json", &Config::to_json)
      .def("from_json", &Config::from_json, py::arg("json"))
      .def("__str__", &Config::to_string);
}

void bind_records(py::module_& at) {
  at.def("have_xgboost", [] { return have_xgboost(); }, "Whether te was built with XGBoost (the \"xgb\" tuner).");

  py::class_<MeasureResult>(at, "MeasureResult", "One candidate's measurement.")
      .def_property_readonly("error_kind", [](const MeasureResult& r) { return to_string(r.error); })
      .def_readonly("error_message", &MeasureResult::error_message)
      .def_readonly("costs", &MeasureResult::costs)
      .def_readonly("build_seconds", &MeasureResult::build_seconds)
      .def_readonly("timestamp", &MeasureResult::timestamp)
      .def_readonly("code_hash", &MeasureResult::code_hash)
      .def_property_readonly("mean_cost", &MeasureResult::mean_cost);

  py::class_<Record>(at, "Record", "One tuning record (a line of a log).")
      .def_readonly("version", &Record::version)
      .def_readonly("workload_key", &Record::workload_key)
      .def_readonly("target", &Record::target)
      .def_readonly("hardware", &Record::hardware)
      .def_readonly("config_json", &Record::config_json)
      .def_readonly("config_index", &Record::config_index)
      .def_readonly("steps_json", &Record::steps_json)
      .def_readonly("result", &Record::result)
      .def_readonly("flop", &Record::flop)
      .def_readonly("te_version", &Record::te_version)
      .def_property_readonly("gflops", &Record::gflops)
      .def("to_json_line", &Record::to_json_line)
      .def_static("from_json_line", &Record::from_json_line, py::arg("line"));

  at.def("read_log", [](const std::string& path) {
    LogContents contents;
    {
      py::gil_scoped_release release;
      contents = read_log(path);
    }
    return py::make_tuple(contents.records, contents.skipped_lines);
  }, py::arg("path"), "(records, skipped_lines) of a log; a missing file is an empty log.");
  at.def("best_record", &best_record, py::arg("records"), py::arg("workload_key"), py::arg("target"),
         py::arg("hardware") = "");
  at.def("this_machine", &this_machine, py::arg("target"));
  at.def("hardware_description", [](const std::string& target) { return hardware_description(Target::parse(target)); },
         py::arg("target") = "llvm");
}

void bind_tasks(py::module_& at) {
  py::class_<Task>(at, "Task", "What is tuned: a template or a compute, with its arguments and a target.")
      .def_readonly("name", &Task::name)
      .def_readonly("args", &Task::args)
      .def_property_readonly("target", [](const Task& t) { return t.target.str(); })
      .def_readonly("workload_key", &Task::workload_key)
      .def_property_readonly("space", [](const Task& t) { return t.space; })  // a copy: the task's own stays intact
      .def_readonly("flop", &Task::flop)
      .def("instantiate", [](const Task& t, const Config& cfg) {
        if (cfg.is_space()) fail("task ", t.workload_key, ": instantiate needs a config of the space (",
                                 "task.space.from_index(i)), not the space itself");
        return instance_to_python(t.instantiate(cfg));
      }, py::arg("config"))
      .def("default_instance", [](const Task& t) { return instance_to_python(t.default_instance()); })
      .def("replay", [](const Task& t, const std::string& steps_json) {
        return instance_to_python(t.replay(Schedule::steps_from_json(steps_json)));
      }, py::arg("steps_json"));

  at.def("register_template", [](const std::string& name, py::function fn, bool replace) {
    register_template(name, make_template_fn(std::make_shared<PyCallable>(fn), name), replace);
  }, py::arg("name"), py::arg("fn"), py::arg("replace") = false,
     "Registers fn(cfg, args, target) -> (schedule, [tensors]) as a C++ template.");
  at.def("register_builtin_templates", [] { ops::register_builtin_templates(); },
         "Registers te's operator library (matmul, conv2d, ...) as templates; idempotent.");
  at.def("has_template", &has_template, py::arg("name"));
  at.def("template_names", &template_names);
  at.def("create_task", [](const std::string& name, const std::vector<int64_t>& args, const std::string& target) {
    return create_task(name, args, target);
  }, py::arg("name"), py::arg("args"), py::arg("target") = "llvm");
  at.def("auto_task", [](py::handle tensors, const std::string& target) {
    return auto_task(to_tensors(tensors, "te.autotune.auto_task"), target);
  }, py::arg("tensors"), py::arg("target") = "llvm");
  at.def("apply_history_best", [](const std::string& log_path, const Task& task) {
    return instance_to_python(apply_history_best(log_path, task));
  }, py::arg("log_path"), py::arg("task"));
}

// The measurement settings te.autotune.tune and refine take as arguments.
MeasureOptions measure_options_of(int number, int repeat, double min_repeat_ms, double timeout_s, int build_workers,
                                  uint64_t seed) {
  MeasureOptions options;
  options.number = number;
  options.repeat = repeat;
  options.min_repeat_ms = min_repeat_ms;
  options.timeout_s = timeout_s;
  options.build_workers = build_workers;
  options.seed = seed;
  return options;
}

void bind_tuning(py::module_& at) {
  py::class_<TuneResult>(at, "TuneResult", "What a tuning run found.")
      .def_readonly("best", &TuneResult::best)
      .def_readonly("trials_measured", &TuneResult::trials_measured)
      .def_readonly("trials_resumed", &TuneResult::trials_resumed)
      .def_readonly("errors", &TuneResult::errors)
      .def_readonly("best_gflops_curve", &TuneResult::best_gflops_curve);

  py::class_<RefineResult>(at, "RefineResult", "What refine() measured and found.")
      .def_readonly("best_before", &RefineResult::best_before)
      .def_readonly("best", &RefineResult::best)
      .def_readonly("neighbours_measured", &RefineResult::neighbours_measured)
      .def_readonly("remeasured", &RefineResult::remeasured);

  // Python checks the arguments (te.autotune.refine); the measurer re-runs repeated configs.
  at.def("refine", [](const Task& task, const std::string& log_path, int top, int rounds, int max_neighbours,
                      int batch_size, uint64_t seed, int number, int repeat, double min_repeat_ms, double timeout_s,
                      int build_workers) {
    RefineOptions options;
    options.top = top;
    options.rounds = rounds;
    options.max_neighbours = max_neighbours;
    options.batch_size = batch_size;
    options.log_path = log_path;
    options.progress = false;  // C++ stderr does not reach notebooks
    options.seed = seed;
    const MeasureOptions measure_options =
        measure_options_of(number, repeat, min_repeat_ms, timeout_s, build_workers, seed);
    py::gil_scoped_release release;
    Measurer measurer(task, measure_options);
    measurer.set_skip_duplicates(false);
    MeasureFn measure = [&measurer](const std::vector<Config>& configs) { return measurer.measure(configs); };
    return refine(task, measure, options);
  }, py::arg("task"), py::arg("log_path"), py::arg("top"), py::arg("rounds"), py::arg("max_neighbours"),
     py::arg("batch_size"), py::arg("seed"), py::arg("number"), py::arg("repeat"), py::arg("min_repeat_ms"),
     py::arg("timeout_s"), py::arg("build_workers"));

  // Python checks the arguments' ranges (te.autotune.tune); this is the C++ loop around them.
  at.def("tune", [](const Task& task, const std::string& tuner_kind, uint64_t seed, int trials, int batch_size,
                    int early_stopping, double epsilon, const std::string& log_path,
                    const std::vector<std::string>& transfer_logs, py::object callback, int number, int repeat,
                    double min_repeat_ms, double timeout_s, int build_workers, const std::string& cost_model) {
    TuneOptions options;
    options.trials = trials;
    options.batch_size = batch_size;
    options.early_stopping = early_stopping;
    options.epsilon = epsilon;
    options.log_path = log_path;
    options.transfer_logs = transfer_logs;
    options.progress = false;  // Python draws its own bar: C++ stderr does not reach notebooks
    if (!callback.is_none()) {
      auto holder = std::make_shared<PyCallable>(callback);
      options.callback = [holder](int done, int total, const Record& last) {
        py::gil_scoped_acquire gil;
        // Ctrl-C while the GIL was released is only noticed here (the loop's thread is the
        // caller's, the main thread in scripts and notebooks): it stops tuning.
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        holder->get()(done, total, last);  // an exception stops tuning and reaches the caller
      };
    }
    const MeasureOptions measure_options =
        measure_options_of(number, repeat, min_repeat_ms, timeout_s, build_workers, seed);

    py::gil_scoped_release release;
    std::unique_ptr<CostModel> model;  // null: make_tuner's default (rank, or random without XGBoost)
    if ((tuner_kind == "xgb" || tuner_kind == "evolutionary") && have_xgboost())
      model = make_xgb_model(cost_model, seed);
    std::unique_ptr<Tuner> tuner = make_tuner(tuner_kind, task, seed, std::move(model));
    Measurer measurer(task, measure_options);
    MeasureFn measure = [&measurer](const std::vector<Config>& configs) { return measurer.measure(configs); };
    return tune(task, *tuner, measure, options);
  }, py::arg("task"), py::arg("tuner"), py::arg("seed"), py::arg("trials"), py::arg("batch_size"),
     py::arg("early_stopping"), py::arg("epsilon"), py::arg("log_path"), py::arg("transfer_logs"),
     py::arg("callback"), py::arg("number"), py::arg("repeat"), py::arg("min_repeat_ms"), py::arg("timeout_s"),
     py::arg("build_workers"), py::arg("cost_model"));
}

}  // namespace

void bind_autotune(py::module_& m) {
  te_error_type = m.attr("TEError").ptr();
  te_internal_error_type = m.attr("TEInternalError").ptr();
  py::module_ at = m.def_submodule("_autotune", "The autotuner's C++ side; use it through te.autotune.");
  bind_config(at);
  bind_records(at);
  bind_tasks(at);
  bind_tuning(at);
}

}  // namespace te::python
