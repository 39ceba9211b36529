// src/python/bind_expr.cc — expressions: Expr/Var/IterVar with Python operator overloading
// (TVM's conventions: `//` floordiv, `%` floormod, `/` on two integers is an error), math
// functions, constants and conversions from Python values.
#include <limits>

#include "python/bindings.h"

namespace te::python {

namespace {
std::string type_name(py::handle value) { return py::str(py::type::of(value).attr("__name__")); }

Expr int_constant(int64_t v) {
  if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) return Expr(int(v));
  return Expr(v);
}
}  // namespace

Expr to_expr(py::handle value, const std::string& what) {
  if (py::isinstance<Expr>(value)) return value.cast<Expr>();
  if (py::isinstance<IterVar>(value)) return value.cast<IterVar>().var();
  if (py::isinstance<py::bool_>(value)) return IntImmNode::make(DataType::boolean(), value.cast<bool>());
  if (py::isinstance<py::int_>(value)) {
    try {
      return int_constant(value.cast<int64_t>());
    } catch (const py::cast_error&) {
      fail(what, ": integer ", std::string(py::str(value)), " does not fit in int64");
    }
  }
  if (py::isinstance<py::float_>(value)) return Expr(value.cast<double>());
  // NumPy scalars and other number-likes.
  if (py::hasattr(value, "__index__")) return int_constant(value.attr("__index__")().cast<int64_t>());
  if (py::hasattr(value, "__float__") && !py::isinstance<py::str>(value)) return Expr(value.attr("__float__")().cast<double>());
  if (py::isinstance<Tensor>(value))
    fail(what, ": got the tensor ", value.cast<Tensor>().name(),
         " where an expression was expected; index it first, e.g. A[i, j]");
  fail(what, ": expected an expression, IterVar, int or float, got ", type_name(value));
}

std::vector<Expr> to_expr_list(py::handle value, const std::string& what) {
  std::vector<Expr> out;
  if (py::isinstance<py::tuple>(value) || py::isinstance<py::list>(value)) {
    size_t i = 0;
    for (py::handle item : value) out.push_back(to_expr(item, what + " [" + std::to_string(i++) + "]"));
  } else {
    out.push_back(to_expr(value, what));
  }
  return out;
}

DataType to_dtype(py::handle value, const std::string& what) {
  if (value.is_none()) fail(what, ": dtype is None; expected a name such as \"float32\"");
  std::string name;
  if (py::isinstance<py::str>(value)) {
    name = value.cast<std::string>();
  } else if (py::isinstance<py::dtype>(value)) {
    name = py::str(value);
  } else if (py::hasattr(value, "dtype") || py::hasattr(value, "__name__")) {
    // numpy.dtype objects print as their name; numpy scalar types have __name__.
    py::object np = py::module_::import("numpy");
    name = py::str(np.attr("dtype")(value));
  } else {
    fail(what, ": expected a dtype name such as \"float32\", got ", type_name(value));
  }
  try {
    return DataType::parse(name);
  } catch (const Error& e) {
    fail(what, ": ", e.what());
  }
}

std::vector<IterVar> to_iter_var_list(py::handle value, const std::string& what) {
  std::vector<IterVar> out;
  auto one = [&](py::handle item) {
    if (!py::isinstance<IterVar>(item))
      fail(what, ": expected an IterVar (from te.reduce_axis or op.axis), got ", type_name(item));
    out.push_back(item.cast<IterVar>());
  };
  if (py::isinstance<py::tuple>(value) || py::isinstance<py::list>(value)) {
    for (py::handle item : value) one(item);
  } else {
    one(value);
  }
  return out;
}

namespace {
bool both_integer(const Expr& a, const Expr& b) {
  return (a.dtype().is_integer() || a.dtype().is_bool()) && (b.dtype().is_integer() || b.dtype().is_bool());
}

Expr true_divide(const Expr& a, const Expr& b) {
  if (both_integer(a, b))
    fail("expression ", to_string(a), " / ", to_string(b),
         ": `/` on two integers is ambiguous; use `//` (floor division, te.floordiv) or "
         "te.truncdiv, or cast one side to a float");
  return a / b;
}
Expr modulo(const Expr& a, const Expr& b) {
  if (both_integer(a, b)) return floormod(a, b);
  fail("expression ", to_string(a), " % ", to_string(b), ": `%` needs integer operands, got ",
       a.dtype().str(), " and ", b.dtype().str());
}

using BinaryFn = Expr (*)(const Expr&, const Expr&);

// Adds the arithmetic and comparison operators to an Expr-like class; `self` is converted
// with to_expr, so IterVars take part in arithmetic as TVM's do.
template <typename Class>
void def_operators(Class& cls, bool comparisons_eq) {
  auto binary = [&cls](const char* name, const char* rname, BinaryFn fn) {
    cls.def(name, [fn, name](py::handle a, py::handle b) {
      return fn(to_expr(a, std::string("left operand of ") + name), to_expr(b, std::string("right operand of ") + name));
    });
    if (rname)
      cls.def(rname, [fn, rname](py::handle a, py::handle b) {
        return fn(to_expr(b, std::string("left operand of ") + rname), to_expr(a, std::string("right operand of ") + rname));
      });
  };
  binary("__add__", "__radd__", [](const Expr& a, const Expr& b) { return a + b; });
  binary("__sub__", "__rsub__", [](const Expr& a, const Expr& b) { return a - b; });
  binary("__mul__", "__rmul__", [](const Expr& a, const Expr& b) { return a * b; });
  binary("__truediv__", "__rtruediv__", [](const Expr& a, const Expr& b) { return true_divide(a, b); });
  binary("__floordiv__", "__rfloordiv__", [](const Expr& a, const Expr& b) { return floordiv(a, b); });
  binary("__mod__", "__rmod__", [](const Expr& a, const Expr& b) { return modulo(a, b); });
  binary("__pow__", "__rpow__", [](const Expr& a, const Expr& b) { return pow(a, b); });
  binary("__lt__", nullptr, [](const Expr& a, const Expr& b) { return a < b; });
  binary("__le__", nullptr, [](const Expr& a, const Expr& b) { return a <= b; });
  binary("__gt__", nullptr, [](const Expr& a, const Expr& b) { return a > b; });
  binary("__ge__", nullptr, [](const Expr& a, const Expr& b) { return a >= b; });
  binary("__and__", "__rand__", [](const Expr& a, const Expr& b) { return a && b; });
  binary("__or__", "__ror__", [](const Expr& a, const Expr& b) { return a || b; });
  if (comparisons_eq) {
    binary("__eq__", nullptr, [](const Expr& a, const Expr& b) { return a == b; });
    binary("__ne__", nullptr, [](const Expr& a, const Expr& b) { return a != b; });
  }
  cls.def("__neg__", [](py::handle a) { return -to_expr(a, "operand of unary -"); });
  cls.def("__invert__", [](py::handle a) { return !to_expr(a, "operand of ~"); });
  cls.def("__bool__", [](py::handle a) -> bool {
    fail("expression ", to_string(to_expr(a, "bool()")),
         " used as a Python bool: `and`/`or`/`not`/`if` cannot build expressions; use "
         "te.all, te.any, te.if_then_else or te.select (or &, |, ~)");
  });
  cls.def("astype", [](py::handle a, py::handle dtype) {
    return cast(to_dtype(dtype, "astype"), to_expr(a, "astype"));
  }, py::arg("dtype"), "Casts the expression to dtype.");
}

std::string range_repr(const Range& r) {
  if (!r.min.defined()) return "None";
  return "range(min=" + to_string(r.min) + ", ext=" + to_string(r.extent) + ")";
}
}  // namespace

void bind_expr(py::module_& m) {
  py::class_<Expr> expr(m, "Expr", "A scalar expression (immutable). Build with te.var, te.const, "
                                   "tensor reads A[i, j] and Python operators.");
  expr.def_property_readonly("dtype", [](const Expr& e) { return e.dtype().str(); },
                             "The type of the expression's value, e.g. \"float32\" or \"int32\".")
      .def("__repr__", [](const Expr& e) { return to_string(e); })
      .def("__hash__", [](const Expr& e) { return std::hash<const void*>()(e.get()); })
      .def("same_as", [](const Expr& a, const Expr& b) { return a.same_as(b); }, py::arg("other"),
           "True when both are the very same node (identity, not structural equality; `==` builds "
           "an EQ expression instead).")
      .def_property_readonly("value", [](const Expr& e) -> py::object {
        if (auto* i = e.as<IntImmNode>()) return py::int_(i->value);
        if (auto* f = e.as<FloatImmNode>()) return py::float_(f->value);
        fail("Expr.value: ", to_string(e), " is not a constant");
      }, "The Python value of a constant expression.")
      .def("__int__", [](const Expr& e) -> int64_t {
        if (const int64_t* v = as_const_int(e)) return *v;
        fail("int(): expression ", to_string(e), " is not an integer constant (a symbolic size?)");
      })
      .def("__index__", [](const Expr& e) -> int64_t {
        if (const int64_t* v = as_const_int(e)) return *v;
        fail("index: expression ", to_string(e), " is not an integer constant (a symbolic size?)");
      })
      .def("__float__", [](const Expr& e) -> double {
        if (const int64_t* v = as_const_int(e)) return double(*v);
        if (auto* f = e.as<FloatImmNode>()) return f->value;
        fail("float(): expression ", to_string(e), " is not a constant");
      });
  def_operators(expr, /*comparisons_eq=*/true);

  py::class_<Var, Expr>(m, "Var", "A symbolic scalar (a size such as te.var(\"n\"), or a loop index).")
      .def_property_readonly("name", [](const Var& v) { return v.name(); }, "The variable's name.")
      .def("__repr__", [](const Var& v) { return v.name(); });

  py::class_<IterVar> iter_var(m, "IterVar", "A loop axis: op.axis[i], te.reduce_axis, or an axis made by split/fuse.");
  iter_var.def_property_readonly("var", [](const IterVar& iv) { return iv.var(); },
                                 "The loop variable (a te.Var) that expressions use for this axis.")
      .def_property_readonly("name", [](const IterVar& iv) { return iv.var().name(); }, "The axis' name.")
      .def_property_readonly("dom", [](const IterVar& iv) -> py::object {
        if (!iv.dom().min.defined()) return py::none();
        return py::make_tuple(iv.dom().min, iv.dom().extent);
      }, "(min, extent), or None for axes whose range is known only after bound inference.")
      .def_property_readonly("iter_type", [](const IterVar& iv) {
        switch (iv.type()) {
          case IterVarType::kDataPar: return "data_par";
          case IterVarType::kCommReduce: return "comm_reduce";
          case IterVarType::kThreadIndex: return "thread_index";
          default: return "opaque";
        }
      }, "\"data_par\" (a spatial axis), \"comm_reduce\" (a reduction axis), \"thread_index\" (a GPU "
         "thread axis) or \"opaque\".")
      .def_property_readonly("thread_tag", [](const IterVar& iv) { return iv->thread_tag; },
                             "The thread tag of a te.thread_axis (\"threadIdx.x\", ...); empty for loop axes.")
      .def("__eq__", [](const IterVar& a, py::handle b) {
        return py::isinstance<IterVar>(b) && b.cast<IterVar>().same_as(a);
      })
      .def("__hash__", [](const IterVar& iv) { return std::hash<const void*>()(iv.get()); })
      .def("__repr__", [](const IterVar& iv) {
        std::string tag = iv->thread_tag.empty() ? "" : ", \"" + iv->thread_tag + "\"";
        return "IterVar(" + iv.var().name() + ", " + range_repr(iv.dom()) + tag + ")";
      });
  def_operators(iter_var, /*comparisons_eq=*/false);

  m.def("var", [](const std::string& name, py::handle dtype) { return Var(name, to_dtype(dtype, "te.var " + name)); },
        py::arg("name") = "tindex", py::arg("dtype") = "int32", "A symbolic scalar variable (int32 by default).");
  m.def("const", [](py::handle value, py::handle dtype) -> Expr {
    if (dtype.is_none()) return to_expr(value, "te.const");
    DataType t = to_dtype(dtype, "te.const");
    if (py::isinstance<py::int_>(value) && t.is_integer()) return IntImmNode::make(t, value.cast<int64_t>());
    return make_const(t, value.cast<double>());
  }, py::arg("value"), py::arg("dtype") = py::none(), "A constant; dtype inferred (int32/float32) when None.");
  m.def("_binary", [](const std::string& op, py::handle a, py::handle b) -> Expr {
    Expr x = to_expr(a, "te." + op + " first operand"), y = to_expr(b, "te." + op + " second operand");
    if (op == "floordiv") return floordiv(x, y);
    if (op == "floormod") return floormod(x, y);
    if (op == "truncdiv") return truncdiv(x, y);
    if (op == "truncmod") return truncmod(x, y);
    if (op == "min") return min(x, y);
    if (op == "max") return max(x, y);
    if (op == "power") return pow(x, y);
    if (op == "add") return x + y;
    if (op == "mul") return x * y;
    fail("te._binary: unknown operator ", op);
  });
  m.def("_unary", [](const std::string& op, py::handle a) -> Expr {
    Expr x = to_expr(a, "te." + op + " operand");
    if (op == "exp") return exp(x);
    if (op == "log") return log(x);
    if (op == "sqrt") return sqrt(x);
    if (op == "rsqrt") return rsqrt(x);
    if (op == "tanh") return tanh(x);
    if (op == "sigmoid") return sigmoid(x);
    if (op == "erf") return erf(x);
    if (op == "abs") return abs(x);
    if (op == "floor") return floor(x);
    if (op == "ceil") return ceil(x);
    if (op == "round") return round(x);
    fail("te._unary: unknown function ", op);
  });
  m.def("fma", [](py::handle a, py::handle b, py::handle c) {
    return fma(to_expr(a, "te.fma a"), to_expr(b, "te.fma b"), to_expr(c, "te.fma c"));
  }, "a * b + c");
  m.def("if_then_else", [](py::handle c, py::handle t, py::handle f) {
    return if_then_else(to_expr(c, "te.if_then_else cond"), to_expr(t, "te.if_then_else then"),
                        to_expr(f, "te.if_then_else else"));
  }, py::arg("cond"), py::arg("t"), py::arg("f"), "cond ? t : f, evaluating only the taken side.");
  m.def("select", [](py::handle c, py::handle t, py::handle f) {
    return select(to_expr(c, "te.select cond"), to_expr(t, "te.select then"), to_expr(f, "te.select else"));
  }, py::arg("cond"), py::arg("t"), py::arg("f"), "cond ? t : f; both sides may be evaluated.");
  m.def("cast", [](py::handle dtype, py::handle value) { return cast(to_dtype(dtype, "te.cast"), to_expr(value, "te.cast")); },
        py::arg("dtype"), py::arg("value"),
        "value converted to dtype (\"float32\", \"int8\", ...): te.cast(\"float32\", i); the same as "
        "value.astype(dtype).");
  m.def("_all", [](py::args conds) {
    std::vector<Expr> list;
    for (py::handle c : conds) list.push_back(to_expr(c, "te.all"));
    return all(list);
  });
  m.def("_any", [](py::args conds) {
    std::vector<Expr> list;
    for (py::handle c : conds) list.push_back(to_expr(c, "te.any"));
    return any(list);
  });
  m.def("max_value", [](py::handle dtype) { return max_value(to_dtype(dtype, "te.max_value")); }, py::arg("dtype"),
        "The largest finite value of dtype.");
  m.def("min_value", [](py::handle dtype) { return min_value(to_dtype(dtype, "te.min_value")); }, py::arg("dtype"),
        "The smallest finite value of dtype.");
}

}  // namespace te::python
