// src/python/module.cc — the extension module te._core: exception translation and the
// registration of every part of the API (see bindings.h).
#include "python/bindings.h"

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  m.doc() = "te._core: the C++ tensor-expression compiler; use it through the te package.";
  // Registered translators are tried before pybind11's std::exception ones, so te::Error
  // (a std::runtime_error) arrives as TEError, not as a plain RuntimeError.
  auto& error = py::register_exception<te::Error>(m, "TEError", PyExc_ValueError);
  error.attr("__doc__") =
      "A mistake in how te was used (an illegal split factor, an axis of another stage, a kernel "
      "called with the wrong shape or dtype, ...); the message names the stage, axis or argument. "
      "A subclass of ValueError.";
  auto& internal = py::register_exception<te::InternalError>(m, "TEInternalError", PyExc_RuntimeError);
  internal.attr("__doc__") =
      "A broken internal invariant of te: a bug in te, not in the caller's program (please report "
      "it with the message). A subclass of RuntimeError.";
  te::python::bind_expr(m);
  te::python::bind_operation(m);
  te::python::bind_schedule(m);
  te::python::bind_runtime(m);
  te::python::bind_autotune(m);
  te::python::bind_ops(m);
  te::python::bind_export(m);
}
