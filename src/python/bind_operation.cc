// src/python/bind_operation.cc — tensors and operations: placeholder, compute (a Python
// callable receives one Var per axis, named like its parameters), reduce_axis, reductions
// and user-defined commutative reducers (te.comm_reducer).
#include "python/bindings.h"

namespace te::python {

namespace {
py::object exprs_to_python(const std::vector<Expr>& values) {
  if (values.size() == 1) return py::cast(values[0]);
  py::tuple out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = py::cast(values[i]);
  return out;
}
std::vector<Expr> python_to_exprs(py::handle value, const std::string& what) {
  return to_expr_list(value, what);
}
Range range_from_python(py::handle dom, const std::string& what) {
  if (py::isinstance<Range>(dom)) return dom.cast<Range>();
  if (!(py::isinstance<py::tuple>(dom) || py::isinstance<py::list>(dom)) || py::len(dom) != 2)
    fail(what, ": expected the range as a (begin, end) pair");
  py::sequence pair = dom.cast<py::sequence>();
  Expr begin = to_expr(pair[0], what + " begin"), end = to_expr(pair[1], what + " end");
  return Range(begin, end - begin);
}
py::list iter_var_list(const std::vector<IterVar>& ivs) {
  py::list out;
  for (const IterVar& iv : ivs) out.append(py::cast(iv));
  return out;
}
std::string shape_str(const std::vector<Expr>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}
}  // namespace

void bind_operation(py::module_& m) {
  py::class_<Range>(m, "Range", "[min, min + extent)")
      .def(py::init([](py::handle begin, py::handle end) {
        Expr b = to_expr(begin, "Range begin");
        return Range(b, to_expr(end, "Range end") - b);
      }), py::arg("begin"), py::arg("end"))
      .def_readonly("min", &Range::min, "The first value of the range.")
      .def_readonly("extent", &Range::extent, "The number of values in the range.")
      .def("__repr__", [](const Range& r) { return "range(min=" + to_string(r.min) + ", ext=" + to_string(r.extent) + ")"; });

  py::class_<Operation>(m, "Operation", "An operation (placeholder or compute) producing tensors.")
      .def_property_readonly("name", [](const Operation& op) { return op->name; }, "The operation's name.")
      .def_property_readonly("tag", [](const Operation& op) { return op->tag; },
                             "The tag given to te.compute (empty by default).")
      .def_property_readonly("num_outputs", [](const Operation& op) { return op->num_outputs(); },
                             "How many tensors the operation produces (several for tuple-valued computes).")
      .def("output", [](const Operation& op, int i) {
        if (i < 0 || i >= op->num_outputs()) fail("operation ", op->name, ": output ", i, " out of range [0, ", op->num_outputs(), ")");
        return op.output(i);
      }, py::arg("index"), "The index-th output tensor of the operation.")
      .def_property_readonly("input_tensors", [](const Operation& op) { return op->input_tensors(); },
                             "The tensors the operation reads.")
      .def_property_readonly("axis", [](const Operation& op) {
        if (auto* c = op.as<ComputeOpNode>()) return iter_var_list(c->axis);
        fail("operation ", op->name, " is a placeholder: it has no axis (only compute ops do)");
      }, "The spatial axes of a compute op, one per output dimension.")
      .def_property_readonly("reduce_axis", [](const Operation& op) {
        if (auto* c = op.as<ComputeOpNode>()) return iter_var_list(c->reduce_axis);
        fail("operation ", op->name, " is a placeholder: it has no reduce_axis");
      }, "The reduction axes of a compute op (empty when it does not reduce).")
      .def_property_readonly("body", [](const Operation& op) {
        if (auto* c = op.as<ComputeOpNode>()) return c->body;
        fail("operation ", op->name, " is a placeholder: it has no body");
      }, "The expressions of a compute op, one per output.")
      .def("__eq__", [](const Operation& a, py::handle b) { return py::isinstance<Operation>(b) && b.cast<Operation>().same_as(a); })
      .def("__hash__", [](const Operation& op) { return std::hash<const void*>()(op.get()); })
      .def("__repr__", [](const Operation& op) {
        if (auto* c = op.as<ComputeOpNode>()) {
          std::string body;
          for (const Expr& b : c->body) body += (body.empty() ? "" : ", ") + to_string(b);
          return "compute(" + op->name + ", body=[" + body + "])";
        }
        return "placeholder(" + op->name + ", " + shape_str(op->output_shape(0)) + ", " + op->output_dtype(0).str() + ")";
      });

  py::class_<Tensor>(m, "Tensor", "The output of an operation; index it (A[i, j]) inside te.compute.")
      .def_property_readonly("op", [](const Tensor& t) { return t.op(); }, "The operation producing the tensor.")
      .def_property_readonly("shape", [](const Tensor& t) {
        py::tuple out(t.shape().size());
        for (size_t i = 0; i < t.shape().size(); ++i) out[i] = py::cast(t.shape()[i]);
        return out;
      }, "The shape as a tuple of expressions (constants, or te.var sizes).")
      .def_property_readonly("dtype", [](const Tensor& t) { return t.dtype().str(); }, "The element type, e.g. \"float32\".")
      .def_property_readonly("name", [](const Tensor& t) { return t.name(); }, "The name of the producing operation.")
      .def_property_readonly("ndim", [](const Tensor& t) { return t.ndim(); }, "The number of dimensions.")
      .def_property_readonly("value_index", [](const Tensor& t) { return t->value_index; },
                             "Which output of its operation this tensor is (0 unless the op has several).")
      .def("__getitem__", [](const Tensor& t, py::handle indices) {
        std::vector<Expr> idx = to_expr_list(indices, "index of tensor " + t.name());
        if (int(idx.size()) != t.ndim())
          fail("tensor ", t.name(), " has ", t.ndim(), " dimensions but was indexed with ", idx.size(), " indices");
        return t(idx);
      })
      .def("__call__", [](const Tensor& t, py::args indices) {
        std::vector<Expr> idx = to_expr_list(indices, "index of tensor " + t.name());
        if (int(idx.size()) != t.ndim())
          fail("tensor ", t.name(), " has ", t.ndim(), " dimensions but was indexed with ", idx.size(), " indices");
        return t(idx);
      })
      .def("__eq__", [](const Tensor& a, py::handle b) { return py::isinstance<Tensor>(b) && b.cast<Tensor>() == a; })
      .def("__hash__", [](const Tensor& t) { return std::hash<const void*>()(t.op().get()) ^ size_t(t->value_index); })
      .def("__bool__", [](const Tensor&) { return true; })
      .def("__repr__", [](const Tensor& t) {
        return "Tensor(shape=" + shape_str(t.shape()) + ", op.name=" + t.name() + ", dtype=" + t.dtype().str() + ")";
      });

  m.def("placeholder", [](py::handle shape, py::handle dtype, const std::string& name) {
    return placeholder(to_expr_list(shape, "te.placeholder " + name + " shape"), to_dtype(dtype, "te.placeholder " + name), name);
  }, py::arg("shape"), py::arg("dtype") = "float32", py::arg("name") = "placeholder",
     "An input tensor of the given shape (ints or te.var) and dtype.");

  m.def("_compute", [](py::handle shape_obj, py::function fcompute, const std::vector<std::string>& axis_names,
                       const std::string& name, const std::string& tag) {
    std::vector<Expr> shape = to_expr_list(shape_obj, "te.compute " + name + " shape");
    TE_ICHECK(axis_names.size() == shape.size(), "axis names and shape disagree");
    std::vector<IterVar> axes;
    py::tuple vars(shape.size());
    for (size_t d = 0; d < shape.size(); ++d) {
      if (!shape[d].dtype().is_integer() || !shape[d].dtype().is_scalar())
        fail("te.compute ", name, ": dimension ", d, " of the shape must be an integer, got ", to_string(shape[d]),
             " of type ", shape[d].dtype().str());
      Var v(axis_names[d], shape[d].dtype());
      axes.emplace_back(Range(make_zero(shape[d].dtype()), shape[d]), v, IterVarType::kDataPar);
      vars[d] = py::cast(v);
    }
    py::object result = fcompute(*vars);
    if (result.is_none()) fail("te.compute ", name, ": the function returned None; it must return an expression");
    std::vector<Expr> body = python_to_exprs(result, "te.compute " + name + " body");
    Operation op = ComputeOpNode::make(name, tag, std::move(axes), std::move(body));
    std::vector<Tensor> outputs;
    for (int i = 0; i < op->num_outputs(); ++i) outputs.push_back(op.output(i));
    return outputs;
  });

  m.def("reduce_axis", [](py::handle dom, const std::string& name) {
    return reduce_axis(range_from_python(dom, "te.reduce_axis " + name), name);
  }, py::arg("dom"), py::arg("name") = "rv", "A reduction axis over [begin, end): te.reduce_axis((0, n), name=\"k\").");

  m.def("thread_axis", [](py::handle dom, const std::string& tag) {
    if (py::isinstance<py::str>(dom)) return thread_axis(dom.cast<std::string>());
    if (dom.is_none()) return thread_axis(tag);
    return thread_axis(tag, range_from_python(dom, "te.thread_axis " + tag));
  }, py::arg("dom") = py::none(), py::arg("tag") = "",
     "A GPU thread axis: te.thread_axis(\"threadIdx.x\") or te.thread_axis((0, 32), \"threadIdx.x\").");

  m.def("_reduce", [](const std::string& kind, py::handle source, py::handle axis, py::handle where) {
    std::string what = "te." + kind;
    Expr src = to_expr(source, what + " expression");
    std::vector<IterVar> axes = to_iter_var_list(axis, what + " axis");
    Expr cond = where.is_none() ? Expr() : to_expr(where, what + " where");
    if (kind == "sum") return sum(src, axes, cond);
    if (kind == "max") return max(src, axes, cond);
    if (kind == "min") return min(src, axes, cond);
    if (kind == "prod") return prod(src, axes, cond);
    fail("te._reduce: unknown reduction ", kind);
  });

  py::class_<Reducer>(m, "CommReducer", "A commutative reducer made by te.comm_reducer; call it as r(expr, axis=k).")
      .def(py::init([](py::function fcombine, py::function fidentity, const std::string& name) {
        Reducer::CombineFn combine = [fcombine, name](const std::vector<Expr>& lhs, const std::vector<Expr>& rhs) {
          py::object result;
          if (lhs.size() == 1) {
            result = fcombine(lhs[0], rhs[0]);
          } else {
            result = fcombine(exprs_to_python(lhs), exprs_to_python(rhs));
          }
          return python_to_exprs(result, "comm_reducer " + name + " fcombine result");
        };
        Reducer::IdentityFn identity = [fidentity, name](const std::vector<DataType>& dtypes) {
          py::tuple args(dtypes.size());
          for (size_t i = 0; i < dtypes.size(); ++i) args[i] = py::str(dtypes[i].str());
          py::object result = fidentity(*args);
          // Python numbers become constants of the matching value's dtype.
          std::vector<Expr> values;
          py::list items;
          if (py::isinstance<py::tuple>(result) || py::isinstance<py::list>(result)) {
            for (py::handle h : result) items.append(h);
          } else {
            items.append(result);
          }
          for (size_t i = 0; i < items.size(); ++i) {
            py::handle h = items[i];
            if (!py::isinstance<Expr>(h) && i < dtypes.size() && (py::isinstance<py::int_>(h) || py::isinstance<py::float_>(h)))
              values.push_back(make_const(dtypes[i], h.cast<double>()));
            else
              values.push_back(to_expr(h, "comm_reducer " + name + " fidentity result"));
          }
          return values;
        };
        return Reducer(combine, identity, name);
      }), py::arg("fcombine"), py::arg("fidentity"), py::arg("name") = "reduce")
      .def("__call__", [](const Reducer& r, py::handle source, py::handle axis, py::handle where) {
        std::vector<Expr> sources = to_expr_list(source, "comm_reducer source");
        std::vector<IterVar> axes = to_iter_var_list(axis, "comm_reducer axis");
        Expr cond = where.is_none() ? Expr() : to_expr(where, "comm_reducer where");
        return exprs_to_python(r(sources, axes, cond));
      }, py::arg("source"), py::arg("axis"), py::arg("where") = py::none(),
         "The reduction of source (an expression, or a tuple for multi-valued reducers) over axis "
         "(one IterVar or a list), counting only the points where `where` holds.");
}

}  // namespace te::python
