// Ahead-of-time outputs of the LLVM backend: an object file with <name>_kernel, the same
// object with the CPU it was compiled for (aot_object, for src/export's multi-kernel
// libraries), and a one-kernel shared library whose generated C wrapper (the DLPack entry
//   int32_t <name>(DLTensor** args, int32_t num_args);  const char* <name>_last_error(void);
// argument checks, the CPU-feature check, OpenMP te_parallel_for) is codegen/runtime/c_abi.cc's.
#include <llvm/IR/LLVMContext.h>
#include <llvm/IRReader/IRReader.h>
#include <llvm/Support/SourceMgr.h>

#include <algorithm>
#include <fstream>

#include "codegen/llvm/llvm_module_node.h"
#include "codegen/runtime/c_abi.h"

namespace te::llvm_backend {

std::string LLVMModuleNode::object_code() const {
  llvm::LLVMContext ctx;
  llvm::SMDiagnostic diag;
  std::unique_ptr<llvm::Module> m = llvm::parseIR(llvm::MemoryBufferRef(optimized_ir, func.name), diag, ctx);
  TE_ICHECK(m, "re-parsing the optimized IR failed: ", diag.getMessage().str());
  auto machine = create_target_machine(cpu, /*pic=*/true);
  return emit_machine_code(*m, *machine, /*assembly=*/false);
}

void LLVMModuleNode::save_object(const std::string& path) const {
  c_abi::check_symbol_name(func.name, "save_object");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail("save_object: cannot open '", path, "' for writing");
  std::string bytes = object_code();
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out) fail("save_object: writing '", path, "' failed");
}

AotObject LLVMModuleNode::aot_object() const {
  AotObject out;
  out.object = object_code();
  out.has_parallel = has_parallel;
  out.triple = cpu.triple;
  out.cpu = cpu.cpu;
  out.llvm_features = cpu.features;
  out.enabled_features = enabled_features(cpu);
  return out;
}

void LLVMModuleNode::export_shared_library(const std::string& path) const {
  c_abi::check_symbol_name(func.name, "export_shared_library");
  c_abi::Library lib;
  AotObject aot = aot_object();
  lib.kernels.push_back(c_abi::Kernel::cpu(func, aot.object, aot.has_parallel));
  lib.cpu_name = aot.cpu;
  const auto& checkable = c_abi::checkable_x86_features();
  for (const std::string& f : aot.enabled_features)
    if (std::find(checkable.begin(), checkable.end(), f) != checkable.end()) lib.cpu_features.push_back(f);
  c_abi::link_library(lib, path, "export_shared_library");
}

}  // namespace te::llvm_backend
