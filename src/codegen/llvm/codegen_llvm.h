// src/codegen/llvm/codegen_llvm.h — flat loop IR (a LoweredFunc) → one LLVM module holding
//   int32_t <name>_kernel(void** buffers, const int64_t* size_vars)
// which unpacks its arguments and calls an internal function with noalias buffer pointers
// (inlined at O3, so the alias facts survive as scoped metadata). kParallel loops are
// outlined into body functions and run through te_parallel_for (src/codegen/runtime).
#pragma once

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <memory>

#include "codegen/llvm/target_machine.h"
#include "te/lower.h"

namespace te::llvm_backend {

struct CodegenResult {
  std::unique_ptr<llvm::Module> module;
  bool has_parallel = false;  // calls te_parallel_for (AOT libraries then need a pool)
  bool has_heap_alloc = false;  // calls te_runtime_alloc / te_runtime_free
};

// te::Error for IR a code generator cannot print (tensor-level nodes, thread bindings).
CodegenResult codegen_llvm(const LoweredFunc& func, const Target& target, const CpuSpec& cpu,
                           llvm::LLVMContext& context);

// Allocations up to this many bytes with a constant size live on the stack.
constexpr int64_t kMaxStackAllocBytes = 64 * 1024;

}  // namespace te::llvm_backend
