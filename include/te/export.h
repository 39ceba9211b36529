// te/export.h — kernel libraries for programs without te: one shared library holding several
// compiled kernels behind a stable C ABI over DLPack, a generated C header and a JSON manifest
// beside it (README "Kernel libraries"). For each kernel NAME the library exports
//   int32_t NAME(DLTensor** args, int32_t num_args);   // 0, or an error code (< 0)
//   const char* NAME_last_error(void);                  // this thread's last message
// and for the library (PREFIX defaults to the file name without "lib" and ".so"):
//   const char* PREFIX_load_error(void);   // NULL, or why this CPU cannot run the library
//   const char* PREFIX_last_error(void);   // same as any NAME_last_error
//   const char* PREFIX_manifest(void);     // the manifest JSON
#pragma once

#include <string>
#include <vector>

#include "te/runtime.h"

namespace te {

// One kernel of a library, with where it came from (empty: not from a tuning log).
struct ExportKernel {
  Module module;
  std::string workload_key;  // e.g. "conv2d(1,64,56,56,64,3,3,1,1)"
  std::string record_json;   // the tuning record (one log line) its schedule came from
  std::string op;            // the operator template, e.g. "conv2d"
  std::vector<std::pair<std::string, int64_t>> op_args;  // its named arguments
};

struct ExportOptions {
  std::string prefix;  // the library-level symbol prefix; default from the file name
};

struct ExportResult {
  std::string library, header, manifest;  // the three paths written
  std::vector<std::string> kernels;       // kernel names, in library order
};

// Writes <path> (a .so), <path without .so>.h and <path without .so>.json. te::Error for a
// non-CPU kernel, duplicate or non-C names, an unwritable path, or a failing C compiler.
ExportResult export_library(const std::vector<ExportKernel>& kernels, const std::string& path,
                            const ExportOptions& options = {});

// The best record of each template workload of a tuning log (for `target`, default "llvm"),
// rebuilt through its operator template (te/ops.h or any registered template) with the
// record's schedule, exported as one library. ops: only these templates (empty: all).
// Kernel names: "<template>_<arg>_<arg>..." (e.g. conv2d_1_64_56_56_64_3_3_1_1).
// te::Error when the log has no valid record of the selection.
struct LogExportOptions {
  std::vector<std::string> ops;
  std::string target = "llvm";
  std::string prefix;
};
ExportResult export_tuning_log(const std::string& log_path, const std::string& path,
                               const LogExportOptions& options = {});

// The header and manifest paths of a library path ("dir/libk.so" -> "dir/libk.h", ".json").
std::string library_header_path(const std::string& library_path);
std::string library_manifest_path(const std::string& library_path);

// The enabled features of this machine's CPU, as LLVM names them ("avx2", "avx512f", ...),
// for checking a manifest's "cpu.features" before loading.
std::vector<std::string> host_cpu_features();

}  // namespace te
