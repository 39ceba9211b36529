// src/python/module.cc — the extension module te._core: exception translation and the
// registration of every part of the API (see bindings.h).
#include "python/bindings.h"

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  m.doc() = "te._core: the C++ tensor-expression compiler; use it through the te package.";
  // Registered translators are tried before pybind11's std::exception ones, so te::Error
  // (a std::runtime_error) arrives as TEError, not as a plain RuntimeError.
  py::register_exception<te::Error>(m, "TEError", PyExc_ValueError);
  py::register_exception<te::InternalError>(m, "TEInternalError", PyExc_RuntimeError);
  te::python::bind_expr(m);
  te::python::bind_operation(m);
  te::python::bind_schedule(m);
  te::python::bind_runtime(m);
  te::python::bind_autotune(m);
}
