// src/python/bindings.h — shared declarations of the pybind11 module te._core. Each
// bind_*.cc file registers one part of the API; module.cc calls them in order.
#pragma once

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "te/runtime.h"

namespace te::python {

namespace py = pybind11;

// A Python value as an expression: Expr, IterVar (its var), bool, int (int32, or int64 when
// it does not fit), float (float32, TVM's convention). te::Error naming `what` otherwise.
Expr to_expr(py::handle value, const std::string& what);
// An int/Expr or a tuple/list of them (a shape, a list of indices).
std::vector<Expr> to_expr_list(py::handle value, const std::string& what);
// "float32", numpy.float32, numpy.dtype("float32") ... as a DataType.
DataType to_dtype(py::handle value, const std::string& what);
// An IterVar or a list/tuple of them.
std::vector<IterVar> to_iter_var_list(py::handle value, const std::string& what);

void bind_expr(py::module_& m);
void bind_operation(py::module_& m);
void bind_schedule(py::module_& m);
void bind_runtime(py::module_& m);
void bind_autotune(py::module_& m);
void bind_ops(py::module_& m);
void bind_export(py::module_& m);

}  // namespace te::python
