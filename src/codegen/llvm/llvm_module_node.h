// src/codegen/llvm/llvm_module_node.h — the ModuleNode of the LLVM backend: owns the JIT
// that holds the kernel's machine code and the optimized LLVM IR text, from which assembly,
// object files and shared libraries are produced on demand (aot.cc).
#pragma once

#include <memory>
#include <string>

#include "codegen/llvm/target_machine.h"
#include "codegen/runtime/module_node.h"

namespace llvm::orc {
class LLJIT;
}

namespace te::llvm_backend {

class LLVMModuleNode : public ModuleNode {
 public:
  ~LLVMModuleNode() override;
  std::string get_source(const std::string& format) const override;
  void save_object(const std::string& path) const override;
  void export_shared_library(const std::string& path) const override;
  AotObject aot_object() const override;

  CpuSpec cpu;
  std::string optimized_ir;  // textual LLVM IR after O3
  bool has_parallel = false;
  bool has_heap_alloc = false;
  std::unique_ptr<llvm::orc::LLJIT> jit;

  // Object code of the optimized IR (position independent, for shared libraries).
  std::string object_code() const;
};

}  // namespace te::llvm_backend
