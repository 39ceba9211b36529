// src/codegen/llvm/llvm_module.h — the LLVM CPU backend's entry, seen by the runtime.
// Includes no LLVM header, so src/codegen/runtime can call it.
#pragma once

#include <memory>

#include "codegen/runtime/module_node.h"

namespace te {

// Generates LLVM IR for func, optimizes it at O3 for the target CPU, and JIT-compiles it.
std::shared_ptr<ModuleNode> build_llvm(const LoweredFunc& func, const Target& target);

}  // namespace te
