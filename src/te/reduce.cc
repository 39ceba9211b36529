// src/te/reduce.cc — reduce_axis, thread_axis, the built-in reductions (sum/max/min/prod) and
// user-defined commutative reducers (te::Reducer, like tvm.te.comm_reducer).
#include <array>

#include "te/operation.h"

namespace te {

namespace {

void check_reduce_axes(const char* what, const std::vector<IterVar>& axis) {
  if (axis.empty()) fail(what, ": no reduction axis given; pass at least one te::reduce_axis");
  for (size_t i = 0; i < axis.size(); ++i) {
    if (!axis[i].defined()) fail(what, ": reduction axis ", i, " is undefined");
    if (axis[i].type() != IterVarType::kCommReduce)
      fail(what, ": axis ", axis[i].var().name(), " is not a reduce axis; create it with te::reduce_axis");
    for (size_t j = 0; j < i; ++j)
      if (axis[j].same_as(axis[i])) fail(what, ": reduction axis ", axis[i].var().name(), " is given twice");
  }
}

Expr check_condition(const char* what, Expr where) {
  if (!where.defined()) return make_const(DataType::boolean(), 1);
  if (!where.dtype().is_bool() || !where.dtype().is_scalar())
    fail(what, ": the condition `where` must be a scalar bool expression, got ", where.dtype().str());
  return where;
}

// A single-valued reducer whose result is combine(x, y) with the given identity.
Expr builtin_reduce(const char* what, Expr source, std::vector<IterVar> axis, Expr where,
                    Expr (*combine)(Expr, Expr), Expr identity) {
  if (!source.defined()) fail(what, ": the source expression is undefined");
  if (source.dtype().is_vector() || source.dtype().is_handle())
    fail(what, ": the source must be a scalar number, got ", source.dtype().str());
  check_reduce_axes(what, axis);
  where = check_condition(what, std::move(where));
  DataType t = source.dtype();
  Var x("x", t), y("y", t);
  CommReducer combiner = CommReducer::make({x}, {y}, {combine(x, y)}, {std::move(identity)});
  return ReduceNode::make(combiner, {std::move(source)}, std::move(axis), std::move(where), 0);
}

Expr add_fn(Expr a, Expr b) { return a + b; }
Expr mul_fn(Expr a, Expr b) { return a * b; }
Expr max_fn(Expr a, Expr b) { return te::max(a, b); }
Expr min_fn(Expr a, Expr b) { return te::min(a, b); }

}  // namespace

IterVar reduce_axis(Range dom, const std::string& name) {
  if (!dom.min.defined() || !dom.extent.defined())
    fail("reduce_axis ", name, ": the range needs a min and an extent");
  if (!dom.min.dtype().is_integer() || !dom.extent.dtype().is_integer())
    fail("reduce_axis ", name, ": the range must be integer, got min ", dom.min.dtype().str(), " and extent ",
         dom.extent.dtype().str());
  if (const int64_t* e = as_const_int(dom.extent); e && *e < 0)
    fail("reduce_axis ", name, ": extent ", *e, " is negative");
  DataType t = dom.extent.dtype();
  return IterVar(std::move(dom), Var(name, t), IterVarType::kCommReduce);
}

IterVar thread_axis(const std::string& tag, Range dom) {
  static const std::array<const char*, 7> kTags = {"blockIdx.x",  "blockIdx.y",  "blockIdx.z", "threadIdx.x",
                                                    "threadIdx.y", "threadIdx.z", "vthread"};
  bool known = false;
  for (const char* t : kTags) known = known || tag == t;
  if (!known)
    fail("thread_axis: unknown thread tag '", tag,
         "'; expected one of blockIdx.x/y/z, threadIdx.x/y/z, vthread");
  if (dom.extent.defined() && !dom.extent.dtype().is_integer())
    fail("thread_axis ", tag, ": the range must be integer");
  return IterVar(std::move(dom), Var(tag), IterVarType::kThreadIndex, tag);
}

Expr sum(Expr source, std::vector<IterVar> axis, Expr where) {
  DataType t = source.defined() ? source.dtype() : DataType::float32();
  return builtin_reduce("sum", std::move(source), std::move(axis), std::move(where), add_fn, make_zero(t));
}

Expr prod(Expr source, std::vector<IterVar> axis, Expr where) {
  DataType t = source.defined() ? source.dtype() : DataType::float32();
  return builtin_reduce("prod", std::move(source), std::move(axis), std::move(where), mul_fn, make_const(t, 1));
}

Expr max(Expr source, std::vector<IterVar> axis, Expr where) {
  // The identity of max is the smallest value of the type, as in TVM.
  DataType t = source.defined() ? source.dtype() : DataType::float32();
  Expr identity = t.is_bool() ? make_const(t, 0) : min_value(t);
  return builtin_reduce("max", std::move(source), std::move(axis), std::move(where), max_fn, identity);
}

Expr min(Expr source, std::vector<IterVar> axis, Expr where) {
  DataType t = source.defined() ? source.dtype() : DataType::float32();
  Expr identity = t.is_bool() ? make_const(t, 1) : max_value(t);
  return builtin_reduce("min", std::move(source), std::move(axis), std::move(where), min_fn, identity);
}

Reducer::Reducer(CombineFn fcombine, IdentityFn fidentity, std::string name)
    : fcombine_(std::move(fcombine)), fidentity_(std::move(fidentity)), name_(std::move(name)) {
  if (!fcombine_) fail("Reducer ", name_, ": no combine function given");
  if (!fidentity_) fail("Reducer ", name_, ": no identity function given");
}

std::vector<Expr> Reducer::operator()(std::vector<Expr> sources, std::vector<IterVar> axis, Expr where) const {
  std::string what = "reducer " + name_;
  if (sources.empty()) fail(what, ": no source expressions given");
  std::vector<DataType> dtypes;
  std::vector<Var> lhs, rhs;
  for (size_t i = 0; i < sources.size(); ++i) {
    if (!sources[i].defined()) fail(what, ": source ", i, " is undefined");
    DataType t = sources[i].dtype();
    if (t.is_vector() || t.is_handle()) fail(what, ": source ", i, " must be a scalar, got ", t.str());
    dtypes.push_back(t);
    lhs.emplace_back("x" + std::to_string(i), t);
    rhs.emplace_back("y" + std::to_string(i), t);
  }
  check_reduce_axes(what.c_str(), axis);
  where = check_condition(what.c_str(), std::move(where));
  std::vector<Expr> lhs_exprs(lhs.begin(), lhs.end()), rhs_exprs(rhs.begin(), rhs.end());
  std::vector<Expr> result = fcombine_(lhs_exprs, rhs_exprs);
  std::vector<Expr> identity = fidentity_(dtypes);
  if (result.size() != sources.size())
    fail(what, ": the combine function returned ", result.size(), " values for ", sources.size(), " sources");
  if (identity.size() != sources.size())
    fail(what, ": the identity function returned ", identity.size(), " values for ", sources.size(), " sources");
  for (size_t i = 0; i < sources.size(); ++i) {
    if (!result[i].defined() || result[i].dtype() != dtypes[i])
      fail(what, ": combined value ", i, " must have dtype ", dtypes[i].str(), ", got ",
           result[i].defined() ? result[i].dtype().str() : std::string("undefined"));
    if (!identity[i].defined()) fail(what, ": identity ", i, " is undefined");
    // Let an identity written as a plain C++ constant adapt to the source's dtype.
    if (identity[i].dtype() != dtypes[i]) {
      if (const int64_t* v = as_const_int(identity[i])) identity[i] = make_const(dtypes[i], double(*v));
      else if (const auto* f = identity[i].as<FloatImmNode>()) identity[i] = make_const(dtypes[i], f->value);
      else fail(what, ": identity ", i, " must have dtype ", dtypes[i].str(), ", got ", identity[i].dtype().str());
    }
  }
  CommReducer combiner = CommReducer::make(std::move(lhs), std::move(rhs), std::move(result), std::move(identity));
  std::vector<Expr> reductions;
  for (size_t i = 0; i < sources.size(); ++i)
    reductions.push_back(ReduceNode::make(combiner, sources, axis, where, int(i)));
  return reductions;
}

Expr Reducer::operator()(Expr source, std::vector<IterVar> axis, Expr where) const {
  std::vector<Expr> results = (*this)(std::vector<Expr>{std::move(source)}, std::move(axis), std::move(where));
  return results[0];
}

}  // namespace te
