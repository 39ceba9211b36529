// src/schedule/steps.cc — recorded steps: replay on a fresh schedule, JSON (the tuning-log
// form, parsed defensively since logs are untrusted files) and TVM-style Python text. Steps
// name stages and axes by position at the time of the step, so replay never depends on names;
// the Python printer replays the steps itself to learn the names of what each step touches.
#include <nlohmann/json.hpp>

#include <cctype>
#include <climits>
#include <memory>
#include <sstream>
#include <unordered_set>

#include "te/schedule.h"
#include "schedule/schedule_util.h"
#include "schedule/untrusted_json.h"

namespace te {

using namespace schedule_detail;

namespace {

// The arity of each primitive: axes, integers, strings (-1: any number; bind's extent is optional).
struct StepShape {
  const char* primitive;
  int iters, ints_min, ints_max, strs;
};
constexpr StepShape kStepShapes[] = {
    {"split", 1, 1, 1, 0},        {"split_nparts", 1, 1, 1, 0}, {"tile", 2, 2, 2, 0},
    {"fuse", 2, 0, 0, 0},         {"reorder", -1, 0, 0, 0},     {"vectorize", 1, 0, 0, 0},
    {"unroll", 1, 0, 0, 0},       {"parallel", 1, 0, 0, 0},     {"bind", 1, 0, 1, 1},
    {"pragma", 1, 1, 1, 1},       {"compute_at", 0, 0, 0, 0},   {"compute_inline", 0, 0, 0, 0},
    {"compute_root", 0, 0, 0, 0}, {"cache_read", 0, 1, 1, 1},   {"cache_write", 0, 1, 1, 1},
    {"rfactor", 1, 2, 2, 0},      {"storage_align", 0, 3, 3, 0}, {"prefetch", -1, 2, 2, 0},
    {"double_buffer", 0, 0, 0, 0}, {"tensorize", 1, 0, 0, 1},  {"pipeline", 0, 1, 1, 0},
};

// te::Error unless step has the shape of its primitive. `where` prefixes the message.
void check_step_shape(const Step& step, const std::string& where) {
  const StepShape* shape = nullptr;
  for (const StepShape& s : kStepShapes)
    if (step.primitive == s.primitive) shape = &s;
  if (!shape) fail(where, ": unknown primitive '", step.primitive, "'");
  if (shape->iters >= 0 && int(step.iters.size()) != shape->iters)
    fail(where, " (", step.primitive, "): expected ", shape->iters, " axis position(s), got ", step.iters.size());
  if (int(step.ints.size()) < shape->ints_min || int(step.ints.size()) > shape->ints_max)
    fail(where, " (", step.primitive, "): expected ", shape->ints_min, " to ", shape->ints_max,
         " integer(s), got ", step.ints.size());
  if (int(step.strs.size()) != shape->strs)
    fail(where, " (", step.primitive, "): expected ", shape->strs, " string(s), got ", step.strs.size());
  if (step.primitive == "compute_at" && (step.target_stage < 0 || step.target_iter < 0))
    fail(where, " (compute_at): needs target_stage and target_iter");
  if (step.primitive == "prefetch" && step.target_stage < 0) fail(where, " (prefetch): needs target_stage");
  if (step.primitive == "prefetch" && (step.iters.empty() || step.iters.size() > 2))
    fail(where, " (prefetch): expected 1 or 2 axis positions (the loop, and the loop to spread over), got ",
         step.iters.size());
  if (step.primitive == "cache_read" && step.readers.empty()) fail(where, " (cache_read): needs readers");
}

// ---------------------------------------------------------------- Python names
const std::unordered_set<std::string>& python_reserved() {
  static const std::unordered_set<std::string> words = {
      "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
      "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
      "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
      "s", "te"};  // s and te name the schedule and the module in the printed code
  return words;
}

class PythonNames {
 public:
  // A fresh identifier derived from name ("k.outer" -> "k_outer"), unique in this program.
  std::string fresh(const std::string& name) {
    std::string id;
    for (char c : name) id += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
    if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0]))) id = "_" + id;
    if (python_reserved().count(id)) id += "_";
    std::string candidate = id;
    for (int n = 1; used_.count(candidate); ++n) candidate = id + "_" + std::to_string(n);
    used_.insert(candidate);
    return candidate;
  }
  std::unordered_map<const StageNode*, std::string> tensors;  // the tensor variable of each stage
  std::unordered_map<const IterVarNode*, std::string> axes;   // axes bound by earlier steps

 private:
  std::unordered_set<std::string> used_;
};

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Emits the Python for each step while replaying it.
class PythonPrinter {
 public:
  explicit PythonPrinter(const Schedule& sch) {
    std::string outputs;
    for (const Stage& stage : sch.stages()) names_.tensors[stage.get()] = names_.fresh(stage->op->name);
    for (const Operation& op : sch->outputs)
      outputs += (outputs.empty() ? "" : ", ") + names_.tensors.at(find_stage(sch.get(), op.get())) + ".op";
    os_ << "s = te.create_schedule([" << outputs << "])\n";
  }
  std::string tensor(const StageNode* stage) const { return names_.tensors.at(stage); }
  std::string stage(const StageNode* stage) const { return "s[" + tensor(stage) + "]"; }
  // An axis already bound to a variable, or the op's root axis expression.
  std::string axis(const StageNode* stage, const IterVar& iv) const {
    if (auto it = names_.axes.find(iv.get()); it != names_.axes.end()) return it->second;
    if (const auto* compute = stage->op.as<ComputeOpNode>()) {
      if (int i = find_axis(compute->axis, iv); i >= 0) return stage_op(stage) + ".axis[" + std::to_string(i) + "]";
      if (int i = find_axis(compute->reduce_axis, iv); i >= 0)
        return stage_op(stage) + ".reduce_axis[" + std::to_string(i) + "]";
    }
    TE_ICHECK(false, "axis ", axis_name(iv), " of stage ", stage->op->name, " has no Python name");
    return "";
  }
  std::string bind_axis(const IterVar& iv) { return names_.axes[iv.get()] = names_.fresh(axis_name(iv)); }
  std::string bind_tensor(const StageNode* stage) {
    return names_.tensors[stage] = names_.fresh(stage->op->name);
  }
  std::ostream& line() { return os_; }
  std::string str() const { return os_.str(); }

 private:
  std::string stage_op(const StageNode* stage) const { return this->stage(stage) + ".op"; }
  PythonNames names_;
  std::ostringstream os_;
};

Stage stage_at(const Schedule& sch, int index, const char* what) {
  if (index < 0 || index >= int(sch.stages().size()))
    fail(what, " index ", index, " is out of range (the schedule has ", sch.stages().size(), " stages)");
  return sch.stages()[index];
}

IterVar leaf_at(const Stage& stage, int pos) {
  if (pos < 0 || pos >= int(stage->leaf_iter_vars.size()))
    fail("axis position ", pos, " is out of range for stage ", stage->op->name, " (leaves: ",
         axis_list(stage->leaf_iter_vars), ")");
  return stage->leaf_iter_vars[pos];
}

int to_int(int64_t v, const char* what) {
  if (v < INT_MIN || v > INT_MAX) fail(what, " ", v, " is out of range");
  return int(v);
}

// Applies one step to sch (through the public primitives, so sch records it again).
void apply_step(Schedule& sch, const Step& step, PythonPrinter* py) {
  const std::string& p = step.primitive;
  Stage stage = stage_at(sch, step.stage, "stage");
  std::vector<IterVar> axes;
  for (int pos : step.iters) axes.push_back(leaf_at(stage, pos));
  std::string s = py ? py->stage(stage.get()) : "";
  auto ax = [&](size_t i) { return py->axis(stage.get(), axes[i]); };
  if (p == "split" || p == "split_nparts") {
    std::string parent = py ? ax(0) : "";
    auto [outer, inner] = p == "split" ? stage.split(axes[0], step.ints[0]) : stage.split_nparts(axes[0], step.ints[0]);
    if (py)
      py->line() << py->bind_axis(outer) << ", " << py->bind_axis(inner) << " = " << s << "." << "split(" << parent
                 << (p == "split" ? ", factor=" : ", nparts=") << step.ints[0] << ")\n";
  } else if (p == "tile") {
    std::string x = py ? ax(0) : "", y = py ? ax(1) : "";
    auto r = stage.tile(axes[0], axes[1], step.ints[0], step.ints[1]);
    if (py)
      py->line() << py->bind_axis(r[0]) << ", " << py->bind_axis(r[1]) << ", " << py->bind_axis(r[2]) << ", "
                 << py->bind_axis(r[3]) << " = " << s << ".tile(" << x << ", " << y << ", x_factor=" << step.ints[0]
                 << ", y_factor=" << step.ints[1] << ")\n";
  } else if (p == "fuse") {
    std::string a = py ? ax(0) : "", b = py ? ax(1) : "";
    IterVar fused = stage.fuse(axes[0], axes[1]);
    if (py) py->line() << py->bind_axis(fused) << " = " << s << ".fuse(" << a << ", " << b << ")\n";
  } else if (p == "reorder") {
    std::string list;
    for (size_t i = 0; py && i < axes.size(); ++i) list += (i ? ", " : "") + ax(i);
    stage.reorder(axes);
    if (py) py->line() << s << ".reorder(" << list << ")\n";
  } else if (p == "vectorize" || p == "unroll" || p == "parallel") {
    if (py) py->line() << s << "." << p << "(" << ax(0) << ")\n";
    if (p == "vectorize") stage.vectorize(axes[0]);
    else if (p == "unroll") stage.unroll(axes[0]);
    else stage.parallel(axes[0]);
  } else if (p == "bind") {
    Range dom;
    if (!step.ints.empty()) dom = Range(Expr(0), Expr(to_int(step.ints[0], "thread extent")));
    std::string a = py ? ax(0) : "";
    stage.bind(axes[0], thread_axis(step.strs[0], dom));
    if (py) {
      std::string extent = step.ints.empty() ? "" : "(0, " + std::to_string(step.ints[0]) + "), ";
      py->line() << s << ".bind(" << a << ", te.thread_axis(" << extent << quote(step.strs[0]) << "))\n";
    }
  } else if (p == "pragma") {
    if (py) py->line() << s << ".pragma(" << ax(0) << ", " << quote(step.strs[0]) << ", " << step.ints[0] << ")\n";
    stage.pragma(axes[0], step.strs[0], make_const(DataType::int32(), double(step.ints[0])));
  } else if (p == "prefetch") {
    Stage source = stage_at(sch, step.target_stage, "prefetch tensor stage");
    int vi = to_int(step.ints[1], "value index");
    if (vi < 0 || vi >= source->op->num_outputs()) fail("stage ", source->op->name, " has no output ", vi);
    std::string tensor = py ? py->tensor(source.get()) + (vi ? ".op.output(" + std::to_string(vi) + ")" : "") : "";
    bool spread = axes.size() > 1;
    if (py)
      py->line() << s << ".prefetch(" << tensor << ", " << ax(0) << ", " << step.ints[0]
                 << (spread ? ", spread=" + ax(1) : std::string()) << ")\n";
    stage.prefetch(source->op.output(vi), axes[0], step.ints[0], spread ? axes[1] : IterVar());
  } else if (p == "compute_at") {
    Stage parent = stage_at(sch, step.target_stage, "compute_at target stage");
    IterVar scope = leaf_at(parent, step.target_iter);
    if (py) py->line() << s << ".compute_at(" << py->stage(parent.get()) << ", " << py->axis(parent.get(), scope) << ")\n";
    stage.compute_at(parent, scope);
  } else if (p == "storage_align") {
    const auto* compute = stage->op.as<ComputeOpNode>();
    if (!compute) fail("storage_align: stage ", stage->op->name, " is not a compute stage");
    if (step.ints[0] < 0 || step.ints[0] >= int64_t(compute->axis.size()))
      fail("storage_align: dimension ", step.ints[0], " is out of range for stage ", stage->op->name, " (",
           compute->axis.size(), " dimensions)");
    IterVar axis = compute->axis[size_t(step.ints[0])];
    if (py)
      py->line() << s << ".storage_align(" << py->axis(stage.get(), axis) << ", " << step.ints[1] << ", "
                 << step.ints[2] << ")\n";
    stage.storage_align(axis, step.ints[1], step.ints[2]);
  } else if (p == "tensorize") {
    if (py) py->line() << s << ".tensorize(" << ax(0) << ", " << quote(step.strs[0]) << ")\n";
    stage.tensorize(axes[0], step.strs[0]);
  } else if (p == "double_buffer") {
    if (py) py->line() << s << ".double_buffer()\n";
    stage.double_buffer();
  } else if (p == "pipeline") {
    if (py) py->line() << s << ".pipeline(" << step.ints[0] << ")\n";
    stage.pipeline(step.ints[0]);
  } else if (p == "compute_inline") {
    if (py) py->line() << s << ".compute_inline()\n";
    stage.compute_inline();
  } else if (p == "compute_root") {
    if (py) py->line() << s << ".compute_root()\n";
    stage.compute_root();
  } else if (p == "cache_read" || p == "cache_write" || p == "rfactor") {
    int vi = to_int(step.ints[p == "rfactor" ? 1 : 0], "value index");
    if (vi < 0 || vi >= stage->op->num_outputs())
      fail("stage ", stage->op->name, " has no output ", vi);
    Tensor tensor = stage->op.output(vi);
    std::string t = py ? py->tensor(stage.get()) + (vi ? ".op.output(" + std::to_string(vi) + ")" : "") : "";
    std::string call;
    Tensor result;
    if (p == "cache_read") {
      std::vector<Operation> readers;
      std::string list;
      for (int r : step.readers) {
        Stage reader = stage_at(sch, r, "cache_read reader stage");
        readers.push_back(reader->op);
        if (py) list += (list.empty() ? "" : ", ") + py->tensor(reader.get());
      }
      call = "s.cache_read(" + t + ", " + quote(step.strs[0]) + ", [" + list + "])";
      result = sch.cache_read(tensor, step.strs[0], readers);
    } else if (p == "cache_write") {
      call = "s.cache_write(" + t + ", " + quote(step.strs[0]) + ")";
      result = sch.cache_write(tensor, step.strs[0]);
    } else {
      int factor_axis = to_int(step.ints[0], "factor_axis");
      if (py) call = "s.rfactor(" + t + ", " + ax(0) + ", factor_axis=" + std::to_string(factor_axis) + ")";
      result = sch.rfactor(tensor, axes[0], factor_axis);
    }
    if (py) py->line() << py->bind_tensor(find_stage(sch.get(), result.op().get())) << " = " << call << "\n";
  } else {
    fail("unknown primitive '", p, "'");
  }
}

// Replays steps on a fresh schedule of outputs; with py, also prints them as Python.
Schedule replay_impl(const std::vector<Operation>& outputs, const std::vector<Step>& steps,
                     std::unique_ptr<PythonPrinter>* py_holder) {
  Schedule sch = create_schedule(outputs);
  if (py_holder) *py_holder = std::make_unique<PythonPrinter>(sch);
  for (size_t i = 0; i < steps.size(); ++i) {
    std::string where = detail::cat("replay: step ", i);
    check_step_shape(steps[i], where);
    try {
      apply_step(sch, steps[i], py_holder ? py_holder->get() : nullptr);
    } catch (const Error& e) {
      fail(where, " (", steps[i].primitive, "): ", e.what());
    }
  }
  return sch;
}

// ---------------------------------------------------------------- JSON
using nlohmann::json;

int64_t json_int(const json& v, const std::string& where, const char* key) {
  if (!v.is_number_integer()) fail(where, ": \"", key, "\" must be an integer, got ", v.dump());
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) fail(where, ": \"", key, "\" is too large");
  return v.get<int64_t>();
}

int json_small_int(const json& v, const std::string& where, const char* key) {
  int64_t x = json_int(v, where, key);
  if (x < INT_MIN || x > INT_MAX) fail(where, ": \"", key, "\" = ", x, " is out of range");
  return int(x);
}

template <typename T, typename F>
std::vector<T> json_list(const json& obj, const char* key, const std::string& where, F convert) {
  std::vector<T> out;
  auto it = obj.find(key);
  if (it == obj.end()) return out;
  if (!it->is_array()) fail(where, ": \"", key, "\" must be a list, got ", it->dump());
  for (const json& v : *it) out.push_back(convert(v));
  return out;
}

}  // namespace

Schedule Schedule::replay(const std::vector<Operation>& outputs, const std::vector<Step>& steps) {
  return replay_impl(outputs, steps, nullptr);
}

std::string Schedule::steps_python() const {
  if (!defined()) fail("steps_python: the schedule is undefined");
  std::unique_ptr<PythonPrinter> holder;
  replay_impl(get()->outputs, get()->steps, &holder);
  return holder->str();
}

std::string Schedule::steps_json() const {
  if (!defined()) fail("steps_json: the schedule is undefined");
  json steps = json::array();
  for (const Step& step : get()->steps) {
    json obj = {{"p", step.primitive}, {"stage", step.stage}};
    if (!step.iters.empty()) obj["iters"] = step.iters;
    if (!step.ints.empty()) obj["ints"] = step.ints;
    if (!step.strs.empty()) obj["strs"] = step.strs;
    if (step.target_stage >= 0) obj["target_stage"] = step.target_stage;
    if (step.target_iter >= 0) obj["target_iter"] = step.target_iter;
    if (!step.readers.empty()) obj["readers"] = step.readers;
    steps.push_back(std::move(obj));
  }
  return steps.dump();
}

std::vector<Step> Schedule::steps_from_json(const std::string& text) {
  json doc = parse_untrusted_json(text);
  if (doc.is_discarded())
    fail("steps_from_json: the text is not valid JSON (or nests deeper than ", kMaxUntrustedJsonDepth, " levels)");
  if (!doc.is_array()) fail("steps_from_json: expected a JSON list of steps, got ", doc.type_name());
  std::vector<Step> steps;
  for (size_t i = 0; i < doc.size(); ++i) {
    const json& obj = doc[i];
    std::string where = detail::cat("steps_from_json: step ", i);
    if (!obj.is_object()) fail(where, ": expected an object, got ", obj.type_name());
    Step step;
    auto p = obj.find("p");
    if (p == obj.end() || !p->is_string()) fail(where, ": missing primitive name \"p\" (a string)");
    step.primitive = p->get<std::string>();
    auto stage = obj.find("stage");
    if (stage == obj.end()) fail(where, ": missing \"stage\"");
    step.stage = json_small_int(*stage, where, "stage");
    auto small = [&](const char* key) { return [&, key](const json& v) { return json_small_int(v, where, key); }; };
    step.iters = json_list<int>(obj, "iters", where, small("iters"));
    step.readers = json_list<int>(obj, "readers", where, small("readers"));
    step.ints = json_list<int64_t>(obj, "ints", where, [&](const json& v) { return json_int(v, where, "ints"); });
    step.strs = json_list<std::string>(obj, "strs", where, [&](const json& v) {
      if (!v.is_string()) fail(where, ": \"strs\" entries must be strings, got ", v.dump());
      return v.get<std::string>();
    });
    if (auto it = obj.find("target_stage"); it != obj.end()) step.target_stage = json_small_int(*it, where, "target_stage");
    if (auto it = obj.find("target_iter"); it != obj.end()) step.target_iter = json_small_int(*it, where, "target_iter");
    check_step_shape(step, where);
    steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace te
