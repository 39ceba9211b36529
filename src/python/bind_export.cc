// te._core._export: kernel libraries (te/export.h). The user API is python/te/export.py
// (te.export_library, te.export_tuning_log, te.load_module).
#include "python/bindings.h"
#include "te/export.h"

namespace te::python {

void bind_export(py::module_& m) {
  py::module_ ex = m.def_submodule("_export", "Kernel libraries: export to .so + header + manifest (te/export.h).");
  ex.def("export_library", [](const std::vector<Module>& modules, const std::string& path, const std::string& prefix) {
    std::vector<ExportKernel> kernels;
    for (const Module& mod : modules) kernels.push_back(ExportKernel{mod, "", "", "", {}});
    ExportOptions options;
    options.prefix = prefix;
    ExportResult r;
    {
      py::gil_scoped_release release;  // compiling and linking take a while; no Python objects inside
      r = export_library(kernels, path, options);
    }
    return py::make_tuple(r.library, r.header, r.manifest, r.kernels);
  }, py::arg("modules"), py::arg("path"), py::arg("prefix") = "",
     "Writes one shared library holding the modules' kernels, its C header and JSON manifest; "
     "returns (library, header, manifest, kernel names).");
  ex.def("export_tuning_log", [](const std::string& log, const std::string& path, const std::vector<std::string>& ops,
                                 const std::string& target, const std::string& prefix) {
    LogExportOptions options;
    options.ops = ops;
    options.target = target;
    options.prefix = prefix;
    ExportResult r;
    {
      py::gil_scoped_release release;
      r = export_tuning_log(log, path, options);
    }
    return py::make_tuple(r.library, r.header, r.manifest, r.kernels);
  }, py::arg("log"), py::arg("path"), py::arg("ops") = std::vector<std::string>{}, py::arg("target") = "llvm",
     py::arg("prefix") = "",
     "Exports the best record of each template workload of a tuning log as one library; returns "
     "(library, header, manifest, kernel names).");
  ex.def("host_cpu_features", [] { return host_cpu_features(); },
         "The enabled features of this machine's CPU, as LLVM names them (\"avx2\", \"avx512f\", ...).");
}

}  // namespace te::python
